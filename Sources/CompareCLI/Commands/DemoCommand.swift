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
    let examples = arguments.string("--examples")!, output = arguments.string("--output")!
    let sections = try CompareDemo.run(examples: examples, output: output)
    if arguments.flag("--json") {
      let json = JSONValue.object(sections.map { ($0.title, .strings($0.lines)) } + [("output", .string(output))])
      console.print(json.serialized(pretty: true))
      return
    }
    console.print("Compare \(CompareCommandLine.version) demo on \(examples)")
    for section in sections where !section.lines.isEmpty {
      console.print()
      console.print("== \(section.title)")
      for line in section.lines { console.print(line) }
    }
    console.print()
    console.print("Figures written to \(output)/")
  }
}
