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
///   factor (`gesdd`), once per layer;
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
    /// Examples for rsa and dcor (`--examples`), or nil for all.
    var quadraticExamples: Int?
  }

  public static func run(log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    var cases: [Case] = []
    // The bundled activations, when run from the repository's root.
    let (mlp, cnn) = ("Examples/data/activations_mlp.safetensors", "Examples/data/activations_cnn.npz")
    if let a = try? ActivationSet(path: mlp), let b = try? ActivationSet(path: cnn) {
      cases.append(Case(label: "digits", a: mlp, b: cnn, examples: min(a.examples, b.examples),
                        features: a.features + b.features, quadraticExamples: nil))
    } else {
      log.warn("similarity: \(mlp) not found (run from the repository's root for the digits case)")
    }
    let (examples, width, layers) = quick ? (1000, 128, 2) : (10_000, 1024, 6)
    let folder = try BenchmarkFiles.cacheFolder("similarity")
    let (a, b) = (folder + "/a-\(examples)x\(width).safetensors", folder + "/b-\(examples)x\(width).safetensors")
    try CKABenchmark.writeActivations(a, Array(repeating: width, count: layers), examples: examples, seed: 1, log: log)
    try CKABenchmark.writeActivations(b, Array(repeating: width, count: layers), examples: examples, seed: 2, log: log)
    cases.append(Case(label: "large", a: a, b: b, examples: examples,
                      features: Array(repeating: width, count: 2 * layers),
                      quadraticExamples: quick ? nil : 4000))
    var results: [JSONValue] = []
    for c in cases {
      log.progress("similarity \(c.label): bounds")
      // Each distinct layer shape is timed once and counted for every layer of that shape.
      var decompositions: [Int: Double] = [:], grams: [Int: Double] = [:]
      func decomposition(_ n: Int, _ p: Int) throws -> Double {
        if let t = decompositions[n << 32 | p] { return t }
        let t = try decompositionSeconds(rows: n, columns: p)
        decompositions[n << 32 | p] = t
        return t
      }
      func gramTime(_ n: Int, _ p: Int) -> Double {
        if let t = grams[n << 32 | p] { return t }
        let t = gramSeconds(rows: n, columns: p)
        grams[n << 32 | p] = t
        return t
      }
      // The command decomposes the layers at once over the cores, one BLAS thread each: so is
      // the bound, the layers' single-thread times shared by the workers.
      let threads = BLASThreads.count, workers = Double(max(1, min(threads, c.features.count)))
      let quadraticN = c.quadraticExamples ?? c.examples
      BLASThreads.set(1)
      let bounds = Result {
        (try c.features.reduce(0.0) { $0 + (try decomposition(c.examples, $1)) } / workers,
         c.features.reduce(0.0) { $0 + gramTime(quadraticN, $1) } / workers,
         c.features.reduce(0.0) { $0 + gramTime(c.examples, $1) } / workers)
      }
      BLASThreads.set(threads)  // the commands run at the benchmark's thread count
      let (decomposition, gram, gramAll) = try bounds.get()
      var rows: [[String]] = [], items: [JSONValue] = []
      for (name, bound) in measures {
        log.progress("similarity \(c.label): compare similarity --measure \(name)")
        var arguments = ["similarity", c.a, c.b, "--measure", name, "--json"]
        let quadratic = name == "rsa" || name == "dcor"
        if quadratic, let n = c.quadraticExamples { arguments += ["--examples", "\(n)"] }
        let run = try CommandTiming.compare(arguments)
        let seconds = bound == .decomposition ? decomposition : (quadratic ? gram : gramAll)
        let n = quadratic ? quadraticN : c.examples
        rows.append([name, "\(n)", run.summary, "\(bound.rawValue) \(Format.fixed(seconds, 3)) s",
                     Format.fixed(run.wall / seconds, 2)])
        items.append(.object([("measure", .string(name)), ("examples", .int(n)), ("bound", .string(bound.rawValue)),
                              ("bound_seconds", .double(seconds)), ("ratio", .double(run.wall / seconds))] + run.json))
      }
      log.endProgress()
      if !json {
        log.print("Similarity \(c.label): \(c.features.count) layers (\(c.features.map(String.init).joined(separator: "/")) features), \(c.examples) examples, \(BLASBaseline.threadsDescription)")
        log.print("  compare similarity \(c.a) \(c.b) --measure NAME --json")
        log.print(Format.table(header: ["measure", "examples", "whole command", "bound", "ratio"], rows: rows,
                               rightAligned: [1, 4]))
      }
      results.append(.object([("case", .string(c.label)), ("examples", .int(c.examples)),
                              ("features", .array(c.features.map(JSONValue.int))),
                              ("decomposition_bound_seconds", .double(decomposition)),
                              ("gram_bound_seconds", .double(gramAll)), ("measures", .array(items))]))
    }
    return .object([("threads", .int(BLASThreads.count)), ("results", .array(results))])
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
