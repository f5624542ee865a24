@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

/// The kernel set and idle-thread spin a `compare` process runs with, seen from outside:
/// `bench --json` reports them.
@Suite("OpenBLAS kernel set and idle threads of the compare process")
struct BLASKernelsCommandTests {
  /// The child's `TMPDIR`: the benchmark's input files are written there and removed with it.
  let scratch = TemporaryFolder("blas-kernels")

  /// `compare words` as a child process with `OPENBLAS_CORETYPE` set to `coreType` (or
  /// removed) and the variables in `extra` set (or, when empty, removed); its standard output.
  func run(_ words: [String], coreType: String?, environment extra: [String: String] = [:]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try FileGuardTests.binary())
    process.arguments = words
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = coreType
    environment["TMPDIR"] = scratch.path
    // An empty value removes the variable.
    for (key, value) in extra { environment[key] = value.isEmpty ? nil : value }
    process.environment = environment
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self)
  }

  /// The kernel set and choice `compare bench MODULE --quick --json` reports.
  func kernels(_ module: String, coreType: String?) throws -> (name: String, choice: String) {
    let json = try benchJSON(module, coreType: coreType)
    return (json["blas_kernels"] as? String ?? "", json["blas_kernels_choice"] as? String ?? "")
  }

  func benchJSON(_ module: String, coreType: String?, environment: [String: String] = [:]) throws -> [String: Any] {
    let out = try run(["bench", module, "--quick", "--json"], coreType: coreType, environment: environment)
    return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
  }

  @Test("compare shortens OpenBLAS's idle spin to 2^20 cycles, unless OPENBLAS_THREAD_TIMEOUT is set")
  func idleSpin() throws {
    let ours = try benchJSON("core", coreType: nil, environment: ["OPENBLAS_THREAD_TIMEOUT": ""])
    #expect(ours["blas_idle_spin_exponent"] as? Int == 20)
    // Control: the user's value is kept.
    let user = try benchJSON("core", coreType: nil, environment: ["OPENBLAS_THREAD_TIMEOUT": "25"])
    #expect(user["blas_idle_spin_exponent"] as? Int == 25)
  }

  @Test("a benchmark's whole-command timing reports the process's page faults, the machine's fresh-memory rate and the inputs' mapping faults")
  func commandFaults() throws {
    let results = try benchJSON("cka", coreType: nil)["results"] as? [[String: Any]] ?? []
    let large = try #require(results.first { $0["case"] as? String == "large" })
    let faults = large["minor_page_faults"] as? Int ?? 0, rate = large["fresh_memory_gb_per_s"] as? Double ?? 0
    // A process that maps its inputs and allocates its buffers faults in at least a few hundred
    // pages; a rate of fresh memory outside 0.01–1000 GB/s would be a units error.
    #expect(faults > 200)
    #expect(rate > 0.01 && rate < 1000)
    // Control: the full-data command, which holds more memory, takes more faults.
    let full = large["full_data"] as? [String: Any] ?? [:]
    #expect((full["minor_page_faults"] as? Int ?? 0) > faults)
    // Mapping the warmed inputs and reading every page: at least one fault per 2 MiB folio
    // (477 per GB; a warm-up that reads nothing, as a release build made of it once, takes
    // none), at most one per 4 KiB page (244k per GB).
    let input = try #require(large["input_page_faults_per_gb"] as? Double)
    #expect(input > 400 && input <= 1e9 / 4096)
    // Control: the digits-sized case runs on the in-memory workload only, with no input files.
    let digits = try #require(results.first { $0["case"] as? String == "digits-sized" })
    #expect(digits["input_page_faults_per_gb"] == nil)
  }

  /// Debian's OpenBLAS picks its Cooper Lake kernels on a Zen 4.
  @Test("compare cka runs the Zen kernels on a Zen 4; float64 work keeps OpenBLAS's pick")
  func defaultChoice() throws {
    let (name, choice) = try kernels("cka", coreType: nil)
    let zen4 = BLASKernels.thisCPUIsZen4 && ["Cooperlake", "SkylakeX"].contains(BLASKernels.loadedName)
    #expect(name == (zen4 ? "Zen" : BLASKernels.loadedName))
    #expect(choice == (zen4 ? "switched" : "kept"))
    // Control: the core benchmark times float64 work as well, on OpenBLAS's own pick.
    let (coreName, coreChoice) = try kernels("core", coreType: nil)
    #expect(coreName == BLASKernels.loadedName)
    #expect(coreChoice == "kept")
  }

  @Test("OPENBLAS_CORETYPE wins over Compare's choice", arguments: ["Haswell", "Cooperlake"])
  func userChoice(core: String) throws {
    let (name, choice) = try kernels("cka", coreType: core)
    #expect(choice == "user")
    #expect(name == core)
  }

  /// The float32 Gram matrices differ in rounding only, far below what CKA is read at.
  @Test("the CKA of the example models agrees to 1e-6 on both kernel sets")
  func sameNumbers() throws {
    let data = packageRoot + "Examples/data/"
    let words = ["cka", data + "activations_mlp.safetensors", data + "activations_cnn.npz", "--json"]
    func matrix(_ core: String) throws -> [Double] {
      let json = try JSONSerialization.jsonObject(with: Data(try run(words, coreType: core).utf8)) as? [String: Any]
      return ((json?["CKA"] as? [[Double]]) ?? []).flatMap { $0 }
    }
    let zen = try matrix("Zen"), cooperLake = try matrix("Cooperlake")
    #expect(zen.count == 20)
    #expect(zen.count == cooperLake.count)
    #expect(zip(zen, cooperLake).allSatisfy { abs($0 - $1) <= 1e-6 })
  }

  @Test("only the minibatch CKA and its benchmark ask for the float32 kernels")
  func workOfCommands() throws {
    func work(_ command: any Command.Type, _ words: [String]) throws -> BLASKernels.Work {
      command.blasWork(try ParsedArguments(words, spec: command.spec))
    }
    #expect(try work(CKACommand.self, ["a.npz", "b.npz"]) == .float32)
    #expect(try work(CKACommand.self, ["a.npz", "b.npz", "--estimator", "minibatch"]) == .float32)
    #expect(try work(CKACommand.self, ["a.npz", "b.npz", "--estimator", "full"]) == .float64)
    #expect(try work(CKACommand.self, ["--estimator=debiased", "a.npz", "b.npz"]) == .float64)
    #expect(try work(BenchCommand.self, ["cka", "--threads", "1"]) == .float32)
    #expect(try work(BenchCommand.self, ["esd"]) == .float64)
    #expect(try work(ESDCommand.self, ["model.safetensors"]) == .float64)
    #expect(try work(KernelCommand.self, ["--test", "t.npz", "--train", "r.npz", "--test-labels", "t.npz:y", "--train-labels", "r.npz:y"]) == .float64)
  }
}
