@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

/// `compare esd` on the bundled example models and on the Hugging Face folder layouts made from
/// them; expected values from `Tests/Fixtures/esd/make_fixtures.py`.
@Suite("compare esd model inputs")
struct ESDModelInputTests {
  static let examples = packageRoot + "Examples/data/"
  let scratch = TemporaryFolder("esd-model-input")

  static func golden(_ file: String) throws -> [String: [String: Double]] {
    let data = FileManager.default.contents(atPath: ESDCommandTests.fixtures + "golden.json")!
    let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    return (json["examples"] as! [String: Any])[file] as! [String: [String: Double]]
  }

  func layers(_ words: [String]) throws -> [[String: Any]] {
    let result = runCompare(["esd"] + words + ["--json", "--no-randomize", "--no-mp-fit"])
    #expect(result.status == 0, "\(result.err)")
    let doc = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    return doc["layers"] as! [[String: Any]]
  }

  @Test("a torch.save'd CNN: conv layers pooled, every alpha and entropy as the numpy reference")
  func torchCNN() throws {
    let rows = try layers([Self.examples + "weights_cnn.pt"])
    let golden = try Self.golden("weights_cnn.pt")
    #expect(rows.map { $0["name"] as! String } == ["conv1", "conv2", "conv3", "fc1", "fc2"])
    #expect(rows[1]["layer_type"] as! String == "conv2d" && rows[1]["rf"] as! Int == 9)
    for row in rows {
      let name = row["name"] as! String
      #expect(abs(row["alpha"] as! Double - golden[name]!["alpha"]!) < 1e-9 * golden[name]!["alpha"]!, "\(name)")
      #expect(abs(row["entropy"] as! Double - golden[name]!["entropy"]!) < 1e-9, "\(name)")
    }
  }

  @Test("a safetensors file, a model folder, a sharded folder with its index and pytorch_model.bin agree")
  func folders() throws {
    let source = Self.examples + "weights_mlp.safetensors"
    let expected = try layers([source])
    let golden = try Self.golden("weights_mlp.safetensors")
    for row in expected {
      let name = row["name"] as! String
      #expect(abs(row["alpha"] as! Double - golden[name]!["alpha"]!) < 1e-9 * golden[name]!["alpha"]!, "\(name)")
    }
    let fm = FileManager.default
    let root = NSTemporaryDirectory() + "esd-folders-\(getpid())"
    defer { try? fm.removeItem(atPath: root) }
    for folder in ["single", "sharded", "bin"] { try fm.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true) }
    try fm.copyItem(atPath: source, toPath: root + "/single/model.safetensors")
    try fm.copyItem(atPath: source, toPath: root + "/sharded/model-00001-of-00001.safetensors")
    try Data(#"{"metadata": {}, "weight_map": {"fc1.weight": "model-00001-of-00001.safetensors"}}"#.utf8)
      .write(to: URL(fileURLWithPath: root + "/sharded/model.safetensors.index.json"))
    try fm.copyItem(atPath: Self.examples + "weights_cnn.pt", toPath: root + "/bin/pytorch_model.bin")
    // Equal up to BLAS summation order (tests in parallel share OpenBLAS's thread setting).
    func same(_ rows: [[String: Any]]) -> Bool {
      rows.count == expected.count && zip(rows, expected).allSatisfy {
        $0["name"] as! String == $1["name"] as! String
          && abs(($0["alpha"] as! Double) - ($1["alpha"] as! Double)) < 1e-12
      }
    }
    #expect(same(try layers([root + "/single"])))
    #expect(same(try layers([root + "/sharded"])))
    #expect(try layers([root + "/bin"]).count == 5)
  }

  /// A two-shard Hugging Face folder of the MLP's fc1 and fc2, with an index of `map`
  /// (tensor → shard number).
  func shardedMLP(_ name: String, _ map: [(String, Int)]) throws -> String {
    let source = try TensorFile.open(Self.examples + "weights_mlp.safetensors")
    let folder = scratch.file(name)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for (i, key) in ["fc1.weight", "fc2.weight"].enumerated() {
      let tensor = try source.tensor(key)
      try SafetensorsWriter.write([SafetensorsWriter.Entry(key: key, shape: tensor.shape, values: try tensor.floats())],
                                  to: folder + "/model-0000\(i + 1)-of-00002.safetensors")
    }
    let pairs = map.map { "\"\($0.0)\": \"model-0000\($0.1)-of-00002.safetensors\"" }.joined(separator: ", ")
    try "{\"metadata\": {}, \"weight_map\": {\(pairs)}}".write(toFile: folder + "/model.safetensors.index.json", atomically: false, encoding: .utf8)
    return folder
  }

  @Test("a shard index listing a tensor its shard does not hold is a data error, with or without --describe")
  func indexListsMissingTensor() throws {
    let folder = try shardedMLP("missingkey", [("fc1.weight", 1), ("fc2.weight", 2), ("model.layers.5.q.weight", 1)])
    for extra in [[], ["--describe"]] {
      let run = runCompare(["esd", folder] + extra)
      #expect(run.status == 1 && run.out.isEmpty)
      #expect(run.err == "Error: \(folder)/model.safetensors.index.json: lists 'model.layers.5.q.weight' in model-00001-of-00002.safetensors, which does not hold it\n")
    }
  }

  @Test("a shard the index does not list is named in a one-line warning; the listed layers' results are unchanged")
  func indexOmitsShard() throws {
    let partial = try shardedMLP("partial", [("fc2.weight", 2)])
    let run = runCompare(["esd", partial, "--no-randomize"])
    #expect(run.status == 0)
    #expect(run.err == "warning: \(partial)/model.safetensors.index.json: does not list model-00001-of-00002.safetensors, which is in the folder: its tensors are not read (transformers reads only the shards the index lists)\n")
    #expect(runCompare(["esd", partial, "--describe"]).err == run.err)
    // Negative control: the full index, no warning; fc2's row as without fc1.
    let full = try shardedMLP("full", [("fc1.weight", 1), ("fc2.weight", 2)])
    let complete = runCompare(["esd", full, "--no-randomize", "--layers", "fc2"])
    #expect(complete.err.isEmpty)
    func fc2Line(_ text: String) -> Substring? { text.split(separator: "\n").first { $0.hasPrefix("fc2 ") } }
    #expect(fc2Line(run.out) != nil && fc2Line(run.out) == fc2Line(complete.out))
  }

  @Test("a pytorch_model.bin.index.json listing a shard the folder lacks names the shard, as the safetensors index does")
  func binIndexMissingShard() throws {
    let folder = scratch.file("bin-missing-shard")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Self.examples + "weights_cnn.pt", toPath: folder + "/pytorch_model-00001-of-00002.bin")
    try #"{"metadata": {}, "weight_map": {"fc1.weight": "pytorch_model-00001-of-00002.bin", "model.layers.1.q.weight": "pytorch_model-00002-of-00002.bin"}}"#
      .write(toFile: folder + "/pytorch_model.bin.index.json", atomically: false, encoding: .utf8)
    for extra in [[], ["--describe"]] {
      let run = runCompare(["esd", folder] + extra)
      #expect(run.status == 1 && run.out.isEmpty)
      #expect(run.err == "Error: \(folder)/pytorch_model.bin.index.json: lists shard 'pytorch_model-00002-of-00002.bin', which is not in the folder\n")
    }
  }
}
