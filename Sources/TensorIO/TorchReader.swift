import CompareCore

/// Reads a `torch.save` zip archive with a restricted unpickler: containers, numbers, strings and
/// tensors only (see `Unpickler`). Tensor storages stay in the mapped file when stored
/// uncompressed, as PyTorch writes them; views sharing a storage share its bytes.
///
/// Keys are paths into the saved object joined by `.`: dictionary keys, and list or tuple
/// indices (`state_dict.fc1.weight`, `logits`, `0.weight`). A lone tensor is keyed by the
/// file name without its extension. Non-tensor leaves (numbers, strings, booleans) become the
/// file's metadata under their key path. A container referenced twice appears under its first
/// key only (tensors that merely share a storage, like tied weights, appear under each key).
enum TorchReader {
  /// Containers nested deeper than this are refused (a cycle or a hostile file).
  static let maximumDepth = 100

  static func open(path: String, archive: ZipArchive, pickle: ZipArchive.Entry) throws -> TensorFile {
    let prefix = String(pickle.name.dropLast("data.pkl".count))
    let pickleBytes = try archive.contents(of: pickle)
    var byteOrder = ByteOrder.little
    if let entry = archive.entries.first(where: { $0.name == prefix + "byteorder" }) {
      let text = String(decoding: try archive.contents(of: entry).bytes, as: UTF8.self)
      switch text {
      case "little": byteOrder = .little
      case "big": byteOrder = .big
      default: throw ReadError(file: path, "has an unknown byteorder '\(text.prefix(20))'")
      }
    }
    var entriesByName: [String: ZipArchive.Entry] = [:]
    for entry in archive.entries { entriesByName[entry.name] = entry }
    return try read(pickle: pickleBytes.bytes, path: path, byteOrder: byteOrder) { key in
      try entriesByName[prefix + "data/" + key].map { try archive.contents(of: $0) }
    }
  }

