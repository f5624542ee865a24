import Compare
import Foundation
import Testing
import TestSupport

@Suite("ModelWeights: a Hugging Face folder's shard index against its shards")
struct ModelShardIndexTests {
  let scratch = TemporaryFolder("model-shard-index")

  /// A folder with shard 1 holding `a`, shard 2 holding `b`, and an index of `map`.
  func folder(_ map: [(String, String)]) throws -> String {
    let folder = scratch.file("model")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let entry = { (key: String) in SafetensorsWriter.Entry(key: key, shape: [8, 4], values: (0..<32).map { Float($0 % 7) }) }
    try SafetensorsWriter.write([entry("a.weight")], to: folder + "/model-00001-of-00002.safetensors")
    try SafetensorsWriter.write([entry("b.weight")], to: folder + "/model-00002-of-00002.safetensors")
    let pairs = map.map { "\"\($0.0)\": \"\($0.1)\"" }.joined(separator: ", ")
    try "{\"metadata\": {}, \"weight_map\": {\(pairs)}}".write(toFile: folder + "/model.safetensors.index.json", atomically: false, encoding: .utf8)
    return folder
  }

  static let one = "model-00001-of-00002.safetensors", two = "model-00002-of-00002.safetensors"

  @Test("a tensor the index places in a shard that does not hold it is a ReadError naming the index, the tensor and the shard")
  func missingTensor() throws {
    let path = try folder([("a.weight", Self.one), ("b.weight", Self.two), ("c.weight", Self.one)])
    #expect(throws: ReadError(file: path + "/model.safetensors.index.json", "lists 'c.weight' in \(Self.one), which does not hold it")) {
      try ModelWeights(path: path)
    }
    let swapped = try folder([("a.weight", Self.two), ("b.weight", Self.two)])
    #expect(throws: ReadError(file: swapped + "/model.safetensors.index.json", "lists 'a.weight' in \(Self.two), which does not hold it")) {
      try ModelWeights(path: swapped)
    }
    // Negative control: the index as save_pretrained writes it.
    let model = try ModelWeights(path: try folder([("b.weight", Self.two), ("a.weight", Self.one)]))
    #expect(model.layers.map(\.name) == ["b", "a"] && model.warnings.isEmpty)
  }

  @Test("a shard the index does not list is left out with a warning naming it; the listed ones read as before")
  func unlistedShard() throws {
    let path = try folder([("b.weight", Self.two)])
    let model = try ModelWeights(path: path)
    #expect(model.layers.map(\.name) == ["b"])
    #expect(model.warnings == ["warning: \(path)/model.safetensors.index.json: does not list \(Self.one), which is in the folder: its tensors are not read (transformers reads only the shards the index lists)"])
    var options = ESDOptions()
    options.randomize = false
    #expect(try model.esd(options: options).messages == model.warnings)
  }

  @Test("a shard the index lists but the folder lacks is named as missing, for pytorch_model.bin.index.json as for safetensors")
  func missingShard() throws {
    // Safetensors: the second shard gone.
    let path = try folder([("a.weight", Self.one), ("b.weight", Self.two)])
    try FileManager.default.removeItem(atPath: path + "/" + Self.two)
    #expect(throws: ReadError(file: path + "/model.safetensors.index.json", "lists shard '\(Self.two)', which is not in the folder")) {
      try ModelWeights(path: path)
    }
    // Torch: only shard 1 of 2 beside the index.
    let torch = scratch.file("torch")
    try FileManager.default.createDirectory(atPath: torch, withIntermediateDirectories: true)
    let (first, second) = ("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin")
    try FileManager.default.copyItem(atPath: examples + "weights_cnn.pt", toPath: torch + "/" + first)
    let index = torch + "/pytorch_model.bin.index.json"
    try #"{"metadata": {}, "weight_map": {"fc1.weight": "\#(first)", "model.layers.1.q.weight": "\#(second)"}}"#
      .write(toFile: index, atomically: false, encoding: .utf8)
    #expect(throws: ReadError(file: index, "lists shard '\(second)', which is not in the folder")) {
      try ModelWeights(path: torch)
    }
    // Negative control: with the shard present (a copy of the first), the tensor it lacks is named.
    try FileManager.default.copyItem(atPath: examples + "weights_cnn.pt", toPath: torch + "/" + second)
    #expect(throws: ReadError(file: index, "lists 'model.layers.1.q.weight' in \(second), which does not hold it")) {
      try ModelWeights(path: torch)
    }
  }
}
