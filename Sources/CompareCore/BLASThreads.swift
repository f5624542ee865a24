import CBLAS

/// The number of threads OpenBLAS uses inside one call.
///
/// Defaults to the core count or `OPENBLAS_NUM_THREADS`. Benchmarks report figures at one
/// thread as well as the default, since on a loaded 2-core machine threads rarely pay.
public enum BLASThreads {
  /// Threads OpenBLAS uses now.
  public static var count: Int { Int(openblas_get_num_threads()) }

  /// Sets the OpenBLAS thread count for subsequent calls.
  public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
}
