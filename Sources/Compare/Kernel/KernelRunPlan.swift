import CompareCore
import EnsembleKernel

/// What `compare kernel --plan` prints: the work, the reads and the memory of the run, and its
/// time estimated from this machine's SGEMM rate and logits-reading rate, both measured now on
/// a small sample (well under a second), without computing the kernel.
public struct KernelRunPlan: Sendable {
  public var plan: KernelPlan
  public var models: Int
  public var testExamples: Int
  public var classes: Int
  /// Bytes of logits read, over all passes.
  public var bytesRead: Double
  /// The measured SGEMM rate, GFLOP/s, at the run's inner dimension.
  public var gemmRate: Double
  /// The measured rate of reading and converting the logits, bytes per second.
  public var readRate: Double
  /// The memory budget (`--memory`).
  public var memoryLimit: Int

  public var gemmSeconds: Double { plan.flops / (gemmRate * 1e9) }
  public var readSeconds: Double { bytesRead / readRate }
  /// The estimate: GEMM plus reads (normalisation and top-K are small beside them).
  public var estimatedSeconds: Double { gemmSeconds + readSeconds }

  /// `compare kernel --plan --json`.
  public func json() -> JSONValue {
    .object([
      ("models", .int(models)), ("test_examples", .int(plan.rows)), ("train_examples", .int(plan.trainExamples)),
      ("classes", .int(classes)), ("flops", .double(plan.flops)), ("in_core", .bool(plan.inCore)),
      ("slabs", .int(plan.slabs)), ("chunks", .int(plan.chunks)),
      ("passes", .object([("test", .int(plan.testPasses)), ("train", .int(plan.trainPasses))])),
      ("bytes_read", .double(bytesRead)), ("memory_bytes", .int(plan.memoryBytes)),
      ("memory_limit_bytes", .int(memoryLimit)), ("gemm_gflops", .double(gemmRate)),
      ("read_bytes_per_second", .double(readRate)), ("estimated_seconds", .double(estimatedSeconds)),
    ])
  }

  /// The plan as text.
  public var text: String {
    func gib(_ b: Double) -> String { TensorListing.byteText(Int(b)) }
    let layout = plan.inCore
      ? "in memory: one pass over the logits, then \(plan.rows) rows in blocks"
      : "streamed: \(plan.slabs) slab\(plan.slabs == 1 ? "" : "s") of test rows × \(plan.chunks) chunks of models"
    return """
      Plan: compare kernel, \(models) models, \(plan.rows) test × \(plan.trainExamples) train examples × \(classes) classes
        work:    \(Format.general(plan.flops, 3)) flop of SGEMM (inner dimension \(plan.inner)); \(layout)
        reads:   \(gib(bytesRead)) of logits (test \(plan.testPasses) pass\(plan.testPasses == 1 ? "" : "es"), train \(plan.trainPasses) pass\(plan.trainPasses == 1 ? "" : "es"))
        memory:  \(gib(Double(plan.memoryBytes))) of arrays (--memory \(gib(Double(memoryLimit))))
        time:    about \(Self.duration(estimatedSeconds)) (SGEMM \(Self.duration(gemmSeconds)) at \(Format.fixed(gemmRate, 1)) GFLOP/s, reading \(Self.duration(readSeconds)) at \(Format.fixed(readRate / 1e9, 2)) GB/s, both measured now)
      """ + "\n"
  }

  /// `42 s`, `12.5 min`, `3.2 h`.
  public static func duration(_ seconds: Double) -> String {
    if seconds < 120 { return Format.fixed(seconds, seconds < 10 ? 1 : 0) + " s" }
    if seconds < 7200 { return Format.fixed(seconds / 60, 1) + " min" }
    return Format.fixed(seconds / 3600, 1) + " h"
  }
}

