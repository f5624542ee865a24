import Synchronization
import Testing
@testable import CompareCore

/// Per-worker states kept from one `BLASWorkers.forEachIndex` to the next (`WorkerStates`).
@Suite("Worker states")
struct WorkerStatesTests {
  final class Box: Sendable {
    let id: Int
    init(id: Int) { self.id = id }
  }

  @Test("each worker of a phase holds its own state; after reset the next phase reuses the same ones")
  func reuse() {
    let made = Atomic<Int>(0)
    let states = WorkerStates { Box(id: made.add(1, ordering: .relaxed).oldValue) }
    let first = (0..<3).map { _ in states.take() }
    #expect(Set(first.map(\.id)) == [0, 1, 2])
    states.reset()
    let second = (0..<3).map { _ in states.take() }
    #expect(zip(first, second).allSatisfy { $0 === $1 })
    // Control: without a reset, a fourth worker gets a new state, not a held one.
    let fourth = states.take()
    #expect(fourth.id == 3 && !first.contains { $0 === fourth })
    #expect(made.load(ordering: .relaxed) == 4)
  }

  final class Held: Sendable {
    let busy = Atomic<Bool>(false)
  }

  @Test("the workers of forEachIndex each take one, and no two hold the same at once")
  func forEachIndex() {
    let states = WorkerStates { Held() }
    let clashes = Atomic<Int>(0), ran = Atomic<Int>(0)
    for _ in 0..<2 {
      BLASWorkers.forEachIndex(64, state: states.take) { _, held in
        if held.busy.exchange(true, ordering: .acquiring) { clashes.add(1, ordering: .relaxed) }
        ran.add(1, ordering: .relaxed)
        held.busy.store(false, ordering: .releasing)
        return true
      }
      states.reset()
    }
    #expect(clashes.load(ordering: .relaxed) == 0)
    #expect(ran.load(ordering: .relaxed) == 128)
  }
}
