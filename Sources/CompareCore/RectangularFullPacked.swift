/// Where each entry of a symmetric n×n matrix's upper triangle lies in LAPACK's rectangular full
/// packed format (TRANSR 'N', UPLO 'U'; Gustavson, Waśniewski, Dongarra & Langou 2010): a
/// column-major (2⌊n/2⌋ + 1) × ⌈n/2⌉ array, n(n+1)/2 elements, which `BLASScalar.sfrk` fills with
/// full-size BLAS calls.
///
/// With h = ⌊n/2⌋, column c of the array holds, top to bottom,
///
///     A(0, h+c), A(1, h+c), …, A(h+c, h+c)      (column h+c of the triangle, diagonal last)
///     A(c, c), A(c, c+1), …, A(c, h−1)          (row c of the leading h×h triangle)
///
/// so both runs are contiguous and each has one index fixed (`Run`).
package struct RectangularFullPacked: Sendable, Equatable {
  /// The matrix's order, n.
  package let order: Int
  /// ⌊n/2⌋.
  let half: Int

  package init(order n: Int) {
    order = n
    half = n / 2
  }

  /// Elements of the packed array, n(n+1)/2.
  package var count: Int { order * (order + 1) / 2 }

  /// The array's leading dimension, 2⌊n/2⌋ + 1.
  var leading: Int { 2 * half + 1 }

  /// The offset of A(i, j) (either order: the matrix is symmetric).
  package func offset(_ i: Int, _ j: Int) -> Int {
    let (i, j) = i <= j ? (i, j) : (j, i)
    return j >= half ? (j - half) * leading + i : i * leading + half + 1 + j
  }

  /// A contiguous run of the array: `count` entries from `start`, entry t being A(fixed, first + t)
  /// (or its mirror A(first + t, fixed), the same value).
  package struct Run {
    package let start: Int
    package let count: Int
    package let fixed: Int
    package let first: Int
  }

  /// Calls `body` with every run, in memory order; together they cover the array once.
  package func forEachRun(_ body: (Run) throws -> Void) rethrows {
    for c in 0..<(order - half) {
      let column = c * leading, j = half + c
      try body(Run(start: column, count: j + 1, fixed: j, first: 0))
      if c < half { try body(Run(start: column + j + 1, count: half - c, fixed: c, first: c)) }
    }
  }
}
