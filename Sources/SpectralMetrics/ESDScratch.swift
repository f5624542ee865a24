import CompareCore
/// Work buffers of the ESD analysis, reused from one large layer to the next.
///
/// A large layer's analysis needs its elements in float64, a copy to shuffle, a float32 copy
/// for the float32 solver, a Gram matrix and the SVD's copy: hundreds of MB each for an LLM's layers. Fresh
/// memory costs about 0.6 GB/s to fault in on these machines, so allocating them per layer
/// spent more time in the kernel than the decompositions on 4096-wide layers (20 % of a 7B
/// model's run). The buffers grow to the largest layer and are then reused; the large layers
/// run one at a time, so one scratch serves them all (the small layers, analysed in parallel,
/// allocate their own, which malloc recycles).
package final class ESDScratch: @unchecked Sendable {
  /// The layer's elements, as loaded (`WeightLayer.loadInto`).
  package var elements: [Double] = []
  /// The random counterpart's slices, shuffled in place.
  package var shuffled: [[Double]] = []
  /// The large-array shuffle's bucket labels and scattered copy (`shuffleElements`).
  package var shuffleBuckets: [UInt8] = []
  package var shuffleOutput: [Double] = []
  /// The float32 copy the float32 solver decomposes.
  package var narrowed: [Float] = []
  /// A float32 layer as loaded (`WeightLayer.loadFloatsInto`), its shuffled copy and the
  /// large-array shuffle's second buffer (`ESDAnalyzer.floatSpectra`).
  package var floats: [Float] = []
  package var shuffledFloats: [Float] = []
  package var shuffleOutputFloats: [Float] = []
  /// Float64 panels of a float32 W, widened for its Gram matrix
  /// (`EigenvalueSolver.eigenvalues(ofWidening:rows:columns:scratch:)`).
  package var panel: [Double] = []
  /// The Gram matrix (as float64 storage, rebound to float32 when the solver works in float32).
  package var gram: [Double] = []
  /// `gesdd`'s copy of W, or the Gram matrix's copy the conditioning probe factors
  /// (`EigenvalueSolver.clearsConditionLimit`); float64 storage, rebound to float32 as needed.
  package var factored: [Double] = []
  /// A second set of decomposition buffers, for W while its random draws use this one
  /// (`ESDAnalyzer.concurrentSpectra`); created on first use.
  package lazy var companion = ESDScratch()

  package init() {}

  /// Keeps `count` arrays in `shuffled`, each with its storage.
  func resizeShuffled(to count: Int) {
    if shuffled.count > count { shuffled.removeLast(shuffled.count - count) }
    while shuffled.count < count { shuffled.append([]) }
  }

  /// Copies `slices` into `shuffled`, reusing its arrays' storage.
  func copyToShuffled(_ slices: [[Double]]) {
    resizeShuffled(to: slices.count)
    for s in slices.indices {
      WorkBuffer.resize(&shuffled[s], to: slices[s].count)
      shuffled[s].withUnsafeMutableBufferPointer { out in
        slices[s].withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
      }
    }
  }
}
