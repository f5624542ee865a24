import Compare

/// `compare ensemble`: what many runs of one recipe do on a labelled test set, from their test
/// logits alone (accuracy and its spread, variance analysis, calibration, disagreement,
/// per-example stability), or two configurations compared example by example.
enum EnsembleCommand: Command {
  static let defaults = EnsembleRequest()

  /// `--test` and `--test-labels` as `compare kernel` declares them; `--train` and
  /// `--train-labels` likewise, but optional.
  static let sources: [OptionSpec] = KernelOptions.sources.compactMap { option in
    switch option.key {
    case "--test", "--test-labels": return option
    case "--train", "--train-labels":
      var optional = option
      optional.isRequired = false
      optional.help += " With --sizes: adds the kernel k-NN accuracy."
      return optional
    default: return nil
    }
  }

  static let spec = CommandSpec(
    name: "ensemble",
    overview: "Many runs of one recipe: accuracy spread, variance analysis, calibration, disagreement, unstable examples.",
    options: [sources[0], sources[2]] + [
      OptionSpec("--tta", value: "ref", help: "Test-time-augmented logits of the same runs, shown beside the plain ones. Repeatable like --test.",
                 repeatable: true),
      OptionSpec("--against", value: "ref", help: "Another configuration's logits on the same examples: compare the two example by example. Repeatable like --test.",
                 repeatable: true),
      OptionSpec("--top", value: "n", help: "Examples listed: the least stable, or with --against the most changed.", default: defaults.top),
      OptionSpec("--save-examples", value: "file", help: "Write the per-example arrays (.npz): p_correct, margin_mean, margin_std, entropy, ensemble_prediction; with --against instead p_correct, p_correct_against, p_correct_difference, p_value, ensemble_prediction, ensemble_prediction_against."),
      OptionSpec("--sizes", value: "list", help: "Also report accuracies of smaller ensembles of these comma-separated sizes, as a table."),
      OptionSpec("--resamples", value: "R", help: "With --sizes: random subsets per size, reported as mean ± std (1: the first n runs).", default: defaults.resamples),
      OptionSpec("--seed", value: "S", help: "Seed of the random subsets.", default: defaults.seed),
      OptionSpec("--figure", value: "file", help: "With --sizes: plot accuracy against ensemble size (.png or .svg)."),
      sources[1], sources[3],
    ] + KernelOptions.voting + [
      KernelOptions.memory(help: "Memory for the logits read at once (at most 64 MiB are used) and the kernel's normalised logits.",
                           default: defaults.memory),
    ],
    discussion: """
      For each run, the test accuracy (argmax of its logits); their mean, std (N − 1) and 95 %
      interval of the mean; the variance analysis of eval_kernel.py (Calibrated Chaos, arXiv
      2304.01910, Theorem 2); the ensemble's accuracy (argmax of the mean logits, and of the mean
      softmax); ECE (15 bins), NLL and Brier score of the ensemble and of single runs; the mean
      fraction of examples on which two runs disagree. Runs are streamed: memory does not grow
      with their number. Tables print percent; --json gives fractions.
      """,
    examples: [
      "compare ensemble --test runs.npz:logits --test-labels runs.npz:labels",
      "compare ensemble --test a.pt:logits --test b.pt:logits --tta a.pt:logits_tta --tta b.pt:logits_tta --test-labels y.npy",
      "compare ensemble --test main.pt:logits --against nosmoothing.pt:logits --test-labels y.npy --save-examples changed.npz",
      "compare ensemble --test runs.npz:logits --test-labels runs.npz:labels --sizes 2,4,8,16 --resamples 10 --figure sizes.png",
    ])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    var request = EnsembleRequest()
    request.top = try arguments.int("--top", in: 0...Int.max)
    request.resamples = try arguments.int("--resamples", in: 1...Int.max)
    request.seed = UInt64(try arguments.int("--seed", in: 0...Int.max) as Int)
    request.memory = try arguments.double("--memory", in: 0.01...65536)
    request.knn = try KernelOptions.knn(arguments, sweep: false)
    request.saveExamples = arguments.string("--save-examples")
    request.figure = arguments.string("--figure")
    if let text = arguments.string("--sizes") {
      request.sizes = try arguments.distinctList("--sizes", text) { part in
        guard let n = Int(part.trimmingSpaces), n >= 1 else {
          throw UsageError("--sizes expects a comma-separated list of run counts ≥ 1, got '\(text)'", command: spec.name)
        }
        return n
      }
    }
    if let figure = request.figure {
      guard !request.sizes.isEmpty else { throw UsageError("--figure needs --sizes", command: spec.name) }
      guard FigureFormat(path: figure) != nil else {
        throw UsageError("--figure expects a .png or .svg file, got '\(figure)'", command: spec.name)
      }
    }
    if arguments.given("--resamples"), request.sizes.isEmpty {
      throw UsageError("--resamples needs --sizes", command: spec.name)
    }
    if arguments.given("--train") != arguments.given("--train-labels") {
      throw UsageError("--train and --train-labels go together", command: spec.name)
    }
    if arguments.given("--tta"), arguments.given("--against") {
      throw UsageError("--tta and --against cannot be combined", command: spec.name)
    }
    try arguments.checkOutputs([("--save-examples", request.saveExamples), ("--figure", request.figure)],
                               inputs: ["--test", "--test-labels", "--tta", "--against", "--train", "--train-labels"])
    for path in [request.figure, request.saveExamples].compactMap({ $0 }) { try AtomicFile.checkDestination(path) }
    let inputs = try EnsembleInputs(test: arguments.strings("--test"), labels: arguments.string("--test-labels")!,
                                    tta: arguments.strings("--tta"), against: arguments.strings("--against"),
                                    train: arguments.strings("--train"), trainLabels: arguments.string("--train-labels"))
    var meter = ProgressMeter(console: console, label: "ensemble", total: 100)
    let result = try request.run(inputs) { done, total in meter.update(total > 0 ? 100 * done / total : 100) }
    meter.finish()
    console.write(arguments.flag("--json") ? result.json().serialized(pretty: true) + "\n" : result.text)
  }
}
