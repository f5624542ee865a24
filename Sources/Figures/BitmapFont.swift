/// An anti-aliased bitmap font for printable ASCII: 4-bit coverage per glyph pixel, hinted at one
/// pixel size. PNG figures draw their text with it; SVG figures use its metrics for layout.
struct BitmapFont: Sendable {
  struct Glyph: Sendable {
    /// Pen advance, then the bitmap's offset from the pen on the baseline (y grows down) and size.
    var advance, x, y, width, height: Int
    /// Start of the bitmap in `coverage`, row-major.
    var start: Int
  }

  let size: Int
  let ascent: Int
  let descent: Int
  let glyphs: [Glyph]
  /// Coverage 0...255 of every glyph pixel.
  let coverage: [UInt8]

  /// - Parameters:
  ///   - metrics: For each of the 95 characters from space to `~`: advance, x, y, width, height.
  ///   - coverage: One hex digit (0...f) per glyph pixel; other characters are skipped.
  init(size: Int, ascent: Int, descent: Int, metrics: [Int16], coverage: String) {
    self.size = size
    self.ascent = ascent
    self.descent = descent
    var values: [UInt8] = []
    values.reserveCapacity(coverage.utf8.count)
    for c in coverage.utf8 {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append((c - 48) * 17)
      case UInt8(ascii: "a")...UInt8(ascii: "f"): values.append((c - 87) * 17)
      default: continue
      }
    }
    var glyphs: [Glyph] = []
    var start = 0
    for i in stride(from: 0, to: metrics.count - 4, by: 5) {
      let m = metrics[i..<(i + 5)].map(Int.init)
      glyphs.append(Glyph(advance: m[0], x: m[1], y: m[2], width: m[3], height: m[4], start: start))
      start += m[3] * m[4]
    }
    precondition(start == values.count && glyphs.count == 95, "font tables are inconsistent")
    self.glyphs = glyphs
    self.coverage = values
  }

  /// The glyph drawn for `c`: printable ASCII as itself, anything else as `?`.
  func glyph(_ c: Unicode.Scalar) -> Glyph {
    let v = Int(c.value)
    return glyphs[(32...126).contains(v) ? v - 32 : 31]
  }

  /// Advance width of `text` in pixels.
  func width(of text: String) -> Int {
    BitmapFont.printable(text).unicodeScalars.reduce(0) { $0 + glyph($1).advance }
  }

  /// `text` as the raster font draws it: an ellipsis as three dots.
  static func printable(_ text: String) -> String {
    text.contains("…") ? text.replacingOccurrences(of: "…", with: "...") : text
  }
}

extension String {
  func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}

/// The three text roles of a figure, each with its raster font and SVG size.
enum TextStyle: Sendable {
  case small, medium, title

  var font: BitmapFont {
    switch self {
    case .small: return .small
    case .medium: return .medium
    case .title: return .title
    }
  }

  var isBold: Bool { self == .title }

  /// Advance width of `text` in pixels.
  func width(_ text: String) -> Double { Double(font.width(of: text)) }

  /// `text` shortened with an ellipsis to fit `maxWidth`. By default the start goes
  /// ("…layer4.1.conv2"): the end of a layer name tells layers apart better than its start;
  /// with `keepingStart` the end goes ("d=0.12 lab…").
  func truncated(_ text: String, toFit maxWidth: Double, keepingStart: Bool = false) -> String {
    if width(text) <= maxWidth { return text }
    var chars = Array(text)
    while !chars.isEmpty {
      if keepingStart { chars.removeLast() } else { chars.removeFirst() }
      let candidate = keepingStart ? String(chars) + "…" : "…" + String(chars)
      if width(candidate) <= maxWidth { return candidate }
    }
    return ""
  }
}
