import CompareCore
import Foundation

extension PowerLawFit {
  /// The power-law fit of the `powerlaw` package 1.5 with its xmin restricted to a range, as
  /// the reference tool's `fix_fingers='xmin_peak'` calls it (`Fit(data, xmin=(lower, upper))`).
  ///
  /// Candidates are the distinct eigenvalues above 1e-5 within the range, but the largest; for
  /// each, alpha = 1 + k/Σ ln(λ/xmin) and D = max|F(λ) − A(λ)| over the distinct tail values,
  /// F(λ) = 1 − (λ/xmin)^(1−alpha), A the empirical CDF of the tail; the first least D wins and
  /// sigma = (alpha−1)/√k. Unlike `init(eigenvalues:)` there is no small-sample variant (the
  /// package has none); on distinct eigenvalues and the full range the two agree for n ≥ 20.
  /// - Throws: `InputError` when fewer than two distinct eigenvalues lie in the range.
  /// - Complexity: O(n²) powers, n = eigenvalues above 1e-5.
  public init(eigenvalues: [Double], xminRange: ClosedRange<Double>) throws {
    let tails = TailCandidates(eigenvalues: eigenvalues, range: xminRange)
    guard !tails.candidates.isEmpty else {
      throw InputError("power-law fit: fewer than 2 distinct eigenvalues above 1e-5\(TailCandidates.describe(xminRange))")
    }
    let fits = tails.candidates.map { u -> (alpha: Double, d: Double, k: Int) in
      let i0 = tails.firstIndex[u], xmin = tails.data[i0]
      let k = tails.data.count - i0
      let alpha = 1 + Double(k) / (tails.suffixLog[i0] - Double(k) * log(xmin))
      guard alpha > 1, alpha.isFinite else { return (alpha, .infinity, k) }
      let d = tails.ksDistance(from: u) { x in 1 - pow(x / xmin, 1 - alpha) }
      return (alpha, d, k)
    }
    let best = TailCandidates.best(fits.map(\.d), valid: fits.map { $0.alpha > 1 && $0.alpha.isFinite })
    let fit = fits[best]
    guard fit.d.isFinite else { throw InputError("power-law fit found no valid tail in the xmin range") }
    let xmin = tails.values[tails.candidates[best]]
    self.init(alpha: fit.alpha, xmin: xmin, xmax: tails.data.last!, d: fit.d,
              sigma: (fit.alpha - 1) / Double(fit.k).squareRoot(),
              tailCount: eigenvalues.reduce(0) { $0 + ($1 >= xmin ? 1 : 0) })
  }
}
