import CompareCore

/// A tensor named on the command line: `FILE` or `FILE:KEY`.
///
/// `KEY` is an `.npz` member, a safetensors tensor name, or a path of keys into a
/// torch.save'd dictionary joined by `.` (`log.pt:logits`, `ckpt.pt:state_dict`). The split
/// is at the first `:` whose left part exists on disk, so paths with colons still work; when
/// none exists, at the first `:` after a tensor file extension, so that the error names the
/// missing file.
public struct TensorReference: Sendable, Equatable, CustomStringConvertible {
  /// The file or directory.
  public var path: String
  /// The key inside it, or `nil` for the whole file.
  public var key: String?

  public init(path: String, key: String? = nil) {
    self.path = path
    self.key = key
  }

  /// Parses `FILE` or `FILE:KEY`.
  public init(_ text: String) {
    var info = stat()
    if stat(text, &info) == 0 {
      self.init(path: text)
      return
    }
    var index = text.startIndex
    while let colon = text[index...].firstIndex(of: ":") {
      let candidate = String(text[..<colon])
      if !candidate.isEmpty, stat(candidate, &info) == 0 {
        self.init(path: candidate, key: String(text[text.index(after: colon)...]))
        return
      }
      index = text.index(after: colon)
    }
    if let colon = text.indices.first(where: { i in
      text[i] == ":" && Folders.tensorExtensions.contains { text[..<i].hasSuffix($0) }
    }) {
      self.init(path: String(text[..<colon]), key: String(text[text.index(after: colon)...]))
      return
    }
    self.init(path: text)
  }

  public var description: String { key.map { "\(path):\($0)" } ?? path }

  /// Exactly one tensor: the one named by the key, or the file's only tensor.
  /// - Throws: `ReadError` naming the available keys when the key is missing or the file holds
  ///   several tensors and no key was given.
  public func tensor() throws -> Tensor {
    let file = try TensorFile.open(path)
    if let key { return try file.tensor(key) }
    guard file.tensors.count == 1 else {
      throw ReadError(file: path, "holds \(file.tensors.count) tensors; name one as \(path):KEY (available: \(TensorFile.list(file.keys)))")
    }
    return file.tensors[0]
  }

  /// Several tensors: all of the file's when there is no key, else the one named by the key or
  /// all under it (`ckpt.pt:state_dict`).
  /// - Throws: `ReadError` when nothing matches the key or the file holds no tensor.
  public func tensors() throws -> [Tensor] {
    let file = try TensorFile.open(path)
    guard let key else {
      guard !file.tensors.isEmpty else { throw ReadError(file: path, "holds no tensors") }
      return file.tensors
    }
    let found = file.tensors(under: key)
    guard !found.isEmpty else {
      throw ReadError(file: path, "has no tensor '\(key)' (available: \(TensorFile.list(file.keys)))")
    }
    return found
  }
}
