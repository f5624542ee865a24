import Compare
import Dispatch
import Synchronization

/// `compare bench esd`: the ESD table of (a) a real model read from its safetensors file and
/// (b) one 4096 × 11008 float32 layer, with `rand_distance` and the MP fits, each as a ratio to
/// this machine's LAPACK lower bound measured alone in the same run: for W and for its shuffled
/// copy, the faster of values-only `dgesdd` and a float64 Gram (`dsyrk`) plus `dsyevd`.
///
/// (a) needs the model's path in `COMPARE_ESD_BENCH_MODEL` (e.g. all-MiniLM-L6-v2's
/// `model.safetensors`); without it (a) is skipped and says so. With
/// `COMPARE_ESD_BENCH_DUMP=/path/layer.npy` the (b) matrix is written there, for the reference
/// script `Benchmarks/esd_reference.py`.
public enum ESDBenchmark {
  public static func run(log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    var entries: [(String, JSONValue)] = [("threads", .int(BLASThreads.count))]
    var rows: [[String]] = []
    let environment = ProcessEnvironment()
    if let model = environment["COMPARE_ESD_BENCH_MODEL"] {
      let result = try modelCase(path: model, log: log)
      rows.append(result.row)
      entries.append(("model", result.json))
    } else {
      log.warn("(a) skipped: set COMPARE_ESD_BENCH_MODEL to a model.safetensors of ≥ 20 M parameters (e.g. all-MiniLM-L6-v2)")
      entries.append(("model", .null))
    }
    let (m, n) = quick ? (512, 1376) : (4096, 11008)
    let result = try layerCase(rows: m, columns: n, dump: environment["COMPARE_ESD_BENCH_DUMP"], log: log)
    rows.append(result.row)
    entries.append(("layer", result.json))
    if !json {
      log.print("compare esd (rand_distance and MP fits on), \(BLASBaseline.threadsDescription)")
      log.print(Format.table(header: ["case", "layers", "compare", "LAPACK bound", "ratio", "bound route",
                                      "whole command: wall (user, system), ratio"],
                                 rows: rows, rightAligned: [1, 2, 3, 4]))
    }
    return .object(entries)
  }

  /// `1.23 s (user 1.10, sys 0.05; 262k faults, fresh memory 0.81 GB/s), 1.10x`.
  static func commandCell(_ c: CommandTiming, bound: Double) -> String {
    let fresh = (c.freshMemoryRate.map { ", fresh memory \(Format.fixed($0, 2)) GB/s" } ?? "")
      + (c.inputFaultsPerGB.map { ", input \(Format.fixed($0 / 1000, 1))k faults/GB" } ?? "")
    return "\(Format.fixed(c.wall, 2)) s (user \(Format.fixed(c.user, 2)), sys \(Format.fixed(c.system, 2)); "
      + "\(Format.fixed(Double(c.pageFaults) / 1000, 0))k faults\(fresh)), \(Format.fixed(c.wall / bound, 2))x"
  }

  struct Case {
    var row: [String]
    var json: JSONValue
  }

  /// Best time of the two routes for one matrix: (seconds, route name).
  static func bound(_ elements: [Double], rows: Int, columns: Int, gesdd: Bool = true) throws -> (Double, String) {
    let gram = try BLASBaseline.time {
      _ = try elements.withUnsafeBufferPointer {
        try EigenvalueSolver(method: .gram).eigenvalues(of: $0, rows: rows, columns: columns)
      }
    }
    guard gesdd else { return (gram, "gram+syevd") }
    let svd = try BLASBaseline.time {
      _ = try elements.withUnsafeBufferPointer {
        try EigenvalueSolver(method: .svd).eigenvalues(of: $0, rows: rows, columns: columns)
      }
    }
    return svd < gram ? (svd, "gesdd") : (gram, "gram+syevd")
  }

  static func shuffled(_ elements: [Double]) -> [Double] {
    var copy = elements
    var rng = SplitMix64(seed: 99)
    copy.withUnsafeMutableBufferPointer { rng.shuffle($0) }
    return copy
  }

  static func modelCase(path: String, log: BenchmarkLog) throws -> Case {
    let weights = try ModelWeights(path: path)
    let parameters = weights.tensors.reduce(0) { $0 + $1.count }
    var options = ESDOptions()
    options.seed = 1
    let start = ContinuousClock.now
    let layers = try ModelWeights(path: path).layers
    let reports = try ESDAnalyzer(options: options).analyze(layers).flatMap { $0 }
    let seconds = secondsSince(start)
    // The bound: every analysed layer's W and shuffled W, alone, best route each.
    var boundSeconds = 0.0
    var routes: Set<String> = []
    for (layer, report) in zip(layers, reports) where report.status != .skipped {
      let values = try layer.load()
      for (index, slice) in layer.slices(of: values).enumerated() {
        let (rows, columns) = layer.sliceShape
        let (a, ra) = try bound(slice, rows: rows, columns: columns)
        let (b, rb) = try bound(shuffled(slice), rows: rows, columns: columns)
        boundSeconds += a + b
        routes.formUnion([ra, rb])
        _ = index
      }
    }
    let name = String(path.split(separator: "/").suffix(3).joined(separator: "/"))
    let analysed = reports.filter { $0.status != .skipped }.count
    log.progress("esd: compare esd \(path)")
    let command = try CommandTiming.compare(["esd", path, "--seed", "1", "--json"], warming: [path])
    log.endProgress()
    return Case(
      row: ["(a) \(name), \(parameters / 1_000_000) M params", "\(analysed)", Format.fixed(seconds, 2) + " s",
            Format.fixed(boundSeconds, 2) + " s", Format.fixed(seconds / boundSeconds, 2) + "x",
            routes.sorted().joined(separator: ", "), Self.commandCell(command, bound: boundSeconds)],
      json: .object([("path", .string(path)), ("parameters", .int(parameters)), ("layers", .int(analysed)),
                     ("seconds", .double(seconds)), ("bound_seconds", .double(boundSeconds)),
                     ("ratio", .double(seconds / boundSeconds)),
                     ("mean_alpha", .number(ESDSummary(reports).mean("alpha"))),
                     ("command", .object(command.json + [("ratio", .double(command.wall / boundSeconds))]))]))
  }

