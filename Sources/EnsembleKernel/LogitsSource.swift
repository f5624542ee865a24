import CompareCore

/// The precision logits were stored in. The ensemble prediction rounds the mean logits to it
/// before the argmax, as the reference code's `logits.mean(0)` does on a float16 tensor.
public enum LogitsPrecision: String, Sendable {
  case float16, bfloat16, float32, float64

  /// `value` rounded to this precision (to nearest, ties to even).
  @inlinable
  public func rounded(_ value: Double) -> Double {
    switch self {
    case .float64: return value
    case .float32: return Double(Float(value))
    case .float16:
      #if arch(x86_64) || arch(arm64)
      return Double(Float(Float16(Float(value))))
      #else
      return Double(Float(value))
      #endif
    case .bfloat16:
      let f = Float(value)
      guard f.isFinite else { return Double(f) }
      let bits = f.bitPattern
      let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
      return Double(Float(bitPattern: (bits &+ rounding) & 0xFFFF_0000))
    }
  }
}

/// Where the logits of an ensemble come from: a `models × examples × classes` array, read a
/// range of models at a time so that thousands of models never need to be in memory at once.
///
/// Compare's command line adapts tensor files to it; `LogitsArray` holds logits in memory and
/// `ConcatenatedLogits` joins shards along the model axis.
public protocol LogitsSource: Sendable {
  /// What the logits are called in messages, e.g. `runs.npz:logits`.
  var name: String { get }
  /// Number of models (the first axis).
  var models: Int { get }
  /// Number of examples (the second axis).
  var examples: Int { get }
  /// Number of classes (the third axis).
  var classes: Int { get }
  /// The precision the logits are stored in.
  var precision: LogitsPrecision { get }
  /// The logits of models `models`, row-major `models.count × examples × classes`.
  /// - Throws: Whatever reading them throws (a read error naming the file).
  func logits(models: Range<Int>) throws -> [Float]
  /// Writes the logits of models `models`, row-major `models.count × examples × classes`, into
  /// the start of `buffer`: the kernel streams every model through one buffer allocated per
  /// run, so a source that can decode straight into it allocates nothing per read.
  ///
  /// The default implementation reads one model at a time through `logits(models:)` and
  /// copies it in, so that besides `buffer` only one model's logits are held (and a short-lived
  /// array of that size is recycled by the allocator instead of faulted in afresh). A source
  /// that can write in place (a memory-mapped file, say) should implement this too.
  /// - Throws: `InputError` if `buffer` is too small or the source returns the wrong number of
  ///   values; whatever reading them throws.
  func logits(models: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws
  /// Where model `model` is stored, for messages: the source that holds it (a shard file of
  /// joined logits, say) and the model's index there. The default is this source and `model`.
  func origin(ofModel model: Int) -> (source: any LogitsSource, model: Int)
  /// One logit as stored, before its conversion to float32 (a float64 file's 1e300, which
  /// float32 cannot hold), for messages; `nil` (the default) when the source cannot say.
  func storedLogit(model: Int, example: Int, class: Int) -> Double?
}

extension LogitsSource {
  /// `logits(models:)` for a source that reads into buffers: one array filled by
  /// `logits(models:into:)`.
  func collectedLogits(models range: Range<Int>) throws -> [Float] {
    let total = range.count * examples * classes
    return try [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
      try logits(models: range, into: buffer)
      initialized = total
    }
  }

  public var precision: LogitsPrecision { .float32 }

  public func origin(ofModel model: Int) -> (source: any LogitsSource, model: Int) { (self, model) }

  public func storedLogit(model: Int, example: Int, class: Int) -> Double? { nil }

  /// The error for logit [`model`, `example`, `cls`], `value` as read (float32), that is not
  /// finite: it names the file that holds it and the index there (`origin(ofModel:)`), and
  /// says when the stored value is finite but outside float32's range.
  public func nonFiniteLogitError(model: Int, example: Int, class cls: Int, value: Float) -> InputError {
    let (holder, local) = origin(ofModel: model)
    let place = "\(holder.name): logit [\(local), \(example), \(cls)]"
    if value.isInfinite, let stored = holder.storedLogit(model: local, example: example, class: cls), stored.isFinite {
      return InputError("\(place) is \(stored), outside float32's range")
    }
    return InputError("\(place) is \(value); logits must be finite")
  }

  public func logits(models range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    _ = try checkedCount(models: range, buffer: buffer)
    let size = examples * classes
    for (offset, model) in range.enumerated() {
      let values = try logits(models: model..<(model + 1))
      guard values.count == size else {
        throw InputError("\(name): read \(values.count) logits for model \(model), expected \(size)")
      }
      _ = UnsafeMutableBufferPointer(rebasing: buffer[(offset * size)...]).update(fromContentsOf: values)
    }
  }

