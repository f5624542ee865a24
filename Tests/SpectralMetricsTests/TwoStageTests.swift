import CompareCore
import Testing
@testable import SpectralMetrics

/// LAPACK's two-stage symmetric eigensolver, used for large float64 Gram matrices on one BLAS
/// thread (`EigenvalueSolver.usesTwoStage`).
@Suite("Two-stage eigenvalues")
struct TwoStageTests {
  /// Eigenvalues of the Gram matrix of `w` by `syevd`, one- or two-stage.
  func eigenvalues(_ w: Matrix<Double>, twoStage: Bool) -> [Double] {
    let n = w.columns
    var gram = [Double](repeating: 0, count: n * n), values = [Double](repeating: 0, count: n)
    w.elements.withUnsafeBufferPointer { a in
      gram.withUnsafeMutableBufferPointer { g in
        values.withUnsafeMutableBufferPointer { v in
          Double.syrk(transpose: true, n: Int32(n), k: Int32(w.rows), alpha: 1, a: a.baseAddress!,
                      lda: Int32(n), beta: 0, c: g.baseAddress!, ldc: Int32(n))
          let info = Double.syevd(g.baseAddress!, size: Int32(n), values: v.baseAddress!, twoStage: twoStage)
          #expect(info == 0)
        }
      }
    }
    return values
  }

  @Test("gives syevd's eigenvalues, ascending, to 1e-13·λmax, on well- and ill-conditioned Gram matrices",
        arguments: [1e-2, 1e-9])
  func matchesOneStage(ratio: Double) {
    let w = ConditioningProbeTests.matrix(size: 300, ratio: ratio, seed: 21)
    let one = eigenvalues(w, twoStage: false), two = eigenvalues(w, twoStage: true)
    let top = one.last!
    #expect(zip(one, two).allSatisfy { abs($0 - $1) <= 1e-13 * top })
    #expect(two == two.sorted())
    #expect(abs(two[0] / top - ratio) < 1e-3 * ratio || ratio < 1e-8)
    // Negative control: another matrix's eigenvalues are not within that tolerance.
    let other = eigenvalues(ConditioningProbeTests.matrix(size: 300, ratio: ratio * 2, seed: 21), twoStage: true)
    #expect(!zip(one, other).allSatisfy { abs($0 - $1) <= 1e-13 * top })
  }

  @Test("is never used in float32 or below n = 3072")
  func rule() {
    // (Whether 3072 and above use it depends on the process-wide BLAS thread count, which
    // other suites change while this one runs.)
    #expect(!EigenvalueSolver.usesTwoStage(Float.self, size: 4096))
    #expect(!EigenvalueSolver.usesTwoStage(Double.self, size: 3071))
    #expect(EigenvalueSolver.twoStageMinimum == 3072)
  }
}
