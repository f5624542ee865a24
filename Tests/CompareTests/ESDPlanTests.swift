import Compare
import Foundation
import Testing

@Suite("ESD plan")
struct ESDPlanTests {
  @Test("work is Σ rf·N·M² over W and its draws (5 when M·rf < 100), as computed by hand for the bundled MLP")
  func work() throws {
    let model = try ModelWeights(path: examples + "weights_mlp.safetensors")
    // fc1 256×64, fc2 128×256, fc3 64×128, fc4 10×64 (N·M²; draws 5, 1, 5, 5).
    let plan = try model.esdPlan()
    #expect(plan.layers == 4)
    let fc1: Double = 256 * 64 * 64, fc2: Double = 256 * 128 * 128, fc3: Double = 128 * 64 * 64
    let fc4: Double = 64 * 10 * 10
    let expected: Double = 6 * (fc1 + fc3 + fc4) + 2 * fc2
    #expect(plan.work == expected)
    var options = ESDOptions()
    options.randomize = false
    let plain: Double = fc1 + fc2 + fc3 + fc4
    #expect(try model.esdPlan(options: options).work == plain)
    #expect(plan.bytesRead == 4 * (256 * 64 + 128 * 256 + 64 * 128 + 10 * 64))
    #expect(plan.largestLayer == 128 * 256)
    // The parts of a sharded run share the work out: their sum is the whole (and no part is all of it).
    let parts = try (1...3).map { try model.esdPlan(shard: ESDShard(index: $0, count: 3)).work }
    #expect(parts.reduce(0, +) == plan.work)
    #expect(parts.allSatisfy { $0 < plan.work })
    #expect(plan.estimatedSeconds > 0)
    // Counting alone times nothing; a model this small is never announced as a long run.
    #expect(try model.esdPlan(measure: false).estimatedSeconds == 0)
    #expect(try model.esdPlan(measure: false).work == plan.work)
    #expect(model.esdLongRunPlan() == nil)
    #expect(model.esdLongRunPlan(over: -1) == nil)  // below the work threshold: not even measured
  }

  @Test("the optional fits add their time: none by default, more with --alpha-ci and --pl-test, more with more resamples")
  func fitTime() throws {
    let model = try ModelWeights(path: examples + "weights_mlp.safetensors")
    #expect(try model.esdPlan().fitSeconds == 0)
    var options = ESDOptions()
    options.alphaResamples = 50
    let some = try model.esdPlan(options: options).fitSeconds
    options.alphaResamples = 2000
    options.powerLawTestSamples = 2000
    let more = try model.esdPlan(options: options).fitSeconds
    #expect(some > 0 && more > 10 * some)
  }

  @Test("float64 counts near-square layers on the SVD route with its own timed rate; float32 and tall layers stay on the Gram route")
  func svdRoute() throws {
    let file = NSTemporaryDirectory() + "esd-plan-square-\(getpid()).safetensors"
    defer { try? FileManager.default.removeItem(atPath: file) }
    func values(_ count: Int, _ step: Int, _ modulus: Int) -> [Float] {
      (0..<count).map { i -> Float in
        let residue: Int = (i * step) % modulus
        return Float(residue) / Float(modulus / 2) - 1
      }
    }
    let square = values(300 * 300, 7919, 101), tall = values(600 * 300, 104_729, 97)
    try SafetensorsWriter.write([.init(key: "square.weight", shape: [300, 300], values: square),
                                 .init(key: "tall.weight", shape: [600, 300], values: tall)], to: file)
    let model = try ModelWeights(path: file)
    let plan = try model.esdPlan()
    let cube: Double = 300 * 300 * 300
    #expect(plan.svdLayers == 1)
    #expect(plan.svdWork == 2 * cube)  // W and one random draw
    #expect(plan.eigenWork == 2 * cube)  // the tall layer's eigensolver only
    #expect(plan.work == 2 * cube + 2 * 2 * cube)
    #expect(plan.secondsPerSVDUnit > 0)
    #expect(plan.text.contains("1 near-square layer counted on the float64 SVD"))
    // Control: in float32 nothing is probed, so nothing is counted on the SVD.
    var options = ESDOptions()
    options.solver = EigenvalueSolver(precision: .float32)
    let single = try model.esdPlan(options: options, measure: false)
    #expect(single.svdLayers == 0 && single.svdWork == 0 && single.eigenWork == 4 * cube)
    #expect(!single.text.contains("SVD"))
  }
}
