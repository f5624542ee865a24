import CompareCore
import Dispatch

/// A pointer that may cross into `DispatchQueue.concurrentPerform`'s closure. Each worker
/// writes a disjoint part of the buffer: that is what makes this sound.
@usableFromInline
struct SharedPointer<T>: @unchecked Sendable {
  @usableFromInline let base: UnsafeMutablePointer<T>
  @usableFromInline init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}

/// Splits `0..<count` into contiguous ranges and runs `body` on them on all cores.
enum Parallel {
  /// Online processors.
  static var cores: Int { Machine.cores }

  /// Runs `body` over consecutive ranges covering `0..<count`, at least `grain` long, on all
  /// cores (serially when there is little work).
  static func forEach(_ count: Int, grain: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let workers = min(cores, max(1, count / max(grain, 1)))
    if workers == 1 {
      body(0..<count)
      return
    }
    // A few pieces per core balance uneven progress on a shared machine.
    let pieces = min(count, workers * 4)
    DispatchQueue.concurrentPerform(iterations: pieces) { piece in
      body((piece * count / pieces)..<((piece + 1) * count / pieces))
    }
  }
}
