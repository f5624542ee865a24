import Foundation
import Testing

/// Every subcommand's table and `--json` on the bundled data, pinned byte for byte in
/// `Tests/Fixtures/cli/` (paths relative to the package root). A deliberate change of output is
/// recorded with `COMPARE_UPDATE_GOLDEN=1 swift test --filter GoldenOutput`, and reviewed in the diff.
@Suite("Golden outputs on the bundled data")
struct GoldenOutputTests {
  static let d = "Examples/data/"
  static let kernelInputs = [
    "--test", d + "ensemble.npz:logits", "--train", d + "ensemble.npz:logits_train",
    "--test-labels", d + "ensemble.npz:labels", "--train-labels", d + "ensemble.npz:labels_train",
  ]
  static let cases: [(name: String, words: [String])] = [
    ("inspect", ["inspect", d + "ensemble.npz"]),
    ("inspect-stats-json", ["inspect", d + "activations_cnn.npz", "--stats", "--json"]),
    ("kernel", ["kernel"] + kernelInputs),
    ("kernel-json", ["kernel"] + kernelInputs + ["--json"]),
    ("kernel-sizes", ["kernel"] + kernelInputs + ["-k", "5", "--weighting", "power:4", "--sizes", "4,16,64"]),
    ("kernel-pt-json", ["kernel", "--test", d + "ensemble.pt:logits", "--train", d + "ensemble.pt:logits_train",
                        "--test-labels", d + "labels_test.npy", "--train-labels", d + "labels_train.npy",
                        "--models", "32", "--ties", "kernel-sum", "--rows", "100:300", "--json"]),
    ("kernel-pairs", ["kernel", "pairs"] + kernelInputs + ["--top", "5", "--features", d + "ensemble.npz:features"]),
    ("kernel-pairs-json", ["kernel", "pairs"] + kernelInputs + ["--top", "3", "--start", "2", "--json"]),
    ("cka", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.npz", "--batch-size", "150"]),
    ("cka-json", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.pt", "--batch-size", "100",
                  "--keep-last", "--json"]),
    ("cka-debiased-json", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.npz",
                           "--estimator", "debiased", "--layers-b", "fc1,conv2", "--json"]),
    ("cka-full-rbf", ["cka", d + "activations_cnn.npz", d + "activations_mlp.safetensors", "--estimator", "full",
                      "--kernel", "rbf:0.5", "--name-a", "cnn", "--name-b", "mlp"]),
    ("cka-statistics", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.npz", "--name-a", "mlp",
                        "--name-b", "cnn", "--batch-size", "150", "--ci", "--permutations", "200", "--show-se"]),
    ("esd", ["esd", d + "weights_mlp.safetensors"]),
    ("esd-json", ["esd", d + "weights_mlp.safetensors", "--json"]),
    ("esd-init-csv", ["esd", d + "weights_cnn.pt", "--init", d + "weights_cnn_init.pt", "--csv"]),
    ("esd-init-json", ["esd", d + "weights_cnn.pt", "--init", d + "weights_cnn_init.pt", "--delta",
                       "--rand-repeats", "3", "--seed", "7", "--json"]),
    ("esd-nopool", ["esd", d + "weights_cnn.pt", "--no-pool", "--normalize", "--precision", "float32",
                    "--layers", "conv*"]),
  ]

  @Test("each subcommand prints what it printed before", arguments: 0..<cases.count)
  func output(index: Int) throws {
    let (name, words) = Self.cases[index]
    let result = runCompare(words.map { $0.hasPrefix(Self.d) ? packageRoot + $0 : $0 })
    let text = "exit \(result.status)\n--- stdout\n\(result.out)--- stderr\n\(result.err)"
      .replacingOccurrences(of: packageRoot, with: "")
    let path = packageRoot + "Tests/Fixtures/cli/\(name).txt"
    if ProcessInfo.processInfo.environment["COMPARE_UPDATE_GOLDEN"] != nil {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOfFile: path, encoding: .utf8)
    #expect(Self.rounded(text) == Self.rounded(expected), "\(name): output differs from Tests/Fixtures/cli/\(name).txt")
  }

  /// The text with every number of 11 or more significant digits rounded to 10: JSON prints
  /// doubles in full, and their last digits follow BLAS's thread count (which the ESD analysis
  /// changes process-wide while tests run in parallel). Tables print 3–4 decimals and stay exact.
  static func rounded(_ text: String) -> String {
    let pattern = try! NSRegularExpression(pattern: "-?[0-9]+\\.[0-9]{10,}(e-?[0-9]+)?")
    var result = text
    for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
      let range = Range(match.range, in: text)!
      result.replaceSubrange(range, with: String(format: "%.10g", Double(text[range])!))
    }
    return result
  }

  @Test("rounding for comparison keeps 10 significant digits, so a change in the 6th is still caught")
  func roundingControl() {
    #expect(Self.rounded("0.330452238680267") == Self.rounded("0.3304522386802678"))
    #expect(Self.rounded("0.3304532386802678") != Self.rounded("0.3304522386802678"))
  }

  @Test("the demo prints what it printed before")
  func demo() throws {
    let output = NSTemporaryDirectory() + "compare-golden-demo-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: output) }
    let result = runCompare(["demo", "--examples", packageRoot + Self.d, "--output", output])
    #expect(result.status == 0)
    let text = result.out.replacingOccurrences(of: output, with: "OUT").replacingOccurrences(of: packageRoot, with: "")
    let path = packageRoot + "Tests/Fixtures/cli/demo.txt"
    if ProcessInfo.processInfo.environment["COMPARE_UPDATE_GOLDEN"] != nil {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    #expect(text == (try String(contentsOfFile: path, encoding: .utf8)))
  }
}

