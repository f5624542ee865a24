import CKA
import CompareCore
import Testing

/// Minibatch CKA with `permutations` shuffles, over consecutive batches of `batch`.
func permutedCKA(_ a: [Matrix<Double>], _ b: [Matrix<Double>], batch: Int, permutations: Int,
                 seed: UInt64) throws -> (matrix: SimilarityMatrix, null: [Matrix<Double>]) {
  var cka = try MinibatchCKA(layersA: a.indices.map(String.init), layersB: b.indices.map(String.init),
                             permutations: permutations, seed: seed)
  var start = 0
  while start + batch <= a[0].rows {
    try cka.accumulate(batchA: Matrix.slice(a, start..<start + batch), batchB: Matrix.slice(b, start..<start + batch))
    start += batch
  }
  return (try cka.result(), cka.permutedSimilarities())
}

/// The permutation null of `MinibatchCKA` against the formula on permuted Gram matrices, and the
/// p-values' behaviour under independence and under rotation.
@Suite("CKA permutation test")
struct PermutationTests {
  @Test("each permuted θ equals HSIC₁ of K and the permuted L (PLPᵀ), with the documented shuffles")
  func matchesNaiveReference() throws {
    let n = 12, batches = 3, permutations = 5, seed: UInt64 = 11
    let a = [activations(examples: n * batches, features: 4, seed: 31), activations(examples: n * batches, features: 7, seed: 32)]
    let b = [activations(examples: n * batches, features: 3, seed: 33), activations(examples: n * batches, features: 5, seed: 34),
             activations(examples: n * batches, features: 6, seed: 35)]
    let (matrix, null) = try permutedCKA(a, b, batch: n, permutations: permutations, seed: seed)
    #expect(null.count == permutations)
    // The reference: the same shuffles (per batch, in order, Fisher–Yates on Int32 0..<n).
    var rng = SplitMix64(seed: seed)
    var cross = [[Double]](repeating: [Double](repeating: 0, count: a.count * b.count), count: permutations)
    for t in 0..<batches {
      let rows = (t * n)..<((t + 1) * n)
      let ks = a.map { $0.rows(rows).gram() }, ls = b.map { $0.rows(rows).gram() }
      for p in 0..<permutations {
        var order = (0..<n).map(Int32.init)
        order.withUnsafeMutableBufferPointer { rng.shuffle($0) }
        for (k, kk) in ks.enumerated() {
          for (l, ll) in ls.enumerated() {
            let permuted = Matrix<Double>(rows: n, columns: n) { i, j in ll[Int(order[i]), Int(order[j])] }
            cross[p][k * b.count + l] += try HSIC.unbiased(kk, permuted)
          }
        }
      }
    }
    for p in 0..<permutations {
      for k in 0..<a.count {
        for l in 0..<b.count {
          let expected = cross[p][k * b.count + l] / (matrix.hsicA[k] * matrix.hsicB[l]).squareRoot()
          // The shuffles' gathers and block products run in float32 (sums in float64): the
          // null agrees to ~1e-9 here; 1e-7 is far below a null's spread (≥ 1e-3 in practice).
          #expect(null[p][k, l].isClose(to: expected, tolerance: 1e-7), "permutation \(p), cell \(k), \(l)")
        }
      }
    }
    // Negative control: another seed shuffles otherwise.
    let other = try permutedCKA(a, b, batch: n, permutations: permutations, seed: seed + 1).null
    #expect(abs(other[0][0, 0] - null[0][0, 0]) > 1e-6)
    // The unpermuted estimate is unchanged by asking for permutations.
    #expect(matrix == (try minibatchCKA(a, b, batch: n)))
  }

  /// Kolmogorov–Smirnov distance between the values and the uniform distribution on [0, 1].
  static func ksDistance(_ values: [Double]) -> Double {
    let sorted = values.sorted(), m = Double(values.count)
    return sorted.enumerated().map { i, v in max(Double(i + 1) / m - v, v - Double(i) / m) }.max() ?? 0
  }

  @Test("under independence the p-values of many cells are close to uniform (KS at a fixed seed); under dependence they are not")
  func uniformUnderIndependence() throws {
    let n = 48, layers = 12
    let a = (0..<layers).map { activations(examples: n, features: 4, seed: 100 + UInt64($0)) }
    let b = (0..<layers).map { activations(examples: n, features: 3, seed: 200 + UInt64($0)) }
    let (matrix, null) = try permutedCKA(a, b, batch: 12, permutations: 99, seed: 5)
    let p = CKAUncertainty.permutationTest(matrix.values, null: null).p.elements
    let d = Self.ksDistance(p)
    // 144 cells: the 1 % critical value of the KS distance is 1.63/√144 = 0.136.
    #expect(d < 0.136, "KS distance \(d)")
    // Negative control: layers that share one latent give small p-values, far from uniform.
    let shared = activations(examples: n, features: 4, seed: 300)
    let relatedA = a.map { shared.adding($0, scaledBy: 0.7) }
    let relatedB = (0..<layers).map { shared.adding(activations(examples: n, features: 4, seed: 400 + UInt64($0)), scaledBy: 0.7) }
    let (dependent, dependentNull) = try permutedCKA(relatedA, relatedB, batch: 12, permutations: 99, seed: 5)
    let q = CKAUncertainty.permutationTest(dependent.values, null: dependentNull).p.elements
    #expect(Self.ksDistance(q) > 0.136)
  }

