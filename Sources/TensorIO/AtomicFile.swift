import CompareCore
import CFileGuard

/// Writes a file all at once or not at all: the bytes go to a temporary file in the same
/// folder, which is renamed over the destination only when complete.
///
/// Temporaries are recorded while they are written, so that once `FileGuard.install()` has run,
/// SIGINT, SIGTERM or SIGHUP removes them and no output is renamed into place after the signal.
public enum AtomicFile {
  /// Writes `bytes` to `path` atomically.
  /// - Throws: `ReadError` (naming `path`) if the folder is missing or not writable, or the
  ///   disk is full; no partial file is left behind.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    try write(to: path) { fd in
      try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }
  }

  /// Writes `text` as UTF-8 to `path` atomically.
  public static func write(_ text: String, to path: String) throws {
    try write(Array(text.utf8), to: path)
  }

  /// Checks, before any work is done, that `path` can be written: its folder exists and `path`
  /// is not a directory or a device, FIFO or socket (which the rename would replace).
  /// - Throws: `ReadError` naming `path` and the problem.
  public static func checkDestination(_ path: String) throws {
    var info = stat()
    if stat(path, &info) == 0 {
      if (info.st_mode & S_IFMT) == S_IFDIR { throw ReadError(file: path, "cannot be written: is a directory") }
      if (info.st_mode & S_IFMT) != S_IFREG { throw ReadError(file: path, "cannot be written: is not a regular file") }
    }
    let folderEnd = path.lastIndex(of: "/")
    let folder = folderEnd.map { String(path[..<$0]) } ?? "."
    guard !folder.isEmpty else { return }
    guard stat(folder, &info) == 0 else {
      throw ReadError(file: path, "cannot be written: folder '\(folder)' does not exist")
    }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
      throw ReadError(file: path, "cannot be written: '\(folder)' is not a folder")
    }
  }

  /// Writes through `body`, which receives a file descriptor open on a temporary file; renames
  /// it to `path` when `body` returns, removes it when `body` throws.
  public static func write(to path: String, _ body: (Int32) throws -> Void) throws {
    try checkDestination(path)
    let folderEnd = path.lastIndex(of: "/")
    let folder = folderEnd.map { String(path[..<$0]) } ?? "."
    let name = folderEnd.map { String(path[path.index(after: $0)...]) } ?? path
    var template = Array("\(folder.isEmpty ? "" : folder)/.\(temporaryStem(name)).XXXXXX".utf8CString)
    var slot = -1
    let fd = template.withUnsafeMutableBufferPointer { file_guard_create_temporary($0.baseAddress!, &slot) }
    guard fd >= 0 else {
      throw ReadError(file: path, "cannot be written: \(MappedFile.describe(errno: errno))")
    }
    let temporary = String(nulTerminated: template)
    var open = true
    do {
      try body(fd)
      guard fsync(fd) == 0 || errno == EINVAL else {
        throw ReadError(file: path, "cannot be written: \(MappedFile.describe(errno: errno))")
      }
      fchmod(fd, 0o644)
      close(fd)
      open = false
      switch file_guard_commit_temporary(slot, temporary, path) {
      case 0: break
      // A signal handler removed the temporary and is ending the process.
      case -2: throw ReadError(file: path, "cannot be written: interrupted")
      default: throw ReadError(file: path, "cannot be written: \(MappedFile.describe(errno: errno))")
      }
    } catch {
      if open { close(fd) }
      file_guard_discard_temporary(slot, temporary)
      throw error
    }
  }

  /// The name of `name`'s temporary without its `.` and `.XXXXXX`: `name`, cut (on a character
  /// boundary) so that the temporary fits a file name's 255 bytes when `name` itself does.
  static func temporaryStem(_ name: String) -> String {
    let room = 255 - 8
    guard name.utf8.count > room else { return name }
    var stem = ""
    for character in name {
      guard stem.utf8.count + character.utf8.count <= room else { break }
      stem.append(character)
    }
    return stem
  }

  /// Writes all of `bytes` to `fd`, retrying short writes.
  public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var offset = 0
    while offset < bytes.count {
      let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        throw ReadError(file: path, "cannot be written: \(MappedFile.describe(errno: errno))")
      }
      offset += n
    }
    file_guard_test_pause("written")
  }
}
