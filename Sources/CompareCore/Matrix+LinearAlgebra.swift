/// Checks that a dimension fits BLAS/LAPACK's 32-bit integers (LP64 OpenBLAS).
@inlinable
package func blasDimension(_ n: Int, _ what: @autoclosure () -> String = "dimension") throws -> Int32 {
  guard n >= 0, n <= Int(Int32.max) else {
    throw InputError("\(what()) \(n) exceeds BLAS's 32-bit limit of \(Int32.max)")
  }
  return Int32(n)
}

extension Matrix {
  /// The product `self · other`. One `gemm`; O(m·n·k).
  @inlinable
  public func multiplied(by other: Matrix) -> Matrix {
    precondition(columns == other.rows, "multiplied: \(shapeDescription) · \(other.shapeDescription)")
    return Matrix.product(self, transposed: false, other, transposed: false)
  }

  /// The product `selfᵀ · other`, without forming the transpose. One `gemm`.
  @inlinable
  public func transposedMultiplied(by other: Matrix) -> Matrix {
    precondition(rows == other.rows, "transposedMultiplied: \(shapeDescription)ᵀ · \(other.shapeDescription)")
    return Matrix.product(self, transposed: true, other, transposed: false)
  }

  /// The product `self · otherᵀ`, without forming the transpose. One `gemm`.
  @inlinable
  public func multipliedByTransposed(_ other: Matrix) -> Matrix {
    precondition(columns == other.columns, "multipliedByTransposed: \(shapeDescription) · \(other.shapeDescription)ᵀ")
    return Matrix.product(self, transposed: false, other, transposed: true)
  }

  @inlinable
  static func product(_ a: Matrix, transposed ta: Bool, _ b: Matrix, transposed tb: Bool) -> Matrix {
    // A large product (a layer's singular vectors, say) is prefaulted in one call.
    product(a, transposed: ta, b, transposed: tb, into: [])
  }

  /// The product op(a)·op(b), written into `storage` (resized: its memory is reused when it holds
  /// the product, as a buffer given back by a dropped layer does; a new one is prefaulted).
  /// One `gemm`.
  @usableFromInline
  package static func product(_ a: Matrix, transposed ta: Bool, _ b: Matrix, transposed tb: Bool,
                              into storage: consuming [Scalar]) -> Matrix {
    let m = ta ? a.columns : a.rows
    let k = ta ? a.rows : a.columns
    let n = tb ? b.rows : b.columns
    // Moved, not copied: a second reference would make the first write copy the whole buffer.
    var c = consume storage
    WorkBuffer.resize(&c, to: m * n)
    if m > 0, n > 0, k > 0 {
      a.elements.withUnsafeBufferPointer { pa in
        b.elements.withUnsafeBufferPointer { pb in
          c.withUnsafeMutableBufferPointer { pc in
            Scalar.gemm(
              transposeA: ta, transposeB: tb, m: Int32(m), n: Int32(n), k: Int32(k), alpha: 1,
              a: pa.baseAddress!, lda: Int32(max(a.columns, 1)), b: pb.baseAddress!,
              ldb: Int32(max(b.columns, 1)), beta: 0, c: pc.baseAddress!, ldc: Int32(max(n, 1)))
          }
        }
      }
    }
    return Matrix(rows: m, columns: n, elements: c)
  }

  /// The Gram matrix `self · selfᵀ` (rows × rows), both triangles filled. One `syrk`.
  @inlinable
  public func gram() -> Matrix { symmetricProduct(transposed: false) }

  /// The feature Gram matrix `selfᵀ · self` (columns × columns), both triangles filled. One `syrk`.
  @inlinable
  public func featureGram() -> Matrix { symmetricProduct(transposed: true) }

  @inlinable
  func symmetricProduct(transposed: Bool) -> Matrix {
    let n = transposed ? columns : rows
    let k = transposed ? rows : columns
    var c: [Scalar] = WorkBuffer.prefaulted(count: n * n)
    if n > 0, k > 0 {
      elements.withUnsafeBufferPointer { pa in
        c.withUnsafeMutableBufferPointer { pc in
          Scalar.syrk(transpose: transposed, n: Int32(n), k: Int32(k), alpha: 1,
                      a: pa.baseAddress!, lda: Int32(max(columns, 1)), beta: 0,
                      c: pc.baseAddress!, ldc: Int32(n))
          Matrix.mirrorUpperTriangle(pc.baseAddress!, size: n)
        }
      }
    }
    return Matrix(rows: n, columns: n, elements: c)
  }

  /// Copies the upper triangle of a row-major n×n buffer into its lower triangle.
  @inlinable
  package static func mirrorUpperTriangle(_ c: UnsafeMutablePointer<Scalar>, size n: Int) {
    for i in 0..<n { for j in 0..<i { c[i * n + j] = c[j * n + i] } }
  }

  /// The transpose (a copy).
  @inlinable
  public func transposed() -> Matrix {
    var t = [Scalar](repeating: 0, count: rows * columns)
    for i in 0..<rows { for j in 0..<columns { t[j * rows + i] = elements[i * columns + j] } }
    return Matrix(rows: columns, columns: rows, elements: t)
  }

