import CompareCore

/// The per-layer work shared by every estimator: centring, the Gram matrix, the rbf kernel,
/// and the biased / U-centring of a Gram matrix. Internal; loops over raw buffers.
package enum GramKernel {
  /// `out = x − 1μᵀ` with μ the column means of the n×p row-major `x` (one `gemv`).
  ///
  /// HSIC does not change when features are translated, but a float32 Gram of uncentred
  /// activations (post-ReLU, or with an offset) loses digits to cancellation. Any common
  /// translation is exact for HSIC, so μ needs no more than `S` precision; subtracting values
  /// this close is exact (Sterbenz), which removes an offset of any size.
  static func centreColumns<S: BLASScalar>(_ x: UnsafePointer<S>, rows n: Int, columns p: Int,
                                           into out: UnsafeMutablePointer<S>) {
    guard n > 0, p > 0 else { return }
    withUnsafeTemporaryAllocation(of: S.self, capacity: n + p) { buffer in
      let ones = buffer.baseAddress!, m = ones + n
      ones.initialize(repeating: 1, count: n)
      S.gemv(transpose: true, m: Int32(n), n: Int32(p), alpha: 1 / S(n), a: x, lda: Int32(p),
             x: ones, incx: 1, beta: 0, y: m, incy: 1)
      for i in 0..<n {
        let row = x + i * p, target = out + i * p
        for j in 0..<p { target[j] = row[j] - m[j] }
      }
    }
  }

  /// The upper triangle of the n×n Gram of the column-centred n×p row-major `x`, formed panel by
  /// panel: `(x − 1μᵀ)(x − 1μᵀ)ᵀ = Σ_panels x̃_c x̃_cᵀ`, each panel of `panelColumns`
  /// columns centred into `panel` (n·width elements, small enough to stay in cache) and added by
  /// one `syrk` (β = 1 after the first).
  ///
  /// The same centring as `centreColumns` then `upperGram` (μ of each column by `gemv`), without
  /// writing and re-reading a centred copy of the whole layer: on 512 × 4096 float32 batches the
  /// centring then costs nearly nothing beside the `syrk` (two workers, 228 Gram matrices:
  /// 1.52 s → 1.42 s; `syrk` alone on the raw rows 1.40 s). `width` overrides the panel width
  /// (tests); `panel` must hold n·width elements. Returns ‖μ‖², the squared norm of the column
  /// means (for `MinibatchCKA`'s choice to centre or not).
  @discardableResult
  static func centredUpperGram<S: BLASScalar>(_ x: UnsafePointer<S>, rows n: Int, columns p: Int,
                                              panel: UnsafeMutablePointer<S>,
                                              into gram: UnsafeMutablePointer<S>,
                                              width chosen: Int? = nil) -> Double {
    guard n > 0 else { return 0 }
    guard p > 0 else {
      gram.update(repeating: 0, count: n * n)
      return 0
    }
    let width = Swift.max(1, Swift.min(p, chosen ?? panelColumns(rows: n, columns: p, scalar: S.self)))
    return withUnsafeTemporaryAllocation(of: S.self, capacity: n + width) { buffer in
      let ones = buffer.baseAddress!, m = ones + n
      ones.initialize(repeating: 1, count: n)
      var meanSquares = 0.0
      for start in stride(from: 0, to: p, by: width) {
        let w = Swift.min(width, p - start)
        S.gemv(transpose: true, m: Int32(n), n: Int32(w), alpha: 1 / S(n), a: x + start, lda: Int32(p),
               x: ones, incx: 1, beta: 0, y: m, incy: 1)
        for j in 0..<w { meanSquares += Double(m[j]) * Double(m[j]) }
        for i in 0..<n {
          let row = x + i * p + start, target = panel + i * w
          for j in 0..<w { target[j] = row[j] - m[j] }
        }
        S.syrk(transpose: false, n: Int32(n), k: Int32(w), alpha: 1, a: panel, lda: Int32(w),
               beta: start == 0 ? 0 : 1, c: gram, ldc: Int32(n))
      }
      return meanSquares
    }
  }

  /// The trace of the n×n Gram in `gram`, in `Double`.
  static func trace<S: BLASScalar>(_ gram: UnsafePointer<S>, size n: Int) -> Double {
    var sum = 0.0
    for i in 0..<n { sum += Double(gram[i * n + i]) }
    return sum
  }

  /// Columns per panel of `centredUpperGram`: as many as fit n rows in 1 MiB (a core's L2 here),
  /// at least 256 (so each `syrk` still does ≥ 256 multiply–adds per element of the Gram it
  /// updates) and at most p.
  static func panelColumns<S>(rows n: Int, columns p: Int, scalar: S.Type) -> Int {
    let fit = (1 << 20) / Swift.max(1, n * MemoryLayout<S>.stride)
    return Swift.max(1, Swift.min(p, Swift.max(256, fit / 16 * 16)))
  }

  /// `true` when every row of the n×p row-major `x` equals the first: a layer that maps every
  /// example of the batch to one point, whose HSIC with itself is exactly 0. Exits at the first
  /// difference, which for a layer that varies is within the first rows.
  static func isConstant<S: BLASScalar>(_ x: UnsafePointer<S>, rows n: Int, columns p: Int) -> Bool {
    for i in 1..<max(n, 1) {
      let row = x + i * p
      for j in 0..<p where row[j] != x[j] { return false }
    }
    return true
  }

  /// The upper triangle of the n×n Gram `x·xᵀ` of an n×p row-major matrix, by one `syrk`
  /// in `S` into `gram` (n·n elements; the lower triangle is left untouched).
  package static func upperGram<S: BLASScalar>(_ x: UnsafePointer<S>, rows n: Int, columns p: Int,
                                       into gram: UnsafeMutablePointer<S>) {
    guard n > 0 else { return }
    if p == 0 {
      gram.update(repeating: 0, count: n * n)
      return
    }
    S.syrk(transpose: false, n: Int32(n), k: Int32(p), alpha: 1, a: x, lda: Int32(p), beta: 0,
           c: gram, ldc: Int32(n))
  }

  /// The symmetric matrix whose upper triangle is in `upper`, in `Double`, both triangles.
  static func widen<S: BLASScalar>(_ upper: UnsafePointer<S>, size n: Int,
                                   into out: UnsafeMutablePointer<Double>) {
    for i in 0..<n {
      let row = out + i * n
      for j in 0..<i { row[j] = Double(upper[j * n + i]) }
      for j in i..<n { row[j] = Double(upper[i * n + j]) }
    }
  }

  /// `true` when the Gram's diagonal (the rows' squared norms) overflowed, or its largest entry
  /// is below √(least normal `S`) (about 1e-19 in float32): products of activations that small
  /// fall into `S`'s subnormal range and lose digits, down to a Gram of zeros. Activations of
  /// ordinary size never come near either limit.
  static func diagonalOutOfRange<S: BLASScalar>(_ gram: UnsafePointer<S>, size n: Int) -> Bool {
    var largest: S = 0
    for i in 0..<n {
      let d = gram[i * n + i]
      guard d.isFinite else { return true }
      largest = Swift.max(largest, d)
    }
    return largest < S.leastNormalMagnitude.squareRoot()
  }

  /// The power of two, 2^e, that brings the largest |x| of `values` into [1, 2) (1 when every
  /// value is 0 or not finite). Multiplying by it is exact, and HSIC scales by (2^e)⁴ while
  /// CKA does not change.
  static func normalisingExponent<S: BLASScalar>(_ values: UnsafeBufferPointer<S>) -> Int {
    var largest: S = 0
    for v in values where v.isFinite { largest = Swift.max(largest, Swift.abs(v)) }
    return largest > 0 ? -Int(largest.exponent) : 0
  }

  /// `true` when the diagonal of the `S` Gram is finite: a NaN or ∞ activation, or one whose
  /// square overflows, makes its example's diagonal entry non-finite.
  static func diagonalIsFinite<S: BLASScalar>(_ gram: UnsafePointer<S>, size n: Int) -> Bool {
    for i in 0..<n where !gram[i * n + i].isFinite { return false }
    return true
  }

  /// Length of a packed upper triangle, diagonal included.
  static func packedCount(_ n: Int) -> Int { n * (n + 1) / 2 }

  /// Packs a symmetric n×n matrix's upper triangle row by row, the diagonal scaled by 1/√2,
  /// so that the full Frobenius product ⟨A, B⟩ is twice the packed dot product.
  static func pack(_ full: UnsafePointer<Double>, size n: Int, into out: UnsafeMutablePointer<Double>) {
    let half = 0.5.squareRoot()
    var index = 0
    for i in 0..<n {
      out[index] = full[i * n + i] * half
      index += 1
      let row = full + i * n
      for j in (i + 1)..<max(n, i + 1) { out[index + j - i - 1] = row[j] }
      index += n - i - 1
    }
  }

  /// The symmetric n×n matrix packed by `pack` (its diagonal scaled back by √2), both triangles,
  /// rounded to float32.
  static func unpack(_ packed: UnsafePointer<Double>, size n: Int, into full: UnsafeMutablePointer<Float>) {
    let root2 = 2.0.squareRoot()
    var index = 0
    for i in 0..<n {
      full[i * n + i] = Float(packed[index] * root2)
      for j in (i + 1)..<max(n, i + 1) {
        let v = Float(packed[index + j - i])
        full[i * n + j] = v
        full[j * n + i] = v
      }
      index += n - i
    }
  }

  /// The U-centred form of a linear Gram given by its `S` upper triangle, packed as `pack`
  /// does: one pass for the row sums and one to write. The fast path of linear minibatch CKA,
  /// which never forms the lower triangle. Returns the sum of its off-diagonal entries, 1ᵀK1 − tr K.
  @discardableResult
  static func packUCentred<S: BLASScalar>(_ upper: UnsafePointer<S>, size n: Int,
                                          into out: UnsafeMutablePointer<Double>) -> Double {
    withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { buffer in
      let shift = buffer.baseAddress!
      shift.initialize(repeating: 0, count: n)
      for i in 0..<n {
        let row = upper + i * n
        // Four running sums, so that the additions do not wait on each other (one sum is
        // bound by the add latency: 0.05 s of the 6 × 6 CKA benchmark).
        var (r0, r1, r2, r3) = (0.0, 0.0, 0.0, 0.0)
        var j = i + 1
        while j + 4 <= n {
          let v0 = Double(row[j]), v1 = Double(row[j + 1]), v2 = Double(row[j + 2]), v3 = Double(row[j + 3])
          r0 += v0
          r1 += v1
          r2 += v2
          r3 += v3
          shift[j] += v0
          shift[j + 1] += v1
          shift[j + 2] += v2
          shift[j + 3] += v3
          j += 4
        }
        while j < n {
          let v = Double(row[j])
          r0 += v
          shift[j] += v
          j += 1
        }
        shift[i] += (r0 + r1) + (r2 + r3)
      }
      var total = 0.0
      for i in 0..<n { total += shift[i] }
      let half = total / Double(2 * (n - 1) * (n - 2))
      for i in 0..<n { shift[i] = shift[i] / Double(n - 2) - half }
      var index = 0
      for i in 0..<n {
        out[index] = 0
        index += 1
        let row = upper + i * n, si = shift[i]
        for j in (i + 1)..<max(n, i + 1) { out[index + j - i - 1] = Double(row[j]) - si - shift[j] }
        index += n - i - 1
      }
      return total
    }
  }

  /// Turns a linear Gram matrix into the rbf kernel's, in place:
  /// d²ᵢⱼ = kᵢᵢ + kⱼⱼ − 2kᵢⱼ, σ² = threshold²·median(d²), kᵢⱼ = exp(−d²ᵢⱼ / (2σ²)).
  ///
  /// When the median distance is 0 (most examples identical) the kernel is 1 between
  /// identical examples and 0 otherwise, the limit of the formula, instead of NaN.
  static func rbfInPlace(_ g: UnsafeMutablePointer<Double>, size n: Int, threshold: Double) {
    guard n > 0 else { return }
    var diagonal = [Double](repeating: 0, count: n)
    for i in 0..<n { diagonal[i] = g[i * n + i] }
    for i in 0..<n {
      for j in 0..<n {
        g[i * n + j] = i == j ? 0 : diagonal[i] + diagonal[j] - 2 * g[i * n + j]
      }
    }
    let buffer = UnsafeBufferPointer(start: g, count: n * n)
    var copy = Array(buffer)
    let median = Selection.median(&copy)
    let sigma2 = threshold * threshold * median
    if sigma2 > 0 {
      let scale = -1 / (2 * sigma2)
      for e in 0..<(n * n) { g[e] = exp(g[e] * scale) }
    } else {
      for e in 0..<(n * n) { g[e] = g[e] == 0 ? 1 : 0 }
    }
  }

  /// Székely & Rizzo's U-centring, in place, of an n×n symmetric kernel matrix (n ≥ 4):
  ///
  ///     Ũᵢⱼ = K̃ᵢⱼ − (rᵢ + rⱼ)/(n−2) + s/((n−1)(n−2))  (i ≠ j),   Ũᵢᵢ = 0
  ///
  /// with K̃ = K with a zero diagonal, rᵢ its row sums and s its total. Then
  /// ⟨Ũ_K, Ũ_L⟩/(n(n−3)) is the unbiased HSIC₁ of Song et al. (2012), the formula of
  /// Nguyen, Raghu & Kornblith (2021), eq. 3, term for term.
  static func uCentre(_ g: UnsafeMutablePointer<Double>, size n: Int) {
    for i in 0..<n { g[i * n + i] = 0 }
    withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { buffer in
      let shift = buffer.baseAddress!
      let total = rowSums(g, size: n, into: shift)
      let half = total / Double(2 * (n - 1) * (n - 2))
      for i in 0..<n { shift[i] = shift[i] / Double(n - 2) - half }
      for i in 0..<n {
        let row = g + i * n, si = shift[i]
        for j in 0..<n { row[j] -= si + shift[j] }
        row[i] = 0
      }
    }
  }

  /// Double centring H·K·H, in place (H = I − 11ᵀ/n): the biased HSIC's centred kernel,
  /// Kornblith et al.'s `center_gram(unbiased=False)`.
  static func centre(_ g: UnsafeMutablePointer<Double>, size n: Int) {
    guard n > 0 else { return }
    withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { buffer in
      let means = buffer.baseAddress!
      let total = rowSums(g, size: n, into: means)
      for i in 0..<n { means[i] /= Double(n) }
      let half = total / Double(n * n) / 2
      for i in 0..<n { means[i] -= half }
      for i in 0..<n {
        let row = g + i * n, mi = means[i]
        for j in 0..<n { row[j] -= mi + means[j] }
      }
    }
  }
  /// Row sums of a row-major n×n matrix into `sums` by one `gemv` against a vector of ones;
  /// returns their total.
  static func rowSums(_ g: UnsafeMutablePointer<Double>, size n: Int,
                      into sums: UnsafeMutablePointer<Double>) -> Double {
    guard n > 0 else { return 0 }
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { ones in
      ones.initialize(repeating: 1)
      Double.gemv(transpose: false, m: Int32(n), n: Int32(n), alpha: 1, a: g, lda: Int32(n),
                  x: ones.baseAddress!, incx: 1, beta: 0, y: sums, incy: 1)
      return Double.dot(n: Int32(n), x: sums, incx: 1, y: ones.baseAddress!, incy: 1)
    }
  }
}

