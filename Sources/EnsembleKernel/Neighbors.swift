import CompareCore

/// The K most similar training examples of each test example in a range of test rows, best
/// first: what k-NN inference, the pairs table and the row shards of a cluster run share.
///
/// Equal kernel values are ordered by training index, lowest first. (PyTorch's `topk` leaves
/// the order of equal values unspecified, and it differs between CPU and CUDA and with the row
/// length; exact ties occur only between training examples with identical logits.)
public struct Neighbors: Sendable, Equatable {
  /// The test examples covered (indices into the whole test set).
  public let rows: Range<Int>
  /// Neighbours per test example, K.
  public let count: Int
  /// Training indices, `rows.count × count`, row-major, best first.
  public let indices: [Int]
  /// Kernel values, `rows.count × count`, row-major, descending.
  public let values: [Float]

  /// Neighbours from their arrays.
  /// - Throws: `InputError` if the arrays do not hold `rows.count × count` entries.
  public init(rows: Range<Int>, count: Int, indices: [Int], values: [Float]) throws {
    guard count >= 1, rows.lowerBound >= 0, indices.count == rows.count * count,
          values.count == indices.count else {
      throw InputError("neighbours of rows \(rows.lowerBound):\(rows.upperBound) need \(rows.count) × \(count) indices and values, got \(indices.count) and \(values.count)")
    }
    self.rows = rows
    self.count = count
    self.indices = indices
    self.values = values
  }

  /// The top `count` columns of each row of a kernel matrix (`test × train`) whose first row
  /// is test example `firstRow`, best first, equal values by column index, lowest first.
  /// - Throws: `InputError` if `count` is not in 1...columns or a value is NaN.
  public init(kernel: Matrix<Float>, count: Int, firstRow: Int = 0) throws {
    guard count >= 1, count <= kernel.columns else {
      throw InputError("k = \(count) must be between 1 and the \(kernel.columns) training examples")
    }
    if let bad = kernel.elements.firstIndex(where: { $0.isNaN }) {
      throw InputError("kernel value [\(bad / kernel.columns), \(bad % kernel.columns)] is NaN")
    }
    var indices = [Int](repeating: 0, count: kernel.rows * count)
    var values = [Float](repeating: 0, count: kernel.rows * count)
    kernel.elements.withUnsafeBufferPointer { kp in
      indices.withUnsafeMutableBufferPointer { ip in
        values.withUnsafeMutableBufferPointer { vp in
          for r in 0..<kernel.rows {
            TopK.select(kp.baseAddress! + r * kernel.columns, count: kernel.columns, k: count,
                        indices: ip.baseAddress! + r * count, values: vp.baseAddress! + r * count)
          }
        }
      }
    }
    try self.init(rows: firstRow..<(firstRow + kernel.rows), count: count, indices: indices, values: values)
  }

  /// Neighbours whose arrays are known to fit.
  init(validated rows: Range<Int>, count: Int, indices: [Int], values: [Float]) {
    self.rows = rows
    self.count = count
    self.indices = indices
    self.values = values
  }

  /// Training indices of test example `row` (an index into the whole test set), best first.
  public func indices(of row: Int) -> ArraySlice<Int> {
    let r = row - rows.lowerBound
    return indices[(r * count)..<((r + 1) * count)]
  }

  /// Kernel values of test example `row`, descending.
  public func values(of row: Int) -> ArraySlice<Float> {
    let r = row - rows.lowerBound
    return values[(r * count)..<((r + 1) * count)]
  }

  /// The first `k` neighbours of each row.
  /// - Precondition: `1 <= k <= count`.
  public func prefix(_ k: Int) -> Neighbors {
    precondition(k >= 1 && k <= count)
    if k == count { return self }
    var i: [Int] = [], v: [Float] = []
    i.reserveCapacity(rows.count * k)
    v.reserveCapacity(rows.count * k)
    for r in 0..<rows.count {
      i += indices[(r * count)..<(r * count + k)]
      v += values[(r * count)..<(r * count + k)]
    }
    return Neighbors(validated: rows, count: k, indices: i, values: v)
  }

