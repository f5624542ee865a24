import Compare

/// `compare kernel`: k-NN inference over an ensemble's logits with the correlation kernel,
/// beside the single-model and ensemble accuracies, as the reference code prints them.
enum KernelCommand: Command {
  static let spec = CommandSpec(
    name: "kernel",
    overview: "Ensemble correlation kernel: k-NN over many models' logits.",
    options: KernelInputs.sourceOptions + [
      OptionSpec("-k", value: "k", help: "Neighbours that vote.", default: "3"),
      OptionSpec("--weighting", value: "scheme", help: "Vote weights by kernel value κ: none, power:P (max(κ,0)^P) or softmax:T (exp(κ/T)).",
                 default: "none"),
      OptionSpec("--ties", value: "rule", help: "Vote ties: the smallest label (torch.mode, as the reference) or the largest summed kernel value.",
                 default: "smallest-label", values: KernelKNN.TieRule.allCases.map(\.rawValue)),
    ] + KernelInputs.kernelOptions + [
      OptionSpec("--sizes", value: "list", help: "Also report accuracies for the first n models for each n in this comma-separated list, as a table."),
      OptionSpec("--figure", value: "file", help: "With --sizes: plot accuracy against ensemble size (.png or .svg)."),
      OptionSpec("--rows", value: "start:end", help: "Only test examples START..<END (a row shard of a job array; END is clamped)."),
      OptionSpec("--save-neighbors", value: "file", help: "Write the top neighbours of each test example: .npz with indices (int64 [test, K]), values (float32 [test, K]) and rows."),
      OptionSpec("--neighbors", value: "K", help: "Neighbours per example written by --save-neighbors. (default: k)"),
      OptionSpec("--save-kernel", value: "file", help: "Write the whole kernel, float32 [test, train], as .npy (streamed by row blocks)."),
    ],
    discussion: """
      The kernel of test example i and training example j is the mean over classes of the
      correlation, across models, of their log-softmax outputs: Z = standardize over models of
      log_softmax(logits); kernel = Z_test · Z_trainᵀ / (models · classes). Each test example is
      predicted by a vote of its k most similar training examples. Printed: the average
      single-model accuracy, the ensemble accuracy (argmax of the mean logits) and the kernel
      k-NN accuracy, in percent; --json gives fractions.
      """,
    examples: [
      "compare kernel --test runs.npz:logits --train runs.npz:logits_train --test-labels runs.npz:labels --train-labels runs.npz:labels_train",
      "compare kernel --test a.pt:logits --test b.pt:logits --train a.pt:logits_train --train b.pt:logits_train --test-labels y.npy --train-labels y_train.npy --weighting power:4",
    ])

  /// What one kernel run produced.
  struct Outcome {
    var models: Int
    var accuracy: EnsembleAccuracy
    var kernelAccuracy: Double
    var neighbors: Neighbors
  }

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let k = try arguments.int("-k", default: 3, in: 1...Int.max)
    guard let weighting = KernelKNN.Weighting(arguments.string("--weighting") ?? "none") else {
      throw UsageError("--weighting expects none, power:P (P ≥ 0) or softmax:T (T > 0), got '\(arguments.string("--weighting")!)'",
                       command: spec.name)
    }
    let ties = KernelKNN.TieRule(rawValue: arguments.string("--ties") ?? "smallest-label") ?? .smallestLabel
    let neighborCount = try arguments.int("--neighbors", in: 1...Int.max) ?? k
    let sizes = try parseSizes(arguments)
    if let figure = arguments.string("--figure") {
      guard !sizes.isEmpty else { throw UsageError("--figure needs --sizes", command: spec.name) }
      guard FigureFormat(path: figure) != nil else {
        throw UsageError("--figure expects a .png or .svg file, got '\(figure)'", command: spec.name)
      }
    }
    if arguments.string("--neighbors") != nil, arguments.string("--save-neighbors") == nil {
      throw UsageError("--neighbors needs --save-neighbors", command: spec.name)
    }
    for option in ["--figure", "--save-neighbors", "--save-kernel"] {
      if let path = arguments.string(option) { try AtomicFile.checkDestination(path) }
    }
    let (test, train) = try KernelInputs.sources(arguments)
    let testLabels = try KernelInputs.labels(arguments.string("--test-labels")!, for: test)
    let trainLabels = try KernelInputs.labels(arguments.string("--train-labels")!, for: train)
    let options = try KernelInputs.options(arguments, classes: test.classes)
    let rows = try KernelInputs.rows(arguments, testExamples: test.examples)
    guard k <= train.examples else {
      throw InputError("-k \(k) is larger than the \(train.examples) training examples")
    }
    guard neighborCount <= train.examples else {
      throw InputError("--neighbors \(neighborCount) is larger than the \(train.examples) training examples")
    }
    let knn = KernelKNN(k: k, weighting: weighting, ties: ties)
    let kernel = try CorrelationKernel(test: test, train: train, models: KernelInputs.models(arguments),
                                       options: options)
    for size in sizes where size > kernel.models {
      throw InputError("--sizes \(size) exceeds the \(kernel.models) models available")
    }
    let keep = max(k, neighborCount)
    let main = try compute(kernel, rows: rows, keep: keep, knn: knn, testLabels: testLabels,
                           trainLabels: trainLabels, saveKernel: arguments.string("--save-kernel"),
                           console: console)
    if let path = arguments.string("--save-neighbors") {
      try KernelNeighborsFile.write(main.neighbors.prefix(neighborCount), to: path)
    }
    var table: [Outcome] = []
    for size in sizes {
      if size == kernel.models { table.append(main); continue }
      let sub = try CorrelationKernel(test: test, train: train, models: size, options: options)
      table.append(try compute(sub, rows: rows, keep: k, knn: knn, testLabels: testLabels,
                               trainLabels: trainLabels, saveKernel: nil, console: console))
    }
    if let path = arguments.string("--figure") { try KernelFigures.sizes(table, k: k, to: path) }

