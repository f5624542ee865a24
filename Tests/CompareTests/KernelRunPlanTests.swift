@testable import Compare
import Foundation
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

  @Test("plan throws what run throws for requests that do not fit the shapes; a request that fits is planned")
  func sameChecksAsRun() throws {
    let f = packageRoot + "Tests/Fixtures/kernel/"
    let inputs = try KernelInputs(test: [f + "test_logits.npy"], train: [f + "train_logits.npy"],
                                  testLabels: f + "test_labels.npy", trainLabels: f + "train_labels.npy")
    var requests: [KernelRequest] = [
      KernelRequest(rows: 12..<20), KernelRequest(k: 31), KernelRequest(models: 7), KernelRequest(neighborCount: 31),
      KernelRequest(sizes: [2, 7]), KernelRequest(sizes: [2, 2]),
    ]
    for sweep in [[1, 31], [3, 1, 3]] {
      var request = KernelRequest()
      request.sweep = sweep
      requests.append(request)
    }
    for request in requests {
      var runError: String?, planError: String?
      do { _ = try request.run(inputs) } catch { runError = "\(error)" }
      do { _ = try request.plan(inputs) } catch { planError = "\(error)" }
      #expect(runError != nil)
      #expect(planError == runError)
    }
    #expect(throws: InputError("-k lists 3 twice")) {
      var request = KernelRequest()
      request.sweep = [3, 1, 3]
      _ = try request.plan(inputs)
    }
    // Negative control: the last test row, the whole training set as neighbours.
    let plan = try KernelRequest(k: 30, rows: 11..<20).plan(inputs)
    #expect(plan.plan.rows == 1)
  }
}
