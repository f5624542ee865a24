import Compare

/// `compare esd merge`: joins the parts of a sharded ESD run into the table a single run prints.
enum ESDMergeCommand: Command {
  static let spec = CommandSpec(
    name: "esd merge",
    overview: "Join the parts of a sharded 'compare esd --shard I/N' run into one table.",
    arguments: [ArgumentSpec("parts", help: "The parts' JSON files (written with --shard I/N --output FILE), in any order.",
                             repeated: true)],
    options: [
      OptionSpec("--csv", help: "Print every column as CSV on stdout."),
      OptionSpec("-o", "--output", value: "file", help: "Also write the merged --json document to this file, atomically."),
    ],
    discussion: """
      The result is the table, summary, JSON and CSV of a single run over all layers. Parts are
      of one model when the content fingerprints they record agree, whatever path each was run
      with. Parts of another model, another N or other options, a part given twice or missing, a
      layer in two parts or in none, and a malformed row are refused, naming the part.
      """,
    examples: ["compare esd merge parts/esd-*.json --json"])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let json = arguments.flag("--json"), csv = arguments.flag("--csv")
    if json && csv { throw UsageError("--json and --csv cannot be combined", command: spec.name) }
    let output = arguments.string("--output")
    try arguments.checkOutputs([("-o", output)], inputs: [],
                               more: arguments.positionals.map { (option: "<parts>", reference: $0) })
    if let output { try AtomicFile.checkDestination(output) }
    let report = try ESDReport.merging(arguments.positionals)
    // A single run warns of each failed layer; the merged parts say the same.
    for line in report.warnings { console.warn(line) }
    if let output { try AtomicFile.write(report.json().serialized(pretty: true) + "\n", to: output) }
    console.write(json ? report.json().serialized(pretty: true) + "\n" : csv ? report.csv() : report.text)
  }
}
