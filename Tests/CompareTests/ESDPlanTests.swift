import Compare
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
}
