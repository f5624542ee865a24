import CompareCore
import SpectralMetrics
import TensorIO

/// What `compare esd --plan` prints: the eigenvalue work, bytes read and memory of an analysis,
/// and its time estimated from one decomposition timed now with the same solver, without
/// analysing the model.
///
/// Work is counted as Σ rf·N·M² over the layers, once for W and once per random draw (5 draws
/// when M·rf < 100, as the reference pools them); the estimate scales the time of a 512 × 2048
/// reference decomposition by each layer's share, which is pessimistic for very large layers
/// (LAPACK runs faster on them) and optimistic for tiny ones.
public struct ESDPlan: Sendable {
  /// Layers analysed.
  public var layers: Int
  /// Σ rf·N·M² over layers and draws.
  public var work: Double
  /// Bytes of weights read (as stored).
  public var bytesRead: Int
  /// The largest layer's elements: memory peaks at a few float64 copies of it.
  public var largestLayer: Int
  /// Seconds per unit of work, measured now.
  public var secondsPerUnit: Double
  /// BLAS threads the estimate assumes (this process's).
  public var threads: Int

  /// A few float64 copies of the largest layer (elements, slices, the shuffled copy, the Gram).
  public var memoryBytes: Int { 4 * 8 * largestLayer }
  /// The estimated time.
  public var estimatedSeconds: Double { work * secondsPerUnit }

  /// `compare esd --plan --json`.
  public func json() -> JSONValue {
    .object([
      ("layers", .int(layers)), ("work", .double(work)), ("bytes_read", .int(bytesRead)),
      ("memory_bytes", .int(memoryBytes)), ("largest_layer_elements", .int(largestLayer)),
      ("seconds_per_unit", .double(secondsPerUnit)), ("threads", .int(threads)),
      ("estimated_seconds", .double(estimatedSeconds)),
    ])
  }

  /// The plan as text.
  public var text: String {
    "Plan: compare esd, \(layers) layer\(layers == 1 ? "" : "s")\n"
      + "  work:    \(Format.general(work, 3)) units of rf·N·M² (W and its random draws)\n"
      + "  reads:   \(TensorListing.byteText(bytesRead)) of weights, one layer at a time\n"
      + "  memory:  about \(TensorListing.byteText(memoryBytes)) at the largest layer (\(largestLayer) elements, a few float64 copies)\n"
      + "  time:    about \(KernelRunPlan.duration(estimatedSeconds)) (a 512 × 2048 decomposition timed now, \(threads) BLAS thread\(threads == 1 ? "" : "s"))\n"
  }
}

extension ModelWeights {
  /// The plan of an analysis long enough to announce (estimated over `seconds`), or `nil`.
  /// Under 3·10¹¹ units of work (about half a minute here) nothing is measured.
  public func esdLongRunPlan(options: ESDOptions = ESDOptions(), layers patterns: [String] = [],
                             excluding excluded: [String] = [], initial: ModelWeights? = nil,
                             shard: ESDShard? = nil, over seconds: Double = 60) -> ESDPlan? {
    guard let cheap = try? esdPlan(options: options, layers: patterns, excluding: excluded, initial: initial,
                                   shard: shard, measure: false), cheap.work > 3e11,
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
    if let shard { layers = shard.select(layers) }
    let work = layers.reduce(0.0) { total, layer in
      let rowRf = options.pool ? layer.rf : 1
      let draws = options.randomize ? Swift.max(options.randRepeats, layer.m * rowRf < 100 ? 5 : 1) : 0
      return total + ESDShard.cost(of: layer) * Double(1 + draws)
    }
    let stored = Dictionary(zip(keys, tensors).map { (ModelWeights.layerName($0.0), $0.1.byteCount) },
                            uniquingKeysWith: { a, _ in a })
    let bytes = layers.reduce(0) { $0 + (stored[$1.name] ?? $1.count * 4) }
    var seconds = 0.0
    if measure {
      var rng = SplitMix64(seed: 1)
      let reference = Matrix<Double>.gaussian(rows: 512, columns: 2048, using: &rng)
      let start = ContinuousClock.now
      _ = try reference.elements.withUnsafeBufferPointer {
        try options.solver.eigenvalues(of: $0, rows: 512, columns: 2048)
      }
      seconds = secondsSince(start)
    }
    return ESDPlan(layers: layers.count, work: work, bytesRead: bytes,
                   largestLayer: layers.map(\.count).max() ?? 0,
                   secondsPerUnit: seconds / (2048 * 512 * 512), threads: BLASThreads.count)
  }
}
