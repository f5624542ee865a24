import CompareCore

/// A layer's correlation-distance RDM, as rsatoolbox's `'correlation'` RDM, turned into centred,
/// unit-norm average ranks of its upper triangle, so that the Spearman correlation of two layers'
/// RDMs is one dot product.
///
///     D[i, j] = 1 − corr(xᵢ, xⱼ)   (Pearson over features, i < j)
///     r = ranks of D's n(n−1)/2 entries (ties: average rank), centred and scaled to ‖r‖ = 1
///
/// Where we differ from rsatoolbox on purpose: D is rounded to 10 decimals before ranking, so that
/// dissimilarities equal in exact arithmetic (ReLU layers give many: two examples active on the
/// same single unit have D = 0) stay ties whatever the summation order of the products; and an
/// example whose activations are all equal has no correlation, so we set its correlations to 0
/// (distance 1) where rsatoolbox would give NaN. Made with one `syrk` on the row-standardised
/// activations and one radix sort. The ranks are kept as the integers c = 2r − (N + 1) (N entries;
/// twice an average rank is an integer), exact in 32 bits: memory n(n−1)/2 × 4 bytes.
public struct RankedDissimilarities: Sendable {
  /// Where the centred doubled ranks are: `count` `Int32`s from byte `byteOffset` of `storage`,
  /// an array of their own, or for a transient layer the worker's Gram buffer, lent to it for as
  /// long as it lives.
  let storage: [Double]
  let byteOffset: Int
  /// Entries of the triangle, N = n(n−1)/2.
  public let count: Int
  /// Σ c² over the centred doubled ranks: 0 when the RDM is constant.
  public let sumOfSquares: Double

  /// Whether the RDM is constant (no Spearman correlation is defined).
  public var isConstant: Bool { sumOfSquares == 0 }

  /// The centred unit-norm ranks c/‖c‖, in row-major upper-triangle order; all zero when the
  /// RDM is constant.
  public var ranks: [Double] {
    let scale = sumOfSquares > 0 ? 1 / sumOfSquares.squareRoot() : 0
    return withCentredRanks { $0.map { Double($0) * scale } }
  }

  /// Calls `body` with the centred doubled ranks c = 2r − (N + 1) in place.
  package func withCentredRanks<R>(_ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
    guard count > 0 else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
    return try storage.withUnsafeBytes { raw in
      try body(UnsafeBufferPointer(start: (raw.baseAddress! + byteOffset).assumingMemoryBound(to: Int32.self), count: count))
    }
  }

  /// Σ aₖbₖ of two layers' centred doubled ranks, in float64 (four partial sums).
  package static func dot(_ a: UnsafeBufferPointer<Int32>, _ b: UnsafeBufferPointer<Int32>) -> Double {
    let n = Swift.min(a.count, b.count)
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, k = 0
    while k + 4 <= n {
      s0 += Double(a[k]) * Double(b[k])
      s1 += Double(a[k + 1]) * Double(b[k + 1])
      s2 += Double(a[k + 2]) * Double(b[k + 2])
      s3 += Double(a[k + 3]) * Double(b[k + 3])
      k += 4
    }
    while k < n { s0 += Double(a[k]) * Double(b[k]); k += 1 }
    return (s0 + s1) + (s2 + s3)
  }

  private init(storage: [Double], byteOffset: Int, count: Int, sumOfSquares: Double) {
    (self.storage, self.byteOffset, self.count, self.sumOfSquares) = (storage, byteOffset, count, sumOfSquares)
  }

  public init(of x: Matrix<Double>) {
    self.init(of: x, scratch: LayerScratch())
  }

