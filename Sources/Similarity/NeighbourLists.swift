import CompareCore

/// Each example's k nearest neighbours by inner product of L2-normalised rows, self excluded, as
/// minyoungg/platonic-rep prepares features for its k-NN metrics (`F.normalize` then
/// `compute_nearest_neighbors`), with the inner products to them.
///
/// The n×n Gram matrix is never stored: it is made in blocks of rows by GEMM and each row keeps a
/// running top-k (ties: the lower index first; torch's order for exact ties is unspecified).
/// A row of zeros stays zero, as `F.normalize` leaves it; unlike `F.normalize` (whose eps 1e-12
/// bounds the norm it divides by), every other row is normalised, so the measures do not change
/// with the activations' scale.
///
/// - Complexity: O(n²·p) for the products, O(n²·k) for the selection; memory O(n·k + 256·n) beside the layer's copy.
public struct NeighbourLists: Sendable {
  /// k.
  public let k: Int
  /// Row i's neighbours at `[i·k, (i+1)·k)`, sorted by index.
  public let indices: [Int]
  /// ⟨x̂ᵢ, x̂ⱼ⟩ for the neighbours, in the order of `indices`.
  public let similarities: [Double]

  /// - Throws: `InputError` unless 1 ≤ k < examples.
  public init(of x: Matrix<Double>, k: Int) throws {
    try self.init(of: x, k: k, scratch: LayerScratch())
  }

  /// The same, with the normalised copy and the blocks of inner products in `scratch`.
  package init(of x: Matrix<Double>, k: Int, scratch: LayerScratch) throws {
    let n = x.rows, p = x.columns
    guard k >= 1, k < n else {
      throw InputError("k-NN measures need 1 ≤ k < examples, got k = \(k) with \(n) examples")
    }
    WorkBuffer.resize(&scratch.copy, to: n * p)
    x.elements.withUnsafeBufferPointer { xs in
      scratch.copy.withUnsafeMutableBufferPointer { zs in
        let a = xs.baseAddress!, z = zs.baseAddress!
        for i in 0..<n {
          // The norm of the row over its largest |value| first, so that neither tiny nor huge
          // rows under- or overflow; every non-zero row is normalised (F.normalize leaves rows
          // shorter than its eps 1e-12 unnormalised, which makes mknn and cknna depend on the
          // scale).
          var largest = 0.0
          for j in 0..<p { largest = max(largest, abs(a[i * p + j])) }
          guard largest > 0 else {
            for j in 0..<p { z[i * p + j] = a[i * p + j] }
            continue
          }
          var norm = 0.0
          for j in 0..<p { norm += (a[i * p + j] / largest) * (a[i * p + j] / largest) }
          let root = norm.squareRoot()
          for j in 0..<p { z[i * p + j] = a[i * p + j] / largest / root }
        }
      }
    }
    var indices = [Int](repeating: 0, count: n * k), values = [Double](repeating: 0, count: n * k)
    let block = 256
    scratch.resizeGram(to: min(block, n) * n)
    var bestIndex = [Int](repeating: -1, count: k), bestValue = [Double](repeating: -.infinity, count: k)
    var start = 0
    while start < n {
      let end = min(start + block, n)
      scratch.copy.withUnsafeBufferPointer { z in
        scratch.gram.withUnsafeMutableBufferPointer { g in
          Double.gemm(transposeA: false, transposeB: true, m: Int32(end - start), n: Int32(n), k: Int32(p), alpha: 1,
                      a: z.baseAddress! + start * p, lda: Int32(p), b: z.baseAddress!, ldb: Int32(p),
                      beta: 0, c: g.baseAddress!, ldc: Int32(n))
        }
      }
      for r in 0..<(end - start) {
        let i = start + r
        // Running top-k, best first; strict > keeps the lower index on ties.
        for s in 0..<k { bestIndex[s] = -1; bestValue[s] = -.infinity }
        scratch.gram.withUnsafeBufferPointer { g in
          for j in 0..<n where j != i {
            let v = g[r * n + j]
            if v > bestValue[k - 1] {
              var slot = k - 1
              while slot > 0, v > bestValue[slot - 1] {
                bestValue[slot] = bestValue[slot - 1]
                bestIndex[slot] = bestIndex[slot - 1]
                slot -= 1
              }
              bestValue[slot] = v
              bestIndex[slot] = j
            }
          }
        }
        let order = (0..<k).sorted { bestIndex[$0] < bestIndex[$1] }
        for (slot, o) in order.enumerated() {
          indices[i * k + slot] = bestIndex[o]
          values[i * k + slot] = bestValue[o]
        }
      }
      start = end
    }
    self.k = k
    self.indices = indices
    self.similarities = values
  }

  /// Whether `j` is among row `i`'s neighbours; its slot if so.
  func slot(of j: Int, inRow i: Int) -> Int? {
    var lo = i * k, hi = i * k + k
    while lo < hi {
      let mid = (lo + hi) / 2
      if indices[mid] < j { lo = mid + 1 } else { hi = mid }
    }
    return lo < i * k + k && indices[lo] == j ? lo : nil
  }
}
