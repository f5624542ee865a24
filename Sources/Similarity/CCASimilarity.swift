import CompareCore

/// Mean canonical correlation, or Yanai's R²_CCA, between the centred column spaces.
///
///     ρ = singular values of Q_XᵀQ_Y,   cca = (1/k) Σ ρᵢ,   cca_r2 = (1/k) Σ ρᵢ²
///
/// Q_X holds the left singular vectors of X̃ whose singular values exceed `tolerance` × the
/// largest (a rank-revealing basis), k = min(rank X̃, rank Ỹ). Invariant to any invertible
/// linear map of either side (hence to orthogonal maps, scaling and permutation); not to a
/// nonlinear one. Symmetric. A similarity in [0, 1]. With as many features as examples the
/// centred column space is everything and the value is trivially 1 (the known pitfall): see
/// `SVCCASimilarity`. Source: Hotelling 1936; R²_CCA from Yanai 1974, as in Kornblith 2019.
///
/// - Complexity: O(r_X·r_Y·min(r_X, r_Y)) per pair (one values-only SVD).
public struct CCASimilarity: SimilarityMeasure {
  /// Relative singular-value cut for the ranks.
  public var tolerance: Double
  /// Report the mean of ρᵢ² (`cca_r2`) rather than of ρᵢ (`cca`).
  public var squared: Bool

  public init(tolerance: Double = MeasureSettings.defaultTolerance, squared: Bool = false) {
    self.tolerance = tolerance
    self.squared = squared
  }

  public var name: String { squared ? "cca_r2" : "cca" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [("tolerance", tolerance)] }
  public var fitsLinearMaps: Bool { true }

  /// A layer that is not constant has rank ≥ 1 at any tolerance in [0, 1]: kept for a caller's
  /// tolerance above 1.
  public func whyUndefined(_ pair: LayerPair) -> String? {
    "\(name): no singular direction at or above \(Format.general(tolerance)) × the largest singular value"
  }

  public func value(_ pair: LayerPair) throws -> Double? {
    let rho = try pair.canonicalCorrelations(rx: pair.x.rank(tolerance: tolerance),
                                             ry: pair.y.rank(tolerance: tolerance))
    guard !rho.isEmpty else { return nil }
    return rho.reduce(0) { $0 + (squared ? $1 * $1 : $1) } / Double(rho.count)
  }
}