  /// The same, with the standardised copy, the correlations and the sort's keys in `scratch`.
  /// A `transient` layer (one compared and then dropped) keeps its ranks in the Gram buffer
  /// itself, which it takes from `scratch` (`LayerScratch.recycle` gives it back).
  ///
  /// The rounded dissimilarities are integers over 10¹⁰, so they are ranked by an LSD radix sort
  /// of those integers (each packed above its entry's index into one 64-bit key) instead of a
  /// comparison sort: the same ranks, in a few linear passes over the n(n−1)/2 entries.
  package init(of x: Matrix<Double>, scratch: LayerScratch, transient: Bool = false) {
    let n = x.rows, p = x.columns
    WorkBuffer.resize(&scratch.copy, to: n * p)
    x.elements.withUnsafeBufferPointer { xs in
      scratch.copy.withUnsafeMutableBufferPointer { zs in
        let a = xs.baseAddress!, z = zs.baseAddress!
        for i in 0..<n {
          var mean = 0.0
          for j in 0..<p { mean += a[i * p + j] }
          mean /= Double(p)
          var norm = 0.0
          for j in 0..<p { z[i * p + j] = a[i * p + j] - mean; norm += z[i * p + j] * z[i * p + j] }
          let scale = norm > 0 ? 1 / norm.squareRoot() : 0
          for j in 0..<p { z[i * p + j] *= scale }
        }
      }
    }
    scratch.makeGramOfCopy(rows: n, columns: p)
    // D's upper triangle, rounded to 10 decimals, as the integers D·10¹⁰, packed in place at the
    // front of the Gram buffer (entry k of the triangle sits at or before the (i, j) it is read
    // from, and every later read is further on).
    let count = n * (n - 1) / 2
    var lowest = Double.infinity, highest = -Double.infinity
    scratch.gram.withUnsafeMutableBufferPointer { gs in
      let g = gs.baseAddress!
      var k = 0
      for i in 0..<n {
        for j in (i + 1)..<max(n, i + 1) {
          let scaled = ((1 - g[i * n + j]) * 1e10).rounded(.toNearestOrEven)
          g[k] = scaled
          lowest = min(lowest, scaled)
          highest = max(highest, scaled)
          k += 1
        }
      }
    }
    let indexBits = count > 1 ? Int.bitWidth - (count - 1).leadingZeroBitCount : 1
    let span = count > 0 ? highest - lowest : 0
    let valueBits = span < 1 ? 1 : span < 0x1p53 ? Int.bitWidth - UInt64(span).leadingZeroBitCount : 64
    self.count = count
    guard count > 0, indexBits + valueBits <= 64 else {
      // Beyond what one 64-bit key holds (not reached within the memory budget): a comparison sort.
      let values = scratch.gram.prefix(count).map { $0 / 1e10 }
      let order = values.indices.sorted { values[$0] < values[$1] }
      (storage, sumOfSquares) = Self.centredDoubledRanks(count: count, entry: { order[$0] },
                                                         equalsPrevious: { values[order[$0]] == values[order[$0 - 1]] })
      byteOffset = 0
      return
    }
    // The keys go to the Gram buffer's second half (n² ≥ 2·count), then the values are no longer
    // needed and its first half is the sort's second buffer. A transient layer's ranks then go
    // to whichever half the sorted keys are not in.
    var squares = 0.0, at = 0
    let own: [Double]? = scratch.gram.withUnsafeMutableBufferPointer { gram in
      let g = gram.baseAddress!
      let keys = UnsafeMutableRawPointer(g + count).bindMemory(to: UInt64.self, capacity: count)
      for k in 0..<count { keys[k] = UInt64(g[k] - lowest) << indexBits | UInt64(k) }
      let other = UnsafeMutableRawPointer(g).bindMemory(to: UInt64.self, capacity: count)
      let sorted = Self.radixSort(UnsafeMutableBufferPointer(start: keys, count: count),
                                  buffer: UnsafeMutableBufferPointer(start: other, count: count),
                                  from: indexBits, bits: valueBits)
      let indexMask = UInt64(1) << indexBits - 1
      let entry = { (k: Int) in Int(sorted[k] & indexMask) }
      let equalsPrevious = { (k: Int) in sorted[k] >> indexBits == sorted[k - 1] >> indexBits }
      guard transient else {
        let (own, s) = Self.centredDoubledRanks(count: count, entry: entry, equalsPrevious: equalsPrevious)
        squares = s
        return own
      }
      at = sorted.baseAddress == keys ? 0 : count
      let free = UnsafeMutableRawPointer(g + at).bindMemory(to: Int32.self, capacity: count)
      squares = Self.assignCentredDoubledRanks(count: count, entry: entry, equalsPrevious: equalsPrevious,
                                               into: UnsafeMutableBufferPointer(start: free, count: count))
      return nil
    }
    storage = own ?? scratch.lendGram()
    byteOffset = at * MemoryLayout<Double>.stride
    sumOfSquares = squares
  }

