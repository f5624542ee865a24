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
  /// Whether the command's outputs appear together when it has succeeded, or not at all
  /// (`FileGuard.deferCommits`): true but for commands that read back files they write.
  static var defersOutputs: Bool { get }
}

extension Command {
  public static func blasWork(_ arguments: ParsedArguments) -> BLASKernels.Work { .float64 }
  public static var defersOutputs: Bool { true }
}
