import Compare

/// `compare inspect`: placeholder until its issue lands.
enum InspectCommand: Command {
  static let spec = CommandSpec(name: "inspect", overview: "List the tensors in a file (key, dtype, shape, bytes) and optionally their statistics.")

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    throw InputError("'compare inspect' is not available in this build yet")
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
