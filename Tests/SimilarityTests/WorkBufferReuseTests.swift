import CompareCore
import Synchronization
import Testing
@testable import Similarity

/// Layers made one after another in one worker's `LayerScratch` (the comparison's path) equal
/// layers made each with fresh buffers, whatever the order of their shapes; rsa's radix sort
/// ranks as the comparison sort does, ties included.
@Suite("Similarity work buffers")
struct WorkBufferReuseTests {
  static func layer(_ n: Int, _ p: Int, seed: UInt64, levels: Double? = nil) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    return Matrix(rows: n, columns: p) { _, _ in
      let g = rng.nextGaussian() + 0.5
      // A few levels and ReLU: many equal dissimilarities (ties) and zero rows.
      return levels.map { max(($0 * g).rounded(), 0) } ?? g
    }
  }

  /// Equal to 1e-12 of the largest magnitude: other suites running at the same time change the
  /// process's BLAS thread count, and a threaded GEMM or QR may round differently. A buffer read
  /// stale would differ in the first digits.
  static func close(_ x: [Double], _ y: [Double]) -> Bool {
    let scale = max(x.map(abs).max() ?? 0, 1e-300)
    return x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-12 * scale }
  }

  @Test("one scratch through layers of growing and shrinking shapes gives what fresh buffers give")
  func reuse() throws {
    let shapes = [(60, 40), (30, 70), (80, 20), (25, 25), (60, 40)]
    // The last layer is the first again.
    let layers = shapes.enumerated().map { Self.layer($1.0, $1.1, seed: UInt64($0 % 4 + 1)) }
    let needs: LayerNeeds = [.spectrum, .dissimilarities, .neighbours, .distances]
    let scratch = LayerScratch()
    for x in layers {
      let reused = try LayerRepresentation(of: x, needs: needs, neighbours: 5, scratch: scratch)
      let fresh = try LayerRepresentation(of: x, needs: needs, neighbours: 5)
      #expect(Self.close(reused.spectrum!.singularValues, fresh.spectrum!.singularValues))
      #expect(Self.close(reused.spectrum!.leftVectorsTransposed.elements, fresh.spectrum!.leftVectorsTransposed.elements))
      #expect(Self.close(reused.spectrum!.projections.elements, fresh.spectrum!.projections.elements))
      #expect(Self.close(reused.dissimilarities!.ranks, fresh.dissimilarities!.ranks))
      #expect(reused.neighbours!.indices == fresh.neighbours!.indices)
      #expect(Self.close(reused.distances!.upperTriangle, fresh.distances!.upperTriangle))
    }
    // Control: a scratch left holding a larger layer is overwritten, not read: the last layer
    // has the first one's shape and values, and matches it.
    let first = try LayerRepresentation(of: layers[0], needs: needs, neighbours: 5)
    let last = try LayerRepresentation(of: layers[4], needs: needs, neighbours: 5, scratch: scratch)
    #expect(Self.close(first.spectrum!.singularValues, last.spectrum!.singularValues))
    #expect(!Self.close(first.spectrum!.singularValues,
                        try LayerDecomposition(of: Self.layer(60, 40, seed: 9)).singularValues))
  }

  @Test("rsa's radix-sorted ranks equal the comparison sort's, with many ties; a different layer's do not")
  func radixRanks() {
    let x = Self.layer(90, 4, seed: 7, levels: 1)
    let ranks = RankedDissimilarities(of: x).ranks
    // The comparison sort on the same rounded dissimilarities (1 − Pearson, 10 decimals).
    let n = x.rows, p = x.columns
    var z = x.elements
    for i in 0..<n {
      let mean = (0..<p).reduce(0.0) { $0 + z[i * p + $1] } / Double(p)
      var norm = 0.0
      for j in 0..<p { z[i * p + j] -= mean; norm += z[i * p + j] * z[i * p + j] }
      for j in 0..<p { z[i * p + j] *= norm > 0 ? 1 / norm.squareRoot() : 0 }
    }
    var d: [Double] = []
    for i in 0..<n { for j in (i + 1)..<n {
      let corr = (0..<p).reduce(0.0) { $0 + z[i * p + $1] * z[j * p + $1] }
      d.append(((1 - corr) * 1e10).rounded(.toNearestOrEven) / 1e10)
    } }
    #expect(Set(d).count < d.count / 4, "the data has many ties")
    let expected = RankedDissimilarities.centredUnitRanks(d)
    #expect(ranks.count == expected.count)
    #expect(zip(ranks, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    let other = RankedDissimilarities(of: Self.layer(90, 4, seed: 8, levels: 1)).ranks
    #expect(!zip(other, expected).allSatisfy { abs($0 - $1) < 1e-12 })
  }

  @Test("the distance triangle expands to the symmetric n×n Ã with a zero diagonal and zero row sums")
  func triangle() {
    let d = UCentredDistances(of: Self.layer(20, 6, seed: 3))
    let a = d.values, n = 20
    #expect(d.upperTriangle.count == n * (n - 1) / 2)
    for i in 0..<n {
      #expect(a[i * n + i] == 0)
      for j in 0..<n { #expect(a[i * n + j] == a[j * n + i]) }
      // U-centring makes every row of Ã sum to zero.
      #expect(abs((0..<n).reduce(0.0) { $0 + a[i * n + $1] }) < 1e-9)
    }
    #expect(abs(a.reduce(0) { $0 + $1 * $1 } - d.selfProduct) < 1e-9 * d.selfProduct)
  }
}

