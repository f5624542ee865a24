@testable import CompareCLI
import Foundation
import Testing
import TestSupport

/// Under an address-space limit (`ulimit -v`; Slurm's `VSizeFactor` sets one) OpenBLAS 0.3.21
/// retries forever when it cannot map a thread's work buffer. `compare` fits its BLAS threads
/// to the limit first: fewer threads with a warning, or one line and exit 1, never a hang.
@Suite("An address-space limit: fewer BLAS threads or one line, never a hang")
struct AddressSpaceLimitTests {
  static let d = packageRoot + "Examples/data/"

  /// `compare similarity` of the bundled activations under `ulimit -v kilobytes` at `threads`
  /// BLAS threads (stopped after 60 s, which fails the test): its status and standard error.
  func run(limit kilobytes: Int, threads: Int) throws -> (status: Int32, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "ulimit -v \(kilobytes) && exec timeout 60 \"$0\" similarity \"$1\" \"$2\" --measure cka",
                         try FileGuardTests.binary(), Self.d + "activations_mlp.safetensors", Self.d + "activations_cnn.npz"]
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = "\(threads)"
    process.environment = environment
    let err = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    try process.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test("room for one BLAS thread of two: runs with one and says so; no room: one line, exit 1; no limit: no word")
  func fitted() throws {
    let lowered = try run(limit: 640_000, threads: 2)
    #expect(lowered.status == 0)
    #expect(lowered.err == "warning: the address-space limit (ulimit -v) of 625 MB leaves room for 1 BLAS thread: running with 1 instead of 2\n")
    let refused = try run(limit: 400_000, threads: 2)
    #expect(refused.status == 1)
    #expect(refused.err.hasPrefix("Error: the address-space limit (ulimit -v) of 390 MB leaves "))
    #expect(refused.err.hasSuffix(" one BLAS thread needs for its work buffers: raise the limit (under Slurm, the memory requested)\n"))
    #expect(refused.err.split(separator: "\n").count == 1)
    // Controls: a limit with room for both threads, and one thread asked for.
    let roomy = try run(limit: 4_000_000, threads: 2)
    #expect(roomy.status == 0 && roomy.err.isEmpty)
    let single = try run(limit: 640_000, threads: 1)
    #expect(single.status == 0 && single.err.isEmpty)
  }
}
