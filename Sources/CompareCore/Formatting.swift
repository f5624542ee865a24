/// printf-style number formatting without Foundation, for tables and messages.
public enum Format {
  /// `value` formatted by a C format with one argument, e.g. `Format.c("%.3f", x)`.
  public static func c(_ format: String, _ value: CVarArg) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([value]) { args in
      buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, 64, format, args) }
    }
    return String(nulTerminated: buffer)
  }

  /// `value` with `digits` decimals (`nan` for NaN).
  public static func fixed(_ value: Double, _ digits: Int) -> String { c("%.\(digits)f", value) }

  /// A fraction as a percentage with `digits` decimals: 0.9326 → `93.26 %`.
  public static func percent(_ fraction: Double, _ digits: Int = 2) -> String {
    fixed(100 * fraction, digits) + " %"
  }

  /// `value` in C's `%g` with `digits` significant digits.
  public static func general(_ value: Double, _ digits: Int = 4) -> String { c("%.\(digits)g", value) }

  /// `text` padded with spaces on the left to `width` (right-aligned).
  public static func right(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }

  /// `text` padded with spaces on the right to `width` (left-aligned).
  public static func left(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }

  /// A table with a header row, columns aligned (numbers right, text left), two spaces apart.
  /// Control characters in the cells (a newline or an escape sequence inside a tensor's name)
  /// are shown escaped (`visible`, and tabs as `\t`), so that a row stays a row and its columns
  /// line up.
  public static func table(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
    let rows = rows.map { $0.map { visible($0).split(separator: "\t", omittingEmptySubsequences: false).joined(separator: "\\t") } }
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, cell in
        rightAligned.contains(i) ? right(cell, widths[i]) : left(cell, widths[i])
      }.joined(separator: "  ").replacingTrailingSpaces()
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
  }
}

extension Format {
  /// `text` with its control characters (C0, DEL, C1, and the Unicode line and paragraph
  /// separators) written as escapes: `\n`, `\r`, or `\u{1B}`; tabs are kept. For names from
  /// files, printed where a newline or an escape sequence would break a line or drive the
  /// terminal.
  public static func visible(_ text: String) -> String {
    func isControl(_ s: Unicode.Scalar) -> Bool {
      (s.value < 0x20 && s != "\t") || (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
    }
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = String.UnicodeScalarView()
    for s in text.unicodeScalars {
      guard isControl(s) else { out.append(s); continue }
      let escape = s == "\n" ? "\\n" : s == "\r" ? "\\r" : "\\u{\(String(s.value, radix: 16, uppercase: true))}"
      out.append(contentsOf: escape.unicodeScalars)
    }
    return String(out)
  }
}

extension String {
  func replacingTrailingSpaces() -> String {
    var s = Substring(self)
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}

/// Seconds elapsed since `start`, as a Double.
public func secondsSince(_ start: ContinuousClock.Instant) -> Double {
  let d = ContinuousClock.now - start
  return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

extension String {
  /// The text of a NUL-terminated C character buffer (what `vsnprintf`, `mkstemp` or `fgets`
  /// filled).
  public init(nulTerminated buffer: [CChar]) {
    self = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }
}
