import Compare

/// `compare kernel pairs`: placeholder until its issue lands.
enum KernelPairsCommand: Command {
  static let spec = CommandSpec(name: "kernel pairs", overview: "Near-duplicate train/test pairs and confident failures by kernel value.")

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    throw InputError("'compare kernel pairs' is not available in this build yet")
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
