import CompareCore

/// The index of a sharded safetensors checkpoint (`model.safetensors.index.json`, as Hugging Face
/// writes it): `{"metadata": {…}, "weight_map": {"tensor name": "model-00001-of-00002.safetensors", …}}`.
public enum SafetensorsIndex {
  /// The distinct shard file names in the index's `weight_map`, in order of first appearance.
  ///
  /// - Parameters:
  ///   - bytes: The index file's bytes (JSON).
  ///   - file: The index's path, for messages.
  /// - Throws: `ReadError` if the bytes are not JSON, have no `weight_map` object, or map a
  ///   tensor to something other than a `.safetensors` file name in the same folder.
  /// - Complexity: O(n) in the index's size (names are deduplicated through a set).
  public static func shardNames(in bytes: UnsafeRawBufferPointer, file: String) throws -> [String] {
    shards(of: try entries(in: bytes, file: file, suffix: ".safetensors"))
  }

  /// The shard names of the index file at `path` (see `shardNames(in:file:)`).
  public static func shardNames(inIndex path: String) throws -> [String] {
    let file = try MappedFile(path: path)
    return try shardNames(in: file.bytes, file: path)
  }

  /// The tensor names of the index file's `weight_map`, in the order the file lists them: the
  /// order the model saved them, which is the model's own order for `save_pretrained`. The
  /// `pytorch_model.bin.index.json` of `.bin` shards has the same `weight_map`, and is read the same way.
  /// - Throws: `ReadError` as `shardNames(in:file:)` for a file that is not such an index.
  public static func tensorNames(inIndex path: String) throws -> [String] {
    let file = try MappedFile(path: path)
    return try weightMap(in: file.bytes, file: path).map(\.0)
  }

  /// The index file's `weight_map` as (tensor, shard file name) pairs, in the order the file
  /// lists them (see `tensorNames(inIndex:)`); for the `.safetensors` or `.bin` shards beside it.
  /// With `suffix` (".safetensors"), every shard must have it, as `shardNames(in:file:)` checks.
  /// - Throws: `ReadError` if the file is not such an index, or maps a tensor to something other
  ///   than the name of a file in the same folder.
  /// - Complexity: O(n) in the index's size.
  public static func entries(inIndex path: String, suffix: String? = nil) throws -> [(tensor: String, file: String)] {
    let file = try MappedFile(path: path)
    return try entries(in: file.bytes, file: path, suffix: suffix)
  }

  /// The same from the index's bytes (`file` its path, for messages).
  static func entries(in bytes: UnsafeRawBufferPointer, file: String,
                      suffix: String?) throws -> [(tensor: String, file: String)] {
    try weightMap(in: bytes, file: file).map { tensor, value in
      guard case .string(let name) = value else {
        throw ReadError(file: file, "shard index maps tensor '\(tensor.prefix(80))' to \(value.serialized().prefix(40)), not a file name")
      }
      if let suffix {
        guard name.hasSuffix(suffix), !name.contains("/") else {
          throw ReadError(file: file, "shard index maps tensor '\(tensor.prefix(80))' to '\(name.prefix(80))', not a \(suffix) file in the same folder")
        }
      } else {
        guard !name.isEmpty, !name.contains("/") else {
          throw ReadError(file: file, "shard index maps tensor '\(tensor.prefix(80))' to '\(name.prefix(80))', not a file in the same folder")
        }
      }
      return (tensor, name)
    }
  }

  /// The distinct shard files of `entries`, in order of first appearance.
  public static func shards(of entries: [(tensor: String, file: String)]) -> [String] {
    var seen: Set<String> = []
    return entries.map(\.file).filter { seen.insert($0).inserted }
  }

  /// The `weight_map` object's (tensor, value) pairs, in document order.
  static func weightMap(in bytes: UnsafeRawBufferPointer, file: String) throws -> [(String, JSONValue)] {
    let index: JSONValue
    do {
      index = try JSONValue.parse(bytes)
    } catch let error as JSONValue.ParseError {
      throw ReadError(file: file, "shard index is not valid JSON (\(error.problem) at byte \(error.offset))")
    }
    guard case .object(let map)? = index["weight_map"] else {
      throw ReadError(file: file, "shard index has no \"weight_map\" object of tensor names to shard files")
    }
    return map
  }
}
