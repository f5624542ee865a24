import Compare

/// `compare bench kernel`: the whole `compare kernel` computation (float16 logits read from
/// memory-mapped `.npy` files, normalisation, the blocked GEMM, top-k, accuracies) on synthetic
/// data of CIFAR-10's size with 100 models, against the SGEMM lower bound
/// 2·test·train·models·classes flops at the SGEMM rate measured in the same run.
public enum KernelBenchmark {
  public static func run(log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    let (models, nTest, nTrain, classes) = quick ? (10, 1_000, 5_000, 10) : (100, 10_000, 50_000, 10)
    let folder = try temporaryFolder()
    defer {
      for name in ["test.npy", "train.npy", "test_labels.npy", "train_labels.npy"] { unlink(FileSystem.path(name, in: folder)) }
      rmdir(folder)
    }
    if !json { log.print("Writing synthetic float16 logits [\(models), \(nTest) + \(nTrain), \(classes)] to \(folder)") }
    try writeLogits(folder + "/test.npy", models: models, examples: nTest, classes: classes, seed: 1)
    try writeLogits(folder + "/train.npy", models: models, examples: nTrain, classes: classes, seed: 2)
    let testLabels = syntheticLabels(nTest, classes: classes, seed: 1)
    let trainLabels = syntheticLabels(nTrain, classes: classes, seed: 2)
    try NPYWriter.write(testLabels.map { Int64($0) }, shape: [nTest], to: folder + "/test_labels.npy")
    try NPYWriter.write(trainLabels.map { Int64($0) }, shape: [nTrain], to: folder + "/train_labels.npy")

    let inner = models * classes
    // The SGEMM rate is measured before and after the run and the faster kept: on a shared
    // machine this makes the bound the stricter one. Each time it is the faster of one threaded
    // call and the columns dealt to workers (`BLASBaseline.bestGemmRate`).
    let (m, n) = quick ? (512, 4096) : (1024, 8192)
    let rateBefore = BLASBaseline.bestGemmRate(m: m, n: n, k: inner)
    let flops = 2 * Double(nTest) * Double(nTrain) * Double(inner)

    let start = ContinuousClock.now
    let test = try TensorLogits(folder + "/test.npy"), train = try TensorLogits(folder + "/train.npy")
    let kernel = try CorrelationKernel(test: test, train: train)
    // Progress reaches 2·models when both sets are read and normalised, before the first GEMM.
    var normalised: Double?
    let neighbors = try kernel.neighbors(count: 3) { done, _ in
      if done == 2 * models, normalised == nil { normalised = secondsSince(start) }
    }
    let kernelDone = secondsSince(start)
    let accuracy = try EnsembleAccuracy(logits: test, labels: testLabels)
    let kernelAccuracy = try KernelKNN(k: 3).accuracy(neighbors, trainLabels: trainLabels,
                                                      testLabels: testLabels, classes: classes)
    let seconds = secondsSince(start)
    let rate = max(rateBefore, BLASBaseline.bestGemmRate(m: m, n: n, k: inner))
    let bound = flops / (rate * 1e9)
    let peak = peakMemoryBytes()
    let fullKernel = Double(nTest) * Double(nTrain) * 4
    // The same, as users run it: the whole command in its own process, on the same files.
    log.progress("kernel: compare kernel on files")
    let command = try CommandTiming.compare([
      "kernel", "--test", folder + "/test.npy", "--train", folder + "/train.npy",
      "--test-labels", folder + "/test_labels.npy", "--train-labels", folder + "/train_labels.npy", "--json",
    ], warming: [folder + "/test.npy", folder + "/train.npy"])
    log.endProgress()
    let python = PythonBLAS.gemmSeconds(m: m, n: n, k: inner, threads: BLASThreads.count)
    let pythonRate = python.map { 2 * Double(m) * Double(n) * Double(inner) / $0 / 1e9 }
    let pythonBound = pythonRate.map { flops / ($0 * 1e9) }
    if !json {
      log.print("compare kernel, \(models) models, \(nTest) test × \(nTrain) train × \(classes) classes, float16, \(BLASBaseline.threadsDescription)")
      log.print(Format.table(header: ["quantity", "value"], rows: [
        ["time", Format.fixed(seconds, 2) + " s"],
        ["  read + normalise (pass 1)", Format.fixed(normalised ?? 0, 2) + " s"],
        ["  GEMM + top-k", Format.fixed(kernelDone - (normalised ?? 0), 2) + " s"],
        ["  accuracies", Format.fixed(seconds - kernelDone, 2) + " s"],
        ["SGEMM rate (best of before/after, k=\(inner))", Format.fixed(rate, 1) + " GFLOP/s"],
        ["SGEMM lower bound (\(Format.general(flops, 3)) flop)", Format.fixed(bound, 2) + " s"],
        ["ratio to bound", Format.fixed(seconds / bound, 2) + "x"],
        ["peak memory (VmHWM)", Format.fixed(Double(peak) / 1048576, 0) + " MiB"],
        ["whole command: compare kernel on the .npy files", command.summary],
        ["  ratio to bound", Format.fixed(command.wall / bound, 2) + "x"],
        ["  peak memory", Format.fixed(Double(command.peakBytes) / 1048576, 0) + " MiB"],
        ["SGEMM rate of numpy's bundled OpenBLAS", pythonRate.map { Format.fixed($0, 1) + " GFLOP/s" } ?? "- (no python3 with numpy)"],
        ["  bound at that rate; whole command's ratio", pythonBound.map { Format.fixed($0, 2) + " s; " + Format.fixed(command.wall / $0, 2) + "x" } ?? "-"],
        ["full kernel would be", Format.fixed(fullKernel / 1048576, 0) + " MiB"],
        ["accuracies (single, ensemble, kernel)",
         "\(Format.percent(accuracy.singleModel)), \(Format.percent(accuracy.ensemble)), \(Format.percent(kernelAccuracy))"],
      ], rightAligned: [1]))
    }
    return .object([
      ("models", .int(models)), ("test_examples", .int(nTest)), ("train_examples", .int(nTrain)),
      ("classes", .int(classes)), ("threads", .int(BLASThreads.count)), ("seconds", .double(seconds)),
      ("normalise_seconds", .double(normalised ?? 0)), ("gemm_topk_seconds", .double(kernelDone - (normalised ?? 0))),
      ("sgemm_gflops", .double(rate)), ("bound_seconds", .double(bound)), ("ratio", .double(seconds / bound)),
      ("peak_memory_bytes", .int(peak)), ("full_kernel_bytes", .int(Int(fullKernel))),
      ("command", .object(command.json + [("ratio", .double(command.wall / bound))])),
      ("numpy_sgemm_gflops", pythonRate.map(JSONValue.double) ?? .null),
      ("numpy_bound_seconds", pythonBound.map(JSONValue.double) ?? .null),
    ])
  }

