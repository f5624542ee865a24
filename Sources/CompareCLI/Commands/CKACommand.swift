import Compare

/// `compare cka A B`: CKA between every layer of model A and every layer of model B, from
/// activations of the same examples.
enum CKACommand: Command {
  static let spec = CommandSpec(
    name: "cka",
    overview: "Layer-by-layer CKA between two models' activations.",
    arguments: ActivationOptions.arguments + [
      ArgumentSpec("more", help: "More models (checkpoints of one network, or other networks): every pair is compared, with a model × model summary.",
                   optional: true, repeated: true),
    ],
    options: [
      OptionSpec("--estimator", value: "estimator",
                 help: "minibatch: unbiased HSIC summed over batches; full: biased HSIC on all examples; debiased: unbiased HSIC on all examples.",
                 default: CKAEstimator.minibatch(), values: CKAEstimator.names),
      OptionSpec("--kernel", value: "kernel",
                 help: "linear, or rbf[:THRESHOLD]: a Gaussian with σ² = THRESHOLD² × the median squared distance (THRESHOLD 1 if left out).",
                 default: CKAKernel.linear),
      OptionSpec("--batch-size", value: "n", help: "Examples per minibatch, at least 4.", default: CKAEstimator.defaultBatchSize),
      OptionSpec("--keep-last", help: "Keep a trailing partial batch of at least 4 examples (it is dropped by default)."),
      OptionSpec("--epochs", value: "E", help: "Passes over the examples, each in a seeded shuffled order (--seed), all batches summed: the minibatch-CKA paper's protocol (1: one pass in file order).", default: 1),
    ] + ActivationOptions.selection + [
      OptionSpec("--save", value: "file", help: "Write the CKA matrix (rows: model A's layers) to a .npy file."),
      OptionSpec("--heatmap", value: "file", help: "Draw the matrix as a heatmap, .png or .svg (with --permutations, cells that are not significant greyed and hatched)."),
      OptionSpec("--show-se", help: "Show each cell's jackknife standard error over batches (± in the table; minibatch only)."),
      OptionSpec("--ci", help: "Percentile bootstrap confidence intervals from resamples of the batches (minibatch only)."),
      OptionSpec("--bootstrap", value: "R", help: "Bootstrap resamples for --ci (giving it implies --ci).",
                 default: CKAStatistics.defaultBootstrap),
      OptionSpec("--confidence", value: "level", help: "Coverage of the --ci intervals, in (0, 1).",
                 default: CKAStatistics.defaultConfidence),
      OptionSpec("--permutations", value: "P", help: "Permutation p-values from P shuffles of B's examples within each batch (minibatch only; 0: none).",
                 default: 0),
      OptionSpec("--fdr", help: "Judge significance on Benjamini–Hochberg adjusted p-values across the grid (with --permutations)."),
      OptionSpec("--seed", value: "n", help: "Seed of the bootstrap resamples and the shuffles.", default: CKAStatistics.defaultSeed),
    ],
    discussion: """
      --estimator full and debiased with the linear kernel stream the examples in one pass and are
      exact over any number of them: memory is 8·p·q bytes per layer pair of p and q features plus
      8·p² per layer (128 MiB per pair of 4096-feature layers), whatever the number of examples.

      CKA is 1 for representations equal up to rotation and isotropic scaling, near 0 for unrelated
      ones; the unbiased estimators can fall slightly below 0. Each batch's activations are centred
      before the products and HSIC sums are kept in float64. A constant layer has no CKA: its row or
      column is NaN (null in JSON) and a warning names it.

      With the minibatch estimator and 2 or more batches, --json gives each cell's delete-one-batch
      jackknife standard error (std_error; --show-se prints it in the table). --ci adds percentile
      bootstrap intervals (ci_low, ci_high) from resampled batch sums; --permutations P adds p-values
      (p_value, null_mean, null_std) from shuffling B's examples within each batch. Cells whose
      p-value exceeds 0.05 (after Benjamini–Hochberg with --fdr) are marked ns. The full-batch
      estimators have one batch: none of these is defined for them.
      """,
    examples: [
      "compare cka mlp.safetensors cnn.npz",
      "compare cka a.npz b.npz --estimator debiased --kernel rbf:0.5 --json",
      "compare cka a.safetensors b.safetensors --layers-a fc1,fc2 --heatmap cka.png",
      "compare cka mlp.safetensors cnn.npz --batch-size 150 --ci --permutations 200 --show-se",
    ])

