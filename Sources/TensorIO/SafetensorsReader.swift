import CompareCore
/// Reads `.safetensors` files: an 8-byte little-endian header length, a JSON header mapping each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
/// end of the header) and an optional `"__metadata__"` object of strings, then the raw
/// little-endian, C-ordered data, which stays mapped.
///
/// The header is validated in full before any tensor is made: a sane header length, offsets
/// inside the file, `end - begin` equal to the shape's element count times the dtype size, and no
/// two tensors overlapping. Reference: the format's specification in the `safetensors` README.
public enum SafetensorsReader {
  /// Headers longer than this (100 MB, the reference implementation's limit) are refused.
  public static let maximumHeaderLength = 100_000_000

  /// The format's dtype names and ours.
  static let dtypes: [String: DType] = [
    "F16": .float16, "BF16": .bfloat16, "F32": .float32, "F64": .float64,
    "I8": .int8, "I16": .int16, "I32": .int32, "I64": .int64,
    "U8": .uint8, "U16": .uint16, "U32": .uint32, "U64": .uint64, "BOOL": .bool,
  ]

  /// `true` when the bytes look like a safetensors file: a `{` after the 8-byte header length.
  static func recognizes(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 9 && bytes[8] == UInt8(ascii: "{")
  }

  /// Opens the safetensors bytes in `storage`.
  /// - Throws: `ReadError` naming the file and, where there is one, the tensor.
  static func open(path: String, storage: TensorStorage) throws -> TensorFile {
    let bytes = storage.bytes
    func fail(_ problem: String) -> ReadError { ReadError(file: path, problem) }
    guard bytes.count >= 8 else { throw fail("safetensors header is truncated") }
    var length: UInt64 = 0
    for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    guard length <= UInt64(maximumHeaderLength) else {
      throw fail("safetensors header length \(length) is larger than \(maximumHeaderLength) bytes")
    }
    guard Int(length) <= bytes.count - 8 else {
      throw fail("safetensors header length \(length) points past the end (\(bytes.count) bytes)")
    }
    let dataStart = 8 + Int(length)
    let header: JSONValue
    do {
      header = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]))
    } catch let error as JSONValue.ParseError {
      throw fail("safetensors header is not valid JSON (\(error.problem) at byte \(8 + error.offset))")
    }
    guard case .object(let entries) = header else { throw fail("safetensors header is not a JSON object") }
    let data = TensorStorage(storage, range: dataStart..<bytes.count)
    var metadata: [String: String] = [:]
    var tensors: [Tensor] = []
    var ranges: [(range: Range<Int>, key: String)] = []
    for (key, value) in entries {
      if key == "__metadata__" {
        guard case .object(let pairs) = value else { throw fail("__metadata__ is not an object") }
        for (name, item) in pairs {
          guard case .string(let text) = item else { throw fail("__metadata__ '\(name)' is not a string") }
          metadata[name] = text
        }
        continue
      }
      func bad(_ problem: String) -> ReadError { fail("tensor '\(key)' \(problem)") }
      guard case .object = value else { throw bad("has no description object") }
      guard case .string(let typeName)? = value["dtype"] else { throw bad("has no dtype") }
      guard let dtype = dtypes[typeName] else {
        throw bad("has unsupported dtype '\(typeName)' (supported: F16, BF16, F32, F64, I8-I64, U8-U64, BOOL)")
      }
      guard case .array(let dims)? = value["shape"] else { throw bad("has no shape") }
      var shape: [Int] = []
      for d in dims {
        guard case .int(let n) = d, n >= 0 else { throw bad("has an invalid shape") }
        shape.append(n)
      }
      guard case .array(let offsets)? = value["data_offsets"], offsets.count == 2,
            case .int(let begin) = offsets[0], case .int(let end) = offsets[1] else {
        throw bad("has no data_offsets [begin, end]")
      }
      guard begin >= 0, begin <= end else { throw bad("has data_offsets [\(begin), \(end)] out of order") }
      guard end <= data.bytes.count else {
        throw bad("is truncated (data_offsets end at \(end), the data holds \(data.bytes.count) bytes)")
      }
      guard let count = Tensor.checkedCount(shape),
            case (let byteCount, false) = count.multipliedReportingOverflow(by: dtype.size) else {
        throw bad("shape \(shape) overflows")
      }
      guard byteCount == end - begin else {
        throw bad("holds \(end - begin) bytes, but shape \(shape) of \(typeName) needs \(byteCount)")
      }
      tensors.append(try Tensor(file: path, key: key, dtype: dtype, shape: shape,
                                byteOffset: begin, storage: data))
      ranges.append((begin..<end, key))
    }
    let sorted = ranges.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
    for (a, b) in zip(sorted, sorted.dropFirst()) where b.range.lowerBound < a.range.upperBound {
      throw fail("tensors '\(a.key)' and '\(b.key)' overlap (bytes \(a.range.lowerBound)..<\(a.range.upperBound) and \(b.range.lowerBound)..<\(b.range.upperBound))")
    }
    try TensorFile.requireDistinctKeys(tensors, in: path)
    return TensorFile(path: path, format: .safetensors, tensors: tensors, metadata: metadata)
  }
}
