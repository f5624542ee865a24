import Dispatch

/// GEMM with the cores shared out by the caller instead of by OpenBLAS's own threads.
public enum WorkerGEMM {
  /// `C = α·A·Bᵀ + β·C` (row-major: A m×k, B n×k, C m×n), C's columns dealt in contiguous parts
  /// to one worker per BLAS thread, each calling `gemm` with OpenBLAS at one thread.
  ///
  /// The same arithmetic as one threaded call, but OpenBLAS's threads stay asleep: after each
  /// call they wait by spinning in `sched_yield` (system time) for the next, so in a loop of
  /// GEMMs with other work between them they compete with that work. On the 10k × 50k × 1000
  /// kernel benchmark at two threads: system time about 10 % of the wall time threaded, under
  /// 3 % dealt out. With one BLAS thread, or too few columns to share, it is one plain call.
  /// `dealt: false` makes it one threaded call always (for timing the two against each other).
  public static func productABt<S: BLASScalar>(
    m: Int, n: Int, k: Int, alpha: S, a: UnsafePointer<S>, lda: Int,
    b: UnsafePointer<S>, ldb: Int, beta: S, c: UnsafeMutablePointer<S>, ldc: Int, dealt: Bool = true
  ) {
    guard m > 0, n > 0 else { return }
    let threads = BLASThreads.count
    let workers = dealt ? Swift.min(threads, n / minimumColumns) : 1
    guard workers > 1 else {
      S.gemm(transposeA: false, transposeB: true, m: Int32(m), n: Int32(n), k: Int32(k), alpha: alpha,
             a: a, lda: Int32(lda), b: b, ldb: Int32(ldb), beta: beta, c: c, ldc: Int32(ldc))
      return
    }
    BLASThreads.set(1)
    defer { BLASThreads.set(threads) }
    let operands = Operands(a: a, b: b, c: c)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      // Part boundaries on multiples of 16 columns (whole vector registers); the last part
      // takes the rest.
      let first = worker * n / workers / 16 * 16
      let end = worker == workers - 1 ? n : (worker + 1) * n / workers / 16 * 16
      S.gemm(transposeA: false, transposeB: true, m: Int32(m), n: Int32(end - first), k: Int32(k),
             alpha: alpha, a: operands.a, lda: Int32(lda), b: operands.b + first * ldb,
             ldb: Int32(ldb), beta: beta, c: operands.c + first, ldc: Int32(ldc))
    }
  }

  /// `C = A·Bᵀ` of two matrices (A m×k, B n×k) into `c`, a buffer of m·n elements the caller
  /// keeps between calls (row-major m×n), its columns dealt as `productABt(m:n:k:...)` does.
  /// Unlike `Matrix.multipliedByTransposed`, it allocates nothing: a timed loop of products
  /// measures the arithmetic, not page faults on a fresh C.
  public static func productABt<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>, into c: inout [S],
                                               dealt: Bool = true) {
    precondition(a.columns == b.columns && c.count == a.rows * b.rows,
                 "productABt: \(a.rows)×\(a.columns) · (\(b.rows)×\(b.columns))ᵀ into \(c.count) elements")
    a.elements.withUnsafeBufferPointer { pa in
      b.elements.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          productABt(m: a.rows, n: b.rows, k: a.columns, alpha: 1, a: pa.baseAddress!, lda: a.columns,
                     b: pb.baseAddress!, ldb: b.columns, beta: 0, c: pc.baseAddress!, ldc: b.rows,
                     dealt: dealt)
        }
      }
    }
  }

  /// Fewest columns of C per worker: below this one threaded call is no slower.
  static let minimumColumns = 256

  /// The operands, shared read-only (A, B) or by disjoint columns (C) among the workers.
  private struct Operands<S>: @unchecked Sendable {
    let a: UnsafePointer<S>, b: UnsafePointer<S>, c: UnsafeMutablePointer<S>
  }
}
