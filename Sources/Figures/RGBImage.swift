/// An 8-bit RGB image, row-major, three bytes per pixel.
public struct RGBImage: Sendable, Equatable {
  /// Size in pixels.
  public let width: Int
  public let height: Int
  /// `height × width × 3` bytes: R, G, B of each pixel, rows top to bottom.
  public var pixels: [UInt8]

  /// An image of the given pixels. A buffer of the wrong length is padded with black or cut
  /// to `width × height × 3` bytes; negative sizes become 0.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    self.width = max(0, width)
    self.height = max(0, height)
    let count = self.width * self.height * 3
    if pixels.count == count {
      self.pixels = pixels
    } else {
      self.pixels = Array(pixels.prefix(count))
        + [UInt8](repeating: 0, count: max(0, count - pixels.count))
    }
  }

  /// A grey image of `width × height` values (row-major), min-max normalised so the smallest
  /// finite value is black and the largest white. A constant image is black; NaN and ±∞ are
  /// black too. Missing values (a short buffer) are black.
  public init(grayscale values: [Double], width: Int, height: Int) {
    let w = max(0, width), h = max(0, height)
    let finite = values.prefix(w * h).filter(\.isFinite)
    let lo = finite.min() ?? 0, hi = finite.max() ?? 0
    var pixels = [UInt8](repeating: 0, count: w * h * 3)
    if hi > lo {
      for (i, v) in values.prefix(w * h).enumerated() where v.isFinite {
        let g = UInt8(((v - lo) / (hi - lo) * 255).rounded())
        pixels[3 * i] = g
        pixels[3 * i + 1] = g
        pixels[3 * i + 2] = g
      }
    }
    self.init(width: w, height: h, pixels: pixels)
  }

  /// The image enlarged `factor` times in each direction by repeating pixels (nearest
  /// neighbour), so small images such as 28 × 28 digits stay sharp. A factor below 1 is 1.
  public func scaled(by factor: Int) -> RGBImage {
    let f = max(1, factor)
    guard f > 1 else { return self }
    let w = width * f, h = height * f
    var out = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
      let sy = y / f
      for x in 0..<w {
        let s = (sy * width + x / f) * 3, d = (y * w + x) * 3
        out[d] = pixels[s]
        out[d + 1] = pixels[s + 1]
        out[d + 2] = pixels[s + 2]
      }
    }
    return RGBImage(width: w, height: h, pixels: out)
  }
}
