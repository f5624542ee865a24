import CompareCore

/// A layer's Euclidean distance matrix, U-centred (Székely & Rizzo 2014), for the bias-corrected
/// distance correlation.
///
///     aᵢⱼ = ‖xᵢ − xⱼ‖,  Ãᵢⱼ = aᵢⱼ − aᵢ./(n−2) − a.ⱼ/(n−2) + a../((n−1)(n−2)),  Ãᵢᵢ = 0
///
/// Distances from the Gram matrix of the column-centred activations (one `syrk`; centring first
/// keeps ‖xᵢ‖² + ‖xⱼ‖² − 2⟨xᵢ, xⱼ⟩ from cancelling), clamped at 0. Ã is symmetric with a zero
/// diagonal, so only its upper triangle is kept. Memory: n(n−1)/2 doubles.
public struct UCentredDistances: Sendable {
  /// Examples (n).
  public let examples: Int
  /// Ãᵢⱼ for i < j, row by row (Ã₀₁, Ã₀₂, …, Ã₁₂, …).
  public let upperTriangle: [Double]
  /// Σᵢⱼ Ãᵢⱼ² over the whole matrix (twice the triangle's), the layer's own U-statistic times
  /// n(n−3).
  public let selfProduct: Double

  public init(of x: Matrix<Double>) {
    self.init(of: x, scratch: LayerScratch())
  }

  /// The same, with the centred copy and the Gram matrix in `scratch`.
  package init(of x: Matrix<Double>, scratch: LayerScratch) {
    let n = x.rows, p = x.columns
    examples = n
    LayerDecomposition.centre(x, into: &scratch.copy)
    scratch.makeGramOfCopy(rows: n, columns: p)
    var sum = 0.0
    upperTriangle = scratch.gram.withUnsafeBufferPointer { gram in
      let g = gram.baseAddress!
      let diagonal = (0..<n).map { g[$0 * n + $0] }
      var rows = [Double](repeating: 0, count: n)
      return WorkBuffer.prefaulted(count: n * (n - 1) / 2) { (t: UnsafeMutableBufferPointer<Double>) in
        var k = 0
        for i in 0..<n {
          for j in (i + 1)..<max(n, i + 1) {
            let a = max(diagonal[i] + diagonal[j] - 2 * g[i * n + j], 0).squareRoot()
            t[k] = a
            rows[i] += a
            rows[j] += a
            k += 1
          }
        }
        if n > 3 {
          let total = rows.reduce(0, +)
          let d = Double(n - 2), e = Double((n - 1) * (n - 2))
          k = 0
          for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
              t[k] = t[k] - rows[i] / d - rows[j] / d + total / e
              k += 1
            }
          }
        }
        for v in t { sum += v * v }
      }
    }
    selfProduct = 2 * sum
  }

  /// Ã as a row-major n×n matrix (a copy, made from the triangle).
  public var values: [Double] {
    let n = examples
    var a = [Double](repeating: 0, count: n * n)
    var k = 0
    for i in 0..<n {
      for j in (i + 1)..<max(n, i + 1) {
        a[i * n + j] = upperTriangle[k]
        a[j * n + i] = upperTriangle[k]
        k += 1
      }
    }
    return a
  }
}
