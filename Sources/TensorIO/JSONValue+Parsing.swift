import CompareCore

extension JSONValue {
  /// Parses JSON text (RFC 8259), keeping object keys in document order.
  ///
  /// Integers that fit in `Int` become `.int`, other numbers `.double`. Nesting is limited to
  /// `maximumDepth` levels so that hostile input cannot exhaust the stack.
  ///
  /// - Throws: `JSONValue.ParseError` with the byte offset of the problem.
  public static func parse(_ bytes: UnsafeRawBufferPointer, maximumDepth: Int = 64) throws -> JSONValue {
    var parser = JSONParser(bytes: bytes, maximumDepth: maximumDepth)
    parser.skipSpace()
    let value = try parser.value(depth: 0)
    parser.skipSpace()
    guard parser.position == bytes.count else { throw parser.fail("unexpected text after the value") }
    return value
  }

  /// Parses JSON text given as a string.
  public static func parse(_ text: String, maximumDepth: Int = 64) throws -> JSONValue {
    var text = text
    return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0), maximumDepth: maximumDepth) }
  }

  /// Malformed JSON: what and where (byte offset).
  public struct ParseError: Error, CustomStringConvertible, Equatable {
    public var problem: String
    public var offset: Int
    public var description: String { "invalid JSON at byte \(offset): \(problem)" }
  }
}

private struct JSONParser {
  let bytes: UnsafeRawBufferPointer
  let maximumDepth: Int
  var position = 0

  init(bytes: UnsafeRawBufferPointer, maximumDepth: Int) {
    self.bytes = bytes
    self.maximumDepth = maximumDepth
  }

  func fail(_ problem: String) -> JSONValue.ParseError {
    JSONValue.ParseError(problem: problem, offset: position)
  }

  var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  mutating func skipSpace() {
    while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
  }

  mutating func expect(_ word: String) throws {
    for c in word.utf8 {
      guard current == c else { throw fail("expected '\(word)'") }
      position += 1
    }
  }

  mutating func value(depth: Int) throws -> JSONValue {
    guard depth < maximumDepth else { throw fail("nested deeper than \(maximumDepth) levels") }
    guard let c = current else { throw fail("unexpected end") }
    switch c {
    case UInt8(ascii: "{"):
      position += 1
      var pairs: [(String, JSONValue)] = []
      skipSpace()
      if current == UInt8(ascii: "}") { position += 1; return .object(pairs) }
      while true {
        skipSpace()
        guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        let key = try string()
        skipSpace()
        guard current == UInt8(ascii: ":") else { throw fail("expected ':'") }
        position += 1
        skipSpace()
        pairs.append((key, try value(depth: depth + 1)))
        skipSpace()
        guard let next = current else { throw fail("unexpected end in an object") }
        position += 1
        if next == UInt8(ascii: "}") { return .object(pairs) }
        guard next == UInt8(ascii: ",") else { position -= 1; throw fail("expected ',' or '}'") }
      }
    case UInt8(ascii: "["):
      position += 1
      var items: [JSONValue] = []
      skipSpace()
      if current == UInt8(ascii: "]") { position += 1; return .array(items) }
      while true {
        skipSpace()
        items.append(try value(depth: depth + 1))
        skipSpace()
        guard let next = current else { throw fail("unexpected end in an array") }
        position += 1
        if next == UInt8(ascii: "]") { return .array(items) }
        guard next == UInt8(ascii: ",") else { position -= 1; throw fail("expected ',' or ']'") }
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): try expect("true"); return .bool(true)
    case UInt8(ascii: "f"): try expect("false"); return .bool(false)
    case UInt8(ascii: "n"): try expect("null"); return .null
    default: return try number()
    }
  }

  mutating func number() throws -> JSONValue {
    let start = position
    var isInteger = true
    if current == UInt8(ascii: "-") { position += 1 }
    guard let first = current, first >= 0x30, first <= 0x39 else { throw fail("unexpected character") }
    while let c = current {
      if c >= 0x30 && c <= 0x39 {
        position += 1
      } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                  || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
        isInteger = false
        position += 1
      } else {
        break
      }
    }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    if isInteger, let n = Int(text) { return .int(n) }
    guard let x = Double(text) else { position = start; throw fail("bad number '\(text.prefix(32))'") }
    return .double(x)
  }

  mutating func string() throws -> String {
    position += 1  // opening quote
    var runStart = position
    var out = ""
    func flush(_ end: Int) {
      if end > runStart {
        out += String(decoding: UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]), as: UTF8.self)
      }
    }
    while true {
      guard let c = current else { throw fail("unterminated string") }
      if c == UInt8(ascii: "\"") {
        flush(position)
        position += 1
        return out
      }
      if c < 0x20 { throw fail("control character in a string") }
      if c != UInt8(ascii: "\\") { position += 1; continue }
      flush(position)
      position += 1
      guard let e = current else { throw fail("unterminated escape") }
      position += 1
      switch e {
      case UInt8(ascii: "\""): out += "\""
      case UInt8(ascii: "\\"): out += "\\"
      case UInt8(ascii: "/"): out += "/"
      case UInt8(ascii: "b"): out += "\u{8}"
      case UInt8(ascii: "f"): out += "\u{C}"
      case UInt8(ascii: "n"): out += "\n"
      case UInt8(ascii: "r"): out += "\r"
      case UInt8(ascii: "t"): out += "\t"
      case UInt8(ascii: "u"):
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code), current == UInt8(ascii: "\\"),
           position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") {
          position += 2
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        out.unicodeScalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
      default: throw fail("bad escape")
      }
      runStart = position
    }
  }

  mutating func hex4() throws -> UInt32 {
    guard position + 4 <= bytes.count else { throw fail("short \\u escape") }
    var code: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[position]
      let digit: UInt32
      switch c {
      case 0x30...0x39: digit = UInt32(c - 0x30)
      case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
      case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
      default: throw fail("bad \\u escape")
      }
      code = code << 4 | digit
      position += 1
    }
    return code
  }
}
