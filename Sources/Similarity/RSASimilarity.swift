import CompareCore

/// Representational similarity analysis (Kriegeskorte et al. 2008) as rsatoolbox computes it:
/// correlation-distance RDMs compared by the Spearman correlation of their upper triangles.
///
///     D_X[i, j] = 1 − corr(xᵢ, xⱼ),   rsa = Spearman(D_X[i < j], D_Y[i < j])
///
/// rsatoolbox's `calc_rdm(method='correlation')` and `compare(method='spearman')` (average ranks
/// for ties). Invariant to isotropic scaling and permutation of features, to adding a constant to
/// all of an example's features, and to any monotone change of the dissimilarities; not to
/// orthogonal maps (the correlation centres each example over its features) nor to a general
/// invertible linear map. Symmetric. A similarity in [−1, 1].
///
/// - Complexity: O(n²·p) per layer and a radix sort of its n(n−1)/2 dissimilarities, linear in
///   them (`RankedDissimilarities`), O(n²) per pair; memory
///   n(n−1)/2 32-bit ranks per layer, checked against the budget before it is spent.
public struct RSASimilarity: SimilarityMeasure {
  public init() {}
  public var name: String { "rsa" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [] }
  public var needs: LayerNeeds { .dissimilarities }

  /// Fewer than 3 examples leave at most one dissimilarity: nothing to rank. Otherwise a layer
  /// whose dissimilarities are all equal has constant ranks.
  public func whyUndefined(_ pair: LayerPair) -> String? {
    let n = pair.a.examples
    if n < 3 { return "rsa needs at least 3 examples, got \(n)" }
    return "rsa: a layer's dissimilarities between examples are all equal, so their ranks do not correlate"
  }

  /// Σ cₐc_b / √(Σcₐ² Σc_b²) over the two layers' centred doubled ranks (`RankedDissimilarities`).
  public func value(_ pair: LayerPair) throws -> Double? {
    guard !pair.a.isConstant, !pair.b.isConstant,
          let x = pair.a.dissimilarities, let y = pair.b.dissimilarities, x.count > 0, x.count == y.count,
          // A constant RDM has all-zero ranks: no correlation.
          !x.isConstant, !y.isConstant
    else { return nil }
    let dot = x.withCentredRanks { a in y.withCentredRanks { b in RankedDissimilarities.dot(a, b) } }
    return min(max(dot / (x.sumOfSquares * y.sumOfSquares).squareRoot(), -1), 1)
  }
}
