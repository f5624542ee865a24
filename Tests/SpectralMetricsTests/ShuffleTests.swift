import CompareCore
import Testing
@testable import SpectralMetrics

@Suite("Shuffled copies of a layer")
struct ShuffleTests {
  @Test("a shuffled copy draws what copying and then shuffling draws, with or without a scratch, below and above the bucketed threshold",
        arguments: [1000, (1 << 16) + 1, 300_000])
  func copyEqualsCopyThenShuffle(count: Int) {
    let source = (0..<count).map { Double($0) * 0.5 - 7 }
    for scratch in [nil, ESDScratch()] as [ESDScratch?] {
      var a = SplitMix64(seed: 11), b = SplitMix64(seed: 11)
      var copied = source
      shuffleElements(&copied, using: &a, scratch: scratch)
      var direct: [Double] = [1, 2, 3]  // storage of another size, resized
      source.withUnsafeBufferPointer { shuffledCopy(of: $0, into: &direct, using: &b, scratch: scratch) }
      #expect(direct == copied)
      #expect(a.next() == b.next())  // the same number of draws
      #expect(direct.sorted() == source)  // a permutation
      // Negative control: another seed gives another order.
      var c = SplitMix64(seed: 12)
      var other: [Double] = []
      source.withUnsafeBufferPointer { shuffledCopy(of: $0, into: &other, using: &c, scratch: scratch) }
      #expect(other != direct)
    }
  }
}
