#define _GNU_SOURCE
#include "CFileGuard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/random.h>
#endif
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// Every table is a fixed array of slots whose `state` is the only field read and written
// concurrently: a slot's other fields are written while its state is BUSY (owned by one thread)
// and published by a release store, so a signal handler that loads the state with acquire
// ordering and sees LIVE reads complete fields. Nothing here takes a lock, so a handler that
// interrupts any thread at any point cannot deadlock.

enum { FREE = 0, BUSY = 1, LIVE = 2, OWNED = 3, DEAD = 4, PENDING = 5 };

// ---- mapped inputs

// vm.max_map_count is 65530 by default: a process cannot hold more mappings than this.
enum { MAPPING_SLOTS = 65536 };

struct mapping {
  atomic_int state;
  uintptr_t start;
  size_t length;
  char *path;
  // The file as it was mapped, to tell a rewritten file from a failed read.
  dev_t device;
  ino_t inode;
  struct timespec changed;
};

static struct mapping mappings[MAPPING_SLOTS];
// One past the highest slot ever used: the handler scans only this far.
static atomic_size_t mapping_end;
// Where the next free slot probably is, so that adding is O(1) in the usual case.
static atomic_size_t mapping_hint;

long file_guard_add_mapping(const void *start, size_t length, const char *path, const struct stat *file) {
  size_t first = atomic_load_explicit(&mapping_hint, memory_order_relaxed);
  for (size_t k = 0; k < MAPPING_SLOTS; k++) {
    size_t i = (first + k) % MAPPING_SLOTS;
    int expected = FREE;
    if (atomic_load_explicit(&mappings[i].state, memory_order_relaxed) != FREE) continue;
    if (!atomic_compare_exchange_strong(&mappings[i].state, &expected, BUSY)) continue;
    char *copy = strdup(path);
    if (copy == NULL) {
      atomic_store_explicit(&mappings[i].state, FREE, memory_order_release);
      return -1;
    }
    mappings[i].start = (uintptr_t)start;
    mappings[i].length = length;
    mappings[i].path = copy;
    mappings[i].device = file->st_dev;
    mappings[i].inode = file->st_ino;
    mappings[i].changed = file->st_ctim;
    size_t end = atomic_load(&mapping_end);
    while (end < i + 1 && !atomic_compare_exchange_weak(&mapping_end, &end, i + 1)) {}
    atomic_store_explicit(&mappings[i].state, LIVE, memory_order_release);
    atomic_store_explicit(&mapping_hint, i + 1, memory_order_relaxed);
    return (long)i;
  }
  return -1;
}

void file_guard_remove_mapping(long slot) {
  if (slot < 0 || slot >= MAPPING_SLOTS) return;
  struct mapping *m = &mappings[slot];
  atomic_store_explicit(&m->state, BUSY, memory_order_release);
  char *path = m->path;
  m->path = NULL;
  free(path);
  atomic_store_explicit(&m->state, FREE, memory_order_release);
  atomic_store_explicit(&mapping_hint, (size_t)slot, memory_order_relaxed);
}

// ---- temporary outputs

// Outputs being written at the same time, and, once commits are deferred, the finished ones
// waiting for the end of the run (a figure per layer of a large model: hundreds). Paths live in
// the slot, so the handler never reads memory that another thread may free; untouched slots
// cost no memory.
enum { TEMPORARY_SLOTS = 1024 };

struct temporary {
  char path[PATH_MAX];
  // Where a PENDING temporary goes (a long name's temporary is shortened, so it is kept here).
  char destination[PATH_MAX];
};

static struct temporary temporaries[TEMPORARY_SLOTS];
// Each slot's state, and the order of the deferred commits (PENDING slots are renamed in this
// order), apart from the 8 KiB paths: a scan of the slots reads two pages, not 1,024 (a page
// fault each, a millisecond or more per run).
static atomic_int temporary_state[TEMPORARY_SLOTS];
static long temporary_sequence[TEMPORARY_SLOTS];
// Set by file_guard_defer_commits: commits leave finished temporaries PENDING instead of
// renaming them, until file_guard_commit_pending.
static atomic_int defer_commits;
static atomic_long commit_sequence;

// The asynchronous signals whose handler removes temporaries. While a thread holds a temporary
// slot BUSY or OWNED it blocks them, so the handler never runs in that thread then and may wait
// for the slot to settle.
static void block_interrupts(sigset_t *saved) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void restore_interrupts(const sigset_t *saved) { pthread_sigmask(SIG_SETMASK, saved, NULL); }

