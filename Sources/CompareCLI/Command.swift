import Compare

/// A `compare` subcommand: its spec (options, help) and what it does.
public protocol Command: Sendable {
  /// Name, options and help text.
  static var spec: CommandSpec { get }
  /// Runs with parsed arguments. Throws `UsageError` for a misuse, anything else for a
  /// failure (printed as `Error: …`, exit 1).
  static func run(_ arguments: ParsedArguments, console: Console) throws
  /// The precision most of the command's arithmetic runs in, given its parsed arguments:
  /// `compare` picks OpenBLAS's kernels for it (`BLASKernels.prefer(for:)`).
  static func blasWork(_ arguments: ParsedArguments) -> BLASKernels.Work
}

extension Command {
  public static func blasWork(_ arguments: ParsedArguments) -> BLASKernels.Work { .float64 }
}
