import Compare
import CompareCore

/// `compare bench similarity`: every measure of `compare similarity`, each as the whole command
/// on files (`--measure NAME`), against the LAPACK/BLAS call that dominates it, timed in the
/// same run:
///
/// Like the command, the bound runs the layers over the cores: each layer's call is timed with
/// one BLAS thread, and the sum divided by the workers (the BLAS threads, at most the layers).
///
/// - the linear measures (cka, cca, svcca, pwcca, procrustes, linreg): each layer's
///   decomposition, a QR of the n×p centred layer (`geqrf`/`orgqr`) and the SVD of the p×p
///   factor (`gesdd`), once per layer; and, in a second ratio, also each pair's cross product
///   U_Aᵀ·U_B (one m_A × n × m_B `dgemm`), which every linear measure needs;
/// - mknn, cknna, rsa, dcor: each layer's n×n inner products, one n×p by p×n `dgemm` per layer
///   (made in row blocks by the measures, timed here as blocks of 2048 rows).
///
/// Cases: the bundled activations (MLP against CNN on 450 digits, run from the repository's
/// root) and a large one,
/// 6 layers of 10,000 examples × 1,024 float32 features per model (rsa and dcor on the first
/// 4,000 examples: their n²/2 and n² float64 per layer for 10,000 would pass the command's
/// 4 GiB budget, and it says so).
public enum SimilarityBenchmark {
  /// The measures timed, in the command's order, and the bound each is divided by.
  static let measures: [(name: String, bound: Bound)] = [
    ("cka", .decomposition), ("cca", .decomposition), ("svcca", .decomposition),
    ("pwcca", .decomposition), ("procrustes", .decomposition), ("linreg", .decomposition),
    ("rsa", .gram), ("mknn", .gram), ("cknna", .gram), ("dcor", .gram),
  ]

  enum Bound: String { case decomposition, gram }

  struct Case {
    var label: String
    var a: String, b: String
    var examples: Int
    /// Features of each layer of A and then B.
    var features: [Int]
    /// Layers of A (the first `layersA` of `features`).
    var layersA: Int
    /// Examples for rsa and dcor (`--examples`), or nil for all.
    var quadraticExamples: Int?
  }

