import Testing
@testable import Figures

@Suite("PNGEncoder")
struct PNGEncoderTests {
  @Test("writes a valid PNG: signature, IHDR fields, chunk CRCs, IDAT size with filter bytes",
        arguments: [(1, 1), (3, 2), (17, 5), (720, 480)])
  func validStructure(width: Int, height: Int) {
    var pixels: [UInt8] = []
    for i in 0..<(width * height * 3) { pixels.append(UInt8(truncatingIfNeeded: i &* 37)) }
    let png = DecodedPNG(PNGEncoder.encode(RGBImage(width: width, height: height, pixels: pixels)))
    #expect(png.signatureIsValid)
    #expect(png.chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
    #expect(png.chunks.allSatisfy { $0.storedCRC == $0.computedCRC })
    #expect(png.width == width && png.height == height)
    #expect(png.bitDepth == 8 && png.colorType == 2)
    #expect(png.compression == 0 && png.filterMethod == 0 && png.interlace == 0)
    #expect(png.scanlines?.count == height * (1 + 3 * width))
    #expect(png.pixels == pixels)
  }

  @Test("a known 2 × 2 image decodes to exactly its pixels")
  func knownImage() {
    let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
    let png = DecodedPNG(PNGEncoder.encode(RGBImage(width: 2, height: 2, pixels: pixels)))
    #expect(png.scanlines == [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 10, 20, 30])
  }

  @Test("the checker notices a corrupted CRC and a truncated stream (negative control)")
  func corruptionIsDetected() {
    var bytes = PNGEncoder.encode(RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 7, count: 48)))
    bytes[29] ^= 1  // last byte of the IHDR CRC
    #expect(!DecodedPNG(bytes).chunks.allSatisfy { $0.storedCRC == $0.computedCRC })
    var taller = PNGEncoder.encode(RGBImage(width: 4, height: 4, pixels: [UInt8](repeating: 7, count: 48)))
    taller[23] = 5  // IHDR height 4 → 5: the stream is now one scanline short
    #expect(DecodedPNG(taller).height == 5 && DecodedPNG(taller).scanlines == nil)
  }

  @Test("an image with no pixels is written as a valid 1 × 1 PNG")
  func emptyImage() {
    let png = DecodedPNG(PNGEncoder.encode(RGBImage(width: 0, height: 3, pixels: [])))
    #expect(png.width == 1 && png.height == 1 && png.pixels == [255, 255, 255])
  }
}
