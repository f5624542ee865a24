import CompareCore

/// R² of the least-squares fit of Ỹ from X̃ (Kornblith et al. 2019, "linear regression"):
/// how much of Y's variance a linear map of X explains. Rows predict columns.
///
///     linreg = ‖Q_XᵀỸ‖²_F / ‖Ỹ‖²_F
///
/// Q_X the rank-revealing basis of `CCASimilarity`. With `ridge` λ > 0 the fit is
/// (X̃ᵀX̃ + λI)⁻¹X̃ᵀỸ, and with sᵢ = σᵢ²/(σᵢ² + λ) and cᵢ = ‖uᵢᵀỸ‖²,
/// R² = Σᵢ (1 − (1 − sᵢ)²) cᵢ / ‖Ỹ‖²_F. Both from Σ_Y and M = U_XᵀU_Y. Invariant to any invertible
/// linear map of X (λ = 0) and to orthogonal maps and scaling of Y; not symmetric. A similarity in
/// [0, 1]; trivially 1 when X has at least as many features as examples.
///
/// - Complexity: O(r_X·m_Y) per pair.
public struct LinearRegressionSimilarity: SimilarityMeasure {
  /// Relative singular-value cut for X's rank.
  public var tolerance: Double
  /// Ridge penalty λ ≥ 0 on the coefficients (0: ordinary least squares).
  public var ridge: Double

  public init(tolerance: Double = MeasureSettings.defaultTolerance, ridge: Double = 0) {
    self.tolerance = tolerance
    self.ridge = ridge
  }

  public var name: String { "linreg" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [("tolerance", tolerance), ("ridge", ridge)] }
  public var fitsLinearMaps: Bool { true }

  /// A layer that is not constant has rank ≥ 1 at any tolerance in [0, 1]: kept for a caller's
  /// tolerance above 1.
  public func whyUndefined(_ pair: LayerPair) -> String? {
    "linreg: no singular direction of the predicting layer at or above \(Format.general(tolerance)) × the largest singular value"
  }

  public func value(_ pair: LayerPair) throws -> Double? {
    let r = pair.x.rank(tolerance: tolerance)
    guard r > 0, !pair.y.isConstant else { return nil }
    var explained = 0.0
    for i in 0..<r {
      var c = 0.0
      for (j, s) in pair.y.singularValues.enumerated() { let v = pair.cross[i, j] * s; c += v * v }
      let sigma2 = pair.x.singularValues[i] * pair.x.singularValues[i]
      let shrink = ridge > 0 ? ridge / (sigma2 + ridge) : 0
      explained += (1 - shrink * shrink) * c
    }
    return explained / pair.y.totalVariance
  }
}
