import CompareCore

/// Entry points for the fuzz targets (`Sources/FuzzTensorIO`): each reader run on bytes held
/// in memory. Not part of the everyday API; every input must end in a value or a `ReadError`,
/// never a crash, a hang or unbounded memory.
package enum TensorFuzzing {
  /// The reader a fuzz input goes to.
  package enum Target: String, CaseIterable, Sendable {
    /// `.npy` header and data.
    case npy
    /// Zip archives: `.npz` members, stored and deflated (and torch.save zips).
    case zip
    /// `.safetensors` header validation.
    case safetensors
    /// The restricted unpickler and the torch object walk, on a raw pickle; every storage is a
    /// 4 KiB buffer of zeros.
    case pickle
    /// The restricted unpickler alone on a raw pickle (no torch walk, no tensors): the opcode
    /// loop, memo and container building.
    case unpickler
    /// The JSON parser of safetensors headers, then the shard-index reading of the same bytes
    /// (`model.safetensors.index.json` with a `weight_map`); every parsed document is written
    /// back and must parse again.
    case json
  }

  /// Runs `target` on `bytes` (copied into a buffer of their own) and converts every tensor it
  /// yields to `Double`, returning how many elements it read; a `ReadError` is a normal outcome.
  @discardableResult
  package static func run(_ target: Target, _ bytes: UnsafeRawBufferPointer) -> Int {
    let storage = TensorStorage(count: bytes.count) { out in
      if let base = bytes.baseAddress { out.copyMemory(from: UnsafeRawBufferPointer(start: base, count: bytes.count)) }
    }
    let path = "fuzz-input"
    do {
      let file: TensorFile
      switch target {
      case .npy:
        let tensor = try NPYReader.tensor(in: storage, range: 0..<storage.bytes.count, file: path, key: "x")
        file = TensorFile(path: path, format: .npy, tensors: [tensor])
      case .zip:
        file = try ZipTensorReader.open(path: path, storage: storage)
      case .safetensors:
        file = try SafetensorsReader.open(path: path, storage: storage)
      case .pickle:
        let zeros = TensorStorage(count: 4096) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        file = try TorchReader.read(pickle: storage.bytes, path: path, byteOrder: .little) { _ in zeros }
      case .unpickler:
        var unpickler = Unpickler(file: path, bytes: storage.bytes)
        defer { unpickler.release() }
        _ = try unpickler.load()
        return 0
      case .json:
        return try json(storage.bytes)
      }
      var elements = 0
      for tensor in file.tensors where tensor.count <= 1 << 24 {
        elements += try tensor.doubles().count
        _ = try TensorStatistics(of: tensor)
        _ = try tensor.head(3)
      }
      return elements
    } catch is ReadError {
      return 0
    } catch {
      preconditionFailure("a reader threw \(type(of: error)), not a ReadError: \(error)")
    }
  }

  /// The `json` target: returns the number of shard names found.
  static func json(_ bytes: UnsafeRawBufferPointer) throws -> Int {
    if let value = try? JSONValue.parse(bytes) {
      let text = value.serialized()
      do {
        _ = try JSONValue.parse(text)
      } catch {
        preconditionFailure("serialized JSON does not parse again (\(error)): \(text.prefix(200))")
      }
    }
    return try SafetensorsIndex.shardNames(in: bytes, file: "fuzz-input").count
  }
}
