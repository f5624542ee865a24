import Testing
@testable import CompareCore

/// Work buffers allocated once per run: new ones hold zeros (or what `fill` wrote) whether or not
/// they are large enough to be prefaulted, and `resize` keeps the storage it can.
@Suite("Work buffers")
struct WorkBufferTests {
  @Test("buffers of 16 MiB and more are prefaulted, and every new buffer holds zeros", arguments: [1000, 9_000_000])
  func prefaulted(count: Int) {
    let buffer: [Double] = WorkBuffer.prefaulted(count: count)
    #expect(buffer.count == count)
    #expect(buffer.allSatisfy { $0 == 0 })
    // Growing a buffer through `resize` goes the same way and keeps nothing of the old contents.
    var grown: [Double] = [1, 2, 3]
    WorkBuffer.resize(&grown, to: count)
    #expect(grown.count == count && grown.allSatisfy { $0 == 0 })
    let filled: [Double] = WorkBuffer.prefaulted(count: count) { out in
      for i in out.indices { out[i] = Double(i) }
    }
    #expect(filled.count == count && filled.last == Double(count - 1))
  }

  @Test("resize keeps the storage when shrinking and growing within the capacity")
  func reuse() {
    var buffer: [Double] = WorkBuffer.prefaulted(count: 4096)
    let base = buffer.withUnsafeBufferPointer { $0.baseAddress }
    WorkBuffer.resize(&buffer, to: 100)
    WorkBuffer.resize(&buffer, to: 4000)
    #expect(buffer.count == 4000)
    #expect(buffer.withUnsafeBufferPointer { $0.baseAddress } == base)
    // Past the capacity: new storage.
    WorkBuffer.resize(&buffer, to: 5000)
    #expect(buffer.count == 5000)
    // Float and Int32 grow within their capacity too (their own loops), keeping the prefix.
    var floats: [Float] = [1, 2, 3, 4]
    WorkBuffer.resize(&floats, to: 2)
    WorkBuffer.resize(&floats, to: 4)
    #expect(floats.count == 4 && floats[0] == 1 && floats[1] == 2)
    var ints: [Int32] = [7, 8, 9]
    WorkBuffer.resize(&ints, to: 1)
    WorkBuffer.resize(&ints, to: 3)
    #expect(ints.count == 3 && ints[0] == 7)
  }
}