static void fill_name(char *x) {
  static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char random[6];
#ifdef __linux__
  int have_random = getrandom(random, sizeof random, GRND_NONBLOCK) == (ssize_t)sizeof random;
#else
  arc4random_buf(random, sizeof random);
  int have_random = 1;
#endif
  if (!have_random) {
    // No entropy yet (early boot): the clock and the address of the stack are enough to avoid
    // clashes, which O_EXCL detects anyway.
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t mix = (uint64_t)now.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uintptr_t)&now ^ (uint64_t)getpid();
    for (int i = 0; i < 6; i++) random[i] = (unsigned char)(mix >> (8 * i));
  }
  for (int i = 0; i < 6; i++) x[i] = letters[random[i] % (sizeof letters - 1)];
}

int file_guard_create_temporary(char *path_template, long *slot) {
  size_t length = strlen(path_template);
  if (length < 6 || strcmp(path_template + length - 6, "XXXXXX") != 0) {
    errno = EINVAL;
    return -1;
  }
  if (length >= PATH_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  sigset_t saved;
  block_interrupts(&saved);
  long chosen = -1;
  for (long i = 0; i < TEMPORARY_SLOTS; i++) {
    int expected = FREE;
    if (atomic_compare_exchange_strong(&temporary_state[i], &expected, BUSY)) {
      chosen = i;
      break;
    }
  }
  int fd = -1;
  for (int attempt = 0; attempt < 100; attempt++) {
    fill_name(path_template + length - 6);
    if (chosen >= 0) memcpy(temporaries[chosen].path, path_template, length + 1);
    fd = open(path_template, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) break;
  }
  int error = errno;
  if (chosen >= 0) {
    atomic_store_explicit(&temporary_state[chosen], fd >= 0 ? LIVE : FREE, memory_order_release);
  }
  restore_interrupts(&saved);
  *slot = fd >= 0 ? chosen : -1;
  errno = error;
  return fd;
}

int file_guard_commit_temporary(long slot, const char *temporary, const char *destination) {
  if (slot < 0 || slot >= TEMPORARY_SLOTS) return rename(temporary, destination);
  sigset_t saved;
  block_interrupts(&saved);
  int expected = LIVE;
  if (!atomic_compare_exchange_strong(&temporary_state[slot], &expected, OWNED)) {
    restore_interrupts(&saved);
    return -2;
  }
  if (atomic_load_explicit(&defer_commits, memory_order_relaxed) && strlen(destination) < PATH_MAX) {
    // Finished, but renamed only when the whole run has succeeded; a signal still removes it.
    strcpy(temporaries[slot].destination, destination);
    temporary_sequence[slot] = atomic_fetch_add(&commit_sequence, 1);
    atomic_store_explicit(&temporary_state[slot], PENDING, memory_order_release);
    restore_interrupts(&saved);
    file_guard_test_pause("committed");
    return 0;
  }
  int status = rename(temporary, destination);
  int error = errno;
  atomic_store_explicit(&temporary_state[slot], status == 0 ? FREE : LIVE, memory_order_release);
  restore_interrupts(&saved);
  errno = error;
  return status;
}

void file_guard_discard_temporary(long slot, const char *temporary) {
  unlink(temporary);
  if (slot < 0 || slot >= TEMPORARY_SLOTS) return;
  int expected = LIVE;
  // Fails only when a handler has claimed the slot: it removes the file and ends the process.
  atomic_compare_exchange_strong(&temporary_state[slot], &expected, FREE);
}

void file_guard_defer_commits(void) { atomic_store(&defer_commits, 1); }

// ---- folders created by a run whose outputs are deferred

// Removed (if still empty) when the run fails or is interrupted, deepest first; forgotten when
// it succeeds. A few per run (a --plot folder and its parents).
enum { FOLDER_SLOTS = 64 };

struct folder {
  char path[PATH_MAX];
};

static struct folder folders[FOLDER_SLOTS];
static atomic_int folder_state[FOLDER_SLOTS];

void file_guard_record_folder(const char *path) {
  if (!atomic_load_explicit(&defer_commits, memory_order_relaxed)) return;
  size_t length = strlen(path);
  if (length >= PATH_MAX) return;
  sigset_t saved;
  block_interrupts(&saved);
  for (int i = 0; i < FOLDER_SLOTS; i++) {
    int expected = FREE;
    if (atomic_compare_exchange_strong(&folder_state[i], &expected, BUSY)) {
      memcpy(folders[i].path, path, length + 1);
      atomic_store_explicit(&folder_state[i], LIVE, memory_order_release);
      break;
    }
  }
  restore_interrupts(&saved);
}

// Async-signal-safe (rmdir removes only an empty folder): the newest first, so a folder goes
// before its parent.
static void remove_folders(void) {
  for (int i = FOLDER_SLOTS - 1; i >= 0; i--) {
    int expected = LIVE;
    if (atomic_compare_exchange_strong(&folder_state[i], &expected, DEAD)) rmdir(folders[i].path);
  }
}

static void forget_folders(void) {
  for (int i = 0; i < FOLDER_SLOTS; i++) {
    int expected = LIVE;
    atomic_compare_exchange_strong(&folder_state[i], &expected, FREE);
  }
}

int file_guard_commit_pending(char *failed, size_t capacity) {
  for (;;) {
    // The earliest pending output next: outputs appear in the order the run wrote them.
    long next = -1, lowest = 0;
    for (long i = 0; i < TEMPORARY_SLOTS; i++) {
      if (atomic_load_explicit(&temporary_state[i], memory_order_acquire) != PENDING) continue;
      if (next < 0 || temporary_sequence[i] < lowest) { next = i; lowest = temporary_sequence[i]; }
    }
    if (next < 0) {
      forget_folders();
      return 0;
    }
    sigset_t saved;
    block_interrupts(&saved);
    int expected = PENDING;
    if (!atomic_compare_exchange_strong(&temporary_state[next], &expected, OWNED)) {
      restore_interrupts(&saved);
      return -2;
    }
    int status = rename(temporaries[next].path, temporaries[next].destination);
    int error = errno;
    if (status != 0) {
      if (failed && capacity > 0) {
        strncpy(failed, temporaries[next].destination, capacity - 1);
        failed[capacity - 1] = 0;
      }
      unlink(temporaries[next].path);
    }
    atomic_store_explicit(&temporary_state[next], FREE, memory_order_release);
    restore_interrupts(&saved);
    if (status != 0) {
      errno = error;
      return -1;
    }
  }
}

void file_guard_discard_pending(void) {
  for (long i = 0; i < TEMPORARY_SLOTS; i++) {
    sigset_t saved;
    block_interrupts(&saved);
    int expected = PENDING;
    if (atomic_compare_exchange_strong(&temporary_state[i], &expected, OWNED)) {
      unlink(temporaries[i].path);
      atomic_store_explicit(&temporary_state[i], FREE, memory_order_release);
    }
    restore_interrupts(&saved);
  }
  sigset_t saved;
  block_interrupts(&saved);
  remove_folders();
  restore_interrupts(&saved);
}

// Async-signal-safe: claims every live or pending temporary and unlinks it, then removes the
// folders a deferred run created. A slot another thread holds BUSY or OWNED (creating or
// renaming it, with these signals blocked) settles within a system call; the wait is bounded
// all the same.
static void remove_temporaries(void) {
  for (int i = 0; i < TEMPORARY_SLOTS; i++) {
    for (long spins = 0; spins < 100000000L; spins++) {
      int state = atomic_load_explicit(&temporary_state[i], memory_order_acquire);
      if (state == LIVE || state == PENDING) {
        if (atomic_compare_exchange_strong(&temporary_state[i], &state, DEAD)) {
          unlink(temporaries[i].path);
          break;
        }
        continue;
      }
      if (state != BUSY && state != OWNED) break;
    }
  }
  remove_folders();
}

// ---- handlers

static atomic_int installed;
// Set by the first handler that ends the process; a second one (another thread) waits for it.
static atomic_int ending;
static size_t page_size = 4096;
static struct sigaction previous_bus;

static size_t append(char *buffer, size_t at, size_t capacity, const char *text) {
  while (*text && at < capacity) buffer[at++] = *text++;
  return at;
}

static size_t append_number(char *buffer, size_t at, size_t capacity, unsigned long long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (n > 0 && at < capacity) buffer[at++] = digits[--n];
  return at;
}

static void wait_for_the_end(void) {
  for (;;) pause();
}

static void on_bus(int signal, siginfo_t *info, void *context) {
  (void)signal;
  (void)context;
  uintptr_t address = (uintptr_t)info->si_addr;
  size_t end = atomic_load_explicit(&mapping_end, memory_order_acquire);
  struct mapping *found = NULL;
  for (size_t i = 0; i < end && found == NULL; i++) {
    struct mapping *m = &mappings[i];
    if (atomic_load_explicit(&m->state, memory_order_acquire) != LIVE) continue;
    size_t extent = (m->length + page_size - 1) / page_size * page_size;
    if (address >= m->start && address - m->start < extent) found = m;
  }
  if (found == NULL) {
    // Not a file Compare mapped: a fault of some other kind. Clean up, then let the previous
    // handler (Swift's backtracer, or the default action) see the fault when it recurs.
    remove_temporaries();
    sigaction(SIGBUS, &previous_bus, NULL);
    return;
  }
  if (atomic_exchange(&ending, 1)) wait_for_the_end();
  remove_temporaries();
  char message[PATH_MAX + 160];
  size_t capacity = sizeof message - 1, n = 0;
  n = append(message, n, capacity, "Error: ");
  n = append(message, n, capacity, found->path);
  struct stat now;
  int known = stat(found->path, &now) == 0;
  if (known && (unsigned long long)now.st_size == (unsigned long long)found->length &&
      now.st_dev == found->device && now.st_ino == found->inode &&
      now.st_ctim.tv_sec == found->changed.tv_sec && now.st_ctim.tv_nsec == found->changed.tv_nsec) {
    // The same file, untouched: not a truncation but a failed page-in (a disk or network file
    // system error).
    n = append(message, n, capacity, ": could not be read (an I/O error in its mapped pages)");
  } else {
    n = append(message, n, capacity, ": the file changed while it was read (now ");
    if (known) {
      n = append_number(message, n, capacity, (unsigned long long)now.st_size);
      n = append(message, n, capacity, " bytes");
    } else {
      n = append(message, n, capacity, "gone");
    }
    n = append(message, n, capacity, ", expected ");
    n = append_number(message, n, capacity, (unsigned long long)found->length);
    n = append(message, n, capacity, " bytes)");
  }
  message[n++] = '\n';
  for (size_t written = 0; written < n;) {
    ssize_t w = write(2, message + written, n - written);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    written += (size_t)w;
  }
  _exit(1);
}

static void on_interrupt(int signal) {
  if (atomic_exchange(&ending, 1)) wait_for_the_end();
  remove_temporaries();
  // Exit with 128 + n, the status a shell reports for a command ended by signal n: callers
  // that read the exit code (a scheduler's epilogue, Python's subprocess) see 130 or 143
  // rather than a negative "killed by signal" status.
  _exit(128 + signal);
}

int file_guard_install(void) {
  if (atomic_exchange(&installed, 1)) return 0;
  long size = sysconf(_SC_PAGESIZE);
  if (size > 0) page_size = (size_t)size;

  // No handler of ours interrupts another in the same thread.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGBUS);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);

  struct sigaction bus;
  memset(&bus, 0, sizeof bus);
  bus.sa_sigaction = on_bus;
  bus.sa_mask = mask;
  bus.sa_flags = SA_SIGINFO | SA_ONSTACK;
  if (sigaction(SIGBUS, &bus, &previous_bus) != 0) return errno;

  const int interrupts[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof interrupts / sizeof interrupts[0]; i++) {
    struct sigaction current;
    if (sigaction(interrupts[i], NULL, &current) != 0) return errno;
    // An ignored signal stays ignored (a job started with `nohup` or in the background by a
    // script), and a handler someone else installed stays theirs.
    if ((current.sa_flags & SA_SIGINFO) || current.sa_handler != SIG_DFL) continue;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    action.sa_mask = mask;
    if (sigaction(interrupts[i], &action, NULL) != 0) return errno;
  }
  return 0;
}

void file_guard_test_pause(const char *point) {
  static atomic_int paused;
  const char *spec = getenv("COMPARE_TEST_PAUSE");
  if (spec == NULL) return;
  size_t n = strlen(point);
  if (strncmp(spec, point, n) != 0 || spec[n] != ':') return;
  if (atomic_exchange(&paused, 1)) return;
  int fd = open(spec + n + 1, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char byte;
  while (read(fd, &byte, 1) < 0 && errno == EINTR) {}
  close(fd);
}