  public static func run(log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    var cases: [Case] = []
    // The bundled activations, when run from the repository's root.
    let (mlp, cnn) = ("Examples/data/activations_mlp.safetensors", "Examples/data/activations_cnn.npz")
    if let a = try? ActivationSet(path: mlp), let b = try? ActivationSet(path: cnn) {
      cases.append(Case(label: "digits", a: mlp, b: cnn, examples: min(a.examples, b.examples),
                        features: a.features + b.features, layersA: a.features.count, quadraticExamples: nil))
    } else {
      log.warn("similarity: \(mlp) not found (run from the repository's root for the digits case)")
    }
    let (examples, width, layers) = quick ? (1000, 128, 2) : (10_000, 1024, 6)
    let folder = try BenchmarkFiles.cacheFolder("similarity")
    let (a, b) = (folder + "/a-\(examples)x\(width).safetensors", folder + "/b-\(examples)x\(width).safetensors")
    try CKABenchmark.writeActivations(a, Array(repeating: width, count: layers), examples: examples, seed: 1, log: log)
    try CKABenchmark.writeActivations(b, Array(repeating: width, count: layers), examples: examples, seed: 2, log: log)
    cases.append(Case(label: "large", a: a, b: b, examples: examples,
                      features: Array(repeating: width, count: 2 * layers), layersA: layers,
                      quadraticExamples: quick ? nil : 4000))
    var results: [JSONValue] = []
    for c in cases {
      log.progress("similarity \(c.label): bounds")
      // The command decomposes the layers at once over the cores, one BLAS thread each, and
      // then makes the pairs' cross products the same way: so does the bound, the single-thread
      // times shared by the workers. Each distinct shape is timed once.
      let threads = BLASThreads.count
      BLASThreads.set(1)
      let linked = Result {
        try bounds(c, threads: threads, decomposition: { try decompositionSeconds(rows: $0, columns: $1) },
                   gram: { gramSeconds(rows: $0, columns: $1) }, pair: { pairSeconds(examples: $0, $1, $2) })
      }
      BLASThreads.set(threads)  // the commands run at the benchmark's thread count
      let bound = try linked.get()!
      // The same bounds at numpy's bundled OpenBLAS, one thread per worker too.
      log.progress("similarity \(c.label): bounds at numpy's OpenBLAS")
      let numpy = try bounds(c, threads: threads,
                             decomposition: { PythonBLAS.decompositionSeconds(rows: $0, columns: $1) },
                             gram: { n, p in PythonBLAS.gemm64Seconds(m: min(n, 2048), n: n, k: p).map { $0 * Double(n) / Double(min(n, 2048)) } },
                             pair: { PythonBLAS.gemm64Seconds(m: $1, n: $2, k: $0) })
      var rows: [[String]] = [], items: [JSONValue] = []
      for (name, kind) in measures {
        log.progress("similarity \(c.label): compare similarity --measure \(name)")
        var arguments = ["similarity", c.a, c.b, "--measure", name, "--json"]
        let quadratic = name == "rsa" || name == "dcor"
        if quadratic, let n = c.quadraticExamples { arguments += ["--examples", "\(n)"] }
        let run = try CommandTiming.compare(arguments, warming: [c.a, c.b])
        let seconds = bound.seconds(kind, quadratic: quadratic, withPairs: false)
        // The linear measures' whole bound: the decompositions and the pairs' cross products.
        let whole = bound.seconds(kind, quadratic: quadratic, withPairs: true)
        let numpyWhole = numpy?.seconds(kind, quadratic: quadratic, withPairs: true)
        let n = quadratic ? (c.quadraticExamples ?? c.examples) : c.examples
        rows.append([name, "\(n)", run.summary, "\(kind.rawValue) \(Format.fixed(seconds, 3)) s",
                     Format.fixed(run.wall / seconds, 2),
                     kind == .decomposition ? "\(Format.fixed(whole, 3)) s: \(Format.fixed(run.wall / whole, 2))" : "-",
                     numpyWhole.map { "\(Format.fixed($0, 3)) s: \(Format.fixed(run.wall / $0, 2))" } ?? "- (no python3 with numpy)"])
        items.append(.object([("measure", .string(name)), ("examples", .int(n)), ("bound", .string(kind.rawValue)),
                              ("bound_seconds", .double(seconds)), ("ratio", .double(run.wall / seconds)),
                              ("bound_with_pairs_seconds", .double(whole)), ("ratio_with_pairs", .double(run.wall / whole)),
                              ("numpy_bound_seconds", numpyWhole.map(JSONValue.double) ?? .null)]
                             + run.json))
      }
      log.endProgress()
      if !json {
        log.print("Similarity \(c.label): \(c.features.count) layers (\(c.features.map(String.init).joined(separator: "/")) features), \(c.examples) examples, \(BLASBaseline.threadsDescription)")
        log.print("  compare similarity \(c.a) \(c.b) --measure NAME --json")
        log.print(Format.table(header: ["measure", "examples", "whole command", "bound", "ratio", "with the pairs: ratio",
                                        "numpy's OpenBLAS: ratio"],
                               rows: rows, rightAligned: [1, 4]))
      }
      results.append(.object([("case", .string(c.label)), ("examples", .int(c.examples)),
                              ("features", .array(c.features.map(JSONValue.int))),
                              ("decomposition_bound_seconds", .double(bound.decomposition)),
                              ("gram_bound_seconds", .double(bound.gramAll)), ("pairs_bound_seconds", .double(bound.pairs)),
                              ("measures", .array(items))]))
    }
    return .object([("threads", .int(BLASThreads.count)), ("results", .array(results))])
  }

  /// A case's bounds, from per-shape single-thread timings shared by the workers: the layers'
  /// decompositions, their n×n products (at the quadratic measures' examples and at all), the
  /// pairs' cross products.
  struct Bounds {
    var decomposition: Double, gram: Double, gramAll: Double, pairs: Double

    func seconds(_ kind: Bound, quadratic: Bool, withPairs: Bool) -> Double {
      switch kind {
      case .decomposition: return decomposition + (withPairs ? pairs : 0)
      case .gram: return quadratic ? gram : gramAll
      }
    }
  }

