import CKA
import Compare
import Dispatch

/// `compare bench cka`: minibatch CKA of 6 × 6 layers, 10,000 examples in batches of 512,
/// 4096 float32 features per layer, against the Gram work's lower bound measured in the same
/// run: one `ssyrk` per layer and batch, the same 228 calls timed alone.
///
/// The layers' activations are drawn once (one batch per layer) and fed for every batch: the
/// arithmetic is the same as for distinct data, and drawing 10,000 × 4096 × 12 Gaussians
/// would dominate the run.
public enum CKABenchmark {
  struct Workload {
    var featuresA: [Int], featuresB: [Int], examples: Int, batch: Int
    var layersA: Int { featuresA.count }
    var layersB: Int { featuresB.count }
    var batches: Int { examples / batch }
    var features: String {
      Set(featuresA + featuresB).count == 1 ? "\(featuresA[0])" : (featuresA + featuresB).map(String.init).joined(separator: "/")
    }
  }

  public static func run(log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    let big = quick
      ? Workload(featuresA: [512, 512, 512], featuresB: [512, 512, 512], examples: 1000, batch: 128)
      : Workload(featuresA: Array(repeating: 4096, count: 6), featuresB: Array(repeating: 4096, count: 6),
                 examples: 10_000, batch: 512)
    // The example models' layer widths (MLP 256/128/64/10, CNN 256/128/256/64/10) on the
    // 1797 digits.
    let digits = Workload(featuresA: [256, 128, 64, 10], featuresB: [256, 128, 256, 64, 10],
                          examples: 1797, batch: 256)
    var results: [JSONValue] = []
    for (label, work) in [("large", big), ("digits-sized", digits)] {
      let (seconds, bound) = try measure(work)
      var command: [(String, JSONValue)] = []
      if label == "large" {
        let folder = try BenchmarkFiles.cacheFolder("cka")
        // Named by shape, so that a --quick run does not replace the full run's files.
        let shape = "\(work.layersA)x\(work.examples)x\(work.features)"
        let (a, b) = (folder + "/a-\(shape).safetensors", folder + "/b-\(shape).safetensors")
        try writeActivations(a, work.featuresA, examples: work.examples, seed: 1, log: log)
        try writeActivations(b, work.featuresB, examples: work.examples, seed: 2, log: log)
        log.progress("cka: compare cka on files")
        let run = try CommandTiming.compare(["cka", a, b, "--batch-size", "\(work.batch)", "--json"],
                                            warming: [a, b], median: 3)
        log.endProgress()
        let python = PythonBLAS.syrkSeconds(n: work.batch, k: work.featuresA[0], threads: BLASThreads.count)
        let pythonBound = python.map { $0 * Double(work.layersA + work.layersB) * Double(work.batches) }
        log.progress("cka: torch_cka on the same workload")
        let torch = work.layersA == work.layersB && Set(work.featuresA + work.featuresB).count == 1
          ? PythonBLAS.torchCKASeconds(layers: work.layersA, features: work.featuresA[0], examples: work.examples,
                                       batch: work.batch, threads: BLASThreads.count)
          : nil
        log.endProgress()
        command = run.json + [("command_ratio", .double(run.wall / bound)),
                              ("numpy_bound_seconds", pythonBound.map(JSONValue.double) ?? .null),
                              ("torch_cka_seconds", torch.map(JSONValue.double) ?? .null),
                              ("torch_cka_speedup", torch.map { .double($0 / run.wall) } ?? .null)]
        if !json {
          log.print("Whole command: compare cka A.safetensors B.safetensors --batch-size \(work.batch) --json (\(folder))")
          log.print(Format.table(header: ["", "value"], rows: [
            ["compare cka, whole process", run.summary],
            ["ratio to the Gram bound (linked OpenBLAS)", Format.fixed(run.wall / bound, 2)],
            ["Gram bound at numpy/scipy's bundled OpenBLAS (ssyrk)", pythonBound.map { Format.fixed($0, 3) + " s" } ?? "- (no python3 with scipy)"],
            ["ratio to that bound", pythonBound.map { Format.fixed(run.wall / $0, 2) } ?? "-"],
            ["peak memory", Format.fixed(Double(run.peakBytes) / 1048576, 0) + " MiB"],
            ["torch_cka 0.21 CKA.compare(), same workload and threads", torch.map { Format.fixed($0, 2) + " s" }
              ?? "- (set COMPARE_BENCH_PYTHON to a Python with torch_cka)"],
            ["whole command's speed-up over torch_cka", torch.map { Format.fixed($0 / run.wall, 2) + "x" } ?? "-"],
          ], rightAligned: [1]))
        }
        command.append(("full_data", try fullDataCommand(a, b, work, log: log, json: json)))
      }
      let layers = work.layersA + work.layersB
      let flops = Double(work.batches * work.batch * work.batch) * Double((work.featuresA + work.featuresB).reduce(0, +))
      if !json {
        log.print("CKA \(label): \(work.layersA) × \(work.layersB) layers, \(work.examples) examples, batch \(work.batch) (\(work.batches) batches, \(work.examples - work.batches * work.batch) dropped), \(work.features) float32 features per layer, \(BLASBaseline.threadsDescription)")
        log.print(Format.table(header: ["", "seconds"], rows: [
          ["minibatch CKA", Format.fixed(seconds, 3)],
          ["Gram bound: \(layers * work.batches) × ssyrk \(work.batch)×features (\(Format.fixed(flops / 1e12, 3)) TFLOP)", Format.fixed(bound, 3)],
          ["ratio", Format.fixed(seconds / bound, 2)],
        ], rightAligned: [1]))
      }
      results.append(.object([
        ("case", .string(label)), ("layers_a", .int(work.layersA)), ("layers_b", .int(work.layersB)),
        ("examples", .int(work.examples)), ("batch_size", .int(work.batch)),
        ("features_a", .array(work.featuresA.map(JSONValue.int))), ("features_b", .array(work.featuresB.map(JSONValue.int))), ("batches", .int(work.batches)),
        ("seconds", .double(seconds)), ("bound_seconds", .double(bound)),
        ("ratio", .double(seconds / bound)), ("gram_tflop", .double(flops / 1e12)),
      ] + command))
    }
    return .object([("threads", .int(BLASThreads.count)), ("results", .array(results))])
  }

