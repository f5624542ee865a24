#ifndef COMPARE_OPENBLAS_H
#define COMPARE_OPENBLAS_H

/// The kernel set OpenBLAS picked when it loaded (e.g. "Cooperlake"), before any switch.
const char *compare_kernels_loaded_name(void);

/// Whether a processor is an AMD Zen 4: vendor "AuthenticAMD", family 19h (25), AVX-512F.
int compare_is_zen4(const char *vendor, int family, int has_avx512f);

/// Whether this machine's processor is a Zen 4, from CPUID.
int compare_this_cpu_is_zen4(void);

/// Makes OpenBLAS run kernel set `name` (as OPENBLAS_CORETYPE spells it). Returns 1 on success,
/// 0 when this OpenBLAS cannot switch or does not know the name (the previous set is kept).
/// Not safe while another thread is inside BLAS or LAPACK.
int compare_use_kernels(const char *name);

/// Makes OpenBLAS's idle threads sleep at once instead of spinning in sched_yield for about
/// 0.1 s (OPENBLAS_THREAD_TIMEOUT=4, applied by restarting its threads). Does nothing when the
/// user set OPENBLAS_THREAD_TIMEOUT or this OpenBLAS lacks the entry points. Returns 1 when
/// applied. Not safe while another thread is inside BLAS or LAPACK.
int compare_quiet_idle_threads(void);

#endif
