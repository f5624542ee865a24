// Run-time control of OpenBLAS: its kernel set and its idle threads. See BLASKernels.swift
// and BLASThreads.swift for when and why.
#include "COpenBLAS.h"

#include <cpuid.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *openblas_get_corename(void);
int openblas_get_parallel(void);
// Exported by DYNAMIC_ARCH builds only; weak, so that other builds link and keep their kernels.
void gotoblas_dynamic_quit(void) __attribute__((weak));
void gotoblas_dynamic_init(void) __attribute__((weak));
// Exported by pthread builds; weak for the same reason.
void openblas_read_env(void) __attribute__((weak));
void blas_thread_shutdown_(void) __attribute__((weak));
int openblas_thread_timeout(void) __attribute__((weak));

static char loaded_name[32];

// OpenBLAS's own constructor, a dependency's, has run by now: record its pick.
__attribute__((constructor)) static void record_loaded_name(void) {
  strncpy(loaded_name, openblas_get_corename(), sizeof loaded_name - 1);
}

const char *compare_kernels_loaded_name(void) { return loaded_name; }

int compare_is_zen4(const char *vendor, int family, int has_avx512f) {
  return strcmp(vendor, "AuthenticAMD") == 0 && family == 0x19 && has_avx512f;
}

int compare_this_cpu_is_zen4(void) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
  char vendor[13];
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  vendor[12] = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int family = (a >> 8) & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  int avx512f = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 16));
  return compare_is_zen4(vendor, family, avx512f);
#else
  return 0;
#endif
}

static void reinitialise(const char *name) {
  // gotoblas_dynamic_init reads the set's name from the environment only; the variable is
  // removed again so that child processes (numpy, torch) keep their own choice.
  setenv("OPENBLAS_CORETYPE", name, 1);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
}

int compare_use_kernels(const char *name) {
  if (!gotoblas_dynamic_quit || !gotoblas_dynamic_init) return 0;
  char before[32] = {0};
  strncpy(before, openblas_get_corename(), sizeof before - 1);
  reinitialise(name);
  if (strcasecmp(openblas_get_corename(), name) == 0) return 1;
  // An unknown name makes OpenBLAS fall back to a generic set: put back the one it had.
  if (strcmp(openblas_get_corename(), before) != 0) reinitialise(before);
  return 0;
}

int compare_quiet_idle_threads(void) {
  if (getenv("OPENBLAS_THREAD_TIMEOUT") || !openblas_read_env || !blas_thread_shutdown_) return 0;
  // Only OpenBLAS's own thread server (1) spins and restarts its threads on demand; a
  // sequential (0) or OpenMP (2) build has neither.
  if (openblas_get_parallel() != 1) return 0;
  // OpenBLAS reads its variables once, when it loads, and its threads take the timeout when
  // they start: read them again with the timeout set, then end the threads, which restart with
  // it at the next threaded call. The variable is removed again for child processes.
  setenv("OPENBLAS_THREAD_TIMEOUT", "20", 1);
  openblas_read_env();
  unsetenv("OPENBLAS_THREAD_TIMEOUT");
  blas_thread_shutdown_();
  return 1;
}

int compare_thread_timeout(void) { return openblas_thread_timeout ? openblas_thread_timeout() : 0; }
