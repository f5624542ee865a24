import CKA
import CompareCore
import TensorIO

/// One model's activations on a set of examples, one tensor per layer `[examples, ...]`
/// (flattened per example), from a `.safetensors`, `.npz`, `torch.save`'d dict or a folder of
/// `.npy` (`FILE:KEY` picks the tensors under KEY). Opened lazily: batches are converted from
/// the mapped files when an estimator reads them, into buffers it reuses.
///
/// ```swift
/// let a = try ActivationSet(path: "mlp.safetensors"), b = try ActivationSet(path: "cnn.npz")
/// let result = try CKAEstimator.minibatch(batchSize: 256).similarities(a, b)
/// ```
public struct ActivationSet: RepresentationSource, Sendable {
  /// The path as given.
  public let path: String
  /// The model's name in results (default: the file name).
  public var name: String
  /// The layers' tensors, in `names` order.
  public let tensors: [Tensor]
  /// Examples of every layer (the first `examples` of the files, after `prefix`).
  public private(set) var examples: Int
  /// Features per example of each layer, after pooling (flattened: the product of the
  /// trailing axes).
  public let features: [Int]
  /// How token and spatial axes are reduced as each layer is read.
  public let pool: Pooling
  /// The examples are different inputs from the other models' of a comparison, paired by
  /// position (`group(..., pairedByIndex: true)`): CKA results record it.
  public var pairedByIndex = false

  /// How a layer's activations beyond the example axis become one feature vector, applied per
  /// layer as it is read. `[n, tokens, d]`: mean or max over the tokens, or the first (`cls`) or
  /// last token; `[n, C, H, W]`: mean or max over H×W per channel. 2-D layers are unchanged.
  public enum Pooling: String, Sendable, CaseIterable {
    /// Every trailing axis flattened into features (the default).
    case flatten
    case mean, max
    /// The first token of `[n, tokens, d]`.
    case cls
    /// The last token of `[n, tokens, d]`.
    case last
  }

  /// Opens the activations at `path` and picks `layers` (all, in natural order, when `nil`).
  ///
  /// - Throws: `ReadError` naming the file when a listed layer is missing, the list is empty,
  ///   a layer is a scalar, has no examples or features, or the layers' example counts differ.
  /// - Throws: also `ReadError` when `pool` is `cls`/`last` and a layer is not `[n, tokens, d]`.
  public init(path: String, layers: [String]? = nil, name: String? = nil, pool: Pooling = .flatten) throws {
    let reference = TensorReference(path)
    let all = try reference.tensors()
    let tensors: [Tensor]
    if let layers {
      guard !layers.isEmpty else { throw ReadError(file: path, "no layer named in the layer list") }
      tensors = try layers.map { layer in
        guard let t = all.first(where: { $0.key == layer }) else {
          throw ReadError(file: path, "has no layer '\(layer)' (available: \(TensorFile.list(NaturalOrder.sorted(all.map(\.key)))))")
        }
        return t
      }
    } else {
      tensors = all.sorted { NaturalOrder.precedes($0.key, $1.key) }
    }
    var examples: Int?
    var features: [Int] = []
    for t in tensors {
      guard let rows = t.shape.first else {
        throw ReadError(file: path, "layer '\(t.key)' is a scalar; activations have a shape [examples, ...]")
      }
      guard rows > 0 else { throw ReadError(file: path, "layer '\(t.key)' has no examples (shape \(t.shapeDescription))") }
      let width = try Self.pooledWidth(t, pool, path: path)
      guard width > 0 else { throw ReadError(file: path, "layer '\(t.key)' has no features (shape \(t.shapeDescription))") }
      if let examples, rows != examples {
        throw ReadError(file: path, "layer '\(t.key)' has \(rows) examples, layer '\(tensors[0].key)' has \(examples)")
      }
      examples = rows
      features.append(width)
    }
    self.path = path
    self.name = name ?? FileSystem.baseName(reference.description)
    self.tensors = tensors
    self.examples = examples ?? 0
    self.features = features
    self.pool = pool
  }

  /// The layer names (tensor keys), in order.
  public var names: [String] { tensors.map(\.key) }
  public var layerNames: [String] { names }
  public var isDouble: Bool { tensors.allSatisfy { $0.dtype == .float64 } }
  /// Its layers are read from mapped files, each read independent: from any thread.
  public var readsConcurrently: Bool { true }

  /// Examples `rows` of every layer as `rows.count × features` matrices, into `matrices`,
  /// whose storage is reused when the shapes already fit (every full batch after the first).
  public func read<S: BLASScalar>(rows: Range<Int>, into matrices: inout [Matrix<S>]) throws {
    if matrices.count != tensors.count { matrices = [] }
    if pool != .flatten, tensors.contains(where: { $0.shape.count > 2 }) {
      try readPooled(rows: rows, into: &matrices)
      return
    }
    for (index, (tensor, width)) in zip(tensors, features).enumerated() {
      if index == matrices.count {
        matrices.append(Matrix(rows: rows.count, columns: width,
                               elements: try tensor.converted(rows: rows, as: S.self)))
      } else if matrices[index].rows != rows.count || matrices[index].columns != width {
        matrices[index] = Matrix(rows: rows.count, columns: width,
                                 elements: try tensor.converted(rows: rows, as: S.self))
      } else {
        try matrices[index].elements.withUnsafeMutableBufferPointer {
          _ = try tensor.convert(rows: rows, into: $0)
        }
      }
    }
  }

