@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

@Suite("compare esd --shard and esd merge")
struct ESDShardTests {
  static let model = packageRoot + "Examples/data/weights_cnn.pt"
  let scratch = TemporaryFolder("esd-shard")
  var folder: String { scratch.path }

  func parts(_ n: Int, model: String = Self.model, extra: [String] = []) -> [String] {
    (1...n).map { i in
      let path = folder + "/\(FileSystem.baseName(model))-part-\(n)-\(i)\(extra.joined()).json"
      let run = runCompare(["esd", model, "--shard", "\(i)/\(n)", "--output", path] + extra)
      #expect(run.status == 0, "\(run.err)")
      return path
    }
  }

  @Test("the merged parts print the single run's table, JSON and CSV", arguments: [1, 2, 3, 7])
  func mergeEqualsSingleRun(n: Int) {
    let files = parts(n)
    for format in [[], ["--json"], ["--csv"]] {
      let merged = runCompare(["esd", "merge"] + files.reversed() + format)
      let single = runCompare(["esd", Self.model] + format)
      #expect(merged.status == 0)
      // The same text; long numbers equal up to BLAS threading's last digits (see GoldenOutputTests).
      #expect(GoldenOutputTests.same(merged.out, single.out))
    }
  }

  @Test("stacked experts' rows (NAME.expert.E) merge back under their tensor")
  func experts() {
    let moe = packageRoot + "Tests/Fixtures/esd/depth/moe.npy"
    let files = parts(1, model: moe)
    #expect(GoldenOutputTests.same(runCompare(["esd", "merge"] + files).out, runCompare(["esd", moe]).out))
  }

  /// The folder holds stacked experts, a conv1d kernel and a matrix: parts without the experts
  /// or the conv1d layer still state their conventions, so the merged text is the single run's.
  @Test("parts of a model with stacked experts and conv1d merge into the single run's text, conventions included",
        arguments: [2, 3])
  func mixedKinds(n: Int) {
    let folder = packageRoot + "Tests/Fixtures/esd/depth"
    let merged = runCompare(["esd", "merge"] + parts(n, model: folder))
    let single = runCompare(["esd", folder])
    #expect(merged.status == 0)
    #expect(single.out.contains("stacked experts (experts, out, in)") && single.out.contains("conv1d (out, in, k)"))
    #expect(GoldenOutputTests.same(merged.out, single.out))
  }

  @Test("layers are dealt by eigenvalue work: the parts' work is better balanced than an even split by count")
  func balanced() throws {
    let layers = try ModelWeights(path: Self.model).layers
    let part = ESDShard.assignment(of: layers, parts: 2)
    let options = ESDOptions()
    var work = [0.0, 0.0]
    for (layer, p) in zip(layers, part) { work[p] += ESDShard.weight(of: layer, options: options) }
    // Negative control: the first half of the layers against the second.
    var naive = [0.0, 0.0]
    for (i, layer) in layers.enumerated() { naive[i < layers.count / 2 ? 0 : 1] += ESDShard.weight(of: layer, options: options) }
    #expect(abs(work[0] - work[1]) < abs(naive[0] - naive[1]))
    #expect(ESDShard.assignment(of: layers, parts: 2) == part)
  }

  @Test("a layer weighs its route: in float64 a square layer (SVD) outweighs a tall one of the same N·M² several times over, in float32 not")
  func weights() {
    let square = WeightLayer(name: "square", kind: .dense, shape: [1024, 1024], load: { [] })
    let tall = WeightLayer(name: "tall", kind: .dense, shape: [4096, 512], load: { [] })
    #expect(ESDShard.cost(of: square) == ESDShard.cost(of: tall))
    var options = ESDOptions()
    let float64 = ESDShard.weight(of: square, options: options) / ESDShard.weight(of: tall, options: options)
    options.solver = EigenvalueSolver(precision: .float32)
    let float32 = ESDShard.weight(of: square, options: options) / ESDShard.weight(of: tall, options: options)
    #expect(float64 > 5 && float32 < 3)
    // Randomisation doubles a layer's decompositions (W and one draw); without it, W alone.
    options.randomize = false
    #expect(ESDShard.decompositions(of: square, options: options) == 1)
    #expect(ESDShard.decompositions(of: square, options: ESDOptions()) == 2)
  }

