import CompareCore

/// Bias-corrected squared distance correlation (Székely & Rizzo 2014), as the `dcor` package's
/// `u_distance_correlation_sqr`: dependence of any kind, not only linear, between the examples'
/// positions in the two representations.
///
///     dcor = ⟨Ã, B̃⟩ / √(⟨Ã, Ã⟩ ⟨B̃, B̃⟩),   Ã, B̃ the U-centred distance matrices
///
/// (the U-statistics' 1/(n(n−3)) cancels; Ã and B̃ are symmetric with zero diagonals, so the
/// products run over their upper triangles and count twice). Invariant to orthogonal maps, isotropic scaling,
/// translation and permutation of features; not to a general invertible linear map. Symmetric.
/// A similarity, 1 for equal shapes; can fall slightly below 0.
///
/// - Complexity: O(n²·p) per layer (`UCentredDistances`), O(n²) per pair (one `dot`); memory
///   n(n+1)/2 doubles per layer, checked against the budget.
public struct DistanceCorrelationSimilarity: SimilarityMeasure {
  public init() {}
  public var name: String { "dcor" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [] }
  public var needs: LayerNeeds { .distances }

  /// The U-statistics divide by n − 3.
  public func tooFewExamples(_ examples: Int) -> String? {
    examples >= 4 ? nil : "dcor needs at least 4 examples, got \(examples)"
  }

  public func value(_ pair: LayerPair) throws -> Double? {
    guard !pair.a.isConstant, !pair.b.isConstant,
          let x = pair.a.distances, let y = pair.b.distances else { return nil }
    if let problem = tooFewExamples(pair.a.examples) { throw InputError(problem) }
    // Both triangles are packed alike with zeros on the diagonal: one dot over the arrays.
    let dot = try 2 * x.withPackedTriangle { px in
      try y.withPackedTriangle { py in
        Double.dot(n: try blasDimension(px.count, "distance entries"), x: px.baseAddress!, incx: 1,
                   y: py.baseAddress!, incy: 1)
      }
    }
    let scale = (x.selfProduct * y.selfProduct).squareRoot()
    guard scale > 0 else { return nil }
    return dot / scale
  }
}
