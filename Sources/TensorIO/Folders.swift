import CFileGuard
import CompareCore

/// Checks and creates the folders Compare reads from and writes into.
public enum Folders {
  /// The extensions of the tensor files Compare reads, for recognising references
  /// (`FILE:KEY`) and listing a folder's files.
  public static let tensorExtensions = [".npy", ".npz", ".safetensors", ".pt", ".pth", ".bin"]

  /// Throws `ReadError` unless `path` is an existing directory.
  public static func requireDirectory(_ path: String, what: String) throws {
    switch FileSystem.kind(of: path) {
    case .missing: throw ReadError(file: path, "\(what) does not exist")
    case .directory: return
    default: throw ReadError(file: path, "\(what) is not a directory")
    }
  }

  /// Creates `path` and its parents if missing. Throws `ReadError` when it cannot. Once
  /// `FileGuard.deferCommits()` has run, the folders it creates are removed again (if empty)
  /// when the run fails or is interrupted.
  public static func create(_ path: String) throws {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
      prefix += part
      switch FileSystem.kind(of: prefix) {
      case .missing:
        if mkdir(prefix, 0o755) == 0 {
          // A run whose outputs are deferred removes it again if it fails (`FileGuard`).
          file_guard_record_folder(prefix)
        } else if errno != EEXIST {
          throw ReadError(file: path, "folder cannot be created: \(String(cString: strerror(errno)))")
        }
      case .directory: break
      default: throw ReadError(file: path, "is not a folder ('\(prefix)' is a file)")
      }
      prefix += "/"
    }
  }

  /// The names in a folder (hidden entries left out).
  /// - Throws: `ReadError` when the folder cannot be read.
  public static func names(in path: String) throws -> [String] {
    guard let names = FileSystem.names(in: path) else {
      throw ReadError(file: path, "folder cannot be read")
    }
    return names
  }
}
