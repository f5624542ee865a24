/// An opaque 8-bit sRGB colour.
public struct Color: Sendable, Equatable, Hashable {
  /// Red, green and blue, 0...255.
  public var r: UInt8
  public var g: UInt8
  public var b: UInt8

  /// The colour with these sRGB components.
  public init(r: UInt8, g: UInt8, b: UInt8) {
    self.r = r
    self.g = g
    self.b = b
  }

  // The ten-colour categorical palette most readers know from plotting libraries; `cycle`
  // gives them in this order to series without a colour.
  /// Blue, `#1f77b4`.
  public static let blue = Color(r: 31, g: 119, b: 180)
  /// Orange, `#ff7f0e`.
  public static let orange = Color(r: 255, g: 127, b: 14)
  /// Green, `#2ca02c`.
  public static let green = Color(r: 44, g: 160, b: 44)
  /// Red, `#d62728`.
  public static let red = Color(r: 214, g: 39, b: 40)
  /// Purple, `#9467bd`.
  public static let purple = Color(r: 148, g: 103, b: 189)
  /// Brown, `#8c564b`.
  public static let brown = Color(r: 140, g: 86, b: 75)
  /// Pink, `#e377c2`.
  public static let pink = Color(r: 227, g: 119, b: 194)
  /// Gray, `#7f7f7f`.
  public static let gray = Color(r: 127, g: 127, b: 127)
  /// Olive, `#bcbd22`.
  public static let olive = Color(r: 188, g: 189, b: 34)
  /// Cyan, `#17becf`.
  public static let cyan = Color(r: 23, g: 190, b: 207)
  /// Black, `#000000`.
  public static let black = Color(r: 0, g: 0, b: 0)
  /// White, `#ffffff`.
  public static let white = Color(r: 255, g: 255, b: 255)

  /// The colours given, in order, to series added without one.
  public static let cycle: [Color] = [
    .blue, .orange, .green, .red, .purple, .brown, .pink, .gray, .olive, .cyan,
  ]

  /// `#rrggbb`, as SVG and CSS write it.
  public var hex: String {
    let digits = Array("0123456789abcdef")
    var s = "#"
    for v in [r, g, b] {
      s.append(digits[Int(v >> 4)])
      s.append(digits[Int(v & 15)])
    }
    return s
  }

  /// Relative luminance in 0...1 (Rec. 709 weights on the sRGB values, good enough to pick
  /// black or white text over a cell).
  var luminance: Double {
    (0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)) / 255
  }

  /// `self` mixed with `other`: `t = 0` is `self`, `t = 1` is `other`.
  func mixed(with other: Color, _ t: Double) -> Color {
    func m(_ a: UInt8, _ b: UInt8) -> UInt8 {
      UInt8(max(0, min(255, (Double(a) + (Double(b) - Double(a)) * t).rounded())))
    }
    return Color(r: m(r, other.r), g: m(g, other.g), b: m(b, other.b))
  }

  // Greys used for the frame, grid and secondary text.
  static let frame = Color(r: 64, g: 64, b: 64)
  static let grid = Color(r: 230, g: 230, b: 230)
  static let text = Color(r: 26, g: 26, b: 26)
  static let missing = Color(r: 200, g: 200, b: 200)
}

/// The viridis colour map (van der Walt & Smith, 2015; CC0): perceptually uniform, readable
/// in grey scale and by colour-blind readers. 17 stops, linear interpolation between them
/// (within 1/255 of the 256-entry table).
enum Viridis {
  static let stops: [(UInt8, UInt8, UInt8)] = [
    (68, 1, 84), (72, 24, 106), (71, 45, 123), (66, 64, 134), (59, 82, 139), (51, 99, 141),
    (44, 114, 142), (38, 130, 142), (33, 145, 140), (31, 160, 136), (40, 174, 128),
    (63, 188, 115), (94, 201, 98), (132, 212, 75), (173, 220, 48), (216, 226, 25),
    (253, 231, 37),
  ]

  /// The colour at `t` in 0...1 (clamped; NaN gives the low end).
  static func color(at t: Double) -> Color {
    let u = t.isNaN ? 0 : max(0, min(1, t)) * Double(stops.count - 1)
    let i = min(Int(u), stops.count - 2)
    let f = u - Double(i)
    let a = stops[i], b = stops[i + 1]
    return Color(r: a.0, g: a.1, b: a.2).mixed(with: Color(r: b.0, g: b.1, b: b.2), f)
  }
}
