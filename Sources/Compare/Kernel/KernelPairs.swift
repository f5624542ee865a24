import CompareCore
import EnsembleKernel
import TensorIO

/// One row of a pairs table: a test example and its most similar training example.
public struct KernelPair: Sendable, Equatable {
  /// 1 for the most similar pair (or failure).
  public var rank: Int
  public var test: Int
  public var testLabel: Int
  public var train: Int
  public var trainLabel: Int
  /// The kernel value (or cosine similarity for the feature baseline).
  public var value: Float
}

/// What `compare kernel pairs` computes: test examples ranked by the kernel value of their
/// nearest training example (near-duplicates first), the confident failures (that example has
/// another label), optionally the same by cosine similarity of one model's features, and an
/// image grid.
public struct KernelPairsRequest: Sendable {
  /// Rows in each table.
  public var top = 10
  /// First rank shown (1 is the most similar pair).
  public var start = 1
  /// Nearest training examples kept per test example (shown in the grid).
  public var neighbors = 3
  public var options = CorrelationKernel.Options()
  /// Use the first `models` models (all when `nil`).
  public var models: Int?
  /// Test and training features (`[examples, features]`) for the cosine baseline.
  public var features: (test: String, train: String)?
  /// Test and training images, and the grid file (.png or .svg) to draw them into.
  public var images: (test: String, train: String, grid: String)?
  /// Also show this many test examples drawn at random (seeded), each with its nearest
  /// training examples by kernel and, with `features`, by cosine similarity: the kernel
  /// card's third figure.
  public var random = 0
  /// Seed of the random draw.
  public var seed: UInt64 = 0

  public init() {}

  /// Ranks the pairs of `inputs`, and draws the grid when `images` is set.
  /// - Throws: `InputError` for a neighbour count above the training examples, features of the
  ///   wrong shape or non-finite, images of the wrong shape; the kernel's errors.
  public func run(_ inputs: KernelInputs, progress: @escaping (Int, Int) -> Void = { _, _ in }) throws -> KernelPairsResult {
    let test = inputs.test, train = inputs.train
    guard neighbors <= train.examples else {
      throw InputError("--neighbors \(neighbors) is larger than the \(train.examples) training examples")
    }
    guard random <= test.examples else {
      throw InputError("--random \(random) is larger than the \(test.examples) test examples")
    }
    let kernel = try CorrelationKernel(test: test, train: train, models: models, options: options)
    let found = try kernel.neighbors(count: neighbors, progress: progress)
    let (pairs, failures) = Self.tables(found, labels: inputs, start: start, top: top)
    var result = KernelPairsResult(models: kernel.models, testExamples: test.examples, trainExamples: train.examples,
                                   classes: test.classes, neighbors: found, pairs: pairs, failures: failures)
    result.randomExamples = Self.draw(random, of: test.examples, seed: seed)
    result.randomSeed = random > 0 ? seed : nil
    if let features {
      let x = try Self.features(features.test, rows: test.examples)
      let y = try Self.features(features.train, rows: train.examples)
      guard x.columns == y.columns else {
        throw InputError("\(features.train): features have \(y.columns) columns but \(features.test) has \(x.columns)")
      }
      let n = try Neighbors.byCosineSimilarity(test: x, train: y, count: neighbors)
      result.featureNeighbors = n
      result.featurePairs = Self.tables(n, labels: inputs, start: start, top: top).pairs
    }
    result.randomLabels = random > 0 ? inputs : nil
    if let images { try result.writeGrid(testImages: images.test, trainImages: images.train, labels: inputs, to: images.grid) }
    return result
  }

  /// `count` distinct indices of `0..<n`, drawn uniformly with `SplitMix64(seed:)` (a partial
  /// Fisher–Yates shuffle), in the order drawn.
  public static func draw(_ count: Int, of n: Int, seed: UInt64) -> [Int] {
    guard count > 0 else { return [] }
    var rng = SplitMix64(seed: seed)
    var indices = Array(0..<n)
    for i in 0..<count { indices.swapAt(i, i + rng.nextIndex(below: n - i)) }
    return Array(indices.prefix(count))
  }

