import CompareCore

/// One weight of a model, ready to analyse: its name, kind, shape and a way to read its
/// elements when its turn comes (so a model is streamed one layer at a time).
public struct WeightLayer: Sendable {
  /// What the weight belongs to; the reference tool's `layer_type`.
  public enum Kind: String, Sendable {
    /// A 2-D weight of a linear (or HF Conv1D) layer.
    case dense
    /// A 2-D embedding table.
    case embedding
    /// A 4-D conv weight `(out, in, kh, kw)`.
    case conv2d
  }

  /// The tensor's key without a trailing `.weight`.
  public let name: String
  public let kind: Kind
  /// `[rows, columns]` or `[out, in, kh, kw]`.
  public let shape: [Int]
  /// The elements, row-major (C order), widened to Double.
  public let load: @Sendable () throws -> [Double]
  /// The same layer at initialisation, when a base model is given.
  public let loadInit: (@Sendable () throws -> [Double])?

  public init(name: String, kind: Kind, shape: [Int], load: @escaping @Sendable () throws -> [Double],
              loadInit: (@Sendable () throws -> [Double])? = nil) {
    self.name = name
    self.kind = kind
    self.shape = shape
    self.load = load
    self.loadInit = loadInit
  }

  /// A layer over a matrix already in memory.
  public init<S: BLASScalar>(name: String, matrix: Matrix<S>, kind: Kind = .dense, initial: Matrix<S>? = nil) {
    let elements = matrix.elements.map { Double($0) }
    let initElements = initial.map { $0.elements.map { Double($0) } }
    var loadInit: (@Sendable () throws -> [Double])?
    if let initElements { loadInit = { initElements } }
    self.init(name: name, kind: kind, shape: [matrix.rows, matrix.columns], load: { elements },
              loadInit: loadInit)
  }

  /// Slices pooled into one ESD: kh·kw for a conv weight, else 1.
  public var rf: Int { shape.count == 4 ? shape[2] * shape[3] : 1 }

  /// Rows and columns of one slice as stored (`out × in` for a conv).
  public var sliceShape: (rows: Int, columns: Int) { (shape[0], shape.count > 1 ? shape[1] : 1) }

  /// N = max and M = min of a slice's dimensions.
  public var n: Int { Swift.max(sliceShape.rows, sliceShape.columns) }
  public var m: Int { Swift.min(sliceShape.rows, sliceShape.columns) }

  /// Elements in the tensor.
  public var count: Int { shape.reduce(1, *) }

  /// The slices of `elements` (row-major tensor of `shape`): the matrix itself, or the kh·kw
  /// matrices W[:, :, i, j] of a conv in row-major order of (i, j), each `out × in`.
  package func slices(of elements: [Double]) -> [[Double]] {
    guard shape.count == 4 else { return [elements] }
    let (o, c, kh, kw) = (shape[0], shape[1], shape[2], shape[3])
    var result: [[Double]] = []
    for i in 0..<kh {
      for j in 0..<kw {
        var slice = [Double](repeating: 0, count: o * c)
        for a in 0..<o { for b in 0..<c { slice[a * c + b] = elements[((a * c + b) * kh + i) * kw + j] } }
        result.append(slice)
      }
    }
    return result
  }

  /// The position of flat index `index` in `shape`, for messages: `[3, 4]`.
  func position(of index: Int) -> String {
    var rest = index, coords: [Int] = []
    for d in shape.reversed() { coords.append(rest % Swift.max(d, 1)); rest /= Swift.max(d, 1) }
    return "[" + coords.reversed().map(String.init).joined(separator: ", ") + "]"
  }
}
