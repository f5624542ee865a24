import CompareCore

/// Singular vector CCA (Raghu et al. 2017): CCA between the leading singular directions.
///
///     X' = X̃ V_X[:, 1…k_X],  k_X the fewest directions with Σᵢ σᵢ² ≥ variance · ‖X̃‖²_F
///     svcca = (1/k) Σ ρᵢ(X', Y'),  k = min(k_X, k_Y)
///
/// Dropping the low-variance directions is what keeps CCA from fitting noise. Invariant to
/// orthogonal maps, isotropic scaling and permutation; not to a general invertible linear map
/// (it changes which directions carry 99% of the variance). Symmetric. A similarity in [0, 1].
/// google/svcca's notebooks keep a fixed number of directions; we keep a variance fraction, as
/// the paper describes.
///
/// - Complexity: O(k_X·k_Y·min(k_X, k_Y)) per pair.
public struct SVCCASimilarity: SimilarityMeasure {
  /// Fraction of each side's variance the kept directions explain.
  public var variance: Double

  public init(variance: Double = MeasureSettings.defaultSVCCAVariance) { self.variance = variance }

  public var name: String { "svcca" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [("variance", variance)] }
  public var fitsLinearMaps: Bool { true }

  public func value(_ pair: LayerPair) throws -> Double? {
    let rho = try pair.canonicalCorrelations(rx: pair.x.directions(explaining: variance),
                                             ry: pair.y.directions(explaining: variance))
    guard !rho.isEmpty else { return nil }
    return rho.reduce(0, +) / Double(rho.count)
  }
}
