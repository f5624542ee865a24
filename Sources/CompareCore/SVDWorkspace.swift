/// Buffers for repeated thin singular value decompositions (`gesdd`), kept from one call to the
/// next: the matrix (which LAPACK destroys), U, Vᵀ, the values and LAPACK's workspace.
///
/// `Matrix.singularValueDecomposition()` allocates all of them per call (LAPACKE's workspace
/// too); for a 1,024-square matrix that is about 60 MB of fresh memory, which here costs more
/// system time to fault in than the SVD's copies cost arithmetic. A layer-by-layer loop (one
/// per worker) keeps one workspace instead.
package final class SVDWorkspace<Scalar: BLASScalar>: @unchecked Sendable {
  /// The matrix to decompose, row-major, as `load` left it.
  package var matrix: [Scalar] = []
  var values: [Scalar] = []
  var left: [Scalar] = []
  var right: [Scalar] = []
  var work: [Scalar] = []
  var iwork: [Int32] = []

  package init() {}

  /// Hands over `matrix`'s storage (for a product to be made in it and moved back), leaving it
  /// empty.
  package func takeMatrix() -> [Scalar] {
    let taken = matrix
    matrix = []
    return taken
  }

  /// Makes `matrix` hold rows × columns elements (contents unspecified) and lets `fill` write
  /// them.
  package func load(rows: Int, columns: Int, _ fill: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
    WorkBuffer.resize(&matrix, to: rows * columns)
    try matrix.withUnsafeMutableBufferPointer { try fill($0) }
  }

  /// The thin SVD A = U Σ Vᵀ of the rows × columns `matrix` (destroyed), as
  /// `Matrix.singularValueDecomposition()` computes it. The result shares this workspace's
  /// storage: drop it before the next call, or that call copies it first.
  ///
  /// - Throws: `LinearAlgebraError` if `gesdd` does not converge; `InputError` if a dimension
  ///   does not fit 32 bits.
  package func decompose(rows: Int, columns: Int) throws -> SingularValueDecomposition<Scalar> {
    let k = Swift.min(rows, columns)
    guard k > 0 else {
      return SingularValueDecomposition(values: [], left: Matrix(zeros: rows, 0), rightTransposed: Matrix(zeros: 0, columns))
    }
    precondition(matrix.count == rows * columns, "SVDWorkspace: \(matrix.count) values for \(rows) × \(columns)")
    // A row-major m×n buffer is the column-major Aᵀ = V Σ Uᵀ: LAPACK's left vectors (column-major
    // n×k) are A's row-major Vᵀ, and its right ones (k×m) A's row-major U.
    let m = try blasDimension(columns, "columns"), n = try blasDimension(rows, "rows")
    WorkBuffer.resize(&left, to: columns * k)
    WorkBuffer.resize(&right, to: k * rows)
    try run(m, n, k: k, vectors: true)
    return SingularValueDecomposition(values: values, left: Matrix(rows: rows, columns: k, elements: right),
                                      rightTransposed: Matrix(rows: k, columns: columns, elements: left))
  }

  /// The singular values of the rows × columns `matrix` (destroyed), descending, as
  /// `Matrix.singularValues()` computes them.
  ///
  /// - Throws: `LinearAlgebraError` if `gesdd` does not converge; `InputError` if a dimension
  ///   does not fit 32 bits.
  package func singularValues(rows: Int, columns: Int) throws -> [Scalar] {
    let k = Swift.min(rows, columns)
    guard k > 0 else { return [] }
    precondition(matrix.count == rows * columns, "SVDWorkspace: \(matrix.count) values for \(rows) × \(columns)")
    try run(try blasDimension(columns, "columns"), try blasDimension(rows, "rows"), k: k, vectors: false)
    return Array(values)
  }

  /// `gesdd` on `matrix`, read as the column-major m×n Aᵀ, after a workspace query.
  private func run(_ m: Int32, _ n: Int32, k: Int, vectors: Bool) throws {
    WorkBuffer.resize(&values, to: k)
    WorkBuffer.resize(&iwork, to: 8 * k)
    var optimal: Scalar = 0
    let query = call(m, n, vectors: vectors, work: &optimal, lwork: -1)
    guard query == 0 else { throw LinearAlgebraError(routine: "gesdd", info: query) }
    let size = Swift.max(1, Int(optimal.rounded(.up)))
    if work.count < size { WorkBuffer.resize(&work, to: size) }
    let info = work.withUnsafeMutableBufferPointer { w in
      call(m, n, vectors: vectors, work: w.baseAddress!, lwork: Int32(clamping: w.count))
    }
    guard info == 0 else { throw LinearAlgebraError(routine: "gesdd", info: info) }
  }

  private func call(_ m: Int32, _ n: Int32, vectors: Bool, work: UnsafeMutablePointer<Scalar>, lwork: Int32) -> Int32 {
    matrix.withUnsafeMutableBufferPointer { a in
      values.withUnsafeMutableBufferPointer { v in
        left.withUnsafeMutableBufferPointer { l in
          right.withUnsafeMutableBufferPointer { r in
            iwork.withUnsafeMutableBufferPointer { iw in
              Scalar.gesdd(a.baseAddress!, rows: m, columns: n, values: v.baseAddress!,
                           left: vectors ? l.baseAddress! : nil, rightTransposed: vectors ? r.baseAddress! : nil,
                           work: work, lwork: lwork, iwork: iw.baseAddress!)
            }
          }
        }
      }
    }
  }
}
