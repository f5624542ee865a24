import CBLAS
import COpenBLAS

/// The number of threads OpenBLAS uses inside one call.
///
/// Defaults to the core count or `OPENBLAS_NUM_THREADS`. Benchmarks report figures at one
/// thread as well as the default, since on a loaded 2-core machine threads rarely pay.
public enum BLASThreads {
  /// Threads OpenBLAS uses now.
  public static var count: Int { Int(openblas_get_num_threads()) }

  /// Sets the OpenBLAS thread count for subsequent calls.
  public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }

  /// Makes OpenBLAS's idle threads sleep as soon as a call ends, as
  /// `OPENBLAS_THREAD_TIMEOUT=4` does, instead of spinning in `sched_yield` for about 0.1 s
  /// (2²⁸ cycles) first. Returns whether it did.
  ///
  /// OpenBLAS starts its threads when it loads, and they spin before `main` runs. Compare's
  /// heavy paths run one BLAS thread per worker, so the spinning threads only take CPU from
  /// the workers: at two threads, `compare cka` spent 0.10–0.16 s of system time in their
  /// `sched_yield` calls, and `compare esd` 0.3 s. This re-reads OpenBLAS's environment with
  /// the timeout set and ends the threads; OpenBLAS restarts them, with the timeout, at its
  /// next threaded call. Waking a sleeping thread costs microseconds per threaded call.
  ///
  /// Does nothing when the user set `OPENBLAS_THREAD_TIMEOUT`, or on an OpenBLAS without
  /// these entry points. Call it before any BLAS work, with no other thread inside BLAS;
  /// `compare` does, first thing.
  @discardableResult
  public static func sleepWhenIdle() -> Bool { compare_quiet_idle_threads() != 0 }
}
