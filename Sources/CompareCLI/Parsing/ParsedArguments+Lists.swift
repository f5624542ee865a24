extension ParsedArguments {
  /// The integers of a comma-separated list option, each checked by `parse` (which throws the
  /// option's own message), refused when one is listed twice: each would be a key of the
  /// `--json` output.
  /// - Throws: `UsageError` `-k lists 3 twice`.
  func distinctList(_ name: String, _ text: String, parse: (Substring) throws -> Int) throws -> [Int] {
    let values = try text.split(separator: ",", omittingEmptySubsequences: false).map(parse)
    var seen: Set<Int> = []
    for value in values where !seen.insert(value).inserted {
      let times = values.filter { $0 == value }.count
      throw UsageError("\(name) lists \(value) \(times == 2 ? "twice" : "\(times) times")", command: spec.name)
    }
    return values
  }
}
