import Compare

/// `compare kernel merge`: joins the neighbour files of row shards (`compare kernel --rows
/// START:END --save-neighbors`) into one, and scores it when labels are given.
enum KernelMergeCommand: Command {
  static let spec = CommandSpec(
    name: "kernel merge",
    overview: "Merge neighbour files of row shards into one.",
    arguments: [ArgumentSpec("shards", help: "Neighbour files (.npz) written with --rows and --save-neighbors, in any order.",
                             repeated: true)],
    options: [
      OptionSpec("-o", "--output", value: "file", help: "The merged neighbour file (.npz).", required: true),
      OptionSpec("--test-labels", value: "ref", help: "With --train-labels: also print the kernel k-NN accuracy of the merged neighbours."),
      OptionSpec("--train-labels", value: "ref", help: "Integer labels of the training examples."),
    ] + KernelOptions.mergeVoting,
    discussion: "The shards must cover consecutive test rows without gaps or overlaps and hold the same number of neighbours.",
    examples: ["compare kernel merge -o neighbors.npz shards/neighbors-*.npz --test-labels runs.npz:labels --train-labels runs.npz:labels_train"])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let output = arguments.string("--output")!
    let knn = try KernelOptions.knn(arguments, sweep: true)
    let ks = try KernelOptions.kValues(arguments)
    let testReference = arguments.string("--test-labels"), trainReference = arguments.string("--train-labels")
    guard (testReference == nil) == (trainReference == nil) else {
      throw UsageError("--test-labels and --train-labels go together", command: spec.name)
    }
    try arguments.checkOutputs([("-o", output)], inputs: ["--test-labels", "--train-labels"],
                               more: arguments.positionals.map { ("<shards>", $0) })
    guard output.lowercased().hasSuffix(".npz") else {
      throw UsageError("-o writes an .npz archive (indices, values, rows), got '\(output)'", command: spec.name)
    }
    let labels = testReference.map { ($0, trainReference!) }
    let merge = try NeighborsMerge(files: arguments.positionals, output: output, labels: labels, knn: knn,
                                   sweep: ks.count > 1 ? ks : [])
    console.write(arguments.flag("--json") ? merge.json().serialized(pretty: true) + "\n" : merge.text)
  }
}
