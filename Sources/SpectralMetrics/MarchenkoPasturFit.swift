import CompareCore

/// The reference tool's Marchenko–Pastur fit of an ESD: the bulk edge, the spikes outside it
/// and `mp_softrank`.
///
/// The eigenvalues are rescaled to mean 1 (`W_scale` = √(count/Σλ) scales W). Their density is
/// estimated by a linear (triangular) kernel of bandwidth 0.1 on 1000 points of
/// [0, max + 0.5]; points where it is below 0.01 are dropped. σ is chosen to minimise the
/// squared difference between that density and the Marchenko–Pastur density
///
///     ρ(x) = Q/(2π σ² x) · √((b − x)(x − a)),   a, b = σ²(1 ∓ 1/√Q)²,
///
/// (for Q = 1 the quarter-circle law of √λ, as the reference does), with a residual of 1000 per
/// point when the edges do not bracket the density's peak or b passes the last point: a grid of
/// σ ∈ [0.05 s, 2 s) in steps of 0.01 s, s = √(λmax/(1+1/√Q)²), then a one-dimensional
/// Nelder–Mead refinement from the best grid point (the reference's `optimize.brute` with its
/// default `fmin` finish, tolerances 1e-4). The kernel density does not depend on σ, so it is
/// computed once, by prefix sums over the sorted values: O(n + 1000 log n), not O(n·1000) per σ.
///
/// Then `bulk_max` = (σ(1+1/√Q))², `num_spikes` = #(λ > bulk_max + √TW) with the Tracy–Widom
/// width TW = bulk_max^(2/3) / (√Q · M^(2/3)), and `mp_softrank` = bulk_max/λmax, all on the
/// rescaled eigenvalues; `bulk_max`/`bulk_min` are reported back in the original units.
public struct MarchenkoPasturFit: Sendable, Equatable {
  /// `sigma_mp`: the fitted σ of the rescaled ESD.
  public let sigma: Double
  /// `bulk_max`: the fitted bulk edge, in the units of the eigenvalues given.
  public let bulkMax: Double
  /// `bulk_min`: the lower bulk edge, in the units of the eigenvalues given.
  public let bulkMin: Double
  /// `num_spikes`: eigenvalues above the bulk edge plus the Tracy–Widom width.
  public let spikeCount: Int
  /// `mp_softrank`: bulk_max/λmax, near 1 for a random-like layer, small when spikes dominate.
  public let softRank: Double
  /// `W_scale`: the factor that scaled W so the eigenvalues have mean 1.
  public let wScale: Double

  /// Fits `eigenvalues` of an N×M matrix pooled over slices.
  /// - Parameters:
  ///   - eigenvalues: The ESD (any order).
  ///   - n: Larger dimension N.
  ///   - m: Smaller dimension M (of one slice; it sets the Tracy–Widom width).
  /// - Throws: `InputError` when the spectrum is empty or all zero.
  public init(eigenvalues: [Double], n: Int, m: Int) throws {
    guard !eigenvalues.isEmpty, n > 0, m > 0 else { throw InputError("MP fit needs eigenvalues") }
    let q = Double(n) / Double(m)
    let total = eigenvalues.reduce(0, +)
    guard total > 0, total.isFinite else { throw InputError("MP fit undefined: all eigenvalues are zero") }
    let scale = Double(eigenvalues.count).squareRoot() / total.squareRoot()
    let scale2 = scale * scale
    let x = eigenvalues.map { $0 * scale2 }.sorted()
    let lambdaMax = x[x.count - 1]
    let fitted = q == 1 ? x.map { $0.squareRoot() } : x
    let kde = Self.density(of: fitted)
    let s = (lambdaMax / ((1 + 1 / q.squareRoot()) * (1 + 1 / q.squareRoot()))).squareRoot()
    let objective = Objective(x: kde.x, y: kde.y, q: q)
    // numpy's arange(0.05 s, 2 s, 0.01 s): ceil((stop − start)/step) points start + i·Δ,
    // Δ = (start + step) − start.
    let start = 0.05 * s, stop = 2.0 * s, step = 0.01 * s
    let count = Int(((stop - start) / step).rounded(.up))
    let delta = (start + step) - start
    var bestSigma = start, bestValue = Double.infinity
    for i in 0..<Swift.max(count, 1) {
      let sigma = start + Double(i) * delta
      let value = objective(sigma)
      if value < bestValue { bestValue = value; bestSigma = sigma }
    }
    let sigma = Self.nelderMead(objective.callAsFunction, from: bestSigma)
    let up = sigma * (1 + 1 / q.squareRoot()), down = sigma * (1 - 1 / q.squareRoot())
    let bulkMax = up * up, bulkMin = down * down
    let tw = 1 / q.squareRoot() * pow(bulkMax, 2.0 / 3) * pow(Double(m), -2.0 / 3)
    let cutoff = bulkMax + tw.squareRoot()
    self.sigma = sigma
    self.bulkMax = bulkMax / scale2
    self.bulkMin = bulkMin / scale2
    self.spikeCount = x.reduce(0) { $0 + ($1 > cutoff ? 1 : 0) }
    self.softRank = bulkMax / lambdaMax
    self.wScale = scale
  }

