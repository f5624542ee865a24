import Compare
import Foundation
import Testing
import TestSupport

@Suite("Model layer order")
struct ModelOrderTests {
  let scratch = TemporaryFolder("model-order")
  var folder: String { scratch.path }

  /// Llama-shaped keys, as `save_pretrained` lists them (embeddings, blocks 0...11, norm, head).
  static let llamaKeys: [String] = ["model.embed_tokens.weight"]
    + (0..<12).flatMap { i in ["self_attn.q_proj", "self_attn.k_proj", "mlp.down_proj"].map { "model.layers.\(i).\($0).weight" } }
    + ["model.norm.weight", "lm_head.weight"]

  func entries(_ keys: [String]) -> [SafetensorsWriter.Entry] {
    keys.map { key in
      key.hasSuffix("norm.weight")
        ? SafetensorsWriter.Entry(key: key, shape: [4], values: [Float](repeating: 1, count: 4))
        : SafetensorsWriter.Entry(key: key, shape: [4, 4], values: (0..<16).map { Float($0) })
    }
  }

  @Test("safetensors (keys sorted by name): embeddings, numbered blocks in natural order, the rest, lm_head last")
  func conventional() throws {
    let path = folder + "/model.safetensors"
    try SafetensorsWriter.write(entries(Self.llamaKeys.shuffled()), to: path)
    let model = try ModelWeights(path: path)
    #expect(model.order == .conventional)
    let expected = Self.llamaKeys.filter { !$0.hasSuffix("norm.weight") }.map { String($0.dropLast(7)) }
    #expect(model.layers.map(\.name).first == "model.embed_tokens")
    #expect(model.layers.map(\.name).last == "lm_head")
    // Blocks in natural order: layers.2 before layers.10 (plain sorting would put 10 first).
    let names = model.layers.map(\.name)
    #expect(names.firstIndex(of: "model.layers.2.mlp.down_proj")! < names.firstIndex(of: "model.layers.10.mlp.down_proj")!)
    #expect(Set(names) == Set(expected))
    // Negative control: natural order of the names alone puts lm_head first.
    #expect(NaturalOrder.sorted(names).first == "lm_head")
  }

  @Test("a sharded folder takes its index's weight_map order")
  func indexOrder() throws {
    let dir = folder + "/sharded"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let keys = ["z.weight", "a.weight", "m.weight"]
    try SafetensorsWriter.write(entries(["a.weight", "z.weight"]), to: dir + "/model-00001-of-00002.safetensors")
    try SafetensorsWriter.write(entries(["m.weight"]), to: dir + "/model-00002-of-00002.safetensors")
    let map = keys.map { "\"\($0)\": \"model-0000\($0 == "m.weight" ? 2 : 1)-of-00002.safetensors\"" }
    try "{\"metadata\": {}, \"weight_map\": {\(map.joined(separator: ", "))}}"
      .write(toFile: dir + "/model.safetensors.index.json", atomically: false, encoding: .utf8)
    let model = try ModelWeights(path: dir)
    #expect(model.order == .index)
    #expect(model.layers.map(\.name) == ["z", "a", "m"])
  }

  @Test("sharded pytorch_model-*.bin take their pytorch_model.bin.index.json's weight_map order")
  func binIndexOrder() throws {
    let dir = folder + "/bin-sharded"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let shard = "pytorch_model-00001-of-00001.bin"
    try FileManager.default.copyItem(atPath: packageRoot + "Examples/data/weights_cnn.pt", toPath: dir + "/" + shard)
    // Negative control: without the index, the state dict's key order.
    let unindexed = try ModelWeights(path: dir)
    #expect(unindexed.order == .file)
    #expect(unindexed.layers.map(\.name) == ["conv1", "conv2", "conv3", "fc1", "fc2"])
    let listed = ["fc2", "fc1", "conv3", "conv2", "conv1"].flatMap { ["\($0).weight", "\($0).bias"] }
    let map = listed.map { "\"\($0)\": \"\(shard)\"" }.joined(separator: ", ")
    try "{\"metadata\": {\"total_size\": 161576}, \"weight_map\": {\(map)}}"
      .write(toFile: dir + "/pytorch_model.bin.index.json", atomically: false, encoding: .utf8)
    let model = try ModelWeights(path: dir)
    #expect(model.order == .index)
    #expect(model.layers.map(\.name) == ["fc2", "fc1", "conv3", "conv2", "conv1"])
    #expect(try model.esd(layers: ["fc*"]).json()["conventions"]?["layer_order"] == .string("index"))
  }

  @Test("a torch.save'd state dict keeps its key order; the ESD says which order it used")
  func fileOrder() throws {
    let model = try ModelWeights(path: packageRoot + "Examples/data/weights_cnn.pt")
    #expect(model.order == .file)
    #expect(model.layers.map(\.name) == ["conv1", "conv2", "conv3", "fc1", "fc2"])
    let result = try model.esd(layers: ["fc*"])
    #expect(result.summaryLines.last!.contains("layers in the order of the keys in the file"))
    #expect(result.json()["conventions"]?["layer_order"] == .string("file"))
  }
}
