import CompareCore
import Dispatch
import Synchronization
import SpectralMetrics
import TensorIO

/// What `compare esd --plan` prints: the eigenvalue work, bytes read and memory of an analysis,
/// and its time estimated from one decomposition timed now with the same solver, without
/// analysing the model.
///
/// Work is counted as Σ rf·N·M² over the layers (M the smaller side), once for W and once per
/// random draw (5 draws when M·rf < 100, as the reference pools them). The time is a two-term
/// model of the eigenvalue route, Gram product plus symmetric eigensolver:
///
///     seconds ≈ Σ draws · rf · (a · N·M² + b · M³)
///
/// with a and b measured now from two reference decompositions with the run's solver and
/// precision (4m × m and 2m × m, m the largest layer's M rounded down to a power of two within
/// 256...2048, each the faster of two after a warm-up, so a busy machine inflates it less).
/// When the analysis runs large layers several at once (`workers`, one BLAS thread each), the
/// references run that many at once too, so their contention for memory bandwidth is in the
/// rates (without it the float64 estimate of a 7B model's blocks was 20 % short).
///
/// Near-square layers in float64 (`EigenvalueSolver.probesConditioning`) are counted on the
/// route they usually take, the Gram product then `gesdd` (the conditioning probe skips the
/// eigensolver):
///
///     seconds ≈ Σ draws · rf · (a + c) · N·M²
///
/// with c timed now from one `gesdd` of a square reference (m × m); a well-conditioned one
/// takes the Gram route and less time.
public struct ESDPlan: Sendable {
  /// Layers analysed.
  public var layers: Int
  /// Σ rf·N·M² over layers and draws.
  public var work: Double
  /// Bytes of weights read (as stored).
  public var bytesRead: Int
  /// The largest layer's elements: memory peaks at a few float64 copies of it.
  public var largestLayer: Int
  /// Seconds per unit of Gram work N·M² (a), measured now.
  public var secondsPerUnit: Double
  /// Seconds per unit of eigensolver work M³ (b), measured now.
  public var secondsPerEigenUnit: Double = 0
  /// Σ draws · rf · M³ over the layers: the eigensolver's share of the work.
  public var eigenWork: Double = 0
  /// Layers counted on the float64 SVD route (near-square, `EigenvalueSolver.probesConditioning`).
  public var svdLayers = 0
  /// Σ draws · rf · N·M² over those layers.
  public var svdWork = 0.0
  /// Seconds per unit of SVD work N·M² (c), measured now.
  public var secondsPerSVDUnit = 0.0
  /// BLAS threads the estimate assumes (this process's).
  public var threads: Int

  /// Large layers analysed at once (`ESDAnalyzer.largeLayerWorkers`), one BLAS thread each.
  public var workers = 1
  /// Seconds of tail fitting beyond the default power-law fit: `--fit TPL`/`E_TPL`,
  /// `--alpha-ci` and `--pl-test` (their fits timed now on a synthetic heavy-tailed spectrum,
  /// scaled by each row's eigenvalues squared, shared by the cores).
  public var fitSeconds = 0.0
  /// A few float64 copies of the largest layer (elements, the shuffled copy, the float32 copy
  /// or the SVD's copy, the Gram) per large layer in flight.
  public var memoryBytes: Int { workers * 4 * 8 * largestLayer }
  /// The estimated time: the work at the rates timed, shared by the workers.
  public var estimatedSeconds: Double {
    (work * secondsPerUnit + eigenWork * secondsPerEigenUnit + svdWork * secondsPerSVDUnit) / Double(workers)
      + fitSeconds
  }

  /// `compare esd --plan --json`.
  public func json() -> JSONValue {
    .object([
      ("layers", .int(layers)), ("work", .double(work)), ("bytes_read", .int(bytesRead)),
      ("memory_bytes", .int(memoryBytes)), ("largest_layer_elements", .int(largestLayer)),
      ("seconds_per_unit", .double(secondsPerUnit)), ("eigen_work", .double(eigenWork)),
      ("seconds_per_eigen_unit", .double(secondsPerEigenUnit)), ("threads", .int(threads)),
      ("workers", .int(workers)), ("svd_layers", .int(svdLayers)), ("svd_work", .double(svdWork)),
      ("seconds_per_svd_unit", .double(secondsPerSVDUnit)), ("fit_seconds", .double(fitSeconds)),
      ("estimated_seconds", .double(estimatedSeconds)),
    ])
  }

