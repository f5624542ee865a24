import Compare

/// `compare bench core`: SGEMM and DGEMM GFLOP/s and `gesdd`/`syevd` times for a few shapes,
/// the lower bounds that the module benchmarks divide by.
public enum CoreBenchmark {
  public static func run(log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    var rows: [[String]] = []
    var entries: [JSONValue] = []
    let sizes = quick ? [256, 512] : [512, 1024, 2048]
    for n in sizes {
      for (name, rate) in [("sgemm", BLASBaseline.gemmRate(Float.self, m: n, n: n, k: n)),
                           ("dgemm", BLASBaseline.gemmRate(Double.self, m: n, n: n, k: n))] {
        rows.append([name, "\(n)×\(n)×\(n)", Format.fixed(rate, 1) + " GFLOP/s"])
        entries.append(.object([("routine", .string(name)), ("shape", .array([.int(n), .int(n), .int(n)])),
                                ("gflops", .double(rate))]))
      }
    }
    let svdShapes = quick ? [(256, 512)] : [(512, 1024), (1024, 2048)]
    for (m, n) in svdShapes {
      for (name, seconds) in [("sgesdd", try BLASBaseline.gesddSeconds(Float.self, rows: m, columns: n)),
                              ("dgesdd", try BLASBaseline.gesddSeconds(Double.self, rows: m, columns: n)),
                              ("dsyrk+dsyevd", try BLASBaseline.gramEigenSeconds(Double.self, n: m, k: n))] {
        rows.append([name, "\(m)×\(n)", Format.fixed(seconds, 3) + " s"])
        entries.append(.object([("routine", .string(name)), ("shape", .array([.int(m), .int(n)])),
                                ("seconds", .double(seconds))]))
      }
    }
    if !json {
      log.print("BLAS/LAPACK lower bounds (\(BLASBaseline.threadsDescription))")
      log.print(Format.table(header: ["routine", "shape", "speed"], rows: rows, rightAligned: [2]))
    }
    return .object([("threads", .int(BLASThreads.count)), ("results", .array(entries))])
  }
}
