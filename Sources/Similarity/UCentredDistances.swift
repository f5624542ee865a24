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
  /// Where Ã's upper triangle is: the first n(n−1)/2 elements of an array of its own, or for a
  /// transient layer of the worker's Gram buffer, lent to it for as long as it lives.
  let storage: [Double]
  /// Σᵢⱼ Ãᵢⱼ² over the whole matrix (twice the triangle's), the layer's own U-statistic times
  /// n(n−3).
  public let selfProduct: Double

  /// Entries of the triangle, n(n−1)/2.
  public var count: Int { examples * (examples - 1) / 2 }

  /// Ãᵢⱼ for i < j, row by row (Ã₀₁, Ã₀₂, …, Ã₁₂, …).
  public var upperTriangle: [Double] { withTriangle { Array($0) } }

  /// Calls `body` with the upper triangle in place.
  package func withTriangle<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
    try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<count])) }
  }

  public init(of x: Matrix<Double>) {
    self.init(of: x, scratch: LayerScratch())
  }

  /// The same, with the centred copy and the Gram matrix in `scratch`. A `transient` layer (one
  /// compared and then dropped) packs its triangle into the Gram buffer itself, which it takes
  /// from `scratch` (`LayerScratch.recycle` gives it back).
  package init(of x: Matrix<Double>, scratch: LayerScratch, transient: Bool = false) {
    let n = x.rows, p = x.columns
    examples = n
    LayerDecomposition.centre(x, into: &scratch.copy)
    scratch.makeGramOfCopy(rows: n, columns: p)
    let count = n * (n - 1) / 2
    var sum = 0.0
    // Entry k of the triangle, (i, j), sits at or before g[i·n + j], which it is made from, and
    // every later read is further on: packing in place is safe.
    func fill(_ g: UnsafePointer<Double>, into t: UnsafeMutablePointer<Double>) {
      let diagonal = (0..<n).map { g[$0 * n + $0] }
      var rows = [Double](repeating: 0, count: n)
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
      for k in 0..<count { sum += t[k] * t[k] }
    }
    if transient {
      scratch.gram.withUnsafeMutableBufferPointer { fill($0.baseAddress!, into: $0.baseAddress!) }
      storage = scratch.lendGram()
    } else {
      storage = scratch.gram.withUnsafeBufferPointer { gram in
        WorkBuffer.prefaulted(count: count) { (t: UnsafeMutableBufferPointer<Double>) in
          fill(gram.baseAddress!, into: t.baseAddress!)
        }
      }
    }
    selfProduct = 2 * sum
  }

  /// Ã as a row-major n×n matrix (a copy, made from the triangle).
  public var values: [Double] {
    let n = examples
    var a = [Double](repeating: 0, count: n * n)
    withTriangle { t in
      var k = 0
      for i in 0..<n {
        for j in (i + 1)..<max(n, i + 1) {
          a[i * n + j] = t[k]
          a[j * n + i] = t[k]
          k += 1
        }
      }
    }
    return a
  }
}
