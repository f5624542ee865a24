@testable import CKA
import CompareCore
import Testing

/// Gaussian activations through a random ReLU map: a layer with structure and an offset.
func activations(examples: Int, features: Int, seed: UInt64, offset: Double = 0) -> Matrix<Double> {
  var rng = SplitMix64(seed: seed)
  let z = Matrix<Double>.gaussian(rows: examples, columns: 8, using: &rng)
  let w = Matrix<Double>.gaussian(rows: 8, columns: features, using: &rng)
  let noise = Matrix<Double>.gaussian(rows: examples, columns: features, using: &rng)
  let x = z.multiplied(by: w).adding(noise, scaledBy: 0.5)
  return Matrix(rows: examples, columns: features) { i, j in max(x[i, j], 0) + offset }
}

@Suite("CKA properties")
struct PropertyTests {
  static let estimators = ["minibatch", "full", "debiased"]

  func cka(_ estimator: String, _ x: Matrix<Double>, _ y: Matrix<Double>,
           batch: Int = 20) throws -> Double {
    switch estimator {
    case "minibatch": return try minibatchCKA([x], [y], batch: batch)[0, 0]
    case "full": return try LinearCKA().similarity(x, y)
    default: return try LinearCKA(debiased: true).similarity(x, y)
    }
  }

  @Test("CKA(X, X) = 1 for every estimator", arguments: estimators)
  func identity(estimator: String) throws {
    let x = activations(examples: 60, features: 7, seed: 1)
    #expect(try cka(estimator, x, x).isClose(to: 1, tolerance: 1e-12))
    let y = activations(examples: 60, features: 7, seed: 2)
    #expect(try cka(estimator, x, y) < 0.9)  // negative control: another layer is not 1
  }

  @Test("CKA is symmetric: the matrix of (B, A) is the transpose of (A, B)", arguments: estimators)
  func symmetry(estimator: String) throws {
    let x = activations(examples: 60, features: 5, seed: 3)
    let y = Matrix(rows: 60, columns: 5) { i, j in max(x[i, j] - x[i, (j + 1) % 5], 0) }
    let xy = try cka(estimator, x, y), yx = try cka(estimator, y, x)
    #expect(xy.isClose(to: yx, tolerance: 1e-12))
    #expect(xy > 0.01 && xy < 0.99)
  }

  @Test("is 1 under rotation and isotropic scaling, and not under a generic linear map",
        arguments: [(1, "minibatch"), (2, "full"), (3, "debiased")] as [(UInt64, String)])
  func invariances(seed: UInt64, estimator: String) throws {
    var rng = SplitMix64(seed: seed)
    let x = activations(examples: 80, features: 10, seed: seed + 10)
    let q = Matrix<Double>.randomOrthogonal(size: 10, using: &rng)
    let w = Matrix<Double>.gaussian(rows: 10, columns: 10, using: &rng)
    #expect(try cka(estimator, x, x.multiplied(by: q).scaled(by: 2.5)).isClose(to: 1, tolerance: 1e-10))
    #expect(try cka(estimator, x, x.multiplied(by: w)) < 0.99)
    // Translation too: HSIC ignores a constant added to the features.
    let shifted = Matrix(rows: x.rows, columns: x.columns) { i, j in x[i, j] + 100 }
    #expect(try cka(estimator, x, shifted).isClose(to: 1, tolerance: 1e-10))
  }

  @Test("one batch of all examples is the debiased full-batch value; larger batches approach it")
  func minibatchConvergesToDebiased() throws {
    let x = activations(examples: 400, features: 6, seed: 5)
    let y = Matrix(rows: 400, columns: 6) { i, j in x[i, (j + 1) % 6] * Double(j + 1) }
      .adding(activations(examples: 400, features: 6, seed: 6))
    let debiased = try LinearCKA(debiased: true).similarity(x, y)
    #expect(try minibatchCKA([x], [y], batch: 400)[0, 0].isClose(to: debiased, tolerance: 1e-12))
    let errors = try [10, 50, 200].map { abs(try minibatchCKA([x], [y], batch: $0)[0, 0] - debiased) }
    #expect(errors[2] < errors[0])
    #expect(errors[2] < 0.02)
    // Negative control: the biased full-batch value is further off than a large batch.
    #expect(abs(try LinearCKA().similarity(x, y) - debiased) > errors[2])
  }

