import Compare

/// `compare kernel pairs`: the test examples ranked by their kernel similarity to their
/// nearest training example (near-duplicates first), and the confident failures (the nearest
/// training example has another label), with an optional image grid and a feature baseline.
enum KernelPairsCommand: Command {
  static let spec = CommandSpec(
    name: "kernel pairs",
    overview: "Near-duplicate train/test pairs and confident failures by kernel value.",
    options: KernelInputs.sourceOptions + KernelInputs.kernelOptions + [
      OptionSpec("--top", value: "n", help: "Rows in each table.", default: "10"),
      OptionSpec("--start", value: "rank", help: "First rank shown (1 is the most similar pair).", default: "1"),
      OptionSpec("--neighbors", value: "K", help: "Nearest training examples shown per test example in the image grid.", default: "3"),
      OptionSpec("--images", value: "ref", help: "Test images (uint8 or float, [N,H,W], [N,H,W,C] or [N,C,H,W]): draw a PNG grid of each test image beside its nearest training images."),
      OptionSpec("--train-images", value: "ref", help: "Training images. (default: the --images key with _train appended)"),
      OptionSpec("--features", value: "ref", help: "Baseline: test features of one model ([N, features]), ranked by cosine similarity."),
      OptionSpec("--train-features", value: "ref", help: "Training features. (default: the --features key with _train appended)"),
      OptionSpec("--grid", value: "file", help: "The image grid (.png) written with --images.", default: "kernel-pairs.png"),
    ],
    discussion: """
      Pairs: test examples ordered by the kernel value of their most similar training example;
      high values are near-duplicates. Failures: the same order, keeping the test examples whose
      most similar training example has another label. With --features, the same ranking by
      cosine similarity of the features, for comparison.
      """,
    examples: ["compare kernel pairs --test d.npz:logits --train d.npz:logits_train --test-labels d.npz:labels --train-labels d.npz:labels_train --images d.npz:images --features d.npz:features"])

  /// One row of a pairs table.
  struct Pair {
    var rank: Int
    var test: Int
    var testLabel: Int
    var train: Int
    var trainLabel: Int
    var value: Float
  }

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let top = try arguments.int("--top", default: 10, in: 1...Int.max)
    let start = try arguments.int("--start", default: 1, in: 1...Int.max)
    let shown = try arguments.int("--neighbors", default: 3, in: 1...Int.max)
    if let grid = arguments.string("--grid"), FigureFormat(path: grid) == nil {
      throw UsageError("--grid expects a .png or .svg file, got '\(grid)'", command: spec.name)
    }
    for (option, needed) in [("--grid", "--images"), ("--train-images", "--images"), ("--train-features", "--features")]
    where arguments.string(option) != nil && arguments.string(needed) == nil {
      throw UsageError("\(option) needs \(needed)", command: spec.name)
    }
    if arguments.string("--images") != nil { try AtomicFile.checkDestination(arguments.string("--grid") ?? "kernel-pairs.png") }
    let (test, train) = try KernelInputs.sources(arguments)
    let testLabels = try KernelInputs.labels(arguments.string("--test-labels")!, for: test)
    let trainLabels = try KernelInputs.labels(arguments.string("--train-labels")!, for: train)
    let options = try KernelInputs.options(arguments, classes: test.classes)
    guard shown <= train.examples else {
      throw InputError("--neighbors \(shown) is larger than the \(train.examples) training examples")
    }
    let kernel = try CorrelationKernel(test: test, train: train, models: KernelInputs.models(arguments),
                                       options: options)
    var meter = ProgressMeter(console: console, label: "kernel (\(kernel.models) models)", total: 100)
    let neighbors = try kernel.neighbors(count: shown) { done, total in meter.update(100 * done / max(total, 1)) }
    meter.finish()
    let (pairs, failures) = tables(neighbors, testLabels: testLabels, trainLabels: trainLabels, start: start, top: top)

    var featurePairs: [Pair]?
    var featureNeighbors: Neighbors?
    if let reference = arguments.string("--features") {
      let trainReference = try arguments.string("--train-features") ?? suffixed(reference, option: "--features")
      let x = try features(reference, rows: test.examples)
      let y = try features(trainReference, rows: train.examples)
      guard x.columns == y.columns else {
        throw InputError("\(trainReference): features have \(y.columns) columns but \(reference) has \(x.columns)")
      }
      let n = try Neighbors.byCosineSimilarity(test: x, train: y, count: shown)
      featureNeighbors = n
      featurePairs = tables(n, testLabels: testLabels, trainLabels: trainLabels, start: start, top: top).pairs
    }
    if let reference = arguments.string("--images") {
      let trainReference = try arguments.string("--train-images") ?? suffixed(reference, option: "--images")
      try writeGrid(pairs: pairs, failures: failures, neighbors: neighbors, featureNeighbors: featureNeighbors,
                    featurePairs: featurePairs, testImages: reference, trainImages: trainReference,
                    testLabels: testLabels, trainLabels: trainLabels, to: arguments.string("--grid") ?? "kernel-pairs.png")
    }