  /// Row shards joined into one: the shards of a job array (`--rows START:END`), in any order.
  /// - Throws: `InputError` if there are none, their K differ, or their rows overlap or leave a
  ///   gap (naming the rows).
  public static func merging(_ shards: [Neighbors]) throws -> Neighbors {
    guard !shards.isEmpty else { throw InputError("no neighbour shards to merge") }
    let sorted = shards.sorted { $0.rows.lowerBound < $1.rows.lowerBound }
    let k = sorted[0].count
    var indices: [Int] = [], values: [Float] = []
    var next = sorted[0].rows.lowerBound
    for shard in sorted {
      guard shard.count == k else {
        throw InputError("shards hold different numbers of neighbours (\(k) and \(shard.count))")
      }
      if shard.rows.lowerBound > next {
        throw InputError("rows \(next):\(shard.rows.lowerBound) are in no shard")
      }
      if shard.rows.lowerBound < next {
        throw InputError("rows \(shard.rows.lowerBound):\(min(next, shard.rows.upperBound)) are in more than one shard")
      }
      indices += shard.indices
      values += shard.values
      next = shard.rows.upperBound
    }
    return try Neighbors(rows: sorted[0].rows.lowerBound..<next, count: k, indices: indices, values: values)
  }

  /// The test rows ordered by the kernel value of their nearest training example, highest
  /// first (ties by test index): near-duplicates come first.
  public func rankedByNearest() -> [Int] {
    Array(rows).sorted { a, b in
      let va = values[(a - rows.lowerBound) * count], vb = values[(b - rows.lowerBound) * count]
      return va != vb ? va > vb : a < b
    }
  }

  /// The K nearest training examples of each test example by cosine similarity of feature
  /// vectors (for instance one model's penultimate features): the baseline the kernel is
  /// compared with.
  ///
  ///     similarity[i, j] = ⟨x_i, y_j⟩ / (‖x_i‖ ‖y_j‖)       (0 for a zero vector)
  ///
  /// - Parameters:
  ///   - test: `test examples × features`.
  ///   - train: `train examples × features`.
  /// - Throws: `InputError` when the feature counts differ, `count` is out of range or a
  ///   feature is not finite.
  /// - Complexity: one GEMM of 2·test·train·features flops, in blocks of rows.
  public static func byCosineSimilarity(test: Matrix<Float>, train: Matrix<Float>, count: Int,
                                        blockBytes: Int = 128 << 20) throws -> Neighbors {
    guard test.columns == train.columns else {
      throw InputError("test features have \(test.columns) columns but training features \(train.columns)")
    }
    guard count >= 1, count <= train.rows else {
      throw InputError("k = \(count) must be between 1 and the \(train.rows) training examples")
    }
    func normalized(_ m: Matrix<Float>, _ what: String) throws -> Matrix<Float> {
      var out = m
      for i in 0..<m.rows {
        var sum = 0.0
        for j in 0..<m.columns {
          let v = m[i, j]
          guard v.isFinite else { throw InputError("\(what) feature [\(i), \(j)] is \(v)") }
          sum += Double(v) * Double(v)
        }
        let scale = sum > 0 ? Float(1 / sum.squareRoot()) : 0
        for j in 0..<m.columns { out[i, j] *= scale }
      }
      return out
    }
    let x = try normalized(test, "test"), y = try normalized(train, "training")
    let n = y.rows, d = x.columns
    let blockRows = max(1, min(x.rows, blockBytes / (4 * max(n, 1))))
    var indices = [Int](repeating: 0, count: x.rows * count)
    var values = [Float](repeating: 0, count: x.rows * count)
    var block = [Float](repeating: 0, count: blockRows * n)
    var lo = 0
    while lo < x.rows {
      let hi = min(x.rows, lo + blockRows)
      x.elements.withUnsafeBufferPointer { xp in
        y.elements.withUnsafeBufferPointer { yp in
          block.withUnsafeMutableBufferPointer { bp in
            if d > 0 {
              WorkerGEMM.productABt(m: hi - lo, n: n,
                                    k: d, alpha: 1, a: xp.baseAddress! + lo * d, lda: d,
                                    b: yp.baseAddress!, ldb: d, beta: 0, c: bp.baseAddress!, ldc: n)
            } else {
              bp.update(repeating: 0)
            }
            indices.withUnsafeMutableBufferPointer { ip in
              values.withUnsafeMutableBufferPointer { vp in
                for r in 0..<(hi - lo) {
                  TopK.select(bp.baseAddress! + r * n, count: n, k: count,
                              indices: ip.baseAddress! + (lo + r) * count,
                              values: vp.baseAddress! + (lo + r) * count)
                }
              }
            }
          }
        }
      }
      lo = hi
    }
    return try Neighbors(rows: 0..<x.rows, count: count, indices: indices, values: values)
  }
}
