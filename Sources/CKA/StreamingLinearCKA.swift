import CompareCore

/// Exact full-data linear CKA, biased or debiased, accumulated over batches of examples with
/// memory independent of the number of examples n (Kornblith et al. 2019, in feature space).
///
/// Each layer is shifted by a provisional centre c (its first batch's column means), and the
/// batches add up, in float64: the column sums Σx′, the Gram X′ᵀX′ of each layer, the cross
/// products X′ᵀY′ of each pair, and, for the debiased estimator, the squared row norms aᵢ = ‖x′ᵢ‖²
/// with Σa, Σa², Σaᵢx′ᵢ and, per pair, Σaᵢbᵢ, Σaᵢy′ᵢ, Σbᵢx′ᵢ. With δ = Σx′/n the true centring
/// is recovered exactly at the end: X̃ᵀỸ = X′ᵀY′ − n·δx·δyᵀ, Σ‖x̃ᵢ‖² = Σa − n‖δx‖², and
///
///     Σᵢ ‖x̃ᵢ‖²‖ỹᵢ‖² = Σab − 2δy·Σay′ − 2δx·Σbx′ + 4δxᵀ(X′ᵀY′)δy + ‖δy‖²Σa + ‖δx‖²Σb − 3n‖δx‖²‖δy‖²
///
/// which are the terms `LinearCKA` computes from the whole data in memory.
///
/// - Complexity: per batch of b examples, O(b·p·q) per layer pair (one GEMM) and O(b·p²) per
///   layer; memory p·q float64 per layer pair and p² per layer, whatever n.
public struct StreamingLinearCKA: Sendable {
  public let debiased: Bool
  let widthsA: [Int], widthsB: [Int]
  var centres: [[Double]] = []
  public private(set) var examples = 0
  var sums: [[Double]]
  /// Every layer's Gram X′ᵀX′, then every pair's X′ᵀY′, row-major, one after the other in one
  /// buffer (so that the workers can add into them at once); `products[k]` is where the k-th
  /// starts (layers first, then pairs in row order), with one more entry at the end.
  var accumulated: [Double], products: [Int]
  var normSums: [Double], normSquares: [Double], normWeighted: [[Double]]
  var normProducts: [Double], weightedX: [[Double]], weightedY: [[Double]]

  /// An empty accumulator for layers of these widths (features).
  public init(widthsA: [Int], widthsB: [Int], debiased: Bool) {
    self.debiased = debiased
    self.widthsA = widthsA
    self.widthsB = widthsB
    let widths = widthsA + widthsB
    // The Gram and cross accumulators are the large ones (134 MB per pair of 4,096-wide
    // layers): prefaulted in one call, which here costs 0.7 s per GB of system time against
    // 1.7 s for zeros written page by page.
    sums = widths.map { [Double](repeating: 0, count: $0) }
    let sizes = widths.map { $0 * $0 } + widthsA.flatMap { p in widthsB.map { q in p * q } }
    products = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
    accumulated = WorkBuffer.prefaulted(count: products.last!)
    normSums = [Double](repeating: 0, count: widths.count)
    normSquares = normSums
    normWeighted = sums
    normProducts = [Double](repeating: 0, count: widthsA.count * widthsB.count)
    weightedX = widthsA.flatMap { p in widthsB.map { _ in [Double](repeating: 0, count: p) } }
    weightedY = widthsA.flatMap { _ in widthsB.map { q in [Double](repeating: 0, count: q) } }
  }

  /// The bytes the accumulator holds: p·q per pair and p² (plus vectors) per layer, in float64.
  public static func memoryBytes(widthsA: [Int], widthsB: [Int]) -> Int {
    let pairs = widthsA.reduce(0) { total, p in total + widthsB.reduce(0) { $0 + p * $1 + p + $1 } }
    return 8 * (pairs + (widthsA + widthsB).reduce(0) { $0 + $1 * $1 + 2 * $1 })
  }

