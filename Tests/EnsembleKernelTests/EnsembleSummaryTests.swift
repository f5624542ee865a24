import CompareCore
import EnsembleKernel
import Foundation
import Testing
import TensorIO

/// The committed fixtures of `Tests/Fixtures/ensemble` (made by `make_fixtures.py`).
enum EnsembleFixtures {
  static let folder: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)
    return parts.joined(separator: "/") + "/Fixtures/ensemble/"
  }()

  static var golden: [String: Any] {
    let data = FileManager.default.contents(atPath: folder + "golden.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  static func section(_ key: String) -> [String: Any] { golden[key] as! [String: Any] }

  static func logits(_ name: String, precision: LogitsPrecision = .float32) throws -> LogitsArray {
    let tensor = try TensorReference(folder + name).tensor()
    return try LogitsArray(name: name, models: tensor.shape[0], examples: tensor.shape[1],
                           classes: tensor.shape[2], values: tensor.floats(), precision: precision)
  }

  static func labels(_ name: String = "labels.npy") throws -> [Int] {
    try TensorReference(folder + name).tensor().integers().map { Int($0) }
  }

  /// The bundled ensemble's logits (float16) and labels.
  static func bundled() throws -> (LogitsArray, [Int]) {
    let file = folder + "../../../Examples/data/ensemble.npz"
    let tensor = try TensorReference(file + ":logits").tensor()
    let logits = try LogitsArray(name: "ensemble.npz:logits", models: tensor.shape[0], examples: tensor.shape[1],
                                 classes: tensor.shape[2], values: tensor.floats(), precision: .float16)
    return (logits, try TensorReference(file + ":labels").tensor().integers().map { Int($0) })
  }
}

/// Checks every scalar and per-example value of `summary` against a golden section.
func expectGolden(_ summary: EnsembleSummary, _ golden: [String: Any], tolerance: Double = 1e-12,
                  perExample: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
  func number(_ key: String) -> Double { (golden[key] as! NSNumber).doubleValue }
  let scalars: [(String, Double)] = [
    ("single_model_accuracy", summary.singleModelAccuracy),
    ("single_model_accuracy_std", summary.singleModelAccuracyStd),
    ("empirical_std", summary.variance.empiricalStd),
    ("independent_std", summary.variance.independentStd),
    ("ensemble_accuracy", summary.ensembleAccuracy),
    ("ensemble_accuracy_probs", summary.ensembleAccuracyProbs),
    ("ece", summary.ensembleCalibration.ece),
    ("nll", summary.ensembleCalibration.nll),
    ("brier", summary.ensembleCalibration.brier),
    ("mean_model_ece", summary.meanModelCalibration.ece),
    ("mean_model_nll", summary.meanModelCalibration.nll),
    ("mean_model_brier", summary.meanModelCalibration.brier),
    ("disagreement", summary.disagreement),
  ]
  for (key, value) in scalars {
    #expect(abs(value - number(key)) <= tolerance, "\(key): \(value) vs \(number(key))", sourceLocation: sourceLocation)
  }
  let interval = golden["single_model_accuracy_ci"] as! [Double]
  #expect(abs(summary.singleModelAccuracyInterval.low - interval[0]) <= tolerance, sourceLocation: sourceLocation)
  #expect(abs(summary.singleModelAccuracyInterval.high - interval[1]) <= tolerance, sourceLocation: sourceLocation)
  if let d = golden["distribution_std"] as? NSNumber {
    #expect(abs((summary.variance.distributionStd ?? .nan) - d.doubleValue) <= tolerance, sourceLocation: sourceLocation)
  } else {
    #expect(summary.variance.distributionStd == nil, sourceLocation: sourceLocation)
  }
  guard perExample else { return }
  let s = summary.stability
  for (key, values) in [("p_correct", s.pCorrect), ("margin_mean", s.marginMean), ("margin_std", s.marginStd),
                        ("entropy", s.entropy)] {
    let expected = golden[key] as! [Double]
    let worst = zip(values, expected).map { abs($0 - $1) }.max() ?? 0
    #expect(values.count == expected.count && worst <= tolerance, "\(key): off by \(worst)", sourceLocation: sourceLocation)
  }
  #expect(summary.ensemblePredictions == golden["ensemble_prediction"] as! [Int], sourceLocation: sourceLocation)
  #expect(summary.perRunAccuracy == golden["per_run_accuracy"] as! [Double], sourceLocation: sourceLocation)
}

@Suite("Ensemble summary")
struct EnsembleSummaryTests {
  @Test("every figure equals the float64 numpy golden values")
  func golden() throws {
    let summary = try EnsembleSummary(logits: try EnsembleFixtures.logits("a.npy"), labels: try EnsembleFixtures.labels())
    expectGolden(summary, EnsembleFixtures.section("a"))
    let tta = try EnsembleSummary(logits: try EnsembleFixtures.logits("a_tta.npy"), labels: try EnsembleFixtures.labels())
    expectGolden(tta, EnsembleFixtures.section("a_tta"))
    #expect(summary.models == 8 && summary.examples == 40 && summary.classes == 4)
  }

  @Test("float16 logits: the mean logits are rounded to float16 before the argmax")
  func float16() throws {
    let summary = try EnsembleSummary(logits: try EnsembleFixtures.logits("a_f16.npy", precision: .float16),
                                      labels: try EnsembleFixtures.labels())
    expectGolden(summary, EnsembleFixtures.section("a_f16"))
  }

  @Test("distribution_std is nil when V < Σ p(1 − p), and the other lines are still given")
  func undefinedDistributionStd() throws {
    let summary = try EnsembleSummary(logits: try EnsembleFixtures.logits("undefined.npy"),
                                      labels: try EnsembleFixtures.labels("undefined_labels.npy"))
    #expect(summary.correctPerRun == [3, 3, 3, 3])
    #expect(summary.variance.correctCountVariance == 0)
    #expect(summary.variance.distributionStd == nil)
    expectGolden(summary, EnsembleFixtures.section("undefined"))
  }

  @Test("the bundled ensemble: the golden values, and the variance lines as eval_kernel.py computes them")
  func bundled() throws {
    let (logits, labels) = try EnsembleFixtures.bundled()
    let summary = try EnsembleSummary(logits: logits, labels: labels)
    let golden = EnsembleFixtures.section("bundled")
    expectGolden(summary, golden, perExample: false)
    let s = summary.stability
    #expect(Array(s.pCorrect.prefix(20)) == golden["p_correct"] as! [Double])
    #expect(Array(summary.ensemblePredictions.prefix(20)) == golden["ensemble_prediction"] as! [Int])
    // The script sums float32 zeros and ones: its lines agree to float32 precision.
    let script = EnsembleFixtures.section("bundled_eval_kernel")
    let v = summary.variance
    for (key, value) in [("empirical_std", v.empiricalStd), ("independent_std", v.independentStd),
                         ("distribution_std", v.distributionStd!)] {
      #expect(value.isClose(to: (script[key] as! NSNumber).doubleValue, tolerance: 1e-6), "\(key)")
    }
  }

  @Test("one run per chunk gives the same numbers as one chunk, and shards the same as one file")
  func streaming() throws {
    let logits = try EnsembleFixtures.logits("a.npy"), labels = try EnsembleFixtures.labels()
    let whole = try EnsembleSummary(logits: logits, labels: labels)
    var chunks: [Int] = []
    let small = try EnsembleSummary(logits: logits, labels: labels,
                                    options: .init(memoryLimit: 1, chunkBytes: 1)) { chunks.append($0) }
    #expect(chunks == Array(1...8))
    let sharded = try EnsembleSummary(
      logits: try ConcatenatedLogits([try SelectedLogits(logits, runs: [0, 1, 2]), try SelectedLogits(logits, runs: [3, 4, 5, 6, 7])]),
      labels: labels)
    for other in [small, sharded] {
      #expect(other.correctPerRun == whole.correctPerRun)
      #expect(other.stability == whole.stability)
      #expect(other.ensembleCalibration == whole.ensembleCalibration)
      #expect(other.meanModelCalibration == whole.meanModelCalibration)
      #expect(other.disagreement == whole.disagreement)
    }
  }

  @Test("identical runs: disagreement 0, margin std 0, no spread; a run changed on one example: not 0")
  func identicalRuns() throws {
    let one = try EnsembleFixtures.logits("a.npy").logits(models: 0..<1)
    let copies = try LogitsArray(models: 5, examples: 40, classes: 4, values: Array([[Float]](repeating: one, count: 5).joined()))
    let labels = try EnsembleFixtures.labels()
    let summary = try EnsembleSummary(logits: copies, labels: labels)
    #expect(summary.disagreement == 0)
    #expect(summary.singleModelAccuracyStd == 0)
    #expect(summary.variance.empiricalStd == 0 && summary.variance.independentStd == 0)
    #expect(summary.stability.marginStd.allSatisfy { $0 == 0 })
    #expect(summary.ensembleAccuracy == summary.singleModelAccuracy)
    // Negative control: one run predicts another class on example 0.
    var values = copies.values
    let wrong = (labels[0] + 1) % 4
    values[wrong] = values[0..<4].max()! + 1
    let changed = try EnsembleSummary(logits: try LogitsArray(models: 5, examples: 40, classes: 4, values: values),
                                      labels: labels)
    // 4 of the 10 pairs differ on 1 of 40 examples.
    #expect(changed.disagreement.isClose(to: 4.0 / 10 / 40, tolerance: 1e-12))
  }

  @Test("runs whose errors are independent by construction: independent_std ≈ empirical_std; shared errors: not",
        arguments: [1, 2] as [UInt64])
  func independentErrors(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let runs = 400, n = 60
    let p = (0..<n).map { _ in 0.3 + 0.65 * rng.nextUniform() }
    func logits(_ correct: (Int, Int) -> Bool) throws -> LogitsArray {
      var values = [Float](repeating: 0, count: runs * n * 2)
      for m in 0..<runs { for i in 0..<n { values[(m * n + i) * 2 + (correct(m, i) ? 0 : 1)] = 1 } }
      return try LogitsArray(models: runs, examples: n, classes: 2, values: values)
    }
    let labels = [Int](repeating: 0, count: n)
    var draws = (0..<(runs * n)).map { _ in rng.nextUniform() }
    let independent = try EnsembleSummary(logits: try logits { m, i in draws[m * n + i] < p[i] }, labels: labels)
    let v = independent.variance
    #expect(abs(v.empiricalStd / v.independentStd - 1) < 0.15)
    // Negative control: one draw per run decides all its examples together.
    draws = (0..<runs).map { _ in rng.nextUniform() }
    let shared = try EnsembleSummary(logits: try logits { m, i in draws[m] < p[i] }, labels: labels)
    #expect(shared.variance.empiricalStd > 3 * shared.variance.independentStd)
  }

  @Test("bad input: a non-finite logit is named with its position; one run, one class, wrong labels")
  func badInput() throws {
    let logits = try EnsembleFixtures.logits("a.npy"), labels = try EnsembleFixtures.labels()
    var values = logits.values
    values[(5 * 40 + 17) * 4 + 3] = .infinity
    let bad = try LogitsArray(name: "bad.npy", models: 8, examples: 40, classes: 4, values: values)
    #expect(throws: InputError("bad.npy: logit [5, 17, 3] is inf; logits must be finite")) {
      try EnsembleSummary(logits: bad, labels: labels, options: .init(chunkBytes: 3 * 40 * 4 * 4))
    }
    let one = try SelectedLogits(logits, runs: [2])
    #expect(throws: InputError("a.npy: the run axis has length 1; the spread over runs needs at least 2 runs")) {
      try EnsembleSummary(logits: one, labels: labels)
    }
    #expect(throws: InputError("labels[0] = 4 is outside the 4 classes 0..<4")) {
      try EnsembleSummary(logits: logits, labels: [4] + labels.dropFirst())
    }
  }
}

