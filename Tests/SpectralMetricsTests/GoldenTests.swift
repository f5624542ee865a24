import CompareCore
import SpectralMetrics
import Testing

@Suite("ESD columns against the float64 numpy goldens")
struct GoldenTests {
  static let fixtures = ["gaussian", "heavy", "lowrank", "conv", "small", "small_tail", "wide"]
  static let deterministic = [
    "lambda_max", "norm", "log_norm", "spectral_norm", "log_spectral_norm", "stable_rank", "entropy",
    "alpha", "xmin", "xmax", "D", "sigma", "alpha_weighted", "log_alpha_norm",
  ]
  static let counts = ["N", "M", "rf", "num_evals", "matrix_rank", "num_pl_spikes", "num_spikes", "rand_num_spikes"]
  static let fitted = [
    "sigma_mp", "bulk_max", "bulk_min", "mp_softrank", "W_scale", "rand_distance", "max_rand_eval",
    "ww_softrank", "ww_maxdist", "rand_sigma_mp", "rand_mp_softrank", "rand_bulk_max", "rand_W_scale",
  ]

  @Test("every column matches the golden value", arguments: fixtures)
  func columns(name: String) throws {
    var options = ESDOptions()
    options.seed = 7
    let report = try ESDAnalyzer(options: options).analyze(ESDFixtures.layer(name))[0]
    let golden = ESDFixtures.goldenLayer(name)
    #expect(report.status == .success)
    for column in Self.deterministic + Self.fitted {
      guard case .double(let mine) = report.value(column) else {
        Issue.record("\(name): column \(column) missing")
        continue
      }
      let expected = golden[column] as! Double
      let tolerance = Self.deterministic.contains(column) ? 1e-9 : 1e-6
      #expect(close(mine, expected, relative: tolerance), "\(name).\(column): \(mine) vs \(expected)")
    }
    for column in Self.counts {
      guard case .int(let mine) = report.value(column) else {
        Issue.record("\(name): column \(column) missing")
        continue
      }
      #expect(mine == golden[column] as! Int, "\(name).\(column)")
    }
  }

  @Test("the SVD and Gram routes agree on every deterministic column", arguments: ["heavy", "lowrank", "wide"])
  func solversAgree(name: String) throws {
    var a = ESDOptions(), b = ESDOptions()
    a.randomize = false
    b.randomize = false
    a.solver = EigenvalueSolver(method: .svd)
    b.solver = EigenvalueSolver(method: .automatic)
    let layer = try ESDFixtures.layer(name)
    let ra = try ESDAnalyzer(options: a).analyze(layer)[0], rb = try ESDAnalyzer(options: b).analyze(layer)[0]
    for column in Self.deterministic {
      guard case .double(let x) = ra.value(column), case .double(let y) = rb.value(column) else {
        Issue.record("\(column) missing")
        continue
      }
      #expect(close(x, y, relative: 1e-10), "\(name).\(column)")
    }
    #expect(ra.value("matrix_rank") == rb.value("matrix_rank"))
  }

  @Test("distances from init and the ESD of W − W0 match the goldens", arguments: ["gaussian", "conv"])
  func initDistances(name: String) throws {
    var options = ESDOptions()
    options.randomize = false
    let layer = try ESDFixtures.layer(name, withInit: true)
    let report = try ESDAnalyzer(options: options).analyze(layer)[0]
    let golden = ESDFixtures.goldenDistances(name)
    for column in ["distance_from_init", "relative_distance_from_init", "cosine_distance_from_init", "cka_from_init"] {
      guard case .double(let mine) = report.value(column) else {
        Issue.record("\(column) missing")
        continue
      }
      #expect(close(mine, golden[column] as! Double, relative: 1e-9), "\(name).\(column)")
    }
    options.delta = true
    let delta = try ESDAnalyzer(options: options).analyze(layer)[0]
    #expect(close(delta.powerLaw!.alpha, golden["delta_alpha"] as! Double, relative: 1e-6))
    #expect(close(delta.spectrum!.lambdaMax, golden["delta_lambda_max"] as! Double, relative: 1e-6))
  }

  @Test("SplitMix64 shuffles and the layer seed are the generator's")
  func shuffle() {
    var values = Array(0..<10)
    var rng = SplitMix64(seed: 7)
    values.withUnsafeMutableBufferPointer { rng.shuffle($0) }
    #expect(values == ESDFixtures.golden["shuffle_0_to_9_seed_7"] as! [Int])
    #expect(String(layerSeed(0, name: "gaussian")) == ESDFixtures.golden["fnv1a_gaussian"] as! String)
  }
}