  /// `factor · self`. One `scal`.
  @inlinable
  public func scaled(by factor: Scalar) -> Matrix {
    var copy = self
    let n = elements.count
    if n > 0 {
      copy.elements.withUnsafeMutableBufferPointer {
        Scalar.scal(n: Int32(n), alpha: factor, x: $0.baseAddress!, incx: 1)
      }
    }
    return copy
  }

  /// `self + other`, elementwise. One `axpy`.
  @inlinable
  public func adding(_ other: Matrix, scaledBy factor: Scalar = 1) -> Matrix {
    precondition(rows == other.rows && columns == other.columns, "adding: shapes differ")
    var copy = self
    let n = elements.count
    if n > 0 {
      other.elements.withUnsafeBufferPointer { x in
        copy.elements.withUnsafeMutableBufferPointer { y in
          Scalar.axpy(n: Int32(n), alpha: factor, x: x.baseAddress!, incx: 1,
                      y: y.baseAddress!, incy: 1)
        }
      }
    }
    return copy
  }

  /// ‖self‖²_F, accumulated in `Double`.
  @inlinable
  public var frobeniusNormSquared: Double {
    var sum = 0.0
    for x in elements { let d = Double(x); sum += d * d }
    return sum
  }

  /// The same values in another precision.
  @inlinable
  public func converted<Other: BLASScalar>(to: Other.Type = Other.self) -> Matrix<Other> {
    Matrix<Other>(rows: rows, columns: columns, elements: elements.map { Other($0) })
  }

  /// Row and column of the first NaN or infinite element, or `nil` when all are finite.
  @inlinable
  public func firstNonFinite() -> (row: Int, column: Int)? {
    guard let index = elements.firstIndex(where: { !$0.isFinite }) else { return nil }
    return (index / Swift.max(columns, 1), index % Swift.max(columns, 1))
  }

  /// Singular values, descending, of this matrix. Values-only `gesdd`, no transposing copy.
  ///
  /// - Throws: `LinearAlgebraError` if `gesdd` does not converge; `InputError` if a dimension
  ///   does not fit 32 bits.
  /// - Complexity: O(m·n·min(m, n)).
  public func singularValues() throws -> [Scalar] {
    guard !isEmpty else { return [] }
    // A row-major m×n buffer is the column-major nᵀ×m transpose, with the same singular values.
    let m = try blasDimension(columns, "columns"), n = try blasDimension(rows, "rows")
    var a = elements
    var values = [Scalar](repeating: 0, count: Swift.min(rows, columns))
    let info = a.withUnsafeMutableBufferPointer { pa in
      values.withUnsafeMutableBufferPointer { pv in
        Scalar.gesdd(pa.baseAddress!, rows: m, columns: n, values: pv.baseAddress!)
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: "gesdd", info: info) }
    return values
  }

  /// The thin singular value decomposition A = U Σ Vᵀ of this m×n matrix, k = min(m, n).
  ///
  /// One `gesdd` (divide and conquer, with vectors) on the row-major buffer read as the
  /// column-major Aᵀ = V Σ Uᵀ: LAPACK's left vectors are A's right ones and the reverse, so
  /// no transposing copy is made. Singular values are accurate to about ε·σ₁ absolutely.
  ///
  /// - Throws: `LinearAlgebraError` if `gesdd` does not converge; `InputError` if a dimension
  ///   does not fit 32 bits.
  /// - Complexity: O(m·n·k).
  public func singularValueDecomposition() throws -> SingularValueDecomposition<Scalar> {
    let workspace = SVDWorkspace<Scalar>()
    workspace.matrix = elements
    return try workspace.decompose(rows: rows, columns: columns)
  }

  /// Eigenvalues, ascending, of this symmetric matrix (its upper triangle is read).
  /// Values-only `syevd`.
  ///
  /// - Throws: `LinearAlgebraError` if `syevd` fails; `InputError` if not square.
  /// - Complexity: O(n³).
  public func symmetricEigenvalues() throws -> [Scalar] {
    guard rows == columns else {
      throw InputError("symmetric eigenvalues need a square matrix, got \(shapeDescription)")
    }
    guard rows > 0 else { return [] }
    let n = try blasDimension(rows, "size")
    var a = elements
    var values = [Scalar](repeating: 0, count: rows)
    let info = a.withUnsafeMutableBufferPointer { pa in
      values.withUnsafeMutableBufferPointer { pv in
        Scalar.syevd(pa.baseAddress!, size: n, values: pv.baseAddress!)
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: "syevd", info: info) }
    return values
  }
}

/// A thin singular value decomposition A = U Σ Vᵀ (see `Matrix.singularValueDecomposition()`).
public struct SingularValueDecomposition<Scalar: BLASScalar>: Sendable {
  /// Singular values, descending (k = min(m, n) of them).
  public let values: [Scalar]
  /// U, `m × k`: column i is the left singular vector of `values[i]`.
  public let left: Matrix<Scalar>
  /// Vᵀ, `k × n`: row i is the right singular vector of `values[i]`.
  public let rightTransposed: Matrix<Scalar>
}
