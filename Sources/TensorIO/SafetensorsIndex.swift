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
    let index: JSONValue
    do {
      index = try JSONValue.parse(bytes)
    } catch let error as JSONValue.ParseError {
      throw ReadError(file: file, "shard index is not valid JSON (\(error.problem) at byte \(error.offset))")
    }
    guard case .object(let map)? = index["weight_map"] else {
      throw ReadError(file: file, "shard index has no \"weight_map\" object of tensor names to shard files")
    }
    var names: [String] = []
    var seen: Set<String> = []
    for (tensor, value) in map {
      guard case .string(let name) = value else {
        throw ReadError(file: file, "shard index maps tensor '\(tensor.prefix(80))' to \(value.serialized().prefix(40)), not a file name")
      }
      guard name.hasSuffix(".safetensors"), !name.contains("/") else {
        throw ReadError(file: file, "shard index maps tensor '\(tensor.prefix(80))' to '\(name.prefix(80))', not a .safetensors file in the same folder")
      }
      if seen.insert(name).inserted { names.append(name) }
    }
    return names
  }
}
