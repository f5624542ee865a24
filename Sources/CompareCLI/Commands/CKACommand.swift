import Compare

/// `compare cka A B`: CKA between every layer of model A and every layer of model B, from
/// activations of the same examples.
enum CKACommand: Command {
  static let spec = CommandSpec(
    name: "cka",
    overview: "Layer-by-layer CKA between two models' activations.",
    arguments: [
      ArgumentSpec("a", help: "Activations of model A: .safetensors, .npz, .pt or a folder of .npy, one tensor per layer, [examples, ...] (FILE:KEY picks the tensors under KEY)."),
      ArgumentSpec("b", help: "Activations of model B: the same examples in the same order."),
    ],
    options: [
      OptionSpec("--estimator", value: "estimator",
                 help: "minibatch: unbiased HSIC summed over batches; full: biased HSIC on all examples; debiased: unbiased HSIC on all examples.",
                 default: "minibatch", values: CKAEstimator.names),
      OptionSpec("--kernel", value: "kernel",
                 help: "linear, or rbf[:THRESHOLD]: a Gaussian with σ² = THRESHOLD² × the median squared distance (THRESHOLD 1 if left out).",
                 default: CKAKernel.linear),
      OptionSpec("--batch-size", value: "n", help: "Examples per minibatch, at least 4.", default: CKAEstimator.defaultBatchSize),
      OptionSpec("--keep-last", help: "Keep a trailing partial batch of at least 4 examples (it is dropped by default)."),
      OptionSpec("--layers-a", value: "names", help: "Model A's layers to compare, comma-separated, in this order. (default: all, in natural order)"),
      OptionSpec("--layers-b", value: "names", help: "Model B's layers to compare. (default: all, in natural order)"),
      OptionSpec("--name-a", value: "name", help: "Model A's name in the output. (default: the file name of <a>)"),
      OptionSpec("--name-b", value: "name", help: "Model B's name in the output. (default: the file name of <b>)"),
      OptionSpec("--save", value: "file", help: "Write the CKA matrix (rows: model A's layers) to a .npy file."),
      OptionSpec("--heatmap", value: "file", help: "Draw the matrix as a heatmap, .png or .svg."),
    ],
    discussion: """
      CKA is 1 for representations equal up to rotation and isotropic scaling, near 0 for unrelated
      ones; the unbiased estimators can fall slightly below 0. Each batch's activations are centred
      before the products and HSIC sums are kept in float64. A constant layer has no CKA: its row or
      column is NaN (null in JSON) and a warning names it.
      """,
    examples: [
      "compare cka mlp.safetensors cnn.npz",
      "compare cka a.npz b.npz --estimator debiased --kernel rbf:0.5 --json",
      "compare cka a.safetensors b.safetensors --layers-a fc1,fc2 --heatmap cka.png",
    ])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let kernelText = arguments.string("--kernel")!
    guard let kernel = CKAKernel(kernelText) else {
      throw UsageError("--kernel expects linear, rbf or rbf:THRESHOLD with THRESHOLD > 0, got '\(kernelText)'",
                       command: spec.name)
    }
    let estimator = CKAEstimator(name: arguments.string("--estimator")!,
                                 batchSize: try arguments.int("--batch-size", in: 4...Int.max),
                                 keepLast: arguments.flag("--keep-last"))!
    let save = arguments.string("--save"), heatmap = arguments.string("--heatmap")
    if let save, !save.hasSuffix(".npy") {
      throw UsageError("--save expects a .npy file name, got '\(save)'", command: spec.name)
    }
    if let heatmap, FigureFormat(path: heatmap) == nil {
      throw UsageError("--heatmap expects a .png or .svg file name, got '\(heatmap)'", command: spec.name)
    }
    for path in [save, heatmap].compactMap({ $0 }) { try AtomicFile.checkDestination(path) }
    let (a, b) = try ActivationSet.pair(
      arguments.argument("a")!, arguments.argument("b")!, layersA: list(arguments.string("--layers-a")),
      layersB: list(arguments.string("--layers-b")), nameA: arguments.string("--name-a"),
      nameB: arguments.string("--name-b"))
    var meter = ProgressMeter(console: console, label: "CKA batches", total: 0)
    let result = try estimator.similarities(a, b, kernel: kernel) { done, total in meter.update(done, of: total) }
    meter.finish()
    for line in result.messages { console.warn(line) }
    if let save {
      let m = result.matrix.values
      try NPYWriter.write(m.elements, shape: [m.rows, m.columns], to: save)
    }
    if let heatmap { try CKAFigures.writeHeatmap(result.matrix, to: heatmap) }
    console.write(arguments.flag("--json") ? result.json().serialized(pretty: true) + "\n" : result.text)
  }

  /// Comma-separated names, or `nil` when the option was not given.
  static func list(_ text: String?) -> [String]? {
    text.map { $0.split(separator: ",").map { String($0.trimmingSpaces) }.filter { !$0.isEmpty } }
  }
}