  @Test("a bad --shard is a usage error; merge names a missing, repeated or foreign part")
  func badParts() throws {
    for text in ["3/2", "0/0", "1/0", "x"] {
      let run = runCompare(["esd", Self.model, "--shard", text])
      #expect(run.status == 64)
      #expect(run.err.hasPrefix("Error: --shard "))
    }
    let three = parts(3)
    let missing = runCompare(["esd", "merge", three[0], three[2]])
    #expect(missing.status == 1)
    #expect(missing.err == "Error: part 2/3 is missing (given: 1, 3)\n")
    let twice = runCompare(["esd", "merge", three[0], three[1], three[2], three[1]])
    #expect(twice.err == "Error: \(three[1]): part 2/3 is also \(three[1])\n")
    let two = parts(2)
    let mixed = runCompare(["esd", "merge", three[0], two[1], three[2]])
    #expect(mixed.err == "Error: \(two[1]): part 2/2, but \(three[0]) is part 1/3\n")
    let seeded = parts(3, extra: ["--seed", "5"])
    let options = runCompare(["esd", "merge", three[0], seeded[1], three[2]])
    #expect(options.err == "Error: \(seeded[1]): made with other options or layers than \(three[0]) (its conventions or layer list differ)\n")
    let other = parts(2, model: packageRoot + "Examples/data/weights_mlp.safetensors")
    let foreign = runCompare(["esd", "merge", two[0], other[1]])
    #expect(foreign.err.hasPrefix("Error: \(other[1]): a part of "))
    let single = folder + "/single.json"
    #expect(runCompare(["esd", Self.model, "--output", single]).status == 0)
    let notPart = runCompare(["esd", "merge", single])
    #expect(notPart.err == "Error: \(single): not a part of a sharded run (write parts with compare esd MODEL --shard I/N --output FILE)\n")
  }

  @Test("parts are of one model by content: another model copied to the same path is refused, the same model by another path merges")
  func modelByContent() throws {
    let mlp = packageRoot + "Examples/data/weights_mlp.safetensors", mlpInit = packageRoot + "Examples/data/weights_mlp_init.safetensors"
    let path = folder + "/x.safetensors", fm = FileManager.default
    try fm.copyItem(atPath: mlp, toPath: path)
    let x1 = folder + "/x1.json", x2 = folder + "/x2.json"
    #expect(runCompare(["esd", path, "--shard", "1/2", "-o", x1]).status == 0)
    try fm.removeItem(atPath: path)
    try fm.copyItem(atPath: mlpInit, toPath: path)
    #expect(runCompare(["esd", path, "--shard", "2/2", "-o", x2]).status == 0)
    let a = try FileFingerprint(of: mlp).crc32Hex, b = try FileFingerprint(of: mlpInit).crc32Hex
    let refused = runCompare(["esd", "merge", x1, x2])
    #expect(refused.status == 1 && refused.out.isEmpty)
    #expect(refused.err == "Error: \(x2): a part of another model than \(x1) (x.safetensors differs: sampled CRC-32 \(b), not \(a))\n")
    // The same model given as folder/sub/../x.safetensors: another spelling, the same content.
    try fm.removeItem(atPath: path)
    try fm.copyItem(atPath: mlp, toPath: path)
    try fm.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
    #expect(runCompare(["esd", folder + "/sub/../x.safetensors", "--shard", "2/2", "-o", x2]).status == 0)
    let merged = runCompare(["esd", "merge", x1, x2])
    #expect(merged.status == 0 && merged.err.isEmpty)
    #expect(GoldenOutputTests.same(merged.out, runCompare(["esd", mlp]).out))
  }

  @Test("a row with a value of the wrong kind or without a column is refused with exit status 1, naming the part, the layer and the column")
  func malformedRows() throws {
    let two = parts(2)
    guard case .array(let rows)? = try JSONValue.parse(String(contentsOfFile: two[1], encoding: .utf8))["layers"],
          case .string(let name)? = rows.first?["name"] else {
      Issue.record("a part has rows")
      return
    }
    let text = try editingFirstRow(two[1], to: folder + "/t2.json") { $0.map { $0.0 == "alpha" ? ("alpha", .string("abc")) : $0 } }
    let run = runCompare(["esd", "merge", two[0], text])
    #expect(run.status == 1 && run.out.isEmpty)
    #expect(run.err == "Error: \(text): layer '\(name)': 'alpha' is \"abc\", not a number\n")
    let missing = try editingFirstRow(two[1], to: folder + "/m2.json") { $0.filter { $0.0 != "alpha" } }
    #expect(runCompare(["esd", "merge", two[0], missing]).err == "Error: \(missing): layer '\(name)': has no 'alpha'\n")
    // Negative control: the row's columns in reverse order merge into the same table.
    let reordered = try editingFirstRow(two[1], to: folder + "/r2.json") { $0.reversed() }
    let merged = runCompare(["esd", "merge", two[0], reordered])
    #expect(merged.status == 0 && merged.out == runCompare(["esd", "merge", two[0], two[1]]).out)
    // A part listing one row twice (a hand-edited file) is refused, naming the row.
    guard case .object(var document) = try JSONValue.parse(String(contentsOfFile: two[1], encoding: .utf8)),
          let at = document.firstIndex(where: { $0.0 == "layers" }), case .array(let rows) = document[at].1 else {
      Issue.record("\(two[1]) is a part")
      return
    }
    document[at].1 = .array(rows + [rows[0]])
    let twice = folder + "/d2.json"
    try JSONValue.object(document).serialized().write(toFile: twice, atomically: false, encoding: .utf8)
    let duplicated = runCompare(["esd", "merge", two[0], twice])
    #expect(duplicated.status == 1)
    #expect(duplicated.err.hasPrefix("Error: \(twice): row '"))
    #expect(duplicated.err.hasSuffix("' is given twice\n"))
  }

