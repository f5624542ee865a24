import CompareCore

/// Full-batch linear CKA (Kornblith et al., ICML 2019), computed in feature space.
///
///     CKA(X, Y) = HSIC(XXᵀ, YYᵀ) / √(HSIC(XXᵀ, XXᵀ) · HSIC(YYᵀ, YYᵀ))
///
/// With centred columns, tr(KL) for K = XXᵀ, L = YYᵀ is ‖YᵀX‖²_F: one GEMM of the feature
/// dimensions per pair, never an n×n matrix. The biased HSIC (Gretton et al. 2005) is
/// tr(KHLH)/(n−1)²; with `debiased`, each HSIC is the unbiased U-statistic (Song et al. 2012),
/// which for centred features is
///
///     [‖YᵀX‖²_F − n/(n−2)·dₓ·d_y + tr(K)·tr(L)/((n−1)(n−2))] / (n(n−3))
///
/// with dₓ the examples' squared norms (Kornblith's `feature_space_linear_cka(debiased=True)`).
public struct LinearCKA: Sendable {
  /// Use the unbiased HSIC estimator (needs at least 4 examples).
  public var debiased: Bool

  /// Full-batch linear CKA, biased HSIC (Kornblith et al.'s default) unless `debiased`.
  public init(debiased: Bool = false) {
    self.debiased = debiased
  }

  /// Linear CKA between two representations of the same examples.
  ///
  /// - Parameters:
  ///   - x: Activations, `examples × featuresX`.
  ///   - y: Activations, `examples × featuresY`, same examples in the same order.
  /// - Returns: A similarity: 1 for representations equal up to rotation and scale; the
  ///   debiased value can fall slightly below 0. NaN when either is constant.
  /// - Throws: `InputError` if the example counts differ, there are too few examples, or a
  ///   value is NaN/∞.
  /// - Complexity: O(n·p·q + n·p² + n·q²) for n examples and p, q features.
  public func similarity(_ x: Matrix<Float>, _ y: Matrix<Float>) throws -> Double {
    try similarities(layersA: [x], layersB: [y])[0, 0]
  }

