import CompareCore

/// The ensemble correlation kernel between test and training examples, computed from the
/// logits of many independently trained models.
///
///     Z[m, i, c]   = standardize_over_models(log_softmax_over_classes(L[m, i, :]))[c]
///     kernel[i, j] = (1/C) Σ_c (1/M) Σ_m Z_test[m, i, c] · Z_train[m, j, c]
///
/// the mean over classes of the correlation, across the M models, of example i's and example
/// j's log-probabilities of class c (Pearson correlation with the N − 1 std, times (M − 1)/M).
/// The kernel of a set with itself is (M − 1)/M on the diagonal and never larger in absolute
/// value. Source: the published code of the 500-run CIFAR-10 ensemble (Keller Jordan, 2024),
/// `compute_kernel`.
///
/// How it is computed: Z is laid out `examples × (models · classes)`, so the whole kernel is
/// one GEMM with inner dimension M·C and alpha 1/(C·M), done in blocks of test rows; each
/// block goes to a visitor (the running top-K of `neighbors`) and is then overwritten, so the
/// full `test × train` matrix is never held. When Z of all models does not fit in
/// `Options.memoryLimit`, models are streamed in chunks and their GEMMs accumulated
/// (beta = 1) into a slab of test rows, rereading the training logits once per slab.
/// Z, the kernel block (or slab) and one read buffer are allocated once per call and reused
/// for every block, chunk and group of models read (through `LogitsSource.logits(models:into:)`):
/// fresh memory costs page faults, which on a VM can take longer than the arithmetic.
///
/// Where Compare differs from the reference on purpose: the log-softmax sums and the mean and
/// std over models are accumulated in Double (the reference: float32); a class whose values are identical in every model (std 0) has
/// Z = 0 instead of NaN; the reference divides by 10, Compare by the number of classes.
public struct CorrelationKernel: Sendable {
  /// How the kernel is computed.
  public struct Options: Sendable {
    /// Log-softmax over classes before standardising (the reference does). Without it the
    /// raw logits are standardised.
    public var logSoftmax: Bool
    /// Only this class's correlation (the per-class kernel, `(1/M) Σ_m Z·Z` for one c), or
    /// `nil` for the mean over all classes.
    public var classIndex: Int?
    /// Bytes for Z and the kernel blocks together; past it, models are streamed in chunks.
    public var memoryLimit: Int
    /// Bytes of one block of kernel rows.
    public var blockBytes: Int
    /// Bytes of logits read from a source at once.
    public var readBytes: Int

    public init(logSoftmax: Bool = true, classIndex: Int? = nil, memoryLimit: Int = 4 << 30,
                blockBytes: Int = 128 << 20, readBytes: Int = 32 << 20) {
      self.logSoftmax = logSoftmax
      self.classIndex = classIndex
      self.memoryLimit = memoryLimit
      self.blockBytes = blockBytes
      self.readBytes = readBytes
    }
  }

  /// Test logits, `models × test examples × classes`.
  public let test: any LogitsSource
  /// Training logits, `models × train examples × classes`.
  public let train: any LogitsSource
  /// Models used: the first `models` of both sources.
  public let models: Int
  public let options: Options

