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
      OptionSpec("-k", value: "k", help: "Neighbours that vote.", default: "3"),
      OptionSpec("--weighting", value: "scheme", help: "Vote weights: none, power:P or softmax:T, as in 'compare kernel'.", default: "none"),
      OptionSpec("--ties", value: "rule", help: "Vote ties, as in 'compare kernel'.", default: "smallest-label",
                 values: KernelKNN.TieRule.allCases.map(\.rawValue)),
    ],
    discussion: "The shards must cover consecutive test rows without gaps or overlaps and hold the same number of neighbours.",
    examples: ["compare kernel merge -o neighbors.npz shards/neighbors-*.npz --test-labels runs.npz:labels --train-labels runs.npz:labels_train"])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let files = arguments.positionals
    let output = arguments.string("--output")!
    let k = try arguments.int("-k", default: 3, in: 1...Int.max)
    guard let weighting = KernelKNN.Weighting(arguments.string("--weighting") ?? "none") else {
      throw UsageError("--weighting expects none, power:P (P ≥ 0) or softmax:T (T > 0), got '\(arguments.string("--weighting")!)'",
                       command: spec.name)
    }
    let ties = KernelKNN.TieRule(rawValue: arguments.string("--ties") ?? "smallest-label") ?? .smallestLabel
    let testReference = arguments.string("--test-labels"), trainReference = arguments.string("--train-labels")
    guard (testReference == nil) == (trainReference == nil) else {
      throw UsageError("--test-labels and --train-labels go together", command: spec.name)
    }
    try AtomicFile.checkDestination(output)
    let shards = try files.map { try KernelNeighborsFile.read($0) }
    // By first row; shards that start on the same row stay in command-line order.
    let order = shards.indices.sorted { (shards[$0].rows.lowerBound, $0) < (shards[$1].rows.lowerBound, $1) }
    try checkCoverage(order.map { (files[$0], shards[$0]) })
    let merged = try Neighbors.merging(shards)
    var accuracy: Double?
    if let testReference, let trainReference {
      let testLabels = try TensorReference(testReference).tensor().integers().map { Int($0) }
      let trainLabels = try TensorReference(trainReference).tensor().integers().map { Int($0) }
      for (reference, labels) in [(testReference, testLabels), (trainReference, trainLabels)] {
        if let i = labels.firstIndex(where: { $0 < 0 }) {
          throw InputError("\(reference)[\(i)] = \(labels[i]) is negative; labels are classes 0, 1, ...")
        }
      }
      guard merged.rows.upperBound <= testLabels.count else {
        throw InputError("\(testReference) has \(testLabels.count) labels but the shards cover test rows up to \(merged.rows.upperBound)")
      }
      guard k <= merged.count else {
        throw InputError("-k \(k) exceeds the \(merged.count) neighbours the shards hold")
      }
      // The vote runs over the distinct training labels, in increasing order (so that ties still
      // go to the smallest label): labels as large as 2⁶³ − 1 need no vote array of that size.
      let distinct = Set(trainLabels).sorted()
      let dense = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
      accuracy = try KernelKNN(k: k, weighting: weighting, ties: ties)
        .accuracy(merged, trainLabels: trainLabels.map { dense[$0] ?? -1 }, testLabels: testLabels.map { dense[$0] ?? -1 },
                  classes: distinct.count)
    }
    try KernelNeighborsFile.write(merged, to: output)
    if arguments.flag("--json") {
      var pairs: [(String, JSONValue)] = [
        ("shards", .int(files.count)),
        ("rows", .array([.int(merged.rows.lowerBound), .int(merged.rows.upperBound)])),
        ("test_examples", .int(merged.rows.count)),
        ("neighbors", .int(merged.count)),
        ("output", .string(output)),
      ]
      if let accuracy { pairs += [("k", .int(k)), ("kernel_accuracy", .double(accuracy))] }
      console.print(JSONValue.object(pairs).serialized(pretty: true))
      return
    }
    console.print("merged \(files.count) shards: test rows \(merged.rows.lowerBound)..<\(merged.rows.upperBound), \(merged.count) neighbours each, into \(output)")
    if let accuracy {
      var method = "k-NN w/ k=\(k)"
      if weighting != .none { method += ", \(weighting)" }
      if ties != .smallestLabel { method += ", ties \(ties.rawValue)" }
      console.print(Format.left("kernel accuracy (\(method))", 32) + ": " + Format.fixed(100 * accuracy, 2))
    }
  }

  /// Names the files when shards, sorted by first row, differ in K, overlap or leave a gap.
  static func checkCoverage(_ sorted: [(file: String, shard: Neighbors)]) throws {
    for (previous, next) in zip(sorted, sorted.dropFirst()) {
      guard next.shard.count == previous.shard.count else {
        throw InputError("\(next.file): holds \(next.shard.count) neighbours per row but \(previous.file) holds \(previous.shard.count)")
      }
      let end = previous.shard.rows.upperBound, start = next.shard.rows.lowerBound
      if start < end {
        throw InputError("\(next.file): rows \(start):\(min(end, next.shard.rows.upperBound)) are also in \(previous.file)")
      }
      if start > end {
        throw InputError("\(next.file): starts at row \(start) but \(previous.file) ends at row \(end); rows \(end):\(start) are in no shard")
      }
    }
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
