import CompareCore

struct Point: Sendable {
  var x: Double
  var y: Double
}

struct Rect: Sendable {
  var x: Double
  var y: Double
  var width: Double
  var height: Double
  var maxX: Double { x + width }
  var maxY: Double { y + height }
  func contains(_ p: Point) -> Bool { p.x >= x && p.x <= maxX && p.y >= y && p.y <= maxY }
  func intersects(_ o: Rect) -> Bool { x < o.maxX && o.x < maxX && y < o.maxY && o.y < maxY }
}

enum TextAnchor: Sendable { case start, middle, end }

/// The drawing operations a figure is made of. Each figure draws once through this protocol,
/// into a raster (PNG) or an SVG document, so both formats show the same layout.
/// Coordinates are pixels, y down; text is placed by its baseline.
protocol Renderer {
  mutating func fill(_ rect: Rect, _ color: Color, opacity: Double)
  /// A one-pixel outline just inside `rect`.
  mutating func outline(_ rect: Rect, _ color: Color)
  mutating func polyline(_ points: [Point], _ color: Color, width: Double, dashed: Bool)
  mutating func circle(_ center: Point, radius: Double, _ color: Color)
  /// `vertical` text is turned a quarter turn anticlockwise and reads bottom to top; its anchor
  /// then runs along the vertical.
  mutating func text(_ text: String, at point: Point, style: TextStyle, anchor: TextAnchor,
                     vertical: Bool, color: Color)
  /// `rect` filled with `colors` spread evenly from its bottom (first) to its top (last),
  /// linearly interpolated: a colour bar.
  mutating func verticalGradient(_ rect: Rect, _ colors: [Color])
  /// A cell with no value: light grey with diagonal hatching.
  mutating func hatched(_ rect: Rect)
  mutating func image(_ image: RGBImage, at origin: Point)
  /// Restricts later drawing to `rect` (nil: the whole figure).
  mutating func clip(_ rect: Rect?)
}

extension Renderer {
  mutating func fill(_ rect: Rect, _ color: Color) { fill(rect, color, opacity: 1) }
  mutating func text(_ text: String, at point: Point, style: TextStyle,
                     anchor: TextAnchor = .start, vertical: Bool = false,
                     color: Color = .text) {
    self.text(text, at: point, style: style, anchor: anchor, vertical: vertical, color: color)
  }
}

// MARK: - Raster

/// An RGB raster with clipping and anti-aliased drawing.
struct RasterRenderer: Renderer {
  var canvas: RGBImage
  private var clipRect: (x0: Int, y0: Int, x1: Int, y1: Int)

  init(width: Int, height: Int, background: Color = .white) {
    let w = max(1, width), h = max(1, height)
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    for i in stride(from: 0, to: pixels.count, by: 3) {
      pixels[i] = background.r
      pixels[i + 1] = background.g
      pixels[i + 2] = background.b
    }
    canvas = RGBImage(width: w, height: h, pixels: pixels)
    clipRect = (0, 0, w, h)
  }

