import CompareCore

/// A Hugging Face shard index (`model.safetensors.index.json`): which `.safetensors` files
/// hold a sharded model's tensors.
public enum SafetensorsIndex {
  /// The distinct `*.safetensors` file names among the index's string values (its
  /// `weight_map`), in order of first appearance; names with a `/` are ignored.
  ///
  /// - Throws: `ReadError` when the file cannot be read.
  /// - Complexity: one pass over the file's bytes.
  public static func shardNames(inIndex path: String) throws -> [String] {
    let file = try MappedFile(path: path)
    return shardNames(in: String(decoding: file.bytes, as: UTF8.self))
  }

  /// The tensor names of an index's `weight_map`, in the order the file lists them (the order
  /// the model saved them, which is the model's own order for `save_pretrained`), or `[]`
  /// when the file is not a JSON object with a `weight_map` object.
  ///
  /// - Throws: `ReadError` when the file cannot be read.
  public static func tensorNames(inIndex path: String) throws -> [String] {
    let file = try MappedFile(path: path)
    guard let json = try? JSONValue.parse(file.bytes), case .object(let map)? = json["weight_map"] else { return [] }
    return map.map(\.0)
  }

  /// The shard names in the text of an index (see `shardNames(inIndex:)`).
  public static func shardNames(in text: String) -> [String] {
    var names: [String] = []
    var seen = Set<String>()
    var rest = Substring(text)
    while let open = rest.firstIndex(of: "\"") {
      let after = rest[rest.index(after: open)...]
      guard let close = after.firstIndex(of: "\"") else { break }
      let word = String(after[..<close])
      if word.hasSuffix(".safetensors"), !word.contains("/"), seen.insert(word).inserted { names.append(word) }
      rest = after[after.index(after: close)...]
    }
    return names
  }
}
