import CompareCore
import EnsembleKernel
import Testing

@Suite("k-NN voting")
struct KernelKNNTests {
  @Test("predictions equal the golden ones for k, weighting and tie rule, on rows without near-ties")
  func golden() throws {
    let test = try KernelFixtures.test, train = try KernelFixtures.train
    let trainLabels = try KernelFixtures.labels("train_labels.npy")
    let neighbors = try CorrelationKernel(test: test, train: train).neighbors(count: 5)
    let expected = KernelFixtures.golden["predictions"] as! [String: [Int]]
    let ambiguous = KernelFixtures.ambiguousRows
    var compared = 0
    for k in [1, 3, 5] {
      for weighting in ["none", "power:2", "softmax:0.05"] {
        for ties in KernelKNN.TieRule.allCases {
          let knn = KernelKNN(k: k, weighting: KernelKNN.Weighting(weighting)!, ties: ties)
          let predicted = try knn.predictions(neighbors, trainLabels: trainLabels, classes: 4)
          let golden = expected["k=\(k) weighting=\(weighting) ties=\(ties.rawValue)"]!
          for r in 0..<12 where !ambiguous.contains(r) {
            #expect(predicted[r] == golden[r], "row \(r), k=\(k) \(weighting) \(ties)")
            compared += 1
          }
        }
      }
    }
    #expect(compared == 18 * (12 - ambiguous.count))
  }

  /// Neighbours of one test example with the given labels' training indices and values.
  func one(_ values: [Float]) throws -> Neighbors {
    try Neighbors(rows: 0..<1, count: values.count, indices: Array(0..<values.count), values: values)
  }

  @Test("a majority tie goes to the smallest label, as torch.mode; kernel-sum picks the larger summed kernel")
  func tieRules() throws {
    // Three different labels: torch.mode returns the smallest (0), not the nearest's (2).
    let labels = [2, 0, 1, 1, 2]
    let three = try one([0.9, 0.5, 0.4, 0.3, 0.2])
    #expect(try KernelKNN(k: 3).predictions(three, trainLabels: labels, classes: 3) == [0])
    #expect(try KernelKNN(k: 3, ties: .kernelSum).predictions(three, trainLabels: labels, classes: 3) == [2])
    // 2-2 tie at k = 4: labels 2 (0.9 + 0.3... no: 0.9 + 0.2 at k=5) — here 1 (0.4 + 0.3) vs 2 (0.9).
    #expect(try KernelKNN(k: 4).predictions(three, trainLabels: labels, classes: 3) == [1])
    #expect(try KernelKNN(k: 5).predictions(three, trainLabels: labels, classes: 3) == [1])
    #expect(try KernelKNN(k: 5, ties: .kernelSum).predictions(three, trainLabels: labels, classes: 3) == [2])
    // Equal counts and equal sums: kernel-sum falls back to the smallest label.
    let even = try one([0.5, 0.5])
    #expect(try KernelKNN(k: 2, ties: .kernelSum).predictions(even, trainLabels: [1, 0], classes: 2) == [0])
    // No tie: the majority wins under both rules, however near the minority is.
    let majority = try one([0.99, 0.1, 0.1])
    for ties in KernelKNN.TieRule.allCases {
      #expect(try KernelKNN(k: 3, ties: ties).predictions(majority, trainLabels: [0, 1, 1], classes: 2) == [1])
    }
  }

  @Test("weights: power favours large kernel values and ignores negative ones; softmax sharpens with low temperature")
  func weighting() throws {
    let n = try one([0.9, 0.4, 0.4])
    let labels = [0, 1, 1]
    #expect(try KernelKNN(k: 3).predictions(n, trainLabels: labels, classes: 2) == [1])
    #expect(try KernelKNN(k: 3, weighting: .power(1)).predictions(n, trainLabels: labels, classes: 2) == [0])
    #expect(try KernelKNN(k: 3, weighting: .power(0)).predictions(n, trainLabels: labels, classes: 2) == [1])
    #expect(try KernelKNN(k: 3, weighting: .softmax(temperature: 0.1)).predictions(n, trainLabels: labels, classes: 2) == [0])
    #expect(try KernelKNN(k: 3, weighting: .softmax(temperature: 100)).predictions(n, trainLabels: labels, classes: 2) == [1])
    let negative = try one([0.2, -0.5, -0.6])
    #expect(try KernelKNN(k: 3, weighting: .power(2)).predictions(negative, trainLabels: [1, 0, 0], classes: 2) == [1])
  }

  @Test("weighting schemes parse from their command-line spelling and reject malformed ones")
  func parsing() {
    #expect(KernelKNN.Weighting("none") == KernelKNN.Weighting.none)
    #expect(KernelKNN.Weighting("power:4") == .power(4))
    #expect(KernelKNN.Weighting("softmax:0.01") == .softmax(temperature: 0.01))
    #expect(KernelKNN.Weighting("power:4")?.description == "power:4")
    for bad in ["power", "power:-1", "softmax:0", "softmax:x", "cubic:2", "power:nan"] {
      #expect(KernelKNN.Weighting(bad) == nil)
    }
  }
}
