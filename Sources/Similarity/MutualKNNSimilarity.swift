import CompareCore

/// Mutual k-NN alignment (Huh et al. 2024), as `mutual_knn` in minyoungg/platonic-rep's
/// `metrics.py`, on L2-normalised rows: the mean fraction of each example's k nearest neighbours
/// that the two representations share.
///
///     mknn = (1/n) Σᵢ |N_X(i) ∩ N_Y(i)| / k,   N(i): the k largest ⟨x̂ᵢ, x̂ⱼ⟩, j ≠ i
///
/// Invariant to orthogonal maps, scaling (isotropic, and of each example) and permutation of
/// features; not to a general invertible linear map nor to translation (the rows are not centred,
/// as in the reference). Symmetric. A similarity in [0, 1]; about k/n for unrelated ones.
///
/// - Complexity: see `NeighbourLists`; O(n·k) per pair.
public struct MutualKNNSimilarity: SimilarityMeasure {
  /// Neighbours per example.
  public var k: Int

  public init(k: Int = MeasureSettings.defaultNeighbours) { self.k = k }

  public var name: String { "mknn" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [("k", Double(k))] }
  public var needs: LayerNeeds { .neighbours }

  /// Each example needs k others as neighbours.
  public func tooFewExamples(_ examples: Int) -> String? {
    examples > k ? nil : "mknn with k = \(k) needs at least \(k + 1) examples, got \(examples)"
  }

  public func value(_ pair: LayerPair) throws -> Double? {
    guard !pair.a.isConstant, !pair.b.isConstant,
          let x = pair.a.neighbours, let y = pair.b.neighbours else { return nil }
    let n = pair.a.examples
    var shared = 0
    for i in 0..<n {
      var p = i * x.k, q = i * y.k
      while p < (i + 1) * x.k, q < (i + 1) * y.k {
        if x.indices[p] == y.indices[q] { shared += 1; p += 1; q += 1 }
        else if x.indices[p] < y.indices[q] { p += 1 } else { q += 1 }
      }
    }
    return Double(shared) / Double(n * x.k)
  }
}
