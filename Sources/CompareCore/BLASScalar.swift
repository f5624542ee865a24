/// A floating-point type with BLAS and LAPACK routines: `Float` (the `s` routines) and
/// `Double` (the `d` routines).
///
/// The routine names (`gemm`, `syrk`, `gesdd`, `syevd`, `potrf`, …) live only here; the rest of Compare
/// calls the generic wrappers on `Matrix` and in `LinearAlgebra`. All matrix arguments are
/// row-major unless a routine says otherwise, dimensions are LP64 `Int32`, and LAPACK routines
/// return their `info` for the caller to turn into a `LinearAlgebraError`.
public protocol BLASScalar: BinaryFloatingPoint, Sendable
where Self.RawSignificand: FixedWidthInteger {
  /// C ← alpha·op(A)·op(B) + beta·C, row-major. The routine is `cblas_?gemm`.
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int32, n: Int32, k: Int32, alpha: Self,
    a: UnsafePointer<Self>, lda: Int32, b: UnsafePointer<Self>, ldb: Int32, beta: Self,
    c: UnsafeMutablePointer<Self>, ldc: Int32)

  /// Upper triangle of C ← alpha·op(A)·op(A)ᵀ + beta·C, row-major, C n×n.
  /// With `transpose` false, A is n×k and the product is A·Aᵀ; with true, A is k×n and it is
  /// Aᵀ·A. The routine is `cblas_?syrk`.
  static func syrk(
    transpose: Bool, n: Int32, k: Int32, alpha: Self, a: UnsafePointer<Self>, lda: Int32,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int32)

  /// Upper triangle of C ← alpha·A·Aᵀ + beta·C, A n×k row-major, with C in LAPACK's rectangular
  /// full packed format (TRANSR 'N', UPLO 'U'; `RectangularFullPacked` maps its entries):
  /// n(n+1)/2 elements instead of a syrk's n×n. The routine is `?sfrk` (two `syrk` and one `gemm`
  /// on the halves).
  static func sfrk(
    n: Int32, k: Int32, alpha: Self, a: UnsafePointer<Self>, lda: Int32, beta: Self,
    c: UnsafeMutablePointer<Self>)

  /// y ← alpha·op(A)·x + beta·y, row-major A m×n. The routine is `cblas_?gemv`.
  static func gemv(
    transpose: Bool, m: Int32, n: Int32, alpha: Self, a: UnsafePointer<Self>, lda: Int32,
    x: UnsafePointer<Self>, incx: Int32, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int32)

  /// xᵀy. The routine is `cblas_?dot`.
  static func dot(
    n: Int32, x: UnsafePointer<Self>, incx: Int32, y: UnsafePointer<Self>, incy: Int32) -> Self

  /// y ← alpha·x + y. The routine is `cblas_?axpy`.
  static func axpy(
    n: Int32, alpha: Self, x: UnsafePointer<Self>, incx: Int32,
    y: UnsafeMutablePointer<Self>, incy: Int32)

  /// x ← alpha·x. The routine is `cblas_?scal`.
  static func scal(n: Int32, alpha: Self, x: UnsafeMutablePointer<Self>, incx: Int32)

  /// Singular values of a column-major rows×columns matrix, descending; `a` is destroyed.
  /// The routine is `LAPACKE_?gesdd` with jobz 'N'.
  static func gesdd(
    _ a: UnsafeMutablePointer<Self>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Self>) -> Int32

  /// Thin singular value decomposition of a column-major rows×columns matrix A = U Σ Vᵀ,
  /// k = min(rows, columns): `values` (k, descending), `left` U (column-major rows×k) and
  /// `rightTransposed` Vᵀ (column-major k×columns); `a` is destroyed. The routine is
  /// `LAPACKE_?gesdd` with jobz 'S'.
  static func gesdd(
    _ a: UnsafeMutablePointer<Self>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Self>, left: UnsafeMutablePointer<Self>,
    rightTransposed: UnsafeMutablePointer<Self>) -> Int32

  /// The same SVD with the caller's LAPACK workspace: `work` of `lwork` elements and `iwork` of
  /// 8·min(rows, columns); with `lwork` −1 it only writes the optimal size to `work[0]`. With
  /// `left` and `rightTransposed` the thin vectors (jobz 'S'), without them values only (jobz
  /// 'N'). The routine is `LAPACKE_?gesdd_work`, which allocates nothing of its own.
  static func gesdd(
    _ a: UnsafeMutablePointer<Self>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Self>, left: UnsafeMutablePointer<Self>?,
    rightTransposed: UnsafeMutablePointer<Self>?, work: UnsafeMutablePointer<Self>, lwork: Int32,
    iwork: UnsafeMutablePointer<Int32>) -> Int32

  /// Eigenvalues of a symmetric n×n matrix (upper triangle of the row-major buffer read),
  /// ascending; `a` is destroyed. The routine is `LAPACKE_?syevd` with jobz 'N', or with
  /// `twoStage` `LAPACKE_?syevd_2stage`: LAPACK's two-stage reduction (full → band by blocked
  /// level-3 updates, band → tridiagonal by bulge chasing; Haidar, Ltaief & Dongarra 2011)
  /// instead of `?sytrd`'s memory-bound matrix–vector half (jobz 'N' is the only one LAPACK
  /// supports there).
  static func syevd(
    _ a: UnsafeMutablePointer<Self>, size: Int32, values: UnsafeMutablePointer<Self>, twoStage: Bool) -> Int32

  /// Cholesky factorisation of a symmetric positive-definite n×n matrix (upper triangle of the
  /// row-major buffer read and overwritten); a positive `info` says the leading minor of that
  /// order is not positive definite. The routine is `LAPACKE_?potrf`.
  static func potrf(_ a: UnsafeMutablePointer<Self>, size: Int32) -> Int32

  /// QR factorisation of a column-major rows×columns matrix (rows ≥ columns): R in the upper
  /// triangle, the Householder reflectors below it and in `tau`. The routine is `LAPACKE_?geqrf`.
  static func geqrf(_ a: UnsafeMutablePointer<Self>, rows: Int32, columns: Int32,
                    tau: UnsafeMutablePointer<Self>) -> Int32

  /// The first `columns` columns of Q from `geqrf`'s reflectors, in place. The routine is
  /// `LAPACKE_?orgqr`.
  static func orgqr(_ a: UnsafeMutablePointer<Self>, rows: Int32, columns: Int32,
                    tau: UnsafeMutablePointer<Self>) -> Int32
}

extension BLASScalar {
  /// QR factorisation of a column-major rows×columns matrix, Q formed in place (first
  /// `columns` columns): `geqrf` then `orgqr`.
  public static func orthonormalize(
    _ a: UnsafeMutablePointer<Self>, rows: Int32, columns: Int32,
    tau: UnsafeMutablePointer<Self>) -> (routine: String, info: Int32) {
    let info = geqrf(a, rows: rows, columns: columns, tau: tau)
    guard info == 0 else { return ("geqrf", info) }
    return ("orgqr", orgqr(a, rows: rows, columns: columns, tau: tau))
  }
  /// `syevd` by the one-stage reduction (`LAPACKE_?syevd`).
  public static func syevd(_ a: UnsafeMutablePointer<Self>, size: Int32,
                            values: UnsafeMutablePointer<Self>) -> Int32 {
    syevd(a, size: size, values: values, twoStage: false)
  }
}
