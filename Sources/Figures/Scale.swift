import CompareCore

/// How an axis maps data values to positions.
public enum Scale: Sendable, Equatable {
  /// Equal steps for equal differences.
  case linear
  /// Equal steps for equal ratios; values ≤ 0 cannot be placed and are skipped.
  case log10
}

/// Tick positions a reader finds natural: multiples of 1, 2, 2.5 or 5 times a power of ten on a
/// linear axis, decades on a logarithmic one.
public enum Ticks {
  /// "Nice numbers" (Heckbert, Graphics Gems, 1990) covering `lower...upper`.
  ///
  /// The step is the smallest of {1, 2, 2.5, 5} × 10ᵏ that puts at most `count` ticks in the
  /// interval; ticks are its multiples there. `0...1` with `count: 6` gives 0, 0.2, 0.4, 0.6, 0.8, 1.
  /// - Returns: Ascending ticks; empty if the bounds are not finite or `lower > upper`.
  public static func linear(from lower: Double, to upper: Double, count: Int = 6) -> [Double] {
    guard lower.isFinite, upper.isFinite, lower <= upper else { return [] }
    if lower == upper { return [lower] }
    let target = max(2, count)
    let raw = (upper - lower) / Double(target)
    guard raw.isNormal else { return [lower, upper] }  // spans that overflow or underflow
    let e0 = Int(log10(raw).rounded(.down)) - 1
    for e in e0...(e0 + 3) {
      for m in [1, 2, 2.5, 5] as [Double] {
        let ticks = multiples(of: m, exponent: e, from: lower, to: upper)
        if ticks.count <= target { return ticks }
      }
    }
    return [lower, upper]
  }

  /// The multiples of m·10ᵉ in `lower...upper`, each the double nearest its decimal value
  /// (3 × 0.2 gives 0.6, not 0.6000000000000001).
  private static func multiples(of m: Double, exponent e: Int, from lower: Double,
                                to upper: Double) -> [Double] {
    let step = m * Double.pow10(e)
    let first = (lower / step - 1e-9).rounded(.up)
    let last = (upper / step + 1e-9).rounded(.down)
    guard first <= last, last - first < 1000 else { return [] }
    return stride(from: first, through: last, by: 1).map { k in
      let v = e < 0 ? (k * m * 10).rounded() / Double.pow10(1 - e) : k * step
      return v == 0 ? 0 : v
    }
  }

  /// Ticks for a logarithmic axis over `lower...upper` (both > 0): the 1-2-5 multiples of powers
  /// of ten when at most `count` of them fall inside, else the decades (thinned to at most
  /// `count`); linear nice numbers for intervals too short for two 1-2-5 ticks.
  public static func logarithmic(from lower: Double, to upper: Double, count: Int = 8) -> [Double] {
    guard lower > 0, upper.isFinite, lower <= upper else { return [] }
    let lo = Int((log10(lower) - 1e-9).rounded(.up))
    let hi = Int((log10(upper) + 1e-9).rounded(.down))
    let oneTwoFive = decadeMultiples([1, 2, 5], from: lower, to: upper)
    if oneTwoFive.count > max(2, count), hi - lo + 1 >= 2 {
      let every = max(1, Int((Double(hi - lo + 1) / Double(max(2, count))).rounded(.up)))
      return stride(from: lo, through: hi, by: 1).filter { ($0 - lo) % every == 0 }
        .map { Double.pow10($0) }
    }
    return oneTwoFive.count >= 2
      ? oneTwoFive : linear(from: lower, to: upper, count: 4).filter { $0 > 0 }
  }

  /// Unlabelled ticks between the labelled `majors` of a log axis: 2×, 3×, …, 9× each decade
  /// (or the skipped decades when the majors are thinned).
  static func logarithmicMinor(from lower: Double, to upper: Double, majors: [Double]) -> [Double] {
    guard lower > 0, upper.isFinite, lower <= upper, log10(upper / lower) <= 12 else { return [] }
    let all = decadeMultiples(majors.count >= 2 && majors[1] / majors[0] > 10.5
                              ? [1] : Array(1...9).map(Double.init), from: lower, to: upper)
    return all.filter { v in !majors.contains { abs($0 - v) <= 1e-9 * v } }
  }

