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

/// Makes OpenBLAS's idle threads sleep after 2^20 cycles of spinning instead of 2^28
/// (OPENBLAS_THREAD_TIMEOUT=20, applied by restarting its threads). Does nothing when the user
/// set OPENBLAS_THREAD_TIMEOUT, on a sequential or OpenMP build, or when this OpenBLAS lacks the
/// entry points. Returns 1 when applied. Not safe while another thread is inside BLAS or LAPACK.
int compare_quiet_idle_threads(void);

/// The idle threads' spin, as the exponent N of 2^N cycles OpenBLAS read from
/// OPENBLAS_THREAD_TIMEOUT; 0 for its default (2^28) or when this OpenBLAS does not say.
int compare_thread_timeout(void);

#endif
