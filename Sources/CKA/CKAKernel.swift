import CompareCore

/// The kernel whose Gram matrices CKA compares.
///
/// `linear` is k(x, y) = x·y (the Gram XXᵀ). `rbf` is Kornblith et al.'s `gram_rbf`:
///
///     k(xᵢ, xⱼ) = exp(−‖xᵢ − xⱼ‖² / (2σ²)),   σ² = threshold² · median(‖xᵢ − xⱼ‖²)
///
/// where the median runs over all n² entries of the squared-distance matrix, its zero
/// diagonal included, exactly as the published code does. In a minibatch, σ is set per batch.
public enum CKAKernel: Sendable, Equatable, CustomStringConvertible {
  /// The dot product: linear CKA.
  case linear
  /// A Gaussian kernel whose width is `threshold` times the median pairwise distance.
  case rbf(threshold: Double)

  /// Parses `linear`, `rbf` or `rbf:THRESHOLD` (THRESHOLD a positive number, default 1).
  /// Returns `nil` for anything else.
  public init?(_ text: String) {
    if text == "linear" { self = .linear; return }
    if text == "rbf" { self = .rbf(threshold: 1); return }
    guard text.hasPrefix("rbf:"), let t = Double(text.dropFirst(4)), t.isFinite, t > 0 else {
      return nil
    }
    self = .rbf(threshold: t)
  }

  /// `linear`, or `rbf:THRESHOLD`, the form `init?(_:)` reads.
  public var description: String {
    switch self {
    case .linear: "linear"
    case .rbf(let threshold): "rbf:\(threshold == threshold.rounded() ? String(Int(threshold)) : String(threshold))"
    }
  }

  /// The kernel's Gram matrix of the rows of `x` (`examples × features`), in `Double`.
  ///
  /// Columns are centred first (both kernels are invariant to translating the features), and
  /// the products are formed in `Scalar` precision by one `syrk`.
  ///
  /// - Complexity: O(n²·p) for n examples and p features; the rbf median adds O(n²) expected.
  public func gram<Scalar: BLASScalar>(of x: Matrix<Scalar>) -> Matrix<Double> {
    let n = x.rows
    var out = [Double](repeating: 0, count: n * n)
    if n > 0, x.columns > 0 {
      let width = GramKernel.panelColumns(rows: n, columns: x.columns, scalar: Scalar.self)
      var panel = [Scalar](repeating: 0, count: n * width)
      var gram = [Scalar](repeating: 0, count: n * n)
      x.elements.withUnsafeBufferPointer { px in
        panel.withUnsafeMutableBufferPointer { pc in
          gram.withUnsafeMutableBufferPointer { pg in
            out.withUnsafeMutableBufferPointer { po in
              GramKernel.centredUpperGram(px.baseAddress!, rows: n, columns: x.columns,
                                          panel: pc.baseAddress!, into: pg.baseAddress!)
              GramKernel.widen(pg.baseAddress!, size: n, into: po.baseAddress!)
              if case .rbf(let threshold) = self {
                GramKernel.rbfInPlace(po.baseAddress!, size: n, threshold: threshold)
              }
            }
          }
        }
      }
    }
    return Matrix(rows: n, columns: n, elements: out)
  }
}
