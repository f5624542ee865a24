import CompareCore
/// Writes `.safetensors` files atomically: the JSON header (keys in the order given, padded with
/// spaces to a multiple of 8 bytes so that the data is aligned), then each tensor's bytes,
/// little-endian and C-ordered.
public enum SafetensorsWriter {
  /// One tensor to write: its name, dtype, shape and raw little-endian C-ordered bytes.
  public struct Entry: Sendable {
    public var key: String
    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    /// A tensor from raw bytes.
    /// - Precondition: `bytes.count` is the product of `shape` times the dtype size.
    public init(key: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
      precondition(bytes.count == shape.reduce(1, *) * dtype.size,
                   "safetensors entry '\(key)': \(bytes.count) bytes do not match shape \(shape) of \(dtype)")
      self.key = key
      self.dtype = dtype
      self.shape = shape
      self.bytes = bytes
    }

    /// A float32 tensor.
    public init(key: String, shape: [Int], values: [Float]) {
      self.init(key: key, dtype: .float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// A float64 tensor.
    public init(key: String, shape: [Int], values: [Double]) {
      self.init(key: key, dtype: .float64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    /// An int64 tensor.
    public init(key: String, shape: [Int], values: [Int64]) {
      self.init(key: key, dtype: .int64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }
  }

  /// The format's name of a dtype (`F32`, `BF16`, `BOOL`, …).
  public static func name(of dtype: DType) -> String {
    SafetensorsReader.dtypes.first { $0.value == dtype }!.key
  }

  /// The file's header bytes (length prefix and padded JSON) for `entries`.
  public static func header(_ entries: [Entry], metadata: [String: String] = [:]) -> [UInt8] {
    var pairs: [(String, JSONValue)] = []
    if !metadata.isEmpty {
      pairs.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
    }
    var offset = 0
    for entry in entries {
      pairs.append((entry.key, .object([
        ("dtype", .string(name(of: entry.dtype))),
        ("shape", .array(entry.shape.map(JSONValue.int))),
        ("data_offsets", .array([.int(offset), .int(offset + entry.bytes.count)])),
      ])))
      offset += entry.bytes.count
    }
    var json = Array(JSONValue.object(pairs).serialized().utf8)
    json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
    var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) }
    bytes += json
    return bytes
  }

  /// Writes `entries` (and string `metadata`, as `__metadata__`) to `path`, atomically.
  /// - Throws: `ReadError` naming `path` when two entries share a key, one is named
  ///   `__metadata__` (reserved), or the file cannot be written; no partial file is left.
  public static func write(_ entries: [Entry], metadata: [String: String] = [:], to path: String) throws {
    if let key = TensorFile.firstRepeated(entries.map(\.key)) {
      throw ReadError(file: path, "cannot be written: two tensors would be named '\(key)'")
    }
    if entries.contains(where: { $0.key == "__metadata__" }) {
      throw ReadError(file: path, "cannot be written: '__metadata__' is reserved for metadata, not a tensor name")
    }
    try AtomicFile.write(to: path) { fd in
      try header(entries, metadata: metadata).withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
      for entry in entries {
        try entry.bytes.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
      }
    }
  }
}
