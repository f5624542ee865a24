@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

/// What reaches the user's streams: results that cannot be written are an error, and messages
/// stay one line whatever a file's names hold.
@Suite("Standard output and error")
struct OutputStreamTests {
  /// `compare words` as a child process with standard output on `path`; its status and stderr.
  func run(_ words: [String], stdout path: String) throws -> (status: Int32, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try FileGuardTests.binary())
    process.arguments = words
    process.standardOutput = FileHandle(forWritingAtPath: path)
    let err = Pipe()
    process.standardError = err
    try process.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test("results that cannot be written (a full disk: /dev/full) end with status 1 and one line")
  func fullDisk() throws {
    let words = ["inspect", packageRoot + "Examples/data/weights_mlp.safetensors"]
    let full = try run(words, stdout: "/dev/full")
    #expect(full.status == 1)
    #expect(full.err == "Error: cannot write the results to standard output: No space left on device\n")
    // Control: the same command with somewhere to write succeeds silently.
    let null = try run(words, stdout: "/dev/null")
    #expect(null.status == 0)
    #expect(null.err.isEmpty)
  }

  @Test("an output name of 255 bytes (the longest a file system takes) is written, in process and as a whole run")
  func longestName() throws {
    let scratch = TemporaryFolder("long-name")
    let model = packageRoot + "Examples/data/weights_mlp.safetensors"
    let long = scratch.file(String(repeating: "q", count: 250) + ".json")  // 255 bytes
    #expect(runCompare(["esd", model, "-o", long]).status == 0)  // renamed at once
    try FileManager.default.removeItem(atPath: long)
    let child = try run(["esd", model, "-o", long], stdout: "/dev/null")  // renamed at the end
    #expect(child.status == 0, "\(child.err)")
    #expect(try scratch.listing() == [String(repeating: "q", count: 250) + ".json"])
  }

  @Test("control characters in a message (a newline or escape in a tensor name) are escaped: one line")
  func controlCharacters() {
    #expect(Format.visible("layer 'a\nb' has \u{1B}[31mred\r") == "layer 'a\\nb' has \\u{1B}[31mred\\r")
    #expect(Format.visible("tabs\tand ünïcode stay") == "tabs\tand ünïcode stay")
    let console = Console.capturing()
    console.warn("Error: x.pt: 'torch\nline2'")
    #expect(console.standardError == "Error: x.pt: 'torch\\nline2'\n")
  }
}
