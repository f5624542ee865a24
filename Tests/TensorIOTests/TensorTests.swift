import Testing
@testable import TensorIO

@Suite("Tensor: views are validated against their storage")
struct TensorTests {
  let storage = TensorStorage(count: 64) { bytes in
    for i in 0..<16 { bytes.storeBytes(of: Float(i), toByteOffset: 4 * i, as: Float.self) }
  }

  func make(_ shape: [Int], _ strides: [Int], offset: Int = 0, dtype: DType = .float32) throws -> Tensor {
    try Tensor(file: "f", key: "t", dtype: dtype, shape: shape, strides: strides, byteOffset: offset, storage: storage)
  }

  @Test("a transposed view, a negative-stride view and a stride-0 view read in row-major order")
  func views() throws {
    #expect(try make([2, 3], [1, 2]).floats() == [0, 2, 4, 1, 3, 5])
    #expect(try make([4], [-1], offset: 12).floats() == [3, 2, 1, 0])
    #expect(try make([2, 3], [0, 1]).floats() == [0, 1, 2, 0, 1, 2])
    var buffer = [Float](repeating: -1, count: 4)
    let written = try buffer.withUnsafeMutableBufferPointer { try make([2, 3], [1, 2]).floats(rows: 1..<2, into: $0) }
    #expect(written == 3 && buffer == [1, 3, 5, -1])
  }

  @Test("views reaching outside the storage, overflowing strides or huge stride-0 shapes are refused")
  func refusals() {
    #expect(throws: ReadError(file: "f", "tensor 't' is truncated (needs 68 bytes, found 64)")) { try make([17], [1]) }
    #expect(throws: ReadError(file: "f", "tensor 't' reaches 4 bytes before the start of its data (negative strides)")) { try make([2], [-1], offset: 0) }
    #expect(throws: ReadError.self) { try make([3, 3], [Int.max / 2, Int.max / 2]) }
    #expect(throws: ReadError(file: "f", "tensor 't' shape [4611686018427387904] with strides [0] repeats its stored bytes too often (a stride-0 view?); save it with .contiguous()")) {
      try make([1 << 62], [0], dtype: .uint8)
    }
    #expect(throws: ReadError.self) { try make([Int.max - 10], [1], offset: 128, dtype: .uint8) }
    // A contiguous shape past the data is a truncated file (a header claiming too much), not a view.
    #expect(throws: ReadError(file: "f", "tensor 't' is truncated (shape [4611686018427387904] needs an overflowing number of bytes, found 64)")) {
      try make([1 << 62], [1])
    }
    #expect(throws: ReadError(file: "f", "tensor 't' is truncated (shape [1000000] needs 4000000 bytes, found 64)")) {
      try make([1_000_000], [1])
    }
  }

  @Test("a zero-element tensor opens with axes the bytes could hold, and its statistics take no time")
  func zeroElements() throws {
    let empty = try make([1 << 18, 0], [0, 1])
    let start = ContinuousClock.now
    let statistics = try TensorStatistics(of: empty)
    #expect(ContinuousClock.now - start < .seconds(1))
    #expect(statistics.min == nil && statistics.mean == nil && statistics.nan == 0 && statistics.inf == 0)
    #expect(try empty.head(3).isEmpty && empty.floats().isEmpty)
    #expect(try make([0, 768], [768, 1]).count == 0)
    // Negative control: the first axis of the fuzzer's 144-byte .npy.
    #expect(throws: ReadError(file: "f", "tensor 't' has no elements, but its shape [600003488427387903, 0] claims more rows and columns than 64 bytes could ever hold")) {
      try make([600_003_488_427_387_903, 0], [0, 1])
    }
    #expect(throws: ReadError.self) { try make([1 << 40, 0, 1 << 40], [0, 1, 1]) }
  }

  @Test("axes of length 1 change neither the values nor the cost of a strided read")
  func unitAxes() throws {
    // A transposed 2×3 view with 10,000 unit axes between its two real ones.
    let ones = [Int](repeating: 1, count: 10_000)
    let start = ContinuousClock.now
    let wide = try make([2] + ones + [3], [1] + ones.map { _ in 7 } + [2])
    #expect(try wide.floats() == [0, 2, 4, 1, 3, 5])
    #expect(try wide.floats(rows: 1..<2) == [1, 3, 5])
    #expect(try make(ones, ones).floats() == [0])
    #expect(ContinuousClock.now - start < .seconds(2))
  }
}
