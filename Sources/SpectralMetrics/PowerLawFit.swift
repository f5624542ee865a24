import CompareCore
import Dispatch

/// The reference tool's power-law fit of the ESD tail: `alpha`, `xmin`, `xmax`, `D`, `sigma`,
/// `num_pl_spikes`.
///
/// Over the sorted eigenvalues x₀ ≤ … ≤ x_{n−1} above 1e-5, every candidate xmin = x_i
/// (i < n−1) gets the continuous power-law maximum-likelihood exponent (Clauset, Shalizi &
/// Newman 2009) and the Kolmogorov–Smirnov distance of its tail, with k = n − i:
///
///     alpha_i = 1 + k / Σ_{j≥i} ln(x_j/x_i)
///     D_i     = max_{j≥i} |1 − (x_j/x_i)^(1−alpha_i) − (j−i)/k|     (1 when alpha_i ≤ 1)
///
/// and the fit is the first i minimising D_i; `sigma` = (alpha−1)/√k. With n < 20 the
/// reference's small-sample variant is used: only tails of at least 8, with the bias-corrected
/// alpha = 1 + (k−1)/Σ, and again the first i minimising D_i. (The reference's small-sample
/// code ranks by D_i − 0.868/√k, but its constructor then re-selects by D_i, and its output
/// follows the latter; so do we.)
///
/// The sums are suffix sums of ln x, so each alpha is O(1); the D_i take O(n²) exponentials
/// in all, spread over the cores for large n (the reference loops in Python).
public struct PowerLawFit: Sendable, Equatable {
  /// Eigenvalues at or below this are left out of the fit (the reference's `EVALS_THRESH`).
  public static let threshold = 1e-5
  /// Below this many eigenvalues the small-sample variant is used.
  public static let smallSampleCutoff = 20

  /// `alpha`: the tail exponent, ρ(λ) ∝ λ^(−alpha) for λ ≥ xmin. Well-trained layers sit near
  /// 2–4; below 2 the reference flags "over-trained", above 6 "under-trained".
  public let alpha: Double
  /// `xmin`: where the power-law tail starts.
  public let xmin: Double
  /// `xmax`: the largest eigenvalue fitted.
  public let xmax: Double
  /// `D`: the Kolmogorov–Smirnov distance of the chosen fit (smaller is better).
  public let d: Double
  /// `sigma`: the standard error of alpha, (alpha−1)/√k.
  public let sigma: Double
  /// `num_pl_spikes`: eigenvalues ≥ xmin (the tail size).
  public internal(set) var tailCount: Int

  init(alpha: Double, xmin: Double, xmax: Double, d: Double, sigma: Double, tailCount: Int) {
    self.alpha = alpha
    self.xmin = xmin
    self.xmax = xmax
    self.d = d
    self.sigma = sigma
    self.tailCount = tailCount
  }

  /// Fits the tail of `eigenvalues` (any order).
  /// - Throws: `InputError` when fewer than 2 eigenvalues exceed 1e-5 or no candidate tail
  ///   gives a finite fit (an all-zero or constant spectrum).
  /// - Complexity: O(n²) exponentials, n = eigenvalues above 1e-5.
  public init(eigenvalues: [Double]) throws {
    let x = eigenvalues.filter { $0 > Self.threshold }.sorted()
    let n = x.count
    guard n >= 2 else {
      throw InputError("power-law fit needs at least 2 eigenvalues above 1e-5, found \(n)")
    }
    let logs = x.map { log($0) }
    // suffix[i] = Σ_{j≥i} ln x_j
    var suffix = [Double](repeating: 0, count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + logs[i] }
    let small = n < Self.smallSampleCutoff
    var alphas = [Double](repeating: 0, count: n - 1)
    var ds = [Double](repeating: 1, count: n - 1)
    for i in 0..<(n - 1) {
      let k = Double(n - i)
      let s = suffix[i] - k * logs[i]
      if small {
        if n - i < 8 || s <= 1e-12 { continue }
        alphas[i] = 1 + (k - 1) / s
      } else {
        alphas[i] = 1 + k / s
      }
    }
    Self.ksDistances(logs: logs, alphas: alphas, into: &ds)
    if small && !alphas.contains(where: { $0 > 1 }) {
      // No tail of 8 qualifies: the reference fits all the data (its fallback).
      let s = suffix[0] - Double(n) * logs[0]
      if s > 1e-12 {
        alphas[0] = 1 + Double(n - 1) / s
        var fallback = [Double](repeating: 1, count: n - 1)
        Self.ksDistances(logs: logs, alphas: [alphas[0]] + [Double](repeating: 0, count: n - 2), into: &fallback)
        ds[0] = fallback[0]
      }
    }
    // The first minimum of D, as numpy's argmin. For n < 20 the reference ranks candidates by
    // D − 0.868/√k in fit_powerlaw_smallN, but its WWFit constructor then re-selects argmin(D)
    // over the same arrays, and that is what its output shows: we follow the output.
    var best = 0
    for i in 0..<(n - 1) where ds[i] < ds[best] { best = i }
    guard alphas[best].isFinite, alphas[best] > 1 else {
      throw InputError("power-law fit found no valid tail (\(n) eigenvalues, all nearly equal)")
    }
    alpha = alphas[best]
    xmin = x[best]
    xmax = x[n - 1]
    d = ds[best]
    sigma = (alpha - 1) / Double(n - best).squareRoot()
    tailCount = eigenvalues.reduce(0) { $0 + ($1 >= x[best] ? 1 : 0) }
  }

  /// D_i for every candidate with alpha_i > 1 (others keep 1).
  static func ksDistances(logs: [Double], alphas: [Double], into ds: inout [Double]) {
    let n = logs.count
    let candidates = n - 1
    // Work ~ n²/2 exponentials: split into chunks of roughly equal work for large n.
    let chunks = n > 1500 ? 16 : 1
    ds.withUnsafeMutableBufferPointer { buffer in
      nonisolated(unsafe) let out = buffer
      let body: @Sendable (Int) -> Void = { chunk in
        logs.withUnsafeBufferPointer { lg in
          alphas.withUnsafeBufferPointer { al in
            var i = chunk
            while i < candidates {
              let a = al[i]
              if a > 1, a.isFinite {
                let k = Double(n - i), e = 1 - a, li = lg[i]
                var worst = 0.0
                for j in i..<n {
                  let v = abs(1 - exp(e * (lg[j] - li)) - Double(j - i) / k)
                  if v > worst { worst = v }
                }
                out[i] = worst
              }
              i += chunks
            }
          }
        }
      }
      if chunks == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
    }
  }

  /// `warning`: "over-trained" when alpha < 2, "under-trained" when alpha > 6, else "".
  public var warning: String {
    alpha < 2 ? "over-trained" : alpha > 6 ? "under-trained" : ""
  }
}
