import Compare

/// `compare bench io`: placeholder until its issue lands.
enum IOBenchmark {
  static func run(console: Console, json: Bool, quick: Bool) throws -> JSONValue {
    throw InputError("the 'io' benchmark is not available in this build yet")
  }
}