  /// Linear CKA between two `Double` representations, every product in `Double`.
  public func similarity(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> Double {
    try similarities(layersA: [x], layersB: [y])[0, 0]
  }

  /// CKA between every layer of A and every layer of B, each layer centred once.
  ///
  /// - Parameters:
  ///   - layersA: Model A's activations, one `examples × features` matrix per layer.
  ///   - layersB: Model B's, the same examples in the same order.
  ///   - namesA, namesB: Layer labels (default `0`, `1`, …).
  ///   - modelA, modelB: Model names (default `A`, `B`).
  /// - Throws: `InputError` as `similarity`, naming the layer.
  public func similarities(layersA: [Matrix<Float>], layersB: [Matrix<Float>],
                           namesA: [String]? = nil, namesB: [String]? = nil,
                           modelA: String = "A", modelB: String = "B") throws -> SimilarityMatrix {
    try compute(layersA, layersB, namesA, namesB, modelA, modelB)
  }

  /// CKA between every pair of `Double` layers.
  public func similarities(layersA: [Matrix<Double>], layersB: [Matrix<Double>],
                           namesA: [String]? = nil, namesB: [String]? = nil,
                           modelA: String = "A", modelB: String = "B") throws -> SimilarityMatrix {
    try compute(layersA, layersB, namesA, namesB, modelA, modelB)
  }

  /// One layer, centred, with what the HSIC terms need.
  struct Centred<S: BLASScalar> {
    var x: Matrix<S>
    /// Squared norms of the centred examples (the Gram diagonal), in Double.
    var norms: [Double]
    var trace: Double
    /// tr(K²) = ‖XᵀX‖²_F.
    var selfProduct: Double
  }

  func compute<S: BLASScalar>(_ a: [Matrix<S>], _ b: [Matrix<S>], _ namesA: [String]?,
                              _ namesB: [String]?, _ modelA: String,
                              _ modelB: String) throws -> SimilarityMatrix {
    let namesA = namesA ?? a.indices.map(String.init)
    let namesB = namesB ?? b.indices.map(String.init)
    guard !a.isEmpty else { throw InputError("\(modelA) has no layers to compare") }
    guard !b.isEmpty else { throw InputError("\(modelB) has no layers to compare") }
    guard namesA.count == a.count, namesB.count == b.count else {
      throw InputError("\(namesA.count) names for \(a.count) layers of \(modelA) and \(namesB.count) for \(b.count) of \(modelB): give one name per layer")
    }
    let n = a[0].rows
    let all = a.enumerated().map { ($0.element, namesA[$0.offset], modelA) }
      + b.enumerated().map { ($0.element, namesB[$0.offset], modelB) }
    for (x, name, model) in all {
      guard x.rows == n else {
        throw InputError("layer '\(name)' of \(model) has \(x.rows) examples, layer '\(namesA[0])' of \(modelA) has \(n)")
      }
      if let (row, column) = x.firstNonFinite() {
        throw InputError("layer '\(name)' of \(model) has a non-finite activation (\(x[row, column])) at example \(row), feature \(column)")
      }
      _ = try blasDimension(x.columns, "features of layer '\(name)'")
    }
    let minimum = debiased ? 4 : 2
    guard n >= minimum else {
      throw InputError("\(n) examples are too few: the \(debiased ? "unbiased" : "biased") HSIC needs at least \(minimum)")
    }
    _ = try blasDimension(n, "examples")
    let ca = a.map(LinearCKA.centre), cb = b.map(LinearCKA.centre)
    var hsic = Matrix<Double>(zeros: a.count, b.count)
    for i in ca.indices {
      for j in cb.indices {
        let product = ca[i].x.transposedMultiplied(by: cb[j].x).frobeniusNormSquared
        hsic[i, j] = estimate(product, ca[i], cb[j], n)
      }
    }
    return try SimilarityMatrix(
      modelA: modelA, modelB: modelB, layersA: namesA, layersB: namesB, hsic: hsic,
      hsicA: ca.map { estimate($0.selfProduct, $0, $0, n) },
      hsicB: cb.map { estimate($0.selfProduct, $0, $0, n) })
  }

  /// The HSIC estimate from tr(KL) and, when debiased, the Gram diagonals.
  func estimate<S>(_ product: Double, _ x: Centred<S>, _ y: Centred<S>, _ n: Int) -> Double {
    var dot = 0.0
    if debiased { for k in 0..<n { dot += x.norms[k] * y.norms[k] } }
    return Self.hsic(product: product, normDot: dot, traceX: x.trace, traceY: y.trace, examples: n, debiased: debiased)
  }

  /// HSIC from tr(K̃L̃) = ‖X̃ᵀỸ‖²_F (`product`) and, debiased, the centred Gram diagonals'
  /// dot product Σᵢ‖x̃ᵢ‖²‖ỹᵢ‖² (`normDot`) and traces: biased tr(K̃L̃)/(n−1)²; debiased
  /// [tr(K̃L̃) − n/(n−2)·normDot + tr(K̃)tr(L̃)/((n−1)(n−2))]/(n(n−3)).
  static func hsic(product: Double, normDot: Double, traceX: Double, traceY: Double, examples n: Int,
                   debiased: Bool) -> Double {
    let nd = Double(n)
    guard debiased else { return product / ((nd - 1) * (nd - 1)) }
    let value = product - nd / (nd - 2) * normDot + traceX * traceY / ((nd - 1) * (nd - 2))
    return value / (nd * (nd - 3))
  }

  static func centre<S: BLASScalar>(_ x: Matrix<S>) -> Centred<S> {
    let n = x.rows, p = x.columns
    var centred = [S](repeating: 0, count: n * p)
    if n > 0, p > 0 {
      x.elements.withUnsafeBufferPointer { px in
        centred.withUnsafeMutableBufferPointer { pc in
          GramKernel.centreColumns(px.baseAddress!, rows: n, columns: p, into: pc.baseAddress!)
        }
      }
    }
    let constant = n == 0 || p == 0 || x.elements.withUnsafeBufferPointer { px in
      GramKernel.isConstant(px.baseAddress!, rows: n, columns: p)
    }
    if constant { centred = [S](repeating: 0, count: n * p) }
    let c = Matrix(rows: n, columns: p, elements: centred)
    var norms = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var s = 0.0
      for j in 0..<p { let v = Double(centred[i * p + j]); s += v * v }
      norms[i] = s
    }
    // ‖XᵀX‖_F = ‖XXᵀ‖_F: take the smaller of the two symmetric products.
    let small = p <= n ? c.featureGram() : c.gram()
    return Centred(x: c, norms: norms, trace: norms.reduce(0, +),
                   selfProduct: small.frobeniusNormSquared)
  }
}
