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