  static func layerCase(rows: Int, columns: Int, dump: String?, log: BenchmarkLog) throws -> Case {
    var rng = SplitMix64(seed: 2026)
    let w = Matrix<Float>.gaussian(rows: rows, columns: columns, using: &rng).scaled(by: 0.02)
    if let dump { try NPYWriter.write(w.elements, shape: [rows, columns], to: dump) }
    // The whole command on the layer as a file, as users run it.
    let file = try BenchmarkFiles.cacheFolder("esd") + "/layer-\(rows)x\(columns).npy"
    try NPYWriter.write(w.elements, shape: [rows, columns], to: file)
    log.progress("esd: compare esd on \(file)")
    let command = try CommandTiming.compare(["esd", file, "--seed", "1", "--json"], warming: [file])
    log.endProgress()
    var options = ESDOptions()
    options.seed = 1
    let layer = WeightLayer(name: "mlp.down_proj", matrix: w)
    let start = ContinuousClock.now
    let report = try ESDAnalyzer(options: options).analyze([layer])[0][0]
    let seconds = secondsSince(start)
    let values = w.elements.map { Double($0) }
    let (a, ra) = try bound(values, rows: rows, columns: columns)
    // The shuffled copy has the same shape: gesdd takes the same time, so only the Gram is re-timed.
    let (b, rb) = try bound(shuffled(values), rows: rows, columns: columns, gesdd: false)
    var boundSeconds = a + min(b, ra == "gesdd" ? a : b)
    var boundRoutes = Set([ra, rb])
    // With several BLAS threads, the other way to spend them: W and its shuffled copy on two
    // workers at once, one BLAS thread each (as the analysis runs them); the faster counts.
    if BLASThreads.count > 1, let together = try concurrentGramSeconds([values, shuffled(values)],
                                                                       rows: rows, columns: columns),
       together < boundSeconds {
      boundSeconds = together
      boundRoutes = ["gram+syevd, 2 workers"]
    }
    let rand = report.randDistance ?? .nan
    // The same bound at numpy's bundled OpenBLAS/LAPACK: W and its shuffled copy, best route.
    let numpyBound = PythonBLAS.eigenvalueSeconds(rows: rows, columns: columns, threads: BLASThreads.count).map { 2 * $0 }
    log.progress("")
    log.endProgress()
    if let numpyBound {
      log.warn("(b) LAPACK bound at numpy's bundled OpenBLAS: \(Format.fixed(numpyBound, 2)) s; whole command \(Format.fixed(command.wall / numpyBound, 2))x of it")
    }
    return Case(
      row: ["(b) \(rows)×\(columns) float32", "1", Format.fixed(seconds, 2) + " s", Format.fixed(boundSeconds, 2) + " s",
            Format.fixed(seconds / boundSeconds, 2) + "x", boundRoutes.sorted().joined(separator: ", "),
            Self.commandCell(command, bound: boundSeconds)],
      json: .object([("shape", .array([.int(rows), .int(columns)])), ("seconds", .double(seconds)),
                     ("bound_seconds", .double(boundSeconds)), ("ratio", .double(seconds / boundSeconds)),
                     ("bound_route", .string(ra)), ("alpha", .number(report.powerLaw?.alpha)),
                     ("rand_distance", .double(rand)),
                     ("command", .object(command.json + [("ratio", .double(command.wall / boundSeconds))])),
                     ("numpy_bound_seconds", numpyBound.map(JSONValue.double) ?? .null)]))
  }
}

extension ESDBenchmark {
  /// Seconds to decompose `matrices` (the Gram route) on that many workers at once, one BLAS
  /// thread each; `nil` when one fails.
  static func concurrentGramSeconds(_ matrices: [[Double]], rows: Int, columns: Int) throws -> Double? {
    let threads = BLASThreads.count
    BLASThreads.set(1)
    defer { BLASThreads.set(threads) }
    let failed = Mutex(false)
    let seconds = try BLASBaseline.time {
      DispatchQueue.concurrentPerform(iterations: matrices.count) { index in
        do {
          _ = try matrices[index].withUnsafeBufferPointer {
            try EigenvalueSolver(method: .gram).eigenvalues(of: $0, rows: rows, columns: columns)
          }
        } catch { failed.withLock { $0 = true } }
      }
    }
    return failed.withLock { $0 } ? nil : seconds
  }
}

extension BLASBaseline {
  /// Seconds for one run of `body`.
  static func time(_ body: () throws -> Void) throws -> Double {
    let start = ContinuousClock.now
    try body()
    return secondsSince(start)
  }
}

/// The process environment, read once.
struct ProcessEnvironment {
  subscript(name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
  }
}
