@testable import Compare
import Testing

@Suite("Kernel run plan")
struct KernelRunPlanTests {
  @Test("the GEMM rate is timed on a bounded shape whatever the run's size")
  func boundedMeasurement() {
    // 20,000 models × 10 classes against 50,000 training examples: timed at the whole inner
    // dimension this would draw 6.6 GB of Gaussians; bounded, it takes a fraction of a second.
    let start = ContinuousClock.now
    let rate = KernelRequest.measureGEMM(inner: 200_000, train: 50_000)
    let elapsed = ContinuousClock.now - start
    #expect(rate.isFinite && rate > 0)
    #expect(elapsed < .seconds(30))
    // Small shapes are timed as they are.
    #expect(KernelRequest.measureGEMM(inner: 10, train: 20) > 0)
  }
}