/// Order statistics by quickselect.
enum Selection {
  /// The median as numpy computes it: the middle element, or the mean of the two middle
  /// elements for an even count. Reorders `values`. NaN for an empty array.
  static func median(_ values: inout [Double]) -> Double {
    let n = values.count
    guard n > 0 else { return .nan }
    let upper = select(&values, rank: n / 2)
    if n % 2 == 1 { return upper }
    // After selecting rank n/2, everything below index n/2 is ≤ it: the lower middle is their max.
    var lower = -Double.infinity
    for i in 0..<(n / 2) { lower = Swift.max(lower, values[i]) }
    return (lower + upper) / 2
  }

  /// The element of rank `k` (0-based) in ascending order; partitions `values` around it.
  static func select(_ values: inout [Double], rank k: Int) -> Double {
    values.withUnsafeMutableBufferPointer { v in
      var low = 0, high = v.count - 1
      while low < high {
        // Median of three as the pivot.
        let mid = low + (high - low) / 2
        let a = v[low], b = v[mid], c = v[high]
        let pivot = Swift.max(Swift.min(a, b), Swift.min(Swift.max(a, b), c))
        var i = low, j = high
        while i <= j {
          while v[i] < pivot { i += 1 }
          while v[j] > pivot { j -= 1 }
          if i <= j {
            v.swapAt(i, j)
            i += 1
            j -= 1
          }
        }
        if k <= j { high = j } else if k >= i { low = i } else { return v[k] }
      }
      return v[k]
    }
  }
}