  @Test("for Y = X rotated every p-value is 1/(P+1); for an unrelated Y it is not")
  func rotation() throws {
    var rng = SplitMix64(seed: 41)
    let x = activations(examples: 60, features: 6, seed: 42)
    let q = Matrix<Double>.randomOrthogonal(size: 6, using: &rng)
    let (matrix, null) = try permutedCKA([x], [x.multiplied(by: q)], batch: 20, permutations: 50, seed: 1)
    #expect(matrix[0, 0].isClose(to: 1, tolerance: 1e-10))
    let test = CKAUncertainty.permutationTest(matrix.values, null: null)
    #expect(test.p[0, 0] == 1.0 / 51)
    #expect(test.mean[0, 0] < 0.5 && test.std[0, 0] > 0)
    let y = activations(examples: 60, features: 6, seed: 43)
    let (unrelated, unrelatedNull) = try permutedCKA([x], [y], batch: 20, permutations: 50, seed: 1)
    #expect(CKAUncertainty.permutationTest(unrelated.values, null: unrelatedNull).p[0, 0] > 1.0 / 51)
  }

  @Test("through the estimator: p-values, the null's moments and Benjamini–Hochberg")
  func estimator() throws {
    let result = try BatchHSICTests.estimate(batch: 8, statistics: CKAStatistics(permutations: 30, fdr: true))
    let u = result.uncertainty
    #expect(u.permutations == 30)
    let p = try #require(u.pValue), adjusted = try #require(u.pAdjusted)
    for e in p.elements.indices {
      #expect(p.elements[e] >= 1.0 / 31 && p.elements[e] <= 1)
      #expect(adjusted.elements[e] >= p.elements[e])
    }
    #expect(u.nullMean != nil && u.nullStd != nil)
    #expect(throws: InputError.self) {
      try CKAEstimator.full.similarities(
        RepresentationArrays(name: "A", layerNames: ["x"], layers: [activations(examples: 20, features: 3, seed: 1)]),
        RepresentationArrays(name: "B", layerNames: ["y"], layers: [activations(examples: 20, features: 3, seed: 2)]),
        statistics: CKAStatistics(permutations: 10))
    }
  }
}

@Suite("CKAUncertainty")
struct CKAUncertaintyTests {
  @Test("Benjamini–Hochberg matches the step-up values worked by hand; NaN cells are left out")
  func benjaminiHochberg() {
    let p = Matrix<Double>([[0.01, 0.04], [0.03, 0.2], [.nan, 0.5]])
    let adjusted = CKAUncertainty.benjaminiHochberg(p)
    // m = 5: sorted 0.01, 0.03, 0.04, 0.2, 0.5 → m·p/rank 0.05, 0.075, 0.0667, 0.25, 0.5, then
    // the running minimum from the top.
    let expected = [0.05, 0.2 / 3, 0.2 / 3, 0.25, .nan, 0.5]
    for (value, want) in zip(adjusted.elements, expected) {
      #expect(want.isNaN ? value.isNaN : value.isClose(to: want, tolerance: 1e-15))
    }
    #expect(adjusted.elements[0] != p.elements[0])  // negative control: it did adjust
  }

  @Test("p = (1 + #{θ_π ≥ θ}) / (1 + P), with the null's mean and sample standard deviation")
  func permutationTest() {
    let theta = Matrix<Double>([[0.5, .nan]])
    let null = [0.1, 0.6, 0.5, 0.2].map { Matrix<Double>([[$0, 0.3]]) }
    let test = CKAUncertainty.permutationTest(theta, null: null)
    #expect(test.p[0, 0] == 3.0 / 5)
    #expect(test.mean[0, 0].isClose(to: 0.35, tolerance: 1e-15))
    #expect(test.std[0, 0].isClose(to: (0.17 / 3).squareRoot(), tolerance: 1e-14))
    #expect(test.p[0, 1].isNaN)
  }

  @Test("a permuted θ within 1e-6 below θ is a tie (the null runs in float32); further below it is not")
  func ties() {
    let theta = Matrix<Double>([[0.5]])
    let p = { (value: Double) in CKAUncertainty.permutationTest(theta, null: [Matrix([[value]])]).p[0, 0] }
    #expect(p(0.5 - 1e-7) == 1)
    #expect(p(0.5 - 1e-5) == 0.5)  // control
  }

  /// On 4 examples the U-centred matrices span 2 dimensions, on which the 24 orders act as the
  /// 6 symmetries of a triangle: for generic (Gaussian) data 4 orders leave Ũ unchanged, so
  /// θ_π = θ = 1 for a sixth of the shuffles.
  @Test("on 4-example batches the p-value counts the shuffles that leave θ unchanged: about 1/6, not 1/(P+1)")
  func tinyBatchTies() throws {
    var rng = SplitMix64(seed: 41)
    let x = Matrix<Double>.gaussian(rows: 4, columns: 6, using: &rng)
    let (matrix, null) = try permutedCKA([x], [x], batch: 4, permutations: 600, seed: 3)
    let test = CKAUncertainty.permutationTest(matrix.values, null: null)
    #expect(abs(test.p[0, 0] - 1.0 / 6) < 0.05)
    // Control: most tied values land below θ (float32), so an exact comparison misses them.
    let tied = null.filter { $0[0, 0] >= matrix.values[0, 0] - CKAUncertainty.tieTolerance }.count
    #expect(null.filter { $0[0, 0] >= matrix.values[0, 0] }.count < tied / 2)
  }
}
