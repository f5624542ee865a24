import CompareCore

/// Full-batch CKA with any kernel, computed from n×n Gram matrices of all examples at once.
///
///     CKA = ⟨K_c, L_c⟩ / (‖K_c‖_F · ‖L_c‖_F)
///
/// with K_c = HKH (biased HSIC, Kornblith et al. 2019, `center_gram(unbiased=False)`) or,
/// `debiased`, the U-centred Ũ_K (the unbiased HSIC, Székely & Rizzo 2014). This is what
/// the rbf kernel needs; for the linear kernel `LinearCKA` gives the same values in feature
/// space without the n×n matrices.
///
/// - Complexity: O(n²·Σp) time and (a+b)·n² doubles of memory for n examples: use it up to
///   a few thousand examples, `MinibatchCKA` beyond.
public struct KernelCKA: Sendable {
  /// The kernel.
  public var kernel: CKAKernel
  /// Use the unbiased HSIC (at least 4 examples).
  public var debiased: Bool

  /// A full-batch estimator with `kernel`, biased HSIC unless `debiased`.
  public init(kernel: CKAKernel, debiased: Bool = false) {
    self.kernel = kernel
    self.debiased = debiased
  }

  /// CKA between every layer of A and every layer of B on all their examples.
  ///
  /// - Throws: `InputError` for differing example counts, too few examples, NaN/∞, or
  ///   n² beyond BLAS's 32-bit dimension.
  public func similarities(layersA: [Matrix<Float>], layersB: [Matrix<Float>],
                           namesA: [String]? = nil, namesB: [String]? = nil,
                           modelA: String = "A", modelB: String = "B") throws -> SimilarityMatrix {
    try oneBatch(layersA, layersB, namesA, namesB, modelA, modelB)
  }

  /// CKA between every pair of `Double` layers.
  public func similarities(layersA: [Matrix<Double>], layersB: [Matrix<Double>],
                           namesA: [String]? = nil, namesB: [String]? = nil,
                           modelA: String = "A", modelB: String = "B") throws -> SimilarityMatrix {
    try oneBatch(layersA, layersB, namesA, namesB, modelA, modelB)
  }

  // Concrete public overloads over one generic body: each is specialised inside this module.
  func oneBatch<S: BLASScalar>(_ layersA: [Matrix<S>], _ layersB: [Matrix<S>],
                               _ namesA: [String]?, _ namesB: [String]?,
                               _ modelA: String, _ modelB: String) throws -> SimilarityMatrix {
    var accumulator = try MinibatchCKA(
      layersA: namesA ?? layersA.indices.map(String.init),
      layersB: namesB ?? layersB.indices.map(String.init),
      modelA: modelA, modelB: modelB, kernel: kernel, debiased: debiased)
    try accumulator.add(layersA, layersB)
    return try accumulator.result()
  }
}
