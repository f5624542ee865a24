import CompareCore
import Foundation

/// The data and candidate xmins of a fit in the manner of the `powerlaw` package (Alstott et
/// al. 2014, version 1.5), which the reference tool calls for `fit='TPL'`, `'E_TPL'` and
/// `fix_fingers='xmin_peak'`: eigenvalues above 1e-5, sorted; every distinct value (within an
/// optional range) but the largest is a candidate xmin; the empirical CDF of a tail is the
/// fraction of the data below each distinct value, renormalised to the tail.
struct TailCandidates {
  /// Eigenvalues above `PowerLawFit.threshold`, ascending.
  let data: [Double]
  /// Distinct values, ascending, and where each first occurs in `data`.
  let values: [Double]
  let firstIndex: [Int]
  /// Positions in `values` of the candidate xmins.
  let candidates: [Int]
  /// suffixLog[i] = Σ_{j≥i} ln data[j], suffixSum[i] = Σ_{j≥i} data[j].
  let suffixLog: [Double]
  let suffixSum: [Double]

  /// - Parameter range: Candidates only within [lower, upper] (the `powerlaw` package's
  ///   `xmin=(a, b)`), else every distinct value.
  init(eigenvalues: [Double], range: ClosedRange<Double>? = nil) {
    data = eigenvalues.filter { $0 > PowerLawFit.threshold }.sorted()
    var values: [Double] = [], first: [Int] = []
    for (i, x) in data.enumerated() where values.last != x {
      values.append(x)
      first.append(i)
    }
    self.values = values
    firstIndex = first
    var inRange = values.indices.filter { range?.contains(values[$0]) ?? true }
    if !inRange.isEmpty { inRange.removeLast() }
    candidates = inRange
    let n = data.count
    var sl = [Double](repeating: 0, count: n + 1), ss = [Double](repeating: 0, count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) {
      sl[i] = sl[i + 1] + log(data[i])
      ss[i] = ss[i + 1] + data[i]
    }
    suffixLog = sl
    suffixSum = ss
  }

  /// The Kolmogorov–Smirnov distance max|T − A| over the distinct values ≥ values[u], with the
  /// model CDF `cdf` (the `powerlaw` package's `Distribution.KS`).
  func ksDistance(from u: Int, cdf: (Double) -> Double) -> Double {
    let n = Double(data.count)
    let dropped = Double(firstIndex[u]) / n
    var plus = -Double.infinity, minus = Double.infinity
    for v in u..<values.count {
      let actual = (Double(firstIndex[v]) / n - dropped) / (1 - dropped)
      let diff = cdf(values[v]) - actual
      plus = max(plus, diff)
      minus = min(minus, diff)
    }
    let d = max(plus, -minus)
    return d.isNaN ? .infinity : d
  }

  /// " in the xmin range [a, b]" for error messages.
  static func describe(_ range: ClosedRange<Double>) -> String {
    " in the xmin range [\(Format.general(range.lowerBound, 4)), \(Format.general(range.upperBound, 4))]"
  }

  /// The first candidate minimising `ds` among those `valid` (all of them when none or all
  /// are valid), as the `powerlaw` package's `find_xmin` chooses.
  static func best(_ ds: [Double], valid: [Bool]) -> Int {
    let restrict = valid.contains(true) && valid.contains(false)
    var best = -1
    for i in ds.indices where !restrict || valid[i] {
      if best < 0 || ds[i] < ds[best] { best = i }
    }
    return best
  }
}

/// A buffer that concurrent workers write at disjoint indices.
struct SharedBuffer<T>: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<T>
}
