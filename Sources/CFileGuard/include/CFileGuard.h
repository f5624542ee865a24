#ifndef CFILEGUARD_H
#define CFILEGUARD_H
#include <stddef.h>
#include <sys/stat.h>

// Process-wide tables of the files Compare has mapped for reading and the temporary files it is
// writing, and the signal handlers that use them. The handlers are plain C so that they call only
// async-signal-safe functions (stat, unlink, write, sigaction, raise, _exit); Swift code must not
// run in a signal handler. `TensorIO.FileGuard` is the Swift face of this module.

/// Records that `length` bytes at `start` map the whole file `path` (copied), whose `fstat` at
/// mapping time was `file`. Returns a slot for `file_guard_remove_mapping`, or -1 when the table
/// is full (the mapping is then simply not guarded).
long file_guard_add_mapping(const void *start, size_t length, const char *path, const struct stat *file);

/// Forgets a mapping recorded by `file_guard_add_mapping` (call before `munmap`). -1 is ignored.
void file_guard_remove_mapping(long slot);

/// Creates a new file from `path_template`, whose last six characters are `XXXXXX` and are
/// replaced (like `mkstemp`, mode 0600, close-on-exec), and records it as an in-flight temporary
/// output before the file exists, so that no signal can leave it behind. Sets `*slot` (-1 when
/// the table is full: the file is then not guarded). Returns the descriptor, or -1 and errno.
int file_guard_create_temporary(char *path_template, long *slot);

/// Renames a temporary created by `file_guard_create_temporary` to `destination` and forgets it;
/// once `file_guard_defer_commits` has run, instead keeps it, finished, until
/// `file_guard_commit_pending` (a signal still removes it). Returns 0; -1 and errno if `rename`
/// fails (the temporary is still recorded: discard it); -2 when a signal handler has already
/// removed the temporary (the process is ending).
int file_guard_commit_temporary(long slot, const char *temporary, const char *destination);

/// From now on, commits wait for `file_guard_commit_pending`: a run's outputs appear together at
/// its end, or not at all. A temporary created while the table was full is renamed at once.
void file_guard_defer_commits(void);

/// Renames every finished temporary to the destination its commit named, in the order they were
/// finished. Returns 0; -1 and errno when a rename fails, with that destination
/// copied to `failed` (at most `capacity` bytes) and its temporary removed (the rest stay
/// pending: discard them); -2 when a signal handler is removing them (the process is ending).
int file_guard_commit_pending(char *failed, size_t capacity);

/// Removes every finished temporary not yet renamed (the run failed after writing them), then
/// the folders recorded by `file_guard_record_folder`, if empty.
void file_guard_discard_pending(void);

/// Once commits are deferred, records a folder the run has just created (`path` copied), so that
/// a failed or interrupted run removes it again (if empty, newest first); forgotten when
/// `file_guard_commit_pending` succeeds. Does nothing otherwise.
void file_guard_record_folder(const char *path);

/// Removes a temporary (after an error) and forgets it.
void file_guard_discard_temporary(long slot, const char *temporary);

/// Installs the handlers, once per process: SIGBUS in a recorded mapping prints
/// `Error: <path>: the file changed while it was read (now N bytes, expected M bytes)` on
/// standard error (or, if the file still has its size, that it could not be read: an I/O error),
/// removes the temporaries and exits with status 1; any other SIGBUS goes to the handler that
/// was there before. SIGINT, SIGTERM and SIGHUP, unless they are ignored or already
/// handled, remove the temporaries and end the process by the same signal (status 128 + n in a
/// shell). Returns 0, or an errno from `sigaction`.
int file_guard_install(void);

/// Test hook: when the environment has `COMPARE_TEST_PAUSE=<point>:<fifo>`, the first call with
/// that `point` in the process opens `fifo` for reading and waits for one byte, so that a test
/// can act on the paused process. Does nothing otherwise.
void file_guard_test_pause(const char *point);

#endif
