import CompareCore

/// Continuous maximum-likelihood fits of the candidate distributions of a tail x ≥ xmin, each
/// normalised on [xmin, ∞), as the `powerlaw` package (Alstott et al. 2014, version 1.5) fits
/// them for `Fit.distribution_compare`, with each observation's log-likelihood:
///
///     power law            p(x) = (α−1)/xmin · (x/xmin)^(−α)            α = 1 + n / Σ ln(x/xmin)
///     exponential          p(x) = λ e^(−λ(x−xmin))                        λ = 1 / (mean x − xmin)
///     lognormal            p(x) = √(2/π) / (σ x erfc((ln xmin − μ)/(√2σ))) · e^(−(ln x−μ)²/(2σ²))
///     truncated power law  p(x) = x^(−α) e^(−λx) / (xmin^(1−α) E_α(λ·xmin))     α > 1, λ > 0
///
/// The power law and exponential maximise in closed form; powerlaw reaches the exponential's
/// with `fmin` from 1/mean(x) (its default tolerance 1e-4, so its λ differs from the exact one
/// in the fourth digit or so). The lognormal and truncated power law have no closed form: both
/// here and in powerlaw, Nelder–Mead from powerlaw's starting point ((mean, std) of ln x;
/// (the power-law α, 1/mean x)), here over (μ, ln σ) and (ln(α−1), ln(λ·xmin)) so that the
/// constraints σ > 0, α > 1, λ > 0 hold by construction, with tolerances ~1e-11 and restarts,
/// then Newton steps on the analytic gradient (`PolishedNelderMead.newton`): R depends on the
/// parameters to first order, and the flat likelihood locates them only to ~1e-8 by its value.
/// Against scipy's optimum of the same likelihoods, R agrees to ~1e-7 relative; powerlaw's own
/// `fmin` (absolute tolerance 1e-4) is further off, by up to 6e-3 on our fixtures.
struct TailDistributionFit {
  /// The fitted parameters, by name (`alpha`, `lambda`, `mu`, `sigma`).
  var parameters: [String: Double]
  /// ln p(xᵢ) for each tail value, in the order given.
  var logLikelihoods: [Double]

  /// The tail's sums the likelihoods need, t = x/xmin.
  struct Tail {
    let x: [Double]
    let xmin: Double
    let logT: [Double]
    let t: [Double]
    let sumLogT: Double
    let sumT: Double
    var n: Double { Double(x.count) }

    init(_ x: [Double], xmin: Double) {
      self.x = x
      self.xmin = xmin
      t = x.map { $0 / xmin }
      logT = t.map { log($0) }
      sumLogT = logT.reduce(0, +)
      sumT = t.reduce(0, +)
    }
  }

  static func powerLaw(_ tail: Tail) -> TailDistributionFit {
    let alpha = 1 + tail.n / tail.sumLogT
    let c = log(alpha - 1) - log(tail.xmin)
    return TailDistributionFit(parameters: ["alpha": alpha], logLikelihoods: tail.logT.map { c - alpha * $0 })
  }

  static func exponential(_ tail: Tail) -> TailDistributionFit {
    // mean(x) − xmin = xmin · (mean(t) − 1)
    let lambda = 1 / (tail.xmin * (tail.sumT / tail.n - 1))
    let logLambda = log(lambda)
    return TailDistributionFit(parameters: ["lambda": lambda],
                               logLikelihoods: tail.x.map { logLambda - lambda * ($0 - tail.xmin) })
  }

