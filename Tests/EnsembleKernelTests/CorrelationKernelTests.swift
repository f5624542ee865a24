import CompareCore
import EnsembleKernel
import Testing

@Suite("Correlation kernel")
struct CorrelationKernelTests {
  // Tolerance: the golden kernel is float64; Compare's is a float32 GEMM over M·C = 24 terms
  // of unit-variance values: errors of a few 1e-7.
  let tolerance = 2e-6

  @Test("equals the float64 golden kernel, with log-softmax, without it, per class, on a prefix of models")
  func golden() throws {
    let test = try KernelFixtures.test, train = try KernelFixtures.train
    let full = try CorrelationKernel(test: test, train: train).matrix()
    #expect(maxDifference(full, KernelFixtures.matrix("kernel")) < tolerance)
    let raw = try CorrelationKernel(test: test, train: train, options: .init(logSoftmax: false)).matrix()
    #expect(maxDifference(raw, KernelFixtures.matrix("kernel_no_log_softmax")) < tolerance)
    let perClass = try CorrelationKernel(test: test, train: train, options: .init(classIndex: 2)).matrix()
    #expect(maxDifference(perClass, KernelFixtures.matrix("kernel_class_2")) < tolerance)
    let prefix = try CorrelationKernel(test: test, train: train, models: 4).matrix()
    #expect(maxDifference(prefix, KernelFixtures.matrix("kernel_first_4_models")) < tolerance)
    // Negative control: the variants differ from the full kernel.
    #expect(maxDifference(raw, KernelFixtures.matrix("kernel")) > 0.01)
    #expect(maxDifference(prefix, KernelFixtures.matrix("kernel")) > 0.01)
  }

