/// SciPy's `optimize.fmin` (Nelder–Mead, non-adaptive), step for step, so that a fit the
/// reference tool makes with it lands on the same point.
///
/// The initial simplex is x0 and x0 with one coordinate × 1.05 (0.00025 when it is 0);
/// reflection 1, expansion 2, contraction ½, shrink ½; the vertices are re-sorted by value
/// (stably, NaN last) after every step; it stops when every vertex is within `xatol` of the
/// best in every coordinate and every value within `fatol` of the best, or after 200·n
/// evaluations or iterations (SciPy's defaults: xatol = fatol = 1e-4).
/// Deterministic: the same objective gives the same point on every machine.
package struct NelderMead {
  package var xatol = 1e-4
  package var fatol = 1e-4

  package init() {}

  /// The best vertex and its value.
  package func minimize(_ f: ([Double]) -> Double, from x0: [Double]) -> (x: [Double], value: Double) {
    let n = x0.count
    let maxEvaluations = 200 * n, maxIterations = 200 * n
    var sim: [[Double]] = [x0]
    for k in 0..<n {
      var y = x0
      y[k] = y[k] != 0 ? 1.05 * y[k] : 0.00025
      sim.append(y)
    }
    var calls = 0
    /// The objective, or nil once the budget is spent (SciPy's `_MaxFuncCallError`).
    func evaluate(_ x: [Double]) -> Double? {
      guard calls < maxEvaluations else { return nil }
      calls += 1
      return f(x)
    }
    var fsim = [Double](repeating: .infinity, count: n + 1)
    for k in 0...n {
      guard let v = evaluate(sim[k]) else { break }
      fsim[k] = v
    }
    Self.sort(&sim, &fsim)
    var iterations = 1
    iteration: while calls < maxEvaluations && iterations < maxIterations {
      var spread = 0.0, gap = 0.0
      for j in 1...n {
        for i in 0..<n { spread = max(spread, abs(sim[j][i] - sim[0][i])) }
        gap = max(gap, abs(fsim[0] - fsim[j]))
      }
      if spread <= xatol && gap <= fatol { break }
      var xbar = sim[0]
      for j in 1..<n { for i in 0..<n { xbar[i] += sim[j][i] } }
      for i in 0..<n { xbar[i] /= Double(n) }
      let worst = sim[n]
      let xr = (0..<n).map { 2 * xbar[$0] - worst[$0] }
      step: do {
        guard let fxr = evaluate(xr) else { break step }
        if fxr < fsim[0] {
          let xe = (0..<n).map { 3 * xbar[$0] - 2 * worst[$0] }
          guard let fxe = evaluate(xe) else { break step }
          if fxe < fxr { sim[n] = xe; fsim[n] = fxe } else { sim[n] = xr; fsim[n] = fxr }
        } else if fxr < fsim[n - 1] {
          sim[n] = xr
          fsim[n] = fxr
        } else {
          var shrink = false
          if fxr < fsim[n] {
            let xc = (0..<n).map { 1.5 * xbar[$0] - 0.5 * worst[$0] }
            guard let fxc = evaluate(xc) else { break step }
            if fxc <= fxr { sim[n] = xc; fsim[n] = fxc } else { shrink = true }
          } else {
            let xcc = (0..<n).map { 0.5 * xbar[$0] + 0.5 * worst[$0] }
            guard let fxcc = evaluate(xcc) else { break step }
            if fxcc < fsim[n] { sim[n] = xcc; fsim[n] = fxcc } else { shrink = true }
          }
          if shrink {
            for j in 1...n {
              sim[j] = (0..<n).map { sim[0][$0] + 0.5 * (sim[j][$0] - sim[0][$0]) }
              guard let v = evaluate(sim[j]) else { break step }
              fsim[j] = v
            }
          }
        }
        iterations += 1
      }
      Self.sort(&sim, &fsim)
      if calls >= maxEvaluations { break iteration }
    }
    return (sim[0], fsim.min() ?? fsim[0])
  }

  /// Stable sort by value, NaN last (numpy's `argsort` on a few elements).
  static func sort(_ sim: inout [[Double]], _ fsim: inout [Double]) {
    func less(_ a: Double, _ b: Double) -> Bool { b.isNaN ? !a.isNaN : a < b }
    for i in 1..<fsim.count {
      var j = i
      while j > 0 && less(fsim[j], fsim[j - 1]) {
        fsim.swapAt(j, j - 1)
        sim.swapAt(j, j - 1)
        j -= 1
      }
    }
  }
}