  /// The minibatch estimator's float32 Gram matrices are nearly all of its work; the
  /// full-data estimators accumulate float64 products.
  static func blasWork(_ arguments: ParsedArguments) -> BLASKernels.Work {
    if case .minibatch = CKAEstimator(name: arguments.string("--estimator") ?? "") { return .float32 }
    return .float64
  }

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let kernelText = arguments.string("--kernel")!
    guard let kernel = CKAKernel(kernelText) else {
      throw UsageError("--kernel expects linear, rbf or rbf:THRESHOLD with THRESHOLD > 0, got '\(kernelText)'",
                       command: spec.name)
    }
    let estimator = CKAEstimator(name: arguments.string("--estimator")!,
                                 batchSize: try arguments.int("--batch-size", in: 4...Int.max),
                                 keepLast: arguments.flag("--keep-last"))!
    let statistics = try statisticsOptions(arguments, estimator: estimator)
    let epochs: Int = try arguments.int("--epochs", in: 1...10_000)
    if case .minibatch = estimator {} else if epochs > 1 {
      throw UsageError("--epochs needs --estimator minibatch: each pass shuffles the examples into new batches, and --estimator \(estimator) has one", command: spec.name)
    }
    let showErrors = arguments.flag("--show-se")
    let save = arguments.string("--save"), heatmap = arguments.string("--heatmap")
    if let save, !save.hasSuffix(".npy") {
      throw UsageError("--save expects a .npy file name, got '\(save)'", command: spec.name)
    }
    if let heatmap, FigureFormat(path: heatmap) == nil {
      throw UsageError("--heatmap expects a .png or .svg file name, got '\(heatmap)'", command: spec.name)
    }
    try arguments.checkOutputs([("--save", save), ("--heatmap", heatmap)], inputs: [],
                               more: arguments.positionals.map { (option: "<models>", reference: $0) })
    for path in [save, heatmap].compactMap({ $0 }) { try AtomicFile.checkDestination(path) }
    if arguments.positionals.count > 2 {
      if save != nil { throw UsageError("--save writes one matrix: give two models", command: spec.name) }
      var meter = ProgressMeter(console: console, label: "CKA pairs", total: 0)
      let comparison = try CKAModelComparison(try ActivationOptions.sets(arguments), estimator: estimator, kernel: kernel,
                                              statistics: statistics, epochs: epochs) { meter.update($0, of: $1) }
      meter.finish()
      for (_, _, result) in comparison.pairs { for line in result.messages { console.warn(line) } }
      if let heatmap { try comparison.writeHeatmap(to: heatmap) }
      console.write(arguments.flag("--json") ? comparison.json().serialized(pretty: true) + "\n" : comparison.text)
      return
    }
    let (a, b) = try ActivationOptions.pair(arguments)
    var meter = ProgressMeter(console: console, label: "CKA batches", total: 0)
    let result = try estimator.similarities(a, b, kernel: kernel, statistics: statistics,
                                            epochs: epochs) { done, total in
      meter.update(done, of: total)
    }
    meter.finish()
    for line in result.messages { console.warn(line) }
    if let save {
      let m = result.matrix.values
      try NPYWriter.write(m.elements, shape: [m.rows, m.columns], to: save)
    }
    if let heatmap { try CKAFigures.writeHeatmap(result, to: heatmap) }
    console.write(arguments.flag("--json") ? result.json().serialized(pretty: true) + "\n"
                                           : result.text(showingStandardErrors: showErrors))
  }

  /// The statistics asked for; they resample batches, so only the minibatch estimator has them.
  static func statisticsOptions(_ arguments: ParsedArguments, estimator: CKAEstimator) throws -> CKAStatistics {
    let intervals = arguments.flag("--ci") || arguments.given("--bootstrap")
    let confidence = try arguments.double("--confidence", in: 0...1)
    guard confidence > 0, confidence < 1 else {
      throw UsageError("--confidence expects a number strictly between 0 and 1, got '\(arguments.string("--confidence")!)'",
                       command: spec.name)
    }
    let statistics = CKAStatistics(
      bootstrap: intervals ? try arguments.int("--bootstrap", in: 1...Int.max) : 0,
      confidence: confidence,
      permutations: try arguments.int("--permutations", in: 0...Int.max),
      seed: UInt64(try arguments.int("--seed", in: 0...Int.max) as Int),
      fdr: arguments.flag("--fdr"))
    if statistics.fdr, statistics.permutations == 0 {
      throw UsageError("--fdr adjusts permutation p-values: give --permutations too", command: spec.name)
    }
    if case .minibatch = estimator {} else {
      let asked = [(intervals, arguments.flag("--ci") ? "--ci" : "--bootstrap"),
                   (arguments.given("--confidence"), "--confidence"),
                   (statistics.permutations > 0, "--permutations"),
                   (arguments.flag("--show-se"), "--show-se")].filter(\.0).map(\.1)
      if let first = asked.first {
        throw UsageError("\(first) needs --estimator minibatch: the statistics come from the spread of its batches, and --estimator \(estimator) has one", command: spec.name)
      }
    }
    if arguments.given("--confidence"), !intervals {
      throw UsageError("--confidence sets the coverage of the --ci intervals: give --ci too", command: spec.name)
    }
    return statistics
  }

}
