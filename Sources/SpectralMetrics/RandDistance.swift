import CompareCore

/// Jensen–Shannon distance between two equally long non-negative vectors, each normalised to
/// sum 1, compared index by index (natural log):
///
///     JSD(p, q) = √(½ KL(p ‖ m) + ½ KL(q ‖ m)),   m = (p + q)/2,
///
/// between 0 (equal) and √ln 2 ≈ 0.833. This is what the reference tool's `rand_distance`
/// applies to two *sorted eigenvalue vectors* (scipy's `entropy`, which normalises each
/// argument): an index-aligned comparison, not of histograms.
/// - Precondition: `p.count == q.count`.
public func jensenShannonDistance(_ p: [Double], _ q: [Double]) -> Double {
  precondition(p.count == q.count, "jensenShannonDistance: lengths differ")
  let sp = p.reduce(0, +), sq = q.reduce(0, +)
  var m = [Double](repeating: 0, count: p.count)
  for i in p.indices { m[i] = (p[i] + q[i]) / 2 }
  let sm = m.reduce(0, +)
  func kl(_ a: [Double], _ sa: Double) -> Double {
    var sum = 0.0
    for i in a.indices {
      let x = a[i] / sa
      if x > 0 { sum += x * log(x / (m[i] / sm)) }
    }
    return sum
  }
  // Equal inputs can round to a tiny negative divergence: clamp (the reference returns NaN).
  return Swift.max(0, (kl(p, sp) + kl(q, sq)) / 2).squareRoot()
}

/// How the random counterpart of W behind `rand_distance` is made. The weightwatcher author's
/// description of `rand_distance` names both.
public enum RandomizationMethod: String, Sendable, CaseIterable {
  /// W's elements permuted at random: the same element distribution (and ‖W‖_F), every
  /// correlation destroyed. What weightwatcher computes, and the default.
  case shuffle
  /// A Gaussian matrix of W's shape (so the same aspect ratio Q) with W's element mean and
  /// variance: the Marchenko–Pastur null. Unlike a shuffle it does not keep a few huge elements
  /// ("correlation traps"), so a heavy-tailed W is far from it even without structure.
  case gaussian
}

/// `rand_distance`: how far W's ESD is from that of a random counterpart of W.
///
/// The counterpart is W with its elements shuffled (`shuffleElements` driven by
/// `SplitMix64(seed:)`), which keeps their distribution and ‖W‖_F but destroys all
/// correlations, or with `.gaussian` a Gaussian matrix of W's shape, mean and variance. Its
/// eigenvalues are computed like W's, and the result is the Jensen–Shannon distance between the
/// two ascending eigenvalue vectors (see `jensenShannonDistance`). Near 0 for a random-like
/// layer, larger the more structure training put into W. Invariant to scaling W.
///
/// Unlike the reference tool, the draw is seeded, so the value is reproducible.
/// - Throws: as `Spectrum(of:)`.
/// - Complexity: two eigen-decompositions, O(N·M²).
public func randDistance<S: BLASScalar>(of w: Matrix<S>, seed: UInt64, method: RandomizationMethod = .shuffle,
                                        solver: EigenvalueSolver = EigenvalueSolver()) throws -> Double {
  let spectrum = try Spectrum(of: w, solver: solver)
  var rng = SplitMix64(seed: seed)
  var work = [w.elements.map { Double($0) }]
  let rand = try randomizedEigenvalues(&work, method: method, shape: (w.rows, w.columns), scale: 1,
                                       using: &rng, solver: solver)
  return jensenShannonDistance(spectrum.eigenvalues, rand)
}

/// Replaces the slices by their random counterpart (shuffled in place, one stream slice after
/// slice, or Gaussian with the slices' joint mean and variance) and returns its pooled ESD: the
/// step `randDistance` and `ESDAnalyzer` share, so the same matrix and seed give the same
/// `rand_distance` through either.
package func randomizedEigenvalues(_ slices: inout [[Double]], method: RandomizationMethod,
                                   shape: (rows: Int, columns: Int), scale: Double,
                                   using rng: inout SplitMix64, solver: EigenvalueSolver,
                                   scratch: ESDScratch? = nil) throws -> [Double] {
  switch method {
  case .shuffle:
    for s in slices.indices { shuffleElements(&slices[s], using: &rng, scratch: scratch) }
  case .gaussian:
    var sum = 0.0, count = 0
    for slice in slices { sum += slice.reduce(0, +); count += slice.count }
    let mean = sum / Double(max(count, 1))
    var squares = 0.0
    for slice in slices { for x in slice { squares += (x - mean) * (x - mean) } }
    let deviation = (squares / Double(max(count, 1))).squareRoot()
    for s in slices.indices {
      slices[s].withUnsafeMutableBufferPointer { e in
        for i in e.indices { e[i] = mean + deviation * rng.nextGaussian() }
      }
    }
  }
  return try Spectrum.pooledEigenvalues(of: slices, shape: shape, scale: scale, solver: solver, scratch: scratch)
}

