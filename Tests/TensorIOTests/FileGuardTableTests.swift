import Foundation
import Testing
@testable import TensorIO

/// The tables behind `FileGuard`: every mapping and temporary output is recorded while it
/// lives, and its slot is given back, so the guard never silently stops. (The handlers
/// themselves are exercised on the `compare` binary in `CompareCLITests/FileGuardTests`.)
@Suite("File guard tables")
final class FileGuardTableTests {
  let folder: String

  init() throws {
    // A folder of its own per test (the UUID only names it; no data is random).
    folder = NSTemporaryDirectory() + "compare-file-guard-tables-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: folder) }

  @Test("mapping a file more times than the table has slots, one after another, guards each")
  func mappingSlotsAreReused() throws {
    let path = folder + "/w.npy"
    try NPYWriter.write([Float](repeating: 1, count: 16), shape: [16], to: path)
    // 70000 > 65536 slots: a slot that was not given back would show as an unguarded mapping.
    var unguarded = 0
    for _ in 0..<70_000 where !(try MappedFile(path: path).isGuarded) { unguarded += 1 }
    #expect(unguarded == 0)
  }

  @Test("mappings alive together each hold a slot; an empty file maps nothing to guard")
  func liveMappings() throws {
    let path = folder + "/w.npy", empty = folder + "/empty"
    try NPYWriter.write([Float](repeating: 1, count: 16), shape: [16], to: path)
    try AtomicFile.write([UInt8](), to: empty)
    let files = try (0..<1000).map { _ in try MappedFile(path: path) }
    #expect(files.filter { !$0.isGuarded }.count == 0)
    let nothing = try MappedFile(path: empty)
    #expect(!nothing.isGuarded)
  }

  @Test("many outputs written one after another all land, and leave no temporary file")
  func temporarySlotsAreReused() throws {
    // 200 > 64 temporary slots.
    for i in 0..<200 { try AtomicFile.write("\(i)\n", to: folder + "/out\(i).txt") }
    let names = try FileManager.default.contentsOfDirectory(atPath: folder)
    #expect(names.count == 200)
    #expect(!names.contains { $0.hasPrefix(".") })
    #expect(FileManager.default.contents(atPath: folder + "/out137.txt") == Data("137\n".utf8))
  }
}
