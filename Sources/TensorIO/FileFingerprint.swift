import CompareCore
import CZlib

/// A cheap fingerprint of a file's content: its size and a CRC-32 over sampled blocks.
///
/// The CRC (zlib's `crc32`) runs over the first and last 64 KiB and 16 evenly spaced 4 KiB
/// blocks, in that order (a file under 64 KiB is read whole, twice). Two copies of one file on
/// two machines, under any path, have the same fingerprint; two files with other content
/// almost surely not: a weight file's header and tensor table sit in its first or last 64 KiB,
/// and two trained models differ in nearly every block. A change confined to a few weights can
/// go unseen: this tells which model a part came from, it is no checksum of the data.
///
/// - Complexity: O(1) in the file's size: at most 192 KiB read, whatever the file.
public struct FileFingerprint: Sendable, Equatable, CustomStringConvertible {
  /// The file's size in bytes.
  public var bytes: Int
  /// The CRC-32 of the sampled blocks.
  public var crc32: UInt32

  /// How the fingerprint is taken, as a part of a sharded ESD run records it: a reader
  /// compares fingerprints only when this agrees.
  public static let method = "size and CRC-32 of the first and last 64 KiB and 16 evenly spaced 4 KiB blocks"

  static let endBlock = 64 << 10, innerBlock = 4 << 10, innerBlocks = 16

  public init(bytes: Int, crc32: UInt32) {
    self.bytes = bytes
    self.crc32 = crc32
  }

  /// The fingerprint of the file at `path`.
  /// - Throws: `ReadError` naming the file when it is missing, not a regular file or unreadable.
  public init(of path: String) throws {
    let file = try MappedFile(path: path)
    self.init(of: file.bytes)
  }

  /// The fingerprint of a file's bytes (see the type's summary for the blocks).
  public init(of content: UnsafeRawBufferPointer) {
    let size = content.count
    var ranges = [0..<min(Self.endBlock, size), max(0, size - Self.endBlock)..<size]
    if size > Self.innerBlock {
      // Offsets i·(size − 4 KiB)/17 for i = 1…16: evenly spaced, each block inside the file.
      let span = size - Self.innerBlock
      ranges += (1...Self.innerBlocks).map { i in
        let start = span / (Self.innerBlocks + 1) * i + span % (Self.innerBlocks + 1) * i / (Self.innerBlocks + 1)
        return start..<(start + Self.innerBlock)
      }
    }
    var crc: UInt = CZlib.crc32(0, nil, 0)
    for range in ranges where !range.isEmpty {
      crc = CZlib.crc32(crc, (content.baseAddress! + range.lowerBound).assumingMemoryBound(to: UInt8.self),
                        UInt32(range.count))
    }
    self.init(bytes: size, crc32: UInt32(truncatingIfNeeded: crc))
  }

  /// The CRC as 8 lowercase hex digits, as `--json` writes it.
  public var crc32Hex: String {
    let digits = String(crc32, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }

  public var description: String { "\(bytes) bytes, CRC-32 \(crc32Hex)" }
}
