import Dispatch
import Synchronization

/// Independent BLAS work shared out over the cores by the caller, one BLAS thread per worker,
/// instead of one task after another on OpenBLAS's threads (which spin in `sched_yield` between
/// calls and then compete with whatever runs beside them).
package enum BLASWorkers {
  /// Runs `body` for every index in `0..<count` over the cores (`BLASThreads.count` workers, each
  /// with one BLAS thread and its own `state()`, taking the next index as it finishes one), or on
  /// this thread with one worker. Once `body` returns false (a failure), no further index is
  /// started: every index below a failed one has been started, so the lowest failure is known.
  package static func forEachIndex<State>(_ count: Int, state: @Sendable () -> State,
                                          _ body: @Sendable (Int, State) -> Bool) {
    let workers = Swift.min(BLASThreads.count, count)
    let next = Atomic<Int>(0), failed = Atomic<Bool>(false)
    @Sendable func work() {
      let mine = state()
      while !failed.load(ordering: .relaxed) {
        let index = next.add(1, ordering: .relaxed).oldValue
        guard index < count else { return }
        if !body(index, mine) { failed.store(true, ordering: .relaxed) }
      }
    }
    guard workers > 1 else { return work() }
    let threads = BLASThreads.count
    BLASThreads.set(1)
    DispatchQueue.concurrentPerform(iterations: workers) { _ in work() }
    BLASThreads.set(threads)
  }
}

/// One state per worker, kept from one `BLASWorkers.forEachIndex` to the next, so that the
/// workers of a later phase reuse the buffers of an earlier one: pass `take` as the state and
/// call `reset` between the phases.
package final class WorkerStates<State: Sendable>: Sendable {
  private let make: @Sendable () -> State
  /// Every state made so far; the first `taken` are held by this phase's workers.
  private let states = Mutex<(all: [State], taken: Int)>(([], 0))

  package init(_ make: @escaping @Sendable () -> State) { self.make = make }

  /// A state that no other worker of this phase holds (made when every one is held).
  @Sendable package func take() -> State {
    states.withLock { s in
      if s.taken == s.all.count { s.all.append(make()) }
      s.taken += 1
      return s.all[s.taken - 1]
    }
  }

  /// Starts the next phase, once the workers of the last one have finished: every state is
  /// free again.
  package func reset() { states.withLock { $0.taken = 0 } }
}

