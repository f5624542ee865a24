import Compare
import Foundation
import Testing

/// `Tests/Fixtures/esd/depth`: a stacked expert tensor `moe` (4 × 24 × 20), a conv1d kernel
/// (16 × 12 × 5) and a rank-deficient matrix (`make_depth_fixtures.py`).
let depthModel = packageRoot + "Tests/Fixtures/esd/depth"

@Suite("ESD eigenvalues, 3-D weights and layer selection through the library")
struct ESDDepthTests {
  func temporary(_ name: String) -> String {
    NSTemporaryDirectory() + "esd-depth-\(getpid())-" + name
  }

  @Test("saved eigenvalues read back equal to the reports', in .npz and .safetensors",
        arguments: ["npz", "safetensors"])
  func saveRoundTrip(format: String) throws {
    var options = ESDOptions()
    options.pool = false
    let result = try ModelWeights(path: examples + "weights_cnn.pt").esd(options: options, layers: ["conv2", "fc*"])
    let path = temporary("spectra." + format)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try result.spectra.write(to: path)
    let saved = try ESDSpectra(contentsOf: path)
    #expect(saved.keys == result.spectra.keys)
    #expect(saved.keys.prefix(3) == ["conv2[0]", "conv2[0]/rand", "conv2[1]"])
    for report in result.reports {
      #expect(saved.eigenvalues(of: report.label) == report.spectrum!.eigenvalues)
      #expect(saved.shuffledEigenvalues(of: report.label) == report.firstRandomEigenvalues!)
      #expect(result.eigenvalues(of: report.label) == report.spectrum!.eigenvalues)
    }
    let fc1 = try #require(saved.eigenvalues(of: "fc1"))
    #expect(fc1.count == 64 && fc1 == fc1.sorted())
    #expect(saved.eigenvalues(of: "conv2") == nil)
  }

  @Test("without randomisation nothing is saved under NAME/rand; other extensions are refused")
  func saveOptions() throws {
    var options = ESDOptions()
    options.randomize = false
    let result = try ModelWeights(path: examples + "weights_mlp.safetensors").esd(options: options)
    #expect(result.spectra.keys == ["fc1", "fc2", "fc3", "fc4"])
    #expect(result.shuffledEigenvalues(of: "fc1") == nil)
    #expect(throws: InputError.self) { try result.spectra.write(to: temporary("spectra.npy")) }
  }

  @Test("a stacked expert tensor: summary row then one row per expert, the 3-D rule and its overrides")
  func experts() throws {
    let model = try ModelWeights(path: depthModel)
    #expect(model.layers.map(\.kind) == [.conv1d, .expert, .dense])
    var options = ESDOptions()
    options.randomize = false
    let result = try model.esd(options: options, layers: ["moe"])
    #expect(result.reports.map(\.label) == ["moe", "moe.expert.0", "moe.expert.1", "moe.expert.2", "moe.expert.3"])
    #expect(result.eigenvalues(of: "moe")!.count == 80)
    #expect(result.eigenvalues(of: "moe.expert.2")!.count == 20)
    #expect(result.summary.analysed == 4)
    options.threeDimensional = .conv
    #expect(try model.esd(options: options, layers: ["moe"]).reports.map(\.kind) == [.conv1d])
  }

  @Test("stacked experts pair with their init expert by expert")
  func expertsInit() throws {
    var options = ESDOptions()
    options.randomize = false
    let model = try ModelWeights(path: depthModel)
    let result = try model.esd(options: options, layers: ["moe"], initial: model)
    #expect(result.reports.dropFirst().allSatisfy { $0.initDistance?.distance == 0 })
  }

  @Test("layer_id is the position among the model's weights whatever --layers and --exclude keep")
  func selection() throws {
    let model = try ModelWeights(path: examples + "weights_cnn.pt")
    let all = try model.describe()
    #expect(all.rows.map(\.layerID) == [1, 2, 3, 4, 5])
    #expect(all.rows.map(\.longname) == ["conv1.weight", "conv2.weight", "conv3.weight", "fc1.weight", "fc2.weight"])
    let some = try model.describe(layers: ["conv*", "fc2"], excluding: ["conv1", "*3.weight"])
    #expect(some.rows.map(\.name) == ["conv2", "fc2"])
    #expect(some.rows.map(\.layerID) == [2, 5])
    #expect(throws: InputError.self) { try model.describe(excluding: ["*"]) }
  }

  @Test("a 3-D tensor the rule cannot place is skipped with the reason, and read as told with --3d")
  func undecided() throws {
    let path = temporary("undecided.npy")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try NPYWriter.write([Float](repeating: 1, count: 300 * 20 * 20), shape: [300, 20, 20], to: path)
    let model = try ModelWeights(path: path)
    #expect(throws: InputError.self) { try model.describe() }
    let (layers, skipped) = model.selection(matching: [])
    #expect(layers.isEmpty)
    #expect(skipped.first?.reason.contains("--3d experts|conv") == true)
    var options = ESDOptions()
    options.threeDimensional = .experts
    #expect(try model.describe(options: options).rows.count == 301)
  }
}
