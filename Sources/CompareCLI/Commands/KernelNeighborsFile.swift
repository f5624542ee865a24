import Compare

/// The `.npz` file of `--save-neighbors`: members `indices` (int64 [test, K]) and `values`
/// (float32 [test, K]), best first, and `rows` (int64 [2]: the test rows START, END covered,
/// so that row shards can be merged). Stored uncompressed; numpy's `np.load` reads it.
enum KernelNeighborsFile {
  /// Writes `neighbors` to `path` atomically.
  static func write(_ neighbors: Neighbors, to path: String) throws {
    let shape = [neighbors.rows.count, neighbors.count]
    let members: [(String, [UInt8])] = [
      ("indices.npy", NPYWriter.encode(neighbors.indices.map { Int64($0) }, shape: shape)),
      ("values.npy", NPYWriter.encode(neighbors.values, shape: shape)),
      ("rows.npy", NPYWriter.encode([Int64(neighbors.rows.lowerBound), Int64(neighbors.rows.upperBound)], shape: [2])),
    ]
    try AtomicFile.write(StoredZip.archive(members), to: path)
  }

  /// Reads a file written by `write`.
  /// - Throws: `ReadError`/`InputError` naming the file when a member is missing or malformed.
  static func read(_ path: String) throws -> Neighbors {
    let file = try TensorFile.open(path)
    let indices = try file.tensor("indices"), values = try file.tensor("values")
    guard indices.shape.count == 2, indices.shape[1] > 0, values.shape == indices.shape else {
      throw InputError("\(path): 'indices' and 'values' must both have shape [test, K] with K ≥ 1, got \(indices.shapeDescription) and \(values.shapeDescription)")
    }
    var rows = 0..<indices.shape[0]
    if let r = try? file.tensor("rows") {
      let bounds = try r.integers()
      guard bounds.count == 2, bounds[0] >= 0, bounds[1] >= bounds[0],
            bounds[1] - bounds[0] == Int64(indices.shape[0]) else {
        throw InputError("\(path): 'rows' must be [START, END] with END − START = \(indices.shape[0])")
      }
      rows = Int(bounds[0])..<Int(bounds[1])
    }
    let trainIndices = try indices.integers()
    if let bad = trainIndices.firstIndex(where: { $0 < 0 }) {
      throw InputError("\(path): 'indices' holds \(trainIndices[bad]) at [\(bad / indices.shape[1]), \(bad % indices.shape[1])]; training indices are ≥ 0")
    }
    return try Neighbors(rows: rows, count: indices.shape[1], indices: trainIndices.map { Int($0) },
                         values: values.floats())
  }
}

/// A minimal zip writer: stored (uncompressed) members with CRC-32, as `.npz` needs.
enum StoredZip {
  static func archive(_ members: [(String, [UInt8])]) -> [UInt8] {
    var out: [UInt8] = [], central: [UInt8] = []
    func u16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    func u32(_ v: UInt32, _ a: inout [UInt8]) { for s in [0, 8, 16, 24] { a.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
    for (name, data) in members {
      let crc = crc32(data), offset = UInt32(out.count), nameBytes = Array(name.utf8)
      u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(0, &out); u16(0, &out); u16(0x21, &out)
      u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out)
      u16(nameBytes.count, &out); u16(0, &out); out += nameBytes; out += data
      u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0, &central); u16(0, &central)
      u16(0, &central); u16(0x21, &central); u32(crc, &central); u32(UInt32(data.count), &central)
      u32(UInt32(data.count), &central); u16(nameBytes.count, &central); u16(0, &central); u16(0, &central)
      u16(0, &central); u16(0, &central); u32(0, &central); u32(offset, &central); central += nameBytes
    }
    let centralOffset = UInt32(out.count)
    out += central
    u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(members.count, &out); u16(members.count, &out)
    u32(UInt32(central.count), &out); u32(centralOffset, &out); u16(0, &out)
    return out
  }

  static func crc32(_ data: [UInt8]) -> UInt32 {
    var table = [UInt32](repeating: 0, count: 256)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
      table[i] = c
    }
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
  }
}
