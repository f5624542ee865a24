import CompareCore
import EnsembleKernel
import TensorIO

/// The inputs of a kernel run: test and training logits (shards joined) and their labels.
public struct KernelInputs: Sendable {
  public let test: EnsembleLogits
  public let train: EnsembleLogits
  public let testLabels: [Int]
  public let trainLabels: [Int]

  /// Opens the logits (each a list of `FILE[:KEY]` shards) and reads the labels, checked
  /// against them.
  /// - Throws: as `EnsembleLogits(references:)` and `EnsembleLogits.labels(_:)`.
  public init(test: [String], train: [String], testLabels: String, trainLabels: String) throws {
    self.test = try EnsembleLogits(references: test)
    self.train = try EnsembleLogits(references: train)
    self.testLabels = try self.test.labels(testLabels)
    self.trainLabels = try self.train.labels(trainLabels)
  }
}

/// What `compare kernel` computes, with its defaults: the correlation kernel's k-NN accuracy
/// beside the single-model and ensemble accuracies, optionally against ensemble size.
///
/// ```swift
/// let inputs = try KernelInputs(test: ["runs.npz:logits"], train: ["runs.npz:logits_train"],
///                               testLabels: "runs.npz:labels", trainLabels: "runs.npz:labels_train")
/// let result = try KernelRequest(k: 3).run(inputs)
/// print(result.text, terminator: "")
/// ```
public struct KernelRequest: Sendable {
  /// Neighbours that vote.
  public var k: Int
  /// Vote weights by kernel value.
  public var weighting: KernelKNN.Weighting
  /// Vote ties.
  public var ties: KernelKNN.TieRule
  /// Log-softmax, class selection and the memory budget of the kernel.
  public var options: CorrelationKernel.Options
  /// Use the first `models` models (all when `nil`).
  public var models: Int?
  /// Only these test rows (a row shard of a job array; the end is clamped).
  public var rows: Range<Int>?
  /// Neighbours kept per test row, for `saveNeighbors` (at least `k`; when `nil`, the largest k
  /// of `k` and `sweep`, so that merged row shards can score the whole sweep).
  public var neighborCount: Int?

  /// The neighbours per test row a `--save-neighbors` file holds: `neighborCount`, else the
  /// largest k of `k` and `sweep`.
  public var neighborsKept: Int { neighborCount ?? largestK }

  /// The largest k that votes: `k`, or the sweep's largest.
  public var largestK: Int { max(k, sweep.max() ?? 0) }
  /// Also evaluate the first n models for each n (the accuracy-against-size table).
  public var sizes: [Int]
  /// Write the whole kernel, float32 `[test, train]`, to this `.npy`, streamed by row blocks.
  public var saveKernel: String?
  /// A k sweep: the vote's accuracy for each of these k from the one neighbour pass (its
  /// largest k), as `eval_kernel.py` prints k = 1, 3, 5, 7, 9, 11, 15, 25, 51, 101. Empty: `k` only.
  public var sweep: [Int] = []

  public init(k: Int = 3, weighting: KernelKNN.Weighting = .none, ties: KernelKNN.TieRule = .smallestLabel,
              options: CorrelationKernel.Options = CorrelationKernel.Options(), models: Int? = nil,
              rows: Range<Int>? = nil, neighborCount: Int? = nil, sizes: [Int] = [], saveKernel: String? = nil) {
    self.k = k
    self.weighting = weighting
    self.ties = ties
    self.options = options
    self.models = models
    self.rows = rows
    self.neighborCount = neighborCount
    self.sizes = sizes
    self.saveKernel = saveKernel
  }

