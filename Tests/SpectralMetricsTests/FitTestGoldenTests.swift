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
