import CompareCore
import EnsembleKernel
import Synchronization
import Testing

/// A source that implements only `logits(models:)`, as conformers written before
/// `logits(models:into:)` existed do; it records the buffers its reads are written into.
final class ArrayOnlyLogits: LogitsSource {
  let wrapped: LogitsArray
  /// Overrides the number of values returned, to test the default implementation's check.
  let returnedCount: Int?

  init(_ wrapped: LogitsArray, returnedCount: Int? = nil) {
    self.wrapped = wrapped
    self.returnedCount = returnedCount
  }

  var name: String { wrapped.name }
  var models: Int { wrapped.models }
  var examples: Int { wrapped.examples }
  var classes: Int { wrapped.classes }

  func logits(models: Range<Int>) throws -> [Float] {
    let values = try wrapped.logits(models: models)
    return returnedCount.map { Array(values.prefix($0)) } ?? values
  }
}

/// A source that records the address of every buffer the kernel reads into.
final class RecordingLogits: LogitsSource {
  let wrapped: LogitsArray
  /// The address of each buffer read into, in order.
  let buffers = Mutex<[UInt]>([])

  init(_ wrapped: LogitsArray) { self.wrapped = wrapped }

  var name: String { wrapped.name }
  var models: Int { wrapped.models }
  var examples: Int { wrapped.examples }
  var classes: Int { wrapped.classes }

  func logits(models: Range<Int>) throws -> [Float] { try wrapped.logits(models: models) }

  func logits(models: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
    let address = UInt(bitPattern: buffer.baseAddress)
    buffers.withLock { $0.append(address) }
    try wrapped.logits(models: models, into: buffer)
  }

  /// The distinct buffers read into so far, and the number of reads.
  var distinctBuffers: (distinct: Int, reads: Int) {
    buffers.withLock { (Set($0).count, $0.count) }
  }
}

@Suite("Logits sources")
struct LogitsSourceTests {
  /// The logits of `range` read through `logits(models:into:)` into a buffer `spare` floats
  /// larger than needed, whose tail is checked to be untouched.
  func readInto(_ source: any LogitsSource, _ range: Range<Int>, spare: Int = 3) throws -> [Float] {
    let count = range.count * source.examples * source.classes
    var buffer = [Float](repeating: -7, count: count + spare)
    try buffer.withUnsafeMutableBufferPointer { try source.logits(models: range, into: $0) }
    #expect(buffer[count...].allSatisfy { $0 == -7 })
    return Array(buffer[..<count])
  }

  @Test("reading into a buffer gives the array read's values: in memory, joined shards, and the default implementation",
        arguments: [0..<7, 2..<5, 3..<4, 4..<4])
  func intoEqualsArray(range: Range<Int>) throws {
    let whole = try syntheticLogits(models: 7, examples: 6, classes: 3, seed: 11)
    let size = whole.examples * whole.classes
    func part(_ models: Range<Int>) throws -> LogitsArray {
      try LogitsArray(models: models.count, examples: 6, classes: 3,
                      values: Array(whole.values[(models.lowerBound * size)..<(models.upperBound * size)]))
    }
    let shards = try ConcatenatedLogits([part(0..<3), ArrayOnlyLogits(try part(3..<4)), part(4..<7)])
    let expected = Array(whole.values[(range.lowerBound * size)..<(range.upperBound * size)])
    #expect(try readInto(whole, range) == expected)
    #expect(try readInto(ArrayOnlyLogits(whole), range) == expected)
    #expect(try readInto(shards, range) == expected)
    #expect(try shards.logits(models: range) == expected)
    // Negative control: another range reads other values.
    if !range.isEmpty { #expect(try readInto(whole, 0..<1) != expected || range == 0..<1) }
  }

  @Test("a buffer too small, a short read and models out of range are errors naming the source")
  func errors() throws {
    let logits = try syntheticLogits(models: 4, examples: 5, classes: 2, seed: 12, name: "runs.npy")
    var small = [Float](repeating: 0, count: 19)
    for source in [logits, ArrayOnlyLogits(logits), try ConcatenatedLogits([logits])] as [any LogitsSource] {
      #expect(throws: InputError("runs.npy: a buffer of 19 floats cannot hold the 20 logits of models 1..<3")) {
        try small.withUnsafeMutableBufferPointer { try source.logits(models: 1..<3, into: $0) }
      }
      // One model fits.
      try small.withUnsafeMutableBufferPointer { try source.logits(models: 1..<2, into: $0) }
    }
    var buffer = [Float](repeating: 0, count: 40)
    #expect(throws: InputError("runs.npy: read 9 logits for model 0, expected 10")) {
      try buffer.withUnsafeMutableBufferPointer {
        try ArrayOnlyLogits(logits, returnedCount: 9).logits(models: 0..<2, into: $0)
      }
    }
    #expect(throws: InputError("runs.npy has no models 3..<5 (it has 4)")) {
      try buffer.withUnsafeMutableBufferPointer { try ConcatenatedLogits([logits]).logits(models: 3..<5, into: $0) }
    }
  }

  @Test("a non-finite logit of joined or selected runs is named by the shard that holds it and its index there")
  func nonFiniteLogitOrigin() throws {
    let a = try syntheticLogits(models: 3, examples: 5, classes: 2, seed: 13, name: "a.npy")
    var values = try syntheticLogits(models: 4, examples: 5, classes: 2, seed: 14).values
    values[(2 * 5 + 4) * 2 + 1] = .nan
    let b = try LogitsArray(name: "b.npy", models: 4, examples: 5, classes: 2, values: values)
    let joined = try ConcatenatedLogits([a, b])
    #expect(joined.origin(ofModel: 5).source.name == "b.npy")
    #expect(joined.origin(ofModel: 5).model == 2)
    #expect(joined.origin(ofModel: 1).source.name == "a.npy")
    #expect(joined.nonFiniteLogitError(model: 5, example: 4, class: 1, value: .nan)
            == InputError("b.npy: logit [2, 4, 1] is nan; logits must be finite"))
    // Run 0 of the selection is run 5 of the joined logits: run 2 of b.npy.
    let selected = try SelectedLogits(joined, runs: [5, 0])
    #expect(selected.nonFiniteLogitError(model: 0, example: 4, class: 1, value: .infinity)
            == InputError("b.npy: logit [2, 4, 1] is inf; logits must be finite"))
    // The kernel and the accuracies report it so.
    #expect(throws: InputError("b.npy: logit [2, 4, 1] is nan; logits must be finite")) {
      _ = try CorrelationKernel(test: joined, train: joined).neighbors(count: 1)
    }
    #expect(throws: InputError("b.npy: logit [2, 4, 1] is nan; logits must be finite")) {
      _ = try EnsembleAccuracy(logits: joined, labels: [0, 1, 0, 1, 0])
    }
    // Negative control: a source that cannot say how a logit was stored gives no range note.
    #expect(a.storedLogit(model: 0, example: 0, class: 0) == nil)
    #expect(a.nonFiniteLogitError(model: 0, example: 0, class: 0, value: -.infinity)
            == InputError("a.npy: logit [0, 0, 0] is -inf; logits must be finite"))
  }
}
