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
