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
}