  /// Examples `rows` of every layer handed to `body` without a copy where the file stores them
  /// as `S` (float32 for `Float`, float64 for `Double`, contiguous and aligned: the mapped bytes
  /// themselves); otherwise every layer is converted into `buffers`, reused across calls.
  public func withRows<S: BLASScalar, R>(_ rows: Range<Int>, buffers: inout [Matrix<S>],
                                         _ body: ([UnsafeBufferPointer<S>]) throws -> R) throws -> R {
    let stored = try tensors.map { t in
      pool == .flatten || t.shape.count <= 2 ? try t.storedRows(rows, as: S.self) : nil
    }
    if stored.allSatisfy({ $0 != nil }) { return try body(stored.map { $0! }) }
    try read(rows: rows, into: &buffers)
    return try withElementBuffers(buffers) { converted in try body(zip(stored, converted).map { $0 ?? $1 }) }
  }

  /// The examples at `indices`, in that order, converted row by row straight into `matrices`
  /// (reused when their shapes fit).
  public func read<S: BLASScalar>(examples indices: [Int], into matrices: inout [Matrix<S>]) throws {
    if pool != .flatten, tensors.contains(where: { $0.shape.count > 2 }) {
      // Pooling works per example already: gather pooled single rows.
      var one: [Matrix<S>] = []
      var gathered = features.map { [S](repeating: 0, count: indices.count * $0) }
      for (k, i) in indices.enumerated() {
        try readPooled(rows: i..<(i + 1), into: &one)
        for l in one.indices { for c in 0..<features[l] { gathered[l][k * features[l] + c] = one[l].elements[c] } }
      }
      matrices = gathered.indices.map { Matrix(rows: indices.count, columns: features[$0], elements: gathered[$0]) }
      return
    }
    if matrices.count != tensors.count || zip(matrices, features).contains(where: { $0.rows != indices.count || $0.columns != $1 }) {
      matrices = features.map { Matrix<S>(zeros: indices.count, $0) }
    }
    for (l, (tensor, width)) in zip(tensors, features).enumerated() {
      try matrices[l].elements.withUnsafeMutableBufferPointer { out in
        for (k, i) in indices.enumerated() {
          _ = try tensor.convert(rows: i..<(i + 1), into: UnsafeMutableBufferPointer(rebasing: out[(k * width)..<((k + 1) * width)]))
        }
      }
    }
  }

  /// Features per example of `t` after `pool`.
  static func pooledWidth(_ t: Tensor, _ pool: Pooling, path: String) throws -> Int {
    let trailing = Array(t.shape.dropFirst())
    switch (pool, trailing.count) {
    case (.flatten, _), (_, 0), (_, 1): return trailing.reduce(1, *)
    case (.mean, 2), (.max, 2), (.cls, 2), (.last, 2): return trailing[1]
    case (.mean, 3), (.max, 3): return trailing[0]
    default:
      throw ReadError(file: path, "layer '\(t.key)' has shape \(t.shapeDescription): --pool \(pool.rawValue) takes [n, tokens, d]\(pool == .mean || pool == .max ? " or [n, C, H, W]" : "")")
    }
  }

  /// `read` with pooling: each example's trailing axes converted into one reused buffer and
  /// reduced into its row, in float64 for the mean.
  func readPooled<S: BLASScalar>(rows: Range<Int>, into matrices: inout [Matrix<S>]) throws {
    var reused = matrices
    matrices = []
    for (index, width) in features.enumerated() {
      // Take the old matrix out of the array, so that writing it does not copy it.
      var m = Matrix<S>(zeros: 0, 0)
      if index < reused.count, reused[index].rows == rows.count, reused[index].columns == width {
        swap(&m, &reused[index])
      } else {
        m = Matrix<S>(zeros: rows.count, width)
      }
      try m.elements.withUnsafeMutableBufferPointer { try readLayer(index, rows: rows, into: $0) }
      matrices.append(m)
    }
  }

