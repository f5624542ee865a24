import Testing
import TestSupport
import CompareCore
@testable import TensorIO

@Suite("SafetensorsWriter")
struct SafetensorsWriterTests {
  let scratch = TemporaryFolder("safetensors-writer")

  @Test("what it writes reads back: keys in order, dtypes, shapes, values and metadata")
  func roundTrip() throws {
    let path = scratch.file("out.safetensors")
    let entries = [
      SafetensorsWriter.Entry(key: "kernel", shape: [2, 3], values: [Float](arrayLiteral: 1, -2, 3.5, 0, .infinity, 6)),
      SafetensorsWriter.Entry(key: "ids", shape: [3], values: [Int64](arrayLiteral: 7, -1, 1 << 40)),
      SafetensorsWriter.Entry(key: "scalar", shape: [], values: [Double](arrayLiteral: 0.125)),
      SafetensorsWriter.Entry(key: "mask", dtype: .bool, shape: [2], bytes: [1, 0]),
    ]
    try SafetensorsWriter.write(entries, metadata: ["tool": "compare", "k": "5"], to: path)
    let file = try TensorFile.open(path)
    #expect(file.format == .safetensors)
    #expect(file.keys == ["kernel", "ids", "scalar", "mask"])
    #expect(file.metadata == ["tool": "compare", "k": "5"])
    #expect(try file.tensor("kernel").floats() == [1, -2, 3.5, 0, .infinity, 6])
    #expect(try file.tensor("ids").integers() == [7, -1, 1 << 40])
    #expect(try file.tensor("scalar").shape == [])
    #expect(try file.tensor("scalar").doubles() == [0.125])
    #expect(try file.tensor("mask").integers() == [1, 0])
    // The header is padded so that the data starts at a multiple of 8.
    let header = SafetensorsWriter.header(entries)
    #expect(header.count % 8 == 0)
  }

  @Test("two tensors with one key, or a tensor named __metadata__, are a ReadError and leave no file")
  func repeatedKeys() throws {
    let path = scratch.file("twice.safetensors")
    let x = SafetensorsWriter.Entry(key: "x", shape: [1], values: [Float(1)])
    #expect(throws: ReadError(file: path, "cannot be written: two tensors would be named 'x'")) {
      try SafetensorsWriter.write([x, SafetensorsWriter.Entry(key: "y", shape: [1], values: [Float(2)]), x], to: path)
    }
    #expect(throws: ReadError(file: path, "cannot be written: '__metadata__' is reserved for metadata, not a tensor name")) {
      try SafetensorsWriter.write([SafetensorsWriter.Entry(key: "__metadata__", shape: [1], values: [Float(1)])], to: path)
    }
    #expect(try scratch.listing().isEmpty)
    // Control: distinct keys are written.
    try SafetensorsWriter.write([x], to: path)
    #expect(try scratch.listing() == ["twice.safetensors"])
  }

  @Test("a file that names one tensor twice (safetensors header, .npz members) is refused, naming the key")
  func repeatedKeysRead() throws {
    // A safetensors header with "w" twice (Python's safetensors refuses it too).
    let json = Array(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#.utf8)
    var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json
    bytes += [UInt8](repeating: 0, count: 8)
    let header = scratch.file("twice.safetensors")
    try AtomicFile.write(bytes, to: header)
    #expect(throws: ReadError(file: header, "holds two tensors named 'w'")) { try TensorFile.open(header) }
    let member = NPYWriter.encode([Float(1)], shape: [1])
    let npz = scratch.file("twice.npz")
    try AtomicFile.write(NPZWriter.archive([("w.npy", member), ("v.npy", member), ("w.npy", member)]), to: npz)
    #expect(throws: ReadError(file: npz, "holds two tensors named 'w'")) { try TensorFile.open(npz) }
    // Control: the same members once each read back.
    try AtomicFile.write(NPZWriter.archive([("w.npy", member), ("v.npy", member)]), to: npz)
    #expect(try TensorFile.open(npz).keys == ["w", "v"])
  }

  @Test("a folder that does not exist is a ReadError and leaves no file")
  func unwritable() {
    let path = "/nonexistent-compare-folder/out.safetensors"
    #expect(throws: ReadError(file: path, "cannot be written: folder '/nonexistent-compare-folder' does not exist")) {
      try SafetensorsWriter.write([SafetensorsWriter.Entry(key: "x", shape: [1], values: [Float(1)])], to: path)
    }
  }
}

@Suite("JSONValue.parse")
struct JSONParsingTests {
  @Test("parses objects in key order, numbers exactly, escapes and surrogate pairs")
  func parses() throws {
    let value = try JSONValue.parse(#"{"b": [1, -2.5e-3, true, null], "a": "x\"\u00e9\ud83d\ude00", "n": 0.1}"#)
    #expect(value == .object([
      ("b", .array([.int(1), .double(-2.5e-3), .bool(true), .null])),
      ("a", .string("x\"é😀")),
      ("n", .double(0.1)),
    ]))
  }

  @Test("rejects malformed text with the offset, and nesting past the limit",
        arguments: [("{\"a\" 1}", 5), ("[1, 2", 5), ("[1] x", 4), ("\"abc", 4), ("-", 1), ("[01x]", 3)])
  func rejects(text: String, offset: Int) {
    #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(text) }
    do { _ = try JSONValue.parse(text) } catch let error as JSONValue.ParseError {
      #expect(error.offset == offset, "\(error)")
    } catch {}
    let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
    #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(deep) }
    #expect(throws: Never.self) { try JSONValue.parse(deep, maximumDepth: 101) }
  }
}
