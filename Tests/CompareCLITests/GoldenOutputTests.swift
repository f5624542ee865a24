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
  /// Every measure of `compare similarity` but pwcca, whose weighted CCA of the ill-conditioned
  /// pairs moves in the 4th decimal with BLAS's thread count (fc1 × conv3: 0.8709 at 1 thread,
  /// 0.8705 at 2); each measure's values are checked against references by SimilarityTests.
  static let similarityMeasures = "cka,cca,cca_r2,svcca,procrustes,procrustes_euclidean,linreg,rsa,mknn,cknna,dcor"
  static let cases: [(name: String, words: [String])] = [
    ("inspect", ["inspect", d + "ensemble.npz"]),
    ("inspect-stats-json", ["inspect", d + "activations_cnn.npz", "--stats", "--json"]),
    ("kernel", ["kernel"] + kernelInputs),
    ("kernel-json", ["kernel"] + kernelInputs + ["--json"]),
    ("kernel-sizes", ["kernel"] + kernelInputs + ["-k", "5", "--weighting", "power:4", "--sizes", "4,16,64"]),
    ("kernel-sweep", ["kernel"] + kernelInputs + ["-k", "1,3,5,7,9,11,15,25,51,101"]),
    ("kernel-sweep-json", ["kernel"] + kernelInputs + ["-k", "20,3", "--weighting", "power:4", "--json"]),
    ("kernel-pt-json", ["kernel", "--test", d + "ensemble.pt:logits", "--train", d + "ensemble.pt:logits_train",
                        "--test-labels", d + "labels_test.npy", "--train-labels", d + "labels_train.npy",
                        "--models", "32", "--ties", "kernel-sum", "--rows", "100:300", "--json"]),
    ("kernel-pairs", ["kernel", "pairs"] + kernelInputs + ["--top", "5", "--features", d + "ensemble.npz:features"]),
    ("kernel-pairs-json", ["kernel", "pairs"] + kernelInputs + ["--top", "3", "--start", "2", "--json"]),
    ("kernel-pairs-random", ["kernel", "pairs"] + kernelInputs + ["--top", "2", "--random", "4", "--seed", "3",
                                                                "--features", d + "ensemble.npz:features"]),
    ("kernel-pairs-random-json", ["kernel", "pairs"] + kernelInputs + ["--top", "1", "--random", "2", "--json",
                                                                     "--neighbors", "2"]),
    ("ensemble", ["ensemble", "--test", d + "ensemble.npz:logits", "--test-labels", d + "ensemble.npz:labels"]),
    ("ensemble-json", ["ensemble", "--test", d + "ensemble.npz:logits", "--test-labels", d + "ensemble.npz:labels",
                       "--json"]),
    ("cka", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.npz", "--batch-size", "150"]),
    ("cka-json", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.pt", "--batch-size", "100",
                  "--keep-last", "--json"]),
    ("cka-debiased-json", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.npz",
                           "--estimator", "debiased", "--layers-b", "fc1,conv2", "--json"]),
    ("cka-full-rbf", ["cka", d + "activations_cnn.npz", d + "activations_mlp.safetensors", "--estimator", "full",
                      "--kernel", "rbf:0.5", "--name-a", "cnn", "--name-b", "mlp"]),
    ("cka-statistics", ["cka", d + "activations_mlp.safetensors", d + "activations_cnn.npz", "--name-a", "mlp",
                        "--name-b", "cnn", "--batch-size", "150", "--ci", "--permutations", "200", "--show-se"]),
    ("similarity", ["similarity", d + "activations_mlp.safetensors", d + "activations_cnn.npz",
                    "--measure", similarityMeasures]),
    ("similarity-json", ["similarity", d + "activations_cnn.pt", d + "activations_mlp.safetensors",
                         "--measure", similarityMeasures, "--json"]),
    ("esd", ["esd", d + "weights_mlp.safetensors"]),
    ("esd-json", ["esd", d + "weights_mlp.safetensors", "--json"]),
    ("esd-init-csv", ["esd", d + "weights_cnn.pt", "--init", d + "weights_cnn_init.pt", "--csv"]),
    ("esd-init-json", ["esd", d + "weights_cnn.pt", "--init", d + "weights_cnn_init.pt", "--delta",
                       "--rand-repeats", "3", "--seed", "7", "--json"]),
    ("esd-nopool", ["esd", d + "weights_cnn.pt", "--no-pool", "--normalize", "--precision", "float32",
                    "--layers", "conv*"]),
    ("esd-gaussian", ["esd", d + "weights_mlp.safetensors", "--rand-method", "gaussian"]),
    ("esd-gaussian-json", ["esd", d + "weights_cnn.pt", "--rand-method", "gaussian", "--json"]),
  ]

  @Test("each subcommand prints what it printed before", arguments: 0..<cases.count)
  func output(index: Int) throws {
    let (name, words) = Self.cases[index]
    try Self.pin(name, Self.run(words))
  }

  /// `compare WORDS`, bundled-data paths made absolute.
  static func run(_ words: [String]) -> (status: Int32, out: String, err: String) {
    runCompare(words.map { $0.hasPrefix(d) ? packageRoot + $0 : $0 })
  }

  /// Compares a run's exit status, stdout and stderr with `Tests/Fixtures/cli/NAME.txt` (see
  /// `same`), the package root and `folder` (a temporary folder, shown as `OUT`) left out.
  static func pin(_ name: String, _ result: (status: Int32, out: String, err: String),
                  folder: String? = nil) throws {
    var text = "exit \(result.status)\n--- stdout\n\(result.out)--- stderr\n\(result.err)"
    if let folder { text = text.replacingOccurrences(of: folder, with: "OUT") }
    text = text.replacingOccurrences(of: packageRoot, with: "")
    let path = packageRoot + "Tests/Fixtures/cli/\(name).txt"
    if ProcessInfo.processInfo.environment["COMPARE_UPDATE_GOLDEN"] != nil {
      try text.write(toFile: path, atomically: false, encoding: .utf8)
    }
    let expected = try String(contentsOfFile: path, encoding: .utf8)
    #expect(same(text, expected), "\(name): output differs from Tests/Fixtures/cli/\(name).txt:\n\(text)")
  }

  /// A fresh temporary folder for one test's files.
  static func temporaryFolder(_ label: String) throws -> String {
    let folder = NSTemporaryDirectory() + "compare-golden-\(label)-\(getpid())"
    try? FileManager.default.removeItem(atPath: folder)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  @Test("kernel merge joins two row shards' neighbour files and prints what it printed before")
  func kernelMerge() throws {
    let folder = try Self.temporaryFolder("kernel-merge")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for (rows, file) in [("0:200", "/a.npz"), ("200:450", "/b.npz")] {
      let shard = Self.run(["kernel"] + Self.kernelInputs + ["--rows", rows, "--save-neighbors", folder + file])
      #expect(shard.status == 0, "\(shard.err)")
    }
    let labels = ["--test-labels", Self.d + "ensemble.npz:labels", "--train-labels", Self.d + "ensemble.npz:labels_train"]
    let merge = ["kernel", "merge", "-o", folder + "/merged.npz", folder + "/b.npz", folder + "/a.npz"] + labels
    try Self.pin("kernel-merge", Self.run(merge), folder: folder)
    try Self.pin("kernel-merge-json", Self.run(merge + ["--json"]), folder: folder)
  }

  @Test("esd merge joins two shards' parts into the whole run's table and prints what it printed before")
  func esdMerge() throws {
    let folder = try Self.temporaryFolder("esd-merge")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let model = Self.d + "weights_cnn.pt"
    for part in 1...2 {
      let shard = Self.run(["esd", model, "--shard", "\(part)/2", "-o", folder + "/part\(part).json"])
      #expect(shard.status == 0, "\(shard.err)")
    }
    let merge = ["esd", "merge", folder + "/part2.json", folder + "/part1.json"]
    let merged = Self.run(merge)
    try Self.pin("esd-merge", merged, folder: folder)
    try Self.pin("esd-merge-json", Self.run(merge + ["--json"]), folder: folder)
    // The merged table is the one a single run prints.
    #expect(merged.out == Self.run(["esd", model]).out)
  }

  /// Whether two outputs are the same text with the same numbers, long numbers (8 or more
  /// decimals) equal to 1e-6 relative: JSON prints doubles in full, and their last digits
  /// follow BLAS's thread count (which the ESD analysis changes process-wide while tests run
  /// in parallel), by up to 1e-8 relative where products are float32. Tables print 3–4
  /// decimals and must match exactly; the values themselves are checked against the float64
  /// goldens by each module's tests.
  static func same(_ a: String, _ b: String) -> Bool {
    let (skeletonA, numbersA) = split(a), (skeletonB, numbersB) = split(b)
    guard skeletonA == skeletonB, numbersA.count == numbersB.count else { return false }
    return zip(numbersA, numbersB).allSatisfy { x, y in abs(x - y) <= 1e-6 * max(abs(x), abs(y), 1e-300) }
  }

  /// The text with each long number replaced by `#`, and those numbers.
  static func split(_ text: String) -> (String, [Double]) {
    let pattern = try! NSRegularExpression(pattern: "-?[0-9]+\\.[0-9]{8,}(e-?[0-9]+)?")
    var skeleton = text, numbers: [Double] = []
    for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
      let range = Range(match.range, in: text)!
      numbers.insert(Double(text[range])!, at: 0)
      skeleton.replaceSubrange(range, with: "#")
    }
    return (skeleton, numbers)
  }

  @Test("outputs compare equal across the last digits of long numbers, not across a change in the 6th")
  func comparisonControl() {
    #expect(Self.same("CKA 0.7914617491,", "CKA 0.7914617502,"))
    #expect(!Self.same("CKA 0.7914627491,", "CKA 0.7914617491,"))
    #expect(!Self.same("CKA 0.7914617491,", "cka 0.7914617491,"))
    #expect(!Self.same("0.791", "0.792"))
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
      try text.write(toFile: path, atomically: false, encoding: .utf8)
    }
    #expect(text == (try String(contentsOfFile: path, encoding: .utf8)))
  }
}

