import CompareCore
import Testing
@testable import EnsembleKernel

@Suite("Kernel plan")
struct KernelPlanTests {
  @Test("the plan's slabs and chunks are the ones the run makes, in memory and streamed", arguments: [1 << 30, 150_000, 60_000])
  func planMatchesRun(memory: Int) throws {
    let test = try syntheticLogits(models: 12, examples: 150, classes: 5, seed: 1)
    let train = try syntheticLogits(models: 12, examples: 400, classes: 5, seed: 2)
    let options = CorrelationKernel.Options(memoryLimit: memory, blockBytes: 64 << 10, readBytes: 16 << 10)
    let kernel = try CorrelationKernel(test: test, train: train, options: options)
    let plan = kernel.plan()
    var lastTotal = 0, blocks = 0
    try kernel.forEachBlock(progress: { _, total in lastTotal = total }) { _, _ in blocks += 1 }
    #expect(plan.flops == 2 * 150 * 400 * 60)
    #expect(plan.inCore == (memory == 1 << 30))
    if plan.inCore {
      #expect(plan.testPasses == 1 && plan.trainPasses == 1)
    } else {
      // Progress counts 2·models reads, then one unit per slab and chunk.
      #expect(lastTotal == 2 * 12 + plan.slabs * plan.chunks)
      #expect(blocks == plan.slabs)
      #expect(plan.trainPasses == 1 + plan.slabs)
      #expect(plan.memoryBytes <= memory + 64 << 10)
    }
  }
}