    let covered = main.neighbors.rows
    if arguments.flag("--json") {
      var pairs: [(String, JSONValue)] = [
        ("models", .int(main.models)),
        ("test_examples", .int(covered.count)),
        ("train_examples", .int(train.examples)),
        ("classes", .int(test.classes)),
        ("k", .int(k)),
        ("single_model_accuracy", .double(main.accuracy.singleModel)),
        ("ensemble_accuracy", .double(main.accuracy.ensemble)),
        ("kernel_accuracy", .double(main.kernelAccuracy)),
        ("weighting", .string(weighting.description)),
        ("ties", .string(ties.rawValue)),
        ("log_softmax", .bool(options.logSoftmax)),
      ]
      if let c = options.classIndex { pairs.append(("class", .int(c))) }
      if let rows { pairs.append(("rows", .array([.int(rows.lowerBound), .int(rows.upperBound)]))) }
      if !table.isEmpty {
        pairs.append(("sizes", .array(table.map { o in
          .object([("models", .int(o.models)), ("single_model_accuracy", .double(o.accuracy.singleModel)),
                   ("ensemble_accuracy", .double(o.accuracy.ensemble)), ("kernel_accuracy", .double(o.kernelAccuracy))])
        })))
      }
      console.print(JSONValue.object(pairs).serialized(pretty: true))
      return
    }
    if let rows {
      console.print("test examples \(rows.lowerBound)..<\(rows.upperBound) of \(test.examples)")
    }
    for line in lines(main, k: k, weighting: weighting, ties: ties, classIndex: options.classIndex,
                      logSoftmax: options.logSoftmax) {
      console.print(line)
    }
    if !table.isEmpty {
      console.print()
      console.print(sizesTable(table))
    }
  }

  /// The reference's three lines.
  static func lines(_ o: Outcome, k: Int, weighting: KernelKNN.Weighting = .none,
                    ties: KernelKNN.TieRule = .smallestLabel, classIndex: Int? = nil,
                    logSoftmax: Bool = true) -> [String] {
    var method = "k-NN w/ k=\(k)"
    if weighting != .none { method += ", \(weighting)" }
    if ties != .smallestLabel { method += ", ties \(ties.rawValue)" }
    if let classIndex { method += ", class \(classIndex)" }
    if !logSoftmax { method += ", no log-softmax" }
    let rows = [
      ("average single-model accuracy", o.accuracy.singleModel),
      ("ensemble accuracy (\(o.models) models)", o.accuracy.ensemble),
      ("kernel accuracy (\(method))", o.kernelAccuracy),
    ]
    let width = max(32, rows.map(\.0.count).max()! + 1)
    return rows.map { Format.left($0.0, width) + ": " + Format.fixed(100 * $0.1, 2) }
  }

  static func sizesTable(_ table: [Outcome]) -> String {
    Format.table(header: ["models", "single model %", "ensemble %", "kernel %"],
                 rows: table.map { o in
                   [String(o.models), Format.fixed(100 * o.accuracy.singleModel, 2),
                    Format.fixed(100 * o.accuracy.ensemble, 2), Format.fixed(100 * o.kernelAccuracy, 2)]
                 }, rightAligned: [0, 1, 2, 3])
  }

  static func parseSizes(_ arguments: ParsedArguments) throws -> [Int] {
    guard let text = arguments.string("--sizes") else { return [] }
    var sizes: [Int] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard let n = Int(part.trimmingSpaces), n >= 2 else {
        throw UsageError("--sizes expects a comma-separated list of model counts ≥ 2, got '\(text)'", command: spec.name)
      }
      sizes.append(n)
    }
    return sizes
  }

  /// Computes neighbours (keeping `keep` per row), the k-NN accuracy and the ensemble
  /// accuracies of one kernel; streams the kernel to `saveKernel` when given.
  static func compute(_ kernel: CorrelationKernel, rows: Range<Int>?, keep: Int, knn: KernelKNN,
                      testLabels: [Int], trainLabels: [Int], saveKernel: String?,
                      console: Console) throws -> Outcome {
    var meter = ProgressMeter(console: console, label: "kernel (\(kernel.models) models)", total: 100)
    let progress: (Int, Int) -> Void = { done, total in meter.update(total > 0 ? 100 * done / total : 100) }
    var neighbors: Neighbors
    if let path = saveKernel {
      let covered = rows ?? 0..<kernel.test.examples
      var result: Neighbors?
      try AtomicFile.write(to: path) { fd in
        let header = KernelBenchmark.npyHeader(descr: "<f4", shape: [covered.count, kernel.train.examples])
        try header.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        result = try kernel.neighbors(count: keep, rows: rows, progress: progress) { _, block in
          try AtomicFile.writeAll(fd, UnsafeRawBufferPointer(block), path: path)
        }
      }
      neighbors = result!
    } else {
      neighbors = try kernel.neighbors(count: keep, rows: rows, progress: progress)
    }
    meter.finish()
    let accuracy = try EnsembleAccuracy(logits: kernel.test, labels: testLabels, models: kernel.models,
                                        rows: neighbors.rows)
    let kernelAccuracy = try knn.accuracy(neighbors, trainLabels: trainLabels, testLabels: testLabels,
                                          classes: kernel.classes)
    return Outcome(models: kernel.models, accuracy: accuracy, kernelAccuracy: kernelAccuracy, neighbors: neighbors)
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] {
    let file = examples + "/ensemble.npz"
    let test = try TensorLogits(file + ":logits"), train = try TensorLogits(file + ":logits_train")
    let testLabels = try KernelInputs.labels(file + ":labels", for: test)
    let trainLabels = try KernelInputs.labels(file + ":labels_train", for: train)
    let knn = KernelKNN(k: 3)
    var table: [Outcome] = []
    for models in [2, 4, 8, 16, 32, test.models] where models <= test.models {
      let kernel = try CorrelationKernel(test: test, train: train, models: models)
      table.append(try compute(kernel, rows: nil, keep: models == test.models ? 8 : 3, knn: knn,
                               testLabels: testLabels, trainLabels: trainLabels, saveKernel: nil,
                               console: console))
    }
    let main = table.last!
    try KernelFigures.sizes(table, k: 3, to: output + "/kernel-sizes.png")
    // The most similar pairs and the confident failures, beside their nearest training images.
    let (pairs, failures) = KernelPairsCommand.tables(main.neighbors, testLabels: testLabels,
                                                      trainLabels: trainLabels, start: 1, top: 4)
    try KernelPairsCommand.writeGrid(
      pairs: pairs, failures: failures, neighbors: main.neighbors.prefix(4), featureNeighbors: nil,
      featurePairs: nil, testImages: file + ":images", trainImages: file + ":images_train",
      testLabels: testLabels, trainLabels: trainLabels, to: output + "/kernel-pairs.png")
    return lines(main, k: 3)
  }
}

extension Substring {
  var trimmingSpaces: Substring {
    var s = self
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return s
  }
}
