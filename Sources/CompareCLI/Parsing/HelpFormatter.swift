/// Formats `--help` text and usage lines in the layout Swift command-line tools use.
enum HelpFormatter {
  static let tool = "compare"
  static let nameColumn = 24

  /// `USAGE:`'s line: `compare cka [--method <method>] [--json] <a> <b>`.
  static func usage(_ spec: CommandSpec) -> String {
    var parts = ["\(tool) \(spec.name)"]
    for option in spec.options where option.key != "--help" {
      var text = option.names.first!
      if let value = option.valueName { text += " <\(value)>" }
      if option.isRepeatable { text += " ..." }
      parts.append(option.isRequired ? text : "[\(text)]")
    }
    for argument in spec.arguments {
      var text = "<\(argument.name)>"
      if argument.isRepeated { text += " ..." }
      parts.append(argument.isOptional ? "[\(text)]" : text)
    }
    return parts.joined(separator: " ")
  }

  /// The whole `--help` text.
  static func help(_ spec: CommandSpec, subcommands: [CommandSpec] = []) -> String {
    var out = "OVERVIEW: \(spec.overview)\n\nUSAGE: \(usage(spec))\n"
    if !spec.arguments.isEmpty {
      out += "\nARGUMENTS:\n"
      for argument in spec.arguments { out += row("<\(argument.name)>", argument.help) }
    }
    out += "\nOPTIONS:\n"
    for option in spec.options {
      var name = option.names.joined(separator: ", ")
      if let value = option.valueName { name += " <\(value)>" }
      var help = option.help
      var notes: [String] = []
      if let values = option.allowedValues { notes.append("values: \(values.joined(separator: ", "))") }
      if let value = option.defaultValue { notes.append("default: \(value)") }
      if option.isRequired { notes.append("required") }
      if option.isRepeatable { notes.append("repeatable") }
      if !notes.isEmpty { help += " (\(notes.joined(separator: "; ")))" }
      out += row(name, help)
    }
    if !subcommands.isEmpty {
      out += "\nSUBCOMMANDS:\n"
      for sub in subcommands {
        out += row(String(sub.name.split(separator: " ").last!), sub.overview)
      }
      out += "\n  See '\(tool) help \(spec.name) <subcommand>' for detailed help.\n"
    }
    if !spec.discussion.isEmpty { out += "\n" + spec.discussion + "\n" }
    if !spec.examples.isEmpty {
      out += "\nEXAMPLES:\n" + spec.examples.map { "  \($0)\n" }.joined()
    }
    return out
  }

  /// One help row: the name in a 24-column field, the help wrapped at 100 columns beside it.
  static func row(_ name: String, _ help: String) -> String {
    let indent = String(repeating: " ", count: nameColumn + 2)
    let lines = wrap(help, width: 100 - nameColumn - 2)
    var out = "  " + name
    if name.count + 2 < nameColumn {
      out += String(repeating: " ", count: nameColumn - name.count)
    } else {
      out += "\n" + indent
    }
    out += lines.joined(separator: "\n" + indent) + "\n"
    return out
  }

  static func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = [], line = ""
    for word in text.split(separator: " ") {
      if !line.isEmpty, line.count + 1 + word.count > width {
        lines.append(line)
        line = ""
      }
      line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty || lines.isEmpty { lines.append(line) }
    return lines
  }
}