  /// A new folder under `$TMPDIR` (or /tmp). Throws `ReadError` naming the base when it cannot.
  static func temporaryFolder() throws -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(base)/compare-kernel-bench.XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
      throw ReadError(file: base, "temporary folder cannot be created: \(String(cString: strerror(errno)))")
    }
    return String(nulTerminated: template)
  }

  /// Logits with a per-example pattern shared by the models plus per-model noise, written
  /// one model at a time as float16 `.npy`.
  static func writeLogits(_ path: String, models: Int, examples: Int, classes: Int, seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let size = examples * classes
    var pattern = [Float](repeating: 0, count: size)
    for i in 0..<size { pattern[i] = Float(rng.nextGaussian()) * 3 }
    try AtomicFile.write(to: path) { fd in
      let header = NPYWriter.header(descr: "<f2", shape: [models, examples, classes])
      try header.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
      var slice = [UInt16](repeating: 0, count: size)
      for _ in 0..<models {
        for i in 0..<size {
          // Uniform noise from the raw bits: fast, and as good as Gaussian for timing.
          let u = Float(rng.next() >> 40) * (1 / Float(1 << 24)) - 0.5
          slice[i] = Float16(pattern[i] + 2 * u).bitPattern
        }
        try slice.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
      }
    }
  }

  static func syntheticLabels(_ n: Int, classes: Int, seed: UInt64) -> [Int] {
    var rng = SplitMix64(seed: seed)
    // The labels the logit pattern of `writeLogits` favours are not needed for timing.
    return (0..<n).map { _ in rng.nextIndex(below: classes) }
  }


  /// The process's peak resident memory (VmHWM of /proc/self/status), in bytes; 0 when unknown.
  static func peakMemoryBytes() -> Int {
    guard let file = fopen("/proc/self/status", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, file) != nil {
      let text = String(nulTerminated: line)
      if text.hasPrefix("VmHWM:") {
        let digits = text.filter(\.isNumber)
        return (Int(digits) ?? 0) * 1024
      }
    }
    return 0
  }
}
