import CompareCore
import EnsembleKernel
import Figures
import TensorIO

/// The inputs of `compare ensemble`: test logits (shards joined along the run axis) and their
/// labels, optionally the same runs' test-time-augmented logits, a second configuration's
/// logits to compare with, and training logits for the kernel k-NN against ensemble size.
public struct EnsembleInputs: Sendable {
  public let test: EnsembleLogits
  public let labels: [Int]
  /// Test-time-augmented logits of the same examples (`--tta`).
  public let tta: EnsembleLogits?
  /// Another configuration's logits on the same examples (`--against`).
  public let against: EnsembleLogits?
  /// Training logits and labels (`--train`, `--train-labels`).
  public let train: EnsembleLogits?
  public let trainLabels: [Int]?

  /// Opens the logits (each a list of `FILE[:KEY]` shards) and reads the labels, checked
  /// against every set of test logits.
  /// - Throws: as `EnsembleLogits(references:)` and `EnsembleLogits.labels(_:)`; `InputError`
  ///   naming the file when a set's example or class count differs from `test`'s, or only one
  ///   of `train` and `trainLabels` is given.
  public init(test: [String], labels: String, tta: [String] = [], against: [String] = [],
              train: [String] = [], trainLabels: String? = nil) throws {
    let logits = try EnsembleLogits(references: test)
    self.test = logits
    self.labels = try logits.labels(labels)
    self.tta = try Self.same(tta, as: logits)
    self.against = try Self.same(against, as: logits)
    switch (train.isEmpty, trainLabels) {
    case (true, nil):
      self.train = nil
      self.trainLabels = nil
    case (false, let reference?):
      let trainLogits = try EnsembleLogits(references: train)
      self.train = trainLogits
      self.trainLabels = try trainLogits.labels(reference)
    default:
      throw InputError("training logits and training labels go together: give both or neither")
    }
  }

  /// The logits at `references`, checked to hold `test`'s examples and classes; `nil` for none.
  static func same(_ references: [String], as test: EnsembleLogits) throws -> EnsembleLogits? {
    guard !references.isEmpty else { return nil }
    let other = try EnsembleLogits(references: references)
    guard other.examples == test.examples, other.classes == test.classes else {
      throw InputError("\(other.name) has shape \(other.shapeDescription) but \(test.name) has \(test.shapeDescription); both must hold the same examples and classes")
    }
    return other
  }
}

/// What `compare ensemble` computes, with its defaults: the summary of an ensemble's runs
/// (`EnsembleSummary`), beside its test-time-augmented logits, or compared example by example
/// with another configuration (`EnsembleComparison`), and accuracy against ensemble size.
///
/// ```swift
/// let inputs = try EnsembleInputs(test: ["runs.npz:logits"], labels: "runs.npz:labels")
/// let result = try EnsembleRequest().run(inputs)
/// print(result.text, terminator: "")
/// ```
public struct EnsembleRequest: Sendable {
  /// GiB for the read buffer of each pass (and of the kernel's normalised logits).
  public var memory: Double
  /// Examples listed: the least stable, or the most changed with `against`.
  public var top: Int
  /// Ensemble sizes for the accuracy-against-size table (none when empty).
  public var sizes: [Int]
  /// Random subsets of each size; 1 takes the first n runs.
  public var resamples: Int
  /// Seed of the subsets' shuffles.
  public var seed: UInt64
  /// The kernel k-NN's vote, for the size table with training logits.
  public var knn: KernelKNN
  /// Write the per-example arrays to this `.npz`.
  public var saveExamples: String?
  /// Plot accuracy against ensemble size into this `.png` or `.svg` (needs `sizes`).
  public var figure: String?

  public init(memory: Double = 4, top: Int = 10, sizes: [Int] = [], resamples: Int = 1, seed: UInt64 = 0,
              knn: KernelKNN = KernelKNN(k: 3), saveExamples: String? = nil, figure: String? = nil) {
    self.memory = memory
    self.top = top
    self.sizes = sizes
    self.resamples = resamples
    self.seed = seed
    self.knn = knn
    self.saveExamples = saveExamples
    self.figure = figure
  }

