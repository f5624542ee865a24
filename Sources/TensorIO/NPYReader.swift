/// Reads numpy `.npy` data (format versions 1, 2 and 3): the header's `descr`, `fortran_order`
/// and `shape`, then the raw elements, which stay in place (mapped or owned).
///
/// Reference: numpy's `numpy/lib/format.py`.
public enum NPYReader {
  /// The magic string that starts every `.npy` file.
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  /// `true` when `bytes` starts with the `.npy` magic.
  public static func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 6 && zip(bytes.prefix(6), magic).allSatisfy { $0 == $1 }
  }

  /// The tensor in the `.npy` bytes `storage.bytes[range]`.
  ///
  /// - Parameters:
  ///   - file: The file name, for messages.
  ///   - key: The tensor's key.
  /// - Throws: `ReadError` for a bad magic, an unreadable header, an unsupported dtype (object,
  ///   complex, strings) or data shorter than the shape needs.
  public static func tensor(in storage: TensorStorage, range: Range<Int>, file: String,
                            key: String) throws -> Tensor {
    let bytes = UnsafeRawBufferPointer(rebasing: storage.bytes[range])
    guard recognizes(bytes) else { throw ReadError(file: file, "'\(key)' is not a .npy array (bad magic)") }
    guard bytes.count >= 10 else { throw ReadError(file: file, "'\(key)' .npy header is truncated") }
    let major = bytes[6]
    let headerLength: Int, headerStart: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw ReadError(file: file, "'\(key)' .npy header is truncated") }
      headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
      headerStart = 12
    default:
      throw ReadError(file: file, "'\(key)' has unsupported .npy format version \(major)")
    }
    let dataStart = headerStart + headerLength
    guard headerLength > 0, dataStart <= bytes.count else {
      throw ReadError(file: file, "'\(key)' .npy header length \(headerLength) points past the end (\(bytes.count) bytes)")
    }
    let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<dataStart])
    let header = String(decoding: headerBytes, as: major == 3 ? UTF8.self : UTF8.self)
    let parsed = try parseHeader(header, file: file, key: key)
    let strides = parsed.fortranOrder ? fortranStrides(parsed.shape) : nil
    return try Tensor(file: file, key: key, dtype: parsed.dtype, shape: parsed.shape,
                      strides: strides, byteOrder: parsed.byteOrder,
                      byteOffset: range.lowerBound + dataStart, storage: storage)
  }

  /// Column-major strides of a shape.
  static func fortranStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in 0..<shape.count {
      strides[i] = s
      s = s &* max(shape[i], 1)
    }
    return strides
  }

  struct Header {
    var dtype: DType
    var byteOrder: ByteOrder
    var fortranOrder: Bool
    var shape: [Int]
  }

  /// Parses the Python-literal header dict, e.g.
  /// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
  static func parseHeader(_ header: String, file: String, key: String) throws -> Header {
    func fail(_ what: String) -> ReadError {
      ReadError(file: file, "'\(key)' has a malformed .npy header (\(what))")
    }
    guard let descr = value(of: "descr", in: header),
          descr.count >= 3, descr.first == "'" || descr.first == "\"" else { throw fail("no descr") }
    let typeString = String(descr.dropFirst().dropLast())
    let (dtype, order) = try parseDescr(typeString, file: file, key: key)
    guard let fortran = value(of: "fortran_order", in: header) else { throw fail("no fortran_order") }
    guard fortran == "True" || fortran == "False" else { throw fail("fortran_order \(fortran)") }
    guard let shapeText = value(of: "shape", in: header), shapeText.first == "(" else {
      throw fail("no shape")
    }
    let inner = shapeText.dropFirst().dropLast()
    var shape: [Int] = []
    for part in inner.split(separator: ",") {
      let trimmed = part.trimmingCharacters(in: " L")
      if trimmed.isEmpty { continue }
      guard let n = Int(trimmed), n >= 0 else { throw fail("shape \(shapeText)") }
      shape.append(n)
    }
    return Header(dtype: dtype, byteOrder: order, fortranOrder: fortran == "True", shape: shape)
  }

  /// The dtype and byte order of a numpy type string such as `<f4`, `|b1`, `>i8`, `<V2`.
  static func parseDescr(_ descr: String, file: String, key: String) throws -> (DType, ByteOrder) {
    var chars = Substring(descr)
    var order = ByteOrder.little
    if let first = chars.first, "<>|=".contains(first) {
      if first == ">" { order = .big }
      chars = chars.dropFirst()
    }
    let types: [String: DType] = [
      "f2": .float16, "f4": .float32, "f8": .float64,
      "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
      "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64,
      "b1": .bool, "?": .bool,
    ]
    guard let dtype = types[String(chars)] else {
      throw ReadError(file: file, "'\(key)' has unsupported dtype '\(descr)' (numbers and bool only)")
    }
    return (dtype, dtype.size == 1 ? .little : order)
  }

  /// The text of a dict entry's value: a quoted string, a tuple, or a bare word.
  static func value(of name: String, in header: String) -> String? {
    guard let keyRange = header.firstRange(of: "'\(name)'") ?? header.firstRange(of: "\"\(name)\"") else {
      return nil
    }
    var rest = header[keyRange.upperBound...].drop { $0 == " " }
    guard rest.first == ":" else { return nil }
    rest = rest.dropFirst().drop { $0 == " " }
    guard let first = rest.first else { return nil }
    if first == "(" {
      guard let close = rest.firstIndex(of: ")") else { return nil }
      return String(rest[...close])
    }
    if first == "'" || first == "\"" {
      guard let close = rest.dropFirst().firstIndex(of: first) else { return nil }
      return String(rest[...close])
    }
    let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
    return String(rest[..<end]).trimmingCharacters(in: " ")
  }
}

extension StringProtocol {
  /// The string without leading and trailing characters from `set`.
  func trimmingCharacters(in set: String) -> String {
    let scalars = Substring(self)
    let start = scalars.firstIndex { !set.contains($0) } ?? scalars.endIndex
    let end = scalars.lastIndex { !set.contains($0) }.map { scalars.index(after: $0) } ?? start
    return start < end ? String(scalars[start..<end]) : ""
  }
}
