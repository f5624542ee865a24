import Foundation
import Testing
import TestSupport
@testable import TensorIO

@Suite("SafetensorsIndex: the shard files of a sharded checkpoint's index")
struct SafetensorsIndexTests {
  func shardNames(_ text: String) throws -> [String] {
    var text = text
    return try text.withUTF8 { try SafetensorsIndex.shardNames(in: UnsafeRawBufferPointer($0), file: "i.json") }
  }

  @Test("lists each shard once, in order of first appearance, whatever the metadata")
  func names() throws {
    let index = """
      {"metadata": {"total_size": 48, "note": "x.safetensors"},
       "weight_map": {"b.weight": "model-00002-of-00002.safetensors",
                      "a.weight": "model-00001-of-00002.safetensors",
                      "b.bias": "model-00002-of-00002.safetensors"}}
      """
    #expect(try shardNames(index) == ["model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors"])
  }

  @Test("two hundred thousand distinct shard names take linear time")
  func manyNames() throws {
    let entries = (0..<200_000).map { "\"t\($0)\": \"s\($0).safetensors\"" }
    let start = ContinuousClock.now
    let names = try shardNames("{\"weight_map\": {" + entries.joined(separator: ",") + "}}")
    #expect(names.count == 200_000 && names.last == "s199999.safetensors")
    #expect(ContinuousClock.now - start < .seconds(10))
  }

  @Test("no weight_map, a value that is not a file name, a path outside the folder and bad JSON are ReadErrors")
  func refusals() {
    #expect(throws: ReadError(file: "i.json", "shard index has no \"weight_map\" object of tensor names to shard files")) {
      try shardNames("{\"metadata\": {}}")
    }
    #expect(throws: ReadError(file: "i.json", "shard index maps tensor 'w' to 3, not a file name")) {
      try shardNames("{\"weight_map\": {\"w\": 3}}")
    }
    #expect(throws: ReadError(file: "i.json", "shard index maps tensor 'w' to '../x.safetensors', not a .safetensors file in the same folder")) {
      try shardNames("{\"weight_map\": {\"w\": \"../x.safetensors\"}}")
    }
    #expect(throws: ReadError(file: "i.json", "shard index is not valid JSON (unexpected end at byte 15)")) {
      try shardNames("{\"weight_map\": ")
    }
  }

  @Test("entries: each (tensor, shard file) of the weight_map in the file's order; a value that is no file name in the folder is a ReadError")
  func entries() throws {
    let scratch = TemporaryFolder("safetensors-index")
    let path = scratch.file("model.safetensors.index.json")
    try #"{"weight_map": {"b": "s2.safetensors", "a": "s1.safetensors", "c": "pytorch_model-1.bin"}}"#
      .write(toFile: path, atomically: false, encoding: .utf8)
    let listed = try SafetensorsIndex.entries(inIndex: path)
    #expect(listed.map(\.tensor) == ["b", "a", "c"])
    #expect(listed.map(\.file) == ["s2.safetensors", "s1.safetensors", "pytorch_model-1.bin"])
    #expect(listed.map(\.tensor) == (try SafetensorsIndex.tensorNames(inIndex: path)))
    try #"{"weight_map": {"w": "../x.bin"}}"#.write(toFile: path, atomically: false, encoding: .utf8)
    #expect(throws: ReadError(file: path, "shard index maps tensor 'w' to '../x.bin', not a file in the same folder")) {
      try SafetensorsIndex.entries(inIndex: path)
    }
  }
}