  /// Summarises the inputs, writes the requested files and returns the result.
  ///
  /// - Parameter progress: Called with (done, total) runs read over all passes.
  /// - Throws: `InputError` when sizes, resamples or k do not fit the data, the summaries',
  ///   the kernel's and the readers' errors.
  /// - Complexity: one pass over each set of logits, O(M·n·C); with training logits, one
  ///   kernel per size and resample.
  public func run(_ inputs: EnsembleInputs, progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> EnsembleResult {
    let memoryLimit = Int(memory * Double(1 << 30))
    let subsets = sizes.isEmpty ? nil
      : try EnsembleSubsets(sizes: sizes, resamples: resamples, seed: seed, models: inputs.test.models)
    if let train = inputs.train {
      guard knn.k <= train.examples else {
        throw InputError("-k \(knn.k) is larger than the \(train.examples) training examples")
      }
      for size in sizes where size < 2 {
        throw InputError("--sizes \(size): the kernel needs at least 2 runs")
      }
      guard train.models >= inputs.test.models else {
        throw InputError("\(train.name) has \(train.models) runs but \(inputs.test.name) has \(inputs.test.models); the kernel needs the same runs")
      }
    }
    let kernels = inputs.train == nil ? 0 : sizes.count * resamples
    let total = inputs.test.models + (inputs.tta?.models ?? 0) + (inputs.against?.models ?? 0) + kernels
    var done = 0
    func pass(_ logits: EnsembleLogits, subsets: EnsembleSubsets? = nil) throws -> EnsembleSummary {
      let before = done
      let summary = try EnsembleSummary(
        logits: logits, labels: inputs.labels,
        options: EnsembleSummary.Options(memoryLimit: memoryLimit, subsets: subsets)) { progress(before + $0, total) }
      done += logits.models
      return summary
    }
    let summary = try pass(inputs.test, subsets: subsets)
    let tta = try inputs.tta.map { try pass($0) }
    let comparison = try inputs.against.map { try EnsembleComparison(summary, against: try pass($0)) }
    var rows: [EnsembleSizeRow] = []
    if let subsets {
      for (j, size) in sizes.enumerated() {
        var single: [Double] = [], ensemble: [Double] = [], kernel: [Double] = []
        for r in 0..<subsets.resamples {
          let runs = subsets.runs(resample: r, size: j)
          single.append(Double(runs.reduce(0) { $0 + summary.correctPerRun[$1] }) / Double(size * summary.examples))
          ensemble.append(summary.subsetEnsembleAccuracy[r][j])
          if let train = inputs.train, let trainLabels = inputs.trainLabels {
            let k = try CorrelationKernel(test: try SelectedLogits(inputs.test, runs: runs),
                                          train: try SelectedLogits(train, runs: runs),
                                          options: CorrelationKernel.Options(memory: memory))
            let neighbors = try k.neighbors(count: knn.k)
            kernel.append(try knn.accuracy(neighbors, trainLabels: trainLabels, testLabels: inputs.labels,
                                           classes: summary.classes))
            done += 1
            progress(done, total)
          }
        }
        rows.append(EnsembleSizeRow(models: size, singleModelAccuracy: single, ensembleAccuracy: ensemble,
                                    kernelAccuracy: inputs.train == nil ? nil : kernel))
      }
    }
    let result = EnsembleResult(request: self, summary: summary, tta: tta, comparison: comparison,
                                labels: inputs.labels, sizes: rows)
    if let path = saveExamples { try result.writeExamples(to: path) }
    if let path = figure { try EnsembleFigures.sizes(rows, to: path) }
    return result
  }
}

/// Accuracies of smaller ensembles of one size, one value per resample.
public struct EnsembleSizeRow: Sendable {
  /// Runs in each ensemble.
  public var models: Int
  /// Mean single-run accuracy of each subset.
  public var singleModelAccuracy: [Double]
  /// Accuracy of each subset's mean-logits ensemble.
  public var ensembleAccuracy: [Double]
  /// The kernel k-NN accuracy of each subset (with training logits).
  public var kernelAccuracy: [Double]?

  /// Mean and standard deviation (N − 1; `nil` for one resample) of values over resamples.
  public static func spread(_ values: [Double]) -> (mean: Double, std: Double?) {
    let mean = values.reduce(0, +) / Double(max(values.count, 1))
    guard values.count >= 2 else { return (mean, nil) }
    let variance = values.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, variance.squareRoot())
  }
}

/// What `EnsembleRequest.run` produced.
public struct EnsembleResult: Sendable {
  public var request: EnsembleRequest
  /// The test logits' summary.
  public var summary: EnsembleSummary
  /// The test-time-augmented logits' summary.
  public var tta: EnsembleSummary?
  /// The comparison with `--against`.
  public var comparison: EnsembleComparison?
  /// Test labels.
  public var labels: [Int]
  /// The accuracy-against-size table.
  public var sizes: [EnsembleSizeRow]

  /// Writes the per-example arrays (float64 unless said) as an uncompressed `.npz`: alone,
  /// `p_correct`, `margin_mean`, `margin_std`, `entropy`, `ensemble_prediction` (int64); with a
  /// comparison, `p_correct`, `p_correct_against`, `p_correct_difference`, `p_value`,
  /// `ensemble_prediction`, `ensemble_prediction_against` (int64).
  public func writeExamples(to path: String) throws {
    let n = summary.examples
    func doubles(_ name: String, _ values: [Double]) -> (String, [UInt8]) {
      (name + ".npy", NPYWriter.encode(values, shape: [n]))
    }
    func ints(_ name: String, _ values: [Int]) -> (String, [UInt8]) {
      (name + ".npy", NPYWriter.encode(values.map { Int64($0) }, shape: [n]))
    }
    let members: [(String, [UInt8])]
    if let c = comparison {
      members = [
        doubles("p_correct", c.a.stability.pCorrect), doubles("p_correct_against", c.b.stability.pCorrect),
        doubles("p_correct_difference", c.pCorrectDifference), doubles("p_value", c.pValue),
        ints("ensemble_prediction", c.a.ensemblePredictions), ints("ensemble_prediction_against", c.b.ensemblePredictions),
      ]
    } else {
      let s = summary.stability
      members = [
        doubles("p_correct", s.pCorrect), doubles("margin_mean", s.marginMean), doubles("margin_std", s.marginStd),
        doubles("entropy", s.entropy), ints("ensemble_prediction", summary.ensemblePredictions),
      ]
    }
    try AtomicFile.write(NPZWriter.archive(members), to: path)
  }
}
