import CompareCore

/// One layer's activations, centred, with the singular value decomposition every measure of this
/// module reads: made once per layer and reused across all pairs and measures.
///
///     X̃ = X − 1·meanᵀ = U Σ Vᵀ,   U: examples × m orthonormal, m = min(examples, features)
///
/// Centring is done first, in float64, so that a large mean does not cancel the variance (the
/// same care as CKA). A LAPACK QR (`geqrf`/`orgqr`) first reduces X̃ to a square matrix with the
/// same singular values: QᵀX̃ of X̃ = QR when n ≥ p (then U = Q·W), X̃Q' of X̃ᵀ = Q'R' when
/// n < p; LAPACK's divide-and-conquer SVD (`gesdd` with vectors) then runs on that
/// min(n, p)-square matrix. `projections` = UᵀX̃ = ΣVᵀ (one GEMM) holds the inner products of
/// each singular direction with each centred feature (projection-weighted CCA's weights).
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
    guard !x.isEmpty else { throw InputError("a layer has no examples or no features (\(x.shapeDescription))") }
    if let bad = x.firstNonFinite() {
      throw InputError("a layer holds a non-finite value at example \(bad.row), feature \(bad.column)")
    }
    let n = x.rows, p = x.columns
    let c = Self.centred(x)
    examples = n
    features = p
    totalVariance = c.frobeniusNormSquared
    let m = min(n, p)
    if totalVariance == 0 {
      singularValues = [Double](repeating: 0, count: m)
      leftVectorsTransposed = Matrix(zeros: m, n)
    } else if n >= p {
      // X̃ = QR (LAPACK), then the SVD of the p×p R = QᵀX̃ = W Σ Vᵀ: U = QW, Uᵀ = WᵀQᵀ.
      let qt = try Self.orthonormalTransposed(columnMajor: c.transposed().elements, rows: n, columns: p)
      let svd = try qt.multiplied(by: c).singularValueDecomposition()
      singularValues = svd.values
      leftVectorsTransposed = svd.left.transposedMultiplied(by: qt)
    } else {
      // A row-major n×p buffer is the column-major p×n X̃ᵀ = Q'R': X̃ = (X̃Q')Q'ᵀ, and the n×n
      // X̃Q' has X̃'s U and Σ.
      let qt = try Self.orthonormalTransposed(columnMajor: c.elements, rows: p, columns: n)
      let svd = try c.multipliedByTransposed(qt).singularValueDecomposition()
      singularValues = svd.values
      leftVectorsTransposed = svd.left.transposed()
    }
    let ut = leftVectorsTransposed
    projections = ut.multiplied(by: c)
  }

  /// Q of the QR of a column-major `rows × columns` matrix (rows ≥ columns), returned as the
  /// row-major `columns × rows` Qᵀ (the same buffer).
  static func orthonormalTransposed(columnMajor a: [Double], rows: Int, columns: Int) throws -> Matrix<Double> {
    var q = a
    var tau = [Double](repeating: 0, count: columns)
    let m = try blasDimension(rows, "rows"), n = try blasDimension(columns, "columns")
    let (routine, info) = q.withUnsafeMutableBufferPointer { pq in
      tau.withUnsafeMutableBufferPointer { pt in
        Double.orthonormalize(pq.baseAddress!, rows: m, columns: n, tau: pt.baseAddress!)
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: routine, info: info) }
    return Matrix(rows: columns, columns: rows, elements: q)
  }

  /// X with each column's mean subtracted, means accumulated in float64.
  /// A constant column's mean is its value exactly, so that it centres to exact zeros.
  package static func centred(_ x: Matrix<Double>) -> Matrix<Double> {
    var means = [Double](repeating: 0, count: x.columns)
    var out = x.elements
    for i in 0..<x.rows { for j in 0..<x.columns { means[j] += out[i * x.columns + j] } }
    for j in 0..<x.columns {
      let first = out[j]
      var constant = true
      for i in 1..<max(x.rows, 1) where out[i * x.columns + j] != first { constant = false; break }
      means[j] = constant ? first : means[j] / Double(x.rows)
    }
    for i in 0..<x.rows { for j in 0..<x.columns { out[i * x.columns + j] -= means[j] } }
    return Matrix(rows: x.rows, columns: x.columns, elements: out)
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
