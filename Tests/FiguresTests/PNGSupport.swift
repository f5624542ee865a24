import CZlib
@testable import Figures

/// A PNG file taken apart, for checking what the encoder wrote.
struct DecodedPNG {
  struct Chunk {
    var type: String
    var data: [UInt8]
    var storedCRC: UInt32
    var computedCRC: UInt32
  }

  var signatureIsValid = false
  var chunks: [Chunk] = []
  var width = 0, height = 0
  var bitDepth: UInt8 = 0, colorType: UInt8 = 0, compression: UInt8 = 0
  var filterMethod: UInt8 = 0, interlace: UInt8 = 0
  /// The inflated IDAT stream, nil if it does not inflate to exactly height × (1 + 3 × width).
  var scanlines: [UInt8]?

  init(_ bytes: [UInt8]) {
    signatureIsValid = bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var i = 8
    func u32(_ at: Int) -> UInt32 {
      bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
    while i + 12 <= bytes.count {
      let length = Int(u32(i))
      guard i + 12 + length <= bytes.count else { break }
      let typed = Array(bytes[(i + 4)..<(i + 8 + length)])
      let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
      chunks.append(Chunk(type: String(decoding: typed.prefix(4), as: UTF8.self),
                          data: Array(typed.dropFirst(4)), storedCRC: u32(i + 8 + length),
                          computedCRC: crc))
      i += 12 + length
    }
    if let ihdr = chunks.first, ihdr.type == "IHDR", ihdr.data.count == 13 {
      let d = ihdr.data
      width = Int(d[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
      height = Int(d[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
      (bitDepth, colorType, compression, filterMethod, interlace) = (d[8], d[9], d[10], d[11], d[12])
    }
    let idat = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
    let expected = height * (1 + 3 * width)
    // One byte of room beyond the expected size reveals a stream that is too long.
    var out = [UInt8](repeating: 0, count: expected + 1)
    var length = uLongf(out.count)
    let status = out.withUnsafeMutableBufferPointer { o in
      idat.withUnsafeBufferPointer { uncompress(o.baseAddress, &length, $0.baseAddress, uLong($0.count)) }
    }
    if status == Z_OK, Int(length) == expected { scanlines = Array(out.prefix(expected)) }
  }

  /// The pixels with the filter bytes removed, if every filter byte is 0 (None).
  var pixels: [UInt8]? {
    guard let scanlines else { return nil }
    var out: [UInt8] = []
    let stride = 1 + 3 * width
    for y in 0..<height {
      guard scanlines[y * stride] == 0 else { return nil }
      out += scanlines[(y * stride + 1)..<((y + 1) * stride)]
    }
    return out
  }
}

/// Checks that tags open and close in order and that text has no raw `<` or `&` outside
/// entities. Returns the first problem, or nil.
func svgStructureProblem(_ svg: String) -> String? {
  var stack: [String] = []
  var s = Substring(svg)
  while let open = s.firstIndex(of: "<") {
    let text = s[..<open]
    if let amp = text.firstIndex(of: "&") {
      let rest = text[amp...]
      guard ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(where: { rest.hasPrefix($0) })
      else { return "bare & in text" }
    }
    guard let close = s[open...].firstIndex(of: ">") else { return "unterminated tag" }
    let tag = s[s.index(after: open)..<close]
    if tag.contains("<") { return "< inside a tag" }
    let name = tag.split(whereSeparator: { $0 == " " || $0 == "/" || $0 == "\n" }).first.map(String.init) ?? ""
    if tag.hasPrefix("/") {
      let closing = String(tag.dropFirst())
      guard stack.popLast() == closing else { return "mismatched </\(closing)>" }
    } else if !tag.hasSuffix("/") && !tag.hasPrefix("?") && !tag.hasPrefix("!") {
      stack.append(name)
    }
    s = s[s.index(after: close)...]
  }
  return stack.isEmpty ? nil : "unclosed <\(stack.last!)>"
}

extension RGBImage {
  func color(_ x: Int, _ y: Int) -> Color {
    let i = (y * width + x) * 3
    return Color(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
  }
}
