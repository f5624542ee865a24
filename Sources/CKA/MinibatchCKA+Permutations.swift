import CompareCore

/// Buffers of the permutation null, reused from batch to batch.
struct PermutationScratch: Sendable {
  /// B's U-centred matrices of the batch, full n×n each.
  var fullB: [Double] = []
  /// The batch's shuffles, `permutations × n`.
  var orders: [Int32] = []
  /// Permuted rows of B's matrices for a chunk of shuffles and a block of rows.
  var gathered: [Double] = []
  /// Their products with A's rows, `a × (chunk·b)`.
  var products: [Double] = []
}

extension MinibatchCKA {
  /// Shuffles whose permuted rows are gathered together: their products with A's rows are one
  /// product, and A's rows are read once per chunk.
  static let permutationChunk = 16
  /// Doubles of permuted rows gathered per product (256 KiB): they stay in cache between
  /// the gather and the product.
  static let gatheredTarget = 32768

  /// The permutation null of every cell: θ recomputed with each permutation's cross sums,
  ///
  ///     θ_π(A_k, B_l) = Σ_b ⟨Ũ_K(b), P_π Ũ_L(b) P_πᵀ⟩/(n(n−3)) / √(Σ_b h_xx(b) · Σ_b h_yy(b))
  ///
  /// (the self terms do not change under a permutation). One `layersA × layersB` matrix per
  /// permutation, in the order drawn; empty without permutations.
  public func permutedSimilarities() -> [Matrix<Double>] {
    let a = layersA.count, b = layersB.count
    return (0..<permutations).map { p in
      BatchHSIC.ratio(Array(nullCross[(p * a * b)..<((p + 1) * a * b)]), selfA, selfB, a, b)
    }
  }

  /// Adds this batch's permuted cross terms: for each of `permutations` shuffles π of the
  /// batch's n examples, the same for all of B's layers,
  ///
  ///     ⟨Ũ_K, P Ũ_L Pᵀ⟩ = 2 Σ_{i<j} Ũ_K[i, j] · Ũ_L[π(i), π(j)]     (Ũ has a zero diagonal)
  ///
  /// for every pair, from the U-centred matrices already in `stacked`. A's packed upper
  /// triangles are read as they are; B's are unpacked once and their permuted rows gathered,
  /// a block of rows for a chunk of shuffles at a time, then multiplied with A's rows by one
  /// product. Cost O(P·a·b·n²/2) multiply-adds and O(P·b·n²/2) gathers.
  mutating func addPermutedCross(size n: Int, scale: Double) {
    let a = layersA.count, b = layersB.count, count = permutations
    let packed = GramKernel.packedCount(n)
    let chunk = min(count, Self.permutationChunk)
    let target = max(n, Self.gatheredTarget / (chunk * b))
    var work = permutationScratch
    permutationScratch = PermutationScratch()  // keeps the buffers uniquely referenced
    if work.orders.count != count * n { work.orders = [Int32](repeating: 0, count: count * n) }
    if work.fullB.count != b * n * n { work.fullB = [Double](repeating: 0, count: b * n * n) }
    let gatheredCount = chunk * b * (target + n)
    if work.gathered.count < gatheredCount { work.gathered = [Double](repeating: 0, count: gatheredCount) }
    if work.products.count != a * chunk * b { work.products = [Double](repeating: 0, count: a * chunk * b) }
    work.orders.withUnsafeMutableBufferPointer { orders in
      for p in 0..<count {
        let order = UnsafeMutableBufferPointer(rebasing: orders[(p * n)..<((p + 1) * n)])
        for i in 0..<n { order[i] = Int32(i) }
        shuffles.shuffle(order)
      }
    }
    // Where row i of a packed triangle starts.
    let rowStart = (0...n).map { i in i * n - i * (i - 1) / 2 }
    stacked.withUnsafeBufferPointer { stack in
      work.fullB.withUnsafeMutableBufferPointer { full in
        for l in 0..<b {
          GramKernel.unpack(stack.baseAddress! + (a + l) * packed, size: n, into: full.baseAddress! + l * n * n)
        }
      }
    }
    stacked.withUnsafeBufferPointer { stack in
      work.fullB.withUnsafeBufferPointer { fullB in
        work.orders.withUnsafeBufferPointer { orders in
          work.gathered.withUnsafeMutableBufferPointer { gathered in
            work.products.withUnsafeMutableBufferPointer { products in
              nullCross.withUnsafeMutableBufferPointer { null in
                let g = gathered.baseAddress!, c = products.baseAddress!
                for first in stride(from: 0, to: count, by: chunk) {
                  let drawn = min(chunk, count - first), columns = drawn * b
                  c.update(repeating: 0, count: a * columns)
                  var i0 = 0
                  while i0 < n {
                    var i1 = i0, length = 0
                    while i1 < n, length < target {
                      length += n - i1
                      i1 += 1
                    }
                    for q in 0..<drawn {
                      let order = orders.baseAddress! + (first + q) * n
                      for l in 0..<b {
                        var out = g + (q * b + l) * length
                        let source = fullB.baseAddress! + l * n * n
                        for i in i0..<i1 {
                          let row = source + Int(order[i]) * n
                          for j in i..<n { out[j - i] = row[Int(order[j])] }
                          out += n - i
                        }
                      }
                    }
                    Double.gemm(transposeA: false, transposeB: true, m: Int32(a), n: Int32(columns),
                                k: Int32(length), alpha: 1, a: stack.baseAddress! + rowStart[i0],
                                lda: Int32(packed), b: g, ldb: Int32(length), beta: 1, c: c,
                                ldc: Int32(columns))
                    i0 = i1
                  }
                  // The packed product runs over i ≤ j; the diagonals are zero, so the full
                  // Frobenius product is twice it.
                  for q in 0..<drawn {
                    for k in 0..<a {
                      for l in 0..<b {
                        null[(first + q) * a * b + k * b + l] += 2 * scale * c[k * columns + q * b + l]
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    permutationScratch = work
  }
}