  static func lognormal(_ tail: Tail) -> TailDistributionFit {
    let logX = tail.x.map { log($0) }
    let n = tail.n, s1 = logX.reduce(0, +), s2 = logX.reduce(0) { $0 + $1 * $1 }
    let mean = s1 / n, std = max(s2 / n - mean * mean, 0).squareRoot()
    let lxmin = log(tail.xmin), halfLog2OverPi = 0.5 * log(2 / Double.pi)
    // −mean log-likelihood over (μ, ln σ).
    func objective(_ p: [Double]) -> Double {
      let mu = p[0], sigma = exp(p[1])
      let squares = s2 - 2 * mu * s1 + n * mu * mu
      let z0 = (lxmin - mu) / (2.0.squareRoot() * sigma)
      return (s1 + squares / (2 * sigma * sigma)) / n - halfLog2OverPi + p[1]
        + TailSpecialFunctions.logErfc(z0)
    }
    // ∂/∂μ and ∂/∂ln σ, with (ln erfc)'(z) = −2/√π · e^(−z²)/erfc(z).
    func gradient(_ p: [Double]) -> [Double] {
      let mu = p[0], sigma = exp(p[1])
      let squares = s2 - 2 * mu * s1 + n * mu * mu
      let z0 = (lxmin - mu) / (2.0.squareRoot() * sigma)
      let dLogErfc = -2 / Double.pi.squareRoot() * exp(-z0 * z0 - TailSpecialFunctions.logErfc(z0))
      return [(n * mu - s1) / (n * sigma * sigma) - dLogErfc / (2.0.squareRoot() * sigma),
              -squares / (n * sigma * sigma) + 1 - z0 * dLogErfc]
    }
    let start = [mean, log(max(std, 1e-3))]
    let simplex = PolishedNelderMead().minimize(objective, from: start, steps: [0.1 * max(std, 0.1), 0.1]).point
    let best = PolishedNelderMead.newton(objective, gradient: gradient, from: simplex)
    let mu = best[0], sigma = exp(best[1])
    let c = halfLog2OverPi - log(sigma) - TailSpecialFunctions.logErfc((lxmin - mu) / (2.0.squareRoot() * sigma))
    let ll = logX.map { -$0 - ($0 - mu) * ($0 - mu) / (2 * sigma * sigma) + c }
    return TailDistributionFit(parameters: ["mu": mu, "sigma": sigma], logLikelihoods: ll)
  }

  static func truncatedPowerLaw(_ tail: Tail) -> TailDistributionFit {
    let n = tail.n
    let alpha0 = 1 + n / tail.sumLogT, lambda0 = n / tail.sumT  // λ·xmin = 1/mean(t)
    // −mean log-likelihood over (ln(α−1), ln λ'), λ' = λ·xmin; the ln xmin term is constant.
    func objective(_ p: [Double]) -> Double {
      let alpha = 1 + exp(p[0]), lambda = exp(p[1])
      return (alpha * tail.sumLogT + lambda * tail.sumT) / n
        + TailSpecialFunctions.logExponentialIntegral(order: alpha, lambda)
    }
    // ∂/∂ln(α−1): ∂_α ln E_α by Richardson-extrapolated central differences; ∂/∂ln λ' from
    // ∂_z ln E_α(z) = −E_{α−1}/E_α = ((α−1) − e^(−z)/E_α)/z.
    func gradient(_ p: [Double]) -> [Double] {
      let alpha = 1 + exp(p[0]), lambda = exp(p[1])
      func lnE(_ a: Double) -> Double { TailSpecialFunctions.logExponentialIntegral(order: a, lambda) }
      let h = 1e-3
      let wide = (lnE(alpha + h) - lnE(alpha - h)) / (2 * h)
      let narrow = (lnE(alpha + h / 2) - lnE(alpha - h / 2)) / h
      let dAlpha = (4 * narrow - wide) / 3
      return [(alpha - 1) * (tail.sumLogT / n + dAlpha),
              lambda * tail.sumT / n + (alpha - 1) - exp(-lambda - lnE(alpha))]
    }
    let simplex = PolishedNelderMead().minimize(objective, from: [log(alpha0 - 1), log(lambda0)], steps: [0.1, 0.5]).point
    let best = PolishedNelderMead.newton(objective, gradient: gradient, from: simplex)
    let alpha = 1 + exp(best[0]), scaled = exp(best[1])
    let c = -log(tail.xmin) - TailSpecialFunctions.logExponentialIntegral(order: alpha, scaled)
    let ll = zip(tail.logT, tail.t).map { c - alpha * $0 - scaled * $1 }
    return TailDistributionFit(parameters: ["alpha": alpha, "lambda": scaled / tail.xmin], logLikelihoods: ll)
  }
}
