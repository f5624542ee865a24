@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

@Suite("compare esd with several models")
struct ESDSeriesTests {
  static let d = packageRoot + "Examples/data/"

  func json(_ words: [String]) throws -> [String: Any] {
    let run = runCompare(words)
    #expect(run.status == 0, "\(run.err)")
    return try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as! [String: Any]
  }

  @Test("a model against itself changes nothing; each column's values equal the single runs'")
  func itself() throws {
    let model = Self.d + "weights_cnn.pt"
    let both = try json(["esd", model, model, "--json"])
    let single = try json(["esd", model, "--json"])
    let layers = both["layers"] as! [[String: Any]]
    #expect(layers.map { $0["name"] as! String } == ["conv1", "conv2", "conv3", "fc1", "fc2"])
    let singleRows = single["layers"] as! [[String: Any]]
    for (row, reference) in zip(layers, singleRows) {
      let values = row["values"] as! [String: [Any]]
      let alpha = values["alpha"] as! [Double]
      // Equal up to the eigensolver's last bits, which follow the process-wide BLAS thread
      // count that other tests running in parallel set.
      #expect(alpha.count == 2 && abs(alpha[0] - alpha[1]) <= 1e-12 * abs(alpha[0]))
      #expect(abs(alpha[0] - (reference["alpha"] as! Double)) <= 1e-12 * abs(alpha[0]))
    }
    let changes = (both["largest_changes"] as! [String: [[String: Any]]])["alpha"]!
    #expect(changes.allSatisfy { abs($0["change"] as! Double) <= 1e-12 })
  }

  @Test("training moves alpha: the largest changes are named; a layer missing in one model is listed")
  func checkpoints() throws {
    let series = try json(["esd", Self.d + "weights_cnn_init.pt", Self.d + "weights_cnn.pt", "--json"])
    let changes = (series["largest_changes"] as! [String: [[String: Any]]])["alpha"]!
    #expect(changes.first?["name"] as? String == "fc1")      // 10.09 at init, 2.01 trained
    #expect((changes.first?["change"] as! Double) > 5)
    let mixed = try json(["esd", Self.d + "weights_mlp.safetensors", Self.d + "weights_cnn.pt", "--json"])
    let missing = mixed["missing"] as! [[String: Any]]
    #expect(missing.contains { $0["name"] as? String == "conv1" })
    let bad = runCompare(["esd", Self.d + "weights_cnn.pt", Self.d + "weights_cnn.pt", "--init", Self.d + "weights_cnn_init.pt"])
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("Error: --init takes one model; several models are compared side by side\n"))
  }

  @Test("layer names with a newline or an escape sequence stay on their line in the change and missing-layer lines")
  func controlCharacters() throws {
    let scratch = TemporaryFolder("esd-series-names")
    let w = (0..<(40 * 24)).map { Float(sin(Double($0) * 0.37) + 0.2 * cos(Double($0) * 1.3)) }
    try SafetensorsWriter.write([.init(key: "a\nb.weight", shape: [40, 24], values: w),
                                 .init(key: "only\u{1B}[31mhere.weight", shape: [40, 24], values: w)], to: scratch.file("a.safetensors"))
    try SafetensorsWriter.write([.init(key: "a\nb.weight", shape: [40, 24], values: w.map { $0 * $0 })], to: scratch.file("b.safetensors"))
    let result = runCompare(["esd", scratch.file("a.safetensors"), scratch.file("b.safetensors")])
    #expect(result.status == 0)
    #expect(result.out.contains("Largest changes of alpha: a\\nb ("))
    #expect(result.out.contains("Layer only\\u{1B}[31mhere is missing in b.safetensors"))
    #expect(!result.out.contains("\u{1B}"))
  }

  @Test("with --alpha-ci and --pl-test the table adds the interval and the p-value across models; without, not")
  func fitConfidenceTables() {
    let (a, b) = (Self.d + "weights_mlp.safetensors", Self.d + "weights_mlp_init.safetensors")
    let tested = runCompare(["esd", a, b, "--alpha-ci", "20", "--pl-test", "10"])
    #expect(tested.status == 0, "\(tested.err)")
    for column in ["alpha_ci_low", "alpha_ci_high", "pl_p_value"] { #expect(tested.out.contains("\n\(column)\n")) }
    let plain = runCompare(["esd", a, b])
    #expect(plain.status == 0 && !plain.out.contains("alpha_ci_low") && plain.out.contains("\nalpha\n"))
  }
}
