import CompareCore
import Dispatch
import Foundation

/// The reference tool's truncated power-law fit of the ESD tail (`analyze(fit='TPL')`, and
/// `fit='E_TPL'` with the xmin range of `fix_fingers='xmin_peak'`): `alpha`, `Lambda`, `xmin`,
/// `D`, `num_pl_spikes`.
///
/// The density above xmin is ρ(λ) = C λ^(−alpha) e^(−Lambda·λ), C = Lambda^(1−alpha) /
/// Γ(1−alpha, Lambda·xmin) (Γ the upper incomplete gamma function), so Lambda is in the units of
/// 1/λ and Lambda → 0 is the plain power law. As the reference does through the `powerlaw`
/// package 1.5 (`Fit(distribution='truncated_power_law',
/// xmin_distribution='truncated_power_law')`), every distinct eigenvalue above 1e-5 but the
/// largest (within `xminRange`, when given) is tried as xmin; for each, (alpha, Lambda)
/// maximise the likelihood of the tail by SciPy's Nelder–Mead `fmin` from alpha₀ = 1 + k/Σ
/// ln(λ/xmin), Lambda₀ = 1/mean(tail) (`NelderMead`, step for step), and the fit keeps the
/// first xmin of least Kolmogorov–Smirnov distance D between the tail and
///
///     F(λ) = 1 − Γ(1−alpha, Lambda·λ) / Γ(1−alpha, Lambda·xmin)
///
/// among the fits with alpha > 1 and Lambda > 0. The reference tool reports this D, and
/// sigma NaN (there is no standard error for the TPL); Compare's `sigma` column is `null`.
///
/// - Complexity: per candidate, Nelder–Mead (≤ 400 evaluations, O(1) each through suffix sums
///   of ln λ and λ, one Γ each) and one Γ per distinct tail value for D: O(n²) Γ evaluations
///   in all, spread over the cores (the reference evaluates them in mpmath, one by one).
public struct TruncatedPowerLawFit: Sendable, Equatable {
  /// `alpha`: the power-law exponent of the truncated tail.
  public let alpha: Double
  /// `Lambda`: the exponential cut-off rate, in 1/eigenvalue units (0: no truncation).
  public let lambda: Double
  /// `xmin`: where the fitted tail starts.
  public let xmin: Double
  /// `xmax`: the largest eigenvalue fitted.
  public let xmax: Double
  /// `D`: the Kolmogorov–Smirnov distance of the truncated fit.
  public let d: Double
  /// `num_pl_spikes`: eigenvalues ≥ xmin.
  public let tailCount: Int

