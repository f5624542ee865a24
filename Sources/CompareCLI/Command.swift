/// A `compare` subcommand: its spec (options, help) and what it does.
public protocol Command: Sendable {
  /// Name, options and help text.
  static var spec: CommandSpec { get }
  /// Runs with parsed arguments. Throws `UsageError` for a misuse, anything else for a
  /// failure (printed as `Error: …`, exit 1).
  static func run(_ arguments: ParsedArguments, console: Console) throws
}
