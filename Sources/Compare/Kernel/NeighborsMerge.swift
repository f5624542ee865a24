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

  /// Reads the shards (in any order), checks that they cover consecutive rows with the same
  /// number of neighbours, merges them and writes `output` atomically.
  ///
  /// - Parameters:
  ///   - labels: Test and training label references, to score the merged neighbours with `knn`.
  /// - Throws: `InputError` naming the files that overlap, leave a gap or differ in K; labels
  ///   that are negative or too few; k above the neighbours held.
  public init(files: [String], output: String, labels: (test: String, train: String)? = nil,
              knn: KernelKNN = KernelKNN(k: 3)) throws {
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
      guard knn.k <= merged.count else {
        throw InputError("-k \(knn.k) exceeds the \(merged.count) neighbours the shards hold")
      }
      // The vote runs over the distinct training labels, in increasing order (so that ties still
      // go to the smallest label): labels as large as 2⁶³ − 1 need no vote array of that size.
      let distinct = Set(trainLabels).sorted()
      let dense = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
      accuracy = try knn.accuracy(merged, trainLabels: trainLabels.map { dense[$0] ?? -1 },
                                  testLabels: testLabels.map { dense[$0] ?? -1 }, classes: distinct.count)
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
    if let accuracy { pairs += [("k", .int(knn.k)), ("kernel_accuracy", .double(accuracy))] }
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