@Suite("Calibration")
struct CalibrationTests {
  @Test("bins as torch.bucketize(right=True) − 1 over linspace(0, 1, 16): a boundary opens its bin, 1 has its own")
  func bins() {
    #expect(Calibration.Bins.index(of: 0) == 0)
    #expect(Calibration.Bins.index(of: 1.0 / 15 - 1e-12) == 0)
    #expect(Calibration.Bins.index(of: 1.0 * (1.0 / 15)) == 1)
    #expect(Calibration.Bins.index(of: 14.0 * (1.0 / 15)) == 14)
    #expect(Calibration.Bins.index(of: 0.9999999) == 14)
    #expect(Calibration.Bins.index(of: 1) == 15)
  }

  @Test("ECE, NLL and Brier of a small hand-worked case; perfect one-hot predictions score 0")
  func handWorked() throws {
    // Two examples at confidence 0.9 (bin 13), one right: |0.5 − 0.9| · 2/3; one at 0.6 (bin 9), right: |1 − 0.6| · 1/3.
    let p: [Double] = [0.9, 0.1, 0.1, 0.9, 0.6, 0.4]
    let c = try Calibration(probabilities: p, classes: 2, labels: [0, 0, 0])
    #expect(c.ece.isClose(to: 0.4 * 2 / 3 + 0.4 / 3, tolerance: 1e-15))
    #expect(c.nll.isClose(to: -(log(0.9) + log(0.1) + log(0.6)) / 3, tolerance: 1e-15))
    #expect(c.brier.isClose(to: (0.02 + 1.62 + 0.32) / 3, tolerance: 1e-15))
    let perfect = try Calibration(probabilities: [1, 0, 0, 1], classes: 2, labels: [0, 1])
    #expect(perfect == Calibration(ece: 0, nll: 0, brier: 0))
  }
}

