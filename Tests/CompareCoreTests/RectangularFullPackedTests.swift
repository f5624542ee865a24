import CompareCore
import Testing

@Suite("Rectangular full packed layout")
struct RectangularFullPackedTests {
  /// An n×p row-major matrix of values from a fixed sequence.
  static func rows(_ n: Int, _ p: Int, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<(n * p)).map { _ in Double(rng.next() % 2001) / 1000 - 1 }
  }

  @Test("sfrk's packed entries are syrk's upper triangle at the mapped offsets", arguments: [1, 2, 3, 4, 5, 8, 9, 64, 101])
  func matchesSyrk(n: Int) {
    let p = 7, x = Self.rows(n, p, seed: UInt64(n))
    let layout = RectangularFullPacked(order: n)
    var packed = [Double](repeating: .nan, count: layout.count)
    var full = [Double](repeating: 0, count: n * n)
    Double.sfrk(n: Int32(n), k: Int32(p), alpha: 1, a: x, lda: Int32(p), beta: 0, c: &packed)
    Double.syrk(transpose: false, n: Int32(n), k: Int32(p), alpha: 1, a: x, lda: Int32(p), beta: 0,
                c: &full, ldc: Int32(n))
    var worst = 0.0
    for i in 0..<n {
      for j in i..<n {
        worst = max(worst, abs(packed[layout.offset(i, j)] - full[i * n + j]))
        #expect(layout.offset(i, j) == layout.offset(j, i))
      }
    }
    #expect(worst < 1e-12)
    // Negative control: the row-by-row packed layout (LAPACK's 'U' packed storage) read from the
    // same array misplaces entries as soon as n ≥ 2.
    if n >= 2 {
      let misread = (0..<n).flatMap { i in
        (i..<n).map { j in abs(packed[i * n - i * (i - 1) / 2 + (j - i)] - full[i * n + j]) }
      }
      #expect(misread.contains { $0 > 1e-6 })
    }
  }

  @Test("the runs cover every entry of the triangle once, with the entry they say", arguments: [0, 1, 2, 5, 6, 17, 18])
  func runsCoverTheTriangle(n: Int) {
    let layout = RectangularFullPacked(order: n)
    var seen = Set<Int>(), next = 0
    layout.forEachRun { run in
      #expect(run.start == next)
      next += run.count
      for k in 0..<run.count {
        let (i, j) = (min(run.fixed, run.first + k), max(run.fixed, run.first + k))
        #expect(layout.offset(i, j) == run.start + k)
        #expect(seen.insert(i * max(n, 1) + j).inserted)
      }
    }
    #expect(next == layout.count)
    #expect(seen.count == n * (n + 1) / 2)
  }
}
