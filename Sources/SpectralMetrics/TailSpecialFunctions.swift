import CompareCore

/// Special functions of the tail likelihoods, in log form so that no factor under- or
/// overflows: the generalised exponential integral (truncated power law) and erfc (lognormal).
enum TailSpecialFunctions {
  static let eulerGamma = 0.577_215_664_901_532_860_6

  /// ln E_p(z), E_p(z) = ∫₁^∞ e^(−zt) t^(−p) dt, for p > 0 and z > 0.
  ///
  /// The truncated power law's normaliser is ∫_xmin^∞ x^(−α) e^(−λx) dx = xmin^(1−α) E_α(λ·xmin)
  /// (= λ^(α−1) Γ(1−α, λ·xmin), powerlaw's `gammainc` form). For z ≥ 1, Legendre's continued
  /// fraction (modified Lentz, Numerical Recipes §6.3, valid for real order), scaled by e^z. For
  /// z < 1, the series of E_q at q = p − ⌊p − ½⌋ ∈ [½, 3/2), written so that its pole at q = 1
  /// cancels analytically, −expm1(ε ln z + lnΓ(1−ε))/ε − Σ_{k≥1} (−z)^k / (k!(k−ε)) with q = 1 + ε,
  /// then the recurrence q·E_{q+1} = e^(−z) − z·E_q upward (stable: each step scales errors by z/q).
  static func logExponentialIntegral(order p: Double, _ z: Double) -> Double {
    precondition(p > 0 && z > 0)
    if z >= 1 {
      let tiny = 1e-300
      var b = z + p, c = 1 / tiny, d = 1 / b, h = d
      for i in 1...10_000 {
        let a = -Double(i) * (p - 1 + Double(i))
        b += 2
        d = 1 / (a * d + b)
        c = b + a / c
        let delta = c * d
        h *= delta
        if abs(delta - 1) < 1e-16 { break }
      }
      return -z + log(h)
    }
    let shift = (p - 0.5).rounded(.down)
    let eps = p - shift - 1
    let lz = log(z)
    let head = eps == 0 ? -lz - eulerGamma : -expm1(eps * lz + lgamma(1 - eps)) / eps
    var sum = 0.0, power = 1.0
    for k in 1...200 {
      power *= -z / Double(k)
      let term = power / (Double(k) - eps)
      sum += term
      if abs(term) <= 1e-17 * abs(sum) { break }
    }
    var e = head - sum
    var q = 1 + eps
    let decay = exp(-z)
    for _ in 0..<Int(shift) {
      e = (decay - z * e) / q
      q += 1
    }
    return log(e)
  }

  /// ln erfc(z) for any real z: `erfc` itself up to z = 20, beyond it −z² + ln of Laplace's
  /// continued fraction erfc(z)·e^(z²)·√π = 1/(z + ½/(z + 1/(z + 3/2/(z + …)))).
  static func logErfc(_ z: Double) -> Double {
    if z < 20 { return log(erfc(z)) }
    var tail = z
    for k in stride(from: 60, through: 1, by: -1) { tail = z + (Double(k) / 2) / tail }
    return -z * z - log(tail) - 0.5 * log(Double.pi)
  }
}
