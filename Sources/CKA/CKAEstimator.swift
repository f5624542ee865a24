import CompareCore

/// How CKA is estimated from two models' activations, and the one entry point that reads the
/// examples (in batches or whole) and returns the layer × layer matrix.
///
/// - `minibatch`: the unbiased HSIC₁ of each batch summed over batches (Nguyen, Raghu &
///   Kornblith 2021; see `MinibatchCKA`); memory is one batch of every layer.
/// - `full`: the biased HSIC of all examples at once (Kornblith et al. 2019).
/// - `debiased`: the unbiased HSIC of all examples at once (Kornblith et al. 2019,
///   `debiased=True`).
public enum CKAEstimator: Sendable, Equatable, CustomStringConvertible {
  case minibatch(batchSize: Int = CKAEstimator.defaultBatchSize, keepLast: Bool = false)
  case full
  case debiased

  /// Examples per minibatch unless told otherwise.
  public static let defaultBatchSize = 256
  /// Examples per batch of the streamed full-batch linear estimators.
  public static let streamingBatch = 2048
  /// The most memory the full-batch rbf estimator may use for its n×n Gram matrices.
  public static let rbfMemoryLimit = 8 * 1_073_741_824
  /// The estimators' names, as `--estimator` takes them.
  public static let names = ["minibatch", "full", "debiased"]

  /// The estimator named `name` (`minibatch` with the given batching).
  public init?(name: String, batchSize: Int = CKAEstimator.defaultBatchSize, keepLast: Bool = false) {
    switch name {
    case "minibatch": self = .minibatch(batchSize: batchSize, keepLast: keepLast)
    case "full": self = .full
    case "debiased": self = .debiased
    default: return nil
    }
  }

  /// `minibatch`, `full` or `debiased`.
  public var description: String {
    switch self {
    case .minibatch: "minibatch"
    case .full: "full"
    case .debiased: "debiased"
    }
  }

  /// The batches of `examples` examples: whole batches of `batchSize`, then a trailing partial
  /// batch of at least 4 examples when `keepLast`; with a note when examples are dropped.
  /// - Throws: `InputError` when not even one batch fits, advising only what would work for `n`
  ///   (below 4 examples, `--estimator full`).
  public static func batches(examples n: Int, batchSize: Int, keepLast: Bool) throws -> (ranges: [Range<Int>], note: String?) {
    guard batchSize >= 4 else { throw InputError("a batch needs at least 4 examples, got a batch size of \(batchSize)") }
    var ranges = stride(from: 0, through: n - batchSize, by: batchSize).map { $0..<($0 + batchSize) }
    let rest = n - ranges.count * batchSize
    var note: String?
    if rest > 0 {
      if keepLast, rest >= 4 {
        ranges.append((n - rest)..<n)
      } else if !ranges.isEmpty {
        note = keepLast
          ? "note: the last \(rest) examples were dropped: a batch needs at least 4"
          : "note: the last \(rest) examples (a partial batch) were dropped; --keep-last keeps them"
      }
    }
    guard !ranges.isEmpty else {
      // Only advise what works: below 4 examples no batch and no unbiased HSIC exists, and below
      // 2 not even the biased one.
      if n < 2 { throw InputError("\(n) example is too few: a batch needs at least 4, and every CKA estimator at least 2") }
      if n < 4 { throw InputError("\(n) examples are fewer than the 4 a batch needs: use --estimator full") }
      throw InputError("\(n) examples are fewer than one batch of \(batchSize): lower --batch-size, add --keep-last, or use --estimator debiased")
    }
    return (ranges, note)
  }

