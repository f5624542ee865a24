import CompareCore
import Foundation
import SpectralMetrics
import Testing

@Suite("Tail fit properties, each with a negative control")
struct TailFitPropertyTests {
  /// n draws of a power law of exponent alpha above 1: x = (1 − u)^(−1/(alpha−1)).
  static func powerLawSample(alpha: Double, n: Int, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in pow(1 - rng.nextUniform(), -1 / (alpha - 1)) }
  }

  /// n draws of x^(−alpha) e^(−lambda·x) above 1, by rejection from the exponential above 1.
  static func truncatedSample(alpha: Double, lambda: Double, n: Int, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    var out: [Double] = []
    while out.count < n {
      let x = 1 - log(1 - rng.nextUniform()) / lambda
      if rng.nextUniform() < pow(x, -alpha) { out.append(x) }
    }
    return out
  }

  @Test("a pure power-law sample: PL and TPL recover its exponent, TPL's Lambda is ~0", arguments: [1, 2] as [UInt64])
  func pureSample(seed: UInt64) throws {
    let x = Self.powerLawSample(alpha: 2.5, n: 400, seed: seed)
    let pl = try PowerLawFit(eigenvalues: x)
    #expect(abs(pl.alpha - 2.5) < 0.25)
    let tpl = try TruncatedPowerLawFit(eigenvalues: x)
    #expect(abs(tpl.alpha - 2.5) < 0.35)
    // Lambda·xmax < 1: the cut-off lies beyond the data.
    #expect(tpl.lambda * tpl.xmax < 1, "Lambda \(tpl.lambda), xmax \(tpl.xmax)")
  }

  @Test("an exponentially cut sample: TPL finds Lambda > 0 near the truth, which a pure one does not")
  func truncatedSample() throws {
    let x = Self.truncatedSample(alpha: 1.5, lambda: 0.05, n: 400, seed: 5)
    let tpl = try TruncatedPowerLawFit(eigenvalues: x)
    #expect(tpl.lambda > 0.02 && tpl.lambda < 0.1, "Lambda \(tpl.lambda)")
    #expect(tpl.lambda * tpl.xmax > 3, "Lambda \(tpl.lambda), xmax \(tpl.xmax)")
    // Negative control: the pure power law's Lambda is orders of magnitude smaller.
    let pure = try TruncatedPowerLawFit(eigenvalues: Self.powerLawSample(alpha: 1.5, n: 400, seed: 5))
    #expect(pure.lambda < tpl.lambda / 10)
  }

  @Test("clip_xmax leaves a clean power law alone and clips a spectrum whose top pulls alpha up")
  func clipping() throws {
    let pure = try ClippedPowerLawFit(eigenvalues: Self.powerLawSample(alpha: 3, n: 300, seed: 1))
    #expect(pure.fingerCount == 0 && pure.clippedCount == 0 && pure.fit.alpha == pure.rawAlpha)
    // A Marchenko–Pastur bulk: its sharp edge gives a steep raw fit, which clipping relaxes.
    let spectrum = try Spectrum(of: ESDFixtures.matrix("gaussian"))
    let clipped = try ClippedPowerLawFit(eigenvalues: spectrum.eigenvalues)
    #expect(clipped.fingerCount > 0 && clipped.clippedCount == clipped.fingerCount + 1)
    #expect(clipped.fit.alpha + 1 < clipped.rawAlpha)
    #expect(clipped.fit.tailCount > 0)
  }

  @Test("fits are deterministic and never NaN: same input, same numbers; degenerate input throws")
  func deterministicAndRobust() throws {
    let x = Self.truncatedSample(alpha: 2, lambda: 0.1, n: 150, seed: 9)
    #expect(try TruncatedPowerLawFit(eigenvalues: x) == TruncatedPowerLawFit(eigenvalues: x))
    #expect(throws: InputError.self) { try TruncatedPowerLawFit(eigenvalues: [2, 2, 2, 2]) }
    #expect(throws: InputError.self) { try TruncatedPowerLawFit(eigenvalues: [0, 1e-9]) }
    let spread = try TruncatedPowerLawFit(eigenvalues: [1, 1e300, 2e300])
    #expect(spread.alpha.isFinite && spread.lambda.isFinite && spread.d.isFinite)
  }

  @Test("detX: one dominant eigenvalue gives a tail of 1 or 2, a flat spectrum a long tail, a constant one 0")
  func detX() {
    let dominant = DetX(eigenvalues: [0.01, 0.01, 0.01, 0.01, 100])
    #expect(dominant.count <= 2)
    let flat = DetX(eigenvalues: (1...50).map { 1 + 0.01 * Double($0) })
    #expect(flat.count > 25)
    let constant = DetX(eigenvalues: [3, 3, 3])
    #expect(constant.count == 0 && constant.value == 3)
    // A long tail of λ̃ > 1 overflows a product of the tail, not the sum of logs.
    let long = DetX(eigenvalues: [1e-300] + [Double](repeating: 1.5, count: 2000))
    #expect(long.count == 2001 && long.value == 1e-300)
  }

  @Test("Nelder–Mead finds the minimum of a smooth bowl, and SciPy's first steps")
  func nelderMead() {
    let (x, value) = NelderMead().minimize({ p in (p[0] - 3) * (p[0] - 3) + 10 * (p[1] + 1) * (p[1] + 1) }, from: [1, 1])
    #expect(abs(x[0] - 3) < 1e-3 && abs(x[1] + 1) < 1e-3 && value < 1e-6)
  }
}
