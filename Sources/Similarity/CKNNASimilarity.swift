import CompareCore

/// Centered kernel nearest-neighbour alignment (Huh et al. 2024), as `cknna(..., topk=k,
/// unbiased=True)` in minyoungg/platonic-rep's `metrics.py`, on L2-normalised rows: CKA with the
/// unbiased HSIC restricted to the pairs that are mutual k-nearest neighbours.
///
///     K = X̂X̂ᵀ, L = ŶŶᵀ,  M[i, j] = 1 if j ∈ N_X(i) ∩ N_Y(i)
///     s(K, L) = HSIC_unbiased(M∘K, M∘L)   (Song et al. 2012, eq. 5; M need not be symmetric)
///     cknna = s(K, L) / (√(s_X(K, K) · s_Y(L, L)) + 10⁻⁶),  s_X with M = N_X's mask
///
/// The 10⁻⁶ is the reference's. Every sum runs over the sparse masks only: O(n·k log k) per pair
/// from the `NeighbourLists`, no n×n matrix. Invariant to orthogonal maps, scaling and permutation
/// of features; not to a general invertible linear map nor to translation. Nearly but not exactly
/// symmetric: M∘K is not a symmetric matrix, and the reference's HSIC reads the two in order.
/// A similarity; a layer against itself gives s/(s + 10⁻⁶), just below 1.
public struct CKNNASimilarity: SimilarityMeasure {
  /// Neighbours per example, at least 2.
  public var k: Int

  public init(k: Int = MeasureSettings.defaultNeighbours) { self.k = k }

  public var name: String { "cknna" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [("k", Double(k))] }
  public var needs: LayerNeeds { .neighbours }

  /// The unbiased HSIC divides by n − 3, and each example needs k others as neighbours.
  public func tooFewExamples(_ examples: Int) -> String? {
    let least = Swift.max(4, k + 1)
    return examples >= least ? nil : "cknna with k = \(k) needs at least \(least) examples, got \(examples)"
  }

  public func value(_ pair: LayerPair) throws -> Double? {
    guard k >= 2 else { throw InputError("cknna needs k ≥ 2, got \(k)") }
    if let problem = tooFewExamples(pair.a.examples) { throw InputError(problem) }
    guard !pair.a.isConstant, !pair.b.isConstant,
          let x = pair.a.neighbours, let y = pair.b.neighbours else { return nil }
    let kl = Self.hsic(x, y, examples: pair.a.examples)
    let kk = Self.hsic(x, x, examples: pair.a.examples), ll = Self.hsic(y, y, examples: pair.a.examples)
    guard kk * ll >= 0 else { return nil }
    return kl / ((kk * ll).squareRoot() + 1e-6)
  }

  /// HSIC_unbiased(M∘K, M∘L) with M the intersection of the two neighbour masks.
  static func hsic(_ x: NeighbourLists, _ y: NeighbourLists, examples m: Int) -> Double {
    var sumK = 0.0, sumL = 0.0, trace = 0.0
    var columnSumsK = [Double](repeating: 0, count: m), rowSumsL = [Double](repeating: 0, count: m)
    for i in 0..<m {
      var p = i * x.k, q = i * y.k
      while p < (i + 1) * x.k, q < (i + 1) * y.k {
        let j = x.indices[p]
        if j == y.indices[q] {
          let kv = x.similarities[p], lv = y.similarities[q]
          sumK += kv
          sumL += lv
          columnSumsK[j] += kv
          rowSumsL[i] += lv
          // (M∘L)[j, i] is nonzero only when i is a shared neighbour of j.
          if x.slot(of: i, inRow: j) != nil, let s = y.slot(of: i, inRow: j) {
            trace += kv * y.similarities[s]
          }
          p += 1
          q += 1
        } else if j < y.indices[q] { p += 1 } else { q += 1 }
      }
    }
    var product = 0.0
    for k in 0..<m { product += columnSumsK[k] * rowSumsL[k] }
    let n = Double(m)
    return (trace + sumK * sumL / ((n - 1) * (n - 2)) - 2 * product / (n - 2)) / (n * (n - 3))
  }
}
