import Compare

/// `compare bench cka`: placeholder until its issue lands.
enum CKABenchmark {
  static func run(console: Console, json: Bool, quick: Bool) throws -> JSONValue {
    throw InputError("the 'cka' benchmark is not available in this build yet")
  }
}
