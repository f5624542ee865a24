import CompareCore

/// How the eigenvalues of WᵀW are computed: the squared singular values of W.
///
/// The reference tool widens W to float64 and calls a values-only SVD (`gesdd`). That is
/// accurate but slow on large layers. `.automatic` (the default) forms the float64 Gram matrix
/// on the smaller side (WᵀW or WWᵀ, one `syrk`) and takes its eigenvalues (`syevd`, values
/// only), about 4x faster; the Gram squares the condition number, so when the smallest
/// eigenvalue falls below `1e-8·λmax` (rank-deficient or ill-conditioned layers, where Gram
/// round-off of ~n·ε·λmax would dominate it) the layer is redone with `gesdd`. Above that
/// threshold the Gram eigenvalues agree with the SVD's to ~1e-12 relative or better, and the
/// reported columns to ~1e-15.
///
/// Near-square layers in float64 (`probesConditioning`) usually end in that fallback: there the
/// Gram matrix's conditioning is tested first, by a Cholesky factorisation of G − limit·λ̂·I
/// (λ̂ ≤ λmax from power steps, about a third of the Gram product's cost), and an
/// ill-conditioned layer goes straight to `gesdd` without the symmetric eigensolver it would
/// discard (a 4096² Gaussian layer: 9.1 s Gram, 22.9 s SVD, 31.3 s for both).
public struct EigenvalueSolver: Sendable, Equatable {
  /// The algorithm.
  public enum Method: String, Sendable, CaseIterable {
    /// Gram + `syevd`, falling back to `gesdd` for ill-conditioned matrices.
    case automatic
    /// Values-only `gesdd` on W itself (the reference tool's route).
    case svd
    /// Gram + `syevd` always.
    case gram
  }

  /// Arithmetic precision of the decomposition.
  public enum Precision: String, Sendable, CaseIterable {
    /// Widen to float64 (the reference tool's choice).
    case float64
    /// Stay in float32: ~2x faster and half the memory; the smallest eigenvalues move by up to
    /// ~M·6e-8·λmax (up to ~10 % of their value on large layers), the large ones by ~1e-7.
    case float32
  }

  public var method: Method
  public var precision: Precision

  /// Smallest λmin/λmax that `.automatic` trusts from the Gram route.
  public static let gramConditionLimit = 1e-8

  public init(method: Method = .automatic, precision: Precision = .float64) {
    self.method = method
    self.precision = precision
  }

  /// Whether this solver tests a rows × columns layer's conditioning before its eigensolver:
  /// `.automatic` in float64 on a near-square layer (`isNearlySquare`).
  public func probesConditioning(rows: Int, columns: Int) -> Bool {
    Self.probes(method: method, float64: precision == .float64, rows: rows, columns: columns)
  }

  /// The rule of `probesConditioning`, for the generic solver, which knows its precision by its
  /// scalar type.
  static func probes(method: Method, float64: Bool, rows: Int, columns: Int) -> Bool {
    method == .automatic && float64 && isNearlySquare(rows: rows, columns: columns)
  }

  /// Near-square shapes (N/M below about 1.004, M ≥ 256), where Marchenko–Pastur's edge ratio
  /// for a random matrix, λ₋/λ₊ = ((√q − 1)/(√q + 1))² with q = N/M, falls below
  /// 100 · `gramConditionLimit`, and the finite-size λmin/λmax ≈ 1/(4M²) of a square one
  /// is within a factor 4 of it, so a layer's smallest eigenvalue (lowered further by a heavy
  /// tail, which raises λmax) usually falls below the Gram route's limit.
  public static func isNearlySquare(rows: Int, columns: Int) -> Bool {
    let m = Swift.min(rows, columns), n = Swift.max(rows, columns)
    guard m >= 256 else { return false }
    let root = (Double(n) / Double(m)).squareRoot()
    let edge = (root - 1) / (root + 1)
    return edge * edge < 100 * gramConditionLimit
  }

  /// Eigenvalues of WᵀW (squared singular values of W), ascending, `min(rows, columns)` of them.
  ///
  /// - Parameters:
  ///   - elements: W row-major, `rows × columns`.
  /// - Throws: `LinearAlgebraError` when `syevd`/`gesdd` fails; `InputError` when a dimension
  ///   does not fit 32 bits.
  /// - Complexity: O(r·c·min(r, c)).
  public func eigenvalues(of elements: UnsafeBufferPointer<Double>, rows: Int, columns: Int) throws -> [Double] {
    try eigenvalues(of: elements, rows: rows, columns: columns, scratch: nil)
  }

