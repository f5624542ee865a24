import CKA
import CompareCore
import Testing

/// Every estimator against the float64 numpy implementation in Tests/Fixtures/cka. The Double
/// paths agree to rounding (1e-10 relative); the tolerance leaves room for summation order.
@Suite("CKA goldens")
struct GoldenTests {
  @Test("every estimator and kernel matches the float64 numpy implementation to 1e-10")
  func goldens() throws {
    let (namesA, a) = try CKAFixtures.layers("model_a")
    let (namesB, b) = try CKAFixtures.layers("model_b")
    #expect(namesA == ["layer1", "layer2", "layer10"])
    #expect(namesB == ["block1", "block2"])
    let cases = try CKAFixtures.cases()
    #expect(cases.count == 8)
    for c in cases {
      let kernel = try #require(CKAKernel(c.kernel))
      let result: SimilarityMatrix
      switch (c.estimator, kernel) {
      case ("minibatch", _):
        result = try minibatchCKA(a, b, batch: c.batchSize, keepLast: c.keepLast, kernel: kernel)
      case (_, .linear):
        result = try LinearCKA(debiased: c.estimator == "debiased").similarities(layersA: a, layersB: b)
      default:
        result = try KernelCKA(kernel: kernel, debiased: c.estimator == "debiased")
          .similarities(layersA: a, layersB: b)
      }
      let errorCKA = CKAFixtures.maxRelativeError(result.values, c.cka)
      let errorHSIC = CKAFixtures.maxRelativeError(result.hsic, c.hsic)
      #expect(errorCKA < 1e-10, "\(c.name): CKA off by \(errorCKA)")
      #expect(errorHSIC < 1e-10, "\(c.name): HSIC off by \(errorHSIC)")
      #expect(CKAFixtures.maxRelativeError(result.hsicA, c.hsicA) < 1e-10, "\(c.name)")
      #expect(CKAFixtures.maxRelativeError(result.hsicB, c.hsicB) < 1e-10, "\(c.name)")
    }
  }

  @Test("HSIC's reference formulas match numpy on fixed kernel matrices")
  func hsicFormulas() throws {
    let pair = try CKAFixtures.goldens()["hsic_pair"] as! [String: Any]
    let k = Matrix<Double>(pair["k"] as! [[Double]]), l = Matrix<Double>(pair["l"] as! [[Double]])
    let unbiased = pair["unbiased"] as! Double, biased = pair["biased"] as! Double
    #expect(try HSIC.unbiased(k, l).isClose(to: unbiased, tolerance: 1e-11))
    #expect(try HSIC.biased(k, l).isClose(to: biased, tolerance: 1e-11))
    #expect(throws: InputError.self) { try HSIC.unbiased(k.rows(0..<3).transposed().rows(0..<3), k.rows(0..<3).transposed().rows(0..<3)) }
  }

  @Test("float32 input agrees with the float64 goldens to float32 precision")
  func floatInput() throws {
    let a = try CKAFixtures.layers("model_a").matrices.map { $0.converted(to: Float.self) }
    let b = try CKAFixtures.layers("model_b").matrices.map { $0.converted(to: Float.self) }
    let golden = try CKAFixtures.cases()[0]
    let result = try floatMinibatchCKA(a, b, batch: golden.batchSize)
    let error = CKAFixtures.maxRelativeError(result.values, golden.cka)
    #expect(error < 1e-5)
    #expect(error > 0)  // it did run in float32
  }
}
