import CompareCore

/// The Clauset–Shalizi–Newman (2009, §4.1) goodness-of-fit test of the power-law fit: `pl_p_value`.
///
/// Each of R synthetic data sets has the n eigenvalues of the fit (those above 1e-5): each value
/// is, with probability k/n (k the tail size), drawn from the fitted power law,
/// xmin·(1−u)^(−1/(alpha−1)), otherwise drawn uniformly from the eigenvalues below xmin (the
/// semi-parametric bootstrap). Each is refitted with `PowerLawFit`'s full xmin search, and
///
///     p = #{ synthetic D ≥ observed D } / R
///
/// p is the probability that a true power law (with this body) fits at least as badly as the
/// data: p < 0.1 rules the power law out (CSN's threshold); a large p does not prove it. With
/// R = 200 the resolution is 0.005; CSN suggest R ≈ 2500 for two digits. Synthetic set r draws
/// from `SplitMix64(seed: layerSeed(seed, name: "r"))`.
public struct PowerLawGoodnessOfFit: Sendable, Equatable {
  /// `pl_p_value`.
  public let pValue: Double
  /// The synthetic data sets' KS distances, in draw order (failed fits left out).
  public let distances: [Double]

  /// - Parameters:
  ///   - eigenvalues: The ESD (any order) behind `fit`.
  ///   - fit: Its power-law fit (xmin, alpha, D).
  ///   - samples: R ≥ 1 synthetic data sets.
  /// - Throws: `InputError` for R < 1 or when no synthetic set can be fitted.
  /// - Complexity: R xmin searches in parallel (see `PowerLawFit.searchTail`).
  public init(eigenvalues: [Double], fit: PowerLawFit, samples: Int, seed: UInt64) throws {
    guard samples >= 1 else { throw InputError("the power-law test needs at least 1 sample, got \(samples)") }
    let x = eigenvalues.filter { $0 > PowerLawFit.threshold }.sorted()
    let n = x.count
    let body = x.firstIndex { $0 >= fit.xmin } ?? 0
    let tailFraction = Double(n - body) / Double(n)
    let exponent = -1 / (fit.alpha - 1), xmin = fit.xmin
    let draws = PowerLawFit.parallelMap(samples) { r -> Double? in
      var rng = SplitMix64(seed: layerSeed(seed, name: String(r)))
      var sample = (0..<n).map { _ -> Double in
        if body == 0 || rng.nextUniform() < tailFraction {
          return xmin * pow(1 - rng.nextUniform(), exponent)
        }
        return x[rng.nextIndex(below: body)]
      }
      sample.sort()
      return try? PowerLawFit.searchTail(sorted: sample, hint: body).d
    }
    distances = draws.compactMap { $0 }
    guard !distances.isEmpty else { throw InputError("no synthetic power-law sample could be fitted") }
    pValue = Double(distances.filter { $0 >= fit.d }.count) / Double(distances.count)
  }
}
