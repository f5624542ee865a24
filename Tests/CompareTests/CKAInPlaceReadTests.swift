import CHalf
import Compare
import Foundation
import Testing

/// Minibatch CKA reads float32 batches straight from the mapped files instead of copying them:
/// the same numbers as the copying path, and the pointers really are the file's bytes.
@Suite("CKA batches read in place from the mapped files")
struct CKAInPlaceReadTests {
  static func file(_ name: String) -> String { NSTemporaryDirectory() + "cka-in-place-\(getpid())-" + name }

  /// Two layers of 64 examples (12 and 20 features) of a smooth, seeded pattern.
  static func layers(phase: Double) -> [(String, [Float], [Int])] {
    [("l1", 12), ("l2", 20)].map { name, width in
      let values = (0..<(64 * width)).map { Float(sin(Double($0) * 0.113 + phase) + 0.3 * cos(Double($0 % width) * phase)) }
      return (name, values, [64, width])
    }
  }

  static func write(_ path: String, phase: Double, half: Bool = false) throws {
    try SafetensorsWriter.write(layers(phase: phase).map { name, values, shape in
      guard half else { return .init(key: name, shape: shape, values: values) }
      var bits = [UInt16](repeating: 0, count: values.count)
      values.withUnsafeBufferPointer { v in bits.withUnsafeMutableBufferPointer { chalf_f32_to_f16(v.baseAddress!, $0.baseAddress!, values.count) } }
      return .init(key: name, dtype: .float16, shape: shape, bytes: bits.withUnsafeBytes { Array($0) })
    }, to: path)
  }

  /// A source that only reads (the protocol's copying `withRows`).
  struct Copying: RepresentationSource {
    let base: ActivationSet
    var name: String { base.name }
    var layerNames: [String] { base.names }
    var examples: Int { base.examples }
    var isDouble: Bool { base.isDouble }
    func read<S: BLASScalar>(rows: Range<Int>, into matrices: inout [Matrix<S>]) throws {
      try base.read(rows: rows, into: &matrices)
    }
    func read<S: BLASScalar>(examples indices: [Int], into matrices: inout [Matrix<S>]) throws {
      try base.read(examples: indices, into: &matrices)
    }
  }

  @Test("float32 rows are the mapped bytes; float16 and Double requests are converted")
  func storedRows() throws {
    let path = Self.file("a.safetensors"), half = Self.file("h.safetensors")
    defer { unlink(path); unlink(half) }
    try Self.write(path, phase: 0.4)
    try Self.write(half, phase: 0.4, half: true)
    let set = try ActivationSet(path: path)
    let tensor = set.tensors[1]
    let rows = try #require(try tensor.storedRows(8..<24, as: Float.self))
    let mapped = tensor.storage.bytes
    #expect(UnsafeRawPointer(rows.baseAddress!) >= mapped.baseAddress! &&
            UnsafeRawPointer(rows.baseAddress! + rows.count) <= mapped.baseAddress! + mapped.count)
    #expect(Array(rows) == (try tensor.converted(rows: 8..<24, as: Float.self)))
    // Negative controls: another dtype, or another scalar, is not stored as asked.
    #expect(try tensor.storedRows(8..<24, as: Double.self) == nil)
    #expect(try ActivationSet(path: half).tensors[1].storedRows(8..<24, as: Float.self) == nil)
    #expect(throws: ReadError.self) { try tensor.storedRows(60..<70, as: Float.self) }

    var buffers: [Matrix<Float>] = []
    let inPlace = try set.withRows(8..<24, buffers: &buffers) { $0.map { Array($0) } }
    #expect(buffers.isEmpty, "nothing converted")
    var copied: [Matrix<Float>] = []
    try set.read(rows: 8..<24, into: &copied)
    #expect(inPlace == copied.map(\.elements))
  }

  @Test("CKA from batches read in place equals CKA from copied batches, at every estimator setting")
  func sameResult() throws {
    let pathA = Self.file("a2.safetensors"), pathB = Self.file("b2.safetensors")
    defer { unlink(pathA); unlink(pathB) }
    try Self.write(pathA, phase: 0.4)
    try Self.write(pathB, phase: 1.7)
    let a = try ActivationSet(path: pathA), b = try ActivationSet(path: pathB)
    for estimator in [CKAEstimator.minibatch(batchSize: 16), .minibatch(batchSize: 20, keepLast: true)] {
      let inPlace = try estimator.similarities(a, b, statistics: CKAStatistics(permutations: 5))
      let copied = try estimator.similarities(Copying(base: a), Copying(base: b), statistics: CKAStatistics(permutations: 5))
      #expect(inPlace.batches == copied.batches)
      for (x, y) in zip(inPlace.matrix.values.elements, copied.matrix.values.elements) { #expect(abs(x - y) < 1e-12) }
      for (x, y) in zip(inPlace.uncertainty.pValue!.elements, copied.uncertainty.pValue!.elements) { #expect(x == y) }
    }
    // Several models in one pass: each pair as the pairwise estimator gives it.
    let pairs = try CKAEstimator.minibatch(batchSize: 16).pairwiseSimilarities([a, b, Copying(base: a)])
    let ab = try CKAEstimator.minibatch(batchSize: 16).similarities(Copying(base: a), Copying(base: b))
    for (x, y) in zip(pairs[0].result.matrix.values.elements, ab.matrix.values.elements) { #expect(abs(x - y) < 1e-12) }
    // a against its own copy (pair 0–2): the diagonal is 1.
    let selfPair = try #require(pairs.first { $0.i == 0 && $0.j == 2 })
    for l in 0..<2 { #expect(abs(selfPair.result.matrix.values[l, l] - 1) < 1e-12) }
    // Negative control: another batch size changes the estimate.
    let other = try CKAEstimator.minibatch(batchSize: 32).similarities(a, b)
    #expect(zip(other.matrix.values.elements, ab.matrix.values.elements).contains { abs($0 - $1) > 1e-6 })
  }
}