  private static func decadeMultiples(_ ms: [Double], from lower: Double, to upper: Double)
    -> [Double]
  {
    let lo = Int(log10(lower).rounded(.down)), hi = Int(log10(upper).rounded(.up))
    guard hi - lo < 400 else { return [] }
    var ticks: [Double] = []
    for k in lo...hi {
      for m in ms {
        let v = k < 0 ? m / Double.pow10(-k) : m * Double.pow10(k)
        if v >= lower * (1 - 1e-9), v <= upper * (1 + 1e-9) { ticks.append(v) }
      }
    }
    return ticks
  }

  /// Labels for ticks: as many decimals as the step needs, so 0, 0.2, …, 1 print as
  /// "0", "0.2", …, "1"; very large or small magnitudes as "2e-5".
  public static func labels(for ticks: [Double], scale: Scale) -> [String] {
    guard !ticks.isEmpty else { return [] }
    let largest = ticks.map { abs($0) }.max() ?? 0
    if scale == .log10 {
      // One notation per axis: "1000" next to "1e5" reads as a different kind of number.
      let plain = ticks.allSatisfy { $0 == 0 || (abs($0) >= 1e-3 && abs($0) < 1e5) }
      return ticks.map { plain || (abs($0) >= 0.01 && abs($0) < 1000) ? compact($0) : exponential($0) }
    }
    if largest >= 1e5 || (largest > 0 && largest < 1e-3) {
      return ticks.map { $0 == 0 ? "0" : exponential($0) }
    }
    var step = 0.0
    if ticks.count > 1 {
      step = zip(ticks.dropFirst(), ticks).map { $0 - $1 }.min() ?? 0
    }
    guard step > 0 else { return ticks.map(compact) }
    var decimals = 0
    while decimals < 8 {
      let scaled = step * Double.pow10(decimals)
      if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { break }
      decimals += 1
    }
    return ticks.map { Format.fixed($0 == 0 ? 0 : $0, decimals) }
  }

  /// A short form: plain for 1e-3 ≤ |v| < 1e5, otherwise "2e-5" / "1e6".
  static func compact(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e-3, a < 1e5 { return Format.general(v, 6) }
    return exponential(v)
  }

  /// "2e-5", "1.5e5": mantissa with up to three significant digits.
  static func exponential(_ v: Double) -> String {
    if v == 0 || !v.isFinite { return v == 0 ? "0" : "\(v)" }
    let a = abs(v)
    var e = Int(log10(a).rounded(.down))
    var m = v / Double.pow10(e)
    if abs(m) >= 9.9995 { m /= 10; e += 1 }
    var ms = Format.general(m, 3)
    if ms.hasSuffix(".0") { ms.removeLast(2) }
    return "\(ms)e\(e)"
  }
}

extension Double {
  /// 10ᵏ, correctly rounded (so 10⁻³ is the double nearest 0.001).
  static func pow10(_ k: Int) -> Double { pow(10, Double(k)) }
}

/// The placement of data values along one axis of a plot.
struct AxisMapping {
  var scale: Scale
  var lower: Double
  var upper: Double

  /// Position of `v` in 0...1 of the axis (beyond for values outside the limits); nil for
  /// values the scale cannot place (non-finite, or ≤ 0 on a log axis).
  func fraction(_ v: Double) -> Double? {
    guard v.isFinite else { return nil }
    let f: Double
    switch scale {
    case .linear:
      // Halved so that limits near ±Double.greatestFiniteMagnitude do not overflow.
      f = upper > lower ? (v / 2 - lower / 2) / (upper / 2 - lower / 2) : 0.5
    case .log10:
      guard v > 0 else { return nil }
      let a = log10(lower), b = log10(upper)
      f = b > a ? (log10(v) - a) / (b - a) : 0.5
    }
    return f.isFinite ? f : nil
  }

  func minorTicks(majors: [Double]) -> [Double] {
    scale == .log10 ? Ticks.logarithmicMinor(from: lower, to: upper, majors: majors) : []
  }

  func ticks(count: Int) -> [Double] {
    switch scale {
    case .linear: return Ticks.linear(from: lower, to: upper, count: count)
    case .log10: return Ticks.logarithmic(from: lower, to: upper, count: count)
    }
  }
}
