@testable import CompareCLI
import Foundation
import Testing

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
