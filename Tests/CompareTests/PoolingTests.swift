import Compare
import Foundation
import Testing

@Suite("Pooling of token and spatial activations")
struct PoolingTests {
  static let folder = packageRoot + "Tests/Fixtures/cka/pool/"
  static let golden: [String: [String: [[Double]]]] = {
    let data = FileManager.default.contents(atPath: folder + "golden.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: [String: [[Double]]]]
  }()

  @Test("mean, max, cls, last and flatten equal numpy's, batch by batch", arguments: ActivationSet.Pooling.allCases)
  func pooled(pool: ActivationSet.Pooling) throws {
    let layers = pool == .cls || pool == .last ? ["tokens", "dense"] : ["tokens", "spatial", "dense"]
    let set = try ActivationSet(path: Self.folder + "activations.npz", layers: layers, pool: pool)
    var batch: [Matrix<Double>] = []
    for rows in [0..<4, 4..<6] {   // two batches: the second refills the first's buffers
      try set.read(rows: rows, into: &batch)
      for (layer, matrix) in zip(layers, batch) {
        let expected = Self.golden[layer]![layer == "dense" ? "flatten" : pool.rawValue]!
        #expect(matrix.columns == expected[0].count, "\(layer) \(pool)")
        for (r, row) in rows.enumerated() {
          for c in 0..<matrix.columns {
            #expect(abs(matrix[r, c] - expected[row][c]) < 1e-6, "\(layer) \(pool) [\(row), \(c)]")
          }
        }
      }
    }
  }

  @Test("cls of a [n, C, H, W] layer is an error naming it; mean differs from flatten (negative control)")
  func badAndControl() throws {
    #expect(throws: ReadError.self) {
      try ActivationSet(path: Self.folder + "activations.npz", layers: ["spatial"], pool: .cls)
    }
    let mean = try ActivationSet(path: Self.folder + "activations.npz", layers: ["tokens"], pool: .mean)
    let flat = try ActivationSet(path: Self.folder + "activations.npz", layers: ["tokens"])
    #expect(mean.features == [5] && flat.features == [20])
  }
}