/// A 64-bit FNV-1a hash of a layer name, mixed into the seed so each layer draws its own
/// shuffle stream whatever order layers are analysed in.
package func layerSeed(_ seed: UInt64, name: String) -> UInt64 {
  var h: UInt64 = 0xCBF2_9CE4_8422_2325
  for byte in name.utf8 {
    h ^= UInt64(byte)
    h = h &* 0x0000_0100_0000_01B3
  }
  return seed ^ h
}

/// Shuffles `values` uniformly at random with `rng`.
///
/// Up to 2¹⁶ elements this is `SplitMix64.shuffle` (Fisher–Yates). Larger arrays take a
/// Rao–Sandelius shuffle, also exactly uniform but cache-friendly: each element goes to one of
/// 256 buckets chosen by the top byte of a draw (a stable scatter), each bucket is then
/// Fisher–Yates-shuffled, and the buckets are concatenated. Fisher–Yates on tens of millions of
/// elements spends its time on cache misses (~4 s for 45 M doubles); this takes a fraction.
///
/// With `scratch`, the bucket labels and the scattered copy live in its reused buffers (the
/// shuffled values are swapped into `values`), so a large layer's shuffle allocates nothing.
package func shuffleElements(_ values: inout [Double], using rng: inout SplitMix64, scratch: ESDScratch? = nil) {
  var output: [Double] = []
  if let scratch { swap(&output, &scratch.shuffleOutput) }
  shuffleElements(&values, spare: &output, using: &rng, scratch: scratch)
  // The old values' storage goes back to the scratch for the next shuffle.
  if let scratch { swap(&output, &scratch.shuffleOutput) }
}

/// `shuffleElements` for any element type, the large-array shuffle scattering into `spare`
/// (resized as needed), which then holds the old values' storage.
func shuffleElements<T: Numeric>(_ values: inout [T], spare output: inout [T], using rng: inout SplitMix64,
                                 scratch: ESDScratch?) {
  let n = values.count
  guard n > 1 << 16 else {
    values.withUnsafeMutableBufferPointer { rng.shuffle($0) }
    return
  }
  WorkBuffer.resize(&output, to: n)
  values.withUnsafeBufferPointer { source in
    scatterShuffle(source, into: &output, using: &rng, scratch: scratch)
  }
  swap(&values, &output)
}

/// `values` := a uniformly shuffled copy of `source`, the same draws and result as copying
/// `source` into `values` and calling `shuffleElements`, but without the intermediate copy:
/// the scatter reads `source` directly. A layer's first random draw thus needs no second
/// W-sized buffer besides `values` (`ESDAnalyzer.shuffledDraws`).
package func shuffledCopy<T: Numeric>(of source: UnsafeBufferPointer<T>, into values: inout [T],
                                      using rng: inout SplitMix64, scratch: ESDScratch? = nil) {
  let n = source.count
  WorkBuffer.resize(&values, to: n)
  guard n > 1 << 16 else {
    values.withUnsafeMutableBufferPointer { out in
      if n > 0 { out.baseAddress!.update(from: source.baseAddress!, count: n) }
      rng.shuffle(out)
    }
    return
  }
  scatterShuffle(source, into: &values, using: &rng, scratch: scratch)
}

/// The Rao–Sandelius shuffle of `shuffleElements` from `source` into `output` (n elements, not
/// overlapping `source`): bucket labels drawn in order, a stable scatter, then Fisher–Yates
/// within each bucket. The labels live in `scratch.shuffleBuckets` when given.
func scatterShuffle<T>(_ source: UnsafeBufferPointer<T>, into output: inout [T],
                       using rng: inout SplitMix64, scratch: ESDScratch?) {
  let n = source.count
  var buckets: [UInt8] = []
  if let scratch { swap(&buckets, &scratch.shuffleBuckets) }
  WorkBuffer.resize(&buckets, to: n)
  var counts = [Int](repeating: 0, count: 257)
  buckets.withUnsafeMutableBufferPointer { b in
    counts.withUnsafeMutableBufferPointer { c in
      for i in 0..<n {
        let k = Int(rng.next() >> 56)
        b[i] = UInt8(k)
        c[k + 1] += 1
      }
      for k in 1...256 { c[k] += c[k - 1] }
    }
  }
  var offsets = Array(counts[0..<256])
  buckets.withUnsafeBufferPointer { b in
    output.withUnsafeMutableBufferPointer { out in
      offsets.withUnsafeMutableBufferPointer { o in
        for i in 0..<n {
          let k = Int(b[i])
          out[o[k]] = source[i]
          o[k] += 1
        }
      }
    }
  }
  output.withUnsafeMutableBufferPointer { out in
    for k in 0..<256 {
      let part = UnsafeMutableBufferPointer(rebasing: out[counts[k]..<counts[k + 1]])
      rng.shuffle(part)
    }
  }
  if let scratch { swap(&buckets, &scratch.shuffleBuckets) }
}
