import Compare
import Foundation
import Testing
import TestSupport

@Suite("ESDReport.merging: parts of one model, by content, with well-formed rows")
struct ESDReportMergingTests {
  let scratch = TemporaryFolder("esd-merging")
  static let mlp = packageRoot + "Examples/data/weights_mlp.safetensors"
  static let mlpInit = packageRoot + "Examples/data/weights_mlp_init.safetensors"

  var options: ESDOptions {
    var options = ESDOptions()
    options.randomize = false
    return options
  }

  /// Part `i` of 2 of the model at `model`, written to `name`.
  func part(_ i: Int, of model: String, to name: String) throws -> String {
    let result = try ModelWeights(path: model).esd(options: options, shard: try ESDShard(index: i, count: 2))
    try result.json().serialized(pretty: true).write(toFile: scratch.file(name), atomically: false, encoding: .utf8)
    return scratch.file(name)
  }

  @Test("one model under two spellings of its path merges into the single run's rows")
  func spellings() throws {
    let first = try part(1, of: Self.mlp, to: "p1.json")
    let second = try part(2, of: packageRoot + "Examples/../Examples/data/weights_mlp.safetensors", to: "p2.json")
    let merged = try ESDReport.merging([second, first])
    let single = try ModelWeights(path: Self.mlp).esd(options: options).report
    // The parts' rows hold every column (null where undefined), as the single run's --json does.
    #expect(merged.jsonColumns == single.jsonColumns)
    #expect(merged.rows.count == single.rows.count)
    #expect(merged.table() == single.table())
  }

  @Test("two models copied in turn to one path are refused, naming both parts and the file")
  func sameSpellingOtherModel() throws {
    let path = scratch.file("x.safetensors")
    try FileManager.default.copyItem(atPath: Self.mlp, toPath: path)
    let first = try part(1, of: path, to: "x1.json")
    try FileManager.default.removeItem(atPath: path)
    try FileManager.default.copyItem(atPath: Self.mlpInit, toPath: path)
    let second = try part(2, of: path, to: "x2.json")
    let a = try FileFingerprint(of: Self.mlp).crc32Hex, b = try FileFingerprint(of: Self.mlpInit).crc32Hex
    #expect(throws: InputError("\(second): a part of another model than \(first) (x.safetensors differs: sampled CRC-32 \(b), not \(a))")) {
      try ESDReport.merging([first, second])
    }
  }

  @Test("a row whose value is of the wrong kind or that lacks a column is refused, naming the part, the layer and the column")
  func malformedRows() throws {
    let first = try part(1, of: Self.mlp, to: "p1.json"), second = try part(2, of: Self.mlp, to: "p2.json")
    let name = try firstRowName(second)
    let text = try editingFirstRow(second, to: scratch.file("t2.json")) { $0.map { $0.0 == "alpha" ? ("alpha", .string("abc")) : $0 } }
    #expect(throws: InputError("\(text): layer '\(name)': 'alpha' is \"abc\", not a number")) {
      try ESDReport.merging([first, text])
    }
    let missing = try editingFirstRow(second, to: scratch.file("m2.json")) { $0.filter { $0.0 != "alpha" } }
    #expect(throws: InputError("\(missing): layer '\(name)': has no 'alpha'")) {
      try ESDReport.merging([first, missing])
    }
    // Negative control: the row rewritten unchanged merges.
    let same = try editingFirstRow(second, to: scratch.file("s2.json")) { $0 }
    #expect(try ESDReport.merging([first, same]).rows.count == ESDReport.merging([first, second]).rows.count)
  }

  func firstRowName(_ file: String) throws -> String {
    let document = try JSONValue.parse(String(contentsOfFile: file, encoding: .utf8))
    guard case .array(let rows)? = document["layers"], case .string(let name)? = rows.first?["name"] else { return "" }
    return name
  }

  @Test("a part written without a model fingerprint is refused with what to do")
  func oldPart() throws {
    let first = try part(1, of: Self.mlp, to: "p1.json"), second = try part(2, of: Self.mlp, to: "p2.json")
    guard case .object(var document) = try JSONValue.parse(String(contentsOfFile: second, encoding: .utf8)),
          let at = document.firstIndex(where: { $0.0 == "shard" }), case .object(let shard) = document[at].1 else {
      Issue.record("a part has a shard object")
      return
    }
    document[at].1 = .object(shard.filter { $0.0 != "model_fingerprint" })
    let old = scratch.file("old.json")
    try JSONValue.object(document).serialized().write(toFile: old, atomically: false, encoding: .utf8)
    #expect(throws: InputError("\(old): part 2/2 has no model fingerprint (written by an earlier compare); rerun its shard to merge it")) {
      try ESDReport.merging([first, old])
    }
  }

  @Test("a failed layer's warning is the single run's; the Failed line says where its reason is")
  func failedWarnings() throws {
    let folder = scratch.file("npy")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for name in ["gaussian", "bad_zeros"] {
      try FileManager.default.copyItem(atPath: packageRoot + "Tests/Fixtures/esd/\(name).npy", toPath: folder + "/\(name).npy")
    }
    let merged = try ESDReport.merging([try part(1, of: folder, to: "z1.json"), try part(2, of: folder, to: "z2.json")])
    let single = try ModelWeights(path: folder).esd(options: options)
    #expect(merged.warnings == single.warnings)
    #expect(merged.warnings == ["warning: layer 'bad_zeros': all eigenvalues are zero: entropy, alpha and the MP fit are undefined"])
    #expect(merged.summaryLines.contains("Failed: 1 layer (not averaged; the warnings on standard error and the 'reason' column of --json and --csv say why)."))
  }
}
