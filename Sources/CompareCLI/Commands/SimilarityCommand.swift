import Compare
import Synchronization

/// `compare similarity A B`: several representation similarity measures (CKA, CCA, SVCCA,
/// PWCCA, Procrustes, linear regression) between every layer of model A and every layer of B.
enum SimilarityCommand: Command {
  static let spec = CommandSpec(
    name: "similarity",
    overview: "Layer-by-layer representation similarity: CKA, CCA, SVCCA, PWCCA, Procrustes, regression, RSA, k-NN, dCor.",
    arguments: ActivationOptions.arguments,
    options: [
      OptionSpec("--measure", value: "list",
                 help: "Measures, comma-separated, or all: \(MeasureName.allCases.map(\.rawValue).joined(separator: ", ")).",
                 default: "all"),
    ] + ActivationOptions.selection + [
      OptionSpec("--cca-tolerance", value: "t",
                 help: "Singular values below t × the largest do not count in the ranks of cca, pwcca and linreg.",
                 default: MeasureSettings.defaultTolerance),
      OptionSpec("--svcca-variance", value: "f", help: "Fraction of each layer's variance SVCCA keeps.",
                 default: MeasureSettings.defaultSVCCAVariance),
      OptionSpec("--ridge", value: "λ", help: "Ridge penalty of linreg (0: least squares).", default: 0.0),
      OptionSpec("--heatmap", value: "prefix",
                 help: "Draw one heatmap per measure, PREFIX-<measure>.png (.svg when PREFIX ends in .svg)."),
      OptionSpec("--knn", value: "k", help: "Neighbours per example of mknn and cknna (cknna needs k ≥ 2).",
                 default: MeasureSettings.defaultNeighbours),
    ],
    discussion: """
      Rows are model A's layers, columns model B's; linreg is the R² of predicting the column's
      layer from the row's. Each layer is centred in float64 and decomposed once. A constant layer
      has no value (null in JSON) and a warning names it; any other null value has a warning saying
      why (rsa on 2 examples). A layer whose centred rank reaches the examples less one (as many
      features as examples, none redundant) makes cca, pwcca and linreg trivially 1, and a
      warning says so. rsa and dcor keep an n×n matrix per layer:
      when they would not fit in 4 GiB the command stops and says how many examples (--examples) do.
      """,
    examples: [
      "compare similarity mlp.safetensors cnn.npz",
      "compare similarity a.npz b.npz --measure cka,pwcca,procrustes --examples 1000 --json",
      "compare similarity a.npz b.npz --measure cka,rsa --heatmap figures/sim.svg",
    ])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let measures: [MeasureName]
    switch MeasureName.list(arguments.string("--measure")!) {
    case .success(let names) where !names.isEmpty: measures = names
    case .success: throw UsageError("--measure expects at least one measure", command: spec.name)
    case .failure(let error):
      throw UsageError("--measure: unknown measure '\(error.word)' (expected all or \(MeasureName.allCases.map(\.rawValue).joined(separator: ", ")))",
                       command: spec.name)
    }
    let settings = MeasureSettings(
      tolerance: try arguments.double("--cca-tolerance", in: 0...1),
      svccaVariance: try arguments.double("--svcca-variance", in: 0...1),
      ridge: try arguments.double("--ridge", in: 0...Double.greatestFiniteMagnitude),
      neighbours: try arguments.int("--knn", in: 1...Int.max))
    if measures.contains(.cknna), settings.neighbours < 2 {
      throw UsageError("--knn must be at least 2 for cknna, got \(settings.neighbours)", command: spec.name)
    }
    let heatmap = arguments.string("--heatmap")
    if let heatmap {
      try arguments.checkOutputs(measures.map { ("--heatmap", SimilarityFigures.path(prefix: heatmap, measure: $0.rawValue)) },
                                 inputs: [], more: arguments.positionals.map { (option: "<models>", reference: $0) })
      for name in measures {
        try AtomicFile.checkDestination(SimilarityFigures.path(prefix: heatmap, measure: name.rawValue))
      }
    }
    let (a, b) = try ActivationOptions.pair(arguments)
    let meter = Mutex(ProgressMeter(console: console, label: "similarity: layers and pairs", total: 0))
    defer { meter.withLock { $0.finish() } }
    let report = try SimilarityReport(a, b, measures: measures, settings: settings) { done, total in
      meter.withLock { $0.update(done, of: total) }
    }
    meter.withLock { $0.finish() }
    for line in report.messages { console.warn(line) }
    if let heatmap { try SimilarityFigures.writeHeatmaps(report, prefix: heatmap) }
    console.write(arguments.flag("--json") ? report.json().serialized(pretty: true) + "\n" : report.text)
  }
}