  /// The ranked pairs from rank `start` on, `top` of them, and the failures likewise.
  public static func tables(_ neighbors: Neighbors, labels: KernelInputs, start: Int,
                            top: Int) -> (pairs: [KernelPair], failures: [KernelPair]) {
    let ranked = neighbors.rankedByNearest()
    var all: [KernelPair] = []
    for (r, i) in ranked.enumerated() {
      let j = neighbors.indices(of: i).first!
      all.append(KernelPair(rank: r + 1, test: i, testLabel: labels.testLabels[i], train: j,
                            trainLabel: labels.trainLabels[j], value: neighbors.values(of: i).first!))
    }
    var failures = all.filter { $0.testLabel != $0.trainLabel }
    for r in failures.indices { failures[r].rank = r + 1 }
    func window(_ rows: [KernelPair]) -> [KernelPair] { Array(rows.dropFirst(start - 1).prefix(top)) }
    return (window(all), window(failures))
  }

  /// Features `[rows, features]` as a float matrix.
  /// - Throws: `InputError` for another shape or a non-finite feature (with its position).
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
}

/// What `KernelPairsRequest.run` found.
public struct KernelPairsResult: Sendable {
  public var models: Int
  public var testExamples: Int
  public var trainExamples: Int
  public var classes: Int
  /// The kernel's nearest training examples of every test example.
  public var neighbors: Neighbors
  public var pairs: [KernelPair]
  public var failures: [KernelPair]
  /// The cosine-similarity baseline, with features.
  public var featureNeighbors: Neighbors?
  public var featurePairs: [KernelPair]?
  /// Test examples drawn at random (`KernelPairsRequest.random`), in the order drawn.
  public var randomExamples: [Int] = []
  /// The seed they were drawn with (`nil` when none were drawn).
  public var randomSeed: UInt64?
  /// The labels, kept for the random examples' rows.
  var randomLabels: KernelInputs?

  /// One test example's nearest training examples by `neighbors` (index, label, value).
  func nearest(_ test: Int, _ neighbors: Neighbors, labels: KernelInputs) -> [(index: Int, label: Int, value: Float)] {
    zip(neighbors.indices(of: test), neighbors.values(of: test)).map { (index: $0.0, label: labels.trainLabels[$0.0], value: $0.1) }
  }

  /// `compare kernel pairs --json`: `pairs`, `failures` (and `feature_pairs`) ranked, and with
  /// random examples `random_seed` and `random` (each one's nearest by kernel and by cosine).
  public func json() -> JSONValue {
    func rows(_ rows: [KernelPair], _ similarity: String) -> JSONValue {
      .array(rows.map { p in
        .object([("rank", .int(p.rank)), ("test_index", .int(p.test)), ("test_label", .int(p.testLabel)),
                 ("train_index", .int(p.train)), ("train_label", .int(p.trainLabel)), (similarity, .double(Double(p.value)))])
      })
    }
    var fields: [(String, JSONValue)] = [
      ("models", .int(models)), ("test_examples", .int(testExamples)),
      ("train_examples", .int(trainExamples)), ("classes", .int(classes)),
      ("pairs", rows(pairs, "kernel")), ("failures", rows(failures, "kernel")),
    ]
    if let featurePairs { fields.append(("feature_pairs", rows(featurePairs, "cosine_similarity"))) }
    if !randomExamples.isEmpty, let labels = randomLabels {
      func list(_ test: Int, _ n: Neighbors, _ similarity: String) -> JSONValue {
        .array(nearest(test, n, labels: labels).map {
          .object([("train_index", .int($0.index)), ("train_label", .int($0.label)), (similarity, .double(Double($0.value)))])
        })
      }
      fields.append(("random_seed", randomSeed.map { .int(Int(truncatingIfNeeded: $0)) } ?? .null))
      fields.append(("random", .array(randomExamples.map { i in
        var entry: [(String, JSONValue)] = [("test_index", .int(i)), ("test_label", .int(labels.testLabels[i])),
                                            ("kernel_neighbors", list(i, neighbors, "kernel"))]
        if let featureNeighbors { entry.append(("feature_neighbors", list(i, featureNeighbors, "cosine_similarity"))) }
        return .object(entry)
      })))
    }
    return .object(fields)
  }

