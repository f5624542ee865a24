import CompareCore

/// A weight update stored as two factors, ΔW = scale · B · A, as LoRA adapters store it
/// (B `out × r`, A `r × in`), and the eigenvalues of ΔWᵀΔW without forming ΔW.
///
/// ΔW has rank ≤ r, so WᵀW has at most r non-zero eigenvalues. With the thin QR B = Q·R
/// (Q `out × r` orthonormal, R `r × r`), ΔW = scale · Q · (R·A) and Q preserves singular
/// values, so the singular values of ΔW are those of the `r × in` matrix scale · R·A: a QR of
/// B and a decomposition of an r-row matrix, O(r²·(out + in)) instead of O(out·in·min(out, in)).
/// (The same numbers are the eigenvalues of the r×r matrix (BᵀB)(AAᵀ); the QR route avoids
/// squaring B's condition number.)
public struct LowRankProduct: Sendable {
  /// B, `out × r`, row-major.
  public let b: Matrix<Double>
  /// A, `r × in`, row-major.
  public let a: Matrix<Double>
  /// The factor in front of B·A (LoRA's lora_alpha / r; 1 for weightwatcher's B·A).
  public let scale: Double

  /// - Throws: `InputError` when B's columns differ from A's rows, a factor is empty or has a
  ///   NaN/∞ element (with its position), or `scale` is not finite.
  public init(b: Matrix<Double>, a: Matrix<Double>, scale: Double = 1) throws {
    guard b.columns == a.rows else {
      throw InputError("B is \(b.shapeDescription) and A is \(a.shapeDescription): B·A needs B's columns to equal A's rows")
    }
    guard !b.isEmpty, !a.isEmpty else { throw InputError("B (\(b.shapeDescription)) or A (\(a.shapeDescription)) is empty") }
    if let bad = b.firstNonFinite() { throw InputError("B has a non-finite value (\(b[bad.row, bad.column])) at [\(bad.row), \(bad.column)]") }
    if let bad = a.firstNonFinite() { throw InputError("A has a non-finite value (\(a[bad.row, bad.column])) at [\(bad.row), \(bad.column)]") }
    guard scale.isFinite else { throw InputError("the scale \(scale) is not finite") }
    self.b = b
    self.a = a
    self.scale = scale
  }

  /// r, the inner dimension.
  public var rank: Int { b.columns }
  /// ΔW's shape, `out × in`.
  public var rows: Int { b.rows }
  public var columns: Int { a.columns }
  /// How many eigenvalues `eigenvalues` returns: min(r, out, in).
  public var count: Int { Swift.min(rank, rows, columns) }

  /// ΔW = scale · B · A, `out × in` (one GEMM).
  /// - Complexity: O(out·r·in).
  public func product() -> Matrix<Double> {
    let p = b.multiplied(by: a)
    return scale == 1 ? p : p.scaled(by: scale)
  }

  /// The largest min(r, out, in) eigenvalues of ΔWᵀΔW (squared singular values of ΔW),
  /// ascending: all of its non-zero ones.
  ///
  /// When r < min(out, in), through the thin QR of B (see the type's summary); otherwise ΔW is
  /// formed and decomposed whole, which then costs no more.
  /// - Throws: `LinearAlgebraError` when the QR or the decomposition fails.
  /// - Complexity: O(r²·(out + in)) for r < min(out, in).
  public func eigenvalues(solver: EigenvalueSolver = EigenvalueSolver()) throws -> [Double] {
    let r = rank
    let small: Matrix<Double>
    if r < Swift.min(rows, columns) {
      small = try reduced()
    } else {
      small = product()
    }
    let values = try small.elements.withUnsafeBufferPointer {
      try solver.eigenvalues(of: $0, rows: small.rows, columns: small.columns)
    }
    return Array(values.suffix(count))
  }

  /// scale · R · A, `r × in`, whose singular values are ΔW's (B = Q·R, the thin QR).
  func reduced() throws -> Matrix<Double> {
    let (out, r) = (rows, rank)
    let out32 = try blasDimension(out, "rows"), r32 = try blasDimension(r, "rank")
    // A row-major out×r buffer is the column-major r×out Bᵀ: transpose B into column-major.
    var q = [Double](repeating: 0, count: out * r)
    for i in 0..<out { for j in 0..<r { q[j * out + i] = b.elements[i * r + j] } }
    var tau = [Double](repeating: 0, count: r)
    let (routine, info) = q.withUnsafeMutableBufferPointer { pq in
      tau.withUnsafeMutableBufferPointer { pt in
        Double.orthonormalize(pq.baseAddress!, rows: out32, columns: r32, tau: pt.baseAddress!)
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: routine, info: info) }
    // Column-major Q (out × r) is row-major Qᵀ (r × out): R = Qᵀ·B is one GEMM, then R·A.
    let qt = Matrix(rows: r, columns: out, elements: q)
    let rMatrix = qt.multiplied(by: b)
    let ra = rMatrix.multiplied(by: a)
    return scale == 1 ? ra : ra.scaled(by: scale)
  }
}
