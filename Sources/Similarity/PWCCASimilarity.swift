import CompareCore

/// Projection-weighted CCA (Morcos et al. 2018): canonical correlations weighted by how much of
/// the layer's activity each canonical variate accounts for.
///
///     Z = the side with fewer features (X on a tie), centred, n × r
///     hᵢ = Z aᵢ, its canonical variates (i = 1…k, paired with ρᵢ), P = orthonormal basis of them
///     αᵢ = Σⱼ |⟨pᵢ, zⱼ⟩| over Z's columns, normalised to Σ αᵢ = 1
///     pwcca = Σ αᵢ ρᵢ
///
/// The variates are Q_Z aᵢ with aᵢ the singular vectors of Q_XᵀQ_Y: already orthonormal, so the
/// QR of google/svcca's `pwcca.py` leaves them as they are, and ⟨pᵢ, zⱼ⟩ = (aᵢᵀ U_ZᵀZ̃)ⱼ.
/// Where we differ on purpose: `pwcca.py` takes the weights from uncentred activations, and when
/// Y is the smaller side it reads X's activations for the variates; we use the centred activations
/// of the side the variates belong to. Invariant to isotropic scaling and permutation of either
/// side and to any invertible linear map of the side that is not weighted; not to a rotation of
/// the weighted side (|⟨pᵢ, zⱼ⟩| reads Z's own feature basis) nor to a nonlinear map. Symmetric
/// when the widths differ (the narrower side is weighted either way), not on a tie. A similarity
/// in [0, 1].
///
/// - Complexity: O(r³ + r·p) per pair, r the smaller rank.
public struct PWCCASimilarity: SimilarityMeasure {
  /// Relative singular-value cut for the ranks.
  public var tolerance: Double

  public init(tolerance: Double = MeasureSettings.defaultTolerance) { self.tolerance = tolerance }

  public var name: String { "pwcca" }
  public var direction: MeasureDirection { .similarity }
  public var parameters: [(String, Double)] { [("tolerance", tolerance)] }
  public var fitsLinearMaps: Bool { true }

  /// No direction kept (a tolerance above 1), or canonical variates orthogonal to all of the
  /// weighted side's features.
  public func whyUndefined(_ pair: LayerPair) -> String? {
    pair.x.rank(tolerance: tolerance) == 0 || pair.y.rank(tolerance: tolerance) == 0
      ? "pwcca: no singular direction at or above \(Format.general(tolerance)) × the largest singular value"
      : "pwcca: the canonical variates carry none of the weighted layer's activity (all weights 0)"
  }

  public func value(_ pair: LayerPair) throws -> Double? {
    let rx = pair.x.rank(tolerance: tolerance), ry = pair.y.rank(tolerance: tolerance)
    guard rx > 0, ry > 0 else { return nil }
    let onX = pair.x.features <= pair.y.features
    // The canonical weights of Z's basis: M = U Σ Vᵀ pairs X's (U) and Y's (V) directions.
    pair.loadBlock(rows: rx, columns: ry)
    let scratch = pair.scratch
    let svd = try scratch.svd.decompose(rows: rx, columns: ry)
    let r = onX ? rx : ry, k = min(rx, ry)
    let rho = svd.values.prefix(k).map { min(max($0, 0), 1) }
    let z = onX ? pair.x : pair.y, p = z.features
    // Row i of Aᵀ(UᵀZ̃)[..r], A = U (r×k) or V = (Vᵀ)ᵀ: the inner products of variate i with Z's
    // centred columns. One gemm on the leading r rows of UᵀZ̃ in place, into the pair scratch.
    WorkBuffer.resize(&scratch.inner, to: k * p)
    let a = onX ? svd.left : svd.rightTransposed
    a.elements.withUnsafeBufferPointer { pa in
      z.projections.elements.withUnsafeBufferPointer { pz in
        scratch.inner.withUnsafeMutableBufferPointer { pc in
          Double.gemm(transposeA: onX, transposeB: false, m: Int32(k), n: Int32(p), k: Int32(r), alpha: 1,
                      a: pa.baseAddress!, lda: Int32(a.columns), b: pz.baseAddress!, ldb: Int32(p), beta: 0,
                      c: pc.baseAddress!, ldc: Int32(p))
        }
      }
    }
    var weights = scratch.inner.withUnsafeBufferPointer { c in
      (0..<k).map { i in (0..<p).reduce(0) { $0 + abs(c[i * p + $1]) } }
    }
    let total = weights.reduce(0, +)
    guard total > 0 else { return nil }
    weights = weights.map { $0 / total }
    return zip(weights, rho).reduce(0) { $0 + $1.0 * $1.1 }
  }
}
