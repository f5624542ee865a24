/// How a 3-D weight is read.
///
/// `auto`: a tensor `(a, b, c)` is stacked experts `(experts, out, in)` when its key contains
/// `expert` (any case), or when a ≤ 256 and b, c ≥ 16; otherwise a conv1d kernel `(out, in, k)`
/// when c ≤ 16; otherwise it is skipped, and listed with the reason. `experts` and `conv`
/// read every 3-D weight one way.
public enum ThreeDimensionalRule: String, Sendable, CaseIterable {
  /// By the key and the shape, as above.
  case auto
  /// Every 3-D weight is stacked experts `(experts, out, in)`.
  case experts
  /// Every 3-D weight is a conv1d kernel `(out, in, k)`.
  case conv

  /// Largest first axis `auto` takes for a number of experts.
  public static let maximumExperts = 256
  /// Smallest `out` and `in` of an expert, and largest conv1d kernel, for `auto`.
  public static let kernelLimit = 16

  /// The kind of a 3-D weight under this rule, or `nil` when `auto` cannot tell.
  public func kind(key: String, shape: [Int]) -> WeightLayer.Kind? {
    guard shape.count == 3 else { return nil }
    switch self {
    case .experts: return .expert
    case .conv: return .conv1d
    case .auto:
      if key.lowercased().contains("expert") { return .expert }
      if shape[0] <= Self.maximumExperts && shape[1] >= Self.kernelLimit && shape[2] >= Self.kernelLimit {
        return .expert
      }
      if shape[2] <= Self.kernelLimit { return .conv1d }
      return nil
    }
  }
}