  /// The plan as text.
  public var text: String {
    "Plan: compare esd, \(layers) layer\(layers == 1 ? "" : "s")\n"
      + "  work:    \(Format.general(work, 3)) units of rf·N·M² (W and its random draws)\n"
      + "  reads:   \(TensorListing.byteText(bytesRead)) of weights, one layer at a time\n"
      + "  memory:  about \(TensorListing.byteText(memoryBytes)) at the largest layer (\(largestLayer) elements, a few float64 copies\(workers > 1 ? ", \(workers) layers at once" : ""))\n"
      + "  time:    about \(KernelRunPlan.duration(estimatedSeconds)) (Gram\(svdLayers > 0 ? ", eigensolver and SVD" : " and eigensolver") rates timed now, \(workers > 1 ? "\(workers) layers at once, 1 BLAS thread each" : "\(threads) BLAS thread\(threads == 1 ? "" : "s")"))\n"
      + (svdLayers > 0
        ? "  solver:  \(svdLayers) near-square layer\(svdLayers == 1 ? "" : "s") counted on the float64 SVD (their smallest eigenvalues usually fall below the Gram route's limit)\n"
        : "")
  }
}

extension ModelWeights {
  /// The plan of an analysis long enough to announce (estimated over `seconds`), or `nil`.
  /// Under 10¹³ units of work (about five minutes here) nothing is measured: timing the two
  /// reference decompositions takes several seconds, which a shorter run should not pay (a
  /// 4096 × 11008 layer, 3.7·10¹¹ units, ran 40 % longer with it).
  public func esdLongRunPlan(options: ESDOptions = ESDOptions(), layers patterns: [String] = [],
                             excluding excluded: [String] = [], initial: ModelWeights? = nil,
                             shard: ESDShard? = nil, over seconds: Double = 60) -> ESDPlan? {
    guard let cheap = try? esdPlan(options: options, layers: patterns, excluding: excluded, initial: initial,
                                   shard: shard, measure: false), cheap.work > 1e13,
          let plan = try? esdPlan(options: options, layers: patterns, excluding: excluded, initial: initial,
                                  shard: shard), plan.estimatedSeconds > seconds else { return nil }
    return plan
  }

  /// The plan of `esd(options:layers:initial:shard:)` (see `ESDPlan`); with `measure` false
  /// the counts only (no decomposition timed, the estimate 0).
  /// - Throws: as `esd` when no layer is left or the init model lacks one.
  public func esdPlan(options: ESDOptions = ESDOptions(), layers patterns: [String] = [],
                      excluding excluded: [String] = [], initial: ModelWeights? = nil,
                      shard: ESDShard? = nil, measure: Bool = true) throws -> ESDPlan {
    var (layers, _) = try analysable(patterns, excluded, options)
    if let initial { layers = try paired(layers, with: initial) }
    if let shard { layers = shard.select(layers, options: options) }
    var work = 0.0, eigenWork = 0.0, svdWork = 0.0, svdLayers = 0, svdSide = 0
    for layer in layers {
      let decompositions = Double(ESDShard.decompositions(of: layer, options: options))
      let m = Double(Swift.min(layer.n, layer.m))
      work += ESDShard.cost(of: layer) * decompositions
      if options.solver.probesConditioning(rows: layer.n, columns: layer.m) {
        svdWork += ESDShard.cost(of: layer) * decompositions
        svdLayers += 1
        svdSide = Swift.max(svdSide, Swift.min(layer.n, layer.m))
      } else {
        eigenWork += Double(layer.rf) * m * m * m * decompositions
      }
    }
    let stored = Dictionary(zip(keys, tensors).map { (ModelWeights.layerName($0.0), $0.1.byteCount) },
                            uniquingKeysWith: { a, _ in a })
    let bytes = layers.reduce(0) { $0 + (stored[$1.name] ?? $1.count * 4) }
    var plan = ESDPlan(layers: layers.count, work: work, bytesRead: bytes,
                       largestLayer: layers.map(\.count).max() ?? 0, secondsPerUnit: 0,
                       threads: BLASThreads.count)
    plan.eigenWork = eigenWork
    plan.svdWork = svdWork
    plan.svdLayers = svdLayers
    plan.workers = ESDAnalyzer.largeLayerWorkers(
      threads: BLASThreads.count, layers: layers.map(\.count).filter { $0 > options.parallelLimit })
    if measure {
      // Timed as the run computes: with several workers, one BLAS thread each.
      let threads = BLASThreads.count
      if plan.workers > 1 { BLASThreads.set(1) }
      defer { BLASThreads.set(threads) }
      // t(n × m) = a·n·m² + b·m³ at two shapes sharing m gives a and b (both well
      // conditioned, so the automatic solver takes its Gram route on each).
      let m = Self.referenceSide(largest: layers.map { Swift.min($0.n, $0.m) }.max() ?? 0)
      let tall = try Self.fastestDecomposition(rows: 4 * m, columns: m, solver: options.solver,
                                               alongside: plan.workers)
      let short = try Self.fastestDecomposition(rows: 2 * m, columns: m, solver: options.solver,
                                                alongside: plan.workers)
      let cube = Double(m) * Double(m) * Double(m)
      let a = Swift.max((tall - short) / (2 * cube), 0.1 * tall / (5 * cube))
      plan.secondsPerUnit = a
      plan.secondsPerEigenUnit = Swift.max((short - 2 * a * cube) / cube, 0)
      if svdLayers > 0 {
        // One timed gesdd of a square reference, after the Gram references warmed LAPACK up.
        let side = Self.referenceSide(largest: svdSide)
        let svd = try Self.fastestDecomposition(rows: side, columns: side, rounds: 1,
                                                solver: EigenvalueSolver(method: .svd, precision: options.solver.precision),
                                                alongside: plan.workers)
        plan.secondsPerSVDUnit = svd / (Double(side) * Double(side) * Double(side))
      }
      plan.fitSeconds = try Self.fitSeconds(options: options, rows: layers.map { layer in
        options.pool ? layer.rf * Swift.min(layer.n, layer.m) : Swift.min(layer.n, layer.m)
      })
    }
    return plan
  }

