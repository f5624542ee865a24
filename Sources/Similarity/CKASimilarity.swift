import CompareCore

/// Linear CKA (Kornblith et al. 2019), from the layers' singular value decompositions.
///
///     cka(X, Y) = ‖X̃ᵀỸ‖²_F / (‖X̃ᵀX̃‖_F · ‖ỸᵀỸ‖_F)
///               = ‖Σ_X M Σ_Y‖²_F / (‖σ_X²‖ · ‖σ_Y²‖),   M = U_XᵀU_Y
///
/// Invariant to orthogonal maps and isotropic scaling of either side, and to permuting features;
/// not to a general invertible linear map. Symmetric. A similarity in [0, 1], 1 for X̃ = c·ỸQ.
/// The same value as the `CKA` module's biased `LinearCKA` on all examples.
///
/// - Complexity: O(m_X·m_Y) per pair once `LayerPair` is made.
public struct CKASimilarity: SimilarityMeasure {
  public init() {}
  public var name: String { "cka" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [] }

  public func value(_ pair: LayerPair) throws -> Double? {
    guard !pair.x.isConstant, !pair.y.isConstant else { return nil }
    let cross = pair.scaledCrossNormSquared()
    let fourth = { (s: [Double]) in s.reduce(0) { $0 + $1 * $1 * $1 * $1 }.squareRoot() }
    return cross / (fourth(pair.x.singularValues) * fourth(pair.y.singularValues))
  }
}