  /// Examples of the full-data case: fewer than the features, where `--estimator full` forms
  /// each layer's n×n Gram matrix (`GramLinearCKA`).
  static let fullDataExamples = 4000

  /// `compare cka A B --estimator full --examples N` on the large case's files, timed whole,
  /// against its bound: one float64 `dsyrk` of N × features per layer, the layers over the
  /// cores with one BLAS thread each, timed alone in this run.
  static func fullDataCommand(_ a: String, _ b: String, _ work: Workload, log: BenchmarkLog, json: Bool) throws -> JSONValue {
    let n = min(fullDataExamples, work.examples)
    log.progress("cka: compare cka --estimator full on files")
    let run = try CommandTiming.compare(["cka", a, b, "--estimator", "full", "--examples", "\(n)", "--json"],
                                        warming: [a, b], median: 1)
    log.progress("cka: the full-data estimator's dsyrk bound")
    let widths = work.featuresA + work.featuresB
    let bound = gramSeconds(examples: n, widths: widths)
    // numpy's OpenBLAS: one layer's dsyrk at one thread, times the layers per worker.
    let workers = Double(max(1, min(BLASThreads.count, widths.count)))
    let python = PythonBLAS.syrk64Seconds(n: n, k: widths.max() ?? 0).map { $0 * (Double(widths.count) / workers).rounded(.up) }
    log.endProgress()
    let flops = Double(n) * Double(n) * Double(widths.reduce(0, +))
    if !json {
      log.print("Full-data CKA: compare cka A B --estimator full --examples \(n) --json (\(widths.count) layers, float64 Gram matrices in example space)")
      log.print(Format.table(header: ["", "value"], rows: [
        ["compare cka --estimator full, whole process", run.summary],
        ["bound: \(widths.count) × dsyrk \(n)×features (\(Format.fixed(flops / 1e12, 3)) TFLOP)", Format.fixed(bound, 3) + " s"],
        ["ratio", Format.fixed(run.wall / bound, 2)],
        ["bound at numpy/scipy's bundled OpenBLAS (dsyrk, one thread per worker)", python.map { Format.fixed($0, 3) + " s" } ?? "- (no python3 with scipy)"],
        ["ratio to that bound", python.map { Format.fixed(run.wall / $0, 2) } ?? "-"],
        ["peak memory", Format.fixed(Double(run.peakBytes) / 1048576, 0) + " MiB"],
      ], rightAligned: [1]))
    }
    return .object(run.json + [("examples", .int(n)), ("bound_seconds", .double(bound)),
                               ("command_ratio", .double(run.wall / bound)), ("gram_tflop", .double(flops / 1e12)),
                               ("numpy_bound_seconds", python.map(JSONValue.double) ?? .null)])
  }

  /// Seconds of one float64 `dsyrk` of n × p per layer (random values), the layers over the
  /// cores with one BLAS thread each (buffers made before the clock starts).
  static func gramSeconds(examples n: Int, widths: [Int]) -> Double {
    final class Buffers: @unchecked Sendable {
      let x: [Double], gram: UnsafeMutableBufferPointer<Double>
      init(rows n: Int, columns p: Int) {
        var rng = SplitMix64(seed: 11)
        x = Matrix<Double>.gaussian(rows: n, columns: p, using: &rng).elements
        gram = .allocate(capacity: n * n)
        gram.initialize(repeating: 0)
      }
      deinit { gram.deallocate() }
    }
    let widest = widths.max() ?? 0
    let states = WorkerStates { Buffers(rows: n, columns: widest) }
    for _ in 0..<min(BLASThreads.count, widths.count) { _ = states.take() }
    states.reset()
    let start = ContinuousClock.now
    BLASWorkers.forEachIndex(widths.count, state: states.take) { l, buffers in
      buffers.x.withUnsafeBufferPointer { x in
        Double.syrk(transpose: false, n: Int32(n), k: Int32(widths[l]), alpha: 1, a: x.baseAddress!,
                    lda: Int32(widths[l]), beta: 0, c: buffers.gram.baseAddress!, ldc: Int32(n))
      }
      return true
    }
    return secondsSince(start)
  }

