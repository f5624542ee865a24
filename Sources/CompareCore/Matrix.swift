/// A dense row-major matrix of `Float` or `Double`.
///
/// Element (i, j) is `elements[i * columns + j]`. Rows are examples, columns features,
/// wherever a Compare API takes activations or logits.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// Row-major storage, `rows * columns` elements.
  public var elements: [Scalar]

  /// A matrix over existing row-major storage.
  /// - Precondition: `elements.count == rows * columns`.
  @inlinable
  public init(rows: Int, columns: Int, elements: [Scalar]) {
    precondition(rows >= 0 && columns >= 0 && elements.count == rows * columns,
                 "Matrix storage has \(elements.count) elements, not \(rows)×\(columns)")
    self.rows = rows
    self.columns = columns
    self.elements = elements
  }

  /// A matrix of zeros.
  @inlinable
  public init(zeros rows: Int, _ columns: Int) {
    self.init(rows: rows, columns: columns,
              elements: [Scalar](repeating: 0, count: rows * columns))
  }

  /// A matrix from an array of equally long rows.
  @inlinable
  public init(_ rowArrays: [[Scalar]]) {
    let columns = rowArrays.first?.count ?? 0
    precondition(rowArrays.allSatisfy { $0.count == columns }, "rows of unequal length")
    self.init(rows: rowArrays.count, columns: columns, elements: rowArrays.flatMap { $0 })
  }

  /// A matrix whose elements are computed from their row and column.
  @inlinable
  public init(rows: Int, columns: Int, _ element: (Int, Int) -> Scalar) {
    var elements = [Scalar]()
    elements.reserveCapacity(rows * columns)
    for i in 0..<rows { for j in 0..<columns { elements.append(element(i, j)) } }
    self.init(rows: rows, columns: columns, elements: elements)
  }

  /// Element at row `i`, column `j`.
  @inlinable
  public subscript(i: Int, j: Int) -> Scalar {
    get { elements[i * columns + j] }
    set { elements[i * columns + j] = newValue }
  }

  /// Row `i` as an array.
  @inlinable
  public func row(_ i: Int) -> [Scalar] {
    Array(elements[(i * columns)..<((i + 1) * columns)])
  }

  /// Rows `range` as a new matrix (a copy).
  @inlinable
  public func rows(_ range: Range<Int>) -> Matrix {
    Matrix(rows: range.count, columns: columns,
           elements: Array(elements[(range.lowerBound * columns)..<(range.upperBound * columns)]))
  }

  /// `true` when the matrix has no elements.
  @inlinable public var isEmpty: Bool { rows == 0 || columns == 0 }

  /// The shape as `rows×columns`, for messages.
  public var shapeDescription: String { "\(rows)×\(columns)" }
}
