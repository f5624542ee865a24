import CompareCore

/// Which uncertainty statistics a minibatch CKA estimate comes with, besides the jackknife
/// standard errors it always has (for 2 or more batches). Defaults declared once, here.
public struct CKAStatistics: Sendable, Equatable {
  /// Bootstrap resamples of the batches for the confidence intervals (0: no intervals).
  public var bootstrap: Int
  /// Coverage of the intervals, in (0, 1).
  public var confidence: Double
  /// Within-batch shuffles of B's examples for the permutation p-values (0: none).
  public var permutations: Int
  /// Seed of the resamples and the shuffles (`SplitMix64`).
  public var seed: UInt64
  /// Whether significance is judged on Benjamini–Hochberg adjusted p-values across the grid.
  public var fdr: Bool

  /// Resamples when intervals are asked for without a number.
  public static let defaultBootstrap = 1000
  /// Coverage of the intervals unless told otherwise.
  public static let defaultConfidence = 0.95
  /// Seed unless told otherwise.
  public static let defaultSeed: UInt64 = 0
  /// The level below which a p-value (or its adjusted value) is significant.
  public static let significanceLevel = 0.05

  /// The statistics to compute; the defaults compute neither intervals nor p-values.
  public init(bootstrap: Int = 0, confidence: Double = CKAStatistics.defaultConfidence,
              permutations: Int = 0, seed: UInt64 = CKAStatistics.defaultSeed, fdr: Bool = false) {
    self.bootstrap = bootstrap
    self.confidence = confidence
    self.permutations = permutations
    self.seed = seed
    self.fdr = fdr
  }

  /// The seed of the shuffles: the bootstrap draws from `seed`, the shuffles from the next
  /// value, so that asking for one does not change the other.
  public var permutationSeed: UInt64 { seed &+ 1 }

  /// - Throws: `InputError` for a negative count or a confidence outside (0, 1).
  public func validated() throws -> CKAStatistics {
    guard bootstrap >= 0 else { throw InputError("the number of bootstrap resamples must be ≥ 0, got \(bootstrap)") }
    guard permutations >= 0 else { throw InputError("the number of permutations must be ≥ 0, got \(permutations)") }
    guard confidence > 0, confidence < 1 else { throw InputError("the confidence must be in (0, 1), got \(confidence)") }
    return self
  }
}
