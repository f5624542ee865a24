import Compare
import Foundation
import Testing
import TestSupport

@Suite("Neighbour files merged")
struct NeighborsMergeTests {
  let scratch = TemporaryFolder("neighbors-merge")

  /// Writes a shard of rows `rows` holding two neighbours per row, and labels files.
  init() throws {
    try NPYWriter.write([Int64(0), 1, 1, 0], shape: [4], to: scratch.file("y.npy"))
    try NPYWriter.write([Int64(0), 1, 1, 0, 1], shape: [5], to: scratch.file("y_train.npy"))
    try shard("a.npz", rows: 0..<2, indices: [0, 3, 1, 2])
    try shard("b.npz", rows: 2..<4, indices: [2, 4, 3, 0])
  }

  func shard(_ name: String, rows: Range<Int>, indices: [Int], values: [Float]? = nil) throws {
    let neighbors = try Neighbors(rows: rows, count: 2, indices: indices,
                                  values: values ?? [Float](repeating: 0.5, count: indices.count))
    try NeighborsFile.write(neighbors, to: scratch.file(name))
  }

  var labels: (test: String, train: String) { (scratch.file("y.npy"), scratch.file("y_train.npy")) }

  @Test("a k sweep scores each k as a merge with that k alone; the JSON has the vote's keys")
  func sweep() throws {
    let files = [scratch.file("b.npz"), scratch.file("a.npz")]
    let merge = try NeighborsMerge(files: files, output: scratch.file("m.npz"), labels: labels,
                                   knn: KernelKNN(k: 1), sweep: [1, 2])
    for (k, accuracy) in merge.accuracyByK {
      let alone = try NeighborsMerge(files: files, output: scratch.file("m.npz"), labels: labels, knn: KernelKNN(k: k))
      #expect(alone.accuracy == accuracy)
      #expect(alone.accuracyByK.isEmpty)
    }
    #expect(merge.accuracyByK.map(\.k) == [1, 2])
    #expect(merge.accuracy == merge.accuracyByK[0].accuracy)
    let json = merge.json().serialized(pretty: false)
    #expect(json.contains("\"weighting\":\"none\",\"ties\":\"smallest-label\",\"kernel_accuracy_by_k\":{\"1\":"))
    // Without labels there is no vote to report (negative control).
    let plain = try NeighborsMerge(files: files, output: scratch.file("m.npz"))
    #expect(!plain.json().serialized(pretty: false).contains("weighting"))
  }

  @Test("an index past the training labels names the shard and the labels file; NaN values name the shard")
  func shardErrors() throws {
    try shard("far.npz", rows: 2..<4, indices: [2, 4, 5, 0])
    let output = scratch.file("m.npz")
    #expect(throws: InputError("\(scratch.file("far.npz")): neighbour index 5 is outside the 5 training labels of \(labels.train)")) {
      try NeighborsMerge(files: [scratch.file("a.npz"), scratch.file("far.npz")], output: output, labels: labels, knn: KernelKNN(k: 2))
    }
    try shard("nan.npz", rows: 2..<4, indices: [2, 4, 3, 0], values: [1, 0.5, .nan, 0])
    #expect(throws: InputError("\(scratch.file("nan.npz")): 'values' holds nan at [1, 0]; kernel values are finite")) {
      try NeighborsMerge(files: [scratch.file("a.npz"), scratch.file("nan.npz")], output: output)
    }
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test("an output that is a shard or a labels file is refused before reading; another path is written")
  func outputIsInput() throws {
    let a = scratch.file("a.npz"), before = FileManager.default.contents(atPath: a)
    #expect(throws: OutputPaths.Conflict("output \(a) is also an input (shard); choose another output path")) {
      try NeighborsMerge(files: [a, scratch.file("b.npz")], output: a)
    }
    #expect(throws: OutputPaths.Conflict.self) {
      try NeighborsMerge(files: [a], output: scratch.file("./y_train.npy"), labels: labels)
    }
    #expect(FileManager.default.contents(atPath: a) == before)
    _ = try NeighborsMerge(files: [a], output: scratch.file("m.npz"), labels: labels, knn: KernelKNN(k: 2))
    #expect(FileManager.default.fileExists(atPath: scratch.file("m.npz")))
  }
}
