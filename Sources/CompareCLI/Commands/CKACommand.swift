import Compare

/// `compare cka`: placeholder until its issue lands.
enum CKACommand: Command {
  static let spec = CommandSpec(name: "cka", overview: "Layer-by-layer CKA between two models' activations.")

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    throw InputError("'compare cka' is not available in this build yet")
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
