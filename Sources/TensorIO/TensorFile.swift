import CompareCore

/// The container formats Compare reads.
public enum TensorFormat: String, Sendable {
  case npy, npz, safetensors, torch
  /// A directory of `.npy` files, one tensor each.
  case directory
}

/// A tensor file opened for reading: every tensor's key, dtype and shape, in file order, over
/// memory-mapped bytes. The format is recognised from the file's first bytes, not its name.
public struct TensorFile: Sendable {
  /// The path as the user gave it.
  public let path: String
  /// The container format.
  public let format: TensorFormat
  /// The tensors in file order.
  public let tensors: [Tensor]
  /// Free-form string metadata (safetensors `__metadata__`); empty for other formats.
  public let metadata: [String: String]

  public init(path: String, format: TensorFormat, tensors: [Tensor],
              metadata: [String: String] = [:]) {
    self.path = path
    self.format = format
    self.tensors = tensors
    self.metadata = metadata
  }

  /// Opens a `.npy`, `.npz`, `.safetensors` or `torch.save` zip file, or a directory of `.npy`
  /// files (keys are the file names without `.npy`, in natural order).
  ///
  /// - Throws: `ReadError` naming the file and the problem: missing, unreadable, an unknown
  ///   format, a malformed header, truncated data, a forbidden pickle global.
  public static func open(_ path: String) throws -> TensorFile {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw ReadError(file: path, MappedFile.describe(errno: errno))
    }
    if (info.st_mode & S_IFMT) == S_IFDIR { return try openDirectory(path) }
    let file = try MappedFile(path: path)
    let storage = TensorStorage(mapped: file)
    let bytes = file.bytes
    let name = FileSystem.baseName(path)
    if NPYReader.recognizes(bytes) {
      let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
      let tensor = try NPYReader.tensor(in: storage, range: 0..<bytes.count, file: path, key: key)
      return TensorFile(path: path, format: .npy, tensors: [tensor])
    }
    if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 {
      return try ZipTensorReader.open(path: path, storage: storage)
    }
    if SafetensorsReader.recognizes(bytes) {
      return try SafetensorsReader.open(path: path, storage: storage)
    }
    if bytes.isEmpty { throw ReadError(file: path, "is empty") }
    if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x05, bytes[3] == 0x06 {
      throw ReadError(file: path, "is an empty zip archive (no tensors)")
    }
    if bytes.first == 0x80 {
      throw ReadError(file: path, "is a legacy (non-zip) torch.save file; re-save it with a current PyTorch (torch.save uses zip since 1.6)")
    }
    throw ReadError(file: path, "is not a .npy, .npz, .safetensors or torch.save file")
  }

  /// Throws `ReadError` naming `path` and the key when two of `tensors` share a key (a
  /// safetensors header or an `.npz` can list one twice; which one is meant is then unknown,
  /// and Python's `safetensors` refuses such a file too).
  static func requireDistinctKeys(_ tensors: [Tensor], in path: String) throws {
    if let key = firstRepeated(tensors.map(\.key)) {
      throw ReadError(file: path, "holds two tensors named '\(key)'")
    }
  }

  /// The first key that appears a second time in `keys`, or `nil`.
  public static func firstRepeated(_ keys: [String]) -> String? {
    var seen = Set<String>()
    return keys.first { !seen.insert($0).inserted }
  }

  static func openDirectory(_ path: String) throws -> TensorFile {
    // `FileSystem.names` fails only in `opendir`, so `errno` still says why.
    guard let all = FileSystem.names(in: path) else {
      throw ReadError(file: path, "directory cannot be read: \(MappedFile.describe(errno: errno))")
    }
    var names = all.filter { $0.hasSuffix(".npy") }
    guard !names.isEmpty else { throw ReadError(file: path, "directory has no .npy files") }
    names.sort { NaturalOrder.precedes($0, $1) }
    var tensors: [Tensor] = []
    for name in names {
      let member = FileSystem.path(name, in: path)
      let file = try MappedFile(path: member)
      let tensor = try NPYReader.tensor(in: TensorStorage(mapped: file), range: 0..<file.bytes.count,
                                        file: member, key: String(name.dropLast(4)))
      tensors.append(tensor)
    }
    return TensorFile(path: path, format: .directory, tensors: tensors)
  }

  /// The keys of all tensors, in file order.
  public var keys: [String] { tensors.map(\.key) }

  /// The tensor with this exact key.
  /// - Throws: `ReadError` naming the available keys when there is none.
  public func tensor(_ key: String) throws -> Tensor {
    if let tensor = tensors.first(where: { $0.key == key }) { return tensor }
    throw ReadError(file: path, "has no tensor '\(key)' (available: \(TensorFile.list(keys)))")
  }

  /// The tensors whose key is `prefix` or starts with `prefix.`, keys kept whole.
  public func tensors(under prefix: String) -> [Tensor] {
    tensors.filter { $0.key == prefix || $0.key.hasPrefix(prefix + ".") }
  }

  /// A short list of keys for messages: the first few, then a count.
  public static func list(_ keys: [String], limit: Int = 8) -> String {
    if keys.isEmpty { return "none" }
    let shown = keys.prefix(limit).joined(separator: ", ")
    return keys.count > limit ? "\(shown), … \(keys.count - limit) more" : shown
  }
}