  @Test("feature space (LinearCKA) and Gram space (KernelCKA, linear) agree",
        arguments: [false, true])
  func featureAndGramSpaceAgree(debiased: Bool) throws {
    let a = [activations(examples: 30, features: 4, seed: 7), activations(examples: 30, features: 50, seed: 8)]
    let b = [activations(examples: 30, features: 9, seed: 9)]
    let feature = try LinearCKA(debiased: debiased).similarities(layersA: a, layersB: b)
    let gram = try KernelCKA(kernel: .linear, debiased: debiased).similarities(layersA: a, layersB: b)
    for i in 0..<2 {
      #expect(feature[i, 0].isClose(to: gram[i, 0], tolerance: 1e-12))
      #expect(feature.hsic[i, 0].isClose(to: gram.hsic[i, 0], tolerance: 1e-10))
    }
  }

  @Test("the U-centred fast path equals the paper's HSIC₁ formula batch by batch")
  func uCentringMatchesFormula() throws {
    let x = activations(examples: 12, features: 5, seed: 10)
    let y = activations(examples: 12, features: 3, seed: 11)
    let k = x.gram(), l = y.gram()
    let batch = try minibatchCKA([x], [y], batch: 12)
    #expect(batch.hsic[0, 0].isClose(to: try HSIC.unbiased(k, l), tolerance: 1e-12))
    #expect(batch.hsicA[0].isClose(to: try HSIC.unbiased(k, k), tolerance: 1e-12))
  }

  @Test("batches large enough for the pairs' product to be split across workers (n ≥ 91) still equal the formula")
  func splitPairsMatchFormula() throws {
    let x = activations(examples: 120, features: 9, seed: 12)
    let y = activations(examples: 120, features: 4, seed: 13)
    let z = Matrix(rows: 120, columns: 4) { i, j in y[i, j] * y[i, (j + 1) % 4] }
    let batch = try minibatchCKA([x, y], [z, x], batch: 120)
    let grams = [x.gram(), y.gram()], others = [z.gram(), x.gram()]
    for i in 0..<2 {
      for j in 0..<2 {
        #expect(batch.hsic[i, j].isClose(to: try HSIC.unbiased(grams[i], others[j]), tolerance: 1e-11))
      }
      #expect(batch.hsicA[i].isClose(to: try HSIC.unbiased(grams[i], grams[i]), tolerance: 1e-11))
      #expect(batch.hsicB[i].isClose(to: try HSIC.unbiased(others[i], others[i]), tolerance: 1e-11))
    }
    // Control: the cells differ from each other, so a product summed into the wrong cell shows.
    #expect(!batch.hsic[0, 0].isClose(to: batch.hsic[0, 1], tolerance: 1e-3))
  }

  @Test("an offset of 100 does not disturb the float32 path (it centres before the products)")
  func offsetInFloat() throws {
    let x = activations(examples: 128, features: 64, seed: 12)
    let y = activations(examples: 128, features: 32, seed: 13)
    let exact = try minibatchCKA([x], [y], batch: 64)[0, 0]
    let shifted = [x, y].map { m in Matrix<Float>(rows: m.rows, columns: m.columns) { Float(m[$0, $1] + 100) } }
    let result = try floatMinibatchCKA([shifted[0]], [shifted[1]], batch: 64)
    #expect(result.hsicA[0] > 0)
    #expect(result[0, 0].isClose(to: exact, tolerance: 1e-4))
  }

  @Test("activations far from 1 (1e-23 or 1e-40, whose float32 products underflow, or 1e19, whose squares overflow) give the same CKA",
        arguments: [1e-23, 1e-40, 1e19])
  func extremeScales(scale: Double) throws {
    let x = activations(examples: 80, features: 24, seed: 14)
    let y = activations(examples: 80, features: 12, seed: 15)
    let exact = try minibatchCKA([x, y], [x, y], batch: 20)
    let float = [x, y].map { m in Matrix<Float>(rows: m.rows, columns: m.columns) { Float(m[$0, $1]) } }
    let scaled = float.map { m in Matrix<Float>(rows: m.rows, columns: m.columns) { Float(Double(m[$0, $1]) * scale) } }
    // Layer 0 of A is scaled; every cell keeps its value to float32's precision.
    let result = try floatMinibatchCKA([scaled[0], float[1]], float, batch: 20)
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
      #expect(result[i, j].isClose(to: exact[i, j], tolerance: 1e-6), "\(i), \(j)")
    }
    // Its HSIC is the unscaled one times scale⁴ (the scaling is undone, not left in).
    let expected = exact.hsicA[0] * scale * scale * scale * scale
    #expect(abs(result.hsicA[0] / expected - 1) < (scale < 1e-38 ? 1e-4 : 1e-5))
    // Control: formed without the rescaling, the float32 Gram of 1e-23 loses the layer.
    if scale == 1e-23 {
      let tiny = scaled[0].elements.map { $0 }
      var gram = [Float](repeating: 0, count: 80 * 80)
      tiny.withUnsafeBufferPointer { GramKernel.upperGram($0.baseAddress!, rows: 80, columns: 24, into: &gram) }
      #expect(GramKernel.diagonalOutOfRange(gram, size: 80))
      let ordinary = float[0].elements
      ordinary.withUnsafeBufferPointer { GramKernel.upperGram($0.baseAddress!, rows: 80, columns: 24, into: &gram) }
      #expect(!GramKernel.diagonalOutOfRange(gram, size: 80))
    }
  }
}

