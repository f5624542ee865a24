import CompareCore

/// One layer's activations, centred, with the singular value decomposition every measure of this
/// module reads: made once per layer and reused across all pairs and measures.
///
///     X̃ = X − 1·meanᵀ = U Σ Vᵀ,   U: examples × m orthonormal, m = min(examples, features)
///
/// Centring is done first, in float64, so that a large mean does not cancel the variance (the
/// same care as CKA). A LAPACK QR (`geqrf`/`orgqr`) first reduces X̃ to a square matrix with the
/// same singular values: R of X̃ = QR when n ≥ p (then U = Q·W), X̃Q' of X̃ᵀ = Q'R' when
/// n < p; LAPACK's divide-and-conquer SVD (`gesdd` with vectors) then runs on that
/// min(n, p)-square matrix. `projections` = UᵀX̃ = ΣVᵀ (from the SVD when n ≥ p, one GEMM
/// otherwise) holds the inner products of each singular direction with each centred feature
/// (projection-weighted CCA's weights).
///
/// - Complexity: O(n·p·m) for the QR and products, plus O(m³) for the SVD (m = min(n, p)).
public struct LayerDecomposition: Sendable {
  /// Examples (rows).
  public let examples: Int
  /// Features (columns).
  public let features: Int
  /// Singular values of X̃, descending (m of them).
  public let singularValues: [Double]
  /// Uᵀ, `m × examples`, row i the left singular vector of `singularValues[i]`.
  public let leftVectorsTransposed: Matrix<Double>
  /// UᵀX̃ = ΣVᵀ, `m × features`.
  public let projections: Matrix<Double>
  /// ‖X̃‖²_F, the total variance times n (the sum of squared singular values).
  public let totalVariance: Double

  /// Centres the columns of `x` (`examples × features`) and decomposes it.
  ///
  /// - Throws: `InputError` if `x` is empty or holds a NaN or ∞; `LinearAlgebraError` if the
  ///   QR or the SVD fails.
  public init(of x: Matrix<Double>) throws {
    try self.init(of: x, scratch: LayerScratch())
  }