  /// Runs the kernel on `inputs`.
  ///
  /// - Parameter progress: Called with (done, total) row blocks of the main kernel.
  /// - Throws: `InputError` when k, the neighbour count, `rows`, `sizes`, `sweep` or the class
  ///   index do not fit the data (checked from the shapes first, as `plan` checks them), and
  ///   the kernel's and readers' errors.
  /// - Complexity: one GEMM of `test × train × models·classes` per kernel, in row blocks.
  public func run(_ inputs: KernelInputs, progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> KernelResult {
    let (kernel, covered) = try checkedKernel(inputs)
    let knn = KernelKNN(k: k, weighting: weighting, ties: ties)
    let test = inputs.test, train = inputs.train
    let main = try KernelEvaluation(kernel, rows: covered, keep: max(neighborsKept, largestK), knn: knn,
                                    labels: inputs, saveKernel: saveKernel, progress: progress)
    let byK = try sweep.map { value in
      (k: value, accuracy: try KernelKNN(k: value, weighting: weighting, ties: ties)
        .accuracy(main.neighbors, trainLabels: inputs.trainLabels, testLabels: inputs.testLabels, classes: kernel.classes))
    }
    var table: [KernelEvaluation] = []
    for size in sizes {
      if size == kernel.models { table.append(main); continue }
      let sub = try CorrelationKernel(test: test, train: train, models: size, options: options)
      table.append(try KernelEvaluation(sub, rows: covered, keep: k, knn: knn, labels: inputs))
    }
    return KernelResult(request: self, main: main, sizes: table, accuracyByK: byK, testExamples: test.examples,
                        trainExamples: train.examples, classes: test.classes)
  }
}

extension KernelRequest {
  /// The main kernel and the test rows it covers (`rows` clamped to the test set), once `rows`,
  /// `k`, the neighbour count, `models`, `sizes` and `sweep` are checked against the inputs'
  /// shapes: the checks `run` and `plan` share, so that a plan is refused when its run would
  /// be. Reads no logit.
  /// - Throws: `InputError` naming the value that does not fit, and the kernel's errors.
  func checkedKernel(_ inputs: KernelInputs) throws -> (kernel: CorrelationKernel, rows: Range<Int>?) {
    let test = inputs.test, train = inputs.train
    var covered: Range<Int>?
    if let rows {
      guard rows.lowerBound < test.examples else {
        throw InputError("--rows \(rows.lowerBound):\(rows.upperBound) starts past the \(test.examples) test examples")
      }
      covered = rows.lowerBound..<min(rows.upperBound, test.examples)
    }
    guard k <= train.examples else {
      throw InputError("-k \(k) is larger than the \(train.examples) training examples")
    }
    for value in sweep where value > train.examples {
      throw InputError("-k \(value) is larger than the \(train.examples) training examples")
    }
    let kept = neighborsKept
    guard kept <= train.examples else {
      throw InputError("--neighbors \(kept) is larger than the \(train.examples) training examples")
    }
    let kernel = try CorrelationKernel(test: test, train: train, models: models, options: options)
    for size in sizes where size > kernel.models {
      throw InputError("--sizes \(size) exceeds the \(kernel.models) models available")
    }
    // Each would be a key of the JSON output.
    for (name, list) in [("-k", sweep), ("--sizes", sizes)] {
      if let twice = list.indices.first(where: { list[..<$0].contains(list[$0]) }) {
        throw InputError("\(name) lists \(list[twice]) twice")
      }
    }
    return (kernel, covered)
  }
}

extension CorrelationKernel.Options {
  /// Options with a memory budget of `gibibytes` for normalised logits and kernel blocks
  /// (blocks take at most an eighth of it, at least 1 MiB).
  public init(memory gibibytes: Double, logSoftmax: Bool = true, classIndex: Int? = nil) {
    self.init(logSoftmax: logSoftmax, classIndex: classIndex)
    memoryLimit = Int(gibibytes * Double(1 << 30))
    blockBytes = min(blockBytes, max(1 << 20, memoryLimit / 8))
  }
}

/// One kernel's evaluation: its neighbours, k-NN accuracy and the ensemble baselines.
public struct KernelEvaluation: Sendable {
  /// Models in the kernel.
  public var models: Int
  /// Single-model and ensemble accuracy on the covered rows.
  public var accuracy: EnsembleAccuracy
  /// The k-NN vote's accuracy.
  public var kernelAccuracy: Double
  /// The top neighbours of each covered test row.
  public var neighbors: Neighbors

  /// Computes `keep` neighbours per row of `kernel` (all rows when `rows` is `nil`), the vote
  /// and the baselines; streams the kernel to `saveKernel` (`.npy`) when given.
  public init(_ kernel: CorrelationKernel, rows: Range<Int>?, keep: Int, knn: KernelKNN,
              labels: KernelInputs, saveKernel: String? = nil,
              progress: @escaping (Int, Int) -> Void = { _, _ in }) throws {
    var neighbors: Neighbors
    if let path = saveKernel {
      let covered = rows ?? 0..<kernel.test.examples
      var result: Neighbors?
      try AtomicFile.write(to: path) { fd in
        let header = NPYWriter.header(descr: "<f4", shape: [covered.count, kernel.train.examples])
        try header.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        result = try kernel.neighbors(count: keep, rows: rows, progress: progress) { _, block in
          try AtomicFile.writeAll(fd, UnsafeRawBufferPointer(block), path: path)
        }
      }
      neighbors = result!
    } else {
      neighbors = try kernel.neighbors(count: keep, rows: rows, progress: progress)
    }
    self.models = kernel.models
    self.neighbors = neighbors
    accuracy = try EnsembleAccuracy(logits: kernel.test, labels: labels.testLabels, models: kernel.models,
                                    rows: neighbors.rows)
    kernelAccuracy = try knn.accuracy(neighbors, trainLabels: labels.trainLabels, testLabels: labels.testLabels,
                                      classes: kernel.classes)
  }
}

/// What `KernelRequest.run` produced.
public struct KernelResult: Sendable {
  public var request: KernelRequest
  /// All models (or `request.models`).
  public var main: KernelEvaluation
  /// One evaluation per `request.sizes` entry.
  public var sizes: [KernelEvaluation]
  /// The k sweep's accuracies (`request.sweep`), from `main`'s neighbours.
  public var accuracyByK: [(k: Int, accuracy: Double)]
  /// Test examples in the inputs (the covered rows are `main.neighbors.rows`).
  public var testExamples: Int
  public var trainExamples: Int
  public var classes: Int
}
