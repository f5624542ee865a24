import CompareCore

/// A layer's Euclidean distance matrix, U-centred (Székely & Rizzo 2014), for the bias-corrected
/// distance correlation.
///
///     aᵢⱼ = ‖xᵢ − xⱼ‖,  Ãᵢⱼ = aᵢⱼ − aᵢ./(n−2) − a.ⱼ/(n−2) + a../((n−1)(n−2)),  Ãᵢᵢ = 0
///
/// Distances from the Gram matrix of the column-centred activations (one `syrk`; centring first
/// keeps ‖xᵢ‖² + ‖xⱼ‖² − 2⟨xᵢ, xⱼ⟩ from cancelling), clamped at 0. Memory: n² doubles.
public struct UCentredDistances: Sendable {
  /// Ã, row-major n×n.
  public let values: [Double]
  /// Σᵢⱼ Ãᵢⱼ², the layer's own U-statistic times n(n−3).
  public let selfProduct: Double

  public init(of x: Matrix<Double>) {
    let n = x.rows
    let g = LayerDecomposition.centred(x).gram()
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n where i != j {
      a[i * n + j] = max(g[i, i] + g[j, j] - 2 * g[i, j], 0).squareRoot()
    } }
    if n > 3 {
      var rows = [Double](repeating: 0, count: n)
      for i in 0..<n { for j in 0..<n { rows[i] += a[i * n + j] } }
      let total = rows.reduce(0, +)
      let d = Double(n - 2), e = Double((n - 1) * (n - 2))
      for i in 0..<n { for j in 0..<n {
        a[i * n + j] = i == j ? 0 : a[i * n + j] - rows[i] / d - rows[j] / d + total / e
      } }
    }
    values = a
    selfProduct = a.reduce(0) { $0 + $1 * $1 }
  }
}
