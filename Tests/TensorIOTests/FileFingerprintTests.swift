import Foundation
import Testing
import TestSupport
@testable import TensorIO

@Suite("FileFingerprint: size and CRC-32 of sampled blocks")
struct FileFingerprintTests {
  let scratch = TemporaryFolder("file-fingerprint")

  /// `count` bytes from a seeded generator.
  static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return UInt8(truncatingIfNeeded: state >> 56)
    }
  }

  static func fingerprint(_ bytes: [UInt8]) -> FileFingerprint {
    bytes.withUnsafeBytes { FileFingerprint(of: $0) }
  }

  @Test("a copy under another path has the same fingerprint; other content of the same size another")
  func copies() throws {
    let content = Self.bytes(300_000)
    for name in ["a.bin", "b.bin"] { try Data(content).write(to: URL(fileURLWithPath: scratch.file(name))) }
    try Data(Self.bytes(300_000, seed: 2)).write(to: URL(fileURLWithPath: scratch.file("c.bin")))
    let a = try FileFingerprint(of: scratch.file("a.bin"))
    #expect(a == (try FileFingerprint(of: scratch.file("b.bin"))))
    #expect(a == Self.fingerprint(content) && a.bytes == 300_000)
    let c = try FileFingerprint(of: scratch.file("c.bin"))
    #expect(c.bytes == a.bytes && c.crc32 != a.crc32)
  }

  @Test("a byte changed in the first or last 64 KiB or in a sampled block changes it; elsewhere not (it samples)")
  func sampledBlocks() {
    let size = 1 << 20, content = Self.bytes(size)
    let base = Self.fingerprint(content)
    // The 8th of 16 inner blocks starts at 8·(size − 4096)/17.
    let inner = 8 * (size - 4096) / 17 + 100
    for offset in [0, 65_535, size - 65_536, size - 1, inner] {
      var changed = content
      changed[offset] ^= 0xFF
      #expect(Self.fingerprint(changed) != base, "offset \(offset)")
    }
    // Negative control: a byte between sampled blocks goes unseen, as documented.
    var unseen = content
    unseen[inner + 4096 + 100] ^= 0xFF
    #expect(Self.fingerprint(unseen) == base)
  }

  @Test("an empty file and files shorter than a block are read whole")
  func smallFiles() {
    #expect(Self.fingerprint([]) == FileFingerprint(bytes: 0, crc32: 0))
    let small = Self.bytes(3000)
    var changed = small
    changed[1500] ^= 1
    #expect(Self.fingerprint(small) != Self.fingerprint(changed))
    #expect(FileFingerprint(bytes: 5, crc32: 0xAB).crc32Hex == "000000ab")
  }

  @Test("a 64 GiB (sparse) file takes no longer than a small one: the cost does not grow with the size")
  func constantCost() throws {
    let path = scratch.file("sparse.bin")
    let fd = open(path, O_CREAT | O_WRONLY, 0o600)
    #expect(fd >= 0)
    #expect(ftruncate(fd, 64 << 30) == 0)
    close(fd)
    let start = ContinuousClock.now
    let fingerprint = try FileFingerprint(of: path)
    #expect(fingerprint.bytes == 64 << 30)
    // Reading it all would take minutes; 18 blocks take milliseconds.
    #expect(ContinuousClock.now - start < .seconds(5))
  }

  @Test("a missing file or a folder is a ReadError naming it")
  func refusals() {
    #expect(throws: ReadError(file: scratch.file("none"), "no such file")) { try FileFingerprint(of: scratch.file("none")) }
    #expect(throws: ReadError(file: scratch.path, "is not a regular file")) { try FileFingerprint(of: scratch.path) }
  }
}
