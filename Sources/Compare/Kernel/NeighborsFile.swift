import CompareCore
import EnsembleKernel
import TensorIO

/// The neighbour file of `compare kernel --save-neighbors`: members `indices` (int64 [test, K]) and `values`
/// (float32 [test, K]), best first, and `rows` (int64 [2]: the test rows START, END covered,
/// so that row shards can be merged). Stored uncompressed; numpy's `np.load` reads it.
public enum NeighborsFile {
  /// Writes `neighbors` to `path` atomically.
  public static func write(_ neighbors: Neighbors, to path: String) throws {
    let shape = [neighbors.rows.count, neighbors.count]
    let members: [(String, [UInt8])] = [
      ("indices.npy", NPYWriter.encode(neighbors.indices.map { Int64($0) }, shape: shape)),
      ("values.npy", NPYWriter.encode(neighbors.values, shape: shape)),
      ("rows.npy", NPYWriter.encode([Int64(neighbors.rows.lowerBound), Int64(neighbors.rows.upperBound)], shape: [2])),
    ]
    try AtomicFile.write(NPZWriter.archive(members), to: path)
  }

  /// Reads a file written by `write`.
  /// - Throws: `ReadError`/`InputError` naming the file when a member is missing or malformed,
  ///   an index is negative or a value is not finite.
  public static func read(_ path: String) throws -> Neighbors {
    let file = try TensorFile.open(path)
    let indices = try file.tensor("indices"), values = try file.tensor("values")
    guard indices.shape.count == 2, indices.shape[1] > 0, values.shape == indices.shape else {
      throw InputError("\(path): 'indices' and 'values' must both have shape [test, K] with K ≥ 1, got \(indices.shapeDescription) and \(values.shapeDescription)")
    }
    var rows = 0..<indices.shape[0]
    if let r = try? file.tensor("rows") {
      let bounds = try r.integers()
      guard bounds.count == 2, bounds[0] >= 0, bounds[1] >= bounds[0],
            bounds[1] - bounds[0] == Int64(indices.shape[0]) else {
        throw InputError("\(path): 'rows' must be [START, END] with END − START = \(indices.shape[0])")
      }
      rows = Int(bounds[0])..<Int(bounds[1])
    }
    let trainIndices = try indices.integers()
    if let bad = trainIndices.firstIndex(where: { $0 < 0 }) {
      throw InputError("\(path): 'indices' holds \(trainIndices[bad]) at [\(bad / indices.shape[1]), \(bad % indices.shape[1])]; training indices are ≥ 0")
    }
    let kernelValues = try values.floats()
    if let bad = kernelValues.firstIndex(where: { !$0.isFinite }) {
      throw InputError("\(path): 'values' holds \(kernelValues[bad]) at [\(bad / indices.shape[1]), \(bad % indices.shape[1])]; kernel values are finite")
    }
    return try Neighbors(rows: rows, count: indices.shape[1], indices: trainIndices.map { Int($0) },
                         values: kernelValues)
  }
}