  /// `eigenvalues(of:rows:columns:)` with its float32 copy and Gram matrix in `scratch`'s
  /// buffers, when given (reused across layers; see `ESDScratch`).
  package func eigenvalues(of elements: UnsafeBufferPointer<Double>, rows: Int, columns: Int,
                           scratch: ESDScratch?) throws -> [Double] {
    switch precision {
    case .float64:
      return try Self.eigenvalues(Double.self, elements, rows: rows, columns: columns, method: method, scratch: scratch)
    case .float32:
      guard let scratch else {
        let narrowed = [Float](unsafeUninitializedCapacity: elements.count) { buffer, count in
          for i in 0..<elements.count { buffer[i] = Float(elements[i]) }
          count = elements.count
        }
        return try narrowed.withUnsafeBufferPointer {
          try Self.eigenvalues(Float.self, $0, rows: rows, columns: columns, method: method, scratch: nil)
        }
      }
      WorkBuffer.resize(&scratch.narrowed, to: elements.count)
      scratch.narrowed.withUnsafeMutableBufferPointer { out in
        for i in 0..<elements.count { out[i] = Float(elements[i]) }
      }
      // The narrowed copy is read while the Gram is written: both live in the scratch, in
      // different buffers, and the Gram's access below is the only mutation.
      let narrowed = scratch.narrowed
      return try narrowed.withUnsafeBufferPointer {
        try Self.eigenvalues(Float.self, $0, rows: rows, columns: columns, method: method, scratch: scratch)
      }
    }
  }

  static func eigenvalues<S: BLASScalar>(
    _ type: S.Type, _ a: UnsafeBufferPointer<S>, rows: Int, columns: Int, method: Method,
    scratch: ESDScratch? = nil
  ) throws -> [Double] {
    precondition(a.count == rows * columns)
    let m = Swift.min(rows, columns)
    if m == 0 { return [] }
    // float32 is asked for speed: no probe and no fallback.
    let probe = probes(method: method, float64: S.self == Double.self, rows: rows, columns: columns)
    if method != .svd {
      if let gram = try gramEigenvalues(a, rows: rows, columns: columns, scratch: scratch, probe: probe) {
        let values = gram.map { Double($0) }
        let top = values.last ?? 0, bottom = values[0]
        // An all-zero matrix is exact either way.
        if method == .gram || S.self == Float.self || (top > 0 && bottom >= gramConditionLimit * top)
          || (top == 0 && bottom == 0) {
          return values.map { Swift.max($0, 0) }
        }
      }
    }
    // The SVD's copy of W stays in the scratch where SVDs are the rule (`--method svd`, probed
    // layers); a rare fallback of another layer (up to an embedding's size) borrows its copy
    // for the call, so the workers' buffers do not each keep one.
    return try svdEigenvalues(a, rows: rows, columns: columns, scratch: method == .svd || probe ? scratch : nil)
  }

  /// Eigenvalues of the Gram matrix on the smaller side: `syrk` then `syevd`, ascending; `nil`
  /// when `probe` is set and `clearsConditionLimit` finds the Gram matrix too ill-conditioned
  /// for them. The Gram matrix lives in `scratch.gram` and the probe's copy in
  /// `scratch.factored` when given (reused), else in fresh buffers.
  static func gramEigenvalues<S: BLASScalar>(_ a: UnsafeBufferPointer<S>, rows: Int, columns: Int,
                                             scratch: ESDScratch? = nil, probe: Bool = false) throws -> [S]? {
    let n = Swift.min(rows, columns), k = Swift.max(rows, columns)
    let n32 = try blasDimension(n, "size"), k32 = try blasDimension(k, "size")
    let ld = try blasDimension(columns, "columns")
    var values = [S](repeating: 0, count: n)
    func decompose(_ g: UnsafeMutablePointer<S>) -> Int32? {
      // Row-major W (rows × columns): WᵀW when columns ≤ rows, else WWᵀ.
      S.syrk(transpose: columns <= rows, n: n32, k: k32, alpha: 1, a: a.baseAddress!, lda: ld,
             beta: 0, c: g, ldc: n32)
      if probe {
        let clears = withBuffer(of: S.self, count: n * n + rows + columns, in: scratch) { work in
          clearsConditionLimit(gram: g, n: n, a, rows: rows, columns: columns, work: work)
        }
        if !clears { return nil }
      }
      return values.withUnsafeMutableBufferPointer { v in
        S.syevd(g, size: n32, values: v.baseAddress!, twoStage: usesTwoStage(S.self, size: n))
      }
    }
    let info: Int32?
    if let scratch {
      // n² scalars of S fit in n² doubles.
      WorkBuffer.resize(&scratch.gram, to: Swift.max(scratch.gram.count, n * n))
      info = scratch.gram.withUnsafeMutableBytes { raw in
        decompose(raw.baseAddress!.assumingMemoryBound(to: S.self))
      }
    } else {
      var gram = [S](repeating: 0, count: n * n)
      info = gram.withUnsafeMutableBufferPointer { decompose($0.baseAddress!) }
    }
    guard let info else { return nil }
    guard info == 0 else { throw LinearAlgebraError(routine: "syevd", info: info) }
    return values
  }

