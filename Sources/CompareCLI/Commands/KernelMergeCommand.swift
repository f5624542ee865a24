import Compare

/// `compare kernel merge`: placeholder until its issue lands.
enum KernelMergeCommand: Command {
  static let spec = CommandSpec(name: "kernel merge", overview: "Merge neighbour files of row shards into one.")

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    throw InputError("'compare kernel merge' is not available in this build yet")
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
