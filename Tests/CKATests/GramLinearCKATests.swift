import CompareCore
import Testing
@testable import CKA

/// Full-data linear CKA from each layer's n×n Gram matrix (example space), the route
/// `CKAEstimator.full` and `.debiased` take when it is cheaper than the feature-space one.
@Suite("Full-data linear CKA in example space")
struct GramLinearCKATests {
  static func sources(_ a: [Matrix<Double>], _ b: [Matrix<Double>]) throws -> (RepresentationArrays<Double>, RepresentationArrays<Double>) {
    (try RepresentationArrays(name: "A", layerNames: a.indices.map { "\($0)" }, layers: a),
     try RepresentationArrays(name: "B", layerNames: b.indices.map { "\($0)" }, layers: b))
  }

  @Test("equals the in-memory feature-space value to 1e-9, biased and debiased, offsets included", arguments: [false, true])
  func equalsFeatureSpace(debiased: Bool) throws {
    let (a, b) = StreamingLinearCKATests.layers(seed: 3)
    let (sa, sb) = try Self.sources(a, b)
    let reference = try LinearCKA(debiased: debiased).similarities(layersA: a, layersB: b)
    let result = try GramLinearCKA(debiased: debiased).similarities(sa, sb, widthsA: a.map(\.columns), widthsB: b.map(\.columns))
    for (x, y) in zip(result.values.elements + result.hsicA + result.hsicB,
                      reference.values.elements + reference.hsicA + reference.hsicB) {
      #expect(abs(x - y) <= 1e-9 * max(abs(y), 1e-3), "\(x) vs \(y)")
    }
    // Negative control: the other estimator differs.
    let other = try GramLinearCKA(debiased: !debiased).similarities(sa, sb, widthsA: a.map(\.columns), widthsB: b.map(\.columns))
    #expect(zip(result.values.elements, other.values.elements).contains { abs($0 - $1) > 1e-6 })
  }

  @Test("matches the float64 numpy goldens (full and debiased linear) to 1e-10")
  func goldens() throws {
    let (namesA, a) = try CKAFixtures.layers("model_a")
    let (namesB, b) = try CKAFixtures.layers("model_b")
    let sa = try RepresentationArrays(name: "A", layerNames: namesA, layers: a)
    let sb = try RepresentationArrays(name: "B", layerNames: namesB, layers: b)
    let cases = try CKAFixtures.cases().filter { $0.kernel == "linear" && $0.estimator != "minibatch" }
    #expect(cases.map(\.estimator).sorted() == ["debiased", "full"])
    for c in cases {
      let result = try GramLinearCKA(debiased: c.estimator == "debiased")
        .similarities(sa, sb, widthsA: a.map(\.columns), widthsB: b.map(\.columns))
      #expect(CKAFixtures.maxRelativeError(result.values, c.cka) < 1e-10, "\(c.name)")
      #expect(CKAFixtures.maxRelativeError(result.hsic, c.hsic) < 1e-10, "\(c.name)")
      #expect(CKAFixtures.maxRelativeError(result.hsicA, c.hsicA) < 1e-10, "\(c.name)")
      #expect(CKAFixtures.maxRelativeError(result.hsicB, c.hsicB) < 1e-10, "\(c.name)")
    }
  }

