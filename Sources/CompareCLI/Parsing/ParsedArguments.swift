/// The values of one command line, parsed against a `CommandSpec`, with typed accessors whose
/// errors are `UsageError`s naming the option and the bad value.
public struct ParsedArguments: Sendable {
  public let spec: CommandSpec
  /// Option values by option key (long name), in the order given.
  var values: [String: [String]] = [:]
  /// Flags given, by key.
  var flags: Set<String> = []
  /// Positional words, in order.
  public private(set) var positionals: [String] = []

  /// Parses `words` (the words after the command name).
  public init(_ words: [String], spec: CommandSpec) throws {
    self.spec = spec
    var index = 0
    var onlyPositionals = false
    while index < words.count {
      let word = words[index]
      index += 1
      if onlyPositionals || !word.hasPrefix("-") || word == "-" || Self.isNumber(word) {
        positionals.append(word)
        continue
      }
      if word == "--" {
        onlyPositionals = true
        continue
      }
      var name = word, inlineValue: String? = nil
      if word.hasPrefix("--"), let eq = word.firstIndex(of: "=") {
        name = String(word[..<eq])
        inlineValue = String(word[word.index(after: eq)...])
      }
      guard let option = spec.option(named: name) else {
        throw UsageError("unknown option '\(name)'", command: spec.name)
      }
      if option.isFlag {
        guard inlineValue == nil else {
          throw UsageError("'\(name)' takes no value", command: spec.name)
        }
        flags.insert(option.key)
        continue
      }
      let value: String
      if let inlineValue {
        value = inlineValue
      } else {
        guard index < words.count else {
          throw UsageError("missing value for '\(name) <\(option.valueName!)>'", command: spec.name)
        }
        value = words[index]
        index += 1
      }
      // An empty value is never meant: as a folder it would put files at the root ("" + "/x").
      guard !value.isEmpty else {
        throw UsageError("'\(name) <\(option.valueName!)>' needs a value, got an empty one", command: spec.name)
      }
      if let allowed = option.allowedValues, !allowed.contains(value) {
        throw UsageError("'\(value)' is not a valid value for '\(name)' (values: \(allowed.joined(separator: ", ")))",
                         command: spec.name)
      }
      if !option.isRepeatable, values[option.key] != nil {
        throw UsageError("'\(name)' given more than once", command: spec.name)
      }
      values[option.key, default: []].append(value)
    }
    if flags.contains("--help") { return }
    for option in spec.options where option.isRequired && values[option.key] == nil {
      throw UsageError("missing expected option '\(option.key) <\(option.valueName!)>'", command: spec.name)
    }
    let required = spec.arguments.filter { !$0.isOptional }.count
    if positionals.count < required {
      let missing = spec.arguments[positionals.count]
      throw UsageError("missing expected argument '<\(missing.name)>'", command: spec.name)
    }
    if !(spec.arguments.last?.isRepeated ?? false), positionals.count > spec.arguments.count {
      throw UsageError("unexpected argument '\(positionals[spec.arguments.count])'", command: spec.name)
    }
  }

  static func isNumber(_ word: String) -> Bool { Double(word) != nil }

  /// `true` when the flag was given (by any of its names).
  public func flag(_ name: String) -> Bool { flags.contains(key(name)) }

  /// The value given for an option, else its declared default, else `nil`.
  public func string(_ name: String) -> String? { values[key(name)]?.last ?? spec.option(named: name)?.defaultValue }

  /// `true` when the option was given on the command line (not defaulted).
  public func given(_ name: String) -> Bool { values[key(name)] != nil }

  /// Every value given for a repeatable option, in order.
  public func strings(_ name: String) -> [String] { values[key(name)] ?? [] }

  /// The positional argument `name`, or `nil` when it was left out.
  public func argument(_ name: String) -> String? {
    guard let i = spec.arguments.firstIndex(where: { $0.name == name }), i < positionals.count
    else { return nil }
    return positionals[i]
  }

  /// An integer option (its declared default when not given), or `nil` without either.
  /// - Throws: `UsageError` when the value is not an integer in `range`.
  public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
    guard let text = string(name) else { return nil }
    return try parseInt(text, option: name, range: range)
  }

  /// An integer option that has a declared default.
  public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
    let optional: Int? = try int(name, in: range)
    guard let value = optional else {
      preconditionFailure("option \(name) of '\(spec.name)' has no default")
    }
    return value
  }

  func parseInt(_ text: String, option name: String, range: ClosedRange<Int>) throws -> Int {
    guard let n = Int(text), range.contains(n) else {
      let what: String
      if range.lowerBound == 1, range.upperBound == Int.max { what = "a positive integer" }
      else if range.lowerBound == 0, range.upperBound == Int.max { what = "a non-negative integer" }
      else if range.upperBound == Int.max { what = "an integer ≥ \(range.lowerBound)" }
      else { what = "an integer in \(range.lowerBound)...\(range.upperBound)" }
      throw UsageError("\(name) expects \(what), got '\(text)'", command: spec.name)
    }
    return n
  }

  /// A floating-point option that has a declared default.
  /// - Throws: `UsageError` when the value is not a finite number in `range`.
  public func double(_ name: String,
                     in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double {
    guard let text = string(name) else { preconditionFailure("option \(name) of '\(spec.name)' has no default") }
    guard let x = Double(text), x.isFinite, range.contains(x) else {
      throw UsageError("\(name) expects a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'",
                       command: spec.name)
    }
    return x
  }

  /// An option whose values are an enum's raw values (`values:` in its spec, checked by the
  /// parser), read back as the enum; its declared default when not given.
  public func choice<T: RawRepresentable>(_ name: String, as type: T.Type = T.self) -> T where T.RawValue == String {
    guard let text = string(name), let value = T(rawValue: text) else {
      preconditionFailure("option \(name) of '\(spec.name)' has no valid value or default")
    }
    return value
  }

  /// The key values are stored under for any of an option's names.
  func key(_ name: String) -> String {
    guard let option = spec.option(named: name) else {
      preconditionFailure("option \(name) is not declared by '\(spec.name)'")
    }
    return option.key
  }
}
