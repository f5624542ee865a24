/// What a subcommand accepts, from which both the parser and `--help` are made.
public struct CommandSpec: Sendable {
  /// The words after `compare`, e.g. `kernel` or `kernel pairs`.
  public var name: String
  /// One sentence for `OVERVIEW:`.
  public var overview: String
  /// Positional arguments, in order.
  public var arguments: [ArgumentSpec]
  /// Options and flags. `--json` and `-h/--help` are added to every command.
  public var options: [OptionSpec]
  /// Further paragraphs printed after the options (what the numbers mean, notes).
  public var discussion: String
  /// Example command lines, printed under `EXAMPLES:`.
  public var examples: [String]

  public init(name: String, overview: String, arguments: [ArgumentSpec] = [],
              options: [OptionSpec] = [], discussion: String = "", examples: [String] = []) {
    self.name = name
    self.overview = overview
    self.arguments = arguments
    self.options = options + [
      OptionSpec("--json", help: "Print machine-readable JSON on stdout."),
      OptionSpec("-h", "--help", help: "Show help information."),
    ]
    self.discussion = discussion
    self.examples = examples
  }

  /// The option one of whose names is `name`.
  func option(named name: String) -> OptionSpec? {
    options.first { $0.names.contains(name) }
  }
}

/// A positional argument.
public struct ArgumentSpec: Sendable {
  /// Shown as `<name>`.
  public var name: String
  public var help: String
  /// May be left out.
  public var isOptional: Bool
  /// Takes all remaining positional words (at least one unless optional).
  public var isRepeated: Bool

  public init(_ name: String, help: String, optional: Bool = false, repeated: Bool = false) {
    self.name = name
    self.help = help
    self.isOptional = optional
    self.isRepeated = repeated
  }
}

/// An option that takes a value (`--batch-size <n>`) or a flag (`--json`).
public struct OptionSpec: Sendable {
  /// Its spellings, short first: `["-k"]`, `["-h", "--help"]`.
  public var names: [String]
  /// The value's placeholder (`n`, `ref`); `nil` for a flag.
  public var valueName: String?
  public var help: String
  /// The default shown in help, e.g. `256`; `nil` when there is none.
  public var defaultValue: String?
  /// The accepted values, checked by the parser and shown in help.
  public var allowedValues: [String]?
  /// Must be given.
  public var isRequired: Bool
  /// May be given several times; every value is kept.
  public var isRepeatable: Bool

  /// A flag.
  public init(_ names: String..., help: String) {
    self.names = names
    self.valueName = nil
    self.help = help
    self.defaultValue = nil
    self.allowedValues = nil
    self.isRequired = false
    self.isRepeatable = false
  }

  /// An option with a value.
  ///
  /// `default` is the typed default (`8`, `0.95`, an enum case), declared here once: help shows
  /// its description and the typed accessors of `ParsedArguments` parse it back when the option
  /// is not given.
  public init(_ names: String..., value: String, help: String, default defaultValue: (any CustomStringConvertible & Sendable)? = nil,
              values allowedValues: [String]? = nil, required: Bool = false,
              repeatable: Bool = false) {
    self.names = names
    self.valueName = value
    self.help = help
    self.defaultValue = defaultValue.map { String(describing: $0) }
    self.allowedValues = allowedValues
    self.isRequired = required
    self.isRepeatable = repeatable
  }

  /// The long name if there is one, else the first: the key values are stored under.
  public var key: String { names.last! }

  var isFlag: Bool { valueName == nil }
}
