import CompareCore

/// Which runs make up the smaller ensembles of an accuracy-against-size study: for each of
/// `resamples` orders of the runs, the first n runs for each size n.
///
/// With one resample the order is the runs' own (the first n runs, as `compare kernel --sizes`
/// takes them). With more, each order is a seeded Fisher–Yates shuffle (`SplitMix64`), so a
/// seed gives the same subsets on every machine; within one order the subsets are nested.
public struct EnsembleSubsets: Sendable, Equatable {
  /// Ensemble sizes, in the order given.
  public let sizes: [Int]
  /// `orders[r]`: a permutation of `0..<models`; subset (r, size n) is `orders[r].prefix(n)`.
  public let orders: [[Int]]
  /// `rank[r][m]`: the position of run m in `orders[r]`.
  let rank: [[Int]]

  /// The subsets of sizes `sizes` of `models` runs, `resamples` orders drawn with `seed`.
  /// - Throws: `InputError` when a size is outside `1...models` or `resamples` < 1.
  public init(sizes: [Int], resamples: Int = 1, seed: UInt64 = 0, models: Int) throws {
    guard resamples >= 1 else { throw InputError("resamples must be ≥ 1, got \(resamples)") }
    for size in sizes where size < 1 || size > models {
      throw InputError("--sizes \(size) is outside the 1...\(models) runs available")
    }
    var rng = SplitMix64(seed: seed)
    var orders: [[Int]] = []
    for _ in 0..<resamples {
      var order = Array(0..<models)
      if resamples > 1 { order.withUnsafeMutableBufferPointer { rng.shuffle($0) } }
      orders.append(order)
    }
    self.sizes = sizes
    self.orders = orders
    self.rank = orders.map { order in
      var rank = [Int](repeating: 0, count: models)
      for (position, m) in order.enumerated() { rank[m] = position }
      return rank
    }
  }

  /// Number of resamples.
  public var resamples: Int { orders.count }

  /// The runs of subset (`resample`, `sizes[size]`), in the order's order.
  public func runs(resample: Int, size: Int) -> [Int] { Array(orders[resample].prefix(sizes[size])) }
}

/// Some runs of a logits source, in a given order: a smaller ensemble drawn from a larger one.
public struct SelectedLogits: LogitsSource {
  /// The larger ensemble.
  public let base: any LogitsSource
  /// The runs of `base`, in order: model k of this source is `base`'s model `runs[k]`.
  public let runs: [Int]

  /// Runs `runs` of `base`, in that order.
  /// - Throws: `InputError` if a run is outside `base`'s models.
  public init(_ base: any LogitsSource, runs: [Int]) throws {
    if let bad = runs.first(where: { $0 < 0 || $0 >= base.models }) {
      throw InputError("\(base.name) has no run \(bad) (it has \(base.models))")
    }
    self.base = base
    self.runs = runs
  }

  public var name: String { base.name }
  public var models: Int { runs.count }
  public var examples: Int { base.examples }
  public var classes: Int { base.classes }
  public var precision: LogitsPrecision { base.precision }

  /// Model k is `base`'s run `runs[k]`, wherever `base` stores it.
  public func origin(ofModel model: Int) -> (source: any LogitsSource, model: Int) {
    base.origin(ofModel: runs[model])
  }

  public func logits(models range: Range<Int>) throws -> [Float] { try collectedLogits(models: range) }

  /// Reads consecutive runs of `base` in one call, the others one at a time.
  public func logits(models range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    _ = try checkedCount(models: range, buffer: buffer)
    let size = examples * classes
    var k = range.lowerBound
    while k < range.upperBound {
      var end = k + 1
      while end < range.upperBound, runs[end] == runs[end - 1] + 1 { end += 1 }
      let offset = (k - range.lowerBound) * size
      let part = UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + (end - k) * size)])
      try base.logits(models: runs[k]..<(runs[k] + end - k), into: part)
      k = end
    }
  }
}