  /// Prepares the kernel of `test` against `train` over their first `models` models (all
  /// when `nil`).
  ///
  /// - Throws: `InputError` when the class counts differ, the model counts differ (and
  ///   `models` is not given), `models` exceeds either count or is below 2 (the std over one
  ///   model is undefined), either set is empty, there is one class and `logSoftmax` is on
  ///   (its log-softmax is constant), or `classIndex` is out of range.
  public init(test: any LogitsSource, train: any LogitsSource, models: Int? = nil,
              options: Options = Options()) throws {
    guard test.classes == train.classes else {
      throw InputError("\(test.name) has \(test.classes) classes but \(train.name) has \(train.classes)")
    }
    guard test.classes > 0 else { throw InputError("\(test.name) has no classes") }
    let count: Int
    if let models {
      guard models <= test.models, models <= train.models else {
        let smaller = test.models <= train.models ? test : train
        throw InputError("--models \(models) exceeds the \(smaller.models) models of \(smaller.name)")
      }
      count = models
    } else {
      guard test.models == train.models else {
        throw InputError("\(test.name) has \(test.models) models but \(train.name) has \(train.models); use --models to take the first N of both")
      }
      count = test.models
    }
    guard count >= 2 else {
      throw InputError("\(test.name): the model axis has length \(count); the std over models needs at least 2 models")
    }
    guard train.examples > 0 else { throw InputError("\(train.name) has no examples") }
    guard test.examples > 0 else { throw InputError("\(test.name) has no examples") }
    guard test.classes > 1 || !options.logSoftmax else {
      throw InputError("\(test.name) has 1 class: its log-softmax is 0 in every model, so the kernel would be 0; standardise the raw logits instead (--no-log-softmax)")
    }
    if let c = options.classIndex, !(0..<test.classes).contains(c) {
      throw InputError("class \(c) is out of range for \(test.classes) classes")
    }
    self.test = test
    self.train = train
    self.models = count
    self.options = options
  }

  /// Number of classes.
  public var classes: Int { test.classes }

  /// The classes the kernel sums over.
  var selected: [Int] { options.classIndex.map { [$0] } ?? Array(0..<classes) }

  /// GEMM inner dimension: models × selected classes.
  var inner: Int { models * selected.count }

  /// The value on the diagonal of a set's kernel with itself, (M − 1)/M.
  public var selfSimilarity: Double { Double(models - 1) / Double(models) }

