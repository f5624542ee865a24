import CompareCore

/// The work and memory of one `CorrelationKernel.forEachBlock` run, known before computing:
/// what `compare kernel --plan` prints.
public struct KernelPlan: Sendable, Equatable {
  /// Test rows computed.
  public var rows: Int
  /// Training examples.
  public var trainExamples: Int
  /// GEMM inner dimension, models × classes summed over.
  public var inner: Int
  /// `true` when Z of all models fits in the memory limit (one pass to normalise, then blocks).
  public var inCore: Bool
  /// Out of core: slabs of test rows, and chunks of models per slab (1 and 1 in core).
  public var slabs: Int
  public var chunks: Int
  /// Logits read: passes over the test logits and over the training logits.
  public var testPasses: Int
  public var trainPasses: Int
  /// Bytes of the arrays allocated for the run (Z, the kernel block or slab, the read buffer).
  public var memoryBytes: Int

  /// Floating-point operations of the GEMMs: 2 · rows · train · models · classes.
  public var flops: Double { 2 * Double(rows) * Double(trainExamples) * Double(inner) }
}

extension CorrelationKernel {
  /// The plan of `forEachBlock(rows:)` (and so of `neighbors`), by the same rules it follows.
  public func plan(rows: Range<Int>? = nil) -> KernelPlan {
    let count = (rows ?? 0..<test.examples).count
    let nTrain = train.examples, k = inner, sel = selected
    let blockRows = max(1, min(count, options.blockBytes / (4 * nTrain)))
    let zBytes = (nTrain + count) * k * 4
    let read = LogitsTransform.readCapacity([train, test], models: models, bytes: options.readBytes) * 4
    if zBytes + blockRows * nTrain * 4 <= options.memoryLimit {
      return KernelPlan(rows: count, trainExamples: nTrain, inner: k, inCore: true, slabs: 1, chunks: 1,
                        testPasses: 1, trainPasses: 1, memoryBytes: zBytes + max(read, blockRows * nTrain * 4))
    }
    let slabRows = max(1, min(count, options.memoryLimit / 2 / (4 * nTrain)))
    let chunkModels = max(1, min(models, options.memoryLimit / 2 / max(1, (nTrain + slabRows) * sel.count * 4)))
    let slabs = (count + slabRows - 1) / slabRows
    let chunks = (models + chunkModels - 1) / chunkModels
    let memory = slabRows * nTrain * 4 + (nTrain + slabRows) * chunkModels * sel.count * 4 + read
    // Statistics first (one pass over each), then each slab rereads its test rows and all the
    // training logits.
    return KernelPlan(rows: count, trainExamples: nTrain, inner: k, inCore: false, slabs: slabs, chunks: chunks,
                      testPasses: 2, trainPasses: 1 + slabs, memoryBytes: memory)
  }
}
