import CompareCore
import Dispatch

extension PowerLawFit {
  /// The xmin search of `init(eigenvalues:)` on values already filtered (> 1e-5) and sorted,
  /// returning the same candidate, alpha and D bit for bit, with less work: candidates are
  /// visited from `hint` on, and a candidate's KS scan stops as soon as its running maximum
  /// shows that it cannot win (D_i > best D, or = best D at a later index: the first minimum
  /// still wins, as `init` chooses). Single-threaded: the bootstrap parallelises over resamples.
  /// Below 20 values it is `init` itself (its small-sample variant).
  /// - Returns: (index of xmin in `x`, alpha, D).
  /// - Throws: `InputError` as `init` does.
  static func searchTail(sorted x: [Double], hint: Int = 0) throws -> (index: Int, alpha: Double, d: Double) {
    let n = x.count
    if n < smallSampleCutoff {
      let fit = try PowerLawFit(eigenvalues: x)
      return (x.firstIndex(of: fit.xmin)!, fit.alpha, fit.d)
    }
    let logs = x.map { log($0) }
    var suffix = [Double](repeating: 0, count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + logs[i] }
    var bestD = Double.infinity, best = -1, bestAlpha = 0.0
    let start = min(max(hint, 0), n - 2)
    logs.withUnsafeBufferPointer { lg in
      for step in 0..<(n - 1) {
        let i = step == 0 ? start : (step <= start ? step - 1 : step)
        let k = Double(n - i)
        let a = 1 + k / (suffix[i] - k * lg[i])
        guard a > 1, a.isFinite else {
          // init leaves D = 1 for a candidate without a valid alpha.
          if 1 < bestD || (1 == bestD && i < best) { bestD = 1; best = i; bestAlpha = a }
          continue
        }
        let e = 1 - a, li = lg[i]
        let later = i > best
        var worst = 0.0, pruned = false
        for j in i..<n {
          let v = abs(1 - exp(e * (lg[j] - li)) - Double(j - i) / k)
          if v > worst {
            worst = v
            if worst > bestD || (later && worst == bestD) { pruned = true; break }
          }
        }
        if !pruned, worst < bestD || (worst == bestD && i < best) { bestD = worst; best = i; bestAlpha = a }
      }
    }
    guard bestAlpha.isFinite, bestAlpha > 1 else {
      throw InputError("power-law fit found no valid tail (\(n) eigenvalues, all nearly equal)")
    }
    return (best, bestAlpha, bestD)
  }

  /// `body(0..<count)` over the cores, results in index order (the resamples of the bootstrap
  /// and of the goodness-of-fit test; each draws from its own seed, so threads do not matter).
  static func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { buffer in
      nonisolated(unsafe) let out = buffer
      DispatchQueue.concurrentPerform(iterations: count) { out[$0] = body($0) }
    }
    return results.map { $0! }
  }
}
