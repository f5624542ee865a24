/// A JSON document with keys kept in the order they were added, so `--json` output is stable.
///
/// Non-finite numbers become `null` (JSON has no NaN), integers print without a decimal point
/// and doubles in Swift's shortest round-trip form.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

  /// The value of `key` in an object, or `nil`.
  public subscript(key: String) -> JSONValue? {
    if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
    return nil
  }

  /// JSON text; `pretty` indents by two spaces.
  public func serialized(pretty: Bool = false) -> String {
    var out = ""
    write(into: &out, pretty: pretty, indent: 0)
    return out
  }

  func write(into out: inout String, pretty: Bool, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += JSONValue.format(d)
    case .string(let s): JSONValue.quote(s, into: &out)
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      // Arrays of numbers stay on one line even when pretty: matrices read as rows.
      let flat = !pretty || items.allSatisfy(\.isScalar)
      out += "["
      for (n, item) in items.enumerated() {
        if n > 0 { out += flat ? (pretty ? ", " : ",") : "," }
        if !flat { out += "\n" + String(repeating: " ", count: indent + 2) }
        item.write(into: &out, pretty: pretty, indent: indent + 2)
      }
      if !flat { out += "\n" + String(repeating: " ", count: indent) }
      out += "]"
    case .object(let pairs):
      if pairs.isEmpty { out += "{}"; return }
      out += "{"
      for (n, (key, value)) in pairs.enumerated() {
        if n > 0 { out += "," }
        if pretty { out += "\n" + String(repeating: " ", count: indent + 2) }
        JSONValue.quote(key, into: &out)
        out += pretty ? ": " : ":"
        value.write(into: &out, pretty: pretty, indent: indent + 2)
      }
      if pretty { out += "\n" + String(repeating: " ", count: indent) }
      out += "}"
    }
  }

  var isScalar: Bool {
    switch self {
    case .array, .object: false
    default: true
    }
  }

  /// A double as JSON: shortest round-trip digits, `null` when not finite.
  public static func format(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) + ".0" }
    return "\(d)"
  }

  static func quote(_ s: String, into out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}

extension JSONValue {
  /// A number that may be missing: `null` when `nil` or not finite.
  public static func number(_ d: Double?) -> JSONValue { d.map(JSONValue.double) ?? .null }
  /// An array of doubles.
  public static func numbers(_ values: [Double]) -> JSONValue { .array(values.map(JSONValue.double)) }
  /// An array of strings.
  public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
}