  @Test("the kernel of a set with itself is (M-1)/M on the diagonal and never larger in absolute value")
  func selfKernel() throws {
    let train = try KernelFixtures.train
    let kernel = try CorrelationKernel(test: train, train: train)
    let k = try kernel.matrix()
    let bound = Float(kernel.selfSimilarity)
    #expect(kernel.selfSimilarity == 5.0 / 6.0)
    let golden = KernelFixtures.golden["self_kernel_diagonal"] as! [Double]
    for i in 0..<k.rows {
      // Training example 25 is constant over models: its Z is 0 (documented), so is its row.
      let expected: Float = i == 25 ? 0 : bound
      #expect(abs(k[i, i] - expected) < 1e-6)
      #expect(abs(Double(k[i, i]) - golden[i]) < 1e-6)
      for j in 0..<k.columns { #expect(abs(k[i, j]) <= bound + 1e-6) }
    }
    // Negative control: test against train has no such diagonal.
    let cross = try CorrelationKernel(test: try KernelFixtures.test, train: train).matrix()
    #expect((0..<cross.rows).contains { abs(cross[$0, $0] - bound) > 0.1 })
  }

  @Test("adding a constant to all logits of an example changes nothing; adding it to one class does")
  func shiftInvariance() throws {
    let test = try KernelFixtures.test, train = try KernelFixtures.train
    let base = try CorrelationKernel(test: test, train: train).matrix()
    var shifted = test.values, oneClass = test.values
    let (examples, classes) = (test.examples, test.classes)
    for m in 0..<test.models {
      for i in 0..<examples {
        let shift = Float(m + 1) * 3.25 - Float(i)
        for c in 0..<classes { shifted[(m * examples + i) * classes + c] += shift }
        oneClass[(m * examples + i) * classes] += shift
      }
    }
    let a = try LogitsArray(models: test.models, examples: examples, classes: classes, values: shifted)
    let b = try LogitsArray(models: test.models, examples: examples, classes: classes, values: oneClass)
    let shiftedKernel = try CorrelationKernel(test: a, train: train).matrix()
    var worst: Float = 0
    for e in base.elements.indices { worst = max(worst, abs(base.elements[e] - shiftedKernel.elements[e])) }
    #expect(worst < 1e-5)
    let changed = try CorrelationKernel(test: b, train: train).matrix()
    var largest: Float = 0
    for e in base.elements.indices { largest = max(largest, abs(base.elements[e] - changed.elements[e])) }
    #expect(largest > 0.01)
  }

  /// With 2 models every non-zero Z is ±1/√2, so a class's kernel is ±0.5 or 0, even where the
  /// two log-probabilities differ by a few float32 ulps (train example 0, class 0 here).
  @Test("2 models: a class's kernel values are exactly ±0.5, in memory and out of core, even for log-probabilities a few ulps apart")
  func twoModels() throws {
    let test = try LogitsArray(models: 2, examples: 1, classes: 3, values: [-3, 0, 1, 2, 0, 1])
    let near: Float = -12.2187585
    let train = try LogitsArray(models: 2, examples: 2, classes: 3,
                                values: [near, 0, 0, 1, 2, 3, near + 13 * near.ulp, 0, 0, 3, 2, 1])
    for options in [CorrelationKernel.Options(classIndex: 0), .init(classIndex: 0, memoryLimit: 64, readBytes: 1)] {
      let k = try CorrelationKernel(test: test, train: train, options: options).matrix()
      #expect(abs(abs(k[0, 0]) - 0.5) < 1e-6, "\(k[0, 0])")
      #expect(abs(abs(k[0, 1]) - 0.5) < 1e-6, "\(k[0, 1])")
    }
  }

  @Test("shards joined along the model axis, small reads, small blocks and the out-of-core path all equal one in-memory run")
  func streaming() throws {
    let test = try syntheticLogits(models: 7, examples: 20, classes: 5, seed: 1)
    let train = try syntheticLogits(models: 7, examples: 45, classes: 5, seed: 2)
    let whole = try CorrelationKernel(test: test, train: train).matrix()
    func split(_ source: LogitsArray, at cut: Int) throws -> ConcatenatedLogits {
      let size = source.examples * source.classes
      let a = try LogitsArray(name: "a", models: cut, examples: source.examples, classes: source.classes,
                              values: Array(source.values[0..<(cut * size)]))
      let b = try LogitsArray(name: "b", models: source.models - cut, examples: source.examples,
                              classes: source.classes, values: Array(source.values[(cut * size)...]))
      return try ConcatenatedLogits([a, b])
    }
    let shards = try CorrelationKernel(test: split(test, at: 3), train: split(train, at: 5),
                                       options: .init(readBytes: 1)).matrix()
    let blocks = try CorrelationKernel(test: test, train: train, options: .init(blockBytes: 3 * 45 * 4)).matrix()
    // 8 KiB: Z does not fit, so models are streamed in chunks into slabs of test rows.
    let outOfCore = try CorrelationKernel(test: split(test, at: 2), train: train,
                                          options: .init(memoryLimit: 8 << 10, readBytes: 1)).matrix()
    for other in [shards, blocks, outOfCore] {
      var worst: Float = 0
      for e in whole.elements.indices { worst = max(worst, abs(whole.elements[e] - other.elements[e])) }
      #expect(worst < 1e-5)
    }
    let neighborsWhole = try CorrelationKernel(test: test, train: train).neighbors(count: 4)
    let neighborsOutOfCore = try CorrelationKernel(test: test, train: train, options: .init(memoryLimit: 8 << 10))
      .neighbors(count: 4)
    #expect(neighborsWhole.indices == neighborsOutOfCore.indices)
  }

  @Test("every read of a run, in both passes and for every slab and chunk, goes through one buffer, and the values are bit-identical")
  func oneReadBuffer() throws {
    let test = try syntheticLogits(models: 7, examples: 20, classes: 5, seed: 1)
    let train = try syntheticLogits(models: 7, examples: 45, classes: 5, seed: 2)
    let whole = try CorrelationKernel(test: test, train: train).matrix()
    // In memory, then out of core (1 KiB: 10 slabs of 2 test rows, 7 chunks of 1 model); one
    // model per read.
    for memoryLimit in [4 << 30, 1 << 10] {
      let options = CorrelationKernel.Options(memoryLimit: memoryLimit, readBytes: 1)
      let recordingTest = RecordingLogits(test), recordingTrain = RecordingLogits(train)
      let recorded = try CorrelationKernel(test: recordingTest, train: recordingTrain, options: options).matrix()
      let (testBuffers, testReads) = recordingTest.distinctBuffers
      let (trainBuffers, trainReads) = recordingTrain.distinctBuffers
      #expect(testReads >= 7 && trainReads >= 7)
      #expect(testBuffers == 1 && trainBuffers == 1)
      #expect(recordingTest.buffers.withLock { $0[0] } == recordingTrain.buffers.withLock { $0[0] })
      // A source with only the array read (the protocol's default copies it in) gives the same bits.
      let arrayOnly = try CorrelationKernel(test: ArrayOnlyLogits(test), train: ArrayOnlyLogits(train),
                                            options: options).matrix()
      #expect(recorded.elements == arrayOnly.elements)
      if memoryLimit > 1 << 20 { #expect(recorded.elements == whole.elements) }
    }
    // The reads counted are all there are: the out-of-core run reads the training logits once
    // for the statistics and again for every slab.
    let outOfCore = RecordingLogits(train)
    _ = try CorrelationKernel(test: test, train: outOfCore, options: .init(memoryLimit: 1 << 10, readBytes: 1)).matrix()
    #expect(outOfCore.distinctBuffers == (1, 7 + 10 * 7))
    let accuracy = try EnsembleAccuracy(logits: ArrayOnlyLogits(test), labels: Array(repeating: 1, count: 20),
                                        readBytes: 1)
    let reference = try EnsembleAccuracy(logits: test, labels: Array(repeating: 1, count: 20))
    #expect(accuracy == reference)
  }

  @Test("row shards merged equal the whole run's neighbours")
  func rowShards() throws {
    let test = try syntheticLogits(models: 6, examples: 25, classes: 3, seed: 3)
    let train = try syntheticLogits(models: 6, examples: 40, classes: 3, seed: 4)
    let kernel = try CorrelationKernel(test: test, train: train)
    let whole = try kernel.neighbors(count: 5)
    let shards = try [10..<25, 0..<4, 4..<10].map { try kernel.neighbors(count: 5, rows: $0) }
    let merged = try Neighbors.merging(shards)
    #expect(merged.rows == 0..<25)
    #expect(merged.indices == whole.indices)
    // BLAS picks its micro-kernels by block shape, so values may differ in the last bit.
    #expect(zip(merged.values, whole.values).allSatisfy { abs($0 - $1) <= 1e-6 })
    #expect(merged.values != shards[0].values + shards[1].values + shards[2].values)
    #expect(throws: InputError("rows 4:10 are in no shard")) { try Neighbors.merging([shards[0], shards[1]]) }
    #expect(throws: InputError("rows 10:25 are in more than one shard")) {
      try Neighbors.merging([shards[0], shards[0], shards[1], shards[2]])
    }
  }

  @Test("neighbours are the golden top 5 on every row without near-ties")
  func goldenNeighbors() throws {
    let n = try CorrelationKernel(test: try KernelFixtures.test, train: try KernelFixtures.train).neighbors(count: 5)
    let indices = KernelFixtures.golden["neighbors_indices"] as! [[Int]]
    let values = KernelFixtures.matrix("neighbors_values")
    let ambiguous = KernelFixtures.ambiguousRows
    #expect(ambiguous.count < 12)
    for r in 0..<12 {
      for j in 0..<5 { #expect(abs(Double(n.values(of: r)[r * 5 + j]) - values[r][j]) < 2e-6) }
      if !ambiguous.contains(r) { #expect(Array(n.indices(of: r)) == indices[r]) }
      // Where training examples 3 and 17 (identical logits) tie, both are among the top 2.
      if r < 3 { #expect(Set(n.indices(of: r).prefix(2)) == [3, 17]) }
    }
  }

  @Test("bad input is a one-line error naming the problem")
  func badInput() throws {
    let test = try KernelFixtures.test, train = try KernelFixtures.train
    let threeClasses = try syntheticLogits(models: 6, examples: 4, classes: 3, seed: 5, name: "other")
    #expect(throws: InputError("test_logits.npy has 4 classes but other has 3")) {
      try CorrelationKernel(test: test, train: threeClasses)
    }
    let fiveModels = try syntheticLogits(models: 5, examples: 4, classes: 4, seed: 6, name: "five")
    #expect(throws: InputError("test_logits.npy has 6 models but five has 5; use --models to take the first N of both")) {
      try CorrelationKernel(test: test, train: fiveModels)
    }
    #expect(throws: InputError("--models 6 exceeds the 5 models of five")) {
      try CorrelationKernel(test: test, train: fiveModels, models: 6)
    }
    _ = try CorrelationKernel(test: test, train: fiveModels, models: 5)
    let one = try syntheticLogits(models: 1, examples: 4, classes: 4, seed: 7, name: "one")
    #expect(throws: InputError("one: the model axis has length 1; the std over models needs at least 2 models")) {
      try CorrelationKernel(test: one, train: one)
    }
    var values = test.values
    values[(2 * test.examples + 7) * 4 + 1] = .nan
    let nan = try LogitsArray(name: "nan.npy", models: 6, examples: 12, classes: 4, values: values)
    #expect(throws: InputError("nan.npy: logit [2, 7, 1] is nan; logits must be finite")) {
      try CorrelationKernel(test: nan, train: train).neighbors(count: 3)
    }
    values[(2 * test.examples + 7) * 4 + 1] = .infinity
    let inf = try LogitsArray(name: "inf.npy", models: 6, examples: 12, classes: 4, values: values)
    #expect(throws: InputError("inf.npy: logit [2, 7, 1] is inf; logits must be finite")) {
      try CorrelationKernel(test: inf, train: train, options: .init(memoryLimit: 1024)).neighbors(count: 3)
    }
    let oneClass = try syntheticLogits(models: 3, examples: 4, classes: 1, seed: 8, name: "single")
    #expect(throws: InputError("single has 1 class: its log-softmax is 0 in every model, so the kernel would be 0; standardise the raw logits instead (--no-log-softmax)")) {
      try CorrelationKernel(test: oneClass, train: oneClass)
    }
    _ = try CorrelationKernel(test: oneClass, train: oneClass, options: .init(logSoftmax: false)).matrix()
    let empty = try LogitsArray(name: "empty", models: 6, examples: 0, classes: 4, values: [])
    #expect(throws: InputError("empty has no examples")) { try CorrelationKernel(test: empty, train: train) }
    #expect(throws: InputError("k = 31 must be between 1 and the 30 training examples")) {
      try CorrelationKernel(test: test, train: train).neighbors(count: 31)
    }
    #expect(throws: InputError("class 4 is out of range for 4 classes")) {
      try CorrelationKernel(test: test, train: train, options: .init(classIndex: 4))
    }
    #expect(throws: InputError("rows 10:13 are outside the 12 test examples")) {
      try CorrelationKernel(test: test, train: train).neighbors(count: 1, rows: 10..<13)
    }
  }
}
