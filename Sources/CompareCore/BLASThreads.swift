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

  /// Address space one BLAS thread needs beyond what the process has mapped at start, with room
  /// to spare: OpenBLAS's 128 MiB work buffer, mapped when the thread first calls it, and the
  /// thread's malloc arena (64 MiB heaps). Measured on the bundled similarity run at two threads:
  /// 267 MB mapped at start, 627 MB at the peak, and OpenBLAS stuck below a 630 MB limit.
  public static let addressSpacePerThread = 256 << 20

  /// Lowers the BLAS thread count to what an address-space limit (`ulimit -v`, or Slurm's
  /// `VSizeFactor`) leaves room for, at `addressSpacePerThread` each, and says so; throws when
  /// not even one fits. OpenBLAS 0.3.21 retries forever when it cannot map a thread's buffer, so
  /// a limit that is too small would otherwise hang the run. Does nothing without a limit or
  /// where `/proc/self/statm` cannot be read. Call it before any BLAS work; `compare` does.
  ///
  /// - Returns: the warning when the count was lowered, `nil` otherwise.
  /// - Throws: `InputError` naming the limit when one thread does not fit.
  public static func fitAddressSpaceLimit() throws -> String? {
    var limit = rlimit()
    // RLIM_INFINITY is all ones on Linux (and 2⁶³ − 1 on Darwin).
    guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int.max),
          let used = mappedBytes() else { return nil }
    let cap = Int(clamping: limit.rlim_cur), room = cap - used, threads = count
    let fits = max(room, 0) / addressSpacePerThread
    let mb = { (bytes: Int) in "\(bytes >> 20) MB" }
    guard fits >= 1 else {
      throw InputError("the address-space limit (ulimit -v) of \(mb(cap)) leaves \(mb(max(room, 0))) beside the \(mb(used)) mapped at start, less than the \(mb(addressSpacePerThread)) one BLAS thread needs for its work buffers: raise the limit (under Slurm, the memory requested)")
    }
    guard fits < threads else { return nil }
    set(fits)
    return "the address-space limit (ulimit -v) of \(mb(cap)) leaves room for \(fits) BLAS thread\(fits == 1 ? "" : "s"): running with \(fits) instead of \(threads)"
  }

  /// The process's mapped address space in bytes (the first field of `/proc/self/statm`, in
  /// pages), or `nil` where it cannot be read.
  static func mappedBytes() -> Int? {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 128)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0, let pages = Int(String(decoding: buffer.prefix(n).prefix { $0 != 0x20 }, as: UTF8.self)) else {
      return nil
    }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// How long OpenBLAS's idle threads spin before sleeping, as N in 2ᴺ cycles: 20 after
  /// `sleepWhenIdle()`, the user's `OPENBLAS_THREAD_TIMEOUT` if set, 0 for OpenBLAS's default
  /// (2²⁸).
  public static var idleSpinExponent: Int { Int(compare_thread_timeout()) }
}
