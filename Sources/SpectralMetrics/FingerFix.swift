import CompareCore
import Foundation

/// How the ESD tail's "fingers" (a few outlying largest eigenvalues that pull the power-law fit)
/// are handled: the reference tool's `analyze(fix_fingers=...)`, under its names.
public enum FingerFix: String, CaseIterable, Sendable {
  /// `xmin_peak`: xmin is searched only near the peak of the ESD, between 0.95·p and
  /// `xminMax` (default 1.5·p), p = where the 100-bin histogram of log10 λ peaks.
  case xminPeak = "xmin_peak"
  /// `clip_xmax`: the largest eigenvalues are clipped until alpha drops (`ClippedPowerLawFit`);
  /// adds `num_fingers` and `raw_alpha`. With `fit` TPL, the truncated power law is then fitted
  /// above the clipped power law's xmin, to the clipped eigenvalues.
  case clipXmax = "clip_xmax"

  /// The peak p of the ESD: the left edge of the fullest of 100 equal bins of log10 λ over the
  /// eigenvalues above 1e-5, as `numpy.histogram` bins them, as a λ (10^edge).
  /// - Returns: `nil` when no eigenvalue exceeds 1e-5.
  public static func peak(of eigenvalues: [Double]) -> Double? {
    let logs = eigenvalues.filter { $0 > PowerLawFit.threshold }.map { log10($0) }
    guard var first = logs.min(), var last = logs.max() else { return nil }
    if first == last { first -= 0.5; last += 0.5 }
    let bins = 100
    let step = (last - first) / Double(bins)
    var edges = (0...bins).map { Double($0) * step + first }
    edges[bins] = last
    var counts = [Int](repeating: 0, count: bins)
    let norm = Double(bins) / (last - first)
    for x in logs {
      // numpy's uniform-bin path: the scaled index, then corrected against the edges.
      var i = Int((x - first) * norm)
      if i == bins { i -= 1 }
      if x < edges[i] { i -= 1 } else if i != bins - 1 && x >= edges[i + 1] { i += 1 }
      counts[i] += 1
    }
    var best = 0
    for i in counts.indices where counts[i] > counts[best] { best = i }
    return pow(10, edges[best])
  }

  /// The xmin range of `xmin_peak` as the reference passes it to the `powerlaw` package:
  /// (log10(0.95·p), xmax) with xmax = `xminMax` or 1.5·p, taken as [min, max] of the two.
  ///
  /// The lower end is log10(0.95·p), not 0.95·p, in the reference's code (weightwatcher 0.7.7,
  /// `fit_powerlaw`); Compare keeps it, so that the same xmin is found, and the README says so.
  public static func xminRange(of eigenvalues: [Double], xminMax: Double? = nil) -> ClosedRange<Double>? {
    guard let p = peak(of: eigenvalues) else { return nil }
    let lower = log10(0.95 * p), upper = xminMax ?? 1.5 * p
    return min(lower, upper)...max(lower, upper)
  }
}

/// The reference tool's `fix_fingers='clip_xmax'` (its `fit_clipped_powerlaw`): the power law
/// refitted with the largest eigenvalues clipped until alpha drops.
///
/// With alpha₀ the fit of all eigenvalues (`raw_alpha`), the fit without the i largest for
/// i = 2, 3, …, maxFingers − 1 is tried in turn; the first whose alpha + `threshold` < alpha₀
/// is kept, with `num_fingers` = i − 1 (the reference's count: it starts clipping at two); the
/// search stops without a change when an alpha falls to `minAlpha` or below. `num_pl_spikes`
/// counts the eigenvalues ≥ xmin among all of them, clipped ones included (as the reference).
public struct ClippedPowerLawFit: Sendable, Equatable {
  /// The kept fit (the raw one when no clipping lowered alpha enough).
  public let fit: PowerLawFit
  /// `raw_alpha`: alpha of all eigenvalues.
  public let rawAlpha: Double
  /// `num_fingers`: the reference's count of clipped eigenvalues (0 when none kept).
  public let fingerCount: Int
  /// How many of the largest eigenvalues the kept fit leaves out (fingerCount + 1, or 0).
  public let clippedCount: Int

  /// - Parameters:
  ///   - eigenvalues: The ESD, any order (those ≤ 1e-5 are left out of the fits).
  ///   - maxFingers: Clip at most maxFingers − 1 eigenvalues (the reference's `max_fingers`, 10).
  ///   - threshold: How far alpha must drop (the reference's `finger_thresh`, 1).
  ///   - minAlpha: Stop when a clipped alpha is at or below this (2).
  /// - Throws: `InputError` when the unclipped fit fails (see `PowerLawFit`). A clipped sample
  ///   too small to fit ends the search (the reference raises and fails the layer).
  /// - Complexity: up to maxFingers − 1 power-law fits.
  public init(eigenvalues: [Double], maxFingers: Int = 10, threshold: Double = 1, minAlpha: Double = 2) throws {
    try self.init(eigenvalues: eigenvalues, maxFingers: maxFingers, threshold: threshold, minAlpha: minAlpha) {
      try PowerLawFit(eigenvalues: $0)
    }
  }

  /// The same search with another power-law fitter (the `powerlaw` package's, which the
  /// reference uses with `fit='TPL'`).
  init(eigenvalues: [Double], maxFingers: Int = 10, threshold: Double = 1, minAlpha: Double = 2,
       fitter: ([Double]) throws -> PowerLawFit) throws {
    let sorted = eigenvalues.filter { $0 > PowerLawFit.threshold }.sorted()
    let raw = try fitter(sorted)
    var kept = raw, fingers = 0
    var clip = 2
    while clip < maxFingers && clip < sorted.count {
      guard let fit = try? fitter(Array(sorted.dropLast(clip))) else { break }
      if fit.alpha + threshold < raw.alpha {
        kept = fit
        fingers = clip - 1
        break
      }
      if fit.alpha <= minAlpha { break }
      clip += 1
    }
    let xmin = kept.xmin
    kept.tailCount = eigenvalues.reduce(0) { $0 + ($1 >= xmin ? 1 : 0) }
    fit = kept
    rawAlpha = raw.alpha
    fingerCount = fingers
    clippedCount = fingers > 0 ? fingers + 1 : 0
  }
}
