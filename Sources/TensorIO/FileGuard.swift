import CFileGuard
import CompareCore

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

  /// Makes the run's outputs appear together at its end, or not at all: from now on each
  /// `AtomicFile` output, once written, waits as its temporary (`.NAME.XXXXXX`) until
  /// `commitPending()` renames them all; `discardPending()`, or SIGINT/SIGTERM/SIGHUP, removes
  /// them instead, so an interrupted or failed run leaves no output, not some of them (nor a
  /// folder `Folders.create` made for them, when it is empty). The
  /// `compare` tool does this for every command but `bench` (which reads back the inputs it
  /// writes). Beyond 1,024 outputs at once, the later ones are renamed as they finish.
  public static func deferCommits() { file_guard_defer_commits() }

  /// Renames every finished output into place, in the order they were written.
  /// - Throws: `ReadError` naming the output whose rename failed (the others not yet renamed
  ///   are removed), or saying that a signal is ending the process.
  public static func commitPending() throws {
    var failed = [CChar](repeating: 0, count: Int(PATH_MAX))
    switch file_guard_commit_pending(&failed, failed.count) {
    case 0: return
    case -2: throw ReadError(file: "outputs", "cannot be written: interrupted")
    default:
      let code = errno
      discardPending()
      throw ReadError(file: String(nulTerminated: failed), "cannot be written: \(MappedFile.describe(errno: code))")
    }
  }

  /// Removes every finished output not yet renamed into place.
  public static func discardPending() { file_guard_discard_pending() }
}