  /// The same, with the centred copy, the QR's panel and the small SVD's buffers in `scratch`:
  /// only Uᵀ and ΣVᵀ are allocated. A `transient` layer (compared and then dropped) makes Uᵀ and UᵀX̃
  /// in `scratch`'s spare buffers, which `LayerScratch.recycle` takes back.
  package init(of x: Matrix<Double>, scratch: LayerScratch, transient: Bool = false) throws {
    guard !x.isEmpty else { throw InputError("a layer has no examples or no features (\(x.shapeDescription))") }
    if let bad = x.firstNonFinite() {
      throw InputError("a layer holds a non-finite value at example \(bad.row), feature \(bad.column)")
    }
    let n = x.rows, p = x.columns
    examples = n
    features = p
    if n >= p {
      // X̃ = QR (LAPACK's geqrf on X̃ centred straight into the column-major panel), then the
      // SVD of the p×p R = W Σ Vᵀ: U = QW, Uᵀ = WᵀQᵀ (Q formed by orgqr), and UᵀX̃ = WᵀR = ΣVᵀ.
      Self.centre(x, transposedInto: &scratch.panel)
      totalVariance = scratch.panel.reduce(0) { $0 + $1 * $1 }
      guard totalVariance > 0 else {
        (singularValues, leftVectorsTransposed, projections) = Self.zero(n, p)
        return
      }
      var tau = [Double](repeating: 0, count: p)
      let rows = try blasDimension(n, "rows"), columns = try blasDimension(p, "columns")
      let workspace = scratch.svd
      try scratch.panel.withUnsafeMutableBufferPointer { pq in
        try tau.withUnsafeMutableBufferPointer { pt in
          let info = Double.geqrf(pq.baseAddress!, rows: rows, columns: columns, tau: pt.baseAddress!)
          guard info == 0 else { throw LinearAlgebraError(routine: "geqrf", info: info) }
          // R, the upper triangle of the column-major panel, row-major into the SVD's buffer.
          workspace.load(rows: p, columns: p) { r in
            for i in 0..<p {
              for j in 0..<i { r[i * p + j] = 0 }
              for j in i..<p { r[i * p + j] = pq[j * n + i] }
            }
          }
          let formed = Double.orgqr(pq.baseAddress!, rows: rows, columns: columns, tau: pt.baseAddress!)
          guard formed == 0 else { throw LinearAlgebraError(routine: "orgqr", info: formed) }
        }
      }
      let qt = Matrix(rows: p, columns: n, elements: scratch.panel)
      let svd = try workspace.decompose(rows: p, columns: p)
      singularValues = svd.values
      leftVectorsTransposed = Matrix.product(svd.left, transposed: true, qt, transposed: false,
                                             into: transient ? scratch.takeSpare(holding: p * n) : [])
      projections = Self.matrix(rows: p, columns: p, in: transient ? scratch.takeSpare(holding: p * p) : []) { i, j in
        svd.values[i] * svd.rightTransposed[i, j]
      }
    } else {
      // A row-major n×p buffer is the column-major p×n X̃ᵀ = Q'R': X̃ = (X̃Q')Q'ᵀ, and the n×n
      // X̃Q' has X̃'s U and Σ; UᵀX̃ is one more product.
      Self.centre(x, into: &scratch.copy)
      let c = Matrix(rows: n, columns: p, elements: scratch.copy)
      totalVariance = c.frobeniusNormSquared
      guard totalVariance > 0 else {
        (singularValues, leftVectorsTransposed, projections) = Self.zero(n, p)
        return
      }
      WorkBuffer.resize(&scratch.panel, to: n * p)
      scratch.panel.withUnsafeMutableBufferPointer { q in
        c.elements.withUnsafeBufferPointer { q.baseAddress!.update(from: $0.baseAddress!, count: n * p) }
      }
      try Self.orthonormalize(&scratch.panel, columnMajorRows: p, columns: n)
      let qt = Matrix(rows: n, columns: p, elements: scratch.panel)
      // X̃Q' (n×n) made in the SVD's buffer, which is moved in and back, never copied.
      let product = Matrix.product(c, transposed: false, qt, transposed: true, into: scratch.svd.takeMatrix())
      scratch.svd.matrix = (consume product).elements
      let svd = try scratch.svd.decompose(rows: n, columns: n)
      singularValues = svd.values
      leftVectorsTransposed = Self.matrix(rows: n, columns: n, in: transient ? scratch.takeSpare(holding: n * n) : []) { i, j in
        svd.left[j, i]
      }
      projections = Matrix.product(leftVectorsTransposed, transposed: false, c, transposed: false,
                                   into: transient ? scratch.takeSpare(holding: n * p) : [])
    }
  }

  /// The rows × columns matrix of `value(i, j)`, in `storage` (resized, its memory reused when
  /// it holds the matrix).
  static func matrix(rows: Int, columns: Int, in storage: consuming [Double],
                     _ value: (Int, Int) -> Double) -> Matrix<Double> {
    var e = consume storage
    WorkBuffer.resize(&e, to: rows * columns)
    e.withUnsafeMutableBufferPointer { e in
      for i in 0..<rows { for j in 0..<columns { e[i * columns + j] = value(i, j) } }
    }
    return Matrix(rows: rows, columns: columns, elements: e)
  }

  /// A constant layer's parts: zero singular values, Uᵀ and UᵀX̃.
  static func zero(_ n: Int, _ p: Int) -> ([Double], Matrix<Double>, Matrix<Double>) {
    let m = min(n, p)
    return ([Double](repeating: 0, count: m), Matrix(zeros: m, n), Matrix(zeros: m, p))
  }

