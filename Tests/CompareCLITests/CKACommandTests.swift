@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

/// `compare cka` on the committed fixtures of Tests/Fixtures/cka.
@Suite("compare cka")
struct CKACommandTests {
  static let fixtures = packageRoot + "Tests/Fixtures/cka/"
  let a = fixtures + "model_a", b = fixtures + "model_b"
  static let usage = "Usage: compare cka [--estimator <estimator>] [--kernel <kernel>] [--batch-size <n>] [--keep-last] [--epochs <E>] [--layers-a <names>] [--layers-b <names>] [--examples <n>] [--paired-by-index] [--pool <pool>] [--name-a <name>] [--name-b <name>] [--save <file>] [--heatmap <file>] [--show-se] [--ci] [--bootstrap <R>] [--confidence <level>] [--permutations <P>] [--fdr] [--seed <n>] [--json] <a> <b> [<more> ...]\n  See 'compare cka --help' for more information.\n"

  @Test("one layer is counted as '1 layer', several as 'layers'")
  func layerCount() {
    let one = runCompare(["cka", a, b, "--batch-size", "16", "--layers-a", "layer2"])
    #expect(one.out.hasPrefix("CKA of model_a (rows, 1 layer) against model_b (columns, 2 layers)\n"))
  }

  @Test("prints the table, the batching and each layer's best match; notes the dropped examples")
  func table() {
    let result = runCompare(["cka", a, b, "--batch-size", "16"])
    #expect(result.status == 0)
    #expect(result.out == """
      CKA of model_a (rows, 3 layers) against model_b (columns, 2 layers)
      estimator minibatch, kernel linear, batch size 16: 2 batches, 32 of 40 examples

      layer    block1  block2
      layer1   0.2272  0.1371
      layer2   0.2057  0.1569
      layer10  0.1363  0.0977

      Best match in model_b for each layer of model_a:
        layer1   → block1 (0.2272)
        layer2   → block1 (0.2057)
        layer10  → block1 (0.1363)

      """)
    #expect(result.err == "note: the last 8 examples (a partial batch) were dropped; --keep-last keeps them\n")
  }

  @Test("--json has torch_cka's export keys and the float64 golden values")
  func json() throws {
    let result = runCompare(["cka", a, b, "--batch-size", "16", "--keep-last", "--json",
                             "--name-a", "mlp", "--layers-b", "block2,block1"])
    #expect(result.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    #expect(Array(object.keys).sorted() == ["CKA", "batch_size", "batches", "bootstrap", "ci_high", "ci_low",
                                            "confidence", "epochs", "estimator", "examples", "kernel",
                                            "model1_layers", "model1_name", "model2_layers", "model2_name",
                                            "null_mean", "null_std", "p_adjusted", "p_value", "paired_by_index",
                                            "permutations", "std_error", "warnings"])
    #expect(object["paired_by_index"] as? Bool == false)
    #expect(object["model1_name"] as? String == "mlp")
    #expect(object["model2_name"] as? String == "model_b")
    #expect(object["model1_layers"] as? [String] == ["layer1", "layer2", "layer10"])
    #expect(object["model2_layers"] as? [String] == ["block2", "block1"])
    #expect(object["estimator"] as? String == "minibatch")
    #expect(object["kernel"] as? String == "linear")
    #expect(object["batch_size"] as? Int == 16)
    #expect(object["examples"] as? Int == 40)
    let cka = object["CKA"] as! [[Double]]
    // make_fixtures.py, "minibatch linear, batch 16, last kept", columns swapped.
    #expect(abs(cka[0][1] - 0.19968973883803723) < 1e-10)
    #expect(abs(cka[2][0] - 0.12239863812602834) < 1e-10)
    #expect(result.err.isEmpty)
  }

  @Test("--json has the jackknife standard errors by default, shaped like CKA, and null for the rest")
  func jsonStandardErrors() throws {
    let result = runCompare(["cka", a, b, "--batch-size", "8", "--json"])
    #expect(result.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    let errors = try #require(object["std_error"] as? [[Double]])
    // make_fixtures.py, "statistics", batch 8.
    #expect(errors.count == 3 && errors[0].count == 2)
    let golden = try Self.statisticsGolden(batch: 8)
    #expect(abs(errors[1][0] - golden[1][0]) < 1e-9)
    for key in ["ci_low", "ci_high", "confidence", "bootstrap", "p_value", "null_mean", "null_std", "p_adjusted"] {
      #expect(object[key] is NSNull, "\(key)")
    }
    #expect(object["permutations"] as? Int == 0)
    // The full-batch estimators have one batch: no standard errors.
    let full = runCompare(["cka", a, b, "--estimator", "debiased", "--json"])
    let fullObject = try JSONSerialization.jsonObject(with: Data(full.out.utf8)) as! [String: Any]
    #expect(fullObject["std_error"] is NSNull)
  }

  static func statisticsGolden(batch: Int) throws -> [[Double]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "goldens.json"))
    let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let cases = object["statistics"] as! [[String: Any]]
    return cases.first { $0["batch_size"] as? Int == batch }!["std_error"] as! [[Double]]
  }

  @Test("--ci and --permutations: intervals, p-values and the null in JSON, reproducible by --seed")
  func jsonStatistics() throws {
    let words = ["cka", a, b, "--batch-size", "8", "--ci", "--bootstrap", "200", "--confidence", "0.9",
                 "--permutations", "19", "--fdr", "--json"]
    let first = runCompare(words + ["--seed", "3"])
    #expect(first.status == 0)
    #expect(first.out == runCompare(words + ["--seed", "3"]).out)
    #expect(first.out != runCompare(words + ["--seed", "4"]).out)  // another seed, other draws
    let object = try JSONSerialization.jsonObject(with: Data(first.out.utf8)) as! [String: Any]
    #expect(object["confidence"] as? Double == 0.9)
    #expect(object["bootstrap"] as? Int == 200)
    #expect(object["permutations"] as? Int == 19)
    let cka = object["CKA"] as! [[Double]]
    let low = object["ci_low"] as! [[Double]], high = object["ci_high"] as! [[Double]]
    let p = object["p_value"] as! [[Double]], adjusted = object["p_adjusted"] as! [[Double]]
    for i in 0..<3 {
      for j in 0..<2 {
        #expect(low[i][j] <= cka[i][j] && cka[i][j] <= high[i][j])
        #expect(p[i][j] >= 1.0 / 20 && p[i][j] <= adjusted[i][j])
      }
    }
    #expect((object["null_std"] as! [[Double]]).count == 3)
  }

  @Test("--show-se prints ± standard errors; --permutations marks cells and best matches that are not significant")
  func tableStatistics() {
    let result = runCompare(["cka", a, b, "--batch-size", "8", "--show-se", "--permutations", "19", "--fdr"])
    #expect(result.status == 0)
    #expect(result.out.contains("layer1   0.3345 ± 0.0586 ns"))
    #expect(result.out.contains("± the delete-one-batch jackknife standard error over the 5 batches\n"))
    #expect(result.out.contains("ns: not significant (permutation p > 0.05, Benjamini–Hochberg adjusted)\n"))
    #expect(result.out.contains("Permutation p-values, Benjamini–Hochberg adjusted across the 6 cells (19 shuffles of model_b's examples within each batch):\n"))
    #expect(result.out.contains("  layer1   → block1 (0.3345 ± 0.0586), not significant (p = "))
    // Without the options the table is the plain one.
    let plain = runCompare(["cka", a, b, "--batch-size", "8"])
    #expect(!plain.out.contains("±") && !plain.out.contains(" ns") && !plain.out.contains("significant"))
  }

  @Test("statistics with a full-batch estimator, --fdr without --permutations, bad counts: usage errors (64)")
  func statisticsUsageErrors() {
    let full = runCompare(["cka", a, b, "--estimator", "full", "--ci"])
    #expect(full.status == 64)
    #expect(full.err == "Error: --ci needs --estimator minibatch: the statistics come from the spread of its batches, and --estimator full has one\n" + Self.usage)
    let permutations = runCompare(["cka", a, b, "--estimator", "debiased", "--permutations", "10"])
    #expect(permutations.status == 64)
    #expect(permutations.err.hasPrefix("Error: --permutations needs --estimator minibatch"))
    let fdr = runCompare(["cka", a, b, "--batch-size", "8", "--fdr"])
    #expect(fdr.status == 64)
    #expect(fdr.err == "Error: --fdr adjusts permutation p-values: give --permutations too\n" + Self.usage)
    let confidence = runCompare(["cka", a, b, "--batch-size", "8", "--ci", "--confidence", "1.5"])
    #expect(confidence.status == 64)
    #expect(confidence.err.hasPrefix("Error: --confidence expects a number in 0.0...1.0, got '1.5'\n"))
    let one = runCompare(["cka", a, b, "--batch-size", "8", "--ci", "--confidence", "1"])
    #expect(one.status == 64)
    #expect(one.err.hasPrefix("Error: --confidence expects a number strictly between 0 and 1, got '1'\n"))
    let negative = runCompare(["cka", a, b, "--batch-size", "8", "--permutations", "-3"])
    #expect(negative.status == 64)
    #expect(negative.err.hasPrefix("Error: --permutations expects a non-negative integer, got '-3'\n"))
  }

  @Test("--epochs > 1 with a full-batch estimator is a usage error (64) like the statistics; --epochs 1 is not")
  func epochsUsageError() {
    let full = runCompare(["cka", a, b, "--estimator", "full", "--epochs", "2"])
    #expect(full.status == 64)
    #expect(full.out.isEmpty)
    #expect(full.err == "Error: --epochs needs --estimator minibatch: each pass shuffles the examples into new batches, and --estimator full has one\n" + Self.usage)
    let debiased = runCompare(["cka", a, b, "--estimator", "debiased", "--epochs", "3"])
    #expect(debiased.status == 64)
    #expect(debiased.err.hasPrefix("Error: --epochs needs --estimator minibatch: each pass shuffles the examples into new batches, and --estimator debiased has one\n"))
    #expect(runCompare(["cka", a, b, "--estimator", "full", "--epochs", "1"]).status == 0)
    #expect(runCompare(["cka", a, b, "--batch-size", "8", "--epochs", "2"]).status == 0)
  }

  @Test("--confidence without intervals is a usage error (64), as --fdr without --permutations; with --ci or --bootstrap it is not")
  func confidenceWithoutIntervals() {
    let alone = runCompare(["cka", a, b, "--batch-size", "8", "--confidence", "0.9"])
    #expect(alone.status == 64)
    #expect(alone.out.isEmpty)
    #expect(alone.err == "Error: --confidence sets the coverage of the --ci intervals: give --ci too\n" + Self.usage)
    let full = runCompare(["cka", a, b, "--estimator", "full", "--confidence", "0.9"])
    #expect(full.status == 64)
    #expect(full.err == "Error: --confidence needs --estimator minibatch: the statistics come from the spread of its batches, and --estimator full has one\n" + Self.usage)
    let bootstrap = runCompare(["cka", a, b, "--estimator", "debiased", "--bootstrap", "50"])
    #expect(bootstrap.status == 64)
    #expect(bootstrap.err.hasPrefix("Error: --bootstrap needs --estimator minibatch: "))
    #expect(runCompare(["cka", a, b, "--batch-size", "8", "--ci", "--confidence", "0.9"]).status == 0)
    #expect(runCompare(["cka", a, b, "--batch-size", "8", "--bootstrap", "50", "--confidence", "0.9"]).status == 0)
  }

  @Test("--ci on a single batch says there are no intervals: a note in the table, a warning on stderr and in JSON")
  func intervalsNeedTwoBatches() throws {
    let text = runCompare(["cka", a, b, "--batch-size", "40", "--ci", "--show-se"])
    #expect(text.status == 0)
    #expect(text.out.contains("""
      layer10  0.1243  0.0944
      (no standard errors: they need at least 2 batches)
      (no bootstrap intervals: they need at least 2 batches)

      Best match
      """))
    #expect(text.err == "warning: no bootstrap intervals: they need at least 2 batches, got 1\n")
    let json = runCompare(["cka", a, b, "--batch-size", "40", "--bootstrap", "50", "--json"])
    #expect(json.status == 0)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect(object["warnings"] as? [String] == ["no bootstrap intervals: they need at least 2 batches, got 1"])
    #expect(object["ci_low"] is NSNull)
    #expect(json.err == "warning: no bootstrap intervals: they need at least 2 batches, got 1\n")
    // Negative controls: 2 batches have intervals and no warning; one batch without --ci none either.
    let two = runCompare(["cka", a, b, "--batch-size", "20", "--ci"])
    #expect(two.out.contains("95 % bootstrap intervals (1000 resamples of the 2 batches):\n"))
    #expect(!two.out.contains("no bootstrap intervals") && two.err.isEmpty)
    let plain = runCompare(["cka", a, b, "--batch-size", "40", "--json"])
    #expect(plain.err.isEmpty && plain.out.contains("\"warnings\": []"))
  }

  @Test("--epochs prints the passes, not more examples than the file has; JSON keeps examples and adds epochs")
  func epochsDescription() throws {
    let three = runCompare(["cka", a, b, "--batch-size", "20", "--epochs", "3"])
    #expect(three.status == 0)
    #expect(three.out.hasPrefix("""
      CKA of model_a (rows, 3 layers) against model_b (columns, 2 layers)
      estimator minibatch, kernel linear, batch size 20: 6 batches (3 passes over 40 examples)\n
      """))
    let dropped = runCompare(["cka", a, b, "--batch-size", "16", "--epochs", "3"])
    #expect(dropped.out.contains("batch size 16: 6 batches (3 passes, each over 32 of 40 examples)\n"))
    let json = runCompare(["cka", a, b, "--batch-size", "16", "--epochs", "3", "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect(object["epochs"] as? Int == 3)
    #expect(object["examples"] as? Int == 96)
    #expect(object["batches"] as? Int == 6)
    // One pass: the line and the keys as before.
    let one = runCompare(["cka", a, b, "--batch-size", "16", "--json"])
    let oneObject = try #require(try JSONSerialization.jsonObject(with: Data(one.out.utf8)) as? [String: Any])
    #expect(oneObject["epochs"] as? Int == 1 && oneObject["examples"] as? Int == 32)
    #expect(runCompare(["cka", a, b, "--batch-size", "16"]).out.contains("batch size 16: 2 batches, 32 of 40 examples\n"))
  }

  @Test("the interval title shows the confidence with the digits it was given, never a rounded 100 %")
  func confidenceDigits() {
    let close = runCompare(["cka", a, b, "--batch-size", "10", "--ci", "--confidence", "0.999999"])
    #expect(close.status == 0)
    #expect(close.out.contains("\n99.9999 % bootstrap intervals (1000 resamples of the 4 batches):\n"))
    #expect(!close.out.contains("100 %"))
    #expect(CKAResult.percent(0.95) == "95")
    #expect(CKAResult.percent(0.995) == "99.5")
    #expect(CKAResult.percent(0.9999999999) == "99.99999999")
    #expect(CKAResult.percent(0.123456789) == "12.3456789")
  }

  @Test("--save writes the matrix as float64 .npy, rows = model A's layers")
  func save() throws {
    let path = NSTemporaryDirectory() + "compare-cka-test-\(getpid()).npy"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let result = runCompare(["cka", a, b, "--estimator", "debiased", "--save", path, "--json"])
    #expect(result.status == 0)
    let tensor = try TensorReference(path).tensor()
    #expect(tensor.shape == [3, 2])
    #expect(tensor.dtype == .float64)
    #expect(abs(try tensor.doubles()[0] - 0.24087022684183973) < 1e-10)
  }

  @Test("--heatmap writes a PNG or an SVG naming every layer; another extension is a usage error")
  func heatmap() throws {
    let base = NSTemporaryDirectory() + "compare-cka-heatmap-\(getpid())"
    defer {
      try? FileManager.default.removeItem(atPath: base + ".png")
      try? FileManager.default.removeItem(atPath: base + ".svg")
    }
    #expect(runCompare(["cka", a, b, "--batch-size", "20", "--heatmap", base + ".png"]).status == 0)
    let png = try Data(contentsOf: URL(fileURLWithPath: base + ".png"))
    #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(runCompare(["cka", a, b, "--batch-size", "20", "--heatmap", base + ".svg"]).status == 0)
    let svg = try String(contentsOfFile: base + ".svg", encoding: .utf8)
    for layer in ["layer1", "layer2", "layer10", "block1", "block2", "CKA: model_a vs model_b"] {
      #expect(svg.contains(layer))
    }
    #expect(!svg.contains("not-significant"))
    // With a permutation test, the cells that are not significant get a hatched veil and the
    // x-axis label says so.
    #expect(runCompare(["cka", a, b, "--batch-size", "8", "--permutations", "99", "--heatmap", base + ".svg"]).status == 0)
    let tested = try String(contentsOfFile: base + ".svg", encoding: .utf8)
    #expect(tested.components(separatedBy: "class=\"not-significant\"").count - 1 == 3)
    #expect(tested.contains("greyed, hatched: not significant"))
    let bad = runCompare(["cka", a, b, "--heatmap", base + ".jpg"])
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("Error: --heatmap expects a .png or .svg file name, got '\(base).jpg'\n"))
  }

  @Test("a constant layer: NaN (null) row, a warning naming it, exit 0")
  func constantLayer() throws {
    let result = runCompare(["cka", Self.fixtures + "constant", b, "--batch-size", "20", "--json"])
    #expect(result.status == 0)
    #expect(result.err == "warning: layer 'flat' of constant is constant (HSIC with itself is 0): its CKA is undefined, the row is NaN\n")
    #expect(result.out.contains("\"CKA\": [\n    [null, null],\n    [0."))
  }

  @Test("different example counts are a data error naming both models")
  func differentCounts() {
    let result = runCompare(["cka", a, Self.fixtures + "short"])
    #expect(result.status == 1)
    #expect(result.err == "Error: model_a has 40 examples and short has 30: CKA needs the same examples in the same order (to compare two datasets, pair their first N examples by position with --examples N --paired-by-index)\n")
  }

  @Test("--examples N --paired-by-index compares the first N of each: two datasets paired by position, equal to cutting the files by hand")
  func examplesPrefix() throws {
    let short = Self.fixtures + "short"
    let paired = runCompare(["cka", a, short, "--paired-by-index", "--batch-size", "10", "--json"])
    #expect(paired.status == 0)
    let explicit = runCompare(["cka", a, short, "--examples", "30", "--paired-by-index", "--batch-size", "10", "--json"])
    #expect(explicit.out == paired.out)
    #expect(paired.out.contains("\"examples\": 30,\n  \"paired_by_index\": true,"))
    let table = runCompare(["cka", a, short, "--paired-by-index", "--batch-size", "10"])
    #expect(table.out.contains("\npaired by index: model_a and short hold different inputs, example i of one against example i of the other\n"))
    // The same as the first 30 examples of A taken by the library: the prefix is what is compared.
    let (x, y) = try ActivationSet.pair(a, short, examples: 30, pairedByIndex: true)
    let direct = try CKAEstimator.minibatch(batchSize: 10).similarities(x, y)
    #expect(direct.pairedByIndex)
    #expect(paired.out.contains("\"CKA\": [\n    [" + JSONValue.format(direct.matrix[0, 0])))
    // Negative control: 20 examples give another matrix.
    let fewer = runCompare(["cka", a, short, "--examples", "20", "--paired-by-index", "--batch-size", "10", "--json"])
    #expect(fewer.status == 0 && fewer.out != paired.out)
    let tooMany = runCompare(["cka", a, short, "--examples", "35", "--paired-by-index"])
    #expect(tooMany.status == 1)
    #expect(tooMany.err == "Error: short has 30 examples; --examples 35 asks for more\n")
  }

  @Test("--examples N alone: for different counts the first N of each paired by position (recorded), for equal ones a prefix")
  func examplesWithoutPairing() throws {
    let short = Self.fixtures + "short"
    let alone = runCompare(["cka", a, short, "--examples", "30", "--batch-size", "10", "--json"])
    #expect(alone.status == 0)
    #expect(alone.out == runCompare(["cka", a, short, "--examples", "30", "--paired-by-index", "--batch-size", "10", "--json"]).out)
    #expect(alone.out.contains("\"examples\": 30,\n  \"paired_by_index\": true,"))
    #expect(try ActivationSet.pair(a, short, examples: 30).0.pairedByIndex)
    // Without --examples or --paired-by-index, different counts are refused, naming both options.
    let refused = runCompare(["cka", a, short, "--batch-size", "10"])
    #expect(refused.status == 1 && refused.err.contains("--examples N --paired-by-index"))
    let prefix = runCompare(["cka", a, b, "--examples", "30", "--batch-size", "10", "--json"])
    #expect(prefix.status == 0)
    #expect(prefix.out.contains("\"examples\": 30,\n  \"paired_by_index\": false,"))
    let whole = runCompare(["cka", a, b, "--batch-size", "10", "--json"])
    #expect(whole.out.contains("\"examples\": 40,\n  \"paired_by_index\": false,") && whole.out != prefix.out)
    #expect(!runCompare(["cka", a, b, "--batch-size", "10"]).out.contains("paired by index"))
  }

  @Test("three models: every pair as two models print it, and a model × model summary")
  func threeModels() throws {
    let c = Self.fixtures + "model_b"
    let three = runCompare(["cka", a, b, c, "--batch-size", "10", "--json"])
    #expect(three.status == 0, "\(three.err)")
    let object = try JSONSerialization.jsonObject(with: Data(three.out.utf8)) as! [String: Any]
    #expect((object["models"] as! [String]).count == 3)
    let pairs = object["pairs"] as! [[String: Any]]
    #expect(pairs.count == 3)
    let two = try JSONSerialization.jsonObject(with: Data(runCompare(["cka", a, b, "--batch-size", "10", "--json"]).out.utf8)) as! [String: Any]
    #expect((pairs[0]["CKA"] as! [[Double]]) == (two["CKA"] as! [[Double]]))
    let best = object["best_match"] as! [[Double]]
    #expect(best[0][0] == 1 && best[1][2] > 0.999)   // B against a copy of B
    let values = two["CKA"] as! [[Double]]
    let expected = values.map { $0.max()! }.reduce(0, +) / Double(values.count)
    #expect(abs(best[0][1] - expected) < 1e-12)
    #expect(runCompare(["cka", a, b, c, "--save", "/tmp/x.npy"]).status == 64)
  }

  @Test("a NaN activation is a data error naming layer, model, example and feature")
  func nan() {
    let result = runCompare(["cka", Self.fixtures + "nan", b, "--batch-size", "10"])
    #expect(result.status == 1)
    #expect(result.err == "Error: layer 'x' of nan has a non-finite activation (nan) at example 17, feature 1\n")
  }

  @Test("an empty set and a missing layer are data errors naming the file")
  func emptyAndMissing() {
    let empty = runCompare(["cka", Self.fixtures + "empty", b])
    #expect(empty.status == 1)
    #expect(empty.err == "Error: \(Self.fixtures)empty: layer 'layer' has no examples (shape (0, 3))\n")
    let missing = runCompare(["cka", a, b, "--layers-a", "layer1,layer3"])
    #expect(missing.status == 1)
    #expect(missing.err == "Error: \(a): has no layer 'layer3' (available: layer1, layer2, layer10)\n")
    let nothing = runCompare(["cka", Self.fixtures + "does-not-exist", b])
    #expect(nothing.status == 1)
    #expect(nothing.err.hasPrefix("Error: \(Self.fixtures)does-not-exist: "))
  }

  @Test("a batch smaller than 4, a bad kernel or output name are usage errors (64)")
  func usageErrors() {
    let small = runCompare(["cka", a, b, "--batch-size", "3"])
    #expect(small.status == 64)
    #expect(small.err == "Error: --batch-size expects an integer ≥ 4, got '3'\n" + Self.usage)
    let kernel = runCompare(["cka", a, b, "--kernel", "rbf:-1"])
    #expect(kernel.status == 64)
    #expect(kernel.err == "Error: --kernel expects linear, rbf or rbf:THRESHOLD with THRESHOLD > 0, got 'rbf:-1'\n" + Self.usage)
    let estimator = runCompare(["cka", a, b, "--estimator", "exact"])
    #expect(estimator.status == 64)
    #expect(estimator.err.hasPrefix("Error: 'exact' is not a valid value for '--estimator' (values: minibatch, full, debiased)\n"))
    let save = runCompare(["cka", a, b, "--save", "out.csv"])
    #expect(save.status == 64)
    #expect(save.err.hasPrefix("Error: --save expects a .npy file name, got 'out.csv'\n"))
  }

  @Test("fewer examples than one batch is a data error unless --keep-last keeps them")
  func fewerThanOneBatch() {
    let result = runCompare(["cka", a, b])
    #expect(result.status == 1)
    #expect(result.err == "Error: 40 examples are fewer than one batch of 256: lower --batch-size, add --keep-last, or use --estimator debiased\n")
    #expect(runCompare(["cka", a, b, "--keep-last"]).status == 0)
  }

  @Test("below 4 examples the advice names only what works: --estimator full (and below 2, nothing)")
  func fewerThanFourExamples() {
    let three = runCompare(["cka", a, b, "--examples", "3"])
    #expect(three.status == 1)
    #expect(three.err == "Error: 3 examples are fewer than the 4 a batch needs: use --estimator full\n")
    #expect(runCompare(["cka", a, b, "--examples", "3", "--keep-last", "--batch-size", "4"]).err == three.err)
    // The advice works; what it leaves out does not.
    #expect(runCompare(["cka", a, b, "--examples", "3", "--estimator", "full"]).status == 0)
    #expect(runCompare(["cka", a, b, "--examples", "3", "--estimator", "debiased"]).status == 1)
    let one = runCompare(["cka", a, b, "--examples", "1"])
    #expect(one.status == 1)
    #expect(one.err == "Error: 1 example is too few: a batch needs at least 4, and every CKA estimator at least 2\n")
    #expect(runCompare(["cka", a, b, "--examples", "1", "--estimator", "full"]).status == 1)
    // From 4 examples on, each of the three suggestions works.
    let four = runCompare(["cka", a, b, "--examples", "4"])
    #expect(four.err == "Error: 4 examples are fewer than one batch of 256: lower --batch-size, add --keep-last, or use --estimator debiased\n")
    for fix in [["--batch-size", "4"], ["--keep-last"], ["--estimator", "debiased"]] {
      #expect(runCompare(["cka", a, b, "--examples", "4"] + fix).status == 0, "\(fix)")
    }
  }

  @Test("--save onto one of the models is a usage error and leaves it as it was")
  func saveOntoModel() throws {
    let scratch = TemporaryFolder("cka-save-input")
    let a = scratch.file("a.npy")
    try NPYWriter.write((0..<(40 * 6)).map { Float(sin(Double($0))) }, shape: [40, 6], to: a)
    let before = try Data(contentsOf: URL(fileURLWithPath: a))
    let result = runCompare(["cka", a, a, "--batch-size", "20", "--save", scratch.path + "/../" + FileSystem.baseName(scratch.path) + "/a.npy"])
    #expect(result.status == 64)
    #expect(result.err.hasPrefix("Error: --save \(scratch.path)/../\(FileSystem.baseName(scratch.path))/a.npy is also an input (<models>); choose another output path\n"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == before)
    // Control: another file is written.
    #expect(runCompare(["cka", a, a, "--batch-size", "20", "--save", scratch.file("m.npy")]).status == 0)
  }

  @Test("help shows every option with its default")
  func help() {
    let result = runCompare(["cka", "--help"])
    #expect(result.status == 0)
    #expect(result.out.hasPrefix("OVERVIEW: Layer-by-layer CKA between two models' activations.\n\nUSAGE: compare cka [--estimator <estimator>]"))
    #expect(result.out.contains("  --batch-size <n>        Examples per minibatch, at least 4. (default: 256)\n"))
    #expect(result.out.contains("full, debiased; default: minibatch)\n"))
    #expect(result.out.contains("  --bootstrap <R>         Bootstrap resamples for --ci (giving it implies --ci). (default: 1000)\n"))
    #expect(result.out.contains("  --confidence <level>    Coverage of the --ci intervals, in (0, 1). (default: 0.95)\n"))
    #expect(result.out.contains("  --seed <n>              Seed of the bootstrap resamples and the shuffles. (default: 0)\n"))
  }
}
