import CompareCore
import Testing
@testable import CKA

/// Several models in one pass (`MinibatchCKAGroup`) give every pair exactly what the pairwise
/// estimator gives it.
@Suite("CKA between several models in one pass")
struct PairwiseTests {
  static func models(seed: UInt64) throws -> [RepresentationArrays<Float>] {
    var rng = SplitMix64(seed: seed)
    let code = Matrix<Float>.gaussian(rows: 120, columns: 5, using: &rng)
    return try (0..<3).map { m in
      let layers = [7, 12, 4].map { p -> Matrix<Float> in
        let map = Matrix<Float>.gaussian(rows: 5, columns: p, using: &rng)
        return code.multiplied(by: map).adding(Matrix<Float>.gaussian(rows: 120, columns: p, using: &rng))
      }
      return try RepresentationArrays(name: "m\(m)", layerNames: Array(["l0", "l1", "l2"].prefix(m == 2 ? 2 : 3)),
                                       layers: m == 2 ? Array(layers.prefix(2)) : layers)
    }
  }

  @Test("one pass equals each pair's own pass: CKA, standard errors and bootstrap intervals, in order and over shuffled epochs",
        arguments: [1, 3])
  func equalsPairwise(epochs: Int) throws {
    let sets = try Self.models(seed: 5)
    let estimator = CKAEstimator.minibatch(batchSize: 16, keepLast: false)
    let statistics = CKAStatistics(bootstrap: 50, seed: 9)
    let together = try estimator.pairwiseSimilarities(sets, statistics: statistics, epochs: epochs)
    #expect(together.map { [$0.i, $0.j] } == [[0, 1], [0, 2], [1, 2]])
    for (i, j, result) in together {
      let alone = try estimator.similarities(sets[i], sets[j], statistics: statistics, epochs: epochs)
      #expect(result.matrix.layersA == alone.matrix.layersA && result.matrix.layersB == alone.matrix.layersB)
      #expect(result.batches == alone.batches && result.examples == alone.examples)
      func close(_ x: Matrix<Double>?, _ y: Matrix<Double>?) -> Bool {
        guard let x, let y else { return x == nil && y == nil }
        return zip(x.elements, y.elements).allSatisfy { abs($0 - $1) <= 1e-12 * max(abs($1), 1) }
      }
      #expect(close(result.matrix.values, alone.matrix.values))
      #expect(close(result.uncertainty.standardError, alone.uncertainty.standardError))
      #expect(close(result.uncertainty.intervalLow, alone.uncertainty.intervalLow))
      #expect(close(result.uncertainty.intervalHigh, alone.uncertainty.intervalHigh))
    }
    // Negative control: another model's layers in place of model 1 change the (0, 1) values.
    let other = try Self.models(seed: 6)
    let changed = try estimator.pairwiseSimilarities([sets[0], other[1], sets[2]], statistics: statistics, epochs: epochs)
    #expect(zip(changed[0].result.matrix.values.elements, together[0].result.matrix.values.elements)
      .contains { abs($0 - $1) > 1e-3 })
  }

  @Test("with a permutation test or a full-batch estimator each pair is its own pass, with the same results")
  func fallsBack() throws {
    let sets = try Self.models(seed: 5)
    let tested = CKAStatistics(permutations: 20, seed: 3)
    for (estimator, statistics) in [(CKAEstimator.minibatch(batchSize: 16, keepLast: false), tested),
                                    (.debiased, CKAStatistics())] {
      let together = try estimator.pairwiseSimilarities(sets, statistics: statistics)
      for (i, j, result) in together {
        let alone = try estimator.similarities(sets[i], sets[j], statistics: statistics)
        #expect(result.matrix.values == alone.matrix.values)
        #expect(result.uncertainty.pValue == alone.uncertainty.pValue)
      }
    }
    #expect(throws: InputError.self) { try CKAEstimator.full.pairwiseSimilarities([sets[0]]) }
  }
}