@Suite("CKA bad input")
struct BadInputTests {
  @Test("a constant layer gives a NaN row and a warning, the other rows stay defined")
  func constantLayer() throws {
    let x = activations(examples: 40, features: 5, seed: 1)
    let constant = Matrix<Double>(rows: 40, columns: 3) { _, j in Double(j) + 0.1 }
    let y = activations(examples: 40, features: 4, seed: 2)
    for result in [try minibatchCKA([x, constant], [y], batch: 10),
                   try LinearCKA().similarities(layersA: [x, constant], layersB: [y]),
                   try LinearCKA(debiased: true).similarities(layersA: [x, constant], layersB: [y])] {
      #expect(result[1, 0].isNaN)
      #expect(result[0, 0].isFinite)
      #expect(result.undefinedLayersA == ["1"])
      #expect(result.warnings == ["layer '1' of A is constant (HSIC with itself is 0): its CKA is undefined, the row is NaN"])
    }
  }

  @Test("NaN, ∞, too small a batch, unequal example counts and a wrong layer count throw")
  func errors() throws {
    let x = activations(examples: 20, features: 3, seed: 1)
    var bad = x
    bad[13, 2] = .nan
    var cka = try MinibatchCKA(layersA: ["a"], layersB: ["b"], modelA: "m1", modelB: "m2")
    #expect(throws: InputError("layer 'b' of m2 has a non-finite activation (nan) at example 13, feature 2")) {
      try cka.accumulate(batchA: [x], batchB: [bad])
    }
    #expect(throws: InputError("a batch of 3 examples is too small: the unbiased HSIC needs at least 4")) {
      try cka.accumulate(batchA: [x.rows(0..<3)], batchB: [x.rows(0..<3)])
    }
    #expect(throws: InputError("layer 'b' of m2 has 19 examples in this batch, layer 'a' of m1 has 20")) {
      try cka.accumulate(batchA: [x], batchB: [x.rows(0..<19)])
    }
    #expect(throws: InputError("the batch has 2 layers of m1, expected 1")) {
      try cka.accumulate(batchA: [x, x], batchB: [x])
    }
    #expect(throws: InputError("no batch of examples was accumulated")) { try cka.result() }
    #expect(throws: InputError("m1 has no layers to compare")) {
      try MinibatchCKA(layersA: [], layersB: ["b"], modelA: "m1")
    }
    var infinite = x.converted(to: Float.self)
    infinite[0, 0] = .infinity
    #expect(throws: InputError.self) { try LinearCKA().similarity(infinite, infinite) }
  }
}

@Suite("CKA shapes")
struct ShapeTests {
  @Test("one-feature, tall and wide layers match the HSIC formulas on their Gram matrices",
        arguments: [(12, 1), (30, 3), (6, 40)] as [(Int, Int)])
  func shapes(examples: Int, features: Int) throws {
    let x = activations(examples: examples, features: features, seed: 21)
    let y = activations(examples: examples, features: features + 2, seed: 22)
    let k = x.gram(), l = y.gram()
    let minibatch = try minibatchCKA([x], [y], batch: examples)
    let expected = try HSIC.unbiased(k, l) / (try HSIC.unbiased(k, k) * HSIC.unbiased(l, l)).squareRoot()
    #expect(minibatch[0, 0].isClose(to: expected, tolerance: 1e-10))
    let debiased = try LinearCKA(debiased: true).similarity(x, y)
    #expect(debiased.isClose(to: expected, tolerance: 1e-10))
    let biased = try HSIC.biased(k, l) / (try HSIC.biased(k, k) * HSIC.biased(l, l)).squareRoot()
    #expect(try LinearCKA().similarity(x, y).isClose(to: biased, tolerance: 1e-10))
    #expect(try KernelCKA(kernel: .linear).similarities(layersA: [x], layersB: [y])[0, 0]
      .isClose(to: biased, tolerance: 1e-10))
  }

  @Test("a layer with no features is constant: NaN and a warning, no crash")
  func noFeatures() throws {
    let x = activations(examples: 10, features: 3, seed: 23)
    let empty = Matrix<Double>(rows: 10, columns: 0, elements: [])
    let result = try minibatchCKA([x], [empty], batch: 5)
    #expect(result[0, 0].isNaN)
    #expect(result.undefinedLayersB == ["0"])
    #expect(try LinearCKA().similarities(layersA: [x], layersB: [empty])[0, 0].isNaN)
  }
}
