import CompareCore

/// Singular values and vectors of a small dense matrix by one-sided (Hestenes) Jacobi rotations.
///
/// The `BLASScalar` layer wraps LAPACK's singular values but not its singular vectors, and the
/// similarity measures need vectors only of matrices with at most min(examples, features) columns
/// (after a QR) or of the small cross products between two layers' bases. One-sided Jacobi is
/// accurate to rounding in every singular value, including the small ones a rank cut looks at
/// (Demmel & Veselić 1992). Column norms and inner products go through BLAS `dot`.
///
/// - Complexity: O(m·c²) per sweep for an m×c matrix; typically 6–10 sweeps.
package struct JacobiSVD {
  /// Singular values, descending.
  package var values: [Double]
  /// Left singular vectors, column-major `rows × values.count` (a zero column for a zero value).
  package var left: [Double]
  /// Right singular vectors, column-major `columns × columns`, in the order of `values`.
  package var right: [Double]

  /// Decomposes the column-major `rows × columns` matrix `a`.
  package init(columnMajor a: [Double], rows m: Int, columns c: Int) {
    var a = a
    var v = [Double](repeating: 0, count: c * c)
    for i in 0..<c { v[i * c + i] = 1 }
    a.withUnsafeMutableBufferPointer { pa in
      v.withUnsafeMutableBufferPointer { pv in
        JacobiSVD.rotate(pa.baseAddress!, rows: m, columns: c, v: pv.baseAddress!)
      }
    }
    var norms = (0..<c).map { j in
      a.withUnsafeBufferPointer { p in
        m == 0 ? 0 : Double.dot(n: Int32(m), x: p.baseAddress! + j * m, incx: 1,
                                y: p.baseAddress! + j * m, incy: 1).squareRoot()
      }
    }
    let order = (0..<c).sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
    var left = [Double](repeating: 0, count: m * c), right = [Double](repeating: 0, count: c * c)
    for (k, j) in order.enumerated() {
      let s = norms[j]
      if s > 0 { for i in 0..<m { left[k * m + i] = a[j * m + i] / s } }
      for i in 0..<c { right[k * c + i] = v[j * c + i] }
    }
    norms = order.map { norms[$0] }
    self.values = norms
    self.left = left
    self.right = right
  }

  /// Sweeps of plane rotations until every pair of columns is orthogonal to rounding.
  static func rotate(_ a: UnsafeMutablePointer<Double>, rows m: Int, columns c: Int,
                     v: UnsafeMutablePointer<Double>) {
    guard m > 0, c > 1 else { return }
    let n = Int32(m)
    for _ in 0..<80 {
      var rotated = false
      for p in 0..<(c - 1) {
        let ap = a + p * m
        for q in (p + 1)..<c {
          let aq = a + q * m
          let alpha = Double.dot(n: n, x: ap, incx: 1, y: ap, incy: 1)
          let beta = Double.dot(n: n, x: aq, incx: 1, y: aq, incy: 1)
          let gamma = Double.dot(n: n, x: ap, incx: 1, y: aq, incy: 1)
          guard gamma != 0, abs(gamma) > 1e-15 * (alpha * beta).squareRoot() else { continue }
          rotated = true
          let zeta = (beta - alpha) / (2 * gamma)
          let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
          let cs = 1 / (1 + t * t).squareRoot(), sn = cs * t
          for i in 0..<m {
            let x = ap[i], y = aq[i]
            ap[i] = cs * x - sn * y
            aq[i] = sn * x + cs * y
          }
          let vp = v + p * c, vq = v + q * c
          for i in 0..<c {
            let x = vp[i], y = vq[i]
            vp[i] = cs * x - sn * y
            vq[i] = sn * x + cs * y
          }
        }
      }
      if !rotated { break }
    }
  }
}
