import Compare

/// `compare bench kernel`: placeholder until its issue lands.
enum KernelBenchmark {
  static func run(console: Console, json: Bool, quick: Bool) throws -> JSONValue {
    throw InputError("the 'kernel' benchmark is not available in this build yet")
  }
}