    if arguments.flag("--json") {
      func json(_ rows: [Pair], _ similarity: String) -> JSONValue {
        .array(rows.map { p in
          .object([("rank", .int(p.rank)), ("test_index", .int(p.test)), ("test_label", .int(p.testLabel)),
                   ("train_index", .int(p.train)), ("train_label", .int(p.trainLabel)), (similarity, .double(Double(p.value)))])
        })
      }
      var fields: [(String, JSONValue)] = [
        ("models", .int(kernel.models)), ("test_examples", .int(test.examples)),
        ("train_examples", .int(train.examples)), ("classes", .int(test.classes)),
        ("pairs", json(pairs, "kernel")), ("failures", json(failures, "kernel")),
      ]
      if let featurePairs { fields.append(("feature_pairs", json(featurePairs, "cosine_similarity"))) }
      console.print(JSONValue.object(fields).serialized(pretty: true))
      return
    }
    console.print("Most similar test/train pairs by kernel value (\(kernel.models) models)")
    console.print(table(pairs, valueHeader: "kernel"))
    console.print("Confident failures: the nearest training example has another label")
    console.print(failures.isEmpty ? "(none)\n" : table(failures, valueHeader: "kernel"))
    if let featurePairs {
      console.print("Baseline: most similar pairs by cosine similarity of the features")
      console.print(table(featurePairs, valueHeader: "cosine"))
    }
    if arguments.string("--images") != nil {
      console.print("Image grid written to \(arguments.string("--grid") ?? "kernel-pairs.png")")
    }
  }

  /// The ranked pairs from rank `start` on, `top` of them, and the failures likewise.
  static func tables(_ neighbors: Neighbors, testLabels: [Int], trainLabels: [Int], start: Int,
                     top: Int) -> (pairs: [Pair], failures: [Pair]) {
    let ranked = neighbors.rankedByNearest()
    var all: [Pair] = []
    for (r, i) in ranked.enumerated() {
      let j = neighbors.indices(of: i).first!
      all.append(Pair(rank: r + 1, test: i, testLabel: testLabels[i], train: j, trainLabel: trainLabels[j],
                      value: neighbors.values(of: i).first!))
    }
    let failing = all.filter { $0.testLabel != $0.trainLabel }
    var failures: [Pair] = []
    for (r, p) in failing.enumerated() {
      var q = p
      q.rank = r + 1
      failures.append(q)
    }
    func window(_ rows: [Pair]) -> [Pair] { Array(rows.dropFirst(start - 1).prefix(top)) }
    return (window(all), window(failures))
  }

  static func table(_ rows: [Pair], valueHeader: String) -> String {
    Format.table(header: ["rank", "test", "label", "train", "label", valueHeader],
                 rows: rows.map { p in
                   [String(p.rank), String(p.test), String(p.testLabel), String(p.train), String(p.trainLabel),
                    Format.fixed(Double(p.value), 4)]
                 }, rightAligned: [0, 1, 2, 3, 4, 5])
  }

  /// `FILE:KEY` → `FILE:KEY_train`, the bundled data's naming.
  static func suffixed(_ reference: String, option: String) throws -> String {
    let parsed = TensorReference(reference)
    guard let key = parsed.key else {
      throw UsageError("\(option) \(reference) names no key, so the training tensor cannot be guessed; give --train-\(option.dropFirst(2))",
                       command: spec.name)
    }
    return "\(parsed.path):\(key)_train"
  }

  static func features(_ reference: String, rows: Int) throws -> Matrix<Float> {
    let tensor = try TensorReference(reference).tensor()
    guard tensor.shape.count == 2, tensor.shape[0] == rows, tensor.shape[1] > 0, tensor.dtype != .bool else {
      throw InputError("\(reference): features have shape \(tensor.shapeDescription); expected [\(rows), features]")
    }
    let matrix = try tensor.matrix(Float.self)
    if let bad = matrix.elements.firstIndex(where: { !$0.isFinite }) {
      throw InputError("\(reference): feature [\(bad / matrix.columns), \(bad % matrix.columns)] is \(matrix.elements[bad])")
    }
    return matrix
  }

  /// One PNG/SVG: each listed pair's test image beside its nearest training images by kernel,
  /// then the failures, then (with features) the same test images' nearest by cosine similarity.
  static func writeGrid(pairs: [Pair], failures: [Pair], neighbors: Neighbors, featureNeighbors: Neighbors?,
                        featurePairs: [Pair]?, testImages: String, trainImages: String, testLabels: [Int],
                        trainLabels: [Int], to path: String) throws {
    let testSet = try KernelFigures.Images(testImages, count: testLabels.count)
    let trainSet = try KernelFigures.Images(trainImages, count: trainLabels.count)
    func row(_ label: String, _ test: Int, _ n: Neighbors) -> (label: String, test: Int, neighbors: [(index: Int, value: Float)]) {
      (label, test, Array(zip(n.indices(of: test), n.values(of: test))).map { (index: $0.0, value: $0.1) })
    }
    var rows = pairs.map { row("pair #\($0.rank)", $0.test, neighbors) }
    rows += failures.map { row("failure #\($0.rank)", $0.test, neighbors) }
    if let featureNeighbors, let featurePairs {
      rows += featurePairs.map { row("cosine #\($0.rank)", $0.test, featureNeighbors) }
    }
    try KernelFigures.pairsGrid(rows: rows, testImages: testSet, trainImages: trainSet, testLabels: testLabels,
                                trainLabels: trainLabels,
                                title: "Test images (left) and their nearest training images: index (label) kernel value",
                                to: path)
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
