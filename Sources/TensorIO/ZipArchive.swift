import CZlib

/// The members of a zip archive (`.npz`, torch.save), read from its central directory, with
/// zip64 sizes and offsets as numpy and PyTorch write them.
///
/// Only what tensor files use is supported: members stored (method 0) or deflated (method 8),
/// no encryption, no multi-disk archives. Stored members are views into the mapped file;
/// deflated members are inflated into a buffer of their own, checked against their CRC-32.
///
/// Reference: PKWARE APPNOTE.TXT 6.3 (sections 4.3.7 local header, 4.3.12 central directory,
/// 4.3.14-16 zip64 end of central directory, 4.5.3 zip64 extra field).
struct ZipArchive {
  /// One member.
  struct Entry {
    var name: String
    /// 0 stored, 8 deflated.
    var method: Int
    var compressedSize: Int
    var uncompressedSize: Int
    var crc32: UInt32
    /// Offset of the member's local header.
    var headerOffset: Int
    /// General-purpose flags; bit 0 is encryption.
    var flags: Int
  }

  let file: String
  let storage: TensorStorage
  let entries: [Entry]

  /// Reads the central directory of the zip bytes `storage.bytes`.
  /// - Throws: `ReadError` when there is no end-of-central-directory record, a record
  ///   points outside the file, or two members' bytes overlap.
  init(file: String, storage: TensorStorage) throws {
    self.file = file
    self.storage = storage
    let bytes = storage.bytes
    let size = bytes.count
    func fail(_ problem: String) -> ReadError { ReadError(file: file, "is not a readable zip archive (\(problem))") }
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
    func int64(_ at: Int, _ what: String) throws -> Int {
      let value = u64(at)
      guard value <= UInt64(Int.max) else { throw fail("\(what) \(value) is too large") }
      return Int(value)
    }

    // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
    guard size >= 22 else { throw fail("\(size) bytes, too short") }
    var end = -1
    var at = size - 22
    let lowest = max(0, size - 22 - 65535)
    while at >= lowest {
      if bytes[at] == 0x50, bytes[at + 1] == 0x4B, bytes[at + 2] == 0x05, bytes[at + 3] == 0x06 {
        end = at
        break
      }
      at -= 1
    }
    guard end >= 0 else { throw fail("no end of central directory; the file may be truncated") }
    var count = u16(end + 10)
    var directorySize = u32(end + 12)
    var directoryOffset = u32(end + 16)
    guard u16(end + 4) == 0 || u16(end + 4) == 0xFFFF else { throw fail("multi-disk archives are not supported") }

    // zip64: a locator just before the end record points to the zip64 end record.
    if end >= 20, u32(end - 20) == 0x0706_4B50 {
      let recordOffset = try int64(end - 12, "zip64 record offset")
      guard recordOffset <= size - 56, u32(recordOffset) == 0x0606_4B50 else {
        throw fail("zip64 end record points past the end")
      }
      count = try int64(recordOffset + 32, "entry count")
      directorySize = try int64(recordOffset + 40, "directory size")
      directoryOffset = try int64(recordOffset + 48, "directory offset")
    }
    guard directoryOffset <= size, directorySize <= size - directoryOffset else {
      throw fail("central directory at \(directoryOffset) (+\(directorySize)) points past the end (\(size) bytes)")
    }
    // Each central header is at least 46 bytes: a count beyond that is a lie, not an allocation.
    guard count <= directorySize / 46 else { throw fail("\(count) members cannot fit in the directory") }

    var entries: [Entry] = []
    entries.reserveCapacity(count)
    var p = directoryOffset
    let directoryEnd = directoryOffset + directorySize
    for index in 0..<count {
      guard p + 46 <= directoryEnd, u32(p) == 0x0201_4B50 else {
        throw fail("central directory entry \(index) is malformed")
      }
      let flags = u16(p + 8)
      let method = u16(p + 10)
      let crc = UInt32(u32(p + 16))
      var compressed = u32(p + 20)
      var uncompressed = u32(p + 24)
      let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
      var offset = u32(p + 42)
      let nameStart = p + 46
      let extraStart = nameStart + nameLength
      let next = extraStart + extraLength + commentLength
      guard next <= directoryEnd else { throw fail("central directory entry \(index) is truncated") }
      let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<extraStart]), as: UTF8.self)
      // zip64 extra field (id 1): the 8-byte values, in this order, of those fields set to 0xFFFFFFFF.
      var e = extraStart
      while e + 4 <= extraStart + extraLength {
        let id = u16(e), length = u16(e + 2)
        let dataEnd = e + 4 + length
        guard dataEnd <= extraStart + extraLength else { break }
        if id == 1 {
          var q = e + 4
          if uncompressed == 0xFFFF_FFFF, q + 8 <= dataEnd {
            uncompressed = try int64(q, "member size"); q += 8
          }
          if compressed == 0xFFFF_FFFF, q + 8 <= dataEnd {
            compressed = try int64(q, "member size"); q += 8
          }
          if offset == 0xFFFF_FFFF, q + 8 <= dataEnd {
            offset = try int64(q, "member offset"); q += 8
          }
        }
        e = dataEnd
      }
      entries.append(Entry(name: name, method: method, compressedSize: compressed,
                           uncompressedSize: uncompressed, crc32: crc, headerOffset: offset, flags: flags))
      p = next
    }
    // Members whose bytes overlap (many directory entries naming one deflated member) would
    // each be inflated into a buffer of their own: memory growing with the entry count times
    // the member's inflated size, not with the file. Zip writers never overlap members.
    var spans: [(range: Range<Int>, name: String)] = []
    for entry in entries {
      let h = entry.headerOffset
      guard h <= size - 30, u32(h) == 0x0403_4B50 else { continue }  // reported when read
      let start = h + 30 + u16(h + 26) + u16(h + 28)
      guard start <= size, entry.compressedSize <= size - start else { continue }
      spans.append((h..<(start + entry.compressedSize), entry.name))
    }
    spans.sort { $0.range.lowerBound < $1.range.lowerBound }
    for (a, b) in zip(spans, spans.dropFirst()) where b.range.lowerBound < a.range.upperBound {
      throw fail("members '\(a.name.prefix(80))' and '\(b.name.prefix(80))' overlap at bytes \(a.range.lowerBound)..<\(a.range.upperBound) and \(b.range.lowerBound)..<\(b.range.upperBound)")
    }
    self.entries = entries
  }

  /// The member's bytes: a view into the file when stored, an inflated buffer when deflated.
  /// - Throws: `ReadError` naming the member when it points outside the file, is encrypted,
  ///   uses another compression method, or does not inflate to its recorded size and CRC.
  func contents(of entry: Entry) throws -> TensorStorage {
    let bytes = storage.bytes
    let size = bytes.count
    func fail(_ problem: String) -> ReadError { ReadError(file: file, "member '\(entry.name)' \(problem)") }
    guard entry.flags & 1 == 0 else { throw fail("is encrypted") }
    let h = entry.headerOffset
    guard h <= size - 30, bytes[h] == 0x50, bytes[h + 1] == 0x4B, bytes[h + 2] == 0x03, bytes[h + 3] == 0x04
    else { throw fail("has no local header at offset \(h) (the file may be truncated or corrupt)") }
    let nameLength = Int(bytes[h + 26]) | Int(bytes[h + 27]) << 8
    let extraLength = Int(bytes[h + 28]) | Int(bytes[h + 29]) << 8
    let start = h + 30 + nameLength + extraLength
    guard start <= size, entry.compressedSize <= size - start else {
      throw fail("is truncated (needs \(entry.compressedSize) bytes at offset \(start), file has \(size))")
    }
    let range = start..<(start + entry.compressedSize)
    switch entry.method {
    case 0:
      guard entry.compressedSize == entry.uncompressedSize else {
        throw fail("is stored with inconsistent sizes (\(entry.compressedSize) and \(entry.uncompressedSize))")
      }
      return TensorStorage(storage, range: range)
    case 8:
      // Deflate expands at most ~1032:1; a larger claimed size is corrupt, not a reason to allocate.
      guard entry.uncompressedSize <= entry.compressedSize * 1032 + 1024 else {
        throw fail("claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed bytes (corrupt)")
      }
      return try TensorStorage(count: entry.uncompressedSize) { out in
        try inflate(UnsafeRawBufferPointer(rebasing: bytes[range]), into: out, entry: entry)
      }
    default:
      throw fail("uses compression method \(entry.method) (only stored and deflated are supported)")
    }
  }

  /// Inflates raw deflate data (window bits -15) into exactly `out.count` bytes and checks the CRC.
  private func inflate(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                       entry: Entry) throws {
    func fail(_ problem: String) -> ReadError { ReadError(file: file, "member '\(entry.name)' is corrupt (\(problem))") }
    var stream = z_stream()
    guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw fail("zlib could not start")
    }
    defer { inflateEnd(&stream) }
    var produced = 0
    var consumed = 0
    var status: Int32 = Z_OK
    // zlib counts in UInt32: feed and drain in chunks of at most 1 GiB.
    let chunk = 1 << 30
    var scratch: UInt8 = 0
    repeat {
      let inputCount = min(chunk, source.count - consumed)
      stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress.map {
        ($0 + consumed).assumingMemoryBound(to: UInt8.self)
      })
      stream.avail_in = UInt32(inputCount)
      let outputCount = min(chunk, out.count - produced)
      if outputCount > 0 {
        stream.next_out = (out.baseAddress! + produced).assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(outputCount)
      } else {
        // Room for one byte: a stream that wants to produce more than recorded is caught below.
        withUnsafeMutablePointer(to: &scratch) { stream.next_out = $0 }
        stream.avail_out = 1
      }
      status = CZlib.inflate(&stream, Z_NO_FLUSH)
      let usedIn = inputCount - Int(stream.avail_in)
      let madeOut = (outputCount > 0 ? outputCount : 1) - Int(stream.avail_out)
      consumed += usedIn
      if outputCount > 0 {
        produced += madeOut
      } else if madeOut > 0 {
        throw fail("inflates to more than the recorded \(out.count) bytes")
      }
      if status == Z_STREAM_END { break }
      guard status == Z_OK || status == Z_BUF_ERROR else {
        let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
        throw fail(message)
      }
      if usedIn == 0 && madeOut == 0 {
        throw fail(consumed >= source.count ? "data ends early" : "inflate made no progress")
      }
    } while true
    guard produced == out.count else {
      throw fail("inflates to \(produced) bytes, the directory records \(out.count)")
    }
    let crc = out.count == 0 ? 0 : crc32Checksum(UnsafeRawBufferPointer(out))
    guard UInt32(crc) == entry.crc32 else {
      throw fail("CRC-32 mismatch")
    }
  }

  /// zlib's CRC-32 over a buffer of any size.
  private func crc32Checksum(_ bytes: UnsafeRawBufferPointer) -> UInt {
    var crc: UInt = 0
    var offset = 0
    let chunk = 1 << 30
    while offset < bytes.count {
      let n = min(chunk, bytes.count - offset)
      crc = CZlib.crc32(crc, (bytes.baseAddress! + offset).assumingMemoryBound(to: UInt8.self), UInt32(n))
      offset += n
    }
    return crc
  }
}
