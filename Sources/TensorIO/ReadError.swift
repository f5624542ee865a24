import CompareCore

/// A tensor file that cannot be read: missing, truncated, malformed, or holding something
/// Compare refuses to load. The message names the file and the problem.
public struct ReadError: CompareError, Equatable {
  /// The file as the user named it.
  public var file: String
  /// What is wrong, one line, e.g. `tensor 'fc1.weight' is truncated (expected 4096 bytes, found 1200)`.
  public var problem: String

  public init(file: String, _ problem: String) {
    self.file = file
    self.problem = problem
  }

  /// `file: problem`; an empty file name shows as `''`, so the message still names it.
  public var description: String { "\(file.isEmpty ? "''" : file): \(problem)" }
}