  /// Calls `body` with consecutive blocks of kernel rows for test examples `rows` (all when
  /// `nil`): the block's test rows and its `rows.count × train examples` values, row-major.
  /// The buffer is reused after `body` returns.
  ///
  /// - Parameter progress: Called with (done, total) units of work as blocks complete.
  /// - Throws: `InputError` for non-finite logits (naming the source and position) or rows out
  ///   of range; whatever reading the sources or `body` throws.
  /// - Complexity: 2·rows·train·M·C flops in GEMM, plus reading every logit once (twice when
  ///   Z exceeds the memory limit, once more per slab for the training logits).
  public func forEachBlock(rows: Range<Int>? = nil,
                           progress: (_ done: Int, _ total: Int) -> Void = { _, _ in },
                           _ body: (Range<Int>, UnsafeBufferPointer<Float>) throws -> Void) throws {
    let rows = rows ?? 0..<test.examples
    guard rows.lowerBound >= 0, rows.upperBound <= test.examples else {
      throw InputError("rows \(rows.lowerBound):\(rows.upperBound) are outside the \(test.examples) test examples")
    }
    if rows.isEmpty { return }
    let nTrain = train.examples, k = inner, sel = selected
    let alpha = Float(1 / (Double(models) * Double(sel.count)))
    _ = try blasDimension(nTrain, "training examples")
    _ = try blasDimension(k, "models × classes")
    let blockRows = max(1, min(rows.count, options.blockBytes / (4 * nTrain)))
    let zBytes = (nTrain + rows.count) * k * 4
    let readTotal = 2 * models
    // Every group of models read from either source, in both passes and for every slab, goes
    // through this one buffer.
    let readCount = LogitsTransform.readCapacity([train, test], models: models, bytes: options.readBytes)
    if zBytes + blockRows * nTrain * 4 <= options.memoryLimit {
      // Everything fits: pass 1 writes log-softmax values into Z and collects statistics. The
      // read buffer is needed only in pass 1 and the kernel block only after it: one buffer
      // serves as both, so the block's memory is not faulted in a second time. All of it is
      // prefaulted in one call per buffer (`WorkBuffer`).
      var zTrain: [Float] = WorkBuffer.prefaulted(count: nTrain * k)
      var zTest: [Float] = WorkBuffer.prefaulted(count: rows.count * k)
      var shared: [Float] = WorkBuffer.prefaulted(count: max(readCount, blockRows * nTrain))
      let blocks = (rows.count + blockRows - 1) / blockRows
      let total = readTotal + blocks
      try zTrain.withUnsafeMutableBufferPointer { trainP in
        try zTest.withUnsafeMutableBufferPointer { testP in
          let trainTarget = ZTarget(base: trainP.baseAddress!, stride: k)
          let testTarget = ZTarget(base: testP.baseAddress!, stride: k)
          try shared.withUnsafeMutableBufferPointer { whole in
            let readP = UnsafeMutableBufferPointer(rebasing: whole[..<readCount])
            let trainStats = try LogitsTransform.statistics(
              of: train, models: models, rows: 0..<nTrain, logSoftmax: options.logSoftmax,
              selected: sel, target: trainTarget, readBytes: options.readBytes, buffer: readP
            ) { progress($0, total) }
            LogitsTransform.standardize(trainTarget, models: models, selected: sel, statistics: trainStats)
            let testStats = try LogitsTransform.statistics(
              of: test, models: models, rows: rows, logSoftmax: options.logSoftmax,
              selected: sel, target: testTarget, readBytes: options.readBytes, buffer: readP
            ) { progress(models + $0, total) }
            LogitsTransform.standardize(testTarget, models: models, selected: sel, statistics: testStats)
          }
          try shared.withUnsafeMutableBufferPointer { blockP in
            for b in 0..<blocks {
              let lo = b * blockRows, hi = min(rows.count, lo + blockRows)
              WorkerGEMM.productABt(m: hi - lo, n: nTrain,
                                    k: k, alpha: alpha, a: testP.baseAddress! + lo * k, lda: k,
                                    b: trainP.baseAddress!, ldb: k, beta: 0,
                                    c: blockP.baseAddress!, ldc: nTrain)
              try body((rows.lowerBound + lo)..<(rows.lowerBound + hi),
                       UnsafeBufferPointer(start: blockP.baseAddress!, count: (hi - lo) * nTrain))
              progress(readTotal + b + 1, total)
            }
          }
        }
      }
      return
    }
    // Out of core: statistics first, then slabs of test rows, each accumulating the GEMMs of
    // model chunks whose Z fits in the other half of the memory limit.
    let slabRows = max(1, min(rows.count, options.memoryLimit / 2 / (4 * nTrain)))
    let chunkModels = max(1, min(models, options.memoryLimit / 2 / max(1, (nTrain + slabRows) * sel.count * 4)))
    let slabs = (rows.count + slabRows - 1) / slabRows
    let chunks = (models + chunkModels - 1) / chunkModels
    let total = readTotal + slabs * chunks
    var read = [Float](repeating: 0, count: readCount)
    let (trainStats, testStats) = try read.withUnsafeMutableBufferPointer { readP in
      let trainStats = try LogitsTransform.statistics(
        of: train, models: models, rows: 0..<nTrain, logSoftmax: options.logSoftmax,
        selected: sel, target: nil, readBytes: options.readBytes, buffer: readP
      ) { progress($0, total) }
      let testStats = try LogitsTransform.statistics(
        of: test, models: models, rows: rows, logSoftmax: options.logSoftmax,
        selected: sel, target: nil, readBytes: options.readBytes, buffer: readP
      ) { progress(models + $0, total) }
      return (trainStats, testStats)
    }
    var accumulator = [Float](repeating: 0, count: slabRows * nTrain)
    var zTrain = [Float](repeating: 0, count: nTrain * chunkModels * sel.count)
    var zTest = [Float](repeating: 0, count: slabRows * chunkModels * sel.count)
    var done = readTotal
    for s in 0..<slabs {
      let lo = s * slabRows, hi = min(rows.count, lo + slabRows)
      let slab = (rows.lowerBound + lo)..<(rows.lowerBound + hi)
      for chunk in 0..<chunks {
        let m0 = chunk * chunkModels, m1 = min(models, m0 + chunkModels)
        let width = (m1 - m0) * sel.count
        try zTrain.withUnsafeMutableBufferPointer { trainP in
          try zTest.withUnsafeMutableBufferPointer { testP in
            try accumulator.withUnsafeMutableBufferPointer { accP in
              try read.withUnsafeMutableBufferPointer { readP in
                try LogitsTransform.fill(ZTarget(base: trainP.baseAddress!, stride: width), from: train,
                                         models: m0..<m1, logSoftmax: options.logSoftmax, selected: sel,
                                         statistics: trainStats, rows: 0..<nTrain,
                                         readBytes: options.readBytes, buffer: readP)
                try LogitsTransform.fill(ZTarget(base: testP.baseAddress!, stride: width), from: test,
                                         models: m0..<m1, logSoftmax: options.logSoftmax, selected: sel,
                                         statistics: testStats, rows: slab,
                                         readBytes: options.readBytes, buffer: readP)
              }
              WorkerGEMM.productABt(m: hi - lo, n: nTrain,
                                    k: width, alpha: alpha, a: testP.baseAddress!, lda: width,
                                    b: trainP.baseAddress!, ldb: width, beta: chunk == 0 ? 0 : 1,
                                    c: accP.baseAddress!, ldc: nTrain)
            }
          }
        }
        done += 1
        progress(done, total)
      }
      try accumulator.withUnsafeBufferPointer { accP in
        try body(slab, UnsafeBufferPointer(start: accP.baseAddress!, count: (hi - lo) * nTrain))
      }
    }
  }

