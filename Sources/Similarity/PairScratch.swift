import CompareCore

/// One worker's buffers for the pairs it measures, reused pair after pair: the cross product's
/// storage, the measures' small SVDs and pwcca's inner products. Each pair allocated about
/// 8–40 MB of these at 1,024 features, more system time to fault in here than their arithmetic.
package final class PairScratch: @unchecked Sendable {
  var cross: [Double] = []
  let svd = SVDWorkspace<Double>()
  /// pwcca's inner products of the canonical variates with the weighted layer's features.
  var inner: [Double] = []

  package init() {}

  /// The cross product's storage, handed to the next pair.
  func takeCross() -> [Double] {
    let taken = cross
    cross = []
    return taken
  }

  /// Drops a measured pair and keeps its cross product's storage for the next.
  package func recycle(_ pair: consuming LayerPair) {
    cross = pair.cross.elements
  }
}
