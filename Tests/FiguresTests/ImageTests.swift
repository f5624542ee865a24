import Foundation
import Testing
@testable import Figures

@Suite("RGBImage")
struct RGBImageTests {
  @Test("grayscale is min-max normalised to 0...255")
  func grayscale() {
    let image = RGBImage(grayscale: [2, 4, 6, 3], width: 2, height: 2)
    #expect(image.pixels == [0, 0, 0, 128, 128, 128, 255, 255, 255, 64, 64, 64])
    #expect(RGBImage(grayscale: [5, 5], width: 2, height: 1).pixels == [0, 0, 0, 0, 0, 0])
    #expect(RGBImage(grayscale: [.nan, 1, 0], width: 3, height: 1).pixels == [0, 0, 0, 255, 255, 255, 0, 0, 0])
    #expect(RGBImage(grayscale: [1], width: 2, height: 2).pixels.count == 12)
  }

  @Test("scaled(by:) repeats each pixel factor × factor times")
  func scaled() {
    let image = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6]).scaled(by: 2)
    #expect(image.width == 4 && image.height == 2)
    #expect(image.pixels == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    #expect(RGBImage(width: 1, height: 1, pixels: [9, 9, 9]).scaled(by: 0).width == 1)
  }

  @Test("a pixel buffer of the wrong length is padded or cut")
  func bufferLength() {
    #expect(RGBImage(width: 1, height: 2, pixels: [1, 2]).pixels == [1, 2, 0, 0, 0, 0])
    #expect(RGBImage(width: 1, height: 1, pixels: [1, 2, 3, 4]).pixels == [1, 2, 3])
    #expect(RGBImage(width: -1, height: 2, pixels: [1]).pixels.isEmpty)
  }
}

@Suite("ImageGrid")
struct ImageGridTests {
  @Test("every image appears at full size, with its caption and row label")
  func contents() {
    let red = RGBImage(width: 30, height: 20, pixels: [UInt8](repeating: 0, count: 1800).enumerated()
                         .map { $0.offset % 3 == 0 ? 255 : 0 })
    var grid = ImageGrid(title: "Nearest training images")
    grid.addRow([(red, "test"), (red, "d=0.12")], label: "test #3")
    grid.addRow([(RGBImage(grayscale: Array(0..<784).map(Double.init), width: 28, height: 28).scaled(by: 2), "x")],
                label: "row 2")
    let image = grid.raster()
    var reds = 0
    for y in 0..<image.height {
      for x in 0..<image.width where image.color(x, y) == Color(r: 255, g: 0, b: 0) { reds += 1 }
    }
    #expect(reds == 2 * 30 * 20)
    #expect(DecodedPNG(grid.png()).pixels == image.pixels)
    let svg = grid.svg()
    #expect(svgStructureProblem(svg) == nil)
    for text in ["Nearest training images", "test", "d=0.12", "test #3", "row 2"] {
      #expect(svg.contains(">\(text)</text>"))
    }
    #expect(svg.components(separatedBy: "data:image/png;base64,").count == 4)
  }

  @Test("an empty grid and empty rows render")
  func empty() {
    var grid = ImageGrid(title: "")
    #expect(DecodedPNG(grid.png()).pixels != nil)
    grid.addRow([], label: "nothing")
    grid.addRow([(RGBImage(width: 0, height: 0, pixels: []), "")], label: "")
    #expect(DecodedPNG(grid.png()).pixels != nil)
  }
}

@Suite("Base64")
struct Base64Tests {
  @Test("matches RFC 4648 test vectors")
  func vectors() {
    let cases = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
                 "foobar": "Zm9vYmFy"]
    for (plain, encoded) in cases { #expect(Base64.encode(Array(plain.utf8)) == encoded) }
  }
}

@Suite("BitmapFont")
struct BitmapFontTests {
  @Test("covers printable ASCII; other characters draw as ?")
  func coverage() {
    let font = BitmapFont.small
    #expect(font.width(of: "ab") == font.glyph("a").advance + font.glyph("b").advance)
    #expect(font.width(of: "é") == font.width(of: "?"))
    #expect(font.width(of: "a…") == font.width(of: "a..."))
    for c in 33...126 { #expect(font.glyph(Unicode.Scalar(UInt8(c))).width > 0) }
  }

  @Test("text is drawn in ink where it is placed, vertical text turned a quarter")
  func drawing() {
    var r = RasterRenderer(width: 60, height: 60)
    r.text("M", at: Point(x: 10, y: 20), style: .medium)
    var ink: [(Int, Int)] = []
    for y in 0..<60 { for x in 0..<60 where r.canvas.color(x, y).r < 128 { ink.append((x, y)) } }
    #expect(!ink.isEmpty && ink.allSatisfy { $0.0 >= 10 && $0.0 < 24 && $0.1 < 20 && $0.1 >= 5 })
    var v = RasterRenderer(width: 60, height: 60)
    v.text("M", at: Point(x: 20, y: 40), style: .medium, vertical: true)
    var vink: [(Int, Int)] = []
    for y in 0..<60 { for x in 0..<60 where v.canvas.color(x, y).r < 128 { vink.append((x, y)) } }
    #expect(!vink.isEmpty && vink.allSatisfy { $0.0 < 20 && $0.0 >= 5 && $0.1 < 40 && $0.1 >= 26 })
  }
}
