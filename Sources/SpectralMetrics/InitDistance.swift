import CompareCore

/// How far a layer moved from its initialisation: W against W0, both `rows × columns` (a conv
/// weight flattened to `out × in·kh·kw`).
///
/// - `distance_from_init` = ‖W − W0‖_F (the reference tool's `distances()` `delta_W`),
/// - `relative_distance_from_init` = ‖W − W0‖_F / ‖W0‖_F,
/// - `cosine_distance_from_init` = 1 − ⟨W, W0⟩ / (‖W‖_F ‖W0‖_F),
/// - `cka_from_init`: centred linear CKA between W and W0, rows as examples, columns as
///   features: ‖W̃ᵀW̃0‖²_F / (‖W̃ᵀW̃‖_F ‖W̃0ᵀW̃0‖_F) with column-centred W̃ (Kornblith et al.
///   2019); 1 when W is W0 up to rotation and scale. The reference tool's "cka" is uncentred
///   and not squared (‖W1ᵀW2‖_F / √(‖W1ᵀW1‖_F ‖W2W2ᵀ‖_F)); it is kept as `ww_cka_from_init`.
public struct InitDistance: Sendable, Equatable {
  public let distance: Double
  public let relativeDistance: Double
  public let cosineDistance: Double
  public let cka: Double
  public let uncentredCKA: Double

  /// - Throws: `InputError` when the shapes differ.
  /// - Complexity: O(r·c·min(r, c)), Gram matrices on the smaller side.
  public init(_ w: Matrix<Double>, from w0: Matrix<Double>) throws {
    guard w.rows == w0.rows, w.columns == w0.columns else {
      throw InputError("shapes differ: \(w.shapeDescription) and \(w0.shapeDescription) at init")
    }
    var diff = 0.0, dot = 0.0
    for i in w.elements.indices {
      let d = w.elements[i] - w0.elements[i]
      diff += d * d
      dot += w.elements[i] * w0.elements[i]
    }
    let nw = w.frobeniusNormSquared.squareRoot(), n0 = w0.frobeniusNormSquared.squareRoot()
    distance = diff.squareRoot()
    relativeDistance = distance / n0
    cosineDistance = 1 - dot / (nw * n0)
    let a = Self.centredColumns(w), b = Self.centredColumns(w0)
    cka = Self.crossNormSquared(a, b) / (Self.crossNormSquared(a, a).squareRoot() * Self.crossNormSquared(b, b).squareRoot())
    let num = Self.crossNormSquared(w, w0).squareRoot()
    let g1 = Self.crossNormSquared(w, w).squareRoot()
    // ‖W2 W2ᵀ‖_F = ‖W2ᵀ W2‖_F (same non-zero eigenvalues).
    let g2 = Self.crossNormSquared(w0, w0).squareRoot()
    var norm = (g1 * g2).squareRoot()
    if norm < 0.000001 { norm += 0.000001 }
    uncentredCKA = num / norm
  }

  static func centredColumns(_ x: Matrix<Double>) -> Matrix<Double> {
    var y = x
    guard x.rows > 0 else { return y }
    for j in 0..<x.columns {
      var mean = 0.0
      for i in 0..<x.rows { mean += x[i, j] }
      mean /= Double(x.rows)
      for i in 0..<x.rows { y[i, j] -= mean }
    }
    return y
  }

  /// ‖AᵀB‖²_F, formed on the smaller side: ⟨AᵀB, AᵀB⟩ when columns ≤ rows, else ⟨AAᵀ, BBᵀ⟩.
  static func crossNormSquared(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
    let product: [Double], other: [Double]
    if a.columns <= a.rows {
      product = a.transposedMultiplied(by: b).elements
      other = product
    } else {
      product = a.multipliedByTransposed(a).elements
      other = b.multipliedByTransposed(b).elements
    }
    var sum = 0.0
    for i in product.indices { sum += product[i] * other[i] }
    return sum
  }
}
