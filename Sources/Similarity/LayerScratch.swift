import CompareCore

/// One worker's work buffers for making layers' representations (`LayerRepresentation`),
/// allocated once per comparison and reused layer after layer.
///
/// A layer as read, its centred, standardised or normalised float64 copy, the QR's panel and the n×n inner
/// products (rsa sorts its keys in the same buffer) are needed only while the layer is made. Made fresh per layer,
/// they were most of `compare similarity`'s system time (fresh memory costs about 0.5 s per GB
/// to fault in here); now only what a representation keeps (its singular vectors, its distance
/// triangle or its ranks) is allocated per layer.
package final class LayerScratch {
  /// The layer as read (`LayerInput` with a reader).
  var input: [Double] = []
  /// The layer's float64 copy, centred (`LayerDecomposition`, `UCentredDistances`), standardised
  /// by row (`RankedDissimilarities`) or normalised by row (`NeighbourLists`).
  var copy: [Double] = []
  /// The QR's panel: the centred layer column-major, then Q.
  var panel: [Double] = []
  /// The n×n inner products (upper triangle), then, packed, the upper triangle's values (and
  /// for rsa the sort's keys and its second buffer).
  var gram: [Double] = []

  package init() {}

  /// Writes the upper triangle of C·Cᵀ into `gram` (n×n, row-major), C the n×p `copy`. One
  /// `syrk`.
  func makeGramOfCopy(rows n: Int, columns p: Int) {
    WorkBuffer.resize(&gram, to: n * n)
    guard n > 0, p > 0 else { return }
    copy.withUnsafeBufferPointer { c in
      gram.withUnsafeMutableBufferPointer { g in
        Double.syrk(transpose: false, n: Int32(n), k: Int32(p), alpha: 1, a: c.baseAddress!, lda: Int32(p),
                    beta: 0, c: g.baseAddress!, ldc: Int32(n))
      }
    }
  }
}
