import CompareCore
import Testing

@Suite("SplitMix64")
struct SplitMix64Tests {
  @Test("matches the reference sequence for seed 0")
  func referenceSequence() {
    // From the reference C implementation (Vigna, splitmix64.c) with x = 0.
    var rng = SplitMix64(seed: 0)
    #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
    #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
    #expect(rng.next() == 0x06C4_5D18_8009_454F)
  }

  @Test("uniform values lie in [0, 1) and Gaussian deviates have mean ≈ 0, variance ≈ 1")
  func distributions() {
    var rng = SplitMix64(seed: 42)
    let n = 20000
    var sum = 0.0, squares = 0.0
    for _ in 0..<n {
      let u = rng.nextUniform()
      #expect(u >= 0 && u < 1)
      let g = rng.nextGaussian()
      sum += g
      squares += g * g
    }
    #expect(abs(sum / Double(n)) < 0.03)
    #expect(abs(squares / Double(n) - 1) < 0.05)
  }

  @Test("indices are unbiased and in range, and shuffles are permutations")
  func indicesAndShuffles() {
    var rng = SplitMix64(seed: 7)
    var counts = [Int](repeating: 0, count: 3)
    for _ in 0..<30000 { counts[rng.nextIndex(below: 3)] += 1 }
    #expect(counts.allSatisfy { abs($0 - 10000) < 400 })
    var values = Array(0..<50)
    values.withUnsafeMutableBufferPointer { rng.shuffle($0) }
    #expect(values.sorted() == Array(0..<50))
    #expect(values != Array(0..<50))
  }
}