  /// `Bounds` from the timers (each shape timed once), or `nil` when a timer has no answer.
  static func bounds(_ c: Case, threads: Int, decomposition: (Int, Int) throws -> Double?,
                     gram: (Int, Int) -> Double?, pair: (_ n: Int, _ ma: Int, _ mb: Int) -> Double?) throws -> Bounds? {
    // Each timer's answer for a shape, timed once.
    var timed: [String: Double] = [:]
    func once(_ timer: String, _ x: Int, _ y: Int, _ time: () throws -> Double?) rethrows -> Double? {
      let key = "\(timer) \(x)×\(y)"
      if let t = timed[key] { return t }
      let t = try time()
      timed[key] = t
      return t
    }
    func decomposed(_ n: Int, _ p: Int) throws -> Double? { try once("qr+svd", n, p) { try decomposition(n, p) } }
    func multiplied(_ n: Int, _ p: Int) -> Double? { once("gram", n, p) { gram(n, p) } }
    func crossed(_ ma: Int, _ mb: Int) -> Double? { once("pair", ma, mb) { pair(c.examples, ma, mb) } }
    let workers = Double(max(1, min(threads, c.features.count)))
    let m = c.features.map { min($0, c.examples) }
    let pairWorkers = Double(max(1, min(threads, c.layersA * (m.count - c.layersA))))
    let quadraticN = c.quadraticExamples ?? c.examples
    var total = Bounds(decomposition: 0, gram: 0, gramAll: 0, pairs: 0)
    for p in c.features {
      guard let d = try decomposed(c.examples, p), let g = multiplied(quadraticN, p),
            let all = multiplied(c.examples, p) else { return nil }
      total.decomposition += d / workers
      total.gram += g / workers
      total.gramAll += all / workers
    }
    for ma in m.prefix(c.layersA) {
      for mb in m.dropFirst(c.layersA) {
        guard let t = crossed(ma, mb) else { return nil }
        total.pairs += t / pairWorkers
      }
    }
    return total
  }

  /// One layer's decomposition as the measures make it: the QR of the n×p layer (of its
  /// transpose when n < p) and the SVD of the min(n, p)-square factor. Fastest of three.
  static func decompositionSeconds(rows n: Int, columns p: Int) throws -> Double {
    var rng = SplitMix64(seed: UInt64(n * 31 + p))
    let x = Matrix<Double>.gaussian(rows: max(n, p), columns: min(n, p), using: &rng)
    let m = min(n, p)
    var best = Double.infinity
    for _ in 0..<3 {
      var q = x.elements
      var tau = [Double](repeating: 0, count: m)
      let start = ContinuousClock.now
      let (routine, info) = q.withUnsafeMutableBufferPointer { pq in
        tau.withUnsafeMutableBufferPointer { pt in
          Double.orthonormalize(pq.baseAddress!, rows: Int32(max(n, p)), columns: Int32(m), tau: pt.baseAddress!)
        }
      }
      guard info == 0 else { throw LinearAlgebraError(routine: routine, info: info) }
      _ = try Matrix<Double>(rows: m, columns: m) { i, j in x[i, j] }.singularValueDecomposition()
      best = min(best, secondsSince(start))
    }
    return best
  }

  /// One pair's cross product of the two layers' singular bases, U_Aᵀ·U_B: an m_A × n by
  /// n × m_B `dgemm` (m = min(n, p)), as every pair of the linear measures makes it. Fastest of
  /// three.
  static func pairSeconds(examples n: Int, _ ma: Int, _ mb: Int) -> Double {
    var rng = SplitMix64(seed: UInt64(n * 7 + ma * 3 + mb))
    let a = Matrix<Double>.gaussian(rows: ma, columns: n, using: &rng)
    let b = Matrix<Double>.gaussian(rows: mb, columns: n, using: &rng)
    var best = Double.infinity
    for _ in 0..<3 {
      let start = ContinuousClock.now
      _ = a.multipliedByTransposed(b)
      best = min(best, secondsSince(start))
    }
    return best
  }

  /// The n×n inner products of an n×p layer, one `dgemm` of 2048-row blocks scaled to n rows.
  /// Fastest of three.
  static func gramSeconds(rows n: Int, columns p: Int) -> Double {
    var rng = SplitMix64(seed: UInt64(n * 17 + p))
    let x = Matrix<Double>.gaussian(rows: n, columns: p, using: &rng)
    let block = min(n, 2048)
    let rows = x.rows(0..<block)
    var best = Double.infinity
    for _ in 0..<3 {
      let start = ContinuousClock.now
      _ = rows.multipliedByTransposed(x)
      best = min(best, secondsSince(start))
    }
    return best * Double(n) / Double(block)
  }
}
