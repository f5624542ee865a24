import CompareCore

/// The angular Procrustes shape distance (Williams et al. 2021; netrep's
/// `LinearMetric(alpha=1)` with its angular score), or its Euclidean form.
///
///     X̂ = X̃ / ‖X̃‖_F,   procrustes = arccos ‖X̂ᵀŶ‖_*,   procrustes_euclidean = √(2 − 2‖X̂ᵀŶ‖_*)
///
/// ‖·‖_* is the nuclear norm, the largest ⟨X̂, ŶQ⟩ over orthogonal (partial, for different
/// widths) Q: the distance left after the best rotation. Its singular values are those of
/// Σ_X M Σ_Y / (‖X̃‖‖Ỹ‖). Invariant to orthogonal maps, isotropic scaling and permutation; not to
/// a general invertible linear map. Symmetric, a metric; 0 for equal shapes, at most π/2 (√2).
///
/// - Complexity: O(m_X·m_Y·min(m_X, m_Y)) per pair (one values-only SVD).
public struct ProcrustesDistance: SimilarityMeasure {
  /// Report √(2 − 2‖X̂ᵀŶ‖_*) rather than the angle.
  public var euclidean: Bool

  public init(euclidean: Bool = false) { self.euclidean = euclidean }

  public var name: String { euclidean ? "procrustes_euclidean" : "procrustes" }
  public var direction: MeasureDirection { .distance }
  public var parameters: [(String, Double)] { [] }

  public func value(_ pair: LayerPair) throws -> Double? {
    guard !pair.x.isConstant, !pair.y.isConstant else { return nil }
    let scale = (pair.x.totalVariance * pair.y.totalVariance).squareRoot()
    let nuclear = min(try pair.scaledCrossSingularValues().reduce(0, +) / scale, 1)
    return euclidean ? max(2 - 2 * nuclear, 0).squareRoot() : acos(nuclear)
  }
}
