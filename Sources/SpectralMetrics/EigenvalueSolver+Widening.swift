import CompareCore

extension EigenvalueSolver {
  /// Rows or columns of a float32 W widened to float64 per panel of its Gram matrix.
  static let widenedPanel = 512

  /// `eigenvalues(of:rows:columns:scratch:)` for a W held in float32 (its values exactly those
  /// of the float64 route's W), without a float64 copy of W: at float64 precision the Gram
  /// matrix on the smaller side is the sum over panels of `widenedPanel` rows (WᵀW) or columns
  /// (WWᵀ), each widened into `scratch.panel` and added by one `dsyrk`. Then `syevd` and the
  /// same condition check as the float64 route; a layer the check sends to `gesdd`, and any
  /// layer `--method svd` or the conditioning probe would handle (`probesConditioning`), is
  /// widened whole and takes the float64 route. At float32 precision W is decomposed as it is.
  /// The eigenvalues agree with the float64 route's to the Gram matrix's round-off (the sums
  /// are added in another order).
  /// - Throws: as `eigenvalues(of:rows:columns:)`.
  package func eigenvalues(ofWidening a: UnsafeBufferPointer<Float>, rows: Int, columns: Int,
                           scratch: ESDScratch) throws -> [Double] {
    precondition(a.count == rows * columns)
    if precision == .float32 {
      return try Self.eigenvalues(Float.self, a, rows: rows, columns: columns, method: method, scratch: scratch)
    }
    let n = Swift.min(rows, columns)
    if n == 0 { return [] }
    if method == .svd || probesConditioning(rows: rows, columns: columns) {
      return try a.map { Double($0) }.withUnsafeBufferPointer {
        try Self.eigenvalues(Double.self, $0, rows: rows, columns: columns, method: method, scratch: scratch)
      }
    }
    let values = try Self.widenedGramEigenvalues(a, rows: rows, columns: columns, scratch: scratch)
    let top = values.last ?? 0, bottom = values[0]
    if method == .gram || (top > 0 && bottom >= Self.gramConditionLimit * top) || (top == 0 && bottom == 0) {
      return values.map { Swift.max($0, 0) }
    }
    // The float64 route's fallback: `gesdd` on W in float64, in a buffer of its own.
    return try a.map { Double($0) }.withUnsafeBufferPointer {
      try Self.svdEigenvalues($0, rows: rows, columns: columns, scratch: nil)
    }
  }

  /// The eigenvalues of the float64 Gram matrix of a float32 W (row-major rows × columns) on
  /// its smaller side, ascending: panels widened into `scratch.panel`, summed by `dsyrk` into
  /// `scratch.gram`, then `dsyevd` (two-stage where `usesTwoStage` says).
  static func widenedGramEigenvalues(_ a: UnsafeBufferPointer<Float>, rows: Int, columns: Int,
                                     scratch: ESDScratch) throws -> [Double] {
    let tall = columns <= rows
    let n = Swift.min(rows, columns), k = Swift.max(rows, columns)
    let n32 = try blasDimension(n, "size")
    let width = Swift.min(widenedPanel, k)
    WorkBuffer.resize(&scratch.gram, to: Swift.max(scratch.gram.count, n * n))
    WorkBuffer.resize(&scratch.panel, to: Swift.max(scratch.panel.count, n * width))
    var values = [Double](repeating: 0, count: n)
    let info = scratch.gram.withUnsafeMutableBufferPointer { gram in
      scratch.panel.withUnsafeMutableBufferPointer { panel in
        let p = panel.baseAddress!, w = a.baseAddress!
        for first in stride(from: 0, to: k, by: width) {
          let count = Swift.min(width, k - first)
          if tall {
            // Rows first..<first+count of W: contiguous, count × columns; G += PᵀP.
            for i in 0..<(count * columns) { p[i] = Double(w[first * columns + i]) }
            Double.syrk(transpose: true, n: n32, k: Int32(count), alpha: 1, a: p, lda: n32,
                        beta: first == 0 ? 0 : 1, c: gram.baseAddress!, ldc: n32)
          } else {
            // Columns first..<first+count of every row, as a rows × count panel; G += PPᵀ.
            for r in 0..<rows {
              let source = w + r * columns + first, target = p + r * count
              for j in 0..<count { target[j] = Double(source[j]) }
            }
            Double.syrk(transpose: false, n: n32, k: Int32(count), alpha: 1, a: p, lda: Int32(count),
                        beta: first == 0 ? 0 : 1, c: gram.baseAddress!, ldc: n32)
          }
        }
        return values.withUnsafeMutableBufferPointer { v in
          Double.syevd(gram.baseAddress!, size: n32, values: v.baseAddress!, twoStage: usesTwoStage(Double.self, size: n))
        }
      }
    }
    guard info == 0 else { throw LinearAlgebraError(routine: "syevd", info: info) }
    return values
  }
}
