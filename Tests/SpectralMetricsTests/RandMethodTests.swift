import CompareCore
import Testing
@testable import SpectralMetrics

@Suite("rand_distance: shuffled against Gaussian counterparts")
struct RandMethodTests {
  static func gaussian(seed: UInt64) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    return Matrix<Double>(rows: 300, columns: 150) { _, _ in rng.nextGaussian() }
  }

  @Test("for a Gaussian W both counterparts give a distance near 0", arguments: [1, 2] as [UInt64])
  func gaussianW(seed: UInt64) throws {
    let w = Self.gaussian(seed: seed)
    #expect(try randDistance(of: w, seed: 9, method: .shuffle) < 0.05)
    #expect(try randDistance(of: w, seed: 9, method: .gaussian) < 0.05)
  }

  @Test("for a W with a few huge elements (correlation traps) they differ: the shuffle keeps the traps, the Gaussian does not")
  func traps() throws {
    var w = Self.gaussian(seed: 3)
    for (i, j) in [(3, 7), (50, 100), (120, 20), (250, 140), (199, 77)] { w[i, j] = 60 }
    let shuffled = try randDistance(of: w, seed: 9, method: .shuffle)
    let gaussian = try randDistance(of: w, seed: 9, method: .gaussian)
    #expect(shuffled < 0.1)
    #expect(gaussian > 2 * shuffled + 0.05)
  }

  @Test("the Gaussian draw is seeded: the same seed draws the same matrix and distance, another seed another")
  func seeded() throws {
    let w = Self.gaussian(seed: 4)
    func draw(_ seed: UInt64) throws -> [Double] {
      var rng = SplitMix64(seed: seed)
      var work = [w.elements]
      _ = try randomizedEigenvalues(&work, method: .gaussian, shape: (w.rows, w.columns), scale: 1,
                                    using: &rng, solver: EigenvalueSolver())
      return work[0]
    }
    #expect(try draw(5) == draw(5))
    #expect(try draw(5) != draw(6))
    // The eigensolver's last bits follow OpenBLAS's thread count, which other tests running in
    // parallel change process-wide: equal to rounding, and different seeds differ far beyond it.
    let a = try randDistance(of: w, seed: 5, method: .gaussian)
    let b = try randDistance(of: w, seed: 5, method: .gaussian)
    let c = try randDistance(of: w, seed: 6, method: .gaussian)
    #expect(abs(a - b) <= 1e-10 * abs(a))
    #expect(abs(a - c) > 1e-6 * abs(a))
  }
}
