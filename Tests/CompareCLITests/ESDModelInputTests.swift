@testable import CompareCLI
import Foundation
import Testing

/// `compare esd` on the bundled example models and on the Hugging Face folder layouts made from
/// them; expected values from `Tests/Fixtures/esd/make_fixtures.py`.
@Suite("compare esd model inputs")
struct ESDModelInputTests {
  static let examples = packageRoot + "Examples/data/"

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
}
