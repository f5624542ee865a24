@testable import CompareCLI
import CompareCore
import Foundation
import Testing
import TestSupport
import TensorIO

@Suite("compare ensemble")
struct EnsembleCommandTests {
  let f = packageRoot + "Tests/Fixtures/ensemble/"
  var inputs: [String] { ["--test", f + "a.npy", "--test-labels", f + "labels.npy"] }
  let usage = "Usage: compare ensemble --test <ref> ... --test-labels <ref> [--tta <ref> ...] [--against <ref> ...] [--top <n>] [--save-examples <file>] [--sizes <list>] [--resamples <R>] [--seed <S>] [--figure <file>] [--train <ref> ...] [--train-labels <ref>] [-k <k>] [--weighting <scheme>] [--ties <rule>] [--memory <GiB>] [--json]\n  See 'compare ensemble --help' for more information.\n"

  static var golden: [String: Any] {
    let data = FileManager.default.contents(atPath: packageRoot + "Tests/Fixtures/ensemble/golden.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  let scratch = TemporaryFolder("ensemble-tests")
  func temporary(_ name: String) -> String { scratch.file(name) }

  static let keys = [
    "models", "examples", "classes", "single_model_accuracy", "single_model_accuracy_std", "single_model_accuracy_ci",
    "empirical_std", "independent_std", "distribution_std", "ensemble_accuracy", "ensemble_accuracy_probs",
    "ece", "nll", "brier", "mean_model_ece", "mean_model_nll", "mean_model_brier", "disagreement",
  ]

  func expectKeys(_ object: [String: Any], equal golden: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
    for key in Self.keys {
      switch golden[key] {
      case let list as [Double]:
        #expect(zip(object[key] as! [Double], list).allSatisfy { abs($0 - $1) < 1e-12 }, "\(key)", sourceLocation: sourceLocation)
      case let number as NSNumber:
        #expect(abs((object[key] as! NSNumber).doubleValue - number.doubleValue) < 1e-12, "\(key)", sourceLocation: sourceLocation)
      default:
        #expect(object[key] is NSNull, "\(key)", sourceLocation: sourceLocation)
      }
    }
  }

  @Test("--json prints the issue's keys, in order, with the golden values")
  func json() throws {
    let result = runCompare(["ensemble"] + inputs + ["--json", "--top", "2"])
    #expect(result.status == 0)
    #expect(result.err.isEmpty)
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    expectKeys(object, equal: Self.golden["a"] as! [String: Any])
    let positions = Self.keys.map { result.out.range(of: "\"\($0)\"")!.lowerBound }
    #expect(positions == positions.sorted())
    #expect((object["least_stable"] as! [Any]).count == 2)
  }

  @Test("the bundled ensemble's JSON equals the golden values; a tta column appears beside the plain one")
  func bundled() throws {
    let e = packageRoot + "Examples/data/ensemble.npz"
    let result = runCompare(["ensemble", "--test", e + ":logits", "--test-labels", e + ":labels", "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    expectKeys(object, equal: Self.golden["bundled"] as! [String: Any])
    let tta = runCompare(["ensemble"] + inputs + ["--tta", f + "a_tta.npy", "--top", "0"])
    #expect(tta.out.contains("accuracy (%)                        without tta       with tta\nmean single-model accuracy                55.00"))
    let ttaJSON = runCompare(["ensemble"] + inputs + ["--tta", f + "a_tta.npy", "--json"])
    let t = (try JSONSerialization.jsonObject(with: Data(ttaJSON.out.utf8)) as! [String: Any])["tta"] as! [String: Any]
    let golden = Self.golden["a_tta"] as! [String: Any]
    #expect((t["single_model_accuracy"] as! Double).isClose(to: golden["single_model_accuracy"] as! Double, tolerance: 1e-14))
    #expect((t["ensemble_accuracy"] as! Double) == golden["ensemble_accuracy"] as! Double)
  }

  @Test("an undefined distribution-wise std prints as undefined with a note, and null in JSON")
  func undefined() throws {
    let result = runCompare(["ensemble", "--test", f + "undefined.npy", "--test-labels", f + "undefined_labels.npy", "--top", "2"])
    #expect(result.status == 0)
    #expect(result.out == """
      Ensemble of 4 runs, 6 examples, 3 classes

      accuracy (%)                             4 runs
      mean single-model accuracy                50.00
      std over runs                              0.00
      95 % interval of the mean         50.00 – 50.00
      ensemble accuracy (mean logits)           66.67
      ensemble accuracy (mean softmax)          66.67

      Variance analysis (Calibrated Chaos, Theorem 2), std of accuracy in %
      empirical std                  : 0.00
      examplewise-independence std   : 20.41
      distribution-wise std          : undefined (see note)
      note: distribution_std is undefined: the variance over runs of the number of correct examples is below Σ p(1 − p), so √(n/(n−1)·(V − Σ p(1 − p))) has a negative argument (eval_kernel.py prints nan)

      calibration    ensemble  single run (mean)
      ECE (15 bins)    0.1992             0.4106
      NLL              0.7814             1.3651
      Brier            0.4895             0.8010
      disagreement between runs (%)  : 72.22

      Least stable examples (runs split most evenly)
      rank  example  label  p_correct  margin mean  margin std  entropy
         1        2      2      0.500        0.075       2.515    0.890
         2        1      1      0.500       -0.125       2.426    1.067

      """)
    let json = runCompare(["ensemble", "--test", f + "undefined.npy", "--test-labels", f + "undefined_labels.npy", "--json"])
    #expect(json.out.contains("\"distribution_std\": null,"))
    #expect(json.out.contains("\"notes\": [\"distribution_std is undefined"))
  }

  @Test("--against: churn, differences, the most changed examples, and the saved arrays equal the goldens")
  func against() throws {
    let path = temporary("changed.npz")
    let result = runCompare(["ensemble"] + inputs + ["--against", f + "b.npy", "--top", "3", "--save-examples", path])
    #expect(result.status == 0)
    #expect(result.out.contains("churn (ensemble predictions differ): 25.00 %\n"))
    #expect(result.out.contains("   1        5      1      1.000    0.333       0.667  0.00629\n"))
    let golden = Self.golden["comparison"] as! [String: Any]
    let file = try TensorFile.open(path)
    for key in ["p_correct_difference", "p_value"] {
      let saved = try file.tensor(key).doubles(), expected = golden[key] as! [Double]
      #expect(zip(saved, expected).allSatisfy { abs($0 - $1) < 1e-14 }, "\(key)")
    }
    let json = runCompare(["ensemble"] + inputs + ["--against", f + "b.npy", "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as! [String: Any]
    #expect(object["churn"] as! Double == golden["churn"] as! Double)
    #expect((object["single_model_accuracy_difference_se"] as! Double).isClose(
      to: golden["single_model_accuracy_difference_se"] as! Double, tolerance: 1e-14))
    expectKeys(object["against"] as! [String: Any], equal: Self.golden["b"] as! [String: Any])
    let itself = runCompare(["ensemble"] + inputs + ["--against", f + "a.npy", "--json"])
    #expect(itself.out.contains("\"churn\": 0.0,"))
  }

  @Test("--save-examples alone writes p_correct, margins and entropy equal to the goldens")
  func saveExamples() throws {
    let path = temporary("examples.npz")
    #expect(runCompare(["ensemble"] + inputs + ["--save-examples", path, "--top", "0"]).status == 0)
    let file = try TensorFile.open(path)
    let golden = Self.golden["a"] as! [String: Any]
    for key in ["p_correct", "margin_mean", "margin_std", "entropy"] {
      let saved = try file.tensor(key).doubles(), expected = golden[key] as! [Double]
      #expect(zip(saved, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(key)")
    }
  }

  @Test("--sizes with resamples: mean ± std over seeded subsets, as the goldens; --figure draws it")
  func sizes() throws {
    let figure = temporary("sizes.svg")
    let result = runCompare(["ensemble"] + inputs + ["--sizes", "2,5,8", "--resamples", "3", "--seed", "7", "--json",
                                                      "--figure", figure])
    #expect(result.status == 0)
    let rows = (try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any])["sizes"] as! [[String: Any]]
    let golden = ((Self.golden["sizes_resampled"] as! [String: Any])["rows"] as! [[String: Any]])
    for (row, expected) in zip(rows, golden) {
      for key in ["single_model_accuracy", "ensemble_accuracy"] {
        let values = expected[key] as! [Double]
        let mean = values.reduce(0, +) / 3
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
        #expect((row[key] as! Double).isClose(to: mean, tolerance: 1e-12))
        #expect((row[key + "_std"] as! Double).isClose(to: std, tolerance: 1e-9))
      }
    }
    #expect(FileManager.default.contents(atPath: figure).map { String(decoding: $0, as: UTF8.self).contains("<svg") } == true)
    let text = runCompare(["ensemble"] + inputs + ["--sizes", "2,8", "--top", "0"])
    #expect(text.out.hasSuffix("Accuracy against ensemble size (the first n runs)\nruns  single model %  ensemble %\n   2           57.50       57.50\n   8           55.00       67.50\n"))
  }

  @Test("usage mistakes exit 64 with the usage line")
  func usageErrors() {
    let missing = runCompare(["ensemble", "--test", f + "a.npy"])
    #expect(missing.status == 64)
    #expect(missing.err == "Error: missing expected option '--test-labels <ref>'\n" + usage)
    let figure = runCompare(["ensemble"] + inputs + ["--figure", "x.png"])
    #expect(figure.err == "Error: --figure needs --sizes\n" + usage)
    let resamples = runCompare(["ensemble"] + inputs + ["--resamples", "3"])
    #expect(resamples.err == "Error: --resamples needs --sizes\n" + usage)
    let sizes = runCompare(["ensemble"] + inputs + ["--sizes", "2,x"])
    #expect(sizes.err == "Error: --sizes expects a comma-separated list of run counts ≥ 1, got '2,x'\n" + usage)
    let train = runCompare(["ensemble"] + inputs + ["--train", f + "a.npy"])
    #expect(train.err == "Error: --train and --train-labels go together\n" + usage)
    let both = runCompare(["ensemble"] + inputs + ["--tta", f + "a.npy", "--against", f + "b.npy"])
    #expect(both.status == 64)
    #expect(both.err == "Error: --tta and --against cannot be combined\n" + usage)
  }

  @Test("-k takes one k and --sizes no size twice: usage errors naming the option; one k and distinct sizes run")
  func listOptions() {
    let train = ["--train", f + "a.npy", "--train-labels", f + "labels.npy", "--sizes", "2"]
    let k = runCompare(["ensemble"] + inputs + train + ["-k", "1,3"])
    #expect(k.status == 64)
    #expect(k.err == "Error: -k expects a positive integer, got '1,3' (compare ensemble takes one k)\n" + usage)
    let sizes = runCompare(["ensemble"] + inputs + ["--sizes", "2,4,2"])
    #expect(sizes.status == 64)
    #expect(sizes.err == "Error: --sizes lists 2 twice\n" + usage)
    #expect(runCompare(["ensemble"] + inputs + ["--sizes", "2,4,2,2"]).err == "Error: --sizes lists 2 3 times\n" + usage)
    // Negative controls.
    #expect(runCompare(["ensemble"] + inputs + train + ["-k", "1"]).status == 0)
    #expect(runCompare(["ensemble"] + inputs + ["--sizes", "2,4"]).status == 0)
    #expect(runCompare(["help", "ensemble"]).out.contains("  -k <k>                  Neighbours that vote: one k, not a list (a k sweep is compare kernel's).\n"))
  }

  @Test("outputs that are inputs or each other are usage errors, before any work; the input is left as it was")
  func outputConflicts() throws {
    let test = temporary("test.npy")
    try FileManager.default.copyItem(atPath: f + "a.npy", toPath: test)
    let before = try scratch.listing(), bytes = FileManager.default.contents(atPath: test)
    let onTest = runCompare(["ensemble", "--test", test, "--test-labels", f + "labels.npy", "--save-examples", scratch.path + "/./test.npy"])
    #expect(onTest.status == 64)
    #expect(onTest.err == "Error: --save-examples \(scratch.path)/./test.npy is also an input (--test); choose another output path\n" + usage)
    let onAgainst = runCompare(["ensemble"] + inputs + ["--against", test, "--save-examples", test])
    #expect(onAgainst.err.hasPrefix("Error: --save-examples \(test) is also an input (--against); choose another output path\n"))
    let same = temporary("same.svg")
    let twice = runCompare(["ensemble"] + inputs + ["--sizes", "2", "--save-examples", same, "--figure", same])
    #expect(twice.status == 64)
    #expect(twice.err == "Error: --save-examples and --figure both write \(same)\n" + usage)
    #expect(try scratch.listing() == before)
    #expect(FileManager.default.contents(atPath: test) == bytes)
    // Negative control: another path is written.
    #expect(runCompare(["ensemble", "--test", test, "--test-labels", f + "labels.npy", "--save-examples", temporary("x.npz")]).status == 0)
  }

  @Test("bad data exits 1 with one line naming the file: NaN, other examples, labels out of range, one run")
  func dataErrors() throws {
    var values = try TensorReference(f + "a.npy").tensor().floats()
    values[(6 * 40 + 12) * 4 + 1] = .nan
    let nanPath = temporary("nan.npy")
    try NPYWriter.write(values, shape: [8, 40, 4], to: nanPath)
    let nan = runCompare(["ensemble", "--test", nanPath, "--test-labels", f + "labels.npy"])
    #expect(nan.status == 1)
    #expect(nan.err == "Error: \(nanPath): logit [6, 12, 1] is nan; logits must be finite\n")
    // In the second of two shards: that file, and the index within it.
    let shards = runCompare(["ensemble", "--test", f + "a.npy", "--test", nanPath, "--test-labels", f + "labels.npy"])
    #expect(shards.err == "Error: \(nanPath): logit [6, 12, 1] is nan; logits must be finite\n")
    // A float64 logit float32 cannot hold names its value; one it can hold (negative control) runs.
    var wide = values.map(Double.init)
    wide[(6 * 40 + 12) * 4 + 1] = 1e300
    let widePath = temporary("wide.npy")
    try NPYWriter.write(wide, shape: [8, 40, 4], to: widePath)
    let overflow = runCompare(["ensemble", "--test", f + "a.npy", "--test", widePath, "--test-labels", f + "labels.npy"])
    #expect(overflow.status == 1)
    #expect(overflow.err == "Error: \(widePath): logit [6, 12, 1] is 1e+300, outside float32's range\n")
    wide[(6 * 40 + 12) * 4 + 1] = 1e30
    try NPYWriter.write(wide, shape: [8, 40, 4], to: widePath)
    #expect(runCompare(["ensemble", "--test", widePath, "--test-labels", f + "labels.npy"]).status == 0)
    let against = runCompare(["ensemble"] + inputs + ["--against", f + "undefined.npy"])
    #expect(against.status == 1)
    #expect(against.err == "Error: \(f)undefined.npy has shape [4, 6, 3] but \(f)a.npy has [8, 40, 4]; both must hold the same examples and classes\n")
    var labels = try TensorReference(f + "labels.npy").tensor().integers()
    labels[7] = 4
    let labelsPath = temporary("labels.npy")
    try NPYWriter.write(labels, shape: [40], to: labelsPath)
    let range = runCompare(["ensemble", "--test", f + "a.npy", "--test-labels", labelsPath])
    #expect(range.status == 1)
    #expect(range.err == "Error: \(labelsPath)[7] = 4 is outside the 4 classes 0..<4\n")
    let count = runCompare(["ensemble", "--test", f + "a.npy", "--test-labels", f + "undefined_labels.npy"])
    #expect(count.err == "Error: \(f)undefined_labels.npy has 6 labels but \(f)a.npy has 40 examples\n")
    let one = temporary("one.npy")
    try NPYWriter.write(Array(values.prefix(160)), shape: [1, 40, 4], to: one)
    let single = runCompare(["ensemble", "--test", one, "--test-labels", f + "labels.npy"])
    #expect(single.err == "Error: \(one): the run axis has length 1; the spread over runs needs at least 2 runs\n")
    let sizes = runCompare(["ensemble"] + inputs + ["--sizes", "2,9"])
    #expect(sizes.err == "Error: --sizes 9 is outside the 1...8 runs available\n")
  }
}