  /// The tables `compare kernel pairs` prints.
  public var text: String {
    var out = "Most similar test/train pairs by kernel value (\(models) models)\n"
    out += (pairs.isEmpty ? "(none)\n" : Self.table(pairs, valueHeader: "kernel")) + "\n"
    out += "Confident failures: the nearest training example has another label\n"
    out += (failures.isEmpty ? "(none)\n" : Self.table(failures, valueHeader: "kernel")) + "\n"
    if let featurePairs {
      out += "Baseline: most similar pairs by cosine similarity of the features\n"
      out += Self.table(featurePairs, valueHeader: "cosine") + "\n"
    }
    if !randomExamples.isEmpty, let labels = randomLabels {
      out += "Random test examples and their nearest training examples: index (label) value\n"
      var header = ["test", "label", "by kernel"]
      if featureNeighbors != nil { header.append("by cosine of the features") }
      let rows = randomExamples.map { i -> [String] in
        func cell(_ n: Neighbors) -> String {
          nearest(i, n, labels: labels).map { "\($0.index) (\($0.label)) \(Format.fixed(Double($0.value), 3))" }.joined(separator: ", ")
        }
        return [String(i), String(labels.testLabels[i]), cell(neighbors)] + (featureNeighbors.map { [cell($0)] } ?? [])
      }
      out += Format.table(header: header, rows: rows, rightAligned: [0, 1]) + "\n"
    }
    return out
  }

  static func table(_ rows: [KernelPair], valueHeader: String) -> String {
    Format.table(header: ["rank", "test", "label", "train", "label", valueHeader],
                 rows: rows.map { p in
                   [String(p.rank), String(p.test), String(p.testLabel), String(p.train), String(p.trainLabel),
                    Format.fixed(Double(p.value), 4)]
                 }, rightAligned: [0, 1, 2, 3, 4, 5])
  }

  /// One PNG/SVG: each listed pair's test image beside its nearest training images by kernel,
  /// then the failures, then (with features) the pairs by cosine similarity of the features,
  /// then the random examples by kernel and by cosine. Each row's label names its block and
  /// what its values are (kernel value or cosine similarity).
  public func writeGrid(testImages: String, trainImages: String, labels: KernelInputs, to path: String,
                        shown: Int? = nil) throws {
    let testSet = try KernelFigures.Images(testImages, count: labels.testLabels.count)
    let trainSet = try KernelFigures.Images(trainImages, count: labels.trainLabels.count)
    let k = shown ?? neighbors.count
    func row(_ label: String, _ test: Int, _ n: Neighbors) -> (label: String, test: Int, neighbors: [(index: Int, value: Float)]) {
      (label, test, Array(zip(n.indices(of: test), n.values(of: test)).prefix(k)).map { (index: $0.0, value: $0.1) })
    }
    var rows = pairs.map { row("pair #\($0.rank), kernel", $0.test, neighbors) }
    rows += failures.map { row("failure #\($0.rank), kernel", $0.test, neighbors) }
    if let featureNeighbors, let featurePairs {
      rows += featurePairs.map { row("pair #\($0.rank), cosine", $0.test, featureNeighbors) }
    }
    // The card's third figure: the random examples, one block by kernel, one by cosine.
    rows += randomExamples.enumerated().map { row("random #\($0.offset + 1), kernel", $0.element, neighbors) }
    if let featureNeighbors {
      rows += randomExamples.enumerated().map { row("random #\($0.offset + 1), cosine", $0.element, featureNeighbors) }
    }
    try KernelFigures.pairsGrid(rows: rows, testImages: testSet, trainImages: trainSet, testLabels: labels.testLabels,
                                trainLabels: labels.trainLabels,
                                title: featureNeighbors == nil
                                  ? "Test images (left) and their nearest training images: index (label) kernel value"
                                  : "Test images (left) and their nearest training images: index (label) value, kernel value or cosine similarity as the row says",
                                to: path)
  }
}