  /// Replaces the column-major `rows × columns` matrix in `a` (rows ≥ columns) by the Q of its
  /// QR, in place: the row-major `columns × rows` Qᵀ.
  static func orthonormalize(_ a: inout [Double], columnMajorRows rows: Int, columns: Int) throws {
    var tau = [Double](repeating: 0, count: columns)
    let m = try blasDimension(rows, "rows"), n = try blasDimension(columns, "columns")
    let (routine, info) = a.withUnsafeMutableBufferPointer { pq in
      tau.withUnsafeMutableBufferPointer { pt in
        Double.orthonormalize(pq.baseAddress!, rows: m, columns: n, tau: pt.baseAddress!)
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: routine, info: info) }
  }

  /// X with each column's mean subtracted (`columnMeans`), written into `out` (resized, its
  /// storage reused).
  static func centre(_ x: Matrix<Double>, into out: inout [Double]) {
    let n = x.rows, p = x.columns
    let means = columnMeans(x)
    WorkBuffer.resize(&out, to: n * p)
    x.elements.withUnsafeBufferPointer { xs in
      out.withUnsafeMutableBufferPointer { o in
        let a = xs.baseAddress!, c = o.baseAddress!
        for i in 0..<n { for j in 0..<p { c[i * p + j] = a[i * p + j] - means[j] } }
      }
    }
  }

  /// The same transposed (the column-major X̃), written into `out` in 64 × 64 tiles.
  static func centre(_ x: Matrix<Double>, transposedInto out: inout [Double]) {
    let n = x.rows, p = x.columns, tile = 64
    let means = columnMeans(x)
    WorkBuffer.resize(&out, to: n * p)
    x.elements.withUnsafeBufferPointer { xs in
      out.withUnsafeMutableBufferPointer { o in
        let a = xs.baseAddress!, t = o.baseAddress!
        for i0 in stride(from: 0, to: n, by: tile) {
          for j0 in stride(from: 0, to: p, by: tile) {
            for i in i0..<min(i0 + tile, n) {
              for j in j0..<min(j0 + tile, p) { t[j * n + i] = a[i * p + j] - means[j] }
            }
          }
        }
      }
    }
  }

  /// Each column's mean, accumulated in float64; a constant column's mean is its value exactly,
  /// so that it centres to exact zeros.
  static func columnMeans(_ x: Matrix<Double>) -> [Double] {
    let n = x.rows, p = x.columns
    var means = [Double](repeating: 0, count: p)
    x.elements.withUnsafeBufferPointer { xs in
      let a = xs.baseAddress!
      for i in 0..<n { for j in 0..<p { means[j] += a[i * p + j] } }
      for j in 0..<p {
        let first = a[j]
        var constant = true
        for i in 1..<max(n, 1) where a[i * p + j] != first { constant = false; break }
        means[j] = constant ? first : means[j] / Double(n)
      }
    }
    return means
  }

  /// True when every column is constant (X̃ = 0): no measure is defined.
  public var isConstant: Bool { totalVariance == 0 }

  /// The numerical rank: the nonzero singular values that are not below `tolerance` × the largest
  /// (`--cca-tolerance`'s help). With `tolerance` 1 the largest still counts (rank ≥ 1 for a layer
  /// that is not constant), with 0 every nonzero one.
  public func rank(tolerance: Double) -> Int {
    guard let top = singularValues.first, top > 0 else { return 0 }
    return singularValues.prefix { $0 > 0 && $0 >= tolerance * top }.count
  }

  /// The fewest leading directions whose squared singular values reach `fraction` of the total.
  public func directions(explaining fraction: Double) -> Int {
    guard totalVariance > 0 else { return 0 }
    var sum = 0.0
    for (i, s) in singularValues.enumerated() {
      sum += s * s
      if sum >= (fraction - 1e-12) * totalVariance { return i + 1 }
    }
    return singularValues.count
  }
}
