import CompareCore
@testable import SpectralMetrics
import Testing

@Suite("Bootstrap interval, goodness-of-fit and likelihood ratio properties")
struct FitTestPropertyTests {
  @Test("the pruned xmin search returns PowerLawFit's xmin, alpha and D bit for bit, ties and all",
        arguments: [5, 19, 20, 57, 300] as [Int])
  func searchMatchesFit(n: Int) throws {
    var rng = SplitMix64(seed: UInt64(n))
    for trial in 0..<6 {
      // Pareto tails over a uniform body; odd trials are bootstrap resamples (many ties).
      var x = (0..<n).map { i in i % 3 == 0 ? 0.1 + rng.nextUniform() : pow(1 - rng.nextUniform(), -1 / (0.5 + Double(trial))) }
      if trial % 2 == 1 { x = (0..<n).map { _ in x[rng.nextIndex(below: n)] } }
      x.sort()
      let fit = try PowerLawFit(eigenvalues: x)
      for hint in [0, n / 2, n - 1] {
        let search = try PowerLawFit.searchTail(sorted: x, hint: hint)
        #expect(x[search.index] == fit.xmin && search.alpha == fit.alpha && search.d == fit.d, "n \(n) trial \(trial) hint \(hint)")
      }
    }
  }

  @Test("the alpha interval contains the fit's alpha, is reproducible by seed, and another seed moves it",
        arguments: ["heavy", "pl_sample"])
  func alphaInterval(name: String) throws {
    let evals = try FitTestFixtures.eigenvalues(name)
    let fit = try PowerLawFit(eigenvalues: evals)
    let a = try AlphaConfidenceInterval(eigenvalues: evals, fit: fit, resamples: 60, confidence: 0.9, seed: 1)
    let b = try AlphaConfidenceInterval(eigenvalues: evals, fit: fit, resamples: 60, confidence: 0.9, seed: 1)
    let c = try AlphaConfidenceInterval(eigenvalues: evals, fit: fit, resamples: 60, confidence: 0.9, seed: 2)
    #expect(a.low <= fit.alpha && fit.alpha <= a.high, "\(a.low) ≤ \(fit.alpha) ≤ \(a.high)")
    #expect(a == b)
    #expect(a.low != c.low || a.high != c.high)
    #expect(a.alphas.count == 60)
    // A wider coverage gives a wider interval from the same draws.
    let wide = try AlphaConfidenceInterval(eigenvalues: evals, fit: fit, resamples: 60, confidence: 0.99, seed: 1)
    #expect(wide.low <= a.low && wide.high >= a.high)
  }

  @Test("a power-law sample passes the goodness-of-fit test and is not rejected for the exponential")
  func powerLawSample() throws {
    let evals = try FitTestFixtures.eigenvalues("pl_sample")
    let fit = try PowerLawFit(eigenvalues: evals)
    let gof = try PowerLawGoodnessOfFit(eigenvalues: evals, fit: fit, samples: 50, seed: 3)
    #expect(gof.pValue > 0.1, "pl_p_value \(gof.pValue)")
    let exponential = try LikelihoodRatioTest.powerLaw(against: [.exponential], eigenvalues: evals, xmin: fit.xmin)[0]
    #expect(exponential.ratio > 0, "R \(exponential.ratio): the power law is preferred")
  }

  @Test("an exponential sample fails the goodness-of-fit test and R favours the exponential")
  func exponentialSample() throws {
    let evals = try FitTestFixtures.eigenvalues("exp_sample")
    let fit = try PowerLawFit(eigenvalues: evals)
    let gof = try PowerLawGoodnessOfFit(eigenvalues: evals, fit: fit, samples: 50, seed: 3)
    #expect(gof.pValue < 0.1, "pl_p_value \(gof.pValue)")
    let exponential = try LikelihoodRatioTest.powerLaw(against: [.exponential], eigenvalues: evals, xmin: fit.xmin)[0]
    #expect(exponential.ratio < 0, "R \(exponential.ratio)")
  }

  @Test("the analyzer seeds each row by its label: the same numbers alone or among other layers, in any order")
  func rowSeeds() throws {
    var options = ESDOptions()
    options.randomize = false
    options.mpFit = false
    options.alphaResamples = 20
    options.powerLawTestSamples = 20
    options.seed = 5
    let analyzer = ESDAnalyzer(options: options)
    let heavy = try ESDFixtures.layer("heavy"), wide = try ESDFixtures.layer("wide")
    let alone = try analyzer.analyze(heavy)[0]
    let together = try analyzer.analyze([wide, heavy])
    // The same draws; the eigenvalues' last bits follow OpenBLAS's thread count (one thread per
    // layer in the parallel part), hence rounding-level differences only.
    let (a, b) = (together[1][0].alphaInterval!, alone.alphaInterval!)
    #expect(close(a.low, b.low, relative: 1e-12) && close(a.high, b.high, relative: 1e-12))
    #expect(together[1][0].goodnessOfFit!.pValue == alone.goodnessOfFit!.pValue)
    let direct = try AlphaConfidenceInterval(eigenvalues: alone.spectrum!.eigenvalues, fit: alone.powerLaw!, resamples: 20,
                                             confidence: 0.95, seed: layerSeed(layerSeed(5, name: "heavy"), name: "alpha_ci"))
    #expect(direct == alone.alphaInterval)
    #expect(alone.likelihoodRatioTests.map(\.alternative) == LikelihoodRatioTest.Alternative.allCases)
    for column in ["alpha_ci_low", "alpha_ci_high", "pl_p_value", "pl_vs_lognormal_R", "pl_vs_truncated_power_law_p"] {
      #expect(alone.columns.contains { $0.0 == column }, "\(column)")
    }
  }

  @Test("the columns stay away unless asked for")
  func columnsOff() throws {
    let row = try ESDAnalyzer().analyze(ESDFixtures.layer("heavy"))[0]
    #expect(!row.columns.contains { $0.0.hasPrefix("alpha_ci") || $0.0.hasPrefix("pl_") })
  }

  @Test("invalid settings throw", arguments: [(0, 0.95), (10, 0.0), (10, 1.0)] as [(Int, Double)])
  func invalid(resamples: Int, confidence: Double) throws {
    let evals = try FitTestFixtures.eigenvalues("heavy")
    let fit = try PowerLawFit(eigenvalues: evals)
    #expect(throws: InputError.self) {
      try AlphaConfidenceInterval(eigenvalues: evals, fit: fit, resamples: resamples, confidence: confidence, seed: 0)
    }
  }

  @Test("ln E_p(z) and ln erfc(z) against reference values (mpmath, 30 digits)")
  func specialFunctions() {
    // mpmath.expint(p, z), 30 digits
    let cases: [(Double, Double, Double)] = [
      (1.0, 0.5, 0.559773594776160811746795939315),
      (2.5, 0.001, 0.664740399993979752501737593105),
      (1.0000001, 1e-6, 13.238287048197270609419206449),
      (3.0, 2.0, 0.0301333797978158931874799229699),
      (1.5, 30.0, 2.974920699802062209334354749e-15),
    ]
    for (p, z, e) in cases {
      #expect(close(TailSpecialFunctions.logExponentialIntegral(order: p, z), log(e), relative: 1e-13), "E_\(p)(\(z))")
    }
    #expect(close(TailSpecialFunctions.logErfc(30), -903.974117110643878, relative: 1e-14))
    #expect(close(TailSpecialFunctions.logErfc(19.9), log(erfc(19.9)), relative: 1e-15))
  }
}
