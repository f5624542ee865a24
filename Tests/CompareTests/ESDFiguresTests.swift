import Compare
import Foundation
import Testing

@Suite("ESD figures")
struct ESDFiguresTests {
  /// The bundled MLP whole, and the same MLP without fc2: a model lacking a layer.
  static func models() throws -> [(name: String, reports: [LayerReport])] {
    let model = try ModelWeights(path: examples + "weights_mlp.safetensors")
    var options = ESDOptions()
    options.randomize = false
    return [("whole", try model.esd(options: options).reports),
            ("no fc2", try model.esd(options: options, excluding: ["fc2"]).reports)]
  }

  @Test("alpha by layer places each model's points by layer name: a missing layer shifts nothing")
  func placedByName() throws {
    let models = try Self.models()
    let (names, points) = ESDFigures.overviewPoints(models)
    #expect(names == ["fc1", "fc2", "fc3", "fc4"])
    #expect(points[0].map(\.x) == [1, 2, 3, 4])
    #expect(points[1].map(\.x) == [1, 3, 4])
    // Each point is its own layer's alpha, under its own name.
    let alpha = Dictionary(uniqueKeysWithValues: models[1].reports.map { ($0.name, $0.alpha!) })
    #expect(points[1].map(\.alpha) == ["fc1", "fc3", "fc4"].map { alpha[$0]! })
    // Negative control: by position, the second model's fc3 would sit under fc2's name.
    let fc3 = try #require(models[1].reports.firstIndex { $0.name == "fc3" })
    #expect(names[fc3] == "fc2")
  }

  @Test("a model's extra layer goes beside its neighbours; a model sharing no name follows the others")
  func union() throws {
    let mlp = try Self.models()[0].reports
    func named(_ names: [String]) -> [LayerReport] {
      names.map { name in
        var r = mlp[0]
        r.name = name
        return r
      }
    }
    let (inserted, points) = ESDFigures.overviewPoints([("a", named(["fc1", "fc2", "fc3"])),
                                                        ("b", named(["embed", "fc1", "extra", "fc3"]))])
    // "extra" right after fc1, which precedes it in b; "embed" before fc1, the first name b shares.
    #expect(inserted == ["embed", "fc1", "extra", "fc2", "fc3"])
    #expect(points[0].map(\.x) == [2, 4, 5])
    #expect(points[1].map(\.x) == [1, 2, 3, 5])
    let (disjoint, _) = ESDFigures.overviewPoints([("mlp", named(["fc1", "fc2"])), ("cnn", named(["conv1", "conv2"]))])
    #expect(disjoint == ["fc1", "fc2", "conv1", "conv2"])
  }

  @Test("writeOverview draws both models into a PNG and an SVG naming the layers")
  func writes() throws {
    let path = NSTemporaryDirectory() + "compare-esd-overview-\(getpid())"
    defer {
      for ext in [".png", ".svg"] { try? FileManager.default.removeItem(atPath: path + ext) }
    }
    try ESDFigures.writeOverview(try Self.models(), to: path, title: "MLP")
    let svg = try String(contentsOfFile: path + ".svg", encoding: .utf8)
    #expect(svg.contains("alpha, no fc2") && svg.contains(">fc2<"))
    #expect(FileManager.default.fileExists(atPath: path + ".png"))
  }
}
