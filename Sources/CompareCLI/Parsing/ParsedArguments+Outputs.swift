import Compare

extension ParsedArguments {
  /// Refuses, as a usage mistake, outputs that would overwrite an input or each other
  /// (`OutputPaths.check`), before any input is opened.
  ///
  /// - Parameters:
  ///   - outputs: The options of the files the run will write, with their paths; `nil` paths
  ///     (options not given) are skipped.
  ///   - inputs: Options whose given values are inputs (every value of a repeatable one).
  ///   - more: Further inputs, e.g. positional files or paths derived from other options.
  ///   - folders: Options naming folders the run writes into (`--plot DIR`), with their paths.
  /// - Throws: `UsageError` with the conflict's message.
  func checkOutputs(_ outputs: [(option: String, path: String?)], inputs: [String],
                    more: [(option: String, reference: String)] = [],
                    folders: [(option: String, path: String?)] = []) throws {
    let given = inputs.flatMap { option in strings(option).map { (option: option, reference: $0) } }
    do {
      try OutputPaths.check(outputs: outputs.compactMap { o in o.path.map { (o.option, $0) } },
                            inputs: given + more,
                            folders: folders.compactMap { f in f.path.map { (f.option, $0) } })
    } catch let conflict as OutputPaths.Conflict {
      throw UsageError(conflict.message, command: spec.name)
    }
  }
}
