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
    /// A 3-D conv weight `(out, in, k)` (torch's `nn.Conv1d`): k slices, pooled like a conv2d.
    case conv1d
    /// Stacked mixture-of-experts weights `(experts, out, in)`: one row per expert
    /// (`NAME.expert.E`), each of this kind.
    case expert
    /// The summary row of a stacked expert tensor: the pooled ESD of all its experts.
    case experts
    /// A LoRA update ΔW = scale·B·A (`shape` is ΔW's, `out × in`; `loadFactors` reads B and
    /// A): its min(r, M) non-zero eigenvalues, as weightwatcher's `analyze(peft=True)`.
    case lora
    /// A base weight plus its LoRA update, W + ΔW (a plain 2-D matrix).
    case loraMerged = "lora_merged"
  }

  /// The tensor's key without a trailing `.weight`.
  public let name: String
  public let kind: Kind
  /// `[rows, columns]`, `[out, in, kh, kw]`, `[out, in, k]` or `[experts, out, in]`.
  public let shape: [Int]
  /// The elements, row-major (C order), widened to Double.
  public let load: @Sendable () throws -> [Double]
  /// The same layer at initialisation, when a base model is given.
  public let loadInit: (@Sendable () throws -> [Double])?
  /// Reads only some entries of the first axis (row-major), so that stacked experts are read
  /// one at a time; `nil`: `load` is sliced.
  public var loadRows: (@Sendable (Range<Int>) throws -> [Double])?
  /// The same for the init layer.
  public var loadInitRows: (@Sendable (Range<Int>) throws -> [Double])?
  /// Writes the elements into the given array, resized to hold them (its storage reused when
  /// large enough): how large layers are read into `ESDScratch`'s buffer instead of a fresh one.
  /// `nil`: `load` is used.
  public var loadInto: (@Sendable (inout [Double]) throws -> Void)?
  /// The same in float32, for a layer stored in a type float32 holds exactly (float32, float16,
  /// bfloat16): large layers are then analysed from this half-size copy, and their Gram
  /// matrices formed in float64 panel by panel (`ESDAnalyzer`). `nil`: `loadInto` is used.
  public var loadFloatsInto: (@Sendable (inout [Float]) throws -> Void)?
  /// The float32 elements where they are stored (a mapped file's bytes), row-major, when no
  /// conversion is needed; `nil` (or a `nil` result): `loadFloatsInto` copies them.
  public var storedFloats: (@Sendable () throws -> StoredFloats?)?
  /// `layer_id`: the layer's 1-based position in its model's list of weights; `nil`: its
  /// position in the list being analysed.
  public var id: Int?
  /// `longname`: the tensor's key (`nil`: the name).
  public var key: String?
  /// For a `.lora` layer: r, the factors' inner dimension (min(r, M) eigenvalues are reported).
  public var rank: Int?
  /// For a `.lora` layer: reads B and A (and the scale); `load` gives the product ΔW itself,
  /// needed only for the shuffled counterpart.
  public var loadFactors: (@Sendable () throws -> LowRankProduct)?

  public init(name: String, kind: Kind, shape: [Int], load: @escaping @Sendable () throws -> [Double],
              loadInit: (@Sendable () throws -> [Double])? = nil) {
    self.name = name
    self.kind = kind
    self.shape = shape
    self.load = load
    self.loadInit = loadInit
  }

  /// A layer over a matrix already in memory. A float32 matrix is read as float32 where the
  /// analysis can (`loadFloatsInto`), and widened to float64 only where it cannot.
  public init<S: BLASScalar>(name: String, matrix: Matrix<S>, kind: Kind = .dense, initial: Matrix<S>? = nil) {
    let initElements = initial.map { $0.elements.map { Double($0) } }
    var loadInit: (@Sendable () throws -> [Double])?
    if let initElements { loadInit = { initElements } }
    let values = matrix.elements
    self.init(name: name, kind: kind, shape: [matrix.rows, matrix.columns], load: { values.map { Double($0) } },
              loadInit: loadInit)
    if S.self == Float.self {
      // The matrix's own storage, shared rather than copied.
      let floats = unsafeBitCast(values, to: [Float].self)
      loadFloatsInto = { $0 = floats }
    }
  }

  /// Slices pooled into one ESD: kh·kw for a conv2d weight, k for a conv1d, else 1 (an expert
  /// tensor's summary row pools its `experts` instead).
  public var rf: Int {
    switch kind {
    case .conv2d where shape.count == 4: shape[2] * shape[3]
    case .conv1d where shape.count == 3: shape[2]
    default: 1
    }
  }

  /// Experts stacked along the first axis (1 unless `kind` is `.expert`).
  public var experts: Int { kind == .expert && shape.count == 3 ? shape[0] : 1 }

  /// Rows and columns of one slice as stored (`out × in` for a conv or an expert).
  public var sliceShape: (rows: Int, columns: Int) {
    if kind == .expert && shape.count == 3 { return (shape[1], shape[2]) }
    return (shape[0], shape.count > 1 ? shape[1] : 1)
  }

  /// N = max and M = min of a slice's dimensions.
  public var n: Int { Swift.max(sliceShape.rows, sliceShape.columns) }
  public var m: Int { Swift.min(sliceShape.rows, sliceShape.columns) }

  /// Elements in the tensor.
  public var count: Int { shape.reduce(1, *) }

  /// The slices of `elements` (row-major tensor of `shape`): the matrix itself, the kh·kw
  /// matrices W[:, :, i, j] of a conv2d in row-major order of (i, j), or the k matrices
  /// W[:, :, i] of a conv1d, each `out × in`.
  package func slices(of elements: [Double]) -> [[Double]] {
    let kernel: Int
    switch kind {
    case .conv2d where shape.count == 4: kernel = shape[2] * shape[3]
    case .conv1d where shape.count == 3: kernel = shape[2]
    default: return [elements]
    }
    // (kh, kw) positions flatten to one index in row-major order, so both kinds are the same
    // strided gather: element (a, b, p) of an out × in × kernel array.
    let (o, c) = (shape[0], shape[1])
    var result: [[Double]] = []
    for p in 0..<kernel {
      var slice = [Double](repeating: 0, count: o * c)
      for a in 0..<o { for b in 0..<c { slice[a * c + b] = elements[(a * c + b) * kernel + p] } }
      result.append(slice)
    }
    return result
  }

  /// Expert `e` of a stacked tensor (`out × in`, row-major), read alone where the loader can.
  package func expert(_ e: Int) throws -> [Double] {
    if let loadRows { return try loadRows(e..<(e + 1)) }
    let size = shape[1] * shape[2]
    return Array(try load()[(e * size)..<((e + 1) * size)])
  }

  /// Expert `e` of the init tensor.
  package func initialExpert(_ e: Int) throws -> [Double]? {
    if let loadInitRows { return try loadInitRows(e..<(e + 1)) }
    guard let loadInit else { return nil }
    let size = shape[1] * shape[2]
    return Array(try loadInit()[(e * size)..<((e + 1) * size)])
  }

  /// The problem with the first NaN or ∞ of `values`, this layer's elements from `offset` on
  /// (`layer 'fc1': weight has a non-finite value (nan) at [0, 3]`); `nil` when all are finite.
  package func nonFiniteProblem(in values: [Double], what: String = "weight", offset: Int = 0) -> String? {
    guard let bad = values.firstIndex(where: { !$0.isFinite }) else { return nil }
    return "layer '\(name)': \(what) has a non-finite value (\(values[bad])) at \(position(of: offset + bad))"
  }

  /// The position of flat index `index` in `shape`, for messages: `[3, 4]`.
  func position(of index: Int) -> String {
    var rest = index, coords: [Int] = []
    for d in shape.reversed() { coords.append(rest % Swift.max(d, 1)); rest /= Swift.max(d, 1) }
    return "[" + coords.reversed().map(String.init).joined(separator: ", ") + "]"
  }
}

/// float32 elements read in place, with the object that keeps their bytes alive (the mapped
/// file's storage).
public final class StoredFloats: @unchecked Sendable {
  /// The elements; valid while this object lives.
  public let buffer: UnsafeBufferPointer<Float>
  private let owner: AnyObject

  /// `buffer`, valid while `owner` (kept here) lives.
  public init(_ buffer: UnsafeBufferPointer<Float>, owner: AnyObject) {
    self.buffer = buffer
    self.owner = owner
  }
}
