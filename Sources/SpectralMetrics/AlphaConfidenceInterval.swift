import CompareCore

/// A percentile bootstrap interval for the power-law exponent `alpha`: `alpha_ci_low`,
/// `alpha_ci_high`.
///
/// Each of R resamples draws the n eigenvalues above 1e-5 with replacement and refits them with
/// `PowerLawFit`'s own xmin search (a new xmin, alpha and D each time), so the interval carries
/// the uncertainty of xmin as well as of alpha (Clauset, Shalizi & Newman 2009, §3.5). The
/// interval is the (1−c)/2 and (1+c)/2 quantiles of the R alphas (linear interpolation between
/// order statistics, numpy's default), c the confidence. Resample r draws from
/// `SplitMix64(seed: layerSeed(seed, name: "r"))`, so the result does not depend on threads or
/// on the order layers are analysed in. Weightwatcher and powerlaw give no interval; `sigma`
/// = (alpha−1)/√k is the asymptotic standard error at a fixed xmin.
public struct AlphaConfidenceInterval: Sendable, Equatable {
  /// `alpha_ci_low`.
  public let low: Double
  /// `alpha_ci_high`.
  public let high: Double
  /// The coverage asked for, in (0, 1).
  public let confidence: Double
  /// Every resample's alpha, ascending (resamples whose fit fails, e.g. all values equal, are
  /// left out).
  public let alphas: [Double]

  /// - Parameters:
  ///   - eigenvalues: The ESD (any order); values ≤ 1e-5 are left out, as by `PowerLawFit`.
  ///   - fit: The fit of `eigenvalues` (its xmin's rank orders the search; it does not change
  ///     the result).
  ///   - resamples: R ≥ 1.
  ///   - confidence: In (0, 1), e.g. 0.95.
  /// - Throws: `InputError` for R < 1, a confidence outside (0, 1), or when no resample fits.
  /// - Complexity: R xmin searches, run in parallel over resamples; each is O(n²) exponentials
  ///   at worst, much less in practice (see `PowerLawFit.searchTail`).
  public init(eigenvalues: [Double], fit: PowerLawFit, resamples: Int, confidence: Double, seed: UInt64) throws {
    guard resamples >= 1 else { throw InputError("alpha interval needs at least 1 resample, got \(resamples)") }
    guard confidence > 0, confidence < 1 else {
      throw InputError("confidence must be strictly between 0 and 1, got \(confidence)")
    }
    let x = eigenvalues.filter { $0 > PowerLawFit.threshold }.sorted()
    let n = x.count
    let hint = x.firstIndex { $0 >= fit.xmin } ?? 0
    let draws = PowerLawFit.parallelMap(resamples) { r -> Double? in
      var rng = SplitMix64(seed: layerSeed(seed, name: String(r)))
      var sample = (0..<n).map { _ in x[rng.nextIndex(below: n)] }
      sample.sort()
      return try? PowerLawFit.searchTail(sorted: sample, hint: hint).alpha
    }
    alphas = draws.compactMap { $0 }.sorted()
    guard !alphas.isEmpty else { throw InputError("no bootstrap resample gave a power-law fit") }
    self.confidence = confidence
    low = Self.quantile(alphas, (1 - confidence) / 2)
    high = Self.quantile(alphas, (1 + confidence) / 2)
  }

  /// The q-quantile of ascending values, linear between order statistics (numpy's default).
  static func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let position = q * Double(sorted.count - 1)
    let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
    return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
  }
}
