import Compare

/// `compare bench esd`: placeholder until its issue lands.
enum ESDBenchmark {
  static func run(console: Console, json: Bool, quick: Bool) throws -> JSONValue {
    throw InputError("the 'esd' benchmark is not available in this build yet")
  }
}
