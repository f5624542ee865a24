import Compare

/// Options shared by `compare kernel`, `kernel pairs` and `kernel merge`, declared once, and
/// reading them.
enum KernelOptions {
  static let sources: [OptionSpec] = [
    OptionSpec("--test", value: "ref", help: "Test logits [models, examples, classes] (FILE or FILE:KEY; .npy, .npz, .safetensors, .pt). Repeat to join shards along the model axis.",
               required: true, repeatable: true),
    OptionSpec("--train", value: "ref", help: "Training logits, same models in the same order. Repeatable like --test.",
               required: true, repeatable: true),
    OptionSpec("--test-labels", value: "ref", help: "Integer labels of the test examples, shape [examples].", required: true),
    OptionSpec("--train-labels", value: "ref", help: "Integer labels of the training examples.", required: true),
    OptionSpec("--models", value: "n", help: "Use the first n models. (default: all)"),
  ]

  static let kernel: [OptionSpec] = [
    OptionSpec("--class", value: "c", help: "Use only class c's correlation kernel (the per-class kernel). (default: the mean over all classes)"),
    OptionSpec("--no-log-softmax", help: "Standardise the raw logits, without the log-softmax over classes."),
    memory(help: "Memory for normalised logits and kernel blocks; past it models are streamed in chunks.",
           default: Double(CorrelationKernel.Options().memoryLimit) / Double(1 << 30)),
  ]

  /// `--memory <GiB>`, as `kernel`, `kernel pairs` and `ensemble` declare it: the default (the
  /// library's, in GiB) shown the same way in each help, `4` rather than `4.0`.
  static func memory(help: String, default gibibytes: Double) -> OptionSpec {
    OptionSpec("--memory", value: "GiB", help: help, default: Format.general(gibibytes, 6))
  }

  /// The vote with one k: `-k`, `--weighting`, `--ties`.
  static let voting: [OptionSpec] = votingOptions(
    k: "Neighbours that vote: one k, not a list (a k sweep is compare kernel's).")

  /// `voting` with `compare kernel`'s `-k`, which also takes a list: a k sweep.
  static let sweepVoting: [OptionSpec] = votingOptions(
    k: "Neighbours that vote; or a comma-separated list (1,3,5,...): a k sweep, every k's accuracy from one neighbour pass (kernel_accuracy is the first k's).")

  /// `voting` with `compare kernel merge`'s `-k`, a sweep like `compare kernel`'s.
  static let mergeVoting: [OptionSpec] = votingOptions(
    k: "Neighbours that vote; or a comma-separated list (1,3,5,...): a k sweep, every k's accuracy from the merged neighbours (kernel_accuracy is the first k's).")

  static func votingOptions(k help: String) -> [OptionSpec] {
    [
      OptionSpec("-k", value: "k", help: help, default: 3),
      OptionSpec("--weighting", value: "scheme", help: "Vote weights by kernel value κ: none, power:P (max(κ,0)^P) or softmax:T (exp(κ/T)).",
                 default: KernelKNN.Weighting.none),
      OptionSpec("--ties", value: "rule", help: "Vote ties: the smallest label (torch.mode, as the reference) or the largest summed kernel value.",
                 default: KernelKNN.TieRule.smallestLabel.rawValue, values: KernelKNN.TieRule.allCases.map(\.rawValue)),
    ]
  }

  /// The test and training logits and labels.
  static func inputs(_ arguments: ParsedArguments) throws -> KernelInputs {
    try KernelInputs(test: arguments.strings("--test"), train: arguments.strings("--train"),
                     testLabels: arguments.string("--test-labels")!, trainLabels: arguments.string("--train-labels")!)
  }

  /// `--class`, `--no-log-softmax` and `--memory`; the class is checked against the logits.
  static func kernelOptions(_ arguments: ParsedArguments, classes: Int) throws -> CorrelationKernel.Options {
    let classIndex: Int? = try arguments.int("--class", in: 0...Int.max)
    if let c = classIndex, c >= classes {
      throw UsageError("--class \(c) is out of range: the logits have \(classes) classes (0...\(classes - 1))",
                       command: arguments.spec.name)
    }
    return CorrelationKernel.Options(memory: try arguments.double("--memory", in: 0.01...65536),
                                     logSoftmax: !arguments.flag("--no-log-softmax"), classIndex: classIndex)
  }

  /// `-k` as a list (`-k 1,3,5`: a sweep), each a positive integer, none twice.
  static func kValues(_ arguments: ParsedArguments) throws -> [Int] {
    let text = arguments.string("-k")!
    return try arguments.distinctList("-k", text) { part in
      guard let k = Int(part.trimmingSpaces), k >= 1 else {
        let what = text.contains(",") ? "a comma-separated list of positive integers" : "a positive integer"
        throw UsageError("-k expects \(what), got '\(text)'", command: arguments.spec.name)
      }
      return k
    }
  }

  /// `-k` of a command that votes with one k only (`voting`): a list is a usage mistake.
  static func singleK(_ arguments: ParsedArguments) throws -> Int {
    let text = arguments.string("-k")!
    guard let k = Int(Substring(text).trimmingSpaces), k >= 1 else {
      let list = text.contains(",") ? " (compare \(arguments.spec.name) takes one k)" : ""
      throw UsageError("-k expects a positive integer, got '\(text)'\(list)", command: arguments.spec.name)
    }
    return k
  }

  /// `-k` (the first value of a sweep, or the only one of a command without), `--weighting` and
  /// `--ties` as a vote.
  static func knn(_ arguments: ParsedArguments, sweep: Bool) throws -> KernelKNN {
    let k = sweep ? try kValues(arguments)[0] : try singleK(arguments)
    let text = arguments.string("--weighting")!
    guard let weighting = KernelKNN.Weighting(text) else {
      throw UsageError("--weighting expects none, power:P (P ≥ 0) or softmax:T (T > 0), got '\(text)'",
                       command: arguments.spec.name)
    }
    return KernelKNN(k: k, weighting: weighting, ties: arguments.choice("--ties"))
  }
}
