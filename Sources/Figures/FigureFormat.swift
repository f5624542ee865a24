import CompareCore

/// The file formats figures are written in, chosen by a path's extension.
public enum FigureFormat: Sendable, Equatable {
  case png, svg

  /// The format named by `path`'s extension, case-insensitive (`.png`, `.svg`); nil otherwise,
  /// which a command reports as a usage error.
  public init?(path: String) {
    let name = FileSystem.baseName(path)
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
    switch name[name.index(after: dot)...].lowercased() {
    case "png": self = .png
    case "svg": self = .svg
    default: return nil
    }
  }

  /// The extension without its dot.
  public var fileExtension: String { self == .png ? "png" : "svg" }
}