/// Decompositions shared by the measures of a pair are keyed by what they decompose: each
/// measure gives the same value alone as with the others (to 1e-12: other suites change the
/// BLAS thread count meanwhile; a wrong key gives another measure's value).
@Suite("Similarity: decompositions shared across measures")
struct SharedDecompositionTests {
  @Test("every measure alone equals the same measure among all the others")
  func aloneOrTogether() throws {
    let a = [WorkBufferReuseTests.layer(50, 12, seed: 1), WorkBufferReuseTests.layer(50, 30, seed: 2)]
    let b = [WorkBufferReuseTests.layer(50, 8, seed: 3)]
    let all = MeasureName.allCases.map { $0.measure(MeasureSettings(svccaVariance: 0.9)) }
    let together = try RepresentationComparison(measures: all)
      .compare(layersA: a, namesA: ["a0", "a1"], layersB: b, namesB: ["b0"])
    for (k, measure) in all.enumerated() {
      let alone = try RepresentationComparison(measures: [measure])
        .compare(layersA: a, namesA: ["a0", "a1"], layersB: b, namesB: ["b0"])
      #expect(Self.close(alone.tables[0], together.tables[k]), "\(measure.name)")
    }
    // svcca keeps fewer directions than the ranks here, so its correlations are not cca's.
    #expect(!Self.close(together.tables[3], together.tables[1]))
  }

  /// Two tables' values close (`WorkBufferReuseTests.close`), null where both are null.
  static func close(_ x: RepresentationComparison.Table, _ y: RepresentationComparison.Table) -> Bool {
    // No measure takes the value −7: a null stands for it.
    func flat(_ t: RepresentationComparison.Table) -> [Double] { t.values.flatMap { $0.map { $0 ?? -7 } } }
    return WorkBufferReuseTests.close(flat(x), flat(y))
  }
}

/// `compare(inputsA:...)` reports its steps: each layer made, each pair measured.
@Suite("Similarity progress")
struct SimilarityProgressTests {
  @Test("progress reaches layers + pairs, once per step; a failing layer stops short of it")
  func steps() throws {
    let a = [WorkBufferReuseTests.layer(30, 5, seed: 1), WorkBufferReuseTests.layer(30, 7, seed: 2)]
    let b = [WorkBufferReuseTests.layer(30, 4, seed: 3)]
    let seen = Mutex<[Int]>([])
    _ = try RepresentationComparison(measures: [CKASimilarity(), DistanceCorrelationSimilarity()])
      .compare(inputsA: a.map(LayerInput.init), namesA: ["a0", "a1"], inputsB: b.map(LayerInput.init), namesB: ["b0"]) { done, total in
        #expect(total == 3 + 2)
        seen.withLock { $0.append(done) }
      }
    #expect(seen.withLock { $0.sorted() } == [1, 2, 3, 4, 5])
    // Control: a layer that cannot be read: an error, and no pair is measured.
    let failing = LayerInput(examples: 30, features: 4) { _ in throw InputError("unreadable") }
    let steps = Mutex<[Int]>([])
    #expect(throws: InputError.self) {
      try RepresentationComparison(measures: [CKASimilarity()])
        .compare(inputsA: a.map(LayerInput.init), namesA: ["a0", "a1"], inputsB: [failing], namesB: ["b0"]) { done, _ in
          steps.withLock { $0.append(done) }
        }
    }
    #expect(steps.withLock { $0.count } == 3)
  }
}
