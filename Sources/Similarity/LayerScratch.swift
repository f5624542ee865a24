import CompareCore

/// One worker's work buffers for making layers' representations (`LayerRepresentation`),
/// allocated once per comparison and reused layer after layer. One worker uses it at a time.
///
/// A layer as read, its centred, standardised or normalised float64 copy, the QR's panel and the n×n inner
/// products (rsa sorts its keys in the same buffer) are needed only while the layer is made. Made fresh per layer,
/// they were most of `compare similarity`'s system time (fresh memory costs about 0.5 s per GB
/// to fault in here); now only what a representation keeps (its singular vectors, its distance
/// triangle or its ranks) is allocated per layer.
package final class LayerScratch: @unchecked Sendable {
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

  /// The small SVD of each layer's QR factor (`LayerDecomposition`), with LAPACK's workspace.
  var svd: SVDWorkspace<Double> { pairs.svd }
  /// The buffers of the pairs this worker measures (the SVD workspace is shared: a worker makes
  /// a layer or measures a pair, never both at once).
  let pairs = PairScratch()

  /// Buffers given back by transient layers (`recycle`), for the next layers' Gram matrices,
  /// singular vectors and projections.
  var spare: [[Double]] = []

  package init() {}

  /// Hands the Gram buffer to a transient layer (rsa), which keeps its ranks in it; the next
  /// Gram matrix goes into a spare buffer or a new one.
  func lendGram() -> [Double] {
    let lent = gram
    gram = []
    return lent
  }

  /// The smallest spare buffer that holds `count` elements, taken from the spares, or an empty
  /// array (contents unspecified; `WorkBuffer.resize` or `Matrix.product(…, into:)` sizes it).
  func takeSpare(holding count: Int) -> [Double] {
    guard let best = spare.indices.filter({ spare[$0].capacity >= count })
      .min(by: { spare[$0].capacity < spare[$1].capacity }) else { return [] }
    return spare.remove(at: best)
  }

  /// Resizes `gram` to `count` elements, taking a spare buffer that holds them when its own
  /// storage is too small (after a transient layer took it, say); contents unspecified.
  func resizeGram(to count: Int) {
    if gram.capacity < count { gram = takeSpare(holding: count) }
    WorkBuffer.resize(&gram, to: count)
  }

  /// Drops a transient layer and takes back the buffers it was lent or made in spares (now
  /// referenced only here, so they are reused in place, not copied).
  package func recycle(_ layer: inout LayerRepresentation?) {
    guard let r = layer else { return }
    let lent = [r.dissimilarities?.storage, r.distances?.storage, r.spectrum?.leftVectorsTransposed.elements,
                r.spectrum?.projections.elements].compactMap { $0 }
    layer = nil
    spare.append(contentsOf: lent.filter { $0.capacity > 0 })
  }

  /// Writes the upper triangle of C·Cᵀ into `gram` (n×n, row-major), C the n×p `copy`. One
  /// `syrk`.
  func makeGramOfCopy(rows n: Int, columns p: Int) {
    resizeGram(to: n * n)
    guard n > 0, p > 0 else { return }
    copy.withUnsafeBufferPointer { c in
      gram.withUnsafeMutableBufferPointer { g in
        Double.syrk(transpose: false, n: Int32(n), k: Int32(p), alpha: 1, a: c.baseAddress!, lda: Int32(p),
                    beta: 0, c: g.baseAddress!, ldc: Int32(n))
      }
    }
  }
}
