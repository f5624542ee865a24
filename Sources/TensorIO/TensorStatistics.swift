/// Summary statistics of a tensor's elements, the quick look taken before feeding a file to a
/// metric: extremes, mean and standard deviation of the finite values, and how many are NaN or
/// infinite.
///
/// Accumulated in float64 chunk by chunk: each chunk's mean and sum of squared deviations by two
/// passes, merged with Chan, Golub & LeVeque's pairwise update (1979), so that a billion float16
/// values lose no precision. `std` is the population standard deviation (numpy's `ddof=0`).
public struct TensorStatistics: Sendable, Equatable {
  /// Smallest and largest finite value; `nil` when there is none.
  public var min: Double?
  public var max: Double?
  /// Mean and standard deviation of the finite values; `nil` when there is none.
  public var mean: Double?
  public var std: Double?
  /// Number of NaN elements.
  public var nan: Int
  /// Number of infinite elements (either sign).
  public var inf: Int

  /// Statistics of all elements of `tensor`.
  ///
  /// - Throws: `ReadError` only if the tensor's bytes cannot be converted (never for a tensor
  ///   that opened).
  /// - Complexity: O(n), one pass over the data; memory O(chunk) (about 1 M elements). O(1) for
  ///   a tensor without elements, whatever its shape.
  public init(of tensor: Tensor) throws {
    var count = 0.0, mean = 0.0, m2 = 0.0
    var low = Double.infinity, high = -Double.infinity
    var nan = 0, inf = 0
    func accumulate(_ values: [Double]) {
      var n = 0, sum = 0.0
      for x in values {
        if x.isNaN { nan += 1; continue }
        if x.isInfinite { inf += 1; continue }
        n += 1
        sum += x
        if x < low { low = x }
        if x > high { high = x }
      }
      guard n > 0 else { return }
      let chunkMean = sum / Double(n)
      var chunkM2 = 0.0
      for x in values where x.isFinite { chunkM2 += (x - chunkMean) * (x - chunkMean) }
      let nb = Double(n), total = count + nb
      let delta = chunkMean - mean
      mean += delta * nb / total
      m2 += chunkM2 + delta * delta * count * nb / total
      count = total
    }
    // Walk rows only when there are elements: a zero-element tensor may claim a first axis of
    // 10¹⁷ rows (`(600003488427387903, 0)` is a valid .npy shape), and the walk must stay
    // bounded by the stored bytes, not by numbers in the header.
    if tensor.count == 0 {
      // Nothing to accumulate.
    } else if let first = tensor.shape.first, tensor.shape.count > 1 || first > 1 << 20 {
      let perRow = Swift.max(1, tensor.count / Swift.max(first, 1))
      let step = Swift.max(1, (1 << 20) / perRow)
      var row = 0
      while row < first {
        let end = Swift.min(first, row + step)
        accumulate(try tensor.doubles(rows: row..<end))
        row = end
      }
    } else {
      accumulate(try tensor.doubles())
    }
    self.min = count > 0 ? low : nil
    self.max = count > 0 ? high : nil
    self.mean = count > 0 ? mean : nil
    self.std = count > 0 ? (m2 / count).squareRoot() : nil
    self.nan = nan
    self.inf = inf
  }
}

extension Tensor {
  /// The first `count` elements in row-major (C) order, whatever the stored layout, as
  /// `Double`s; fewer when the tensor is smaller. Converts only the rows it needs.
  public func head(_ count: Int) throws -> [Double] {
    guard count > 0, self.count > 0 else { return [] }
    guard let first = shape.first else { return try doubles() }
    let perRow = Swift.max(1, self.count / first)
    let rows = Swift.min(first, (count + perRow - 1) / perRow)
    return Array(try doubles(rows: 0..<rows).prefix(count))
  }

  /// The first `count` elements of an integer or bool tensor in row-major order, exactly
  /// (`head` rounds integers past 2^53); a uint64 element as its bit pattern
  /// (`UInt64(bitPattern:)` gives it back). Floating-point elements are truncated.
  public func headIntegers(_ count: Int) -> [Int64] {
    guard count > 0, self.count > 0 else { return [] }
    let rows = shape.first.map { first in 0..<Swift.min(first, (count + Swift.max(1, self.count / first) - 1) / Swift.max(1, self.count / first)) }
    var out: [Int64] = []
    out.reserveCapacity(Swift.min(count, self.count))
    forEachRun(rows: rows) { pointer, length, byteStride in
      for e in 0..<length where out.count < count {
        out.append(dtype == .uint64 ? Int64(bitPattern: Tensor.load(pointer + e * byteStride, byteOrder, as: UInt64.self))
                                    : Tensor.integer(at: pointer + e * byteStride, dtype, byteOrder))
      }
    }
    return out
  }
}