  /// The number of logits of models `range`, once checked to fit in `buffer`.
  /// - Throws: `InputError` naming the source if they do not.
  func checkedCount(models range: Range<Int>, buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
    let total = range.count * examples * classes
    guard buffer.count >= total else {
      throw InputError("\(name): a buffer of \(buffer.count) floats cannot hold the \(total) logits of models \(range.lowerBound)..<\(range.upperBound)")
    }
    return total
  }

  /// `models × examples × classes`, for messages.
  public var shapeDescription: String { "[\(models), \(examples), \(classes)]" }
}

/// Logits held in memory, `models × examples × classes`, row-major.
public struct LogitsArray: LogitsSource {
  public let name: String
  public let models: Int
  public let examples: Int
  public let classes: Int
  public let precision: LogitsPrecision
  /// Row-major `models × examples × classes` values.
  public let values: [Float]

  /// Logits from row-major values.
  /// - Throws: `InputError` if `values.count` is not `models · examples · classes`.
  public init(name: String = "logits", models: Int, examples: Int, classes: Int, values: [Float],
              precision: LogitsPrecision = .float32) throws {
    guard models >= 0, examples >= 0, classes >= 0, values.count == models * examples * classes else {
      throw InputError("\(name): \(values.count) values do not fill shape [\(models), \(examples), \(classes)]")
    }
    self.name = name
    self.models = models
    self.examples = examples
    self.classes = classes
    self.values = values
    self.precision = precision
  }

  public func logits(models range: Range<Int>) throws -> [Float] {
    let size = examples * classes
    return Array(values[(range.lowerBound * size)..<(range.upperBound * size)])
  }

  public func logits(models range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    let size = examples * classes
    _ = try checkedCount(models: range, buffer: buffer)
    if range.isEmpty { return }
    _ = buffer.update(fromContentsOf: values[(range.lowerBound * size)..<(range.upperBound * size)])
  }
}

/// Several logits sources joined along the model axis (shard files of the same examples).
public struct ConcatenatedLogits: LogitsSource {
  /// The shards, in order.
  public let shards: [any LogitsSource]
  public let models: Int
  public let examples: Int
  public let classes: Int

  /// Joins `shards` along the model axis.
  /// - Throws: `InputError` if there are none, or their example or class counts differ
  ///   (naming both shards).
  public init(_ shards: [any LogitsSource]) throws {
    guard let first = shards.first else { throw InputError("no logits given") }
    for shard in shards.dropFirst() {
      guard shard.examples == first.examples, shard.classes == first.classes else {
        throw InputError("\(shard.name) has shape \(shard.shapeDescription) but \(first.name) has \(first.shapeDescription): shards must share examples and classes")
      }
    }
    self.shards = shards
    self.models = shards.reduce(0) { $0 + $1.models }
    self.examples = first.examples
    self.classes = first.classes
  }

  public var name: String {
    shards.count == 1 ? shards[0].name : "\(shards[0].name) (+\(shards.count - 1) shards)"
  }

  /// The coarsest precision of the shards.
  public var precision: LogitsPrecision {
    let order: [LogitsPrecision] = [.float16, .bfloat16, .float32, .float64]
    return shards.map(\.precision).min { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! } ?? .float32
  }

  /// The shard's own origin of the model (its file, when the shard is a file).
  public func origin(ofModel model: Int) -> (source: any LogitsSource, model: Int) {
    let (shard, local) = locate(model)
    return shards[shard].origin(ofModel: local)
  }

  /// The shard holding model `model`, and the model's index inside it.
  public func locate(_ model: Int) -> (shard: Int, model: Int) {
    var offset = 0
    for (i, shard) in shards.enumerated() {
      if model < offset + shard.models { return (i, model - offset) }
      offset += shard.models
    }
    return (shards.count - 1, model - offset)
  }

  public func logits(models range: Range<Int>) throws -> [Float] { try collectedLogits(models: range) }

  /// Each shard writes its models straight into its part of `buffer`.
  public func logits(models range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    guard range.lowerBound >= 0, range.upperBound <= models else {
      throw InputError("\(name) has no models \(range.lowerBound)..<\(range.upperBound) (it has \(models))")
    }
    _ = try checkedCount(models: range, buffer: buffer)
    let size = examples * classes
    var offset = 0, written = 0
    for shard in shards {
      let lo = max(range.lowerBound, offset), hi = min(range.upperBound, offset + shard.models)
      if lo < hi {
        let part = UnsafeMutableBufferPointer(rebasing: buffer[written..<(written + (hi - lo) * size)])
        try shard.logits(models: (lo - offset)..<(hi - offset), into: part)
        written += (hi - lo) * size
      }
      offset += shard.models
      if offset >= range.upperBound { break }
    }
  }
}
