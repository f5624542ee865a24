import CompareCore
import Testing
@testable import CKA

@Suite("Streaming full-data linear CKA")
struct StreamingLinearCKATests {
  /// Two models' layers of 203 examples, related through a shared code, with offsets (the
  /// cancellation a naive streaming sum would suffer).
  static func layers(seed: UInt64) -> ([Matrix<Double>], [Matrix<Double>]) {
    var rng = SplitMix64(seed: seed)
    let code = Matrix<Double>.gaussian(rows: 203, columns: 4, using: &rng)
    func layer(_ p: Int, offset: Double) -> Matrix<Double> {
      let map = Matrix<Double>.gaussian(rows: 4, columns: p, using: &rng)
      let noise = Matrix<Double>.gaussian(rows: 203, columns: p, using: &rng)
      var x = code.multiplied(by: map).adding(noise)
      for e in x.elements.indices { x.elements[e] += offset }
      return x
    }
    return ([layer(7, offset: 100), layer(12, offset: -3)], [layer(5, offset: 0), layer(9, offset: 50), layer(3, offset: 1e3)])
  }

  @Test("equals the in-memory value to 1e-9, biased and debiased, whatever the batch size",
        arguments: [(true, 1), (true, 17), (true, 203), (false, 5), (false, 64)])
  func equalsInMemory(debiased: Bool, batch: Int) throws {
    let (a, b) = Self.layers(seed: 3)
    let reference = try LinearCKA(debiased: debiased).similarities(layersA: a, layersB: b)
    var streaming = StreamingLinearCKA(widthsA: a.map(\.columns), widthsB: b.map(\.columns), debiased: debiased)
    for start in stride(from: 0, to: 203, by: batch) {
      let rows = start..<min(203, start + batch)
      var batchA = a.map { $0.rows(rows) }, batchB = b.map { $0.rows(rows) }
      try streaming.add(&batchA, &batchB, names: ["layer 0 of A", "layer 1 of A", "layer 0 of B", "layer 1 of B", "layer 2 of B"])
    }
    let result = try streaming.result(namesA: ["0", "1"], namesB: ["0", "1", "2"], modelA: "A", modelB: "B")
    for (x, y) in zip(result.values.elements, reference.values.elements) {
      #expect(abs(x - y) <= 1e-9 * max(abs(y), 1e-3), "\(x) vs \(y)")
    }
    // Negative control: the biased and debiased estimates differ.
    let other = try LinearCKA(debiased: !debiased).similarities(layersA: a, layersB: b)
    #expect(zip(result.values.elements, other.values.elements).contains { abs($0 - $1) > 1e-6 })
  }
}

/// Activations made on demand, row by row, from the row's index: nothing is held but the rows
/// of the current read, so a test can stream data many times larger than what it keeps. Records
/// the largest read.
final class GeneratedActivations: RepresentationSource, @unchecked Sendable {
  let name: String
  let layerNames: [String]
  let examples: Int
  let widths: [Int]
  let seed: UInt64
  var largestRead = 0
  var rowsRead = 0
  var isDouble: Bool { true }

  init(name: String, widths: [Int], examples: Int, seed: UInt64) {
    self.name = name
    self.layerNames = widths.indices.map { "\(name)\($0)" }
    self.widths = widths
    self.examples = examples
    self.seed = seed
  }

  /// Row i of layer l: a shared 3-dimensional code of example i through a fixed map, plus
  /// noise and an offset of 100 (the cancellation a naive streaming sum would suffer).
  func row(_ i: Int, layer l: Int) -> [Double] {
    var shared = SplitMix64(seed: UInt64(i) &* 0x9E37_79B9)
    let code = (0..<3).map { _ in shared.nextGaussian() }
    var own = SplitMix64(seed: seed &+ UInt64(i) &* 31 &+ UInt64(l) &* 1_000_003)
    return (0..<widths[l]).map { j in
      let map = sin(Double(j * 7 + l * 13 + 1)) * code[0] + cos(Double(j * 3 + l)) * code[1] + code[2] / Double(j + 1)
      return map + own.nextGaussian() + 100
    }
  }

  func read<S: BLASScalar>(rows: Range<Int>, into matrices: inout [Matrix<S>]) throws {
    largestRead = max(largestRead, rows.count)
    rowsRead += rows.count
    matrices = widths.indices.map { l in
      Matrix(rows: rows.count, columns: widths[l], elements: rows.flatMap { row($0, layer: l).map { S($0) } })
    }
  }

  func materialised() -> [Matrix<Double>] {
    widths.indices.map { l in
      Matrix(rows: examples, columns: widths[l], elements: (0..<examples).flatMap { row($0, layer: l) })
    }
  }
}

@Suite("Streaming full-data linear CKA under a memory budget")
struct StreamingBudgetTests {
  @Test("data 10× the streaming budget (accumulators + one batch) streams in batches within it and equals the in-memory value to 1e-9",
        arguments: [false, true])
  func tenTimesTheBudget(debiased: Bool) throws {
    let widthsA = [16, 6], widthsB = [11]
    let features = (widthsA + widthsB).reduce(0, +)
    // The budget: what the streaming estimator holds, its float64 accumulators and one batch
    // of every layer.
    let budget = StreamingLinearCKA.memoryBytes(widthsA: widthsA, widthsB: widthsB)
      + CKAEstimator.streamingBatch * features * 8
    let examples = 10 * budget / (features * 8)
    let a = GeneratedActivations(name: "a", widths: widthsA, examples: examples, seed: 1)
    let b = GeneratedActivations(name: "b", widths: widthsB, examples: examples, seed: 2)
    let estimator: CKAEstimator = debiased ? .debiased : .full
    let streamed = try estimator.similarities(a, b)
    #expect(examples * features * 8 >= 10 * budget - features * 8)
    #expect(a.largestRead <= CKAEstimator.streamingBatch && b.largestRead <= CKAEstimator.streamingBatch)
    #expect(a.rowsRead >= examples && a.rowsRead <= examples + 1)  // one pass (+ the width probe)
    let reference = try LinearCKA(debiased: debiased).similarities(layersA: a.materialised(), layersB: b.materialised())
    for (x, y) in zip(streamed.matrix.values.elements, reference.values.elements) {
      #expect(abs(x - y) <= 1e-9 * max(abs(y), 1e-3), "\(x) vs \(y)")
    }
    // Negative control: a different example order for B is a different (lower) CKA.
    let other = try LinearCKA(debiased: debiased).similarities(
      layersA: a.materialised(), layersB: b.materialised().map { m in
        Matrix(rows: m.rows, columns: m.columns) { i, j in m[(i + 1) % m.rows, j] }
      })
    #expect(zip(streamed.matrix.values.elements, other.values.elements).contains { abs($0 - $1) > 1e-3 })
  }
}