  /// Writes one model's activations, `examples × features` float32 per layer, to a
  /// `.safetensors` file unless a file of the right size is there: layers related through a
  /// shared 64-dimensional code, plus uniform noise from the raw bits (fast to draw).
  static func writeActivations(_ path: String, _ features: [Int], examples: Int, seed: UInt64,
                               log: BenchmarkLog) throws {
    let bytes = features.reduce(0) { $0 + $1 * examples * 4 }
    if let size = BenchmarkFiles.size(path), size > bytes, size < bytes + 4096 { return }
    log.progress("cka: writing \(path)")
    var rng = SplitMix64(seed: 6)
    let code = Matrix<Float>.gaussian(rows: examples, columns: 64, using: &rng)
    var noise = SplitMix64(seed: seed)
    let entries = features.enumerated().map { index, width -> SafetensorsWriter.Entry in
      var x = code.multiplied(by: Matrix<Float>.gaussian(rows: 64, columns: width, using: &rng))
      x.elements.withUnsafeMutableBufferPointer { e in
        for i in e.indices { e[i] += Float(noise.next() >> 40) * (1 / Float(1 << 23)) - 1 }
      }
      return SafetensorsWriter.Entry(key: "layer\(index)", shape: [examples, width], values: x.elements)
    }
    try SafetensorsWriter.write(entries, to: path)
  }

  /// Seconds for the whole minibatch CKA, and the `ssyrk` bound measured just before.
  static func measure(_ work: Workload) throws -> (seconds: Double, bound: Double) {
    var rng = SplitMix64(seed: 6)
    // Related layers: each a random linear map of a shared 64-dimensional code plus noise.
    let code = Matrix<Float>.gaussian(rows: work.batch, columns: 64, using: &rng)
    func layer(_ features: Int) -> Matrix<Float> {
      let map = Matrix<Float>.gaussian(rows: 64, columns: features, using: &rng)
      let noise = Matrix<Float>.gaussian(rows: work.batch, columns: features, using: &rng)
      return code.multiplied(by: map).adding(noise)
    }
    let a = work.featuresA.map(layer), b = work.featuresB.map(layer)
    var cka = try MinibatchCKA(layersA: (0..<work.layersA).map { "a\($0)" },
                               layersB: (0..<work.layersB).map { "b\($0)" })
    // The machine is shared: alternate the bound and the run twice and keep the best of each.
    var seconds = Double.infinity, bound = Double.infinity
    for _ in 0..<2 {
      bound = min(bound, syrkSeconds(a + b, batches: work.batches))
      cka = try MinibatchCKA(layersA: cka.layersA, layersB: cka.layersB)
      let start = ContinuousClock.now
      for _ in 0..<work.batches { try cka.accumulate(batchA: a, batchB: b) }
      _ = try cka.result()
      seconds = min(seconds, secondsSince(start))
    }
    return (seconds, bound)
  }

  /// The Gram work alone: the upper triangle of x·xᵀ of every layer's batch by the function
  /// the estimator calls (`GramKernel.upperGram`, one `ssyrk`), for every batch, no centring,
  /// copy or mirroring. With several BLAS threads, the faster of the two ways to spend them: the
  /// calls one after another with OpenBLAS threading each, or (as the estimator does) one worker
  /// per thread, each running its share of the layers with one BLAS thread.
  static func syrkSeconds(_ layers: [Matrix<Float>], batches: Int) -> Double {
    let n = layers[0].rows
    let threads = BLASThreads.count
    var buffers = [[Float]](repeating: [Float](repeating: 0, count: n * n), count: threads)
    @Sendable func gram(_ x: Matrix<Float>, into c: inout [Float]) {
      x.elements.withUnsafeBufferPointer { px in
        c.withUnsafeMutableBufferPointer { pc in
          GramKernel.upperGram(px.baseAddress!, rows: n, columns: x.columns, into: pc.baseAddress!)
        }
      }
    }
    var start = ContinuousClock.now
    for _ in 0..<batches { for x in layers { gram(x, into: &buffers[0]) } }
    let sequential = secondsSince(start)
    guard threads > 1 else { return sequential }
    let workers = min(threads, layers.count)
    BLASThreads.set(1)
    defer { BLASThreads.set(threads) }
    start = ContinuousClock.now
    buffers.withUnsafeMutableBufferPointer { slots in
      let slots = SendableAddress(slots.baseAddress!)
      for _ in 0..<batches {
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
          for index in stride(from: worker, to: layers.count, by: workers) { gram(layers[index], into: &slots.base[worker]) }
        }
      }
    }
    return min(sequential, secondsSince(start))
  }
}
