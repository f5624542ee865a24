#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compare

/// Checks and creates the folders commands read from and write into.
enum Folders {
  /// Throws `ReadError` unless `path` is an existing directory.
  static func requireDirectory(_ path: String, what: String) throws {
    var info = stat()
    guard stat(path, &info) == 0 else { throw ReadError(file: path, "\(what) does not exist") }
    guard (info.st_mode & S_IFMT) == S_IFDIR else { throw ReadError(file: path, "\(what) is not a directory") }
  }

  /// Creates `path` and its parents if missing. Throws `ReadError` when it cannot.
  static func create(_ path: String) throws {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
      prefix += part
      var info = stat()
      if stat(prefix, &info) != 0 {
        guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
          throw ReadError(file: path, "folder cannot be created: \(String(cString: strerror(errno)))")
        }
      } else if (info.st_mode & S_IFMT) != S_IFDIR {
        throw ReadError(file: path, "is not a folder ('\(prefix)' is a file)")
      }
      prefix += "/"
    }
  }
}
