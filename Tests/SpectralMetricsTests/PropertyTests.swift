import CompareCore
import Foundation
import SpectralMetrics
import Testing

@Suite("ESD properties, each with a negative control")
struct PropertyTests {
  @Test("entropy is 1 for an orthogonal matrix and below 1 for a generic one", arguments: [1, 2] as [UInt64])
  func entropyOfOrthogonal(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let q = Matrix<Double>.randomOrthogonal(size: 24, using: &rng)
    // The reference's +1e-10 on every p moves the value by ~n·1e-10.
    #expect(try Spectrum(of: q).entropy.isClose(to: 1, tolerance: 1e-8))
    let g = Matrix<Double>.gaussian(rows: 24, columns: 24, using: &rng)
    #expect(try Spectrum(of: g).entropy < 0.97)
  }

  @Test("stable_rank is 1 for a rank-1 matrix and above 1 for rank 2")
  func stableRankOfRankOne() throws {
    let u = (0..<30).map { Double($0 % 7) - 3 }, v = (0..<20).map { 0.5 + Double($0 % 5) }
    let rankOne = Matrix<Double>(rows: 30, columns: 20) { u[$0] * v[$1] }
    let spectrum = try Spectrum(of: rankOne)
    #expect(spectrum.stableRank.isClose(to: 1, tolerance: 1e-9))
    #expect(spectrum.matrixRank == 1)
    let rankTwo = Matrix<Double>(rows: 30, columns: 20) { u[$0] * v[$1] + (($0 + $1) % 2 == 0 ? 1 : -1) }
    #expect(try Spectrum(of: rankTwo).stableRank > 1.01)
    #expect(try Spectrum(of: rankTwo).matrixRank == 2)
  }

  @Test("rand_distance is invariant to scaling W, depends on the seed, and is larger for structured W")
  func randDistanceScaling() throws {
    var rng = SplitMix64(seed: 3)
    let g = Matrix<Double>.gaussian(rows: 80, columns: 40, using: &rng)
    let a = try randDistance(of: g, seed: 11), b = try randDistance(of: g.scaled(by: 37.5), seed: 11)
    #expect(a.isClose(to: b, tolerance: 1e-12))
    #expect(try randDistance(of: g, seed: 12) != a)
    // Negative control: a matrix with strong structure (a large rank-1 part) is far from its shuffle.
    let spiked = Matrix<Double>(rows: 80, columns: 40) { g[$0, $1] + 0.8 * Double($0 % 9) * Double($1 % 5) }
    #expect(try randDistance(of: spiked, seed: 11) > 3 * a)
  }

  @Test("the distance of a model from itself is 0, and not from another")
  func distanceFromItself() throws {
    let w = try ESDFixtures.matrix("gaussian"), w0 = try ESDFixtures.matrix("gaussian_init")
    let same = try InitDistance(w, from: w)
    #expect(same.distance == 0 && same.relativeDistance == 0)
    #expect(abs(same.cosineDistance) < 1e-12 && same.cka.isClose(to: 1, tolerance: 1e-12))
    let other = try InitDistance(w, from: w0)
    #expect(other.distance > 1 && other.cka < 0.99)
    #expect(throws: InputError.self) { try InitDistance(w, from: w.transposed()) }
  }

  @Test("Jensen–Shannon distance is 0 for equal vectors, symmetric, and at most √ln 2")
  func jensenShannon() {
    let p = [1.0, 2, 3, 4], q = [4.0, 3, 2, 1]
    #expect(jensenShannonDistance(p, p.map { $0 * 5 }) < 1e-12)
    #expect(jensenShannonDistance(p, q) == jensenShannonDistance(q, p))
    #expect(jensenShannonDistance([1, 0], [0, 1]).isClose(to: log2e, tolerance: 1e-12))
  }

  /// √ln 2, the distance between disjoint distributions.
  let log2e = 0.6931471805599453.squareRoot()

