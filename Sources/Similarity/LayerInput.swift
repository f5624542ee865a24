import CompareCore

/// One layer's activations as a comparison reads them: its shape, and either the matrix or a
/// function that writes its `examples × features` values, row-major in float64, into a buffer.
///
/// With a reader, each worker converts a layer into its own reused buffer (`LayerScratch`) just
/// before it makes the layer's representation, instead of every layer being converted to
/// float64 up front: on 12 layers of 10,000 × 1,024 that is 1 GB less fresh memory.
///
/// ```swift
/// let input = LayerInput(examples: 450, features: 64) { out in try tensor.convert(rows: 0..<450, into: out) }
/// ```
public struct LayerInput: Sendable {
  /// Rows.
  public let examples: Int
  /// Columns.
  public let features: Int
  let source: Source

  enum Source: Sendable {
    case matrix(Matrix<Double>)
    case reader(@Sendable (UnsafeMutableBufferPointer<Double>) throws -> Void)
  }

  /// A layer already in memory.
  public init(_ matrix: Matrix<Double>) {
    examples = matrix.rows
    features = matrix.columns
    source = .matrix(matrix)
  }

  /// A layer that `read` writes (all `examples × features` values) when it is needed.
  public init(examples: Int, features: Int, read: @escaping @Sendable (UnsafeMutableBufferPointer<Double>) throws -> Void) {
    self.examples = examples
    self.features = features
    source = .reader(read)
  }

  /// The layer, read into `buffer` (resized, its storage reused) when it has a reader.
  func matrix(using buffer: inout [Double]) throws -> Matrix<Double> {
    switch source {
    case .matrix(let m):
      return m
    case .reader(let read):
      WorkBuffer.resize(&buffer, to: examples * features)
      try buffer.withUnsafeMutableBufferPointer { try read($0) }
      return Matrix(rows: examples, columns: features, elements: buffer)
    }
  }
}