  /// The linear-kernel density (bandwidth 0.1) on numpy's `linspace(0, max + 0.5, 1000)`,
  /// keeping only points where it exceeds 0.01.
  static func density(of sorted: [Double]) -> (x: [Double], y: [Double]) {
    let h = 0.1, count = 1000
    let n = sorted.count
    var prefix = [Double](repeating: 0, count: n + 1)
    for i in 0..<n { prefix[i + 1] = prefix[i] + sorted[i] }
    let stop = sorted[n - 1] + 0.5
    let step = stop / Double(count - 1)
    // First index whose value is > v (strict) or ≥ v.
    func upper(_ v: Double) -> Int {
      var lo = 0, hi = n
      while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] <= v { lo = mid + 1 } else { hi = mid } }
      return lo
    }
    func lower(_ v: Double) -> Int {
      var lo = 0, hi = n
      while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < v { lo = mid + 1 } else { hi = mid } }
      return lo
    }
    var xs: [Double] = [], ys: [Double] = []
    for g in 0..<count {
      let x = g == count - 1 ? stop : Double(g) * step
      let a = upper(x - h), b = upper(x), c = lower(x + h)
      let left = Double(b - a), right = Double(c - b)
      let sumLeft = prefix[b] - prefix[a], sumRight = prefix[c] - prefix[b]
      let kernel = left - (left * x - sumLeft) / h + right - (sumRight - right * x) / h
      let y = kernel / (Double(n) * h)
      if y > 0.01 { xs.append(x); ys.append(y) }
    }
    return (xs, ys)
  }

  /// Σ (ρ_MP(x) − ρ̂(x))² over the kept points, or 1000² per point when the MP edges do not
  /// bracket the density's peak.
  struct Objective {
    let x: [Double], y: [Double], q: Double
    let peak: Double, last: Double

    init(x: [Double], y: [Double], q: Double) {
      self.x = x
      self.y = y
      self.q = q
      // The density has plateaus (sums of linear ramps), where rounding decides the maximum:
      // take the first point within 1e-12 of it, as exact arithmetic (and the reference, on
      // our fixtures) does.
      let top = y.max() ?? 0
      let best = y.firstIndex { $0 >= top * (1 - 1e-12) } ?? 0
      peak = x.isEmpty ? 0 : x[best]
      last = x.last ?? 0
    }

    func callAsFunction(_ sigma: Double) -> Double {
      var sum = 0.0
      if q == 1 {
        for i in x.indices {
          var v = 1 / (Double.pi * sigma * sigma) * (4 - x[i] * x[i]).squareRoot()
          if v.isNaN { v = 0 }
          let r = v - y[i]
          sum += r * r
        }
        return sum
      }
      let b = pow(sigma * (1 + (1 / q).squareRoot()), 2)
      let a = pow(sigma * (1 - (1 / q).squareRoot()), 2)
      if b < peak || b > last || a > peak { return Double(x.count) * 1_000_000 }
      let yq = 1 / q
      for i in x.indices {
        let xi = x[i]
        var v = (1 / (2 * Double.pi * sigma * sigma * xi * yq)) * ((b - xi) * (xi - a)).squareRoot()
        if v.isNaN { v = 0 } else if v.isInfinite { v = v > 0 ? Double.greatestFiniteMagnitude : -Double.greatestFiniteMagnitude }
        let r = v - y[i]
        sum += r * r
      }
      return sum
    }
  }

  /// scipy's `fmin` (Nelder–Mead) in one dimension: initial simplex {x0, 1.05·x0},
  /// reflection 1, expansion 2, contraction ½, shrink ½, stopping when both the simplex and
  /// its values are within 1e-4, or after 200 evaluations.
  static func nelderMead(_ f: (Double) -> Double, from x0: Double) -> Double {
    var sim = [x0, x0 != 0 ? 1.05 * x0 : 0.00025]
    var fs = [f(sim[0]), f(sim[1])]
    var calls = 2, iterations = 1
    let maxCalls = 200
    func order() {
      if fs[1] < fs[0] { sim.swapAt(0, 1); fs.swapAt(0, 1) }
    }
    order()
    while calls < maxCalls && iterations < maxCalls {
      if abs(sim[1] - sim[0]) <= 1e-4 && abs(fs[0] - fs[1]) <= 1e-4 { break }
      let xbar = sim[0]
      let xr = 2 * xbar - sim[1]
      let fxr = f(xr); calls += 1
      if fxr < fs[0] {
        let xe = 3 * xbar - 2 * sim[1]
        let fxe = f(xe); calls += 1
        if fxe < fxr { sim[1] = xe; fs[1] = fxe } else { sim[1] = xr; fs[1] = fxr }
      } else {
        var shrink = false
        if fxr < fs[1] {
          let xc = 1.5 * xbar - 0.5 * sim[1]
          let fxc = f(xc); calls += 1
          if fxc <= fxr { sim[1] = xc; fs[1] = fxc } else { shrink = true }
        } else {
          let xcc = 0.5 * xbar + 0.5 * sim[1]
          let fxcc = f(xcc); calls += 1
          if fxcc < fs[1] { sim[1] = xcc; fs[1] = fxcc } else { shrink = true }
        }
        if shrink {
          sim[1] = sim[0] + 0.5 * (sim[1] - sim[0])
          fs[1] = f(sim[1]); calls += 1
        }
      }
      iterations += 1
      order()
    }
    return sim[0]
  }
}