  /// Adds a batch: the same examples through every layer of both models. `names` describe the
  /// layers (A's then B's) in messages, e.g. `layer 'fc1' of mlp`.
  /// - Throws: `InputError` for a NaN/∞ activation (named by layer and example) or mismatched shapes.
  ///
  /// The batch's matrices are shifted in place (by the provisional centres): the caller's
  /// buffers, refilled for the next batch, are the only copy, so no batch is allocated twice.
  public mutating func add(_ batchA: inout [Matrix<Double>], _ batchB: inout [Matrix<Double>], names: [String]) throws {
    let b = batchA.first?.rows ?? batchB.first?.rows ?? 0
    // Checked one layer at a time through the arrays themselves: a second reference to a
    // layer's storage would make the shift below copy it.
    guard batchA.count == widthsA.count, batchB.count == widthsB.count,
          zip(batchA, widthsA).allSatisfy({ $0.rows == b && $0.columns == $1 }),
          zip(batchB, widthsB).allSatisfy({ $0.rows == b && $0.columns == $1 }) else {
      throw InputError("a batch's layers do not match the accumulator's shapes")
    }
    let count = batchA.count + batchB.count
    func layer(_ l: Int) -> Matrix<Double> { l < batchA.count ? batchA[l] : batchB[l - batchA.count] }
    for l in 0..<count {
      if let (row, column) = layer(l).firstNonFinite() {
        throw InputError("\(names[l]) has a non-finite activation (\(layer(l)[row, column])) at example \(examples + row), feature \(column)")
      }
    }
    if centres.isEmpty {
      centres = (0..<count).map { l in
        var sum = [Double](repeating: 0, count: layer(l).columns)
        Self.accumulateTransposedProduct(layer(l), [Double](repeating: 1 / Double(max(b, 1)), count: b), into: &sum)
        return sum
      }
    }
    // Shift in place, then take the shifted layers (sharing the callers' storage).
    for l in 0..<(batchA.count + batchB.count) {
      let centre = centres[l]
      func shift(_ x: inout Matrix<Double>) {
        let p = x.columns
        x.elements.withUnsafeMutableBufferPointer { e in
          for i in 0..<b { for c in 0..<p { e[i * p + c] -= centre[c] } }
        }
      }
      if l < batchA.count { shift(&batchA[l]) } else { shift(&batchB[l - batchA.count]) }
    }
    let shifted = batchA + batchB
    let norms = shifted.map { x in
      x.elements.withUnsafeBufferPointer { e in
        (0..<b).map { i in
          var total = 0.0
          for c in 0..<x.columns { let v = e[i * x.columns + c]; total += v * v }
          return total
        }
      }
    }
    let a = widthsA.count
    Self.accumulateProducts(shifted, layersA: a, into: &accumulated, at: products)
    // The matrix–vector products below are memory-bound and run on one BLAS thread: threaded,
    // each woke OpenBLAS's threads, which then spun beside the next step.
    let threads = BLASThreads.count
    BLASThreads.set(1)
    defer { BLASThreads.set(threads) }
    let ones = [Double](repeating: 1, count: b)
    for (l, x) in shifted.enumerated() {
      Self.accumulateTransposedProduct(x, ones, into: &sums[l])
      for i in 0..<b { normSums[l] += norms[l][i]; normSquares[l] += norms[l][i] * norms[l][i] }
      if debiased { Self.accumulateTransposedProduct(x, norms[l], into: &normWeighted[l]) }
    }
    for i in 0..<a where debiased {
      for j in 0..<widthsB.count {
        let e = i * widthsB.count + j, x = shifted[i], y = shifted[a + j]
        for r in 0..<b { normProducts[e] += norms[i][r] * norms[a + j][r] }
        Self.accumulateTransposedProduct(x, norms[a + j], into: &weightedX[e])
        Self.accumulateTransposedProduct(y, norms[i], into: &weightedY[e])
      }
    }
    examples += b
  }

  /// v += xᵀw (x row-major `b × p`, w of length b): one GEMV with beta 1.
  static func accumulateTransposedProduct(_ x: Matrix<Double>, _ w: [Double], into v: inout [Double]) {
    guard x.rows > 0, x.columns > 0 else { return }
    x.elements.withUnsafeBufferPointer { px in
      w.withUnsafeBufferPointer { pw in
        v.withUnsafeMutableBufferPointer { pv in
          Double.gemv(transpose: true, m: Int32(x.rows), n: Int32(x.columns), alpha: 1, a: px.baseAddress!,
                      lda: Int32(x.columns), x: pw.baseAddress!, incx: 1, beta: 1, y: pv.baseAddress!, incy: 1)
        }
      }
    }
  }

