import CBLAS
import CLAPACKE

extension Float: BLASScalar {
  @inlinable @inline(__always)
  static func transposeFlag(_ transpose: Bool) -> CBLAS_TRANSPOSE {
    transpose ? CblasTrans : CblasNoTrans
  }

  @inlinable
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int32, n: Int32, k: Int32, alpha: Float,
    a: UnsafePointer<Float>, lda: Int32, b: UnsafePointer<Float>, ldb: Int32, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int32
  ) {
    cblas_sgemm(
      CblasRowMajor, transposeFlag(transposeA), transposeFlag(transposeB), m, n, k, alpha,
      a, lda, b, ldb, beta, c, ldc)
  }

  @inlinable
  public static func syrk(
    transpose: Bool, n: Int32, k: Int32, alpha: Float, a: UnsafePointer<Float>, lda: Int32,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int32
  ) {
    cblas_ssyrk(
      CblasRowMajor, CblasUpper, transposeFlag(transpose), n, k, alpha, a, lda, beta, c, ldc)
  }

  /// Rank-k update of an RFP matrix. The routine is `ssfrk`, called directly: `LAPACKE_ssfrk`
  /// would scan C for NaN first, though beta = 0 overwrites it.
  public static func sfrk(
    n: Int32, k: Int32, alpha: Float, a: UnsafePointer<Float>, lda: Int32, beta: Float,
    c: UnsafeMutablePointer<Float>
  ) {
    // The row-major n×k A is the column-major k×n Aᵀ, so C = A·Aᵀ is LAPACK's trans 'T' update.
    var (n, k, lda, alpha, beta) = (n, k, lda, alpha, beta)
    var (transr, uplo, trans) = (CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "U")), CChar(UInt8(ascii: "T")))
    ssfrk_(&transr, &uplo, &trans, &n, &k, &alpha, a, &lda, &beta, c, 1, 1, 1)
  }

  @inlinable
  public static func gemv(
    transpose: Bool, m: Int32, n: Int32, alpha: Float, a: UnsafePointer<Float>, lda: Int32,
    x: UnsafePointer<Float>, incx: Int32, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int32
  ) {
    cblas_sgemv(
      CblasRowMajor, transposeFlag(transpose), m, n, alpha, a, lda, x, incx, beta, y, incy)
  }

  @inlinable
  public static func dot(
    n: Int32, x: UnsafePointer<Float>, incx: Int32, y: UnsafePointer<Float>, incy: Int32
  ) -> Float {
    cblas_sdot(n, x, incx, y, incy)
  }

  @inlinable
  public static func axpy(
    n: Int32, alpha: Float, x: UnsafePointer<Float>, incx: Int32,
    y: UnsafeMutablePointer<Float>, incy: Int32
  ) {
    cblas_saxpy(n, alpha, x, incx, y, incy)
  }

  @inlinable
  public static func scal(n: Int32, alpha: Float, x: UnsafeMutablePointer<Float>, incx: Int32) {
    cblas_sscal(n, alpha, x, incx)
  }

  /// Singular values of a column-major matrix, descending. The routine is `LAPACKE_sgesdd`.
  public static func gesdd(
    _ a: UnsafeMutablePointer<Float>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_sgesdd(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), rows, columns, a, max(rows, 1), values,
      nil, 1, nil, 1)
  }

  /// Thin SVD of a column-major matrix, values descending. The routine is `LAPACKE_sgesdd`.
  public static func gesdd(
    _ a: UnsafeMutablePointer<Float>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Float>, left: UnsafeMutablePointer<Float>,
    rightTransposed: UnsafeMutablePointer<Float>
  ) -> Int32 {
    LAPACKE_sgesdd(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: "S")), rows, columns, a, max(rows, 1), values,
      left, max(rows, 1), rightTransposed, max(min(rows, columns), 1))
  }

  /// SVD with the caller's workspace, thin vectors or values only. The routine is
  /// `LAPACKE_sgesdd_work`.
  public static func gesdd(
    _ a: UnsafeMutablePointer<Float>, rows: Int32, columns: Int32,
    values: UnsafeMutablePointer<Float>, left: UnsafeMutablePointer<Float>?,
    rightTransposed: UnsafeMutablePointer<Float>?, work: UnsafeMutablePointer<Float>, lwork: Int32,
    iwork: UnsafeMutablePointer<Int32>
  ) -> Int32 {
    let vectors = left != nil && rightTransposed != nil
    return LAPACKE_sgesdd_work(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: vectors ? "S" : "N")), rows, columns, a, max(rows, 1), values,
      left, vectors ? max(rows, 1) : 1, rightTransposed, vectors ? max(min(rows, columns), 1) : 1, work, lwork, iwork)
  }

  /// Eigenvalues of a symmetric matrix, ascending. The routine is `LAPACKE_ssyevd`, or
  /// `LAPACKE_ssyevd_2stage` with `twoStage`.
  public static func syevd(
    _ a: UnsafeMutablePointer<Float>, size: Int32, values: UnsafeMutablePointer<Float>, twoStage: Bool
  ) -> Int32 {
    // The row-major upper triangle is the column-major lower triangle.
    let (jobz, uplo) = (CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "L")))
    return twoStage
      ? LAPACKE_ssyevd_2stage(LAPACK_COL_MAJOR, jobz, uplo, size, a, max(size, 1), values)
      : LAPACKE_ssyevd(LAPACK_COL_MAJOR, jobz, uplo, size, a, max(size, 1), values)
  }

  /// Cholesky factorisation of a symmetric matrix. The routine is `LAPACKE_spotrf`.
  public static func potrf(_ a: UnsafeMutablePointer<Float>, size: Int32) -> Int32 {
    // The row-major upper triangle is the column-major lower triangle.
    LAPACKE_spotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), size, a, max(size, 1))
  }

  /// QR factorisation. The routine is `LAPACKE_sgeqrf`.
  public static func geqrf(_ a: UnsafeMutablePointer<Float>, rows: Int32, columns: Int32,
                           tau: UnsafeMutablePointer<Float>) -> Int32 {
    LAPACKE_sgeqrf(LAPACK_COL_MAJOR, rows, columns, a, max(rows, 1), tau)
  }

  /// Q from the reflectors. The routine is `LAPACKE_sorgqr`.
  public static func orgqr(_ a: UnsafeMutablePointer<Float>, rows: Int32, columns: Int32,
                           tau: UnsafeMutablePointer<Float>) -> Int32 {
    LAPACKE_sorgqr(LAPACK_COL_MAJOR, rows, columns, columns, a, max(rows, 1), tau)
  }
}
