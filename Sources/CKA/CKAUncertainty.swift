import CompareCore

/// How uncertain a minibatch CKA matrix is, cell by cell, from the spread of its batches. Each
/// matrix is shaped like the CKA matrix (rows: A's layers) and NaN where a cell is undefined;
/// a statistic not computed is `nil`.
///
/// - Standard error: the delete-one-batch jackknife (`BatchHSIC.jackknifeStandardErrors`),
///   for 2 or more batches.
/// - Interval: the percentile bootstrap over batches (`BatchHSIC.bootstrapIntervals`).
/// - p-value: the within-batch permutation test of B's examples,
///   `p = (1 + #{θ_π ≥ θ}) / (1 + P)` (ties within `tieTolerance`), with the permutation null's mean and standard
///   deviation (denominator P − 1); optionally Benjamini–Hochberg adjusted across the grid.
///
/// The full-batch estimators have one "batch": none of these statistics is defined for them.
public struct CKAUncertainty: Sendable {
  /// Jackknife standard errors, `nil` for fewer than 2 batches.
  public var standardError: Matrix<Double>?
  /// Coverage of the intervals, `nil` without them.
  public var confidence: Double?
  /// Bootstrap resamples behind the intervals, `nil` without them.
  public var bootstrap: Int?
  /// The intervals' lower ends, the (1 − confidence)/2 quantile of the resampled θ.
  public var intervalLow: Matrix<Double>?
  /// The intervals' upper ends, the (1 + confidence)/2 quantile.
  public var intervalHigh: Matrix<Double>?
  /// Shuffles behind the p-values (0: no permutation test).
  public var permutations: Int
  /// Permutation p-values, (1 + #{θ_π ≥ θ}) / (1 + P).
  public var pValue: Matrix<Double>?
  /// The mean of θ over the permutations: what unrelated layers score at this size.
  public var nullMean: Matrix<Double>?
  /// The standard deviation of θ over the permutations (denominator P − 1).
  public var nullStd: Matrix<Double>?
  /// Benjamini–Hochberg adjusted p-values across the grid, when asked for (`fdr`).
  public var pAdjusted: Matrix<Double>?

  /// No statistics (the full-batch estimators).
  public init() {
    permutations = 0
  }

  /// The statistics of a minibatch estimate from its batches' terms and its permutation null.
  ///
  /// - Parameters:
  ///   - similarities: The estimate θ, `a × b`.
  ///   - terms: Every batch's HSIC terms.
  ///   - null: θ under each permutation (`MinibatchCKA.permutedSimilarities()`).
  ///   - statistics: Which to compute.
  /// - Complexity: O(B·a·b·(1 + resamples) + P·a·b·log P).
  public init(similarities: Matrix<Double>, terms: BatchHSIC, null: [Matrix<Double>],
              statistics: CKAStatistics) {
    standardError = terms.jackknifeStandardErrors()
    permutations = null.count
    if statistics.bootstrap > 0,
       let (low, high) = terms.bootstrapIntervals(resamples: statistics.bootstrap,
                                                  confidence: statistics.confidence,
                                                  seed: statistics.seed) {
      confidence = statistics.confidence
      bootstrap = statistics.bootstrap
      intervalLow = low
      intervalHigh = high
    }
    if !null.isEmpty {
      let test = Self.permutationTest(similarities, null: null)
      pValue = test.p
      nullMean = test.mean
      nullStd = test.std
      if statistics.fdr { pAdjusted = Self.benjaminiHochberg(test.p) }
    }
  }

  /// The p-values significance is judged on: adjusted when `pAdjusted` is there.
  public var testedPValues: Matrix<Double>? { pAdjusted ?? pValue }

  /// Whether cell (row, column) is significant at `CKAStatistics.significanceLevel`, `nil`
  /// without a permutation test or for an undefined cell.
  public func isSignificant(_ row: Int, _ column: Int) -> Bool? {
    guard let p = testedPValues?[row, column], p.isFinite else { return nil }
    return p <= CKAStatistics.significanceLevel
  }

  /// How far below θ a permuted θ_π still counts as reaching it (in CKA units). The null is
  /// formed from float32 copies of the U-centred matrices, so a permutation that leaves θ
  /// unchanged in exact arithmetic (the identity, or a symmetry of tiny batches: 4 of the 24
  /// orders of 4 examples) lands up to ~1e-7 below θ; counting it as a tie, as exact
  /// arithmetic would, keeps the p-value from being too small.
  public static let tieTolerance = 1e-6

  /// p = (1 + #{θ_π ≥ θ − `tieTolerance`}) / (1 + P) per cell, with the null's mean and
  /// standard deviation (denominator P − 1; 0 for P = 1). NaN where θ is undefined.
  public static func permutationTest(_ similarities: Matrix<Double>, null: [Matrix<Double>])
    -> (p: Matrix<Double>, mean: Matrix<Double>, std: Matrix<Double>) {
    let count = Double(null.count)
    var p = Matrix<Double>(zeros: similarities.rows, similarities.columns)
    var mean = p, std = p
    for i in 0..<similarities.rows {
      for j in 0..<similarities.columns {
        let theta = similarities[i, j]
        let values = null.map { $0[i, j] }
        guard theta.isFinite, values.allSatisfy(\.isFinite) else {
          p[i, j] = .nan; mean[i, j] = .nan; std[i, j] = .nan
          continue
        }
        let exceed = values.filter { $0 >= theta - tieTolerance }.count
        let m = values.reduce(0, +) / count
        let squares = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        p.elements[i * p.columns + j] = Double(1 + exceed) / (1 + count)
        mean.elements[i * p.columns + j] = m
        std.elements[i * p.columns + j] = null.count > 1 ? (squares / (count - 1)).squareRoot() : 0
      }
    }
    return (p, mean, std)
  }

  /// Benjamini–Hochberg adjusted p-values over all finite cells of `p` (m of them):
  /// p̃₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎/j) for the ascending order p₍₁₎ ≤ … ≤ p₍ₘ₎. NaN stays NaN.
  public static func benjaminiHochberg(_ p: Matrix<Double>) -> Matrix<Double> {
    let order = p.elements.indices.filter { p.elements[$0].isFinite }
      .sorted { p.elements[$0] < p.elements[$1] }
    var adjusted = p
    let m = Double(order.count)
    var running = 1.0
    for (rank, index) in order.enumerated().reversed() {
      running = min(running, m / Double(rank + 1) * p.elements[index])
      adjusted.elements[index] = running
    }
    return adjusted
  }
}
