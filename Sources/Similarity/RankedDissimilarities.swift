import CompareCore

/// A layer's correlation-distance RDM, as rsatoolbox's `'correlation'` RDM, turned into centred,
/// unit-norm average ranks of its upper triangle, so that the Spearman correlation of two layers'
/// RDMs is one dot product.
///
///     D[i, j] = 1 − corr(xᵢ, xⱼ)   (Pearson over features, i < j)
///     r = ranks of D's n(n−1)/2 entries (ties: average rank), centred and scaled to ‖r‖ = 1
///
/// Where we differ from rsatoolbox on purpose: D is rounded to 10 decimals before ranking, so that
/// dissimilarities equal in exact arithmetic (ReLU layers give many: two examples active on the
/// same single unit have D = 0) stay ties whatever the summation order of the products; and an
/// example whose activations are all equal has no correlation, so we set its correlations to 0
/// (distance 1) where rsatoolbox would give NaN. Made with one `syrk` on the row-standardised
/// activations and one sort. Memory: n(n−1)/2 doubles.
public struct RankedDissimilarities: Sendable {
  /// The centred unit-norm ranks, in row-major upper-triangle order; all zero when the RDM is
  /// constant (no Spearman correlation is defined).
  public let ranks: [Double]

  public init(of x: Matrix<Double>) {
    let n = x.rows, p = x.columns
    var z = x.elements
    for i in 0..<n {
      var mean = 0.0
      for j in 0..<p { mean += z[i * p + j] }
      mean /= Double(p)
      var norm = 0.0
      for j in 0..<p { z[i * p + j] -= mean; norm += z[i * p + j] * z[i * p + j] }
      let scale = norm > 0 ? 1 / norm.squareRoot() : 0
      for j in 0..<p { z[i * p + j] *= scale }
    }
    let corr = Matrix(rows: n, columns: p, elements: z).gram()
    var d = [Double]()
    d.reserveCapacity(n * (n - 1) / 2)
    for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { d.append(((1 - corr[i, j]) * 1e10).rounded(.toNearestOrEven) / 1e10) } }
    ranks = Self.centredUnitRanks(d)
  }

  /// Average ranks (1-based, ties share their mean rank), centred and scaled to unit norm.
  package static func centredUnitRanks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
      var end = start + 1
      while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
      let rank = Double(start + end + 1) / 2
      for k in start..<end { ranks[order[k]] = rank }
      start = end
    }
    let mean = ranks.reduce(0, +) / Double(max(ranks.count, 1))
    var norm = 0.0
    for k in ranks.indices { ranks[k] -= mean; norm += ranks[k] * ranks[k] }
    let scale = norm > 0 ? 1 / norm.squareRoot() : 0
    return ranks.map { $0 * scale }
  }
}
