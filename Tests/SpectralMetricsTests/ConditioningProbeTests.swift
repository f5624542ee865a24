import CompareCore
import Testing
@testable import SpectralMetrics

/// The float64 automatic solver's conditioning probe on near-square layers: an ill-conditioned
/// Gram matrix goes straight to `gesdd`, a well-conditioned one keeps the Gram route, and the
/// eigenvalues are the SVD's either way.
@Suite("Conditioning probe of near-square layers")
struct ConditioningProbeTests {
  /// U·diag(σ)·Vᵀ with random orthogonal U, V: n × n with singular values from 1 down to
  /// √ratio (λmin/λmax = ratio), geometrically spaced.
  static func matrix(size n: Int, ratio: Double, seed: UInt64) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    let u = Matrix<Double>.randomOrthogonal(size: n, using: &rng)
    let v = Matrix<Double>.randomOrthogonal(size: n, using: &rng)
    var scaled = u
    for j in 0..<n {
      let sigma = pow(ratio.squareRoot(), Double(j) / Double(n - 1))
      for i in 0..<n { scaled[i, j] *= sigma }
    }
    return scaled.multipliedByTransposed(v)
  }

  static func probe(_ w: Matrix<Double>) -> Bool {
    let n = w.rows
    var gram = [Double](repeating: 0, count: n * n)
    var work = [Double](repeating: 0, count: n * n + 2 * n)
    return w.elements.withUnsafeBufferPointer { a in
      gram.withUnsafeMutableBufferPointer { g in
        Double.syrk(transpose: true, n: Int32(n), k: Int32(n), alpha: 1, a: a.baseAddress!, lda: Int32(n),
                    beta: 0, c: g.baseAddress!, ldc: Int32(n))
        return work.withUnsafeMutableBufferPointer { w in
          EigenvalueSolver.clearsConditionLimit(gram: g.baseAddress!, n: n, a, rows: n, columns: n, work: w.baseAddress!)
        }
      }
    }
  }

  static func eigenvalues(_ w: Matrix<Double>, _ method: EigenvalueSolver.Method) throws -> [Double] {
    try w.elements.withUnsafeBufferPointer {
      try EigenvalueSolver(method: method).eigenvalues(of: $0, rows: w.rows, columns: w.columns)
    }
  }

  @Test("near-square means N/M under about 1.004 with M ≥ 256; float64 automatic only probes those")
  func shapes() {
    #expect(EigenvalueSolver.isNearlySquare(rows: 4096, columns: 4096))
    #expect(EigenvalueSolver.isNearlySquare(rows: 4096, columns: 4100))
    #expect(EigenvalueSolver.isNearlySquare(rows: 300, columns: 300))
    #expect(!EigenvalueSolver.isNearlySquare(rows: 4096, columns: 4200))
    #expect(!EigenvalueSolver.isNearlySquare(rows: 11008, columns: 4096))
    #expect(!EigenvalueSolver.isNearlySquare(rows: 255, columns: 255))
    #expect(EigenvalueSolver().probesConditioning(rows: 512, columns: 512))
    #expect(!EigenvalueSolver(precision: .float32).probesConditioning(rows: 512, columns: 512))
    #expect(!EigenvalueSolver(method: .gram).probesConditioning(rows: 512, columns: 512))
    #expect(!EigenvalueSolver().probesConditioning(rows: 1024, columns: 512))
  }

  @Test("the probe passes a layer above the limit (λmin/λmax = 1e-6) and fails one below it (1e-10)")
  func probe() {
    #expect(Self.probe(Self.matrix(size: 300, ratio: 1e-6, seed: 1)))
    #expect(!Self.probe(Self.matrix(size: 300, ratio: 1e-10, seed: 2)))
    // A rank-deficient layer (rank 200 of 300) fails it too.
    var rng = SplitMix64(seed: 3)
    let a = Matrix<Double>.gaussian(rows: 300, columns: 200, using: &rng)
    let b = Matrix<Double>.gaussian(rows: 200, columns: 300, using: &rng)
    #expect(!Self.probe(a.multiplied(by: b)))
  }

  @Test("automatic equals the SVD on both sides of the limit and finds a rank-deficient layer's rank; the plain Gram route does not (control)")
  func agreement() throws {
    for (ratio, seed) in [(1e-6, UInt64(4)), (1e-10, 5)] {
      let w = Self.matrix(size: 300, ratio: ratio, seed: seed)
      let svd = try Self.eigenvalues(w, .svd), automatic = try Self.eigenvalues(w, .automatic)
      let top = svd.last!
      // Each eigenvalue to 1e-6 of itself (the smallest included) or 1e-15 of λmax.
      let close = zip(automatic, svd).allSatisfy { abs($0 - $1) <= Swift.max(1e-6 * $1, 1e-15 * top) }
      #expect(close, "ratio \(ratio)")
    }
    // Rank 200 of 300: numpy's matrix_rank rule (σ > σmax·N·ε) on the eigenvalues.
    var rng = SplitMix64(seed: 7)
    let a = Matrix<Double>.gaussian(rows: 300, columns: 200, using: &rng)
    let w = a.multiplied(by: Matrix<Double>.gaussian(rows: 200, columns: 300, using: &rng))
    func rank(_ values: [Double]) -> Int {
      Spectrum(eigenvalues: values, n: 300, m: 300).matrixRank
    }
    #expect(rank(try Self.eigenvalues(w, .svd)) == 200)
    #expect(rank(try Self.eigenvalues(w, .automatic)) == 200)
    // The Gram route's round-off (~1e-16·λmax, σ ~ 1e-8·σmax) shows as spurious rank.
    #expect(rank(try Self.eigenvalues(w, .gram)) > 200)
  }
}
