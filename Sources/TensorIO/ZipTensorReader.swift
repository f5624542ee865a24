/// Reads the two zip-based tensor formats: numpy `.npz` (one `.npy` per member) and PyTorch's
/// `torch.save` archives (`archive/data.pkl` plus one `archive/data/<key>` entry per storage).
enum ZipTensorReader {
  /// Opens the zip archive in `storage` (the whole mapped file).
  static func open(path: String, storage: TensorStorage) throws -> TensorFile {
    let archive = try ZipArchive(file: path, storage: storage)
    if let pickle = archive.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) {
      return try TorchReader.open(path: path, archive: archive, pickle: pickle)
    }
    return try openNPZ(path: path, archive: archive)
  }

  /// An `.npz`: every member ending in `.npy`, keyed by its name without `.npy`, in archive order.
  static func openNPZ(path: String, archive: ZipArchive) throws -> TensorFile {
    var tensors: [Tensor] = []
    for entry in archive.entries where entry.name.hasSuffix(".npy") {
      let key = String(entry.name.dropLast(4))
      let member = try archive.contents(of: entry)
      tensors.append(try NPYReader.tensor(in: member, range: 0..<member.bytes.count, file: path, key: key))
    }
    guard !tensors.isEmpty else {
      let names = archive.entries.map(\.name)
      throw ReadError(file: path, "is a zip archive with neither .npy members nor a torch data.pkl (members: \(TensorFile.list(names)))")
    }
    try TensorFile.requireDistinctKeys(tensors, in: path)
    return TensorFile(path: path, format: .npz, tensors: tensors)
  }
}
