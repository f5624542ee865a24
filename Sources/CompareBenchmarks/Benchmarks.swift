import Compare

/// `compare bench MODULE`: the module benchmarks by name, each reporting the OpenBLAS kernel
/// set and idle-thread setting it ran with.
public enum Benchmarks {
  /// The benchmarks `run` knows, in the order `compare bench --help` lists them.
  public static let modules = ["core", "io", "kernel", "cka", "esd", "similarity"]

  /// Runs benchmark `module` (one of `modules`), printing its tables through `log` unless
  /// `json`, and returns its figures with three keys added: `blas_kernels` (the kernel set's
  /// name), `blas_kernels_choice` (`switched`, `user` or `kept`; see `BLASKernels`) and
  /// `blas_idle_spin_exponent` (see `BLASThreads.idleSpinExponent`).
  public static func run(_ module: String, log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    if !json {
      let spin = BLASThreads.idleSpinExponent
      log.print(BLASKernels.summary + ", idle threads spin 2^\(spin == 0 ? 28 : spin) cycles")
    }
    let result: JSONValue
    switch module {
    case "core": result = try CoreBenchmark.run(log: log, json: json, quick: quick)
    case "io": result = try IOBenchmark.run(log: log, json: json, quick: quick)
    case "kernel": result = try KernelBenchmark.run(log: log, json: json, quick: quick)
    case "cka": result = try CKABenchmark.run(log: log, json: json, quick: quick)
    case "similarity": result = try SimilarityBenchmark.run(log: log, json: json, quick: quick)
    case "esd": result = try ESDBenchmark.run(log: log, json: json, quick: quick)
    default: throw InputError("unknown benchmark '\(module)' (values: \(modules.joined(separator: ", ")))")
    }
    guard case .object(let entries) = result else { return result }
    return .object(entries + [("blas_kernels", .string(BLASKernels.name)),
                              ("blas_kernels_choice", .string(BLASKernels.choice.key)),
                              ("blas_idle_spin_exponent", .int(BLASThreads.idleSpinExponent))])
  }
}
