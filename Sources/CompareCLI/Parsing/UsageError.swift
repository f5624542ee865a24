import CompareCore

/// A mistake in how the command was called: an unknown option, a missing or malformed value.
/// The tool prints the message, the usage line and a help hint, and exits 64 (`EX_USAGE`).
public struct UsageError: Error, CustomStringConvertible, Sendable {
  public var message: String
  /// The command whose usage to print; `nil` for the top level.
  public var command: String?

  public init(_ message: String, command: String? = nil) {
    self.message = message
    self.command = command
  }

  public var description: String { message }
}