  @inline(__always)
  private mutating func blend(_ x: Int, _ y: Int, _ c: Color, _ alpha: Double) {
    guard x >= clipRect.x0, x < clipRect.x1, y >= clipRect.y0, y < clipRect.y1, alpha > 0 else {
      return
    }
    let i = (y * canvas.width + x) * 3
    if alpha >= 1 {
      canvas.pixels[i] = c.r
      canvas.pixels[i + 1] = c.g
      canvas.pixels[i + 2] = c.b
      return
    }
    func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
      UInt8(Double(old) + (Double(new) - Double(old)) * alpha + 0.5)
    }
    canvas.pixels[i] = mix(canvas.pixels[i], c.r)
    canvas.pixels[i + 1] = mix(canvas.pixels[i + 1], c.g)
    canvas.pixels[i + 2] = mix(canvas.pixels[i + 2], c.b)
  }

  private func snapped(_ r: Rect) -> (x0: Int, y0: Int, x1: Int, y1: Int) {
    func s(_ v: Double) -> Int { v.isFinite ? Int(max(-1e6, min(1e6, v)).rounded()) : 0 }
    return (s(r.x), s(r.y), s(r.maxX), s(r.maxY))
  }

  mutating func fill(_ rect: Rect, _ color: Color, opacity: Double) {
    let r = snapped(rect)
    let x0 = max(r.x0, clipRect.x0), x1 = min(r.x1, clipRect.x1)
    let y0 = max(r.y0, clipRect.y0), y1 = min(r.y1, clipRect.y1)
    guard x0 < x1, y0 < y1 else { return }
    for y in y0..<y1 { for x in x0..<x1 { blend(x, y, color, opacity) } }
  }

  mutating func outline(_ rect: Rect, _ color: Color) {
    let r = snapped(rect)
    guard r.x0 < r.x1, r.y0 < r.y1 else { return }
    for x in r.x0..<r.x1 { blend(x, r.y0, color, 1); blend(x, r.y1 - 1, color, 1) }
    for y in r.y0..<r.y1 { blend(r.x0, y, color, 1); blend(r.x1 - 1, y, color, 1) }
  }

  /// A segment of width `width` with round caps; coverage from the distance of each pixel centre
  /// to the segment, which anti-aliases the edges.
  private mutating func segment(_ a: Point, _ b: Point, _ color: Color, width: Double,
                                caps: Bool = true) {
    let h = width / 2
    let limit = 1e5
    guard abs(a.x) < limit, abs(a.y) < limit, abs(b.x) < limit, abs(b.y) < limit, h >= 0, h < 1e3
    else { return }  // also rejects NaN
    let x0 = max(clipRect.x0, Int((min(a.x, b.x) - h - 1).rounded(.down)))
    let x1 = min(clipRect.x1, Int((max(a.x, b.x) + h + 1).rounded(.up)))
    let y0 = max(clipRect.y0, Int((min(a.y, b.y) - h - 1).rounded(.down)))
    let y1 = min(clipRect.y1, Int((max(a.y, b.y) + h + 1).rounded(.up)))
    guard x0 < x1, y0 < y1 else { return }
    let dx = b.x - a.x, dy = b.y - a.y
    let len2 = dx * dx + dy * dy
    for y in y0..<y1 {
      let py = Double(y) + 0.5
      for x in x0..<x1 {
        let px = Double(x) + 0.5
        let u = len2 > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / len2 : 0
        let t = max(0, min(1, u))
        let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
        var coverage = h + 0.5 - (ex * ex + ey * ey).squareRoot()
        if !caps, len2 > 0 {
          // Distance along the segment beyond either end, in pixels, trims a butt end.
          let beyond = max(-u, u - 1) * len2.squareRoot()
          coverage = min(coverage, 0.5 - beyond)
        }
        if coverage > 0 { blend(x, y, color, min(1, coverage)) }
      }
    }
  }

  mutating func polyline(_ points: [Point], _ color: Color, width: Double, dashed: Bool) {
    // Segments far outside the canvas are skipped; the clip rectangle trims the rest.
    let bound = Rect(x: -1e5, y: -1e5, width: 2e5, height: 2e5)
    if points.count == 1, bound.contains(points[0]) {
      segment(points[0], points[0], color, width: width)
    }
    if dashed {
      // Butt-ended dashes: the round caps of the pieces would close the gaps.
      let kept = points.filter(bound.contains)
      for (a, b) in Dashes.pieces(kept) { segment(a, b, color, width: width, caps: false) }
      return
    }
    for (a, b) in zip(points, points.dropFirst()) where bound.contains(a) && bound.contains(b) {
      segment(a, b, color, width: width)
    }
  }

  mutating func circle(_ center: Point, radius: Double, _ color: Color) {
    segment(center, center, color, width: 2 * radius)
  }

  mutating func text(_ text: String, at point: Point, style: TextStyle, anchor: TextAnchor,
                     vertical: Bool, color: Color) {
    let font = style.font
    let s = BitmapFont.printable(text)
    let w = font.width(of: s)
    let shift = anchor == .start ? 0 : anchor == .middle ? w / 2 : w
    guard point.x.isFinite, point.y.isFinite, abs(point.x) < 1e6, abs(point.y) < 1e6 else { return }
    let px = Int(point.x.rounded()), py = Int(point.y.rounded())
    var pen = -shift
    for scalar in s.unicodeScalars {
      let g = font.glyph(scalar)
      for gy in 0..<g.height {
        for gx in 0..<g.width {
          let cov = font.coverage[g.start + gy * g.width + gx]
          guard cov > 0 else { continue }
          // Glyph coordinates (along, up) → canvas; vertical text maps "along" to -y.
          let u = pen + g.x + gx, v = g.y + gy
          if vertical { blend(px + v, py - u - 1, color, Double(cov) / 255) }
          else { blend(px + u, py + v, color, Double(cov) / 255) }
        }
      }
      pen += g.advance
    }
  }

  mutating func verticalGradient(_ rect: Rect, _ colors: [Color]) {
    guard let first = colors.first else { return }
    let r = snapped(rect)
    guard r.y1 > r.y0 else { return }
    for y in r.y0..<r.y1 {
      let t = (Double(r.y1 - y) - 0.5) / Double(r.y1 - r.y0) * Double(colors.count - 1)
      let i = max(0, min(colors.count - 2, Int(t)))
      let c = colors.count == 1 ? first : colors[i].mixed(with: colors[i + 1], t - Double(i))
      fill(Rect(x: Double(r.x0), y: Double(y), width: Double(r.x1 - r.x0), height: 1), c)
    }
  }

  mutating func hatched(_ rect: Rect) {
    fill(rect, .missing)
    let r = snapped(rect)
    guard r.x0 < r.x1, r.y0 < r.y1 else { return }
    let dark = Color(r: 150, g: 150, b: 150)
    for y in r.y0..<r.y1 {
      for x in r.x0..<r.x1 where (x + y) % 8 == 0 { blend(x, y, dark, 1) }
    }
  }

  mutating func image(_ image: RGBImage, at origin: Point) {
    let ox = Int(origin.x.rounded()), oy = Int(origin.y.rounded())
    for y in 0..<image.height {
      for x in 0..<image.width {
        let i = (y * image.width + x) * 3
        blend(ox + x, oy + y, Color(r: image.pixels[i], g: image.pixels[i + 1],
                                    b: image.pixels[i + 2]), 1)
      }
    }
  }

  mutating func clip(_ rect: Rect?) {
    guard let rect else { clipRect = (0, 0, canvas.width, canvas.height); return }
    let r = snapped(rect)
    clipRect = (max(0, r.x0), max(0, r.y0), min(canvas.width, r.x1), min(canvas.height, r.y1))
  }
}

