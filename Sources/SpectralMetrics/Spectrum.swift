import CompareCore

/// The empirical spectral density (ESD) of a weight matrix: the eigenvalues of WᵀW, ascending,
/// and the norm-based columns of the reference tool's table computed from them.
///
/// There is no 1/N: the ESD is that of WᵀW, not WᵀW/N, as in the reference tool (pass
/// `scale: 1/N` for the other convention). For a conv layer the eigenvalues of its kh·kw slices
/// are pooled into one spectrum.
public struct Spectrum: Sendable, Equatable {
  /// λ, ascending: squared singular values of W times `scale`.
  public let eigenvalues: [Double]
  /// Larger dimension of the matrix (of one slice for a conv layer).
  public let n: Int
  /// Smaller dimension of the matrix (of one slice).
  public let m: Int
  /// Receptive field: slices pooled (kh·kw for a conv layer, 1 otherwise).
  public let rf: Int

  /// A spectrum from eigenvalues already computed (sorted here).
  public init(eigenvalues: [Double], n: Int, m: Int, rf: Int = 1) {
    self.eigenvalues = eigenvalues.sorted()
    self.n = n
    self.m = m
    self.rf = rf
  }

  /// The ESD of one matrix.
  ///
  /// - Parameters:
  ///   - w: The weight, any orientation (`out × in` as stored is fine).
  ///   - scale: Factor applied to every eigenvalue (1/2 for the reference's conv2d norm, 1/N
  ///     for the normalised convention).
  ///   - solver: How the eigenvalues are computed (see `EigenvalueSolver`).
  /// - Throws: `InputError` for an empty matrix or a NaN/∞ element (with its row and column);
  ///   `LinearAlgebraError` when the decomposition fails.
  /// - Complexity: O(N·M²).
  public init<S: BLASScalar>(of w: Matrix<S>, scale: Double = 1,
                             solver: EigenvalueSolver = EigenvalueSolver()) throws {
    try self.init(slices: [w], scale: scale, solver: solver)
  }

  /// The pooled ESD of several equally shaped matrices (the slices of a conv layer).
  /// - Throws: as `init(of:)`, and `InputError` when the slices' shapes differ.
  public init<S: BLASScalar>(slices: [Matrix<S>], scale: Double = 1,
                             solver: EigenvalueSolver = EigenvalueSolver()) throws {
    guard let first = slices.first, !first.isEmpty else {
      throw InputError("the weight matrix is empty")
    }
    for w in slices {
      guard w.rows == first.rows, w.columns == first.columns else {
        throw InputError("slices differ in shape: \(first.shapeDescription) and \(w.shapeDescription)")
      }
      if let bad = w.firstNonFinite() {
        throw InputError("weight has a non-finite value (\(w[bad.row, bad.column])) at [\(bad.row), \(bad.column)]")
      }
    }
    let values = try Spectrum.pooledEigenvalues(of: slices.map { $0.elements.map { Double($0) } },
                                                shape: (first.rows, first.columns), scale: scale,
                                                solver: solver)
    self.init(eigenvalues: values, n: Swift.max(first.rows, first.columns),
              m: Swift.min(first.rows, first.columns), rf: slices.count)
  }

  /// The eigenvalues of every slice (each row-major `shape`), times `scale`, pooled and
  /// sorted ascending: the one path by which `Spectrum`, `randDistance` and `ESDAnalyzer`
  /// compute an ESD.
  package static func pooledEigenvalues(of slices: [[Double]], shape: (rows: Int, columns: Int),
                                        scale: Double, solver: EigenvalueSolver,
                                        scratch: ESDScratch? = nil) throws -> [Double] {
    try sliceEigenvalues(of: slices, shape: shape, scale: scale, solver: solver, scratch: scratch)
      .flatMap { $0 }.sorted()
  }

  /// Each slice's eigenvalues times `scale`, ascending (what `pooledEigenvalues` pools).
  package static func sliceEigenvalues(of slices: [[Double]], shape: (rows: Int, columns: Int),
                                       scale: Double, solver: EigenvalueSolver,
                                       scratch: ESDScratch? = nil) throws -> [[Double]] {
    try slices.map { slice in
      let ev = try slice.withUnsafeBufferPointer {
        try solver.eigenvalues(of: $0, rows: shape.rows, columns: shape.columns, scratch: scratch)
      }
      return ev.map { $0 * scale }
    }
  }

  /// Number of eigenvalues (`num_evals`): M·rf.
  public var count: Int { eigenvalues.count }

  /// Aspect ratio `Q` = N/M (≥ 1).
  public var q: Double { Double(n) / Double(m) }

  /// `lambda_max`, also `spectral_norm`: the largest eigenvalue, ‖W‖₂².
  public var lambdaMax: Double { eigenvalues.last ?? 0 }

  /// `norm`: Σλ = ‖W‖²_F (the reference names the squared Frobenius norm "norm").
  public var norm: Double { eigenvalues.reduce(0, +) }

  /// `log_norm`: log10 Σλ.
  public var logNorm: Double { log10(norm) }

  /// `log_spectral_norm`: log10 λmax.
  public var logSpectralNorm: Double { log10(lambdaMax) }

  /// `stable_rank`: Σλ / λmax, between 1 (rank one) and M·rf (all equal).
  public var stableRank: Double { norm / lambdaMax }

  /// `matrix_rank`: #(σ > σmax·N·ε₆₄) with σ = √λ, numpy's `matrix_rank` rule on the pooled
  /// singular values.
  public var matrixRank: Int {
    let top = lambdaMax.squareRoot()
    let tolerance = top * Double(n) * Double.ulpOfOne
    return eigenvalues.reduce(0) { $0 + ($1.squareRoot() > tolerance ? 1 : 0) }
  }

  /// `entropy`: the spectral entropy normalised by its largest value,
  ///
  ///     −Σ p ln p / ln(matrix_rank + 1e-10),   p = λ/Σλ + 1e-10,
  ///
  /// 1 for a matrix whose non-zero singular values are all equal (orthogonal), towards 0 for
  /// rank one. NaN when every eigenvalue is 0 (the caller reports the layer as failed).
  public var entropy: Double {
    let total = norm
    var sum = 0.0
    for x in eigenvalues {
      let p = x / total + 1e-10
      sum += p * log(p)
    }
    return -sum / log(Double(matrixRank) + 1e-10)
  }

  /// `log_alpha_norm`: log10 Σ λ^alpha.
  public func logAlphaNorm(alpha: Double) -> Double {
    log10(eigenvalues.reduce(0) { $0 + pow($1, alpha) })
  }
}
