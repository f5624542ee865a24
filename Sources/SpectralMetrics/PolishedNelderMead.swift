/// A tightly converged Nelder–Mead minimiser for the likelihood-ratio fits (the simplex method scipy's `fmin` and the `powerlaw`
/// package use), with tight tolerances and restarts from the best point: the restarts re-expand
/// a simplex that collapsed early, so the result is the optimum to ~1e-10 in the parameters
/// rather than `fmin`'s default 1e-4.
struct PolishedNelderMead {
  /// Stop when the simplex's values differ by less than this, relative to 1 + |f|.
  var valueTolerance = 1e-15
  /// … and its vertices by less than this in every coordinate.
  var pointTolerance = 1e-11
  var maxIterations = 5_000
  var restarts = 4

  /// The minimiser of `f` from `start`, first simplex steps `steps` (one per coordinate).
  /// A non-finite value counts as +∞ (outside the domain).
  func minimize(_ f: ([Double]) -> Double, from start: [Double], steps: [Double]) -> (point: [Double], value: Double) {
    func value(_ x: [Double]) -> Double { let v = f(x); return v.isFinite ? v : .infinity }
    var best = (point: start, value: value(start))
    var scale = 1.0
    for _ in 0...restarts {
      let result = run(value, from: best.point, steps: steps.map { $0 * scale })
      let improved = result.value < best.value - valueTolerance * (1 + abs(best.value))
      if result.value <= best.value { best = result }
      if !improved { break }
      scale *= 0.1
    }
    return best
  }

  private func run(_ f: ([Double]) -> Double, from start: [Double], steps: [Double]) -> (point: [Double], value: Double) {
    let d = start.count
    var points = [start]
    for i in 0..<d {
      var p = start
      p[i] += steps[i]
      points.append(p)
    }
    var values = points.map(f)
    for _ in 0..<maxIterations {
      // Stable sort by value: ties keep their order, so the run is deterministic.
      let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
      points = order.map { points[$0] }
      values = order.map { values[$0] }
      let spreadF = values.map { abs($0 - values[0]) }.max()!
      var spreadX = 0.0
      for p in points.dropFirst() { for i in 0..<d { spreadX = max(spreadX, abs(p[i] - points[0][i])) } }
      if spreadF <= valueTolerance * (1 + abs(values[0])) && spreadX <= pointTolerance { break }
      var centroid = [Double](repeating: 0, count: d)
      for p in points.dropLast() { for i in 0..<d { centroid[i] += p[i] / Double(d) } }
      let worst = points[d]
      func along(_ t: Double) -> [Double] { (0..<d).map { centroid[$0] + t * (worst[$0] - centroid[$0]) } }
      let reflected = along(-1), fr = f(reflected)
      if fr < values[0] {
        let expanded = along(-2), fe = f(expanded)
        if fe < fr { points[d] = expanded; values[d] = fe } else { points[d] = reflected; values[d] = fr }
      } else if fr < values[d - 1] {
        points[d] = reflected; values[d] = fr
      } else {
        let outside = fr < values[d]
        let contracted = along(outside ? -0.5 : 0.5), fc = f(contracted)
        if fc < (outside ? fr : values[d]) {
          points[d] = contracted; values[d] = fc
        } else {
          for k in 1...d {
            points[k] = (0..<d).map { points[0][$0] + 0.5 * (points[k][$0] - points[0][$0]) }
            values[k] = f(points[k])
          }
        }
      }
    }
    let i = values.indices.min { values[$0] < values[$1] }!
    return (points[i], values[i])
  }

  /// Newton polish of a simplex result: the gradient's zero is located to ~1e-12 where the
  /// value, flat at a minimum, only locates it to ~1e-8. The Hessian is central differences of
  /// the analytic `gradient`. A step is taken only while the Hessian is positive definite, the
  /// step is below 1 and it shrinks the gradient without raising the value; otherwise (an optimum on the
  /// edge of the domain, a flat ridge) the point is returned as it is.
  static func newton(_ f: ([Double]) -> Double, gradient: ([Double]) -> [Double], from start: [Double]) -> [Double] {
    precondition(start.count == 2)
    var x = start, fx = f(x)
    for _ in 0..<30 {
      let g = gradient(x)
      var h = [[0.0, 0.0], [0.0, 0.0]]
      for j in 0..<2 {
        let delta = 1e-5 * max(1, abs(x[j]))
        var up = x, down = x
        up[j] += delta
        down[j] -= delta
        let gu = gradient(up), gd = gradient(down)
        for i in 0..<2 { h[i][j] = (gu[i] - gd[i]) / (2 * delta) }
      }
      let h01 = (h[0][1] + h[1][0]) / 2
      let det = h[0][0] * h[1][1] - h01 * h01
      guard det > 0, h[0][0] > 0, g.allSatisfy(\.isFinite) else { break }
      let step = [-(h[1][1] * g[0] - h01 * g[1]) / det, -(h[0][0] * g[1] - h01 * g[0]) / det]
      guard step.allSatisfy({ $0.isFinite && abs($0) < 1 }) else { break }
      let next = [x[0] + step[0], x[1] + step[1]], fn = f(next), gn = gradient(next)
      // At a flat minimum the value is rounding noise: judge a step by the gradient, and by the
      // value only against leaving the minimum's basin.
      guard fn.isFinite, fn <= fx + 1e-10 * (1 + abs(fx)),
            gn[0] * gn[0] + gn[1] * gn[1] < g[0] * g[0] + g[1] * g[1] else { break }
      x = next
      fx = fn
      if max(abs(step[0]) / (1 + abs(x[0])), abs(step[1]) / (1 + abs(x[1]))) < 1e-14 { break }
    }
    return x
  }
}
