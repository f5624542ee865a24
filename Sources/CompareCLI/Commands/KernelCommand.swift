import Compare

/// `compare kernel`: k-NN inference over an ensemble's logits with the correlation kernel,
/// beside the single-model and ensemble accuracies, as the reference code prints them.
enum KernelCommand: Command {
  static let spec = CommandSpec(
    name: "kernel",
    overview: "Ensemble correlation kernel: k-NN over many models' logits.",
    options: KernelOptions.sources + KernelOptions.sweepVoting + KernelOptions.kernel + [
      OptionSpec("--sizes", value: "list", help: "Also report accuracies for the first n models for each n in this comma-separated list, as a table."),
      OptionSpec("--figure", value: "file", help: "With --sizes: plot accuracy against ensemble size (.png or .svg)."),
      OptionSpec("--rows", value: "start:end", help: "Only test examples START..<END (a row shard of a job array; END is clamped)."),
      OptionSpec("--save-neighbors", value: "file", help: "Write the top neighbours of each test example: .npz with indices (int64 [test, K]), values (float32 [test, K]) and rows."),
      OptionSpec("--neighbors", value: "K", help: "Neighbours per example written by --save-neighbors. (default: the largest -k)"),
      OptionSpec("--save-kernel", value: "file", help: "Write the whole kernel, float32 [test, train], as .npy (streamed by row blocks)."),
      OptionSpec("--plan", help: "Print the work (flops, bytes read, passes), the memory and the estimated time at this machine's measured rates, without computing."),
    ],
    discussion: """
      The kernel of test example i and training example j is the mean over classes of the
      correlation, across models, of their log-softmax outputs: Z = standardize over models of
      log_softmax(logits); kernel = Z_test · Z_trainᵀ / (models · classes). Each test example is
      predicted by a vote of its k most similar training examples. Printed: the average
      single-model accuracy, the ensemble accuracy (argmax of the mean logits) and the kernel
      k-NN accuracy, in percent; --json gives fractions.

      -k 1,3,5,7,9,11,15,25,51,101 is a k sweep from one neighbour pass (the largest k), as the
      reference's eval_kernel.py prints it; kernel_accuracy stays the first k's. The published
      95.53 % on 20,000 CIFAR-10 runs is -k 20 --weighting power:4 (votes weighted by kernel
      value⁴). Compare clamps negative kernel values to 0 before the power; the reference
      raises them to the 4th power too, which only matters when a top-20 neighbour has a
      negative kernel value (see the README).
      """,
    examples: [
      "compare kernel --test runs.npz:logits --train runs.npz:logits_train --test-labels runs.npz:labels --train-labels runs.npz:labels_train",
      "compare kernel --test a.pt:logits --test b.pt:logits --train a.pt:logits_train --train b.pt:logits_train --test-labels y.npy --train-labels y_train.npy --weighting power:4",
    ])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let knn = try KernelOptions.knn(arguments, sweep: true)
    var request = KernelRequest(k: knn.k, weighting: knn.weighting, ties: knn.ties)
    let ks = try KernelOptions.kValues(arguments)
    if ks.count > 1 { request.sweep = ks }
    request.neighborCount = try arguments.int("--neighbors", in: 1...Int.max)
    request.sizes = try parseSizes(arguments)
    request.rows = try parseRows(arguments)
    request.models = try arguments.int("--models", in: 1...Int.max)
    request.saveKernel = arguments.string("--save-kernel")
    let figure = arguments.string("--figure"), saveNeighbors = arguments.string("--save-neighbors")
    if let figure {
      guard !request.sizes.isEmpty else { throw UsageError("--figure needs --sizes", command: spec.name) }
      guard FigureFormat(path: figure) != nil else {
        throw UsageError("--figure expects a .png or .svg file, got '\(figure)'", command: spec.name)
      }
    }
    if request.neighborCount != nil, saveNeighbors == nil {
      throw UsageError("--neighbors needs --save-neighbors", command: spec.name)
    }
    try arguments.checkOutputs([("--save-kernel", request.saveKernel), ("--save-neighbors", saveNeighbors), ("--figure", figure)],
                               inputs: ["--test", "--train", "--test-labels", "--train-labels"])
    if let saveNeighbors, !saveNeighbors.lowercased().hasSuffix(".npz") {
      throw UsageError("--save-neighbors writes an .npz archive (indices, values, rows), got '\(saveNeighbors)'", command: spec.name)
    }
    if let kept = request.neighborCount, kept < request.largestK {
      console.warn("note: --neighbors \(kept) keeps fewer neighbours than -k \(request.largestK); merged shards of this run can score k ≤ \(kept) only")
    }
    for path in [figure, saveNeighbors, request.saveKernel].compactMap({ $0 }) { try AtomicFile.checkDestination(path) }
    let inputs = try KernelOptions.inputs(arguments)
    request.options = try KernelOptions.kernelOptions(arguments, classes: inputs.test.classes)

    if arguments.flag("--plan") {
      let plan = try request.plan(inputs)
      console.write(arguments.flag("--json") ? plan.json().serialized(pretty: true) + "\n" : plan.text)
      return
    }
    if let plan = request.longRunPlan(inputs) {
      console.warn("note: about \(KernelRunPlan.duration(plan.estimatedSeconds)) of work (--plan shows the estimate)")
    }
    var meter = ProgressMeter(console: console, label: "kernel", total: 100)
    let result = try request.run(inputs) { done, total in meter.update(total > 0 ? 100 * done / total : 100) }
    meter.finish()
    if let saveNeighbors {
      try NeighborsFile.write(result.main.neighbors.prefix(request.neighborsKept), to: saveNeighbors)
    }
    if let figure { try KernelFigures.sizes(result.sizes, k: request.k, to: figure) }
    console.write(arguments.flag("--json") ? result.json().serialized(pretty: true) + "\n" : result.text)
  }

  static func parseSizes(_ arguments: ParsedArguments) throws -> [Int] {
    guard let text = arguments.string("--sizes") else { return [] }
    return try arguments.distinctList("--sizes", text) { part in
      guard let n = Int(part.trimmingSpaces), n >= 2 else {
        throw UsageError("--sizes expects a comma-separated list of model counts ≥ 2, got '\(text)'", command: spec.name)
      }
      return n
    }
  }

  /// `--rows START:END` (END is clamped to the test set by the library, so job arrays may overshoot).
  static func parseRows(_ arguments: ParsedArguments) throws -> Range<Int>? {
    guard let text = arguments.string("--rows") else { return nil }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]), start >= 0, end > start else {
      throw UsageError("--rows expects START:END with 0 ≤ START < END, got '\(text)'", command: spec.name)
    }
    return start..<end
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
