// The one place the C library is chosen: every module imports the platform through
// `CompareCore`, so no other file needs a `#if canImport(Glibc)` block.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#endif

/// Directory listing and file-kind checks, over the C library.
public enum FileSystem {
  /// What a path is.
  public enum Kind: Sendable, Equatable {
    case missing, file, directory, other
  }

  /// The kind of `path` (following symbolic links).
  public static func kind(of path: String) -> Kind {
    var info = stat()
    guard stat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .directory
    case S_IFREG: return .file
    default: return .other
    }
  }

  /// The names in a folder, without `.`, `..` and hidden entries, in directory order.
  /// - Returns: `nil` when the folder cannot be opened.
  public static func names(in path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if !name.hasPrefix(".") { names.append(name) }
    }
    return names
  }

  /// The last component of a path (a trailing `/` ignored): the default name of a model.
  public static func baseName(_ path: String) -> String {
    let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
    return String(trimmed.split(separator: "/").last ?? Substring(trimmed))
  }

  /// `name` inside `folder`: `folder/name`, with one `/` whether or not `folder` ends in one;
  /// an empty `folder` is the current one (`name`), not the root.
  public static func path(_ name: String, in folder: String) -> String {
    if folder.isEmpty { return name }
    return folder.hasSuffix("/") ? folder + name : folder + "/" + name
  }
}

/// Writes all of `text` to a file descriptor, unbuffered, retrying on interrupts. Returns 0, or
/// the `errno` of the write that failed (the rest is then not written); callers that only print
/// may ignore it.
@discardableResult
public func writeAll(_ text: String, to fd: Int32) -> Int32 {
  var text = text
  return text.withUTF8 { bytes in
    var offset = 0
    while offset < bytes.count {
      let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return errno
      }
      offset += n
    }
    return 0
  }
}

/// Writes `line` and a newline to standard error, unbuffered (Swift 6 forbids touching the C
/// `stderr` stream from concurrent code): for warnings and errors of programs using Compare.
public func printToStandardError(_ line: String) { writeAll(line + "\n", to: 2) }

/// What this machine has.
public enum Machine {
  /// Physical memory in bytes (`sysconf`), or 0 when unknown.
  public static var physicalMemoryBytes: Int {
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
    return pages > 0 && size > 0 ? pages * size : 0
  }

  /// Online processors (`sysconf`), at least 1.
  public static var cores: Int { Swift.max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
