/// Work buffers that are allocated once per run and reused: fresh anonymous memory costs about
/// 0.5 s per GB to fault in on these machines, often more than the arithmetic done in it.
@usableFromInline package enum WorkBuffer {
  /// Resizes `buffer` to `count` elements, reusing its storage when it is large enough (the
  /// contents are unspecified).
  package static func resize<T: Numeric>(_ buffer: inout [T], to count: Int) {
    guard buffer.count != count else { return }
    guard buffer.capacity >= count else {
      buffer = prefaulted(count: count)
      return
    }
    if buffer.count > count {
      buffer.removeLast(buffer.count - count)
      return
    }
    // Grown within its capacity. Called generically (from a generic type in another module),
    // appending zeros is an element-by-element loop through the value witnesses: a 1,024-square
    // buffer regrown per pair cost `compare similarity` a tenth of its time. The scalar types
    // go through a concrete loop instead.
    let extra = count - buffer.count
    if T.self == Double.self {
      withUnsafeMutablePointer(to: &buffer) { $0.withMemoryRebound(to: [Double].self, capacity: 1) { grow(&$0.pointee, by: extra) } }
    } else if T.self == Float.self {
      withUnsafeMutablePointer(to: &buffer) { $0.withMemoryRebound(to: [Float].self, capacity: 1) { grow(&$0.pointee, by: extra) } }
    } else if T.self == Int32.self {
      withUnsafeMutablePointer(to: &buffer) { $0.withMemoryRebound(to: [Int32].self, capacity: 1) { grow(&$0.pointee, by: extra) } }
    } else {
      buffer.append(contentsOf: repeatElement(0, count: extra))
    }
  }

  private static func grow(_ buffer: inout [Double], by extra: Int) {
    buffer.append(contentsOf: repeatElement(0, count: extra))
  }

  private static func grow(_ buffer: inout [Float], by extra: Int) {
    buffer.append(contentsOf: repeatElement(0, count: extra))
  }

  private static func grow(_ buffer: inout [Int32], by extra: Int) {
    buffer.append(contentsOf: repeatElement(0, count: extra))
  }

  /// `count` zeros whose pages the kernel fills in one call (`MADV_POPULATE_WRITE`) before they
  /// are written, rather than one page fault per 4 KiB page as the zeros are written: about
  /// 0.3 s instead of 0.5 s of system time per GB here (for buffers of 16 MiB and more).
  @usableFromInline package static func prefaulted<T: Numeric>(count: Int) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      prefault(UnsafeMutableRawBufferPointer(buffer))
      if _isPOD(T.self), let base = buffer.baseAddress {
        // All-zero bytes are 0 for every float and integer type, and one memset is much faster
        // than an element-by-element fill through a generic value witness.
        memset(base, 0, count * MemoryLayout<T>.stride)
      } else {
        buffer.initialize(repeating: 0)
      }
      initialized = count
    }
  }

  /// `count` elements made by `fill` (which must initialise all of them), in prefaulted pages.
  package static func prefaulted<T>(count: Int, _ fill: (UnsafeMutableBufferPointer<T>) -> Void) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      prefault(UnsafeMutableRawBufferPointer(buffer))
      fill(buffer)
      initialized = count
    }
  }

  /// Asks the kernel to fill the whole pages of `memory` at once, for regions of 16 MiB and more
  /// (its contents are unspecified afterwards). Where the advice is refused (kernels before 5.14),
  /// a zero is written to each page instead, so that the faults are still taken before the
  /// memory is used rather than one by one inside a conversion or BLAS loop.
  package static func prefault(_ memory: UnsafeMutableRawBufferPointer) {
    guard memory.count >= 16 << 20, let base = memory.baseAddress else { return }
    let page = 4096, start = (Int(bitPattern: base) + page - 1) / page * page
    let end = (Int(bitPattern: base) + memory.count) / page * page
    guard end > start,
          madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_POPULATE_WRITE) != 0 else { return }
    for offset in stride(from: 0, to: memory.count, by: page) { memory[offset] = 0 }
  }
}
