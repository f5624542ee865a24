import CompareCore
import Dispatch

/// Buffers of the permutation null, reused from batch to batch.
struct PermutationScratch: Sendable {
  /// B's U-centred matrices of the batch, full n×n each, in float32 (see `addPermutedCross`).
  var fullB: [Float] = []
  /// The batch's shuffles, `permutations × n`.
  var orders: [Int32] = []
  /// A's packed U-centred matrices of the batch in float32, `a × n(n+1)/2`.
  var packedA: [Float] = []
  /// Permuted rows of B's matrices for a chunk of shuffles and a block of rows.
  var gathered: [Float] = []
  /// Their products with A's rows for one block, `a × (chunk·b)` per thread.
  var products: [Float] = []
  /// The products summed over blocks, in float64, `a × (chunk·b)` per thread.
  var sums: [Double] = []
}

extension MinibatchCKA {
  /// Shuffles whose permuted rows are gathered together: their products with A's rows are one
  /// product, and A's rows are read once per chunk.
  static let permutationChunk = 16
  /// Permuted values gathered per product (128 KiB of float32): they stay in cache between
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
  /// for every pair, from the U-centred matrices already in `stacked`. B's are unpacked once
  /// and their permuted rows gathered, a block of rows for a chunk of shuffles at a time, then
  /// multiplied with A's packed rows by one product per block; the blocks' products are summed
  /// in float64 over the triangle and over batches.
  ///
  /// The gathers and the products run in float32: the gathers read rows in random order, and
  /// at half the size they stay in cache far more often, and the products run twice as fast
  /// (together the permutations took 40 % less time on the benchmark shape). A block's
  /// product sums at most a few hundred float32 terms, so a null value moves by ~1e-9 (tested
  /// at 1e-7), far below the null's spread; the estimate itself does not use these copies.
  ///
  /// Cost O(P·a·b·n²/2) multiply-adds and O(P·b·n²/2) gathers; the shuffles run on as many
  /// threads as BLAS uses.
  mutating func addPermutedCross(size n: Int, scale: Double) {
    let a = layersA.count, b = layersB.count, count = permutations
    let packed = GramKernel.packedCount(n)
    let chunk = min(count, Self.permutationChunk)
    let target = max(n, Self.gatheredTarget / (chunk * b))
    let chunks = (count + chunk - 1) / chunk
    // The shuffles are independent: chunks of them run on up to as many threads as BLAS
    // uses, each with its own buffers; each null entry is summed by one thread in a fixed
    // order, so the result does not depend on the thread count.
    let workers = max(1, min(BLASThreads.count, chunks))
    // Each worker's products run on one BLAS thread: threaded ones woke OpenBLAS's threads,
    // which then spun in `sched_yield` beside the workers (0.5 s of system time in 3 s).
    let threads = BLASThreads.count
    if workers > 1 { BLASThreads.set(1) }
    defer { if workers > 1 { BLASThreads.set(threads) } }
    let gatheredCount = chunk * b * (target + n), productsCount = a * chunk * b
    var work = permutationScratch
    permutationScratch = PermutationScratch()  // keeps the buffers uniquely referenced
    if work.orders.count != count * n { work.orders = [Int32](repeating: 0, count: count * n) }
    if work.fullB.count != b * n * n { work.fullB = [Float](repeating: 0, count: b * n * n) }
    if work.packedA.count != a * packed { work.packedA = [Float](repeating: 0, count: a * packed) }
    if work.gathered.count < workers * gatheredCount {
      work.gathered = [Float](repeating: 0, count: workers * gatheredCount)
    }
    if work.products.count < workers * productsCount {
      work.products = [Float](repeating: 0, count: workers * productsCount)
      work.sums = [Double](repeating: 0, count: workers * productsCount)
    }
    work.orders.withUnsafeMutableBufferPointer { orders in
      for p in 0..<count {
        let order = UnsafeMutableBufferPointer(rebasing: orders[(p * n)..<((p + 1) * n)])
        for i in 0..<n { order[i] = Int32(i) }
        shuffles.shuffle(order)
      }
    }
    grams.stacked.withUnsafeBufferPointer { stack in
      work.fullB.withUnsafeMutableBufferPointer { full in
        for l in 0..<b {
          GramKernel.unpack(stack.baseAddress! + (a + l) * packed, size: n, into: full.baseAddress! + l * n * n)
        }
      }
      work.packedA.withUnsafeMutableBufferPointer { copy in
        for e in 0..<(a * packed) { copy[e] = Float(stack[e]) }
      }
    }
    let shape = PermutedCross(a: a, b: b, n: n, packed: packed, count: count, chunk: chunk,
                              target: target, scale: scale)
    work.packedA.withUnsafeBufferPointer { stack in
      work.fullB.withUnsafeBufferPointer { fullB in
        work.orders.withUnsafeBufferPointer { orders in
          work.gathered.withUnsafeMutableBufferPointer { gathered in
            work.products.withUnsafeMutableBufferPointer { products in
              work.sums.withUnsafeMutableBufferPointer { sums in
              nullCross.withUnsafeMutableBufferPointer { null in
                let buffers = PermutedCross.Buffers(
                  stack: stack.baseAddress!, fullB: fullB.baseAddress!, orders: orders.baseAddress!,
                  gathered: gathered.baseAddress!, products: products.baseAddress!,
                  sums: sums.baseAddress!, null: null.baseAddress!)
                if workers == 1 {
                  for index in 0..<chunks { shape.run(chunk: index, worker: 0, buffers) }
                } else {
                  DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    for index in stride(from: worker, to: chunks, by: workers) {
                      shape.run(chunk: index, worker: worker, buffers)
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

/// One batch's permuted cross terms, a chunk of shuffles at a time (see `addPermutedCross`).
struct PermutedCross: Sendable {
  let a: Int, b: Int, n: Int, packed: Int, count: Int, chunk: Int, target: Int, scale: Double

  /// The buffers, shared by the threads: each thread writes only its own `gathered` and
  /// `products` slices and the `null` rows of its shuffles.
  struct Buffers: @unchecked Sendable {
    let stack: UnsafePointer<Float>, fullB: UnsafePointer<Float>, orders: UnsafePointer<Int32>
    let gathered: UnsafeMutablePointer<Float>, products: UnsafeMutablePointer<Float>
    let sums: UnsafeMutablePointer<Double>, null: UnsafeMutablePointer<Double>
  }

  /// Shuffles `index·chunk ..< (index+1)·chunk`: for each block of rows, B's permuted rows of
  /// every shuffle gathered (they stay in cache) and multiplied with A's rows by one product;
  /// then the products added to the null sums.
  func run(chunk index: Int, worker: Int, _ buffers: Buffers) {
    let first = index * chunk, drawn = min(chunk, count - first), columns = drawn * b
    let g = buffers.gathered + worker * chunk * b * (target + n)
    let c = buffers.products + worker * a * chunk * b
    let sums = buffers.sums + worker * a * chunk * b
    sums.update(repeating: 0, count: a * columns)
    var i0 = 0
    while i0 < n {
      var i1 = i0, length = 0
      while i1 < n, length < target {
        length += n - i1
        i1 += 1
      }
      for q in 0..<drawn {
        let order = buffers.orders + (first + q) * n
        for l in 0..<b {
          var out = g + (q * b + l) * length
          let source = buffers.fullB + l * n * n
          for i in i0..<i1 {
            let row = source + Int(order[i]) * n
            for j in i..<n { out[j - i] = row[Int(order[j])] }
            out += n - i
          }
        }
      }
      // Row i0 of a packed triangle starts at i0·n − i0(i0−1)/2.
      Float.gemm(transposeA: false, transposeB: true, m: Int32(a), n: Int32(columns),
                 k: Int32(length), alpha: 1, a: buffers.stack + i0 * n - i0 * (i0 - 1) / 2,
                 lda: Int32(packed), b: g, ldb: Int32(length), beta: 0, c: c, ldc: Int32(columns))
      for e in 0..<(a * columns) { sums[e] += Double(c[e]) }
      i0 = i1
    }
    // The packed product runs over i ≤ j; the diagonals are zero, so the full Frobenius
    // product is twice it.
    for q in 0..<drawn {
      for k in 0..<a {
        for l in 0..<b {
          buffers.null[(first + q) * a * b + k * b + l] += 2 * scale * sums[k * columns + q * b + l]
        }
      }
    }
  }
}
