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
/// - Complexity: O(n²·p) for the products, O(n²·k) for the selection; memory O(n·k + 256·n).
public struct NeighbourLists: Sendable {
  /// k.
  public let k: Int
  /// Row i's neighbours at `[i·k, (i+1)·k)`, sorted by index.
  public let indices: [Int]
  /// ⟨x̂ᵢ, x̂ⱼ⟩ for the neighbours, in the order of `indices`.
  public let similarities: [Double]

  /// - Throws: `InputError` unless 1 ≤ k < examples.
  public init(of x: Matrix<Double>, k: Int) throws {
    let n = x.rows, p = x.columns
    guard k >= 1, k < n else {
      throw InputError("k-NN measures need 1 ≤ k < examples, got k = \(k) with \(n) examples")
    }
    var z = x.elements
    for i in 0..<n {
      // The norm of the row over its largest |value| first, so that neither tiny nor huge rows
      // under- or overflow; every non-zero row is normalised (F.normalize leaves rows shorter
      // than its eps 1e-12 unnormalised, which makes mknn and cknna depend on the scale).
      var largest = 0.0
      for j in 0..<p { largest = max(largest, abs(z[i * p + j])) }
      guard largest > 0 else { continue }
      var norm = 0.0
      for j in 0..<p { norm += (z[i * p + j] / largest) * (z[i * p + j] / largest) }
      let root = norm.squareRoot()
      for j in 0..<p { z[i * p + j] = z[i * p + j] / largest / root }
    }
    let normalised = Matrix(rows: n, columns: p, elements: z)
    var indices = [Int](repeating: 0, count: n * k), values = [Double](repeating: 0, count: n * k)
    let block = 256
    var start = 0
    while start < n {
      let end = min(start + block, n)
      let g = normalised.rows(start..<end).multipliedByTransposed(normalised)
      for r in 0..<(end - start) {
        let i = start + r
        // Running top-k, best first; strict > keeps the lower index on ties.
        var bestIndex = [Int](repeating: -1, count: k), bestValue = [Double](repeating: -.infinity, count: k)
        for j in 0..<n where j != i {
          let v = g.elements[r * n + j]
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
