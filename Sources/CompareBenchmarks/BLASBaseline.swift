import Compare

/// This machine's BLAS/LAPACK speed, measured in the same run as a benchmark: the lower
/// bounds that module benchmarks divide their times by.
enum BLASBaseline {
  /// "1 BLAS thread" or "N BLAS threads", for benchmark headers.
  static var threadsDescription: String {
    let n = BLASThreads.count
    return n == 1 ? "1 BLAS thread" : "\(n) BLAS threads"
  }

  /// Best-of-`repeats` seconds for C = A·B with A m×k, B k×n, random inputs.
  static func gemmSeconds<S: BLASScalar>(_ type: S.Type, m: Int, n: Int, k: Int, repeats: Int = 3) -> Double {
    var rng = SplitMix64(seed: 1)
    let a = Matrix<S>.gaussian(rows: m, columns: k, using: &rng)
    let b = Matrix<S>.gaussian(rows: k, columns: n, using: &rng)
    return best(of: repeats) { _ = a.multiplied(by: b) }
  }

  /// GFLOP/s of `gemm` at m×n×k (2mnk floating-point operations per product).
  static func gemmRate<S: BLASScalar>(_ type: S.Type, m: Int, n: Int, k: Int, repeats: Int = 3) -> Double {
    2 * Double(m) * Double(n) * Double(k) / gemmSeconds(type, m: m, n: n, k: k, repeats: repeats) / 1e9
  }

  /// GFLOP/s of C = A·Bᵀ (A m×k, B n×k) at the faster of one threaded `gemm` and the same
  /// product with C's columns dealt to one worker per BLAS thread (`WorkerGEMM`, as the kernel
  /// computes it): the two ways to spend the cores on one product.
  static func bestGemmRate(m: Int, n: Int, k: Int, repeats: Int = 3) -> Double {
    var rng = SplitMix64(seed: 1)
    let a = Matrix<Float>.gaussian(rows: m, columns: k, using: &rng)
    let b = Matrix<Float>.gaussian(rows: n, columns: k, using: &rng)
    var c = [Float](repeating: 0, count: m * n)
    let dealt = best(of: repeats) { WorkerGEMM.productABt(a, b, into: &c) }
    let threaded = best(of: repeats) { WorkerGEMM.productABt(a, b, into: &c, dealt: false) }
    return 2 * Double(m) * Double(n) * Double(k) / min(dealt, threaded) / 1e9
  }

  /// Best-of-`repeats` seconds for the n×n Gram A·Aᵀ of an n×k matrix (`syrk`).
  static func syrkSeconds<S: BLASScalar>(_ type: S.Type, n: Int, k: Int, repeats: Int = 3) -> Double {
    var rng = SplitMix64(seed: 2)
    let a = Matrix<S>.gaussian(rows: n, columns: k, using: &rng)
    return best(of: repeats) { _ = a.gram() }
  }

  /// Best-of-`repeats` seconds for values-only `gesdd` of a rows×columns matrix.
  static func gesddSeconds<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int, repeats: Int = 1) throws -> Double {
    var rng = SplitMix64(seed: 3)
    let a = Matrix<S>.gaussian(rows: rows, columns: columns, using: &rng)
    var failure: (any Error)?
    let seconds = best(of: repeats) {
      do { _ = try a.singularValues() } catch { failure = error }
    }
    if let failure { throw failure }
    return seconds
  }

  /// Best-of-`repeats` seconds for values-only `syevd` of the n×n Gram of an n×k matrix,
  /// Gram included (`syrk` then `syevd`).
  static func gramEigenSeconds<S: BLASScalar>(_ type: S.Type, n: Int, k: Int, repeats: Int = 1) throws -> Double {
    var rng = SplitMix64(seed: 4)
    let a = Matrix<S>.gaussian(rows: n, columns: k, using: &rng)
    var failure: (any Error)?
    let seconds = best(of: repeats) {
      do { _ = try a.gram().symmetricEigenvalues() } catch { failure = error }
    }
    if let failure { throw failure }
    return seconds
  }

  /// The fastest of `repeats` timings of `body`, in seconds.
  static func best(of repeats: Int, _ body: () -> Void) -> Double {
    var fastest = Double.infinity
    for _ in 0..<max(repeats, 1) {
      let start = ContinuousClock.now
      body()
      fastest = min(fastest, secondsSince(start))
    }
    return fastest
  }
}
