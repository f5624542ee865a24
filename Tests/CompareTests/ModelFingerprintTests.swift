import Compare
import Foundation
import Testing
import TestSupport

@Suite("ModelFingerprint: a model's content, whatever its path")
struct ModelFingerprintTests {
  let scratch = TemporaryFolder("model-fingerprint")
  static let mlp = packageRoot + "Examples/data/weights_mlp.safetensors"
  static let mlpInit = packageRoot + "Examples/data/weights_mlp_init.safetensors"

  @Test("one file under two spellings of its path, or copied elsewhere, has one fingerprint; another model another")
  func spellings() throws {
    let copy = scratch.file("copy.safetensors")
    try FileManager.default.copyItem(atPath: Self.mlp, toPath: copy)
    let direct = try ModelFingerprint(of: ModelWeights(path: Self.mlp))
    let dotted = try ModelFingerprint(of: ModelWeights(path: packageRoot + "Examples/../Examples/data/weights_mlp.safetensors"))
    #expect(direct == dotted)
    #expect(direct.difference(from: try ModelFingerprint(of: ModelWeights(path: copy))) == nil)
    #expect(direct.files.map(\.name) == ["weights_mlp.safetensors"])
    #expect(direct.files[0].fingerprint == (try FileFingerprint(of: Self.mlp)))
    // Negative control: the init weights have the same shapes and size, other values.
    let other = try ModelFingerprint(of: ModelWeights(path: Self.mlpInit))
    let a = direct.files[0].fingerprint, b = other.files[0].fingerprint
    #expect(a.bytes == b.bytes)
    #expect(other.difference(from: direct) == "weights_mlp_init.safetensors differs: sampled CRC-32 \(b.crc32Hex), not \(a.crc32Hex)")
  }

  @Test("a sharded folder is fingerprinted shard by shard; a size or file count that differs is said so")
  func shards() throws {
    let folder = scratch.file("sharded")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let entry = { (key: String) in SafetensorsWriter.Entry(key: key, shape: [4, 4], values: (0..<16).map { Float($0) }) }
    try SafetensorsWriter.write([entry("a.weight")], to: folder + "/model-00001-of-00002.safetensors")
    try SafetensorsWriter.write([entry("b.weight"), entry("c.weight")], to: folder + "/model-00002-of-00002.safetensors")
    try #"{"weight_map": {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors", "c.weight": "model-00002-of-00002.safetensors"}}"#
      .write(toFile: folder + "/model.safetensors.index.json", atomically: false, encoding: .utf8)
    let sharded = try ModelFingerprint(of: ModelWeights(path: folder))
    #expect(sharded.files.map(\.name) == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    let single = try ModelFingerprint(of: ModelWeights(path: Self.mlp))
    #expect(single.difference(from: sharded) == "1 weight file, not 2")
    var grown = sharded
    grown.files[1].fingerprint.bytes += 8
    #expect(grown.difference(from: sharded) == "model-00002-of-00002.safetensors differs: \(grown.files[1].fingerprint.bytes) bytes, not \(sharded.files[1].fingerprint.bytes)")
  }

  @Test("its JSON reads back equal; a malformed one does not read")
  func json() throws {
    let fingerprint = try ModelFingerprint(of: ModelWeights(path: Self.mlp))
    #expect(ModelFingerprint(json: try JSONValue.parse(fingerprint.json.serialized())) == fingerprint)
    #expect(fingerprint.json["method"] == .string(FileFingerprint.method))
    let bad = JSONValue.object([("method", .string(FileFingerprint.method)),
                                ("files", .array([.object([("name", .string("x")), ("bytes", .int(3)), ("crc32", .string("xyz"))])]))])
    #expect(ModelFingerprint(json: bad) == nil)
    #expect(ModelFingerprint(json: .object([("files", .array([]))])) == nil)
  }
}