/// The dash pattern of dashed lines: 8 px on, 5 px off (SVG `stroke-dasharray="8 5"`), its
/// phase carried along the whole polyline as SVG does.
enum Dashes {
  static let on = 8.0, off = 5.0

  /// The "on" parts of the polyline through `points`, as segments.
  static func pieces(_ points: [Point]) -> [(Point, Point)] {
    var out: [(Point, Point)] = []
    var phase = 0.0  // distance into the current on+off period
    for (a, b) in zip(points, points.dropFirst()) {
      let dx = b.x - a.x, dy = b.y - a.y
      let len = (dx * dx + dy * dy).squareRoot()
      guard len > 0, len < 1e6 else { continue }
      var s = 0.0
      while s < len {
        let period = on + off
        let inPeriod = phase.truncatingRemainder(dividingBy: period)
        let step: Double
        if inPeriod < on {
          step = min(on - inPeriod, len - s)
          out.append((Point(x: a.x + dx * s / len, y: a.y + dy * s / len),
                      Point(x: a.x + dx * (s + step) / len, y: a.y + dy * (s + step) / len)))
        } else {
          step = min(period - inPeriod, len - s)
        }
        s += step
        phase += step
      }
    }
    return out
  }
}

// MARK: - SVG

/// Writes the drawing operations as an SVG 1.1 document with real, selectable text.
struct SVGRenderer: Renderer {
  let width: Int
  let height: Int
  private var body = ""
  private var defs = ""
  private var clips = 0
  private var gradients = 0
  private var inClip = false
  private var hasHatch = false

  init(width: Int, height: Int) {
    self.width = max(1, width)
    self.height = max(1, height)
  }

  var document: String {
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" "
    s += "xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"\(width)\" height=\"\(height)\" "
    s += "viewBox=\"0 0 \(width) \(height)\" "
    s += "font-family=\"DejaVu Sans, Verdana, Arial, Helvetica, sans-serif\">\n"
    if !defs.isEmpty { s += "<defs>\n\(defs)</defs>\n" }
    s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    s += body
    if inClip { s += "</g>\n" }
    s += "</svg>\n"
    return s
  }

  static func number(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let r = (max(-1e6, min(1e6, v)) * 100).rounded() / 100
    if r == r.rounded() { return String(Int(r)) }
    return String(r)
  }

  static func escaped(_ text: String) -> String {
    var s = ""
    for c in text.unicodeScalars {
      switch c {
      case "&": s += "&amp;"
      case "<": s += "&lt;"
      case ">": s += "&gt;"
      case "\"": s += "&quot;"
      case "'": s += "&apos;"
      // Control characters are not allowed in XML 1.0.
      case _ where c.value < 0x20 && c != "\t" && c != "\n": s += "?"
      default: s.unicodeScalars.append(c)
      }
    }
    return s
  }

  private typealias N = SVGRenderer

  mutating func fill(_ rect: Rect, _ color: Color, opacity: Double) {
    guard rect.width > 0, rect.height > 0 else { return }
    body += "<rect x=\"\(N.number(rect.x))\" y=\"\(N.number(rect.y))\" "
      + "width=\"\(N.number(rect.width))\" height=\"\(N.number(rect.height))\" fill=\"\(color.hex)\""
      + (opacity < 1 ? " fill-opacity=\"\(N.number(opacity))\"" : "") + "/>\n"
  }