extension KernelRequest {
  /// The plan of a run long enough to announce (estimated over `seconds`), or `nil`. Runs
  /// under 3·10¹² flops (half a minute at this machine's best SGEMM) are not measured at all,
  /// so short runs pay nothing for the estimate.
  public func longRunPlan(_ inputs: KernelInputs, over seconds: Double = 60) -> KernelRunPlan? {
    guard let kernel = try? CorrelationKernel(test: inputs.test, train: inputs.train, models: models, options: options),
          kernel.plan(rows: rows.map { $0.clamped(to: 0..<inputs.test.examples) }).flops > 3e12,
          let plan = try? plan(inputs), plan.estimatedSeconds > seconds else { return nil }
    return plan
  }

  /// The run's plan and estimated time, without computing it (see `KernelRunPlan`).
  /// - Throws: as `run`'s checks of the inputs against their shapes (the same messages), so
  ///   that a plan is refused when its run would be.
  public func plan(_ inputs: KernelInputs) throws -> KernelRunPlan {
    let (kernel, rows) = try checkedKernel(inputs)
    let plan = kernel.plan(rows: rows)
    let stored = Double(Self.bytesPerLogit(inputs.test.precision))
    let testBytes = Double(kernel.models) * Double(inputs.test.examples) * Double(inputs.test.classes) * stored
    let trainBytes = Double(kernel.models) * Double(inputs.train.examples) * Double(inputs.train.classes) * stored
    let bytesRead = testBytes * Double(plan.testPasses) + trainBytes * Double(plan.trainPasses)
    return KernelRunPlan(plan: plan, models: kernel.models, testExamples: inputs.test.examples,
                         classes: inputs.test.classes, bytesRead: bytesRead,
                         gemmRate: Self.measureGEMM(inner: (plan.inner + plan.chunks - 1) / max(1, plan.chunks),
                                                   train: plan.trainExamples),
                         readRate: try Self.measureReading(inputs.test, models: kernel.models) * stored / 4,
                         memoryLimit: options.memoryLimit)
  }

  static func bytesPerLogit(_ precision: LogitsPrecision) -> Int {
    switch precision {
    case .float16, .bfloat16: 2
    case .float32: 4
    case .float64: 8
    }
  }

  /// GFLOP/s of one SGEMM of the kernel's shape (`inner`: one GEMM call's inner dimension),
  /// at most 512 rows × 8192 inner × 4096 columns: past a few thousand the rate no longer
  /// depends on the size, and the measurement stays within 160 MB whatever the run's size (at
  /// 20,000 models × 10 classes, the whole inner dimension would take 6.6 GB).
  ///
  /// Timed through the run's own call, `WorkerGEMM.productABt` (C = A·Bᵀ, C's columns dealt to
  /// one worker per BLAS thread).
  static func measureGEMM(inner: Int, train: Int) -> Double {
    var rng = SplitMix64(seed: 1)
    let inner = max(1, min(inner, 8192)), columns = max(1, min(train, 4096))
    let a = Matrix<Float>.gaussian(rows: 512, columns: inner, using: &rng)
    let b = Matrix<Float>.gaussian(rows: columns, columns: inner, using: &rng)
    var c = [Float](repeating: 0, count: 512 * columns)
    func product() { WorkerGEMM.productABt(a, b, into: &c) }
    product()   // warm up: threads started, pages touched
    let start = ContinuousClock.now
    product()
    return 2 * 512 * Double(inner) * Double(columns) / max(secondsSince(start), 1e-6) / 1e9
  }

  /// Float32 values per second delivered by reading and converting the first models (≤ 64 MB).
  static func measureReading(_ source: any LogitsSource, models: Int) throws -> Double {
    let perModel = source.examples * source.classes
    let count = max(1, min(models, (64 << 20) / max(1, perModel * 4)))
    var buffer = [Float](repeating: 0, count: count * perModel)
    let start = ContinuousClock.now
    try buffer.withUnsafeMutableBufferPointer { try source.logits(models: 0..<count, into: $0) }
    return Double(count * perModel) * 4 / max(secondsSince(start), 1e-6)
  }
}
