import Compare

/// `compare demo`: runs every metric module on the bundled example data and prints a short
/// report, writing figures into a folder.
enum DemoCommand: Command {
  static let spec = CommandSpec(
    name: "demo",
    overview: "Run every module on the bundled example data and print a short report.",
    options: [
      OptionSpec("--examples", value: "dir", help: "Folder of the example data.", default: "Examples/data"),
      OptionSpec("--output", value: "dir", help: "Folder the figures are written to.", default: "demo-output"),
    ],
    examples: ["compare demo", "compare demo --output /tmp/figures --json"])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let examples = arguments.string("--examples") ?? "Examples/data"
    let output = arguments.string("--output") ?? "demo-output"
    try Folders.requireDirectory(examples, what: "example data folder")
    try Folders.create(output)
    var sections: [(String, [String])] = []
    sections.append(("Tensor files", try InspectCommand.demo(examples: examples, output: output, console: console)))
    sections.append(("Ensemble correlation kernel", try KernelCommand.demo(examples: examples, output: output, console: console)))
    sections.append(("CKA", try CKACommand.demo(examples: examples, output: output, console: console)))
    sections.append(("Spectral (ESD) metrics", try ESDCommand.demo(examples: examples, output: output, console: console)))
    if arguments.flag("--json") {
      let json = JSONValue.object(sections.map { ($0.0, .strings($0.1)) } + [("output", .string(output))])
      console.print(json.serialized(pretty: true))
      return
    }
    console.print("Compare \(CompareCommandLine.version) demo on \(examples)")
    for (title, lines) in sections where !lines.isEmpty {
      console.print()
      console.print("== \(title)")
      for line in lines { console.print(line) }
    }
    console.print()
    console.print("Figures written to \(output)/")
  }
}