  /// The centred doubled ranks (`assignCentredDoubledRanks`) in an array of their own (`Double`
  /// storage, as a lent Gram buffer is), with Σ c².
  static func centredDoubledRanks(count: Int, entry: (Int) -> Int,
                                  equalsPrevious: (Int) -> Bool) -> (storage: [Double], sumOfSquares: Double) {
    guard count > 0 else { return ([], 0) }
    var squares = 0.0
    let storage = WorkBuffer.prefaulted(count: (count + 1) / 2) { (d: UnsafeMutableBufferPointer<Double>) in
      let c = UnsafeMutableRawPointer(d.baseAddress!).bindMemory(to: Int32.self, capacity: 2 * d.count)
      c[2 * d.count - 1] = 0
      squares = assignCentredDoubledRanks(count: count, entry: entry, equalsPrevious: equalsPrevious,
                                          into: UnsafeMutableBufferPointer(start: c, count: count))
    }
    return (storage, squares)
  }

  /// Writes the centred doubled average ranks c = 2r − (N + 1) of N = `count` entries visited in
  /// sorted order (`assignAverageRanks`) into `c`, by entry, and returns Σ c². Exact: N < 2³¹
  /// (the memory budget holds far fewer).
  static func assignCentredDoubledRanks(count: Int, entry: (Int) -> Int, equalsPrevious: (Int) -> Bool,
                                        into c: UnsafeMutableBufferPointer<Int32>) -> Double {
    precondition(count < Int(Int32.max), "more RDM entries than 32-bit ranks hold")
    var squares = 0.0
    assignAverageRanks(count: count, entry: entry, equalsPrevious: equalsPrevious) { k, doubled in
      let v = Int32(doubled - (count + 1))
      c[k] = v
      squares += Double(v) * Double(v)
    }
    return squares
  }

  /// Sorts `a` by its bits `[from, from + bits)`, stably, in passes of up to 11 bits that go back
  /// and forth between `a` and `buffer` (same count); returns the one holding the result.
  static func radixSort(_ a: UnsafeMutableBufferPointer<UInt64>, buffer: UnsafeMutableBufferPointer<UInt64>,
                        from low: Int, bits: Int) -> UnsafeMutableBufferPointer<UInt64> {
    let passes = max(1, (bits + 10) / 11), width = (bits + passes - 1) / passes
    let buckets = 1 << width, mask = UInt64(buckets - 1)
    var counts = [Int](repeating: 0, count: buckets)
    var (src, dst) = (a, buffer)
    for pass in 0..<passes {
      let shift = UInt64(low + pass * width)
      counts.withUnsafeMutableBufferPointer { c in
        c.update(repeating: 0)
        for v in src { c[Int(v >> shift & mask)] += 1 }
        var total = 0
        for b in 0..<buckets { let here = c[b]; c[b] = total; total += here }
        for v in src {
          let b = Int(v >> shift & mask)
          dst[c[b]] = v
          c[b] += 1
        }
      }
      swap(&src, &dst)
    }
    return src
  }

  /// Average ranks (1-based; equal values share their mean rank) of entries visited in sorted
  /// order: position k of the order holds entry `entry(k)`, and `equalsPrevious(k)` says whether
  /// its value equals position k − 1's. `assign(entry, 2·rank)` is called once per entry (twice
  /// an average rank is an integer).
  static func assignAverageRanks(count: Int, entry: (Int) -> Int, equalsPrevious: (Int) -> Bool,
                                 assign: (Int, Int) -> Void) {
    var start = 0
    while start < count {
      var end = start + 1
      while end < count, equalsPrevious(end) { end += 1 }
      let doubled = start + end + 1
      for k in start..<end { assign(entry(k), doubled) }
      start = end
    }
  }

  /// Average ranks (1-based, ties share their mean rank), centred and scaled to unit norm.
  package static func centredUnitRanks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    let (storage, squares) = centredDoubledRanks(count: values.count, entry: { order[$0] },
                                                 equalsPrevious: { values[order[$0]] == values[order[$0 - 1]] })
    return RankedDissimilarities(storage: storage, byteOffset: 0, count: values.count, sumOfSquares: squares).ranks
  }
}
