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
      ESDScratch.resize(&scratch.narrowed, to: elements.count)
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
    if method != .svd {
      let values = try gramEigenvalues(a, rows: rows, columns: columns, scratch: scratch).map { Double($0) }
      let top = values.last ?? 0, bottom = values[0]
      // float32 is asked for speed: no fallback. An all-zero matrix is exact either way.
      if method == .gram || S.self == Float.self || (top > 0 && bottom >= gramConditionLimit * top)
        || (top == 0 && bottom == 0) {
        return values.map { Swift.max($0, 0) }
      }
    }
    return try svdEigenvalues(a, rows: rows, columns: columns)
  }

  /// Eigenvalues of the Gram matrix on the smaller side: `syrk` then `syevd`, ascending.
  /// The Gram matrix lives in `scratch.gram` when given (reused), else in a fresh buffer.
  static func gramEigenvalues<S: BLASScalar>(_ a: UnsafeBufferPointer<S>, rows: Int, columns: Int,
                                             scratch: ESDScratch? = nil) throws -> [S] {
    let n = Swift.min(rows, columns), k = Swift.max(rows, columns)
    let n32 = try blasDimension(n, "size"), k32 = try blasDimension(k, "size")
    let ld = try blasDimension(columns, "columns")
    var values = [S](repeating: 0, count: n)
    func decompose(_ g: UnsafeMutablePointer<S>) -> Int32 {
      // Row-major W (rows × columns): WᵀW when columns ≤ rows, else WWᵀ.
      S.syrk(transpose: columns <= rows, n: n32, k: k32, alpha: 1, a: a.baseAddress!, lda: ld,
             beta: 0, c: g, ldc: n32)
      return values.withUnsafeMutableBufferPointer { v in S.syevd(g, size: n32, values: v.baseAddress!) }
    }
    let info: Int32
    if let scratch {
      // n² scalars of S fit in n² doubles.
      ESDScratch.resize(&scratch.gram, to: Swift.max(scratch.gram.count, n * n))
      info = scratch.gram.withUnsafeMutableBytes { raw in
        decompose(raw.baseAddress!.assumingMemoryBound(to: S.self))
      }
    } else {
      var gram = [S](repeating: 0, count: n * n)
      info = gram.withUnsafeMutableBufferPointer { decompose($0.baseAddress!) }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: "syevd", info: info) }
    return values
  }

  /// Squared singular values from values-only `gesdd`, ascending, in Double.
  static func svdEigenvalues<S: BLASScalar>(_ a: UnsafeBufferPointer<S>, rows: Int, columns: Int) throws -> [Double] {
    // A row-major rows×columns buffer is the column-major columns×rows transpose.
    let m = try blasDimension(columns, "columns"), n = try blasDimension(rows, "rows")
    var copy = Array(a)
    var values = [S](repeating: 0, count: Swift.min(rows, columns))
    let info = copy.withUnsafeMutableBufferPointer { pa in
      values.withUnsafeMutableBufferPointer { pv in
        S.gesdd(pa.baseAddress!, rows: m, columns: n, values: pv.baseAddress!)
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: "gesdd", info: info) }
    return values.reversed().map { let s = Double($0); return s * s }
  }
}