  /// Adds every layer's XᵀX and every pair's XᵀY (A's layers against B's) of the batch into
  /// `accumulated` at `products`' offsets: one GEMM with beta 1 each. The products are
  /// independent, so they run over the cores, one BLAS thread each (`BLASWorkers`); threaded one
  /// after another, OpenBLAS's threads spun between them (200k `sched_yield` calls on 6 × 6
  /// layers of 4,096).
  static func accumulateProducts(_ layers: [Matrix<Double>], layersA a: Int, into accumulated: inout [Double],
                                 at products: [Int]) {
    guard let b = layers.first?.rows, b > 0 else { return }
    let pairs = (0..<layers.count).map { ($0, $0) }
      + (0..<a).flatMap { i in (a..<layers.count).map { (i, $0) } }
    accumulated.withUnsafeMutableBufferPointer { out in
      let base = SendableAddress(out.baseAddress!)
      BLASWorkers.forEachIndex(pairs.count, state: { () }) { k, _ in
        let (x, y) = (layers[pairs[k].0], layers[pairs[k].1])
        x.elements.withUnsafeBufferPointer { px in
          y.elements.withUnsafeBufferPointer { py in
            Double.gemm(transposeA: true, transposeB: false, m: Int32(x.columns), n: Int32(y.columns), k: Int32(b),
                        alpha: 1, a: px.baseAddress!, lda: Int32(x.columns), b: py.baseAddress!, ldb: Int32(y.columns),
                        beta: 1, c: base.base + products[k], ldc: Int32(y.columns))
          }
        }
        return true
      }
    }
  }

  /// The CKA matrix of everything added.
  /// - Throws: `InputError` for too few examples (2 biased, 4 debiased).
  public func result(namesA: [String], namesB: [String], modelA: String, modelB: String) throws -> SimilarityMatrix {
    let minimum = debiased ? 4 : 2
    guard examples >= minimum else {
      throw InputError("\(examples) examples are too few: the \(debiased ? "unbiased" : "biased") HSIC needs at least \(minimum)")
    }
    let n = Double(examples), a = widthsA.count
    let deltas = sums.map { $0.map { $0 / n } }
    let deltaSquares = deltas.map { $0.reduce(0) { $0 + $1 * $1 } }
    let traces = (0..<deltas.count).map { normSums[$0] - n * deltaSquares[$0] }
    func product(_ c: ArraySlice<Double>, _ dx: [Double], _ dy: [Double]) -> Double {
      let c0 = c.startIndex
      var total = 0.0
      for r in dx.indices { for s in dy.indices { let v = c[c0 + r * dy.count + s] - n * dx[r] * dy[s]; total += v * v } }
      return total
    }
    func quadratic(_ c: ArraySlice<Double>, _ dx: [Double], _ dy: [Double]) -> Double {
      let c0 = c.startIndex
      var total = 0.0
      for r in dx.indices { for s in dy.indices { total += dx[r] * c[c0 + r * dy.count + s] * dy[s] } }
      return total
    }
    func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
    func hsic(_ product: Double, _ normDot: Double, _ tx: Double, _ ty: Double) -> Double {
      LinearCKA.hsic(product: product, normDot: normDot, traceX: tx, traceY: ty, examples: examples, debiased: debiased)
    }
    func gram(_ k: Int) -> ArraySlice<Double> { accumulated[products[k]..<products[k + 1]] }
    let selfHSIC = (0..<deltas.count).map { l -> Double in
      let d = deltas[l], dd = deltaSquares[l]
      let normDot = normSquares[l] - 4 * dot(d, normWeighted[l]) + 4 * quadratic(gram(l), d, d)
        + 2 * dd * normSums[l] - 3 * n * dd * dd
      return hsic(product(gram(l), d, d), normDot, traces[l], traces[l])
    }
    var hsicMatrix = Matrix<Double>(zeros: a, widthsB.count)
    for i in 0..<a {
      for j in 0..<widthsB.count {
        let e = i * widthsB.count + j, dx = deltas[i], dy = deltas[a + j]
        let normDot = normProducts[e] - 2 * dot(dy, weightedY[e]) - 2 * dot(dx, weightedX[e])
          + 4 * quadratic(gram(deltas.count + e), dx, dy) + deltaSquares[a + j] * normSums[i] + deltaSquares[i] * normSums[a + j]
          - 3 * n * deltaSquares[i] * deltaSquares[a + j]
        hsicMatrix[i, j] = hsic(product(gram(deltas.count + e), dx, dy), normDot, traces[i], traces[a + j])
      }
    }
    return try SimilarityMatrix(modelA: modelA, modelB: modelB, layersA: namesA, layersB: namesB, hsic: hsicMatrix,
                                hsicA: Array(selfHSIC[0..<a]), hsicB: Array(selfHSIC[a...]))
  }
}