  mutating func outline(_ rect: Rect, _ color: Color) {
    guard rect.width > 0, rect.height > 0 else { return }
    body += "<rect x=\"\(N.number(rect.x + 0.5))\" y=\"\(N.number(rect.y + 0.5))\" "
      + "width=\"\(N.number(rect.width - 1))\" height=\"\(N.number(rect.height - 1))\" "
      + "fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\"1\"/>\n"
  }

  mutating func polyline(_ points: [Point], _ color: Color, width: Double, dashed: Bool) {
    let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
    guard !finite.isEmpty else { return }
    let coords = finite.map { "\(N.number($0.x)),\(N.number($0.y))" }.joined(separator: " ")
    body += "<polyline points=\"\(coords)\" fill=\"none\" stroke=\"\(color.hex)\" "
      + "stroke-width=\"\(N.number(width))\" stroke-linejoin=\"round\" stroke-linecap=\""
      + (dashed ? "butt\" stroke-dasharray=\"\(N.number(Dashes.on)) \(N.number(Dashes.off))\"" : "round\"")
      + "/>\n"
  }

  mutating func circle(_ center: Point, radius: Double, _ color: Color) {
    body += "<circle cx=\"\(N.number(center.x))\" cy=\"\(N.number(center.y))\" "
      + "r=\"\(N.number(radius))\" fill=\"\(color.hex)\"/>\n"
  }

  mutating func text(_ text: String, at point: Point, style: TextStyle, anchor: TextAnchor,
                     vertical: Bool, color: Color) {
    let x = N.number(point.x), y = N.number(point.y)
    var s = "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(style.font.size)\""
    if style.isBold { s += " font-weight=\"bold\"" }
    if anchor != .start { s += " text-anchor=\"\(anchor == .middle ? "middle" : "end")\"" }
    if color != .text { s += " fill=\"\(color.hex)\"" } else { s += " fill=\"#1a1a1a\"" }
    if vertical { s += " transform=\"rotate(-90 \(x) \(y))\"" }
    body += s + ">\(N.escaped(text))</text>\n"
  }

  mutating func verticalGradient(_ rect: Rect, _ colors: [Color]) {
    guard !colors.isEmpty else { return }
    gradients += 1
    let id = "gradient\(gradients)"
    defs += "<linearGradient id=\"\(id)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
    for (i, c) in colors.enumerated() {
      let offset = colors.count == 1 ? 0 : Double(i) / Double(colors.count - 1)
      defs += "<stop offset=\"\(N.number(offset))\" stop-color=\"\(c.hex)\"/>"
    }
    defs += "</linearGradient>\n"
    body += "<rect x=\"\(N.number(rect.x))\" y=\"\(N.number(rect.y))\" "
      + "width=\"\(N.number(rect.width))\" height=\"\(N.number(rect.height))\" fill=\"url(#\(id))\"/>\n"
  }

  mutating func hatched(_ rect: Rect) {
    if !hasHatch {
      hasHatch = true
      defs += "<pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
        + "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"\(Color.missing.hex)\"/>"
        + "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#969696\" stroke-width=\"1.5\"/></pattern>\n"
    }
    body += "<rect x=\"\(N.number(rect.x))\" y=\"\(N.number(rect.y))\" "
      + "width=\"\(N.number(rect.width))\" height=\"\(N.number(rect.height))\" fill=\"url(#hatch)\"/>\n"
  }

  mutating func image(_ image: RGBImage, at origin: Point) {
    body += "<image x=\"\(N.number(origin.x))\" y=\"\(N.number(origin.y))\" "
      + "width=\"\(image.width)\" height=\"\(image.height)\" style=\"image-rendering:pixelated\" "
      + "xlink:href=\"data:image/png;base64,\(Base64.encode(PNGEncoder.encode(image)))\"/>\n"
  }

  mutating func clip(_ rect: Rect?) {
    if inClip { body += "</g>\n"; inClip = false }
    guard let rect else { return }
    clips += 1
    defs += "<clipPath id=\"clip\(clips)\"><rect x=\"\(N.number(rect.x))\" y=\"\(N.number(rect.y))\" "
      + "width=\"\(N.number(rect.width))\" height=\"\(N.number(rect.height))\"/></clipPath>\n"
    body += "<g clip-path=\"url(#clip\(clips))\">\n"
    inClip = true
  }
}

enum Base64 {
  static func encode(_ bytes: [UInt8]) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i < bytes.count {
      let b0 = UInt32(bytes[i])
      let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
      let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
      let n = b0 << 16 | b1 << 8 | b2
      out.append(table[Int(n >> 18 & 63)])
      out.append(table[Int(n >> 12 & 63)])
      out.append(i + 1 < bytes.count ? table[Int(n >> 6 & 63)] : UInt8(ascii: "="))
      out.append(i + 2 < bytes.count ? table[Int(n & 63)] : UInt8(ascii: "="))
      i += 3
    }
    return String(decoding: out, as: UTF8.self)
  }
}
