import CompareCore
import EnsembleKernel
import TensorIO

/// An ensemble's logits, `models × examples × classes`, from one or more tensor files joined
/// along the model axis (`"log.pt:logits"`-style references, e.g. the 40 shards of 500 runs of
/// the published CIFAR-10 logs). Memory-mapped: a range of models is converted only when the
/// kernel reads it.
///
/// ```swift
/// let test = try EnsembleLogits(references: ["runs-0.pt:logits", "runs-1.pt:logits"])
/// let labels = try test.labels("labels.npy")
/// ```
public struct EnsembleLogits: LogitsSource {
  /// The shards, in order.
  public let shards: [TensorLogits]
  let joined: any LogitsSource

  /// Opens every reference (`FILE` or `FILE:KEY`).
  /// - Throws: `ReadError` for an unreadable file; `InputError` unless each tensor is a
  ///   floating-point `[models, examples, classes]` array with no empty axis and the shards
  ///   agree on examples and classes.
  public init(references: [String]) throws {
    guard !references.isEmpty else { throw InputError("no logits given") }
    shards = try references.map { try TensorLogits($0) }
    joined = shards.count == 1 ? shards[0] : try ConcatenatedLogits(shards)
  }

  public var name: String { joined.name }
  public var models: Int { joined.models }
  public var examples: Int { joined.examples }
  public var classes: Int { joined.classes }
  public var precision: LogitsPrecision { joined.precision }
  public func logits(models: Range<Int>) throws -> [Float] { try joined.logits(models: models) }
  public func origin(ofModel model: Int) -> (source: any LogitsSource, model: Int) { joined.origin(ofModel: model) }
  public func logits(models: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    try joined.logits(models: models, into: buffer)
  }

  /// The integer labels at `reference` (`[examples]` or `[examples, 1]`), checked against
  /// these logits' examples and classes.
  /// - Throws: `InputError` naming the reference for a wrong shape, length, or a label outside
  ///   `0..<classes`.
  public func labels(_ reference: String) throws -> [Int] {
    let tensor = try TensorReference(reference).tensor()
    guard tensor.shape.count == 1 || (tensor.shape.count == 2 && tensor.shape[1] == 1) else {
      throw InputError("\(reference): labels have shape \(tensor.shapeDescription); expected [examples]")
    }
    let labels = try tensor.integers().map { Int($0) }
    try EnsembleAccuracy.check(labels: labels, for: self, name: reference)
    return labels
  }
}

/// One tensor of logits, `models × examples × classes`, read a range of models at a time from
/// its memory-mapped file.
public struct TensorLogits: LogitsSource {
  public let tensor: Tensor
  public let name: String

  /// Opens the logits named by `reference` (`FILE` or `FILE:KEY`).
  /// - Throws: `ReadError` if the file cannot be read; `InputError` unless the tensor is a
  ///   floating-point `[models, examples, classes]` array with no empty axis.
  public init(_ reference: String) throws {
    let tensor = try TensorReference(reference).tensor()
    guard tensor.dtype.isFloatingPoint else {
      throw InputError("\(reference): logits have dtype \(tensor.dtype.numpyName); expected float16, bfloat16, float32 or float64")
    }
    guard tensor.shape.count == 3 else {
      throw InputError("\(reference): logits have shape \(tensor.shapeDescription); expected [models, examples, classes]")
    }
    guard !tensor.shape.contains(0) else {
      throw InputError("\(reference): logits have shape \(tensor.shapeDescription); no axis may be empty")
    }
    self.tensor = tensor
    self.name = reference
  }

  public var models: Int { tensor.shape[0] }
  public var examples: Int { tensor.shape[1] }
  public var classes: Int { tensor.shape[2] }

  public var precision: LogitsPrecision {
    switch tensor.dtype {
    case .float16: .float16
    case .bfloat16: .bfloat16
    case .float64: .float64
    default: .float32
    }
  }

  public func logits(models: Range<Int>) throws -> [Float] { try tensor.floats(rows: models) }

  /// The logit as the file stores it, read again (one model's values), for messages.
  public func storedLogit(model: Int, example: Int, class cls: Int) -> Double? {
    guard (0..<models).contains(model), (0..<examples).contains(example), (0..<classes).contains(cls),
          let values = try? tensor.doubles(rows: model..<(model + 1)) else { return nil }
    return values[example * classes + cls]
  }

  /// Converts models `models` straight from the mapped file into the caller's buffer.
  public func logits(models: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    try tensor.floats(rows: models, into: buffer)
  }
}