  /// Fits the tail of `eigenvalues` (any order).
  /// - Parameter xminRange: Try only xmins within this range (`E_TPL`), else every one.
  /// - Throws: `InputError` when fewer than two distinct eigenvalues above 1e-5 lie in the
  ///   range, or no candidate gives a finite fit.
  public init(eigenvalues: [Double], xminRange: ClosedRange<Double>? = nil) throws {
    let tails = TailCandidates(eigenvalues: eigenvalues, range: xminRange)
    let count = tails.candidates.count
    guard count > 0 else {
      let range = xminRange.map(TailCandidates.describe) ?? ""
      throw InputError("truncated power-law fit: fewer than 2 distinct eigenvalues above 1e-5\(range)")
    }
    var alphas = [Double](repeating: .nan, count: count)
    var lambdas = [Double](repeating: .nan, count: count)
    var ds = [Double](repeating: .infinity, count: count)
    let chunks = tails.data.count > 200 ? 16 : 1
    alphas.withUnsafeMutableBufferPointer { a in
      lambdas.withUnsafeMutableBufferPointer { l in
        ds.withUnsafeMutableBufferPointer { dd in
          let out = (SharedBuffer(base: a), SharedBuffer(base: l), SharedBuffer(base: dd))
          let body: @Sendable (Int) -> Void = { chunk in
            var c = chunk
            while c < count {
              let fit = Self.fit(tails, candidate: tails.candidates[c])
              out.0.base[c] = fit.alpha
              out.1.base[c] = fit.lambda
              out.2.base[c] = fit.d
              c += chunks
            }
          }
          if chunks == 1 {
            body(0)
          } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
          }
        }
      }
    }
    let valid = (0..<count).map { lambdas[$0] > 0 && alphas[$0] > 1 }
    let best = TailCandidates.best(ds, valid: valid)
    guard valid[best], ds[best].isFinite else {
      throw InputError("truncated power-law fit found no tail with alpha > 1 and Lambda > 0")
    }
    alpha = alphas[best]
    lambda = lambdas[best]
    xmin = tails.values[tails.candidates[best]]
    xmax = tails.data.last!
    d = ds[best]
    let x = xmin
    tailCount = eigenvalues.reduce(0) { $0 + ($1 >= x ? 1 : 0) }
  }

  init(alpha: Double, lambda: Double, xmin: Double, xmax: Double, d: Double, tailCount: Int) {
    self.alpha = alpha
    self.lambda = lambda
    self.xmin = xmin
    self.xmax = xmax
    self.d = d
    self.tailCount = tailCount
  }

  /// The truncated power law of the tail above a given xmin (the `powerlaw` package's
  /// `Fit.truncated_power_law` once xmin is chosen), fitted as above; `D` is its KS distance.
  /// - Throws: `InputError` when xmin is not one of the eigenvalues above 1e-5 or the fit has
  ///   alpha ≤ 1 or Lambda ≤ 0.
  public init(eigenvalues: [Double], xmin: Double) throws {
    let tails = TailCandidates(eigenvalues: eigenvalues)
    guard let u = tails.values.firstIndex(of: xmin), u < tails.values.count - 1 else {
      throw InputError("truncated power-law fit: xmin \(xmin) is not below the sample's largest eigenvalue")
    }
    let fit = Self.fit(tails, candidate: u)
    guard fit.alpha > 1, fit.lambda > 0, fit.d.isFinite else {
      throw InputError("truncated power-law fit found no tail with alpha > 1 and Lambda > 0")
    }
    self.init(alpha: fit.alpha, lambda: fit.lambda, xmin: xmin, xmax: tails.data.last!, d: fit.d,
              tailCount: eigenvalues.reduce(0) { $0 + ($1 >= xmin ? 1 : 0) })
  }

  /// The maximum-likelihood (alpha, Lambda) of the tail from distinct value `u`, and its D.
  static func fit(_ tails: TailCandidates, candidate u: Int) -> (alpha: Double, lambda: Double, d: Double) {
    let data = tails.data
    let i0 = tails.firstIndex[u]
    let xmin = data[i0]
    let k = Double(data.count - i0)
    let sumLog = tails.suffixLog[i0], sum = tails.suffixSum[i0]
    let alpha0 = 1 + k / (sumLog - k * log(xmin))
    let lambda0 = 1 / (sum / k)
    let outside = -k * log(1e-307)
    let first = data[i0], last = data[data.count - 1]
    let objective: ([Double]) -> Double = { p in
      let alpha = p[0], lambda = p[1]
      // Outside the valid range the package's pdf is 1e-307 everywhere.
      guard lambda > 0, alpha > 1 else { return outside }
      let c = pow(lambda, 1 - alpha) / upperIncompleteGamma(1 - alpha, lambda * xmin)
      // The pdf, as numpy computes it, at both ends: when neither under- nor overflows, no
      // point between does (it is monotone), and the log-likelihood is a sum of logs.
      func density(_ x: Double) -> Double { pow(x, -alpha) * exp(-lambda * x) * c }
      let lo = density(first), hi = density(last)
      if c.isFinite, c > 0, lo.isFinite, hi >= Double.leastNormalMagnitude {
        return -(-alpha * sumLog - lambda * sum + k * log(c))
      }
      var total = 0.0
      for j in i0..<data.count {
        var l = density(data[j])
        if l == 0 { l = 1e-307 }
        total += log(l)
      }
      return total.isNaN ? .nan : -total
    }
    let (p, _) = NelderMead().minimize(objective, from: [alpha0, lambda0])
    let alpha = p[0], lambda = p[1]
    let d: Double
    if !(lambda > 0 && alpha > 1) {
      d = tails.ksDistance(from: u) { _ in 1e-307 }
    } else {
      let a = 1 - alpha, scale = pow(lambda, a)
      func base(_ x: Double) -> Double { 1 - upperIncompleteGamma(a, lambda * x) / scale }
      let atXmin = base(xmin)
      if atXmin == 1 {
        d = tails.ksDistance(from: u) { _ in 1 }
      } else {
        d = tails.ksDistance(from: u) { x in (base(x) - atXmin) / (1 - atXmin) }
      }
    }
    return (alpha, lambda, d)
  }
}
