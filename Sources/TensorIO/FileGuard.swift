import CFileGuard

/// Turns two ways a run could die mid-file into clean endings, for the whole process.
///
/// - An input file that shrinks while it is read (a training job rewriting `last.pt`, a copy
///   still in progress, a network file system) raises SIGBUS when a page of its mapping past
///   the new end is touched. With the guard, the process instead prints one line on standard
///   error, `Error: <file>: the file changed while it was read (now N bytes, expected M bytes)`,
///   removes its temporary outputs and exits with status 1.
/// - SIGINT, SIGTERM or SIGHUP (Ctrl-C, a scheduler's time limit, a closed terminal) removes
///   every temporary output `AtomicFile` is writing, so nothing half-written is left and nothing
///   is renamed into place afterwards; the process then ends by the same signal, which a shell
///   reports as status 128 + n (130, 143, 129).
///
/// `MappedFile` and `AtomicFile` always record their mappings and temporaries (a slot in a fixed
/// table, no lock); this call only installs the handlers that act on them. The `compare` tool
/// calls it first thing; a program using the library opts in by calling it too.
///
/// What the handlers leave alone: a signal of the three that is ignored when `install()` runs
/// (a job started with `nohup`, or in the background by a script) or already has a handler of
/// the program's own; and a SIGBUS outside the files Compare mapped, which goes on to the
/// handler that was installed before (Swift's crash backtracer, by default).
///
/// Not covered: a file that shrinks by less than a page at its end reads as zeros there
/// (no signal is raised), and a file rewritten in place at the same size reads mixed data.
/// SIGKILL cannot be caught: a temporary file may then remain (`.name.XXXXXX` beside the output).
///
/// - Complexity: O(1); calling it again does nothing.
public enum FileGuard {
  /// Installs the SIGBUS, SIGINT, SIGTERM and SIGHUP handlers described above, once per process.
  public static func install() {
    let status = file_guard_install()
    precondition(status == 0, "sigaction failed with errno \(status)")
  }
}