  @Test("a power-law sample gives back its exponent; a uniform one does not")
  func powerLawRecovers() throws {
    var rng = SplitMix64(seed: 5)
    // Pareto with alpha = 2.5 on [1, ∞): x = u^(−1/(alpha−1)).
    let sample = (0..<2000).map { _ in pow(1 - rng.nextUniform(), -1 / 1.5) }
    let fit = try PowerLawFit(eigenvalues: sample)
    #expect(abs(fit.alpha - 2.5) < 0.2)
    let uniform = (0..<2000).map { _ in 1 + rng.nextUniform() }
    #expect(try PowerLawFit(eigenvalues: uniform).alpha > 6)
  }

  @Test("an all-zero matrix is reported failed with its reason, not as numbers")
  func zeroMatrix() throws {
    let layer = WeightLayer(name: "z", matrix: Matrix<Double>(zeros: 20, 10))
    let report = try ESDAnalyzer().analyze(layer)[0]
    #expect(report.status == .failed)
    #expect(report.reason == "all eigenvalues are zero: entropy, alpha and the MP fit are undefined")
    #expect(report.value("entropy") == .null && report.value("alpha") == .null)
    #expect(ESDSummary([report]).failed == 1 && ESDSummary([report]).means.isEmpty)
  }

  @Test("a NaN element is an error naming the layer and position")
  func nanElement() throws {
    var m = Matrix<Double>(zeros: 12, 10)
    m[3, 4] = .nan
    #expect(throws: InputError("layer 'w': weight has a non-finite value (nan) at [3, 4]")) {
      try ESDAnalyzer().analyze(WeightLayer(name: "w", matrix: m))
    }
  }

  @Test("--normalize divides every eigenvalue by N; conv norm halves them")
  func conventions() throws {
    let layer = try ESDFixtures.layer("conv")
    var options = ESDOptions()
    options.randomize = false
    options.mpFit = false
    let base = try ESDAnalyzer(options: options).analyze(layer)[0].spectrum!.lambdaMax
    options.normalize = true
    let normalised = try ESDAnalyzer(options: options).analyze(layer)[0].spectrum!.lambdaMax
    #expect(normalised.isClose(to: base / 16, tolerance: 1e-12))
    options.normalize = false
    options.convNorm = false
    let raw = try ESDAnalyzer(options: options).analyze(layer)[0].spectrum!.lambdaMax
    #expect(raw.isClose(to: 2 * base, tolerance: 1e-12))
    options.pool = false
    let slices = try ESDAnalyzer(options: options).analyze(layer)
    #expect(slices.count == 9 && slices.allSatisfy { $0.spectrum!.count == 12 })
  }

  @Test("rand-repeats reports a mean and a spread; one shuffle has spread 0")
  func repeats() throws {
    var options = ESDOptions()
    options.mpFit = false
    options.randRepeats = 4
    let report = try ESDAnalyzer(options: options).analyze(ESDFixtures.layer("heavy"))[0]
    #expect(report.randDistances.count == 4)
    #expect(report.randDistanceDeviation! > 0)
    options.randRepeats = 1
    #expect(try ESDAnalyzer(options: options).analyze(ESDFixtures.layer("heavy"))[0].randDistanceDeviation == 0)
  }

  @Test("--precision float32 agrees with float64 on the large eigenvalues, not to the last bit")
  func float32Precision() throws {
    let w = try ESDFixtures.matrix("heavy")
    let double = try Spectrum(of: w)
    let single = try Spectrum(of: w, solver: EigenvalueSolver(precision: .float32))
    #expect(single.lambdaMax.isClose(to: double.lambdaMax, tolerance: 1e-5))
    #expect(single.norm.isClose(to: double.norm, tolerance: 1e-5))
    #expect(single.eigenvalues != double.eigenvalues)
    #expect(try PowerLawFit(eigenvalues: single.eigenvalues).alpha.isClose(
      to: PowerLawFit(eigenvalues: double.eigenvalues).alpha, tolerance: 1e-3))
  }
}
