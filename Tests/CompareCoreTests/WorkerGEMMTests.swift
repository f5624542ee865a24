import CompareCore
import Testing

@Suite("GEMM dealt to workers", .serialized)
struct WorkerGEMMTests {
  /// C (m × ldc, the columns past n a sentinel) after `productABt` with OpenBLAS set to `threads`.
  func product(threads: Int, m: Int, n: Int, k: Int, beta: Float, a: [Float], b: [Float], ldc: Int) -> [Float] {
    var c = (0..<(m * ldc)).map { Float($0 % 7) - 3 }
    let before = BLASThreads.count
    BLASThreads.set(threads)
    defer { BLASThreads.set(before) }
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          WorkerGEMM.productABt(m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, lda: k,
                                b: pb.baseAddress!, ldb: k, beta: beta, c: pc.baseAddress!, ldc: ldc)
        }
      }
    }
    return c
  }

  @Test("two workers give α·A·Bᵀ + β·C column for column, and leave the columns past n alone",
        arguments: [(Float(0), 1000), (Float(1), 531)])
  func matchesReference(beta: Float, n: Int) {
    let m = 5, k = 37, ldc = n + 9
    var rng = SplitMix64(seed: UInt64(n))
    let a = (0..<(m * k)).map { _ in Float(rng.nextUniform() - 0.5) }
    let b = (0..<(n * k)).map { _ in Float(rng.nextUniform() - 0.5) }
    let initial = (0..<(m * ldc)).map { Float($0 % 7) - 3 }
    let c = product(threads: 2, m: m, n: n, k: k, beta: beta, a: a, b: b, ldc: ldc)
    var worst = 0.0
    for i in 0..<m {
      for j in 0..<ldc {
        if j >= n {
          #expect(c[i * ldc + j] == initial[i * ldc + j])
          continue
        }
        var s = 0.0
        for l in 0..<k { s += Double(a[i * k + l]) * Double(b[j * k + l]) }
        worst = max(worst, abs(Double(c[i * ldc + j]) - (0.5 * s + Double(beta) * Double(initial[i * ldc + j]))))
      }
    }
    #expect(worst < 1e-5)
    // Negative control: one thread (a single call) gives the same products, so the check above
    // would see a part dealt to the wrong columns.
    let single = product(threads: 1, m: m, n: n, k: k, beta: beta, a: a, b: b, ldc: ldc)
    #expect(zip(single, c).allSatisfy { abs($0 - $1) <= 1e-5 })
    var shifted = c
    shifted.swapAt(0, n - 1)
    #expect(!zip(single, shifted).allSatisfy { abs($0 - $1) <= 1e-5 })
  }

  @Test("the matrix form writes A·Bᵀ over a reused buffer, dealt or as one threaded call", arguments: [true, false])
  func matrixForm(dealt: Bool) {
    var rng = SplitMix64(seed: 9)
    let a = Matrix<Float>.gaussian(rows: 6, columns: 33, using: &rng)
    let b = Matrix<Float>.gaussian(rows: 700, columns: 33, using: &rng)
    let reference = a.multipliedByTransposed(b).elements
    var c = [Float](repeating: 99, count: 6 * 700)
    let before = BLASThreads.count
    BLASThreads.set(2)
    defer { BLASThreads.set(before) }
    WorkerGEMM.productABt(a, b, into: &c, dealt: dealt)
    #expect(zip(c, reference).allSatisfy { abs($0 - $1) <= 1e-5 })
    #expect(!c.contains(99))
    // Control: with 2A into the same buffer, C is 2·A·Bᵀ, which the check above would reject.
    WorkerGEMM.productABt(a.scaled(by: 2), b, into: &c, dealt: dealt)
    #expect(zip(c, reference).allSatisfy { abs($0 - 2 * $1) <= 2e-5 })
    #expect(!zip(c, reference).allSatisfy { abs($0 - $1) <= 1e-5 })
  }
}
