import CompareCore

/// A layer's Euclidean distance matrix, U-centred (Székely & Rizzo 2014), for the bias-corrected
/// distance correlation.
///
///     aᵢⱼ = ‖xᵢ − xⱼ‖,  Ãᵢⱼ = aᵢⱼ − aᵢ./(n−2) − a.ⱼ/(n−2) + a../((n−1)(n−2)),  Ãᵢᵢ = 0
///
/// Distances from the Gram matrix of the column-centred activations (centring first keeps
/// ‖xᵢ‖² + ‖xⱼ‖² − 2⟨xᵢ, xⱼ⟩ from cancelling), clamped at 0. Ã is symmetric with a zero
/// diagonal, so only its upper triangle is kept, in LAPACK's rectangular full packed layout
/// (`RectangularFullPacked`): one `sfrk` writes the Gram matrix's triangle straight into the
/// layer's own storage, and the distances and the centring are made in place, so no n×n Gram
/// matrix is needed. Memory: n(n+1)/2 doubles (the diagonal held as zeros).
public struct UCentredDistances: Sendable {
  /// Examples (n).
  public let examples: Int
  /// Ã's upper triangle, diagonal zeros included, in the rectangular full packed layout: an
  /// array of its own, or for a transient layer a spare buffer of the worker's, which
  /// `LayerScratch.recycle` takes back.
  let storage: [Double]
  /// Σᵢⱼ Ãᵢⱼ² over the whole matrix (twice the triangle's), the layer's own U-statistic times
  /// n(n−3).
  public let selfProduct: Double

  /// Entries of the triangle above the diagonal, n(n−1)/2.
  public var count: Int { examples * (examples - 1) / 2 }

  /// Where each entry of the triangle lies in `storage`.
  var layout: RectangularFullPacked { RectangularFullPacked(order: examples) }

  /// Ãᵢⱼ for i < j, row by row (Ã₀₁, Ã₀₂, …, Ã₁₂, …).
  public var upperTriangle: [Double] {
    let n = examples, layout = layout
    var t = [Double]()
    t.reserveCapacity(count)
    for i in 0..<n {
      for j in (i + 1)..<max(n, i + 1) { t.append(storage[layout.offset(i, j)]) }
    }
    return t
  }

  /// Calls `body` with the packed triangle in place: n(n+1)/2 values whose diagonal entries are
  /// 0, so that the dot product of two layers' arrays is Σ_{i<j} ÃᵢⱼB̃ᵢⱼ.
  package func withPackedTriangle<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
    try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<layout.count])) }
  }

  public init(of x: Matrix<Double>) {
    self.init(of: x, scratch: LayerScratch())
  }

  /// The same, with the centred copy in `scratch`. A `transient` layer (one compared and then
  /// dropped) is made in a spare buffer of `scratch` (`LayerScratch.recycle` gives it back).
  package init(of x: Matrix<Double>, scratch: LayerScratch, transient: Bool = false) {
    let n = x.rows, p = x.columns, layout = RectangularFullPacked(order: n)
    examples = n
    LayerDecomposition.centre(x, into: &scratch.copy)
    var sum = 0.0
    func fill(_ t: UnsafeMutablePointer<Double>) {
      if p > 0 {
        scratch.copy.withUnsafeBufferPointer {
          Double.sfrk(n: Int32(n), k: Int32(p), alpha: 1, a: $0.baseAddress!, lda: Int32(p), beta: 0, c: t)
        }
      } else {
        t.update(repeating: 0, count: layout.count)
      }
      let diagonal = (0..<n).map { t[layout.offset($0, $0)] }
      var rows = [Double](repeating: 0, count: n)
      // Each run has one index fixed, whose row sum is kept in a register along the run.
      layout.forEachRun { run in
        let f = run.fixed, df = diagonal[f]
        var along = 0.0
        for k in 0..<run.count {
          let v = run.first + k
          if v == f {
            t[run.start + k] = 0
            continue
          }
          let a = max(diagonal[v] + df - 2 * t[run.start + k], 0).squareRoot()
          t[run.start + k] = a
          rows[v] += a
          along += a
        }
        rows[f] += along
      }
      guard n > 3 else {
        for k in 0..<layout.count { sum += t[k] * t[k] }
        return
      }
      let total = rows.reduce(0, +)
      let d = Double(n - 2), shift = total / Double((n - 1) * (n - 2))
      let means = rows.map { $0 / d }
      layout.forEachRun { run in
        let f = run.fixed, offset = shift - means[f]
        for k in 0..<run.count where run.first + k != f {
          let u = t[run.start + k] - means[run.first + k] + offset
          t[run.start + k] = u
          sum += u * u
        }
      }
    }
    if transient {
      var buffer = scratch.takeSpare(holding: layout.count)
      WorkBuffer.resize(&buffer, to: layout.count)
      buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
      storage = buffer
    } else {
      storage = WorkBuffer.prefaulted(count: layout.count) { (t: UnsafeMutableBufferPointer<Double>) in
        fill(t.baseAddress!)
      }
    }
    selfProduct = 2 * sum
  }

  /// Ã as a row-major n×n matrix (a copy, made from the triangle).
  public var values: [Double] {
    let n = examples
    var a = [Double](repeating: 0, count: n * n)
    let layout = layout
    for i in 0..<n {
      for j in (i + 1)..<max(n, i + 1) {
        let v = storage[layout.offset(i, j)]
        a[i * n + j] = v
        a[j * n + i] = v
      }
    }
    return a
  }
}
