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

  @Test("the Gaussian draw is seeded: the same seed gives the same distance, another seed another")
  func seeded() throws {
    let w = Self.gaussian(seed: 4)
    #expect(try randDistance(of: w, seed: 5, method: .gaussian) == randDistance(of: w, seed: 5, method: .gaussian))
    #expect(try randDistance(of: w, seed: 5, method: .gaussian) != randDistance(of: w, seed: 6, method: .gaussian))
  }
}
