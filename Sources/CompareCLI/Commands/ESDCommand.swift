import Compare

/// `compare esd`: placeholder until its issue lands.
enum ESDCommand: Command {
  static let spec = CommandSpec(name: "esd", overview: "WeightWatcher-style spectral (ESD) metrics of a model's weight matrices.")

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    throw InputError("'compare esd' is not available in this build yet")
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] { [] }
}
