import CKA
import CompareCore
import Testing

/// The resampling statistics of `BatchHSIC` against the float64 numpy implementation in
/// Tests/Fixtures/cka (make_fixtures.py, "statistics"): the same arithmetic on the same terms,
/// so they agree to rounding (1e-9 leaves room for summation order).
@Suite("BatchHSIC")
struct BatchHSICTests {
  struct Golden {
    var batchSize: Int, batches: Int
    var terms: BatchHSIC
    var cka: [[Double]], stdError: [[Double]]
    var resamples: [[Int]], resampled: [[[Double]]], low90: [[Double]], high90: [[Double]]
  }

  static func goldens() throws -> [Golden] {
    let cases = try CKAFixtures.goldens()["statistics"] as! [[String: Any]]
    return try cases.map { c in
      let cross = (c["batch_cross"] as! [[[Double]]]).map { Matrix<Double>($0) }
      return Golden(
        batchSize: c["batch_size"] as! Int, batches: c["batches"] as! Int,
        terms: try BatchHSIC(cross: cross, selfA: c["batch_hsic_a"] as! [[Double]],
                             selfB: c["batch_hsic_b"] as! [[Double]]),
        cka: c["CKA"] as! [[Double]], stdError: c["std_error"] as! [[Double]],
        resamples: c["resamples"] as! [[Int]], resampled: c["resampled_CKA"] as! [[[Double]]],
        low90: c["ci_low_90"] as! [[Double]], high90: c["ci_high_90"] as! [[Double]])
    }
  }

  /// The estimator over the fixtures in batches of `size`, keeping the per-batch terms.
  static func estimate(batch size: Int, statistics: CKAStatistics = CKAStatistics()) throws -> CKAResult {
    let (namesA, a) = try CKAFixtures.layers("model_a")
    let (namesB, b) = try CKAFixtures.layers("model_b")
    return try CKAEstimator.minibatch(batchSize: size).similarities(
      RepresentationArrays(name: "A", layerNames: namesA, layers: a),
      RepresentationArrays(name: "B", layerNames: namesB, layers: b), statistics: statistics)
  }

  @Test("the estimator keeps numpy's per-batch HSIC terms, and their ratio of sums is the estimate")
  func batchTerms() throws {
    for golden in try Self.goldens() {
      let result = try Self.estimate(batch: golden.batchSize)
      #expect(result.batches == golden.batches)
      let cka = try MinibatchCKA.terms(of: golden.batchSize)
      #expect(cka.batches == golden.batches)
      #expect(CKAFixtures.maxRelativeError(cka.cross, golden.terms.cross) < 1e-10)
      #expect(CKAFixtures.maxRelativeError(cka.selfA, golden.terms.selfA) < 1e-10)
      #expect(CKAFixtures.maxRelativeError(cka.selfB, golden.terms.selfB) < 1e-10)
      let all = try golden.terms.similarities(weights: Array(repeating: 1, count: golden.batches))
      #expect(CKAFixtures.maxRelativeError(all, golden.cka) < 1e-12)
      #expect(CKAFixtures.maxRelativeError(result.matrix.values, golden.cka) < 1e-10)
    }
  }

  @Test("the jackknife standard errors match numpy to 1e-9, from the terms and through the estimator")
  func jackknife() throws {
    for golden in try Self.goldens() {
      let fromTerms = try #require(golden.terms.jackknifeStandardErrors())
      #expect(CKAFixtures.maxRelativeError(fromTerms, golden.stdError) < 1e-9, "batch \(golden.batchSize)")
      let fromEstimator = try #require(try Self.estimate(batch: golden.batchSize).uncertainty.standardError)
      #expect(CKAFixtures.maxRelativeError(fromEstimator, golden.stdError) < 1e-9, "batch \(golden.batchSize)")
      // Negative control: the plain standard deviation of the leave-one-out values (without
      // the jackknife's (B−1) inflation) is not what numpy computed.
      let b = Double(golden.batches)
      let deflated = Matrix<Double>(rows: fromTerms.rows, columns: fromTerms.columns) { i, j in
        fromTerms[i, j] / (b - 1).squareRoot()
      }
      #expect(CKAFixtures.maxRelativeError(deflated, golden.stdError) > 1e-3)
    }
  }

  @Test("fewer than 2 batches: no standard errors, no intervals")
  func oneBatch() throws {
    let result = try Self.estimate(batch: 40, statistics: CKAStatistics(bootstrap: 100))
    #expect(result.batches == 1)
    #expect(result.uncertainty.standardError == nil)
    #expect(result.uncertainty.intervalLow == nil)
    #expect(try Self.estimate(batch: 20).uncertainty.standardError != nil)  // control: 2 batches
  }

