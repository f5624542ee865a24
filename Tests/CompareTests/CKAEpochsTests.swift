import Compare
import Testing

@Suite("CKA over several shuffled passes")
struct CKAEpochsTests {
  static let folder = packageRoot + "Tests/Fixtures/cka/"

  @Test("E passes sum E times the batches; reproducible by seed; a whole-set batch is the same in any order")
  func epochs() throws {
    let (a, b) = try ActivationSet.pair(Self.folder + "model_a", Self.folder + "model_b")
    let one = try CKAEstimator.minibatch(batchSize: 10).similarities(a, b)
    let three = try CKAEstimator.minibatch(batchSize: 10).similarities(a, b, statistics: CKAStatistics(seed: 5), epochs: 3)
    #expect(three.batches == 3 * one.batches)
    let again = try CKAEstimator.minibatch(batchSize: 10).similarities(a, b, statistics: CKAStatistics(seed: 5), epochs: 3)
    #expect(again.matrix.values == three.matrix.values)
    // Negative control: shuffled batches differ from the file-order batches, and another seed differs.
    #expect(three.matrix.values != one.matrix.values)
    let other = try CKAEstimator.minibatch(batchSize: 10).similarities(a, b, statistics: CKAStatistics(seed: 6), epochs: 3)
    #expect(other.matrix.values != three.matrix.values)
    // One batch of all examples: the unbiased HSIC does not depend on the order.
    let whole = try CKAEstimator.minibatch(batchSize: a.examples).similarities(a, b)
    let wholeShuffled = try CKAEstimator.minibatch(batchSize: a.examples).similarities(a, b, epochs: 4)
    for (x, y) in zip(whole.matrix.values.elements, wholeShuffled.matrix.values.elements) {
      #expect(abs(x - y) < 1e-9)
    }
    #expect(throws: InputError.self) { try CKAEstimator.full.similarities(a, b, epochs: 2) }
  }
}