  /// The top `count` training examples of each test example in `rows` (all when `nil`), best
  /// first; equal kernel values are ordered by training index, lowest first.
  ///
  /// - Throws: `InputError` when `count` is not in 1...train examples, and as `forEachBlock`.
  /// - Complexity: the GEMM, plus one pass over each kernel row (in parallel).
  /// - Parameter visiting: Also called with every block, after its top-K is taken (to stream
  ///   the kernel to a file without computing it twice).
  public func neighbors(count: Int, rows: Range<Int>? = nil,
                        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in },
                        visiting: ((Range<Int>, UnsafeBufferPointer<Float>) throws -> Void)? = nil
  ) throws -> Neighbors {
    guard count >= 1, count <= train.examples else {
      throw InputError("k = \(count) must be between 1 and the \(train.examples) training examples")
    }
    let rows = rows ?? 0..<test.examples
    var indices = [Int](repeating: 0, count: rows.count * count)
    var values = [Float](repeating: 0, count: rows.count * count)
    let nTrain = train.examples
    try indices.withUnsafeMutableBufferPointer { ip in
      try values.withUnsafeMutableBufferPointer { vp in
        let indexBase = SharedPointer(ip.baseAddress!), valueBase = SharedPointer(vp.baseAddress!)
        try forEachBlock(rows: rows, progress: progress) { block, kernel in
          let kernelBase = SharedPointer(UnsafeMutablePointer(mutating: kernel.baseAddress!))
          let first = block.lowerBound - rows.lowerBound
          Parallel.forEach(block.count, grain: 8) { range in
            for r in range {
              TopK.select(kernelBase.base + r * nTrain, count: nTrain, k: count,
                          indices: indexBase.base + (first + r) * count,
                          values: valueBase.base + (first + r) * count)
            }
          }
          try visiting?(block, kernel)
        }
      }
    }
    return try Neighbors(rows: rows, count: count, indices: indices, values: values)
  }

  /// The kernel rows of test examples `rows` (all when `nil`) as a `rows × train` matrix.
  /// Holds the whole block in memory: for small sets, tests and `--save-kernel`-like uses.
  public func matrix(rows: Range<Int>? = nil) throws -> Matrix<Float> {
    let rows = rows ?? 0..<test.examples
    var elements = [Float]()
    elements.reserveCapacity(rows.count * train.examples)
    try forEachBlock(rows: rows) { _, block in elements += block }
    return Matrix(rows: rows.count, columns: train.examples, elements: elements)
  }
}