  /// Examples `rows` of layer `index`, pooled, written row-major into `out`
  /// (`rows.count × features[index]` values).
  ///
  /// - Throws: `ReadError` from the file.
  public func readLayer<S: BLASScalar>(_ index: Int, rows: Range<Int>, into out: UnsafeMutableBufferPointer<S>) throws {
    let tensor = tensors[index], width = features[index]
    let trailing = Array(tensor.shape.dropFirst())
    let perRow = trailing.reduce(1, *)
    guard trailing.count >= 2, pool != .flatten else {
      _ = try tensor.convert(rows: rows, into: out)
      return
    }
    var buffer = [Double](repeating: 0, count: perRow)
    // [tokens, d]: reduce over tokens for each of d; [C, H, W]: over H·W for each of C.
    let (groups, span, stride) = trailing.count == 2 ? (trailing[1], trailing[0], trailing[1])
                                                      : (trailing[0], trailing[1] * trailing[2], 1)
    try buffer.withUnsafeMutableBufferPointer { b in
      for r in 0..<rows.count {
        let row = rows.lowerBound + r
        _ = try tensor.convert(rows: row..<(row + 1), into: b)
        for g in 0..<groups {
          // Element t of group g: [t, g] for tokens (stride d), [g, t] for channels.
          func at(_ t: Int) -> Double { trailing.count == 2 ? b[t * stride + g] : b[g * span + t] }
          var value: Double
          switch pool {
          case .mean: value = 0; for t in 0..<span { value += at(t) }; value /= Double(span)
          case .max: value = -.infinity; for t in 0..<span { value = Swift.max(value, at(t)) }
          case .cls: value = at(0)
          case .last: value = at(span - 1)
          case .flatten: value = 0
          }
          out[r * width + g] = S(value)
        }
      }
    }
  }

  /// Examples `rows` of every layer, as new matrices.
  public func batch<S: BLASScalar>(rows: Range<Int>, as type: S.Type = Float.self) throws -> [Matrix<S>] {
    var matrices: [Matrix<S>] = []
    try read(rows: rows, into: &matrices)
    return matrices
  }
}

extension ActivationSet {
  /// The same set restricted to its first `count` examples.
  /// - Throws: `InputError` when the set has fewer.
  public func prefix(_ count: Int) throws -> ActivationSet {
    guard count >= 1, count <= examples else {
      throw InputError("\(name) has \(examples) examples; --examples \(count) asks for more")
    }
    var copy = self
    copy.examples = count
    return copy
  }

  /// Opens the two sides of a comparison (see `group`).
  public static func pair(_ pathA: String, _ pathB: String, layersA: [String]? = nil, layersB: [String]? = nil,
                          nameA: String? = nil, nameB: String? = nil, examples: Int? = nil,
                          pairedByIndex: Bool = false, pool: Pooling = .flatten) throws -> (ActivationSet, ActivationSet) {
    let sets = try group([pathA, pathB], layersA: layersA, layersB: layersB, nameA: nameA, nameB: nameB,
                         examples: examples, pairedByIndex: pairedByIndex, pool: pool)
    return (sets[0], sets[1])
  }

  /// Opens the models of a comparison: the first with `layersA` and `nameA`, the others with
  /// `layersB` (and the second with `nameB`). A model whose name is not given and equals an
  /// earlier one's (two runs' `activations.npz`) is named by its path, so the output tells them
  /// apart.
  ///
  /// - Parameters:
  ///   - examples: Use only the first `examples` of each. For models whose example counts
  ///     differ these are different inputs, paired by position (as `pairedByIndex`, and recorded
  ///     so).
  ///   - pool: How token and spatial axes are reduced (see `Pooling`).
  ///   - pairedByIndex: The models hold different inputs (two datasets through one model, as
  ///     torch_cka's two data loaders), paired by position: their example counts may differ, and
  ///     the first `examples` (default: the smallest count) of each are compared. Each set's
  ///     `pairedByIndex` says so.
  /// - Throws: `InputError` when `examples` exceeds a model's count. Counts that differ without
  ///   `examples` or `pairedByIndex` are refused by `CKAEstimator.similarities`, with a message
  ///   naming both options.
  public static func group(_ paths: [String], layersA: [String]? = nil, layersB: [String]? = nil,
                           nameA: String? = nil, nameB: String? = nil, examples: Int? = nil,
                           pairedByIndex: Bool = false, pool: Pooling = .flatten) throws -> [ActivationSet] {
    var sets: [ActivationSet] = []
    for (k, path) in paths.enumerated() {
      let name = k == 0 ? nameA : k == 1 ? nameB : nil
      var set = try ActivationSet(path: path, layers: k == 0 ? layersA : layersB, name: name, pool: pool)
      if name == nil, sets.contains(where: { $0.name == set.name && $0.path != path }) { set.name = set.path }
      sets.append(set)
    }
    // The first N of models with different counts are different inputs (torch_cka's two data
    // loaders): asking for N examples of such models is a dataset comparison, paired by position.
    let differ = sets.contains { $0.examples != sets[0].examples }
    let paired = pairedByIndex || (examples != nil && differ)
    if let count = examples ?? (pairedByIndex ? sets.map(\.examples).min() : nil) {
      sets = try sets.map { try $0.prefix(count) }
    }
    for k in sets.indices { sets[k].pairedByIndex = paired }
    return sets
  }
}