  @Test("resampled sums with given indices match numpy, and so do their percentiles")
  func resampledSums() throws {
    for golden in try Self.goldens() {
      var draws: [Matrix<Double>] = []
      for (indices, expected) in zip(golden.resamples, golden.resampled) {
        let value = try golden.terms.similarities(batches: indices)
        #expect(CKAFixtures.maxRelativeError(value, expected) < 1e-12)
        draws.append(value)
      }
      let (low, high) = BatchHSIC.percentiles(draws, rows: 3, columns: 2, confidence: 0.9)
      #expect(CKAFixtures.maxRelativeError(low, golden.low90) < 1e-12)
      #expect(CKAFixtures.maxRelativeError(high, golden.high90) < 1e-12)
      // Negative control: another resample is another value.
      let other = try golden.terms.similarities(batches: Array(golden.resamples[0].reversed().map { ($0 + 1) % golden.batches }))
      #expect(CKAFixtures.maxRelativeError(other, golden.resampled[0]) > 1e-6)
    }
  }

  @Test("the bootstrap is reproducible by seed, its interval contains the estimate and widens with the confidence")
  func bootstrap() throws {
    let golden = try Self.goldens()[1]
    let terms = golden.terms
    let first = try #require(terms.bootstrapIntervals(resamples: 500, confidence: 0.95, seed: 7))
    let again = try #require(terms.bootstrapIntervals(resamples: 500, confidence: 0.95, seed: 7))
    #expect(first.low == again.low && first.high == again.high)
    let other = try #require(terms.bootstrapIntervals(resamples: 500, confidence: 0.95, seed: 8))
    #expect(other.low != first.low)  // negative control: another seed, other resamples
    let narrow = try #require(terms.bootstrapIntervals(resamples: 500, confidence: 0.5, seed: 7))
    let estimate = Matrix<Double>(golden.cka)
    let se = try #require(terms.jackknifeStandardErrors())
    for e in estimate.elements.indices {
      #expect(first.low.elements[e] <= estimate.elements[e] && estimate.elements[e] <= first.high.elements[e])
      #expect(first.low.elements[e] <= narrow.low.elements[e] && narrow.high.elements[e] <= first.high.elements[e])
      // Negative control: a value ten standard errors away is outside.
      #expect(!(first.low.elements[e]...first.high.elements[e]).contains(estimate.elements[e] + 10 * se.elements[e]))
    }
    // Through the estimator: the same seed gives the same intervals.
    let statistics = CKAStatistics(bootstrap: 200, seed: 3)
    let run1 = try Self.estimate(batch: 8, statistics: statistics).uncertainty
    let run2 = try Self.estimate(batch: 8, statistics: statistics).uncertainty
    #expect(run1.intervalLow == run2.intervalLow && run1.intervalHigh == run2.intervalHigh)
    #expect(run1.confidence == 0.95 && run1.bootstrap == 200)
  }

  @Test("mismatched terms, a wrong weight count and an index outside the batches throw")
  func badInput() throws {
    let terms = try Self.goldens()[0].terms
    #expect(throws: InputError("batch index 4 is outside 0..<4")) { try terms.similarities(batches: [0, 1, 2, 4]) }
    #expect(throws: InputError("3 weights for 4 batches: one finite weight per batch is needed")) {
      try terms.similarities(weights: [1, 1, 1])
    }
    #expect(throws: InputError.self) {
      try BatchHSIC(cross: [Matrix<Double>(zeros: 2, 2)], selfA: [[1, 1, 1]], selfB: [[1, 1]])
    }
    #expect(throws: InputError("no batch of HSIC terms was given")) { try BatchHSIC(cross: [], selfA: [], selfB: []) }
    _ = try terms.similarities(batches: [3, 3, 0, 1])  // control: valid indices
  }

  @Test("quantiles interpolate between order statistics as numpy does")
  func quantiles() {
    #expect(BatchHSIC.quantile([1, 2, 3, 4], 0.5) == 2.5)
    #expect(BatchHSIC.quantile([1, 2, 3, 4], 0.25) == 1.75)
    #expect(BatchHSIC.quantile([5], 0.9) == 5)
    #expect(BatchHSIC.quantile([], 0.5).isNaN)
  }
}

extension MinibatchCKA {
  /// The per-batch terms of the fixtures in consecutive batches of `size`.
  static func terms(of size: Int) throws -> BatchHSIC {
    let (_, a) = try CKAFixtures.layers("model_a")
    let (_, b) = try CKAFixtures.layers("model_b")
    var cka = try MinibatchCKA(layersA: ["1", "2", "10"], layersB: ["1", "2"])
    var start = 0
    while start + size <= a[0].rows {
      try cka.accumulate(batchA: Matrix.slice(a, start..<start + size), batchB: Matrix.slice(b, start..<start + size))
      start += size
    }
    return cka.terms
  }
}