  /// CKA between every layer of `a` (rows) and every layer of `b` (columns).
  ///
  /// Activations are read through `a` and `b` (a batch at a time for `minibatch`, into buffers
  /// reused across batches), in float64 when both are stored in float64, else float32; the
  /// HSIC sums are float64 throughout.
  ///
  /// The minibatch estimator also keeps every batch's HSIC terms and returns its uncertainty
  /// (`CKAResult.uncertainty`): jackknife standard errors for 2 or more batches, and the
  /// bootstrap intervals and permutation p-values that `statistics` asks for (see
  /// `CKAUncertainty`); the permutations' cross terms are computed per batch from the Gram
  /// matrices already formed.
  ///
  /// - Parameters:
  ///   - kernel: `.linear` or `.rbf(threshold:)`.
  ///   - statistics: Bootstrap intervals and permutation p-values (default: neither).
  ///   - progress: Called after each batch with (done, total).
  /// - Throws: `InputError` when the example counts differ, there are too few examples, an
  ///   activation is NaN/∞, the full-batch rbf Gram matrices would exceed `rbfMemoryLimit`,
  ///   or `statistics` asks for intervals or permutations from a full-batch estimator (one
  ///   batch: nothing to resample).
  /// - Complexity: O(n·b·Σp + n·b·(layers)²) for n examples in batches of b (b = n for the
  ///   full-batch estimators, which the linear kernel computes in feature space instead).
  public func similarities(_ a: some RepresentationSource, _ b: some RepresentationSource,
                           kernel: CKAKernel = .linear, statistics: CKAStatistics = CKAStatistics(),
                           epochs: Int = 1,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> CKAResult {
    let statistics = try statistics.validated()
    guard epochs >= 1 else { throw InputError("--epochs expects a positive number of passes, got \(epochs)") }
    if epochs > 1, case .minibatch = self {} else if epochs > 1 {
      throw InputError("several passes shuffle minibatches: --epochs needs the minibatch estimator, not \(self)")
    }
    if case .minibatch = self {} else if statistics.bootstrap > 0 || statistics.permutations > 0 {
      throw InputError("confidence intervals and permutation p-values resample batches: they need the minibatch estimator, not \(self)")
    }
    guard a.examples == b.examples else {
      throw Self.differentExamples(a.name, a.examples, b.name, b.examples)
    }
    var result = a.isDouble && b.isDouble
      ? try compute(a, b, kernel: kernel, statistics, epochs, Double.self, progress: progress)
      : try compute(a, b, kernel: kernel, statistics, epochs, Float.self, progress: progress)
    result.pairedByIndex = a.pairedByIndex || b.pairedByIndex
    result.epochs = epochs
    result.statistics = statistics
    return result
  }

  /// The refusal of two models with different example counts, naming the options that compare
  /// two datasets instead (`ActivationSet.group` refuses `--examples N` alone with it too).
  package static func differentExamples(_ a: String, _ countA: Int, _ b: String, _ countB: Int) -> InputError {
    InputError("\(a) has \(countA) examples and \(b) has \(countB): CKA needs the same examples in the same order (to compare two datasets, pair their first N examples by position with --examples N --paired-by-index)")
  }

  func compute<S: BLASScalar>(_ a: any RepresentationSource, _ b: any RepresentationSource,
                              kernel: CKAKernel, _ statistics: CKAStatistics, _ epochs: Int, _ type: S.Type,
                              progress: (Int, Int) -> Void) throws -> CKAResult {
    let n = a.examples
    var layersA: [Matrix<S>] = [], layersB: [Matrix<S>] = []
    switch self {
    case .full, .debiased:
      if kernel != .linear {
        let bytes = Double(a.layerNames.count + b.layerNames.count) * Double(n) * Double(n) * 8
        guard bytes <= Double(Self.rbfMemoryLimit) else {
          throw InputError("the full-batch rbf estimator on \(n) examples needs \(Format.fixed(bytes / 1_073_741_824, 1)) GiB of Gram matrices; use --estimator minibatch")
        }
      }
      let debiased = self == .debiased
      let matrix: SimilarityMatrix
      let widthsA = kernel == .linear ? try a.widths() : [], widthsB = kernel == .linear ? try b.widths() : []
      if kernel == .linear,
         GramLinearCKA.isCheaper(examples: n, widthsA: widthsA, widthsB: widthsB) {
        // Less arithmetic and memory in example space: each layer's n×n Gram matrix.
        matrix = try GramLinearCKA(debiased: debiased).similarities(a, b, widthsA: widthsA, widthsB: widthsB,
                                                                   progress: progress)
      } else if kernel == .linear {
        // Exact over any n: one pass in batches, memory independent of n.
        var streaming = StreamingLinearCKA(widthsA: widthsA, widthsB: widthsB, debiased: debiased)
        var batchA: [Matrix<Double>] = [], batchB: [Matrix<Double>] = []
        let names = a.layerNames.map { "layer '\($0)' of \(a.name)" } + b.layerNames.map { "layer '\($0)' of \(b.name)" }
        let step = Self.streamingBatch
        for start in stride(from: 0, to: n, by: step) {
          let rows = start..<Swift.min(n, start + step)
          try a.read(rows: rows, into: &batchA)
          try b.read(rows: rows, into: &batchB)
          try streaming.add(&batchA, &batchB, names: names)
          progress(rows.upperBound, n)
        }
        matrix = try streaming.result(namesA: a.layerNames, namesB: b.layerNames, modelA: a.name, modelB: b.name)
      } else {
        try a.read(rows: 0..<n, into: &layersA)
        try b.read(rows: 0..<n, into: &layersB)
        progress(1, 1)
        matrix = try KernelCKA(kernel: kernel, debiased: debiased).similarities(layersA, layersB, a, b)
      }
      return CKAResult(matrix: matrix, estimator: self, kernel: kernel, batches: 1, examples: n,
                       available: n, notes: [], uncertainty: CKAUncertainty())
    case .minibatch(let batchSize, let keepLast):
      let (ranges, note) = try Self.batches(examples: n, batchSize: batchSize, keepLast: keepLast)
      var cka = try MinibatchCKA(layersA: a.layerNames, layersB: b.layerNames, modelA: a.name,
                                 modelB: b.name, kernel: kernel,
                                 permutations: statistics.permutations, seed: statistics.permutationSeed)
      try MinibatchRows.forEach(examples: n, ranges: ranges, epochs: epochs, seed: statistics.seed &+ 2) {
        batch, done, total in
        try a.withBatch(batch, buffers: &layersA) { rowsA in
          try b.withBatch(batch, buffers: &layersB) { rowsB in try cka.add(rows: batch.count, rowsA, rowsB) }
        }
        progress(done, total)
      }
      let matrix = try cka.result()
      let uncertainty = CKAUncertainty(similarities: matrix.values, terms: cka.terms,
                                       null: cka.permutedSimilarities(), statistics: statistics)
      return CKAResult(matrix: matrix, estimator: self, kernel: kernel, batches: cka.batches,
                       examples: cka.examples, available: n, notes: note.map { [$0] } ?? [],
                       uncertainty: uncertainty)
    }
  }
}

extension LinearCKA {
  func similarities<S: BLASScalar>(_ x: [Matrix<S>], _ y: [Matrix<S>], _ a: any RepresentationSource,
                                   _ b: any RepresentationSource) throws -> SimilarityMatrix {
    try compute(x, y, a.layerNames, b.layerNames, a.name, b.name)
  }
}

extension KernelCKA {
  func similarities<S: BLASScalar>(_ x: [Matrix<S>], _ y: [Matrix<S>], _ a: any RepresentationSource,
                                   _ b: any RepresentationSource) throws -> SimilarityMatrix {
    try oneBatch(x, y, a.layerNames, b.layerNames, a.name, b.name)
  }
}

/// What `CKAEstimator.similarities` computed, with how.
public struct CKAResult: Sendable {
  /// The CKA matrix (rows: A's layers), its HSIC terms and warnings.
  public var matrix: SimilarityMatrix
  public var estimator: CKAEstimator
  public var kernel: CKAKernel
  /// Batches summed (1 for the full-batch estimators), over all the passes.
  public var batches: Int
  /// Examples that entered the estimate, counted once per pass.
  public var examples: Int
  /// Passes over the examples (`similarities(..., epochs:)`), each in a shuffled order when more
  /// than 1.
  public var epochs = 1
  /// Examples in the inputs.
  public var available: Int
  /// The two models' examples are different inputs paired by position (one model on two
  /// datasets, `RepresentationSource.pairedByIndex`), not the same inputs.
  public var pairedByIndex = false
  /// Notes for standard error (examples dropped).
  public var notes: [String]
  /// Standard errors, intervals and p-values of the minibatch estimate (none for the
  /// full-batch estimators).
  public var uncertainty: CKAUncertainty
  /// The statistics asked for; `uncertainty` holds those that could be computed (intervals need
  /// 2 or more batches).
  public var statistics = CKAStatistics()

  /// A result as `similarities` returns it (for tests and other estimators' results).
  public init(matrix: SimilarityMatrix, estimator: CKAEstimator, kernel: CKAKernel, batches: Int,
              examples: Int, available: Int, notes: [String],
              uncertainty: CKAUncertainty = CKAUncertainty()) {
    self.matrix = matrix
    self.estimator = estimator
    self.kernel = kernel
    self.batches = batches
    self.examples = examples
    self.available = available
    self.notes = notes
    self.uncertainty = uncertainty
  }

  /// The batch size of the minibatch estimator, `nil` for the full-batch ones.
  public var batchSize: Int? {
    if case .minibatch(let size, _) = estimator { return size }
    return nil
  }
}