@Suite("Ensemble subsets")
struct EnsembleSubsetsTests {
  @Test("one resample takes the first n runs; several are SplitMix64 shuffles, as the Python transcription draws them")
  func orders() throws {
    let first = try EnsembleSubsets(sizes: [2, 4], models: 8)
    #expect(first.orders == [Array(0..<8)])
    #expect(first.runs(resample: 0, size: 1) == [0, 1, 2, 3])
    let golden = EnsembleFixtures.section("sizes_resampled")["orders"] as! [[Int]]
    let shuffled = try EnsembleSubsets(sizes: [2, 5, 8], resamples: 3, seed: 7, models: 8)
    #expect(shuffled.orders == golden)
    #expect(throws: InputError("--sizes 9 is outside the 1...8 runs available")) {
      try EnsembleSubsets(sizes: [9], models: 8)
    }
  }

  @Test("subset ensembles' accuracies equal the golden ones, resampled or not")
  func accuracies() throws {
    let logits = try EnsembleFixtures.logits("a.npy"), labels = try EnsembleFixtures.labels()
    for (key, subsets) in [("sizes_first", try EnsembleSubsets(sizes: [2, 4, 8], models: 8)),
                           ("sizes_resampled", try EnsembleSubsets(sizes: [2, 5, 8], resamples: 3, seed: 7, models: 8))] {
      let summary = try EnsembleSummary(logits: logits, labels: labels, options: .init(subsets: subsets))
      let rows = EnsembleFixtures.section(key)["rows"] as! [[String: Any]]
      for (j, row) in rows.enumerated() {
        let expected = row["ensemble_accuracy"] as! [Double]
        for r in 0..<subsets.resamples {
          #expect(summary.subsetEnsembleAccuracy[r][j].isClose(to: expected[r], tolerance: 1e-12), "\(key) \(j) \(r)")
        }
      }
    }
  }

  @Test("selected runs read the base's runs in the given order")
  func selected() throws {
    let logits = try EnsembleFixtures.logits("a.npy")
    let selected = try SelectedLogits(logits, runs: [5, 6, 1])
    let size = 40 * 4
    #expect(try selected.logits(models: 0..<3) == Array(logits.values[(5 * size)..<(7 * size)] + logits.values[size..<(2 * size)]))
    #expect(throws: InputError("a.npy has no run 8 (it has 8)")) { try SelectedLogits(logits, runs: [8]) }
  }
}
