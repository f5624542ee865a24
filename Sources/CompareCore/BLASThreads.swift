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

  /// Makes OpenBLAS's idle threads sleep after spinning 2²⁰ cycles (about 0.3 ms) instead of
  /// OpenBLAS's 2²⁸ (about 0.1 s), as `OPENBLAS_THREAD_TIMEOUT=20` would. Returns whether it did.
  ///
  /// OpenBLAS starts its threads when it loads, and they spin in `sched_yield` after each
  /// call, and before `main` runs. Compare's heavy paths run one BLAS thread per worker, so
  /// the spinning threads only take CPU from the workers: at two threads, `compare cka` spent
  /// 0.10–0.16 s of system time in their `sched_yield` calls. This re-reads OpenBLAS's
  /// environment with the timeout set and ends the threads; OpenBLAS restarts them, with the
  /// timeout, at its next threaded call. 2²⁰ keeps them awake between the many BLAS calls of
  /// one threaded LAPACK routine: with an immediate sleep (`OPENBLAS_THREAD_TIMEOUT=4`), a
  /// threaded `gesdd` of 1024 × 2048 took 30 % longer.
  ///
  /// Does nothing when the user set `OPENBLAS_THREAD_TIMEOUT`, or on an OpenBLAS that is not
  /// its own thread server (sequential or OpenMP builds) or lacks these entry points. Call it
  /// before any BLAS work, with no other thread inside BLAS; `compare` does, first thing.
  @discardableResult
  public static func sleepWhenIdle() -> Bool { compare_quiet_idle_threads() != 0 }

  /// How long OpenBLAS's idle threads spin before sleeping, as N in 2ᴺ cycles: 20 after
  /// `sleepWhenIdle()`, the user's `OPENBLAS_THREAD_TIMEOUT` if set, 0 for OpenBLAS's default
  /// (2²⁸).
  public static var idleSpinExponent: Int { Int(compare_thread_timeout()) }
}
