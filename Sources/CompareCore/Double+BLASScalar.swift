import CBLAS
import CLAPACKE

extension Double: BLASScalar {
  @inlinable @inline(__always)
  static func transposeFlag(_ transpose: Bool) -> CBLAS_TRANSPOSE {
    transpose ? CblasTrans : CblasNoTrans
  }

  @inlinable
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int32, n: Int32, k: Int32, alpha: Double,
    a: UnsafePointer<Double>, lda: Int32, b: UnsafePointer<Double>, ldb: Int32, beta: Double,
    c: UnsafeMutablePointer<Double>, ldc: Int32
  ) {
    cblas_dgemm(
      CblasRowMajor, transposeFlag(transposeA), transposeFlag(transposeB), m, n, k, alpha,
      a, lda, b, ldb, beta, c, ldc)
  }

  @inlinable
  public static func syrk(
    transpose: Bool, n: Int32, k: Int32, alpha: Double, a: UnsafePointer<Double>, lda: Int32,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int32
  ) {
    cblas_dsyrk(
      CblasRowMajor, CblasUpper, transposeFlag(transpose), n, k, alpha, a, lda, beta, c, ldc)
  }

  /// Rank-k update of an RFP matrix. The routine is `dsfrk`, called directly: `LAPACKE_dsfrk`
  /// would scan C for NaN first, though beta = 0 overwrites it.
  public static func sfrk(
    n: Int32, k: Int32, alpha: Double, a: UnsafePointer<Double>, lda: Int32, beta: Double,
    c: UnsafeMutablePointer<Double>
  ) {
    // The row-major n×k A is the column-major k×n Aᵀ, so C = A·Aᵀ is LAPACK's trans 'T' update.
    var (n, k, lda, alpha, beta) = (n, k, lda, alpha, beta)
    var (transr, uplo, trans) = (CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "U")), CChar(UInt8(ascii: "T")))
    dsfrk_(&transr, &uplo, &trans, &n, &k, &alpha, a, &lda, &beta, c, 1, 1, 1)
  }

  @inlinable
  public static func gemv(
    transpose: Bool, m: Int32, n: Int32, alpha: Double, a: UnsafePointer<Double>, lda: Int32,
    x: UnsafePointer<Double>, incx: Int32, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int32
  ) {
    cblas_dgemv(
      CblasRowMajor, transposeFlag(transpose), m, n, alpha, a, lda, x, incx, beta, y, incy)
  }

  @inlinable
  public static func dot(
    n: Int32, x: UnsafePointer<Double>, incx: Int32, y: UnsafePointer<Double>, incy: Int32
  ) -> Double {
    cblas_ddot(n, x, incx, y, incy)
  }

  @inlinable
  public static func axpy(
    n: Int32, alpha: Double, x: UnsafePointer<Double>, incx: Int32,
    y: UnsafeMutablePointer<Double>, incy: Int32
  ) {
    cblas_daxpy(n, alpha, x, incx, y, incy)
  }

  @inlinable
  public static func scal(n: Int32, alpha: Double, x: UnsafeMutablePointer<Double>, incx: Int32) {
    cblas_dscal(n, alpha, x, incx)
  }

  /// Singular values of a column-major matrix, descending. The routine is `LAPACKE_dgesdd`.
  public static func gesdd(
    _ a: UnsafeMutablePointer<Double>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dgesdd(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), rows, columns, a, max(rows, 1), values,
      nil, 1, nil, 1)
  }

  /// Thin SVD of a column-major matrix, values descending. The routine is `LAPACKE_dgesdd`.
  public static func gesdd(
    _ a: UnsafeMutablePointer<Double>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Double>, left: UnsafeMutablePointer<Double>,
    rightTransposed: UnsafeMutablePointer<Double>
  ) -> Int32 {
    LAPACKE_dgesdd(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: "S")), rows, columns, a, max(rows, 1), values,
      left, max(rows, 1), rightTransposed, max(min(rows, columns), 1))
  }

  /// SVD with the caller's workspace, thin vectors or values only. The routine is
  /// `LAPACKE_dgesdd_work`.
  public static func gesdd(
    _ a: UnsafeMutablePointer<Double>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Double>, left: UnsafeMutablePointer<Double>?,
    rightTransposed: UnsafeMutablePointer<Double>?, work: UnsafeMutablePointer<Double>, lwork: Int32,
    iwork: UnsafeMutablePointer<Int32>
  ) -> Int32 {
    let vectors = left != nil && rightTransposed != nil
    return LAPACKE_dgesdd_work(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: vectors ? "S" : "N")), rows, columns, a, max(rows, 1), values,
      left, vectors ? max(rows, 1) : 1, rightTransposed, vectors ? max(min(rows, columns), 1) : 1, work, lwork, iwork)
  }

  /// Eigenvalues of a symmetric matrix, ascending. The routine is `LAPACKE_dsyevd`, or
  /// `LAPACKE_dsyevd_2stage` with `twoStage`.
  public static func syevd(
    _ a: UnsafeMutablePointer<Double>, size: Int32, values: UnsafeMutablePointer<Double>, twoStage: Bool
  ) -> Int32 {
    // The row-major upper triangle is the column-major lower triangle.
    let (jobz, uplo) = (CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "L")))
    return twoStage
      ? LAPACKE_dsyevd_2stage(LAPACK_COL_MAJOR, jobz, uplo, size, a, max(size, 1), values)
      : LAPACKE_dsyevd(LAPACK_COL_MAJOR, jobz, uplo, size, a, max(size, 1), values)
  }

  /// Cholesky factorisation of a symmetric matrix. The routine is `LAPACKE_dpotrf`.
  public static func potrf(_ a: UnsafeMutablePointer<Double>, size: Int32) -> Int32 {
    // The row-major upper triangle is the column-major lower triangle.
    LAPACKE_dpotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), size, a, max(size, 1))
  }

  /// QR factorisation. The routine is `LAPACKE_dgeqrf`.
  public static func geqrf(_ a: UnsafeMutablePointer<Double>, rows: Int32, columns: Int32,
                           tau: UnsafeMutablePointer<Double>) -> Int32 {
    LAPACKE_dgeqrf(LAPACK_COL_MAJOR, rows, columns, a, max(rows, 1), tau)
  }

  /// Q from the reflectors. The routine is `LAPACKE_dorgqr`.
  public static func orgqr(_ a: UnsafeMutablePointer<Double>, rows: Int32, columns: Int32,
                           tau: UnsafeMutablePointer<Double>) -> Int32 {
    LAPACKE_dorgqr(LAPACK_COL_MAJOR, rows, columns, columns, a, max(rows, 1), tau)
  }
}
