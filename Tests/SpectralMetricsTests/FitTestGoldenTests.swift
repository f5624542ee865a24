import CompareCore
import Foundation
import SpectralMetrics
import Testing
import TensorIO

/// The eigenvalue sets of `golden_fit_tests.json` (made by `make_fit_test_fixtures.py`).
enum FitTestFixtures {
  static let layers = ["heavy", "gaussian", "lowrank", "wide", "conv"]
  static let samples = ["pl_sample", "exp_sample", "lognormal_sample"]

  nonisolated(unsafe) static let golden: [String: [String: Any]] = {
    let data = FileManager.default.contents(atPath: ESDFixtures.folder + "golden_fit_tests.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
  }()

  /// The ESD of a fixture weight (as `compare esd` computes it) or a stored sample.
  static func eigenvalues(_ name: String) throws -> [Double] {
    if samples.contains(name) {
      return try TensorFile.open(ESDFixtures.folder + name + ".npy").tensors[0].doubles()
    }
    var options = ESDOptions()
    options.randomize = false
    options.mpFit = false
    return try ESDAnalyzer(options: options).analyze(ESDFixtures.layer(name))[0].spectrum!.eigenvalues
  }
}

@Suite("Likelihood ratio tests against the float64 numpy/scipy goldens")
struct FitTestGoldenTests {
  /// A fit on the edge of its parameter space (truncated power law with λ·xmin → 0, lognormal
  /// sliding to μ → −∞ along its ridge): the likelihoods tend to the power law's, R is a ratio
  /// of two vanishing quantities, and where an optimiser stops decides its digits (on `heavy`'s
  /// lognormal ridge, R was 0.04, 0.11 and 0.48 for three stopping points). What is stable is
  /// the verdict: no significant preference.
  static func onEdge(_ g: [String: Any], _ alternative: LikelihoodRatioTest.Alternative) -> Bool {
    switch alternative {
    case .exponential: return false
    case .lognormal: return ((g["lognormal_parameters"] as! [String: Double])["sigma"]!) > 100
    case .truncatedPowerLaw:
      let p = g["truncated_power_law_parameters"] as! [String: Double]
      return p["lambda"]! * (g["xmin"] as! Double) < 1e-8
    }
  }

  @Test("R and p of each alternative match numpy/scipy", arguments: FitTestFixtures.layers + FitTestFixtures.samples)
  func ratios(name: String) throws {
    let g = FitTestFixtures.golden[name]!
    let evals = try FitTestFixtures.eigenvalues(name)
    let fit = try PowerLawFit(eigenvalues: evals)
    #expect(close(fit.xmin, g["xmin"] as! Double, relative: 1e-12))
    for test in try LikelihoodRatioTest.powerLaw(eigenvalues: evals, xmin: fit.xmin) {
      let key = "pl_vs_\(test.alternative.rawValue)"
      let r = g[key + "_R"] as! Double, p = g[key + "_p"] as! Double
      if Self.onEdge(g, test.alternative) {
        #expect(test.pValue > 0.5 && p > 0.5 && abs(test.ratio) < 1, "\(name) \(key): R \(test.ratio) vs \(r), p \(test.pValue) vs \(p)")
      } else {
        #expect(close(test.ratio, r, relative: 1e-6, absolute: 1e-8), "\(name) \(key)_R: \(test.ratio) vs \(r)")
        #expect(close(test.pValue, p, relative: 1e-6, absolute: 1e-10), "\(name) \(key)_p: \(test.pValue) vs \(p)")
      }
    }
  }
}

@Suite("Bootstrap interval and goodness-of-fit p-value against numpy with the same draws")
struct BootstrapGoldenTests {
  /// The golden script draws from the same SplitMix64 streams and refits with its own xmin
  /// search, so the resamples are the same values; the fits agree to rounding (its sums are
  /// numpy's pairwise ones), hence 1e-9 for the interval and equality for the p-value (a
  /// synthetic D equal to the observed one to 1e-9 would be needed to move it).
  @Test("alpha_ci_low, alpha_ci_high and pl_p_value match", arguments: ["heavy", "wide", "gaussian", "small"])
  func columns(name: String) throws {
    let golden = (FitTestFixtures.golden["bootstrap"]![name] as! [String: Any])
    var options = ESDOptions()
    options.randomize = false
    options.mpFit = false
    options.seed = 7
    options.alphaResamples = 50
    options.confidence = 0.9
    options.powerLawTestSamples = 50
    let row = try ESDAnalyzer(options: options).analyze(ESDFixtures.layer(name))[0]
    let interval = try #require(row.alphaInterval), test = try #require(row.goodnessOfFit)
    #expect(interval.alphas.count == golden["resamples"] as! Int && test.distances.count == golden["synthetic"] as! Int)
    #expect(close(interval.low, golden["alpha_ci_low"] as! Double, relative: 1e-9), "\(interval.low)")
    #expect(close(interval.high, golden["alpha_ci_high"] as! Double, relative: 1e-9), "\(interval.high)")
    #expect(test.pValue == golden["pl_p_value"] as! Double)
  }
}

@Suite("Likelihood ratio tests against the powerlaw package 1.5 itself")
struct PowerLawPackageTests {
  nonisolated(unsafe) static let reference: [String: Any] = {
    let data = FileManager.default.contents(atPath: ESDFixtures.folder + "powerlaw_1_5.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }()

  /// powerlaw fits the alternatives with scipy's `fmin` at its default absolute tolerance 1e-4
  /// (even the exponential, which has a closed form), so its R carries that error: ≤ 3e-4 against
  /// the exact optimum on these sets, 8.7e-4 for a truncated power law with λ = 1.2e-4, 1.8e-3 and
  /// 6.2e-3 where the exponential's λ is 0.039 and 0.0016 (a step of 1e-4 is then 0.3 % and 6 %). On the edge of a parameter space
  /// (see `FitTestGoldenTests.onEdge`) only the verdict is compared.
  @Test("R and p match powerlaw 1.5 within its optimiser's tolerance",
        arguments: FitTestFixtures.layers + FitTestFixtures.samples)
  func ratios(name: String) throws {
    let reference = Self.reference[name] as! [String: Any]
    let g = FitTestFixtures.golden[name]!
    let evals = try FitTestFixtures.eigenvalues(name)
    let fit = try PowerLawFit(eigenvalues: evals)
    for test in try LikelihoodRatioTest.powerLaw(eigenvalues: evals, xmin: fit.xmin) {
      let key = "pl_vs_\(test.alternative.rawValue)"
      let r = reference[key + "_R"] as! Double, p = reference[key + "_p"] as! Double
      if FitTestGoldenTests.onEdge(g, test.alternative) {
        #expect(test.pValue > 0.5 && p > 0.5, "\(name) \(key): p \(test.pValue) vs \(p)")
        continue
      }
      let lambda = (g["exponential_parameters"] as! [String: Double])["lambda"]!
      let tolerance = test.alternative == .exponential && lambda < 0.01 ? 1e-2 : 2e-3
      #expect(abs(test.ratio - r) <= tolerance * max(1, abs(r)), "\(name) \(key)_R: \(test.ratio) vs \(r)")
      #expect(abs(test.pValue - p) <= tolerance, "\(name) \(key)_p: \(test.pValue) vs \(p)")
    }
  }
}
