import CompareCore
import SpectralMetrics
import Testing

@Suite("LowRankProduct: the eigenvalues of ΔW = s·B·A from its factors")
struct LowRankProductTests {
  /// Seeded Gaussian factors B (out × r) and A (r × in).
  static func factors(out: Int, r: Int, in columns: Int, seed: UInt64) -> (Matrix<Double>, Matrix<Double>) {
    var rng = SplitMix64(seed: seed)
    return (Matrix<Double>.gaussian(rows: out, columns: r, using: &rng),
            Matrix<Double>.gaussian(rows: r, columns: columns, using: &rng))
  }

  /// The full product's eigenvalues (values-only SVD), the largest `k`, ascending.
  static func reference(_ p: LowRankProduct, _ k: Int) throws -> [Double] {
    let full = p.product()
    let ev = try full.elements.withUnsafeBufferPointer {
      try EigenvalueSolver(method: .svd).eigenvalues(of: $0, rows: full.rows, columns: full.columns)
    }
    return Array(ev.suffix(k))
  }

  /// A `.lora` layer over factors in memory.
  static func layer(_ b: Matrix<Double>, _ a: Matrix<Double>, scale: Double = 1) throws -> WeightLayer {
    let product = try LowRankProduct(b: b, a: a, scale: scale)
    var layer = WeightLayer(name: "lora", kind: .lora, shape: [b.rows, a.columns], load: { product.product().elements })
    layer.rank = b.columns
    layer.loadFactors = { product }
    return layer
  }

  @Test("the thin-QR route equals the formed product's top min(r, out, in) eigenvalues: tall, wide, 1×1, r ≥ M",
        arguments: [(40, 4, 30), (30, 4, 40), (1, 1, 1), (6, 8, 5), (50, 1, 20), (64, 12, 128)])
  func shortcutMatchesProduct(shape: (Int, Int, Int)) throws {
    let (b, a) = Self.factors(out: shape.0, r: shape.1, in: shape.2, seed: UInt64(shape.0 * 1000 + shape.2))
    let p = try LowRankProduct(b: b, a: a, scale: 0.75)
    let k = min(shape.0, shape.1, shape.2)
    let fast = try p.eigenvalues(), slow = try Self.reference(p, k)
    #expect(p.count == k && fast.count == k && fast == fast.sorted())
    for (x, y) in zip(fast, slow) { #expect(abs(x - y) <= 1e-11 * slow.last!, "\(x) vs \(y)") }
    // Negative control: the product's bottom eigenvalues (zero beyond the rank) are not these.
    if k < min(shape.0, shape.2) {
      let all = try Self.reference(p, min(shape.0, shape.2))
      #expect(all.first! < 1e-20 * all.last! && fast.first! > 1e-6 * fast.last!)
    }
  }

  @Test("a 4096 × 4096 update of rank 8, never formed: singular values known by construction")
  func wideUpdate() throws {
    let d = 4096, r = 8
    // B's columns are scaled unit vectors, A's rows unit vectors: ΔW's singular values are the scales.
    let sigma = (1...r).map { Double($0) / 2 }
    let b = Matrix<Double>(rows: d, columns: r) { i, j in i == 511 * j + 3 ? sigma[j] : 0 }
    let a = Matrix<Double>(rows: r, columns: d) { i, j in j == 509 * i + 1 ? 1 : 0 }
    let ev = try LowRankProduct(b: b, a: a).eigenvalues()
    #expect(ev.count == r)
    for (x, s) in zip(ev, sigma) { #expect(abs(x - s * s) <= 1e-12 * s * s) }
  }

  @Test("scaling B by c scales every eigenvalue by c² and leaves alpha unchanged; scaling one column does not")
  func scaling() throws {
    let (b, a) = Self.factors(out: 96, r: 16, in: 80, seed: 11)
    var options = ESDOptions()
    options.randomize = false
    let analyzer = ESDAnalyzer(options: options)
    let plain = try analyzer.analyze(Self.layer(b, a))[0]
    let scaled = try analyzer.analyze(Self.layer(b.scaled(by: 3), a))[0]
    let byOption = try analyzer.analyze(Self.layer(b, a, scale: 3))[0]
    #expect(plain.status == .success && plain.spectrum!.count == 16 && plain.kind == .lora)
    for (x, y) in zip(plain.spectrum!.eigenvalues, scaled.spectrum!.eigenvalues) { #expect(abs(9 * x - y) <= 1e-12 * y) }
    #expect(abs(plain.powerLaw!.alpha - scaled.powerLaw!.alpha) <= 1e-9 * plain.powerLaw!.alpha)
    #expect(abs(byOption.spectrum!.lambdaMax - scaled.spectrum!.lambdaMax) <= 1e-12 * scaled.spectrum!.lambdaMax)
    // Negative control: a non-uniform change of B (one column × 3) moves the spectrum's shape.
    let oneColumn = Matrix<Double>(rows: b.rows, columns: b.columns) { i, j in j == 0 ? 3 * b[i, j] : b[i, j] }
    let bent = try analyzer.analyze(Self.layer(oneColumn, a))[0]
    #expect(abs(bent.spectrum!.stableRank - plain.spectrum!.stableRank) > 0.1)
  }

  @Test("rows of a LoRA layer: N and M of ΔW, min(r, M) eigenvalues, shuffles of ΔW; zero B fails the row")
  func analyzerRows() throws {
    let (b, a) = Self.factors(out: 30, r: 4, in: 20, seed: 5)
    var options = ESDOptions()
    options.minEvals = 4
    let row = try ESDAnalyzer(options: options).analyze(Self.layer(b, a))[0]
    #expect(row.n == 30 && row.m == 20 && row.rf == 1 && row.spectrum!.count == 4 && row.value("num_evals") == .int(4))
    #expect(row.randomEigenvalues!.count == 20 && row.firstRandomEigenvalues!.count == 4)
    let described = try ESDAnalyzer().describe([Self.layer(b, a)])[0][0]
    #expect(described.status == .skipped && described.value("num_evals") == .int(4))
    let zero = try ESDAnalyzer(options: options).analyze(Self.layer(Matrix(rows: 30, columns: 4, elements: .init(repeating: 0, count: 120)), a))[0]
    #expect(zero.status == .failed && zero.reason.contains("all eigenvalues are zero"))
  }

  @Test("factors that do not multiply, or a NaN, are refused")
  func validation() throws {
    let (b, a) = Self.factors(out: 10, r: 3, in: 8, seed: 1)
    #expect(throws: InputError.self) { try LowRankProduct(b: b, a: a.transposed()) }
    var bad = b.elements
    bad[4] = .nan
    #expect(throws: InputError("B has a non-finite value (nan) at [1, 1]")) {
      try LowRankProduct(b: Matrix(rows: 10, columns: 3, elements: bad), a: a)
    }
  }
}