  /// Whether the Gram route's eigensolver is LAPACK's two-stage `dsyevd_2stage` rather than
  /// `dsyevd`: in float64, from n = `twoStageMinimum`, on one BLAS thread (a worker's, or a
  /// one-thread run). Measured here on Gram matrices of random W at one thread: n = 2048
  /// 0.69 against 0.54 s, 3072 2.06 against 2.23 s, 4096 4.5 against 6.0 s, 8192 33 against
  /// 48 s, eigenvalues within 3.5e-14·λmax. Threaded, the two-stage routine was slower (4096 at
  /// two threads: 6.5 against 3.6 s), and in float32 it gained nothing (2.6 s both at 4096).
  static func usesTwoStage<S: BLASScalar>(_ type: S.Type, size n: Int) -> Bool {
    S.self == Double.self && n >= twoStageMinimum && BLASThreads.count == 1
  }

  /// The smallest Gram matrix `usesTwoStage` sends to the two-stage eigensolver.
  static let twoStageMinimum = 3072

  /// Whether the Gram matrix G = WᵀW (upper triangle of `gram`, n × n) has every eigenvalue
  /// above `gramConditionLimit · λmax`, without its eigenvalues: λ̂ ≤ λmax is the larger of
  /// G's largest diagonal entry and the Rayleigh quotient ‖Wv‖²/‖v‖² after six power steps,
  /// and the Cholesky factorisation of G − limit·λ̂·I (on a copy in `work`) fails when some
  /// eigenvalue lies below limit·λ̂ ≤ limit·λmax. A pass is not a proof (λ̂ may be low): the
  /// caller still checks the eigenvalues; a failure always means the limit is not met, up to
  /// the Gram matrix's own round-off. Cost: n³/3 for the factorisation, 12·N·M for the steps.
  static func clearsConditionLimit<S: BLASScalar>(
    gram g: UnsafePointer<S>, n: Int, _ a: UnsafeBufferPointer<S>, rows: Int, columns: Int,
    work: UnsafeMutablePointer<S>
  ) -> Bool {
    let copy = work, u = work + n * n, v = u + rows
    var top = 0.0
    for i in 0..<n { top = Swift.max(top, Double(g[i * n + i])) }
    // Power steps on WᵀW through W itself: v ← Wᵀ(Wv)/‖·‖, λ̂ = ‖Wv‖² for unit v.
    var rng = SplitMix64(seed: 0x5EED)
    for j in 0..<columns { v[j] = S(rng.nextUniform() - 0.5) }
    let r32 = Int32(rows), c32 = Int32(columns)
    for _ in 0..<6 {
      let norm = Double(S.dot(n: c32, x: v, incx: 1, y: v, incy: 1)).squareRoot()
      guard norm > 0, norm.isFinite else { break }
      S.scal(n: c32, alpha: S(1 / norm), x: v, incx: 1)
      S.gemv(transpose: false, m: r32, n: c32, alpha: 1, a: a.baseAddress!, lda: c32, x: v, incx: 1,
             beta: 0, y: u, incy: 1)
      top = Swift.max(top, Double(S.dot(n: r32, x: u, incx: 1, y: u, incy: 1)))
      S.gemv(transpose: true, m: r32, n: c32, alpha: 1, a: a.baseAddress!, lda: c32, x: u, incx: 1,
             beta: 0, y: v, incy: 1)
    }
    guard top > 0 else { return true }
    let shift = S(gramConditionLimit * top)
    for i in 0..<n {
      (copy + i * n + i).update(from: g + i * n + i, count: n - i)
      copy[i * n + i] -= shift
    }
    return S.potrf(copy, size: Int32(n)) == 0
  }

  /// Squared singular values from values-only `gesdd`, ascending, in Double; `gesdd`'s copy of
  /// W lives in `scratch.factored` when given (reused).
  static func svdEigenvalues<S: BLASScalar>(_ a: UnsafeBufferPointer<S>, rows: Int, columns: Int,
                                            scratch: ESDScratch? = nil) throws -> [Double] {
    // A row-major rows×columns buffer is the column-major columns×rows transpose.
    let m = try blasDimension(columns, "columns"), n = try blasDimension(rows, "rows")
    var values = [S](repeating: 0, count: Swift.min(rows, columns))
    let info = withBuffer(of: S.self, count: a.count, in: scratch) { copy in
      copy.update(from: a.baseAddress!, count: a.count)
      return values.withUnsafeMutableBufferPointer { pv in
        S.gesdd(copy, rows: m, columns: n, values: pv.baseAddress!)
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: "gesdd", info: info) }
    return values.reversed().map { let s = Double($0); return s * s }
  }

  /// `count` scalars of S: `scratch.factored`'s storage when given (grown as needed), else a
  /// fresh buffer for the call.
  static func withBuffer<S: BLASScalar, R>(of type: S.Type, count: Int, in scratch: ESDScratch?,
                                           _ body: (UnsafeMutablePointer<S>) -> R) -> R {
    guard let scratch else {
      var fresh = [S](repeating: 0, count: count)
      return fresh.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
    // count scalars of S (at most 8 bytes) fit in count doubles.
    WorkBuffer.resize(&scratch.factored, to: Swift.max(scratch.factored.count, count))
    return scratch.factored.withUnsafeMutableBytes { body($0.baseAddress!.assumingMemoryBound(to: S.self)) }
  }
}