  @Test("parts run with another --init model at the same path are refused; a negative skipped_tensors is refused, not a crash")
  func initAndSkippedTensors() throws {
    let mlp = packageRoot + "Examples/data/weights_mlp.safetensors"
    let initial = folder + "/init.safetensors", p1 = folder + "/i1.json", p2 = folder + "/i2.json"
    try FileManager.default.copyItem(atPath: packageRoot + "Examples/data/weights_mlp_init.safetensors", toPath: initial)
    #expect(runCompare(["esd", mlp, "--init", initial, "--shard", "1/2", "-o", p1]).status == 0)
    // Control: the same init merges.
    #expect(runCompare(["esd", mlp, "--init", initial, "--shard", "2/2", "-o", p2]).status == 0)
    #expect(runCompare(["esd", "merge", p1, p2]).status == 0)
    // Another init (the model itself: the same shapes) at the same path.
    try FileManager.default.removeItem(atPath: initial)
    try FileManager.default.copyItem(atPath: mlp, toPath: initial)
    #expect(runCompare(["esd", mlp, "--init", initial, "--shard", "2/2", "-o", p2]).status == 0)
    let other = runCompare(["esd", "merge", p1, p2])
    #expect(other.status == 1)
    #expect(other.err.hasPrefix("Error: \(p2): run with another init model than \(p1) (init.safetensors differs"))
    // A hand-edited skipped_tensors below 0.
    guard case .object(var document) = try JSONValue.parse(String(contentsOfFile: p1, encoding: .utf8)),
          let at = document.firstIndex(where: { $0.0 == "shard" }), case .object(var shard) = document[at].1,
          let k = shard.firstIndex(where: { $0.0 == "skipped_tensors" }) else {
      Issue.record("\(p1) is a part")
      return
    }
    shard[k].1 = .int(-1)
    document[at].1 = .object(shard)
    let negative = folder + "/neg.json"
    try JSONValue.object(document).serialized().write(toFile: negative, atomically: false, encoding: .utf8)
    let refused = runCompare(["esd", "merge", negative, p2])
    #expect(refused.status == 1)
    #expect(refused.err.hasPrefix("Error: \(negative): its skipped_tensors is -1, not a count of its"))
  }

  @Test("merge -o onto one of its parts is a usage error and leaves the part as it was")
  func outputOnPart() throws {
    let files = parts(2)
    let before = try String(contentsOfFile: files[0], encoding: .utf8)
    let run = runCompare(["esd", "merge"] + files + ["-o", files[0]])
    #expect(run.status == 64)
    #expect(run.err.hasPrefix("Error: -o \(files[0]) is also an input (<parts>); choose another output path\n"))
    #expect(try String(contentsOfFile: files[0], encoding: .utf8) == before)
    // Control: another path is written.
    #expect(runCompare(["esd", "merge"] + files + ["-o", folder + "/merged.json"]).status == 0)
  }

  @Test("a part without a model fingerprint (an earlier version's) is refused with what to do")
  func oldPart() throws {
    let two = parts(2)
    var document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: two[1]))) as! [String: Any]
    var shard = document["shard"] as! [String: Any]
    shard["model_fingerprint"] = nil
    document["shard"] = shard
    let old = folder + "/old.json"
    try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: old))
    let run = runCompare(["esd", "merge", two[0], old])
    #expect(run.status == 1)
    #expect(run.err == "Error: \(old): part 2/2 has no model fingerprint (written by an earlier compare); rerun its shard to merge it\n")
  }

  @Test("a failed layer: merge warns as the single run does, and prints the same Failed line")
  func failedLayer() throws {
    let model = folder + "/npy"
    try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
    for name in ["gaussian", "bad_zeros"] {
      try FileManager.default.copyItem(atPath: ESDCommandTests.fixtures + name + ".npy", toPath: model + "/" + name + ".npy")
    }
    let merged = runCompare(["esd", "merge"] + parts(2, model: model)), single = runCompare(["esd", model])
    #expect(merged.status == 0)
    #expect(merged.err == "warning: layer 'bad_zeros': all eigenvalues are zero: entropy, alpha and the MP fit are undefined\n")
    #expect(merged.err == single.err)
    #expect(merged.out.contains("Failed: 1 layer (not averaged; the warnings on standard error and the 'reason' column of --json and --csv say why).\n"))
    #expect(GoldenOutputTests.same(merged.out, single.out))
  }
}
