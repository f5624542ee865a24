import CompareCore
import EnsembleKernel
import TensorIO

/// What `compare kernel merge` does: joins the neighbour files of row shards (`compare kernel
/// --rows START:END --save-neighbors`) into one, and scores the result when labels are given.
public struct NeighborsMerge: Sendable {
  /// The shard files, as given.
  public var files: [String]
  /// The merged neighbours.
  public var merged: Neighbors
  /// The merged file written.
  public var output: String
  /// The vote scored with.
  public var knn: KernelKNN
  /// The k-NN accuracy of the merged neighbours, when labels were given.
  public var accuracy: Double?
  /// A k sweep: the vote's accuracy for each k of `sweep` (given to `init`), when labels were
  /// given, as `compare kernel -k 1,3,5` reports it. Empty: `knn.k` only.
  public var accuracyByK: [(k: Int, accuracy: Double)] = []

  /// Reads the shards (in any order), checks that they cover consecutive rows with the same
  /// number of neighbours, merges them and writes `output` atomically.
  ///
  /// - Parameters:
  ///   - labels: Test and training label references, to score the merged neighbours with `knn`.
  ///   - sweep: With labels, also score the vote with each of these k (distinct values), from
  ///     the same neighbours (`accuracyByK`).
  /// - Throws: `OutputPaths.Conflict` when `output` is one of the shards or label files;
  ///   `InputError` naming the files that overlap, leave a gap or differ in K, a shard holding
  ///   a non-finite kernel value or a neighbour index past the training labels (naming both
  ///   files); labels that are negative or too few; a k above the neighbours held.
  public init(files: [String], output: String, labels: (test: String, train: String)? = nil,
              knn: KernelKNN = KernelKNN(k: 3), sweep: [Int] = []) throws {
    let labelFiles = labels.map { [("test labels", $0.test), ("training labels", $0.train)] } ?? []
    try OutputPaths.check(outputs: [("output", output)], inputs: files.map { ("shard", $0) } + labelFiles)
    try AtomicFile.checkDestination(output)
    let shards = try files.map { try NeighborsFile.read($0) }
    // By first row; shards that start on the same row stay in command-line order.
    let order = shards.indices.sorted { (shards[$0].rows.lowerBound, $0) < (shards[$1].rows.lowerBound, $1) }
    try Self.checkCoverage(order.map { (files[$0], shards[$0]) })
    let merged = try Neighbors.merging(shards)
    if let labels {
      let testLabels = try TensorReference(labels.test).tensor().integers().map { Int($0) }
      let trainLabels = try TensorReference(labels.train).tensor().integers().map { Int($0) }
      for (reference, values) in [(labels.test, testLabels), (labels.train, trainLabels)] {
        if let i = values.firstIndex(where: { $0 < 0 }) {
          throw InputError("\(reference)[\(i)] = \(values[i]) is negative; labels are classes 0, 1, ...")
        }
      }
      guard merged.rows.upperBound <= testLabels.count else {
        throw InputError("\(labels.test) has \(testLabels.count) labels but the shards cover test rows up to \(merged.rows.upperBound)")
      }
      for k in [knn.k] + sweep where k > merged.count {
        throw InputError("-k \(k) exceeds the \(merged.count) neighbours the shards hold")
      }
      for (file, shard) in zip(files, shards) {
        if let bad = shard.indices.first(where: { $0 >= trainLabels.count }) {
          throw InputError("\(file): neighbour index \(bad) is outside the \(trainLabels.count) training labels of \(labels.train)")
        }
      }
      // The vote runs over the distinct training labels, in increasing order (so that ties still
      // go to the smallest label): labels as large as 2⁶³ − 1 need no vote array of that size.
      let distinct = Set(trainLabels).sorted()
      let dense = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
      let denseTrain = trainLabels.map { dense[$0] ?? -1 }, denseTest = testLabels.map { dense[$0] ?? -1 }
      accuracy = try knn.accuracy(merged, trainLabels: denseTrain, testLabels: denseTest, classes: distinct.count)
      accuracyByK = try sweep.map { k in
        (k, try KernelKNN(k: k, weighting: knn.weighting, ties: knn.ties)
          .accuracy(merged, trainLabels: denseTrain, testLabels: denseTest, classes: distinct.count))
      }
    }
    try NeighborsFile.write(merged, to: output)
    self.files = files
    self.merged = merged
    self.output = output
    self.knn = knn
  }

  /// `compare kernel merge --json`.
  public func json() -> JSONValue {
    var pairs: [(String, JSONValue)] = [
      ("shards", .int(files.count)),
      ("rows", .array([.int(merged.rows.lowerBound), .int(merged.rows.upperBound)])),
      ("test_examples", .int(merged.rows.count)),
      ("neighbors", .int(merged.count)),
      ("output", .string(output)),
    ]
    if let accuracy {
      // The vote's keys and formats as `compare kernel --json` has them.
      pairs += [("k", .int(knn.k)), ("kernel_accuracy", .double(accuracy)),
                ("weighting", .string(knn.weighting.description)), ("ties", .string(knn.ties.rawValue))]
      if !accuracyByK.isEmpty {
        pairs.append(("kernel_accuracy_by_k", .object(accuracyByK.map { (String($0.k), .double($0.accuracy)) })))
      }
    }
    return .object(pairs)
  }

  /// What `compare kernel merge` prints.
  public var text: String {
    var out = "merged \(files.count) shards: test rows \(merged.rows.lowerBound)..<\(merged.rows.upperBound), \(merged.count) neighbours each, into \(output)\n"
    if let accuracy {
      var method = "k-NN w/ k=\(knn.k)"
      if knn.weighting != .none { method += ", \(knn.weighting)" }
      if knn.ties != .smallestLabel { method += ", ties \(knn.ties.rawValue)" }
      out += Format.left("kernel accuracy (\(method))", 32) + ": " + Format.fixed(100 * accuracy, 2) + "\n"
    }
    if !accuracyByK.isEmpty {
      out += "\nk-NN accuracy by k (merged neighbours):\n"
      out += Format.table(header: ["k"] + accuracyByK.map { String($0.k) },
                          rows: [["%"] + accuracyByK.map { Format.fixed(100 * $0.accuracy, 2) }],
                          rightAligned: Set(1...accuracyByK.count))
    }
    return out
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
}
