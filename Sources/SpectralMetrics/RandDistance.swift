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

/// `rand_distance`: how far W's ESD is from that of W with its elements shuffled.
///
/// The elements of W are permuted at random (`shuffleElements` driven by `SplitMix64(seed:)`),
/// which keeps their distribution and ‖W‖_F but destroys all correlations; the shuffled
/// matrix's eigenvalues are computed like W's, and the result is the Jensen–Shannon distance
/// between the two ascending eigenvalue vectors (see `jensenShannonDistance`). Near 0 for a
/// random-like layer, larger the more structure training put into W. Invariant to scaling W.
///
/// Unlike the reference tool, the shuffle is seeded, so the value is reproducible.
/// - Throws: as `Spectrum(of:)`.
/// - Complexity: two eigen-decompositions, O(N·M²).
public func randDistance<S: BLASScalar>(of w: Matrix<S>, seed: UInt64,
                                        solver: EigenvalueSolver = EigenvalueSolver()) throws -> Double {
  let spectrum = try Spectrum(of: w, solver: solver)
  var rng = SplitMix64(seed: seed)
  var work = [w.elements.map { Double($0) }]
  let rand = try shuffledEigenvalues(&work, shape: (w.rows, w.columns), scale: 1, using: &rng,
                                     solver: solver)
  return jensenShannonDistance(spectrum.eigenvalues, rand)
}

/// Shuffles each slice's elements in place (one stream, slice after slice) and returns the
/// pooled ESD of the shuffled slices: the step `randDistance` and `ESDAnalyzer` share, so the
/// same matrix and seed give the same `rand_distance` through either.
package func shuffledEigenvalues(_ slices: inout [[Double]], shape: (rows: Int, columns: Int),
                                 scale: Double, using rng: inout SplitMix64,
                                 solver: EigenvalueSolver) throws -> [Double] {
  for s in slices.indices { shuffleElements(&slices[s], using: &rng) }
  return try Spectrum.pooledEigenvalues(of: slices, shape: shape, scale: scale, solver: solver)
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
package func shuffleElements(_ values: inout [Double], using rng: inout SplitMix64) {
  let n = values.count
  guard n > 1 << 16 else {
    values.withUnsafeMutableBufferPointer { rng.shuffle($0) }
    return
  }
  var buckets = [UInt8](repeating: 0, count: n)
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
  var output = [Double](repeating: 0, count: n)
  var offsets = Array(counts[0..<256])
  values.withUnsafeBufferPointer { src in
    buckets.withUnsafeBufferPointer { b in
      output.withUnsafeMutableBufferPointer { out in
        offsets.withUnsafeMutableBufferPointer { o in
          for i in 0..<n {
            let k = Int(b[i])
            out[o[k]] = src[i]
            o[k] += 1
          }
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
  values = output
}
