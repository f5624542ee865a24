@testable import CompareCLI
import CompareCore
import Foundation
import Testing
import TestSupport
import TensorIO

/// The committed fixtures of `Tests/Fixtures/kernel` (made by `make_fixtures.py`).
private enum KernelFixtures {
  static let folder = packageRoot + "Tests/Fixtures/kernel/"

  static var golden: [String: Any] {
    let data = FileManager.default.contents(atPath: folder + "golden.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  static func matrix(_ key: String) -> [[Double]] { golden[key] as! [[Double]] }
  static func number(_ key: String) -> Double { (golden[key] as! NSNumber).doubleValue }
}

@Suite("compare kernel")
struct KernelCommandTests {
  let f = KernelFixtures.folder
  var inputs: [String] {
    ["--test", f + "test_logits.npy", "--train", f + "train_logits.npy",
     "--test-labels", f + "test_labels.npy", "--train-labels", f + "train_labels.npy"]
  }
  let usage = "Usage: compare kernel --test <ref> ... --train <ref> ... --test-labels <ref> --train-labels <ref> [--models <n>] [-k <k>] [--weighting <scheme>] [--ties <rule>] [--class <c>] [--no-log-softmax] [--memory <GiB>] [--sizes <list>] [--figure <file>] [--rows <start:end>] [--save-neighbors <file>] [--neighbors <K>] [--save-kernel <file>] [--plan] [--json]\n  See 'compare kernel --help' for more information.\n"

  let scratch = TemporaryFolder("kernel-tests")
  func temporary(_ name: String) -> String { scratch.file(name) }

  @Test("--json prints the contract's keys, in order, with the golden accuracies")
  func json() throws {
    let result = runCompare(["kernel"] + inputs + ["--json"])
    #expect(result.status == 0)
    #expect(result.err.isEmpty)
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    #expect(object["models"] as? Int == 6)
    #expect(object["test_examples"] as? Int == 12)
    #expect(object["train_examples"] as? Int == 30)
    #expect(object["classes"] as? Int == 4)
    #expect(object["k"] as? Int == 3)
    #expect((object["single_model_accuracy"] as! Double).isClose(to: KernelFixtures.number("single_model_accuracy"), tolerance: 1e-12))
    #expect((object["ensemble_accuracy"] as! Double).isClose(to: KernelFixtures.number("ensemble_accuracy"), tolerance: 1e-12))
    let accuracy = (KernelFixtures.golden["accuracy"] as! [String: Double])["k=3 weighting=none ties=smallest-label"]!
    #expect((object["kernel_accuracy"] as! Double).isClose(to: accuracy, tolerance: 1e-12))
    let keys = ["models", "test_examples", "train_examples", "classes", "k", "single_model_accuracy",
                "ensemble_accuracy", "kernel_accuracy"]
    let positions = keys.map { result.out.range(of: "\"\($0)\"")!.lowerBound }
    #expect(positions == positions.sorted())
  }

  @Test("the human output mirrors the reference's three lines")
  func humanOutput() {
    let result = runCompare(["kernel"] + inputs)
    #expect(result.status == 0)
    #expect(result.out == """
      average single-model accuracy   : 63.89
      ensemble accuracy (6 models)    : 83.33
      kernel accuracy (k-NN w/ k=3)   : 33.33

      """)
    let sizes = runCompare(["kernel"] + inputs + ["--sizes", "3,6", "--ties", "kernel-sum"])
    #expect(sizes.out.contains("kernel accuracy (k-NN w/ k=3, ties kernel-sum) : "))
    #expect(sizes.out.contains("models  single model %  ensemble %  kernel %\n     3"))
  }

  @Test("usage mistakes exit 64 with the usage line")
  func usageErrors() {
    let weighting = runCompare(["kernel"] + inputs + ["--weighting", "cubic:2"])
    #expect(weighting.status == 64)
    #expect(weighting.err == "Error: --weighting expects none, power:P (P ≥ 0) or softmax:T (T > 0), got 'cubic:2'\n" + usage)
    let k = runCompare(["kernel"] + inputs + ["-k", "three"])
    #expect(k.status == 64)
    #expect(k.err == "Error: -k expects a positive integer, got 'three'\n" + usage)
    let missing = runCompare(["kernel", "--test", f + "test_logits.npy"])
    #expect(missing.status == 64)
    #expect(missing.err.hasPrefix("Error: missing expected option '--train <ref>'\n"))
    let rows = runCompare(["kernel"] + inputs + ["--rows", "5-9"])
    #expect(rows.err.hasPrefix("Error: --rows expects START:END with 0 ≤ START < END, got '5-9'\n"))
    let figure = runCompare(["kernel"] + inputs + ["--figure", "x.png"])
    #expect(figure.err.hasPrefix("Error: --figure needs --sizes\n"))
  }

  @Test("bad data exits 1 with one line naming the file and the problem")
  func dataErrors() throws {
    let k = runCompare(["kernel"] + inputs + ["-k", "31"])
    #expect(k.status == 1)
    #expect(k.err == "Error: -k 31 is larger than the 30 training examples\n")
    let labels = runCompare(["kernel", "--test", f + "test_logits.npy", "--train", f + "train_logits.npy",
                               "--test-labels", f + "train_labels.npy", "--train-labels", f + "train_labels.npy"])
    #expect(labels.status == 1)
    #expect(labels.err == "Error: \(f)train_labels.npy has 30 labels but \(f)test_logits.npy has 12 examples\n")
    let models = runCompare(["kernel"] + inputs + ["--models", "7"])
    #expect(models.err == "Error: --models 7 exceeds the 6 models of \(f)test_logits.npy\n")
    let one = runCompare(["kernel"] + inputs + ["--models", "1"])
    #expect(one.err == "Error: \(f)test_logits.npy: the model axis has length 1; the std over models needs at least 2 models\n")
    let notLogits = runCompare(["kernel", "--test", f + "test_labels.npy", "--train", f + "train_logits.npy",
                                  "--test-labels", f + "test_labels.npy", "--train-labels", f + "train_labels.npy"])
    #expect(notLogits.err == "Error: \(f)test_labels.npy: logits have dtype int64; expected float16, bfloat16, float32 or float64\n")
    // NaN in a logit file, and a label out of range.
    var values = try TensorReference(f + "train_logits.npy").tensor().floats()
    values[(3 * 30 + 8) * 4 + 2] = .nan
    let nanPath = temporary("nan.npy")
    try NPYWriter.write(values, shape: [6, 30, 4], to: nanPath)
    let nan = runCompare(["kernel", "--test", f + "test_logits.npy", "--train", nanPath,
                            "--test-labels", f + "test_labels.npy", "--train-labels", f + "train_labels.npy"])
    #expect(nan.status == 1)
    #expect(nan.err == "Error: \(nanPath): logit [3, 8, 2] is nan; logits must be finite\n")
    var labelValues = try TensorReference(f + "test_labels.npy").tensor().integers()
    labelValues[4] = 9
    let badLabels = temporary("labels.npy")
    try NPYWriter.write(labelValues, shape: [12], to: badLabels)
    let range = runCompare(["kernel", "--test", f + "test_logits.npy", "--train", f + "train_logits.npy",
                              "--test-labels", badLabels, "--train-labels", f + "train_labels.npy"])
    #expect(range.err == "Error: \(badLabels)[4] = 9 is outside the 4 classes 0..<4\n")
  }

  @Test("-k 1,3,5 sweeps k from one neighbour pass: each k's accuracy equals the float64 golden vote and a run with that k alone")
  func kSweep() throws {
    let sweep = runCompare(["kernel"] + inputs + ["-k", "1,3,5", "--json"])
    #expect(sweep.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(sweep.out.utf8)) as! [String: Any]
    let byK = object["kernel_accuracy_by_k"] as! [String: Double]
    let golden = KernelFixtures.golden["accuracy"] as! [String: Double]
    for k in [1, 3, 5] {
      #expect(byK[String(k)] == golden["k=\(k) weighting=none ties=smallest-label"])
      let alone = try JSONSerialization.jsonObject(with: Data(runCompare(["kernel"] + inputs + ["-k", "\(k)", "--json"]).out.utf8)) as! [String: Any]
      #expect(alone["kernel_accuracy"] as? Double == byK[String(k)])
    }
    // kernel_accuracy stays the first k's; one k alone prints no sweep.
    #expect(object["kernel_accuracy"] as? Double == byK["1"])
    let single = try JSONSerialization.jsonObject(with: Data(runCompare(["kernel"] + inputs + ["-k", "3", "--json"]).out.utf8)) as! [String: Any]
    #expect(single["kernel_accuracy_by_k"] == nil)
    let bad = runCompare(["kernel"] + inputs + ["-k", "1,x"])
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("Error: -k expects a comma-separated list of positive integers, got '1,x'\n"))
    let large = runCompare(["kernel"] + inputs + ["-k", "1,31"])
    #expect(large.err == "Error: -k 31 is larger than the 30 training examples\n")
  }

  @Test("a k sweep saves as many neighbours as its largest k, so that merged row shards score the whole sweep")
  func sweepNeighbours() throws {
    let saved = temporary("sweep.npz")
    #expect(runCompare(["kernel"] + inputs + ["-k", "1,3,5", "--save-neighbors", saved]).status == 0)
    #expect(try TensorFile.open(saved).tensor("indices").shape == [12, 5])
    let shards = [temporary("s0.npz"), temporary("s1.npz")]
    #expect(runCompare(["kernel"] + inputs + ["-k", "1,3,5", "--rows", "0:6", "--save-neighbors", shards[0]]).status == 0)
    #expect(runCompare(["kernel"] + inputs + ["-k", "1,3,5", "--rows", "6:12", "--save-neighbors", shards[1]]).status == 0)
    let merged = runCompare(["kernel", "merge", "-o", temporary("m.npz"), "-k", "1,3,5", "--test-labels", f + "test_labels.npy",
                             "--train-labels", f + "train_labels.npy"] + shards)
    #expect(merged.status == 0, "\(merged.err)")
    // Control: an explicit --neighbors still rules, with a note that merged shards score k ≤ 2 only.
    let fewer = runCompare(["kernel"] + inputs + ["-k", "1,3,5", "--neighbors", "2", "--save-neighbors", saved])
    #expect(fewer.status == 0)
    #expect(fewer.err == "note: --neighbors 2 keeps fewer neighbours than -k 5; merged shards of this run can score k ≤ 2 only\n")
    #expect(try TensorFile.open(saved).tensor("indices").shape == [12, 2])
    // The neighbours are an .npz archive, whatever the name would suggest.
    let npy = runCompare(["kernel"] + inputs + ["--save-neighbors", temporary("n.npy")])
    #expect(npy.status == 64)
    #expect(npy.err.hasPrefix("Error: --save-neighbors writes an .npz archive (indices, values, rows), got '\(temporary("n.npy"))'\n"))
    let mergeNpy = runCompare(["kernel", "merge", "-o", temporary("m.npy")] + shards)
    #expect(mergeNpy.status == 64)
  }

  @Test("--save-kernel writes the whole kernel as float32 .npy, equal to the golden kernel")
  func saveKernel() throws {
    let path = temporary("kernel.npy")
    let result = runCompare(["kernel"] + inputs + ["--save-kernel", path, "--rows", "2:20"])
    #expect(result.status == 0)
    #expect(result.out.hasPrefix("test examples 2..<12 of 12\n"))
    let tensor = try TensorReference(path).tensor()
    #expect(tensor.shape == [10, 30])
    #expect(tensor.dtype == .float32)
    let saved = try tensor.floats()
    let golden = KernelFixtures.matrix("kernel")
    for i in 0..<10 { for j in 0..<30 { #expect(abs(Double(saved[i * 30 + j]) - golden[i + 2][j]) < 2e-6) } }
  }

  @Test("row shards' neighbour files merge into the whole run's")
  func shardsMerge() throws {
    let whole = temporary("whole.npz"), a = temporary("a.npz"), b = temporary("b.npz"), merged = temporary("merged.npz")
    #expect(runCompare(["kernel"] + inputs + ["--save-neighbors", whole, "--neighbors", "4"]).status == 0)
    #expect(runCompare(["kernel"] + inputs + ["--save-neighbors", b, "--neighbors", "4", "--rows", "7:100"]).status == 0)
    #expect(runCompare(["kernel"] + inputs + ["--save-neighbors", a, "--neighbors", "4", "--rows", "0:7"]).status == 0)
    let result = runCompare(["kernel", "merge", "-o", merged, b, a, "--test-labels", f + "test_labels.npy",
                               "--train-labels", f + "train_labels.npy"])
    #expect(result.status == 0)
    #expect(result.out == """
      merged 2 shards: test rows 0..<12, 4 neighbours each, into \(merged)
      kernel accuracy (k-NN w/ k=3)   : 33.33

      """)
    let m = try TensorFile.open(merged), w = try TensorFile.open(whole)
    #expect(try m.tensor("indices").integers() == w.tensor("indices").integers())
    #expect(try m.tensor("indices").dtype == .int64)
    #expect(try m.tensor("values").dtype == .float32)
    #expect(try m.tensor("values").shape == [12, 4])
    let gap = runCompare(["kernel", "merge", "-o", merged, b])
    #expect(gap.status == 0)
    let overlap = runCompare(["kernel", "merge", "-o", merged, whole, a])
    #expect(overlap.status == 1)
    #expect(overlap.err == "Error: \(a): rows 0:7 are also in \(whole)\n")
  }

  @Test("kernel merge -k 1,3 scores each k as compare kernel's sweep does, with the vote's keys in --json; -k 3,3 is refused")
  func mergeSweep() throws {
    let whole = temporary("whole.npz"), merged = temporary("merged.npz")
    let vote = ["--weighting", "power:4", "--ties", "kernel-sum"]
    #expect(runCompare(["kernel"] + inputs + ["--save-neighbors", whole, "--neighbors", "5"]).status == 0)
    let kernel = try JSONSerialization.jsonObject(with: Data(runCompare(["kernel"] + inputs + vote + ["-k", "1,3,5", "--json"]).out.utf8)) as! [String: Any]
    let merge = runCompare(["kernel", "merge", "-o", merged, whole, "--test-labels", f + "test_labels.npy",
                            "--train-labels", f + "train_labels.npy", "-k", "1,3,5", "--json"] + vote)
    #expect(merge.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(merge.out.utf8)) as! [String: Any]
    for key in ["k", "kernel_accuracy", "weighting", "ties"] {
      #expect("\(object[key]!)" == "\(kernel[key]!)", "\(key)")
    }
    #expect(object["weighting"] as? String == "power:4")
    #expect(object["kernel_accuracy_by_k"] as? [String: Double] == kernel["kernel_accuracy_by_k"] as? [String: Double])
    let keys = ["k", "kernel_accuracy", "weighting", "ties", "kernel_accuracy_by_k"]
    let positions = keys.map { merge.out.range(of: "\"\($0)\"")!.lowerBound }
    #expect(positions == positions.sorted())
    let text = runCompare(["kernel", "merge", "-o", merged, whole, "--test-labels", f + "test_labels.npy",
                           "--train-labels", f + "train_labels.npy", "-k", "1,3"])
    #expect(text.out.contains("\nk-NN accuracy by k (merged neighbours):\nk      1      3\n%  "))
    // One k: no sweep key (negative control); a k past the neighbours held names it.
    let one = runCompare(["kernel", "merge", "-o", merged, whole, "--test-labels", f + "test_labels.npy",
                          "--train-labels", f + "train_labels.npy", "--json"])
    #expect(one.out.contains("\"ties\": \"smallest-label\"") && !one.out.contains("kernel_accuracy_by_k"))
    let large = runCompare(["kernel", "merge", "-o", merged, whole, "--test-labels", f + "test_labels.npy",
                            "--train-labels", f + "train_labels.npy", "-k", "1,6"])
    #expect(large.status == 1)
    #expect(large.err == "Error: -k 6 exceeds the 5 neighbours the shards hold\n")
    let twice = runCompare(["kernel", "merge", "-o", merged, whole, "-k", "3,1,3"])
    #expect(twice.status == 64)
    #expect(twice.err.hasPrefix("Error: -k lists 3 twice\nUsage: compare kernel merge -o <file> "))
  }

  @Test("a value listed twice in -k or --sizes is a usage error: each would be a JSON key")
  func repeatedListValues() {
    let k = runCompare(["kernel"] + inputs + ["-k", "3,3", "--json"])
    #expect(k.status == 64)
    #expect(k.out.isEmpty)
    #expect(k.err == "Error: -k lists 3 twice\n" + usage)
    let sizes = runCompare(["kernel"] + inputs + ["--sizes", "2,2"])
    #expect(sizes.status == 64)
    #expect(sizes.err == "Error: --sizes lists 2 twice\n" + usage)
    // A malformed value is reported as before, whatever repeats.
    #expect(runCompare(["kernel"] + inputs + ["-k", "3,3,x"]).err.hasPrefix("Error: -k expects a comma-separated list of positive integers, got '3,3,x'\n"))
    // Negative controls: distinct values run.
    #expect(runCompare(["kernel"] + inputs + ["-k", "3,1"]).status == 0)
    #expect(runCompare(["kernel"] + inputs + ["--sizes", "2,3"]).status == 0)
  }

  @Test("--plan refuses what the run refuses, with the same message and status; a run that fits is planned")
  func planChecks() {
    for extra in [["--rows", "12:20"], ["-k", "31"], ["-k", "1,31"], ["--neighbors", "31", "--save-neighbors", temporary("n.npz")],
                  ["--sizes", "2,7"], ["--models", "7"]] {
      let run = runCompare(["kernel"] + inputs + extra)
      let plan = runCompare(["kernel"] + inputs + extra + ["--plan"])
      #expect(run.status == 1, "\(extra)")
      #expect(plan.status == run.status, "\(extra)")
      #expect(plan.err == run.err, "\(extra)")
      #expect(plan.out.isEmpty)
    }
    let fits = runCompare(["kernel"] + inputs + ["--rows", "11:20", "-k", "30", "--plan"])
    #expect(fits.status == 0)
    #expect(fits.out.hasPrefix("Plan: compare kernel, 6 models, 1 test × 30 train examples × 4 classes\n"))
  }

  @Test("a non-finite logit in a shard names that file and its index there; a float64 logit past float32 says so")
  func shardLogitErrors() throws {
    let values = try TensorReference(f + "test_logits.npy").tensor().floats()
    var nan = values
    nan[(2 * 12 + 5) * 4 + 3] = .nan
    let nanPath = temporary("nan.npy")
    try NPYWriter.write(nan, shape: [6, 12, 4], to: nanPath)
    let train = f + "train_logits.npy"
    let labels = ["--test-labels", f + "test_labels.npy", "--train-labels", f + "train_labels.npy"]
    let shards = runCompare(["kernel", "--test", f + "test_logits.npy", "--test", nanPath, "--train", train, "--train", train] + labels)
    #expect(shards.status == 1)
    #expect(shards.err == "Error: \(nanPath): logit [2, 5, 3] is nan; logits must be finite\n")
    var wide = values.map(Double.init)
    wide[(2 * 12 + 5) * 4 + 3] = -1e300
    let widePath = temporary("wide.npy")
    try NPYWriter.write(wide, shape: [6, 12, 4], to: widePath)
    let overflow = runCompare(["kernel", "--test", widePath, "--train", train] + labels)
    #expect(overflow.status == 1)
    #expect(overflow.err == "Error: \(widePath): logit [2, 5, 3] is -1e+300, outside float32's range\n")
    // Negative control: a float64 logit float32 holds runs; a stored ∞ is reported as ∞.
    wide[(2 * 12 + 5) * 4 + 3] = -1e30
    try NPYWriter.write(wide, shape: [6, 12, 4], to: widePath)
    #expect(runCompare(["kernel", "--test", widePath, "--train", train] + labels).status == 0)
    wide[(2 * 12 + 5) * 4 + 3] = -.infinity
    try NPYWriter.write(wide, shape: [6, 12, 4], to: widePath)
    #expect(runCompare(["kernel", "--test", widePath, "--train", train] + labels).err
            == "Error: \(widePath): logit [2, 5, 3] is -inf; logits must be finite\n")
  }

  @Test("--sizes with --figure writes a PNG plot; a figure path without .png/.svg is a usage error")
  func sizesFigure() throws {
    let path = temporary("sizes.png")
    let result = runCompare(["kernel"] + inputs + ["--sizes", "2,4,6", "--figure", path, "--json"])
    #expect(result.status == 0)
    let bytes = FileManager.default.contents(atPath: path).map { Array($0.prefix(8)) }
    #expect(bytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    let sizes = object["sizes"] as! [[String: Any]]
    #expect(sizes.map { $0["models"] as! Int } == [2, 4, 6])
    let bad = runCompare(["kernel"] + inputs + ["--sizes", "2", "--figure", "plot.jpg"])
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("Error: --figure expects a .png or .svg file, got 'plot.jpg'\n"))
    let tooMany = runCompare(["kernel"] + inputs + ["--sizes", "2,7"])
    #expect(tooMany.status == 1)
    #expect(tooMany.err == "Error: --sizes 7 exceeds the 6 models available\n")
  }

  @Test("pairs: ranked by the nearest kernel value, failures have another label, the grid is a PNG")
  func pairs() throws {
    let testImages = temporary("images.npy"), trainImages = temporary("images_train.npy"), grid = temporary("grid.png")
    try NPYWriter.write((0..<(12 * 16)).map { UInt8($0 % 256) }, shape: [12, 4, 4], to: testImages)
    try NPYWriter.write((0..<(30 * 16)).map { UInt8(($0 * 7) % 256) }, shape: [30, 4, 4], to: trainImages)
    let result = runCompare(["kernel", "pairs"] + inputs + ["--top", "3", "--json", "--images", testImages,
                                                              "--train-images", trainImages, "--grid", grid])
    #expect(result.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    let pairs = object["pairs"] as! [[String: Any]], failures = object["failures"] as! [[String: Any]]
    #expect(pairs.count == 3)
    // The golden kernel's largest row maxima, in order.
    let values = KernelFixtures.matrix("neighbors_values").map { $0[0] }
    let order = values.indices.sorted { values[$0] > values[$1] }
    #expect(pairs.map { $0["test_index"] as! Int } == Array(order.prefix(3)))
    #expect(pairs.map { $0["rank"] as! Int } == [1, 2, 3])
    for failure in failures { #expect(failure["test_label"] as! Int != failure["train_label"] as! Int) }
    let bytes = FileManager.default.contents(atPath: grid).map { Array($0.prefix(4)) }
    #expect(bytes == [0x89, 0x50, 0x4E, 0x47])
    let text = runCompare(["kernel", "pairs"] + inputs + ["--top", "2"])
    #expect(text.out.hasPrefix("Most similar test/train pairs by kernel value (6 models)\nrank  test  label  train  label  kernel\n"))
    let noKey = runCompare(["kernel", "pairs"] + inputs + ["--images", testImages])
    #expect(noKey.status == 64)
    #expect(noKey.err.hasPrefix("Error: --images \(testImages) names no key, so the training tensor cannot be guessed; give --train-images\n"))
  }

  /// `Examples/data` of this repository.
  var examples: String {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/Examples/data"
  }

  @Test("on the bundled data (.npz and .pt) it prints the reference accuracies of Examples/data/README.md")
  func bundledData() throws {
    for file in ["ensemble.npz", "ensemble.pt"] {
      let e = examples + "/" + file
      let result = runCompare(["kernel", "--test", e + ":logits", "--train", e + ":logits_train",
                                 "--test-labels", e + ":labels", "--train-labels", e + ":labels_train"])
      #expect(result.status == 0)
      #expect(result.out == """
        average single-model accuracy   : 97.21
        ensemble accuracy (64 models)   : 97.56
        kernel accuracy (k-NN w/ k=3)   : 98.22

        """)
    }
  }

  @Test("repeated --test/--train shard files give the same result as one file")
  func shardFiles() throws {
    let test = try TensorReference(f + "test_logits.npy").tensor().floats()
    let train = try TensorReference(f + "train_logits.npy").tensor().floats()
    let paths = ["t0.npy", "t1.npy", "r0.npy", "r1.npy"].map(temporary)
    try NPYWriter.write(Array(test[..<(2 * 12 * 4)]), shape: [2, 12, 4], to: paths[0])
    try NPYWriter.write(Array(test[(2 * 12 * 4)...]), shape: [4, 12, 4], to: paths[1])
    try NPYWriter.write(Array(train[..<(5 * 30 * 4)]), shape: [5, 30, 4], to: paths[2])
    try NPYWriter.write(Array(train[(5 * 30 * 4)...]), shape: [1, 30, 4], to: paths[3])
    let labels = ["--test-labels", f + "test_labels.npy", "--train-labels", f + "train_labels.npy", "--json"]
    let single = runCompare(["kernel"] + inputs + ["--json"])
    let sharded = runCompare(["kernel", "--test", paths[0], "--test", paths[1], "--train", paths[2],
                                "--train", paths[3]] + labels)
    #expect(sharded.status == 0)
    #expect(sharded.out == single.out)
    let four = runCompare(["kernel", "--test", paths[0], "--test", paths[1], "--train", paths[2],
                             "--train", paths[3], "--models", "4"] + labels)
    #expect(four.out != single.out)
    #expect(four.out.contains("\"models\": 4,"))
    let mismatch = runCompare(["kernel", "--test", paths[0], "--test", paths[1], "--train", paths[2]] + labels)
    #expect(mismatch.status == 1)
    #expect(mismatch.err == "Error: \(paths[0]) (+1 shards) has 6 models but \(paths[2]) has 5; use --models to take the first N of both\n")
  }

  @Test("help shows every option with its default")
  func help() {
    let help = runCompare(["help", "kernel"])
    #expect(help.status == 0)
    #expect(help.out.hasPrefix("OVERVIEW: Ensemble correlation kernel: k-NN over many models' logits.\n\nUSAGE: compare kernel --test <ref> ... "))
    #expect(help.out.contains("  -k <k>                  Neighbours that vote; or a comma-separated list (1,3,5,...): a k sweep,\n"))
    #expect(help.out.contains("  --memory <GiB>          Memory for normalised logits and kernel blocks; past it models are\n                          streamed in chunks. (default: 4)\n"))
    // kernel merge's -k sweeps too, ensemble's takes one k; --memory's default reads the same everywhere.
    #expect(runCompare(["help", "kernel", "merge"]).out.contains("  -k <k>                  Neighbours that vote; or a comma-separated list (1,3,5,...): a k sweep,\n                          every k's accuracy from the merged neighbours (kernel_accuracy is the\n                          first k's). (default: 3)\n"))
    #expect(runCompare(["help", "ensemble"]).out.contains("kernel's normalised logits. (default: 4)\n"))
    #expect(runCompare(["help", "kernel", "pairs"]).out.contains("streamed in chunks. (default: 4)\n"))
    #expect(help.out.contains("  --ties <rule>           Vote ties: the smallest label (torch.mode, as the reference) or the\n"))
    #expect(help.out.contains("SUBCOMMANDS:\n  pairs "))
    #expect(help.out == runCompare(["kernel", "-h"]).out)
  }

  @Test("--class and --no-log-softmax change the kernel and are reported; a class out of range is a usage error")
  func variants() throws {
    let perClass = runCompare(["kernel"] + inputs + ["--class", "2", "--json"])
    #expect(perClass.out.contains("\"class\": 2"))
    let raw = runCompare(["kernel"] + inputs + ["--no-log-softmax"])
    #expect(raw.out.contains("kernel accuracy (k-NN w/ k=3, no log-softmax) : "))
    let bad = runCompare(["kernel"] + inputs + ["--class", "4"])
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("Error: --class 4 is out of range: the logits have 4 classes (0...3)\n"))
  }
}
