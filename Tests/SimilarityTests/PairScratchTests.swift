import CompareCore
import Testing
@testable import Similarity

@Suite("Similarity: pair buffers")
struct PairScratchTests {
  @Test("consecutive pairs make their cross product in the same storage, with the values of a fresh pair")
  func reused() throws {
    let needs: LayerNeeds = .spectrum
    let layers = (0..<3).map { try! LayerRepresentation(of: WorkBufferReuseTests.layer(30, 12, seed: UInt64($0)), needs: needs) }
    let scratch = PairScratch()
    var addresses = Set<UnsafeRawPointer?>()
    for (x, y) in [(0, 1), (1, 2), (2, 0)] {
      let pair = try LayerPair(layers[x], layers[y], scratch: scratch)
      let fresh = try LayerPair(layers[x], layers[y])
      #expect(pair.cross.elements == fresh.cross.elements)
      for measure in [CKASimilarity(), CCASimilarity(), PWCCASimilarity(), ProcrustesDistance()] as [any SimilarityMeasure] {
        #expect(try measure.value(pair) == measure.value(fresh), "\(measure.name)")
      }
      addresses.insert(StreamedLayerTests.address(pair.cross.elements))
      scratch.recycle(pair)
    }
    #expect(addresses.count == 1)
    // Control: a pair of other layers has another cross product.
    #expect(try LayerPair(layers[0], layers[1]).cross.elements != LayerPair(layers[0], layers[2]).cross.elements)
  }
}
