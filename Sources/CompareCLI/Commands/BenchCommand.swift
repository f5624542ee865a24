import Compare
import CompareBenchmarks

/// `compare bench MODULE`: times a module on a synthetic workload and prints the ratio to this
/// machine's BLAS/LAPACK lower bound measured in the same run. Run it with `-c release`.
enum BenchCommand: Command {
  /// The benchmark writes its input files, then times commands that read them.
  static let defersOutputs = false

  static let modules = Benchmarks.modules

  static let spec = CommandSpec(
    name: "bench",
    overview: "Time a module against this machine's BLAS/LAPACK lower bound, measured in the same run.",
    arguments: [ArgumentSpec("module", help: "What to time (values: \(modules.joined(separator: ", "))).")],
    options: [
      OptionSpec("--threads", value: "n", help: "BLAS threads (0 keeps OpenBLAS's default).", default: 0),
      OptionSpec("--quick", help: "Small sizes, for a smoke test of the benchmark itself."),
    ],
    discussion: "Build with -c release: debug builds are many times slower.",
    examples: ["swift run -c release compare bench core", "swift run -c release compare bench cka --threads 1"])

  /// The CKA benchmark times float32 Gram matrices, as `compare cka` computes them.
  static func blasWork(_ arguments: ParsedArguments) -> BLASKernels.Work {
    arguments.argument("module") == "cka" ? .float32 : .float64
  }

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let module = arguments.argument("module")!
    guard modules.contains(module) else {
      throw UsageError("unknown benchmark '\(module)' (values: \(modules.joined(separator: ", ")))", command: spec.name)
    }
    let threads: Int = try arguments.int("--threads", in: 0...1024)
    if threads > 0 { BLASThreads.set(threads) }
    let json = arguments.flag("--json")
    let quick = arguments.flag("--quick")
    let log = BenchmarkLog(write: console.write, warn: console.warn, progress: console.progress,
                           endProgress: console.endProgress)
    let result = try Benchmarks.run(module, log: log, json: json, quick: quick)
    if json { console.print(result.serialized(pretty: true)) }
  }
}
