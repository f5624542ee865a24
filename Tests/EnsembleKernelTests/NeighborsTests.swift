import CompareCore
import EnsembleKernel
import Testing

@Suite("Neighbours")
struct NeighborsTests {
  @Test("the top K is best first, and equal kernel values are ordered by training index, lowest first")
  func exactTies() throws {
    let kernel = Matrix<Float>([[1, 3, 3, 2, 3, 0], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [-1, -2, -3, 0, -1, -1]])
    let n = try Neighbors(kernel: kernel, count: 3, firstRow: 7)
    #expect(n.rows == 7..<10)
    #expect(Array(n.indices(of: 7)) == [1, 2, 4])
    #expect(Array(n.values(of: 7)) == [3, 3, 3])
    #expect(Array(n.indices(of: 8)) == [0, 1, 2])
    #expect(Array(n.indices(of: 9)) == [3, 0, 4])
    // Negative control: a strictly larger later value does displace.
    let later = try Neighbors(kernel: Matrix<Float>([[1, 1, 2]]), count: 1)
    #expect(later.indices == [2])
  }

  @Test("ranked by nearest value puts near-duplicates first")
  func ranking() throws {
    let n = try Neighbors(rows: 0..<4, count: 1, indices: [5, 6, 7, 8], values: [0.2, 0.9, 0.2, 0.5])
    #expect(n.rankedByNearest() == [1, 3, 0, 2])
  }

  @Test("cosine-similarity neighbours match a naive computation")
  func cosine() throws {
    var rng = SplitMix64(seed: 9)
    let x = Matrix<Float>.gaussian(rows: 6, columns: 5, using: &rng)
    let y = Matrix<Float>.gaussian(rows: 11, columns: 5, using: &rng)
    let n = try Neighbors.byCosineSimilarity(test: x, train: y, count: 2)
    for i in 0..<6 {
      var best = (-2.0, -1)
      for j in 0..<11 {
        var dot = 0.0, nx = 0.0, ny = 0.0
        for f in 0..<5 {
          dot += Double(x[i, f]) * Double(y[j, f]); nx += Double(x[i, f] * x[i, f]); ny += Double(y[j, f] * y[j, f])
        }
        let s = dot / (nx * ny).squareRoot()
        if s > best.0 { best = (s, j) }
      }
      #expect(n.indices(of: i).first == best.1)
      #expect(abs(Double(n.values(of: i).first!) - best.0) < 1e-5)
    }
    #expect(throws: InputError("test features have 5 columns but training features 4")) {
      try Neighbors.byCosineSimilarity(test: x, train: Matrix<Float>(zeros: 3, 4), count: 1)
    }
  }
}
