import CompareCore

/// Checks, before any work, that a command's outputs overwrite none of its inputs and that no
/// two outputs write the same file: an atomic rename over an input would replace it with the
/// result, and two outputs on one path would leave only the last.
///
/// Two paths are the same file when they name an existing file with the same device and inode
/// (so `./a.npy`, `a.npy`, `dir/../a.npy` and a symbolic link to it all match), or, for a file
/// not yet written, when they are the same absolute path once the existing folders in it are
/// resolved (`realpath`) and `.` and `..` removed. Inputs may be tensor references, `FILE:KEY`:
/// their file part is compared (see `TensorReference`).
///
/// ```swift
/// try OutputPaths.check(outputs: [("--save-kernel", "k.npy"), ("--save-neighbors", "n.npz")],
///                       inputs: [("--test", "runs.npz:logits"), ("--test-labels", "y.npy")])
/// ```
public enum OutputPaths {
  /// Two named paths that are one file: an output that is also an input, or two outputs.
  public struct Conflict: CompareError, Equatable {
    /// One line naming the options and the path, e.g. `--save-kernel k.npy is also an input (--test);
    /// choose another output path`.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
  }

  /// Throws the first conflict among `outputs` (option, path as given) and `inputs` (option,
  /// `FILE` or `FILE:KEY` as given): an output that is an input, then two outputs on one file.
  ///
  /// - Throws: `Conflict` naming the option(s) and the output path as given.
  /// - Complexity: one `stat` (and at most one `realpath`) per path, then O(outputs · (inputs + outputs)).
  ///
  /// An input that is a folder (a Hugging Face model, a folder of `.npy` layers) counts as the
  /// files in it: an output in that folder that already exists, or whose name ends in a tensor
  /// or index extension (it would be read as part of the model next time), is refused. Folder
  /// outputs (`folders`, e.g. `--plot DIR`) may not be another output's path, nor hold one.
  public static func check(outputs: [(option: String, path: String)],
                           inputs: [(option: String, reference: String)],
                           folders: [(option: String, path: String)] = []) throws {
    let inputFiles = inputs.map { (option: $0.option, path: TensorReference($0.reference).path) }
      .map { (option: $0.option, path: $0.path, file: FileIdentity($0.path), isFolder: FileSystem.kind(of: $0.path) == .directory) }
    let outputFiles = outputs.map { (option: $0.option, path: $0.path, file: FileIdentity($0.path)) }
    for output in outputFiles {
      if let input = inputFiles.first(where: { $0.file == output.file }) {
        throw Conflict("\(output.option) \(output.path) is also an input (\(input.option)); choose another output path")
      }
      let folder = FileIdentity(parent(of: output.path))
      if let input = inputFiles.first(where: { $0.isFolder && $0.file == folder }),
         FileSystem.kind(of: output.path) != .missing || readExtensions.contains(where: output.path.lowercased().hasSuffix) {
        throw Conflict("\(output.option) \(output.path) is in the input folder \(input.path) (\(input.option)) and would be read as part of it; choose another output path")
      }
    }
    let all = outputFiles + folders.map { (option: $0.option, path: $0.path, file: FileIdentity($0.path)) }
    for (i, output) in all.enumerated() {
      if let other = all[(i + 1)...].first(where: { $0.file == output.file }) {
        let options = output.option == other.option ? "\(output.option) is given twice and" : "\(output.option) and \(other.option) both"
        throw Conflict("\(options) write \(output.path)")
      }
    }
    for folder in folders {
      let identity = FileIdentity(folder.path)
      if let output = outputFiles.first(where: { FileIdentity(parent(of: $0.path)) == identity }) {
        throw Conflict("\(output.option) \(output.path) is in the folder \(folder.option) writes (\(folder.path)); choose another output path")
      }
    }
  }

  /// Name endings a model folder's reader takes as its files (a folder of `.npy` layers, a
  /// Hugging Face folder's shards and index): an output so named inside an input folder would
  /// join the model.
  static let readExtensions = [".npy", ".safetensors", ".bin", ".index.json"]

  /// The folder `path` is in (`.` for a bare name).
  static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  /// What makes two paths the same file: the device and inode of an existing file, else the
  /// normalised absolute path.
  enum FileIdentity: Equatable {
    case inode(device: UInt64, inode: UInt64)
    case path(String)

    init(_ path: String) {
      var info = stat()
      if stat(path, &info) == 0 {
        self = .inode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
      } else {
        self = .path(OutputPaths.normalized(path))
      }
    }
  }

  /// `path` made absolute: its folder resolved by `realpath` when it exists, and `.`, `..`
  /// and repeated `/` removed from what remains.
  static func normalized(_ path: String) -> String {
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    if let resolved = realpath(folder.isEmpty ? "/" : folder, nil) {
      defer { free(resolved) }
      return lexical(String(cString: resolved) + "/" + name)
    }
    if path.hasPrefix("/") { return lexical(path) }
    let cwd: String
    if let pointer = getcwd(nil, 0) {
      cwd = String(cString: pointer)
      free(pointer)
    } else {
      cwd = ""
    }
    return lexical(cwd + "/" + path)
  }

  /// An absolute path without `.`, `..` or empty components.
  static func lexical(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
      switch part {
      case ".": continue
      case "..": if !parts.isEmpty { parts.removeLast() }
      default: parts.append(part)
      }
    }
    return "/" + parts.joined(separator: "/")
  }
}
