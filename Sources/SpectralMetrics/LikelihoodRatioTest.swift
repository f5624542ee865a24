import CompareCore

/// Vuong's log-likelihood ratio test of the power law against an alternative on the same tail
/// x ≥ xmin, as the `powerlaw` package 1.5 computes `Fit(x, xmin=xmin)
/// .distribution_compare('power_law', alternative, normalized_ratio=True)` (Clauset, Shalizi &
/// Newman 2009, §5; Vuong 1989).
///
/// With dᵢ = ln p_PL(xᵢ) − ln p_alt(xᵢ) over the n tail values, each distribution fitted by
/// maximum likelihood on the tail (see `TailDistributionFit`):
///
///     ℛ = Σ dᵢ,   s² = (1/n) Σ (dᵢ − d̄)²,   R = ℛ / √(n s²)              (normalized_ratio)
///     p = erfc(|ℛ| / √(2 n s²))                     exponential, lognormal (not nested)
///     p = 1 − χ²₁.cdf(2|ℛ|) = erfc(√|ℛ|)             truncated power law (nested: powerlaw
///                                                     takes 'power_law' ⊂ 'truncated_power_law')
///
/// R > 0 favours the power law, R < 0 the alternative; p small says the sign of R is
/// significant. We compute the nested p as erfc(√|ℛ|), equal to powerlaw's 1 − chi2.cdf but
/// without its cancellation below ~1e-16. Where the two fits give identical likelihoods
/// (s² = 0) powerlaw returns NaN; we return R = 0, p = 1.
public struct LikelihoodRatioTest: Sendable, Equatable {
  /// The distributions the power law is compared with.
  public enum Alternative: String, Sendable, CaseIterable {
    /// λ e^(−λ(x−xmin)): a light tail.
    case exponential
    /// The lognormal truncated to x ≥ xmin: a tail that bends down on log-log axes.
    case lognormal
    /// x^(−α) e^(−λx): a power law cut off exponentially at large x.
    case truncatedPowerLaw = "truncated_power_law"

    /// powerlaw treats a pair as nested when one name contains the other.
    public var isNested: Bool { self == .truncatedPowerLaw }
  }

  /// What the power law was compared with.
  public let alternative: Alternative
  /// `pl_vs_<alternative>_R`: the normalised log-likelihood ratio ℛ/√(n s²).
  public let ratio: Double
  /// `pl_vs_<alternative>_p`: the significance of the sign of R.
  public let pValue: Double
  /// The alternative's fitted parameters (`lambda`; `mu`, `sigma`; `alpha`, `lambda`).
  public let parameters: [String: Double]

  /// The power law against each alternative on the tail x ≥ xmin of `eigenvalues`.
  /// - Throws: `InputError` when fewer than 2 values are ≥ xmin or they are all equal.
  /// - Complexity: O(n) per alternative plus a few thousand O(1) likelihood evaluations of the
  ///   numerical fits.
  public static func powerLaw(against alternatives: [Alternative] = Alternative.allCases,
                              eigenvalues: [Double], xmin: Double) throws -> [LikelihoodRatioTest] {
    let x = eigenvalues.filter { $0 >= xmin }.sorted()
    guard x.count >= 2, x.last! > x.first!, xmin > 0 else {
      throw InputError("likelihood ratio tests need at least 2 distinct values ≥ xmin, found \(x.count)")
    }
    let tail = TailDistributionFit.Tail(x, xmin: xmin)
    let powerLaw = TailDistributionFit.powerLaw(tail)
    return alternatives.map { alternative in
      let fit: TailDistributionFit = switch alternative {
      case .exponential: TailDistributionFit.exponential(tail)
      case .lognormal: TailDistributionFit.lognormal(tail)
      case .truncatedPowerLaw: TailDistributionFit.truncatedPowerLaw(tail)
      }
      let (r, p) = ratio(powerLaw.logLikelihoods, fit.logLikelihoods, nested: alternative.isNested)
      return LikelihoodRatioTest(alternative: alternative, ratio: r, pValue: p, parameters: fit.parameters)
    }
  }

  /// powerlaw's `loglikelihood_ratio(l1, l2, nested, normalized_ratio=True)`.
  static func ratio(_ l1: [Double], _ l2: [Double], nested: Bool) -> (r: Double, p: Double) {
    let n = Double(l1.count)
    let floor = log(1e-307)  // powerlaw replaces −∞ by log(10**min_10_exp)
    let d = zip(l1, l2).map { ($0 == -.infinity ? floor : $0) - ($1 == -.infinity ? floor : $1) }
    let total = d.reduce(0, +)
    let meanDifference = l1.reduce(0, +) / n - l2.reduce(0, +) / n
    let variance = d.reduce(0) { $0 + ($1 - meanDifference) * ($1 - meanDifference) } / n
    guard variance > 0 else { return (0, 1) }
    let p = nested ? erfc(abs(total).squareRoot()) : erfc(abs(total) / (2 * n * variance).squareRoot())
    return (total / (n * variance).squareRoot(), p)
  }
}
