import CompareCore

/// One model's activations on a set of examples, layer by layer, read a range of examples at
/// a time: what `CKAEstimator` compares. `ActivationSet` (in `Compare`) reads them from files;
/// `RepresentationArrays` holds them in memory.
public protocol RepresentationSource {
  /// The model's name in results and messages.
  var name: String { get }
  /// The layers, in the order of `read`'s matrices.
  var layerNames: [String] { get }
  /// Examples (rows) of every layer.
  var examples: Int { get }
  /// `true` when every layer is stored in float64, so the estimate is computed in Double.
  var isDouble: Bool { get }
  /// `true` when the examples are different inputs from the other model's, paired by position
  /// (one model on two datasets), not the same inputs; results record it.
  var pairedByIndex: Bool { get }
  /// Fills `matrices` with examples `rows` of every layer, each `rows.count × features`,
  /// reusing their storage when it is already the right size.
  func read<S: BLASScalar>(rows: Range<Int>, into matrices: inout [Matrix<S>]) throws
  /// Fills `matrices` with the examples at `indices` (in that order) of every layer: the
  /// batches of a shuffled pass (`CKAEstimator.similarities(..., epochs:)`).
  func read<S: BLASScalar>(examples indices: [Int], into matrices: inout [Matrix<S>]) throws
  /// Calls `body` with examples `rows` of every layer as row-major `rows.count × features`
  /// buffers: straight from where the activations are stored when they need no conversion
  /// (`ActivationSet` on float32 files: the mapped bytes), else read into `buffers` (reused
  /// across calls, as `read(rows:into:)`). The buffers are valid only inside `body`.
  func withRows<S: BLASScalar, R>(_ rows: Range<Int>, buffers: inout [Matrix<S>],
                                  _ body: ([UnsafeBufferPointer<S>]) throws -> R) throws -> R
  /// Writes examples `rows` of layer `index`, row-major `rows.count × features`, into `out`
  /// (exactly that many values): one layer without the others, for the full-batch estimators.
  func readLayer<S: BLASScalar>(_ index: Int, rows: Range<Int>, into out: UnsafeMutableBufferPointer<S>) throws
  /// Whether `readLayer` may run on several threads at once (false unless a source says so):
  /// the full-batch linear estimators then read each layer in the worker that uses it.
  var readsConcurrently: Bool { get }
}

extension RepresentationSource {
  /// The same inputs as the other model's unless a source says otherwise.
  public var pairedByIndex: Bool { false }

  /// Read on one thread at a time unless a source says otherwise.
  public var readsConcurrently: Bool { false }

  /// This source, for workers to read from when `readsConcurrently` says they may.
  var shared: SharedSource { SharedSource(source: self) }

  /// Features per example of each layer, from reading one example.
  func widths() throws -> [Int] {
    var one: [Matrix<Double>] = []
    try read(rows: 0..<Swift.min(1, examples), into: &one)
    return one.map(\.columns)
  }

  /// Reads the rows into `buffers` with `read(rows:into:)` and hands over their storage.
  public func withRows<S: BLASScalar, R>(_ rows: Range<Int>, buffers: inout [Matrix<S>],
                                         _ body: ([UnsafeBufferPointer<S>]) throws -> R) throws -> R {
    try read(rows: rows, into: &buffers)
    return try withElementBuffers(buffers, body)
  }

  /// Reads every layer's rows through `read(rows:into:)` and copies out the one asked for.
  public func readLayer<S: BLASScalar>(_ index: Int, rows: Range<Int>, into out: UnsafeMutableBufferPointer<S>) throws {
    var all: [Matrix<S>] = []
    try read(rows: rows, into: &all)
    let layer = all[index].elements
    precondition(layer.count == out.count, "readLayer: \(layer.count) values for a buffer of \(out.count)")
    _ = out.initialize(from: layer)
  }

  /// Reads one example at a time through `read(rows:into:)` and gathers them.
  public func read<S: BLASScalar>(examples indices: [Int], into matrices: inout [Matrix<S>]) throws {
    var one: [Matrix<S>] = []
    var gathered: [[S]] = Array(repeating: [], count: layerNames.count)
    var widths = [Int](repeating: 0, count: layerNames.count)
    for i in indices {
      try read(rows: i..<(i + 1), into: &one)
      for (l, m) in one.enumerated() { gathered[l] += m.elements; widths[l] = m.columns }
    }
    matrices = gathered.indices.map { Matrix(rows: indices.count, columns: widths[$0], elements: gathered[$0]) }
  }
}

/// A source whose `readsConcurrently` is true, handed to workers on other threads.
struct SharedSource: @unchecked Sendable {
  let source: any RepresentationSource
}

/// Activations already in memory, one `examples × features` matrix per layer.
public struct RepresentationArrays<Scalar: BLASScalar>: RepresentationSource, Sendable {
  public let name: String
  public let layerNames: [String]
  /// The layers' activations.
  public let layers: [Matrix<Scalar>]

  /// - Throws: `InputError` when the names and layers differ in number or the layers differ
  ///   in example count.
  public init(name: String, layerNames: [String], layers: [Matrix<Scalar>]) throws {
    guard layerNames.count == layers.count else {
      throw InputError("\(name): \(layerNames.count) layer names for \(layers.count) layers")
    }
    if let first = layers.first, let bad = layers.firstIndex(where: { $0.rows != first.rows }) {
      throw InputError("\(name): layer '\(layerNames[bad])' has \(layers[bad].rows) examples, layer '\(layerNames[0])' has \(first.rows)")
    }
    self.name = name
    self.layerNames = layerNames
    self.layers = layers
  }

  public var examples: Int { layers.first?.rows ?? 0 }
  public var isDouble: Bool { Scalar.self == Double.self }
  /// Immutable arrays: read from any thread.
  public var readsConcurrently: Bool { true }

  /// The layers' own storage when `S` is their scalar type, else converted copies.
  public func withRows<S: BLASScalar, R>(_ rows: Range<Int>, buffers: inout [Matrix<S>],
                                         _ body: ([UnsafeBufferPointer<S>]) throws -> R) throws -> R {
    guard let own = layers as? [Matrix<S>] else {
      try read(rows: rows, into: &buffers)
      return try withElementBuffers(buffers, body)
    }
    return try withElementBuffers(own) { whole in
      try body(zip(whole, own).map { buffer, x in
        UnsafeBufferPointer(rebasing: buffer[(rows.lowerBound * x.columns)..<(rows.upperBound * x.columns)])
      })
    }
  }

  public func readLayer<S: BLASScalar>(_ index: Int, rows: Range<Int>, into out: UnsafeMutableBufferPointer<S>) throws {
    let x = layers[index], first = rows.lowerBound * x.columns
    precondition(rows.count * x.columns == out.count, "readLayer: \(rows.count * x.columns) values for a buffer of \(out.count)")
    for e in 0..<out.count { out[e] = S(Double(x.elements[first + e])) }
  }

  public func read<S: BLASScalar>(rows: Range<Int>, into matrices: inout [Matrix<S>]) throws {
    matrices = layers.map { x in
      Matrix(rows: rows.count, columns: x.columns,
             elements: x.elements[(rows.lowerBound * x.columns)..<(rows.upperBound * x.columns)].map { S(Double($0)) })
    }
  }
}
