import CompareCore

/// HSIC estimators on given kernel matrices, straight from their formulas: the reference that
/// the fast paths of `MinibatchCKA`, `LinearCKA` and `KernelCKA` are tested against, and a
/// building block for kernels Compare does not provide.
public enum HSIC {
  /// The unbiased HSIC₁ of Song et al. (2012), as written in Nguyen, Raghu & Kornblith
  /// (2021), eq. 3:
  ///
  ///     HSIC₁(K, L) = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3))
  ///
  /// with K̃, L̃ the matrices with their diagonals set to zero.
  ///
  /// - Parameters: k, l: Symmetric n×n kernel matrices of the same examples.
  /// - Throws: `InputError` when the shapes differ or n < 4.
  /// - Complexity: O(n²).
  public static func unbiased(_ k: Matrix<Double>, _ l: Matrix<Double>) throws -> Double {
    let n = try checkedSize(k, l, minimum: 4)
    var trace = 0.0, sumK = 0.0, sumL = 0.0, rowProducts = 0.0
    for i in 0..<n {
      var rowK = 0.0, rowL = 0.0
      for j in 0..<n where j != i {
        trace += k[i, j] * l[j, i]
        rowK += k[i, j]
        rowL += l[j, i]
      }
      sumK += rowK
      sumL += rowL
      rowProducts += rowK * rowL
    }
    let nd = Double(n)
    let value = trace + sumK * sumL / ((nd - 1) * (nd - 2)) - 2 / (nd - 2) * rowProducts
    return value / (nd * (nd - 3))
  }

  /// The biased HSIC of Gretton et al. (2005): tr(K·H·L·H)/(n−1)², H = I − 11ᵀ/n.
  ///
  /// - Throws: `InputError` when the shapes differ or n < 2.
  /// - Complexity: O(n²).
  public static func biased(_ k: Matrix<Double>, _ l: Matrix<Double>) throws -> Double {
    let n = try checkedSize(k, l, minimum: 2)
    var kc = k.elements, lc = l.elements
    kc.withUnsafeMutableBufferPointer { GramKernel.centre($0.baseAddress!, size: n) }
    lc.withUnsafeMutableBufferPointer { GramKernel.centre($0.baseAddress!, size: n) }
    var sum = 0.0
    for e in 0..<(n * n) { sum += kc[e] * lc[e] }
    return sum / (Double(n - 1) * Double(n - 1))
  }

  static func checkedSize(_ k: Matrix<Double>, _ l: Matrix<Double>, minimum: Int) throws -> Int {
    guard k.rows == k.columns, l.rows == l.columns, k.rows == l.rows else {
      throw InputError("HSIC needs two square kernel matrices of the same size, got \(k.shapeDescription) and \(l.shapeDescription)")
    }
    guard k.rows >= minimum else {
      throw InputError("HSIC of \(k.rows) examples: at least \(minimum) are needed")
    }
    return k.rows
  }
}
