import Compare

/// `compare kernel`: placeholder until its issue lands.
enum KernelCommand: Command {
  static let spec = CommandSpec(name: "kernel", overview: "Ensemble correlation kernel: k-NN over many models' logits.")

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    throw InputError("'compare kernel' is not available in this build yet")
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