  /// The time of the optional fits over rows of `rows` eigenvalues each: one of each fit the
  /// options ask for timed on a synthetic spectrum (Pareto tail over a uniform bulk) of up to
  /// 1024 eigenvalues, scaled by (eigenvalues / 1024)² per row (their KS searches are
  /// quadratic at worst) and divided by the cores (resamples and candidates run in parallel).
  static func fitSeconds(options: ESDOptions, rows: [Int]) throws -> Double {
    let extra = options.fit != .powerLaw || options.alphaResamples > 0 || options.powerLawTestSamples > 0
    guard extra, let largest = rows.max(), largest >= 8 else { return 0 }
    let size = Swift.min(largest, 1024)
    var rng = SplitMix64(seed: 3)
    let spectrum = (0..<size).map { i in
      i % 4 == 0 ? Swift.min(pow(Swift.max(rng.nextUniform(), 1e-9), -1 / 1.5), 1e4) : 0.5 + rng.nextUniform()
    }
    let probes = 4
    var perRow = 0.0
    let start = ContinuousClock.now
    let fit = try PowerLawFit(eigenvalues: spectrum)
    if options.fit != .powerLaw { _ = try? TruncatedPowerLawFit(eigenvalues: spectrum) }
    perRow += secondsSince(start)
    if options.alphaResamples > 0 {
      let t = ContinuousClock.now
      _ = try? AlphaConfidenceInterval(eigenvalues: spectrum, fit: fit, resamples: probes, confidence: 0.9, seed: 1)
      perRow += secondsSince(t) / Double(probes) * Double(options.alphaResamples)
    }
    if options.powerLawTestSamples > 0 {
      let t = ContinuousClock.now
      _ = try? PowerLawGoodnessOfFit(eigenvalues: spectrum, fit: fit, samples: probes, seed: 1)
      perRow += secondsSince(t) / Double(probes) * Double(options.powerLawTestSamples)
    }
    let scale = rows.reduce(0.0) { total, count in
      let ratio = Double(count) / Double(size)
      return total + ratio * ratio
    }
    return perRow * scale / Double(Swift.max(1, Machine.cores))
  }

  /// The references' smaller side: the largest layer's M rounded down to a power of two, within
  /// 256...2048, so big models are timed near their own size (LAPACK's rate grows with it)
  /// and small ones quickly.
  static func referenceSide(largest: Int) -> Int {
    var m = 256
    while m < 2048 && 2 * m <= largest { m *= 2 }
    return m
  }

  /// The fastest of `rounds` timed eigenvalue computations of a Gaussian rows × columns
  /// matrix, after one untimed warm-up when `rounds` > 1; with `workers` > 1 that many run at
  /// once, as the analysis runs its large layers, so the time includes their contention for
  /// memory bandwidth and cache.
  static func fastestDecomposition(rows: Int, columns: Int, rounds: Int = 2, solver: EigenvalueSolver,
                                   alongside workers: Int = 1) throws -> Double {
    var rng = SplitMix64(seed: 1)
    let reference = Matrix<Double>.gaussian(rows: rows, columns: columns, using: &rng)
    let failure = Mutex<(any Error)?>(nil)
    var best = Double.infinity
    let warmUp = rounds > 1 ? 1 : 0
    for round in 0..<(rounds + warmUp) {
      let start = ContinuousClock.now
      DispatchQueue.concurrentPerform(iterations: Swift.max(1, workers)) { _ in
        do {
          _ = try reference.elements.withUnsafeBufferPointer {
            try solver.eigenvalues(of: $0, rows: rows, columns: columns)
          }
        } catch { failure.withLock { $0 = error } }
      }
      if let error = failure.withLock({ $0 }) { throw error }
      if round >= warmUp { best = Swift.min(best, secondsSince(start)) }
    }
    return best
  }
}