  /// Rebuilds the object pickled in `pickle` and returns its tensors, their storages found by
  /// `storageNamed` (the bytes of storage key `k`, or `nil` when there is none).
  static func read(pickle: UnsafeRawBufferPointer, path: String, byteOrder: ByteOrder,
                   storageNamed: (String) throws -> TensorStorage?) throws -> TensorFile {
    var unpickler = Unpickler(file: path, bytes: pickle)
    defer { unpickler.release() }
    let root = try unpickler.load()

    var storages: [String: TensorStorage] = [:]
    var tensors: [Tensor] = []
    var metadata: [String: String] = [:]
    // Containers already walked: one referenced twice (or containing itself) is listed under its
    // first key only, so the walk is linear in the pickle's size whatever its sharing.
    var visited: Set<ObjectIdentifier> = []

    func storage(_ reference: TorchStorageReference, key: String) throws -> TensorStorage {
      if let cached = storages[reference.key] { return cached }
      guard let storage = try storageNamed(reference.key) else {
        throw ReadError(file: path, "tensor '\(key)' refers to storage '\(reference.key)', which is not in the archive")
      }
      storages[reference.key] = storage
      storedBytes += storage.bytes.count
      return storage
    }

    // A tensor memoized once may be listed under many keys (tied weights do it twice), for two
    // bytes of pickle each; every listing costs its axes to check and its elements to convert.
    // Budget both against what the file holds: axes 4 per pickle byte, plus 64 K, and bytes
    // addressed 64 times the bytes stored, plus 1 MiB (the bound of one stride-0 view).
    var storedBytes = pickle.count
    var axes = 0
    var addressed = 0
    func tensor(_ reference: TorchTensorReference, key: String) throws -> Tensor {
      axes += reference.shape.count
      let axisBudget = 4 * pickle.count + (1 << 16)
      guard axes <= axisBudget else {
        throw ReadError(file: path, "pickle: its tensors have more than \(axisBudget) axes in all (one tensor listed under many keys?) at '\(key.prefix(40))'")
      }
      let storage = try storage(reference.storage, key: key)
      let size = reference.storage.dtype.size
      let (offset, overflow) = reference.storageOffset.multipliedReportingOverflow(by: size)
      guard !overflow else { throw ReadError(file: path, "tensor '\(key)' storage offset overflows") }
      let tensor = try Tensor(file: path, key: key, dtype: reference.storage.dtype, shape: reference.shape,
                              strides: reference.strides, byteOrder: size == 1 ? .little : byteOrder,
                              byteOffset: offset, storage: storage)
      addressed += tensor.byteCount
      let byteBudget = 64 * storedBytes + (1 << 20)
      guard addressed <= byteBudget else {
        throw ReadError(file: path, "pickle: its tensors address more than \(byteBudget) bytes, 64 times what the file stores (one tensor listed under many keys?) at '\(key.prefix(40))'")
      }
      return tensor
    }

    // Every key is its whole path, so a long name memoized once and reused at each of a hundred
    // levels costs a few bytes of pickle per level and its full length per leaf: budget the
    // total length of the keys made against the pickle's size.
    let keyBudget = 64 * pickle.count + (1 << 20)
    var keyBytes = 0
    func join(_ prefix: String, _ name: String) throws -> String {
      let key = prefix.isEmpty ? name : prefix + "." + name
      keyBytes += key.utf8.count
      guard keyBytes <= keyBudget else {
        throw ReadError(file: path, "pickle: key paths total more than \(keyBudget) bytes (long names repeated along deep paths) at '\(key.prefix(40))…'")
      }
      return key
    }

    func walk(_ value: PickleValue, key: String, depth: Int) throws {
      guard depth <= maximumDepth else {
        throw ReadError(file: path, "pickle: containers nested deeper than \(maximumDepth) levels at '\(key.prefix(40))…'")
      }
      switch value {
      case .tensor(let reference):
        let name = key.isEmpty ? TorchReader.stem(path) : key
        tensors.append(try tensor(reference, key: name))
      case .dict(let dict):
        guard visited.insert(ObjectIdentifier(dict)).inserted else { return }
        for (k, v) in dict.items {
          let name: String
          switch k {
          case .string(let s): name = s
          case .int(let n): name = String(n)
          case .bool(let b): name = b ? "True" : "False"
          case .float(let x): name = String(x)
          default: throw ReadError(file: path, "pickle: a dictionary key at '\(key)' is a \(k.typeName)")
          }
          try walk(v, key: try join(key, name), depth: depth + 1)
        }
      case .list(let list), .tuple(let list):
        guard visited.insert(ObjectIdentifier(list)).inserted else { return }
        for (i, v) in list.items.enumerated() { try walk(v, key: try join(key, String(i)), depth: depth + 1) }
      case .int(let n): metadata[key] = String(n)
      case .float(let x): metadata[key] = String(x)
      case .bool(let b): metadata[key] = b ? "True" : "False"
      case .string(let s): metadata[key] = s
      case .storage(let reference):
        // A bare storage (`torch.save(t.untyped_storage())`): all of it, as a vector.
        let name = key.isEmpty ? TorchReader.stem(path) : key
        let bytes = try storage(reference, key: name).bytes.count
        let whole = TorchTensorReference(storage: reference, storageOffset: 0,
                                         shape: [bytes / reference.dtype.size], strides: [1])
        tensors.append(try tensor(whole, key: name))
      case .none, .bytes, .global, .mark: break
      }
    }
    try walk(root, key: "", depth: 0)
    try TensorFile.requireDistinctKeys(tensors, in: path)
    return TensorFile(path: path, format: .torch, tensors: tensors, metadata: metadata)
  }

  /// The file name without folder and extension.
  static func stem(_ path: String) -> String {
    let name = FileSystem.baseName(path)
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
    return String(name[..<dot])
  }
}