  @Test("chosen for fewer examples than features, not for many examples or narrow layers")
  func route() {
    let wide = [Int](repeating: 4096, count: 6)
    #expect(GramLinearCKA.isCheaper(examples: 4000, widthsA: wide, widthsB: wide, workers: 2))
    #expect(!GramLinearCKA.isCheaper(examples: 1_000_000, widthsA: wide, widthsB: wide, workers: 2))
    // 20,000 examples: fewer multiply–adds (2.0e13 against 2.8e13), but 17 GB of Gram matrices
    // against 6.4 GB of accumulators.
    #expect(!GramLinearCKA.isCheaper(examples: 20_000, widthsA: wide, widthsB: wide, workers: 2))
    #expect(GramLinearCKA.isCheaper(examples: 8_000, widthsA: wide, widthsB: wide, workers: 2))
    // The memory side decides between them: about 13,000 examples here.
    #expect(GramLinearCKA.isCheaper(examples: 12_900, widthsA: wide, widthsB: wide, workers: 2))
    #expect(!GramLinearCKA.isCheaper(examples: 13_300, widthsA: wide, widthsB: wide, workers: 2))
    // The bundled digits models' widths: their 4096-wide Gram of 1,797 examples costs more.
    #expect(!GramLinearCKA.isCheaper(examples: 1797, widthsA: [256, 128, 64, 10], widthsB: [256, 128, 256, 64, 10],
                                      workers: 2))
  }

  @Test("the estimators take it for wide layers and give the feature-space values; NaN is named")
  func estimator() throws {
    var rng = SplitMix64(seed: 5)
    let a = [Matrix<Double>.gaussian(rows: 40, columns: 300, using: &rng), Matrix<Double>.gaussian(rows: 40, columns: 200, using: &rng)]
    let b = [a[0].adding(Matrix<Double>.gaussian(rows: 40, columns: 300, using: &rng), scaledBy: 0.5)]
    #expect(GramLinearCKA.isCheaper(examples: 40, widthsA: [300, 200], widthsB: [300]))
    let (sa, sb) = try Self.sources(a, b)
    for (estimator, debiased) in [(CKAEstimator.full, false), (.debiased, true)] {
      let result = try estimator.similarities(sa, sb)
      let reference = try LinearCKA(debiased: debiased).similarities(layersA: a, layersB: b)
      #expect(zip(result.matrix.values.elements, reference.values.elements).allSatisfy { abs($0 - $1) < 1e-10 })
    }
    var bad = b[0]
    bad[13, 2] = .infinity
    let (_, sbad) = try Self.sources(a, [bad])
    #expect(throws: InputError("layer '0' of B has a non-finite activation (inf) at example 13, feature 2")) {
      try CKAEstimator.full.similarities(sa, sbad)
    }
  }

  @Test("float32 layers wider than a panel: every panel is centred and added, the last one partial")
  func panels() throws {
    var rng = SplitMix64(seed: 9)
    let width = GramLinearCKA.Scratch.panelWidth
    // 2 panels and a partial third; activations offset by 100, so that the centring matters.
    let x = Matrix<Double>(rows: 24, columns: 2 * width + 76) { _, _ in Double(Float(100 + rng.nextGaussian())) }
    let y = Matrix<Double>(rows: 24, columns: width + 1) { i, j in Double(Float(x[i, j] + 0.7 * rng.nextGaussian())) }
    let floats = { (m: Matrix<Double>) in Matrix<Float>(rows: m.rows, columns: m.columns) { i, j in Float(m[i, j]) } }
    let sa = try RepresentationArrays(name: "A", layerNames: ["x"], layers: [floats(x)])
    let sb = try RepresentationArrays(name: "B", layerNames: ["y"], layers: [floats(y)])
    #expect(!sa.isDouble)
    for debiased in [false, true] {
      let result = try GramLinearCKA(debiased: debiased).similarities(sa, sb, widthsA: [x.columns], widthsB: [y.columns])
      let reference = try LinearCKA(debiased: debiased).similarities(layersA: [x], layersB: [y])
      for (u, v) in zip(result.values.elements + result.hsicA + result.hsicB,
                        reference.values.elements + reference.hsicA + reference.hsicB) {
        #expect(abs(u - v) <= 1e-10 * abs(v), "\(u) vs \(v)")
      }
      // Negative control: the first panel alone is not the layer.
      let first = Matrix<Double>(rows: x.rows, columns: width) { i, j in x[i, j] }
      let partial = try LinearCKA(debiased: debiased).similarities(layersA: [first], layersB: [y])
      #expect(abs(partial.hsicA[0] - result.hsicA[0]) > 1e-3 * result.hsicA[0])
    }
  }

  @Test("a constant layer has HSIC 0 with itself and is reported undefined, as in feature space")
  func constantLayer() throws {
    var rng = SplitMix64(seed: 1)
    let x = Matrix<Double>.gaussian(rows: 30, columns: 50, using: &rng)
    // 0.1·(j + 1): a mean summed in float64 does not come back to the value exactly.
    let constant = Matrix<Double>(rows: 30, columns: 40) { _, j in 0.1 * Double(j + 1) }
    let (sa, sb) = try Self.sources([x, constant], [x])
    for debiased in [false, true] {
      let result = try GramLinearCKA(debiased: debiased).similarities(sa, sb, widthsA: [50, 40], widthsB: [50])
      let reference = try LinearCKA(debiased: debiased).similarities(layersA: [x, constant], layersB: [x])
      #expect(result.hsicA[1] == 0 && reference.hsicA[1] == 0)
      #expect(result.warnings == ["layer '1' of A is constant (HSIC with itself is 0): its CKA is undefined, the row is NaN"])
      #expect(result.warnings == reference.warnings)
      // Control: the varying layer is measured.
      #expect(result.hsicA[0] > 0 && abs(result.values[0, 0] - 1) < 1e-12)
    }
  }

  /// A source read on one thread at a time (the default), through `read(rows:into:)`.
  struct Serial: RepresentationSource {
    let arrays: RepresentationArrays<Double>
    var name: String { arrays.name }
    var layerNames: [String] { arrays.layerNames }
    var examples: Int { arrays.examples }
    var isDouble: Bool { true }
    func read<S: BLASScalar>(rows: Range<Int>, into matrices: inout [Matrix<S>]) throws {
      try arrays.read(rows: rows, into: &matrices)
    }
  }

  @Test("a source read on one thread at a time gives the same values; the first bad layer is named either way")
  func serialSource() throws {
    let (a, b) = StreamingLinearCKATests.layers(seed: 4)
    let (sa, sb) = try Self.sources(a, b)
    #expect(sa.readsConcurrently && !Serial(arrays: sa).readsConcurrently)
    let widths = (a.map(\.columns), b.map(\.columns))
    let concurrent = try GramLinearCKA(debiased: true).similarities(sa, sb, widthsA: widths.0, widthsB: widths.1)
    let serial = try GramLinearCKA(debiased: true).similarities(Serial(arrays: sa), Serial(arrays: sb),
                                                               widthsA: widths.0, widthsB: widths.1)
    #expect(zip(concurrent.values.elements, serial.values.elements).allSatisfy { abs($0 - $1) < 1e-12 })
    // Layers 1 and 2 of B hold a NaN: layer 1 is named, whichever worker reads it.
    var bad = b
    bad[1][7, 3] = .nan
    bad[2][2, 1] = .nan
    let (_, sbad) = try Self.sources(a, bad)
    let message = InputError("layer '1' of B has a non-finite activation (nan) at example 7, feature 3")
    #expect(throws: message) { try GramLinearCKA(debiased: false).similarities(sa, sbad, widthsA: widths.0, widthsB: widths.1) }
    #expect(throws: message) {
      try GramLinearCKA(debiased: false).similarities(sa, Serial(arrays: sbad), widthsA: widths.0, widthsB: widths.1)
    }
  }
}
