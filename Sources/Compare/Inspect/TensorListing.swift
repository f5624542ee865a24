import CompareCore
import TensorIO

/// What `compare inspect` shows of a tensor file: each tensor's key, dtype, shape and bytes,
/// optionally its statistics (`TensorStatistics`) and first elements.
public struct TensorListing: Sendable {
  /// One listed tensor.
  public struct Entry: Sendable {
    public var tensor: Tensor
    public var statistics: TensorStatistics?
    /// The first elements in row-major order, as Double.
    public var head: [Double]
    /// For an integer tensor, the same elements exactly (a uint64 as its bit pattern); else empty.
    public var integerHead: [Int64] = []
  }

  /// The reference as given (`FILE` or `FILE:KEY`).
  public var reference: TensorReference
  public var format: TensorFormat
  public var entries: [Entry]
  /// Elements of `head` asked for.
  public var headCount: Int

  /// Lists the tensors of `reference` (those under its key, when it has one).
  /// - Throws: `ReadError` naming the file when it cannot be read or has no such key.
  public init(_ reference: TensorReference, statistics: Bool = false, head: Int = 0) throws {
    let file = try TensorFile.open(reference.path)
    var tensors = file.tensors
    if let key = reference.key {
      tensors = file.tensors(under: key)
      guard !tensors.isEmpty else {
        throw ReadError(file: reference.path, "has no tensor '\(key)' (available: \(TensorFile.list(file.keys)))")
      }
    }
    self.reference = reference
    self.format = file.format
    self.headCount = head
    entries = try tensors.map { t in
      Entry(tensor: t, statistics: statistics ? try TensorStatistics(of: t) : nil,
            head: head > 0 ? try t.head(head) : [],
            integerHead: head > 0 && !t.dtype.isFloatingPoint && t.dtype != .bool ? t.headIntegers(head) : [])
    }
  }

  /// `compare inspect --json`: `file`, `format`, `tensors` (key, dtype, shape, bytes, and
  /// min/max/mean/std/nan/inf, head when asked for).
  public func json() -> JSONValue {
    let tensors = entries.map { e -> JSONValue in
      let t = e.tensor
      var entry: [(String, JSONValue)] = [
        ("key", .string(t.key)), ("dtype", .string(t.dtype.numpyName)),
        ("shape", .array(t.shape.map(JSONValue.int))), ("bytes", .int(t.byteCount)),
      ]
      if let s = e.statistics {
        entry += [("min", .number(s.min)), ("max", .number(s.max)), ("mean", .number(s.mean)),
                  ("std", .number(s.std)), ("nan", .int(s.nan)), ("inf", .int(s.inf))]
      }
      if headCount > 0 {
        let values = e.integerHead.isEmpty ? e.head.map { Self.element(of: t.dtype, $0) }
          : e.integerHead.map { Self.element(integer: $0, unsigned: t.dtype == .uint64) }
        entry.append(("head", .array(values)))
      }
      return .object(entry)
    }
    return .object([("file", .string(reference.path)), ("format", .string(format.rawValue)), ("tensors", .array(tensors))])
  }

  /// The table `compare inspect` prints.
  public var text: String {
    let total = entries.reduce(0) { $0 + $1.tensor.byteCount }
    let noun = entries.count == 1 ? "tensor" : "tensors"
    var out = "\(reference.description): \(format.rawValue), \(entries.count) \(noun), \(Self.byteText(total))\n"
    let stats = entries.first?.statistics != nil
    var header = ["key", "dtype", "shape", "bytes"]
    if stats { header += ["min", "max", "mean", "std", "nan", "inf"] }
    let rows = entries.map { e -> [String] in
      var row = [e.tensor.key, e.tensor.dtype.numpyName, e.tensor.shapeDescription, String(e.tensor.byteCount)]
      if let s = e.statistics {
        row += [s.min, s.max, s.mean, s.std].map { $0.map { Self.text(of: .float64, $0) } ?? "-" }
        row += [String(s.nan), String(s.inf)]
      }
      return row
    }
    out += Format.table(header: header, rows: rows, rightAligned: Set(3..<header.count))
    if headCount > 0, !entries.isEmpty {
      out += "\nfirst \(headCount) elements (row-major):\n"
      for e in entries {
        let values = e.integerHead.isEmpty ? e.head.map { Self.text(of: e.tensor.dtype, $0) }
          : e.integerHead.map { e.tensor.dtype == .uint64 ? String(UInt64(bitPattern: $0)) : String($0) }
        out += "\(Format.visible(e.tensor.key)): [" + values.joined(separator: ", ") + "]\n"
      }
    }
    return out
  }

  /// An element as JSON: integers without a decimal point, bools as booleans, NaN/∞ as null.
  static func element(of dtype: DType, _ x: Double) -> JSONValue {
    if dtype == .bool { return .bool(x != 0) }
    if !dtype.isFloatingPoint, abs(x) < 9.0e15 { return .int(Int(x)) }
    return .double(x)
  }

  /// An integer element as JSON, exactly; a uint64 past `Int.max` as the nearest double.
  static func element(integer x: Int64, unsigned: Bool) -> JSONValue {
    guard unsigned, x < 0 else { return .int(Int(x)) }
    return .double(Double(UInt64(bitPattern: x)))
  }

  /// An element as numpy prints it, roughly: integers plain, floats in shortest form.
  static func text(of dtype: DType, _ x: Double) -> String {
    if dtype == .bool { return x != 0 ? "True" : "False" }
    if !dtype.isFloatingPoint, abs(x) < 9.0e15 { return String(Int(x)) }
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    return Format.general(x, 6)
  }

  /// A byte count for people: `840 B`, `12.3 kB`, `1.07 GB` (powers of 1000).
  public static func byteText(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : Format.general(value, 3) + " " + units[unit]
  }
}
