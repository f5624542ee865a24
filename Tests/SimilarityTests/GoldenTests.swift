import CompareCore
import Foundation
import Similarity
import Testing

/// Every measure against the float64 numpy implementation of Tests/Fixtures/similarity, which
/// goes through whitened covariances and `lstsq` rather than singular bases: two formulations
/// that agree to rounding. 1e-9 leaves room for the conditioning of the rank-3 layer.
@Suite("Similarity goldens")
struct GoldenTests {
  static let folder: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)
    return parts.joined(separator: "/") + "/Fixtures/similarity"
  }()

  static func goldens() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/goldens.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  static func layers(_ object: [String: Any], _ side: String) -> (names: [String], matrices: [Matrix<Double>]) {
    let names = object["names_" + side] as! [String]
    let layers = object["layers_" + side] as! [String: [[Double]]]
    return (names, names.map { Matrix(layers[$0]!) })
  }

  @Test("every measure matches the float64 numpy implementation to 1e-9")
  func goldens() throws {
    try Self.check(try Self.goldens(), wide: false)
  }

  @Test("wide layers (12 examples, up to 30 features: QR first) match too, and warn that CCA is trivial")
  func wideGoldens() throws {
    let object = try Self.goldens()
    var wide = object["wide"] as! [String: Any]
    wide["ridge"] = object["ridge"]
    wide["knn"] = object["knn"]
    try Self.check(wide, wide: true)
  }

  static func check(_ object: [String: Any], wide: Bool) throws {
    let (namesA, a) = Self.layers(object, "a"), (namesB, b) = Self.layers(object, "b")
    let expected = object["measures"] as! [String: [[Double]]]
    let ridge = object["ridge"] as! Double
    let settings = MeasureSettings(neighbours: object["knn"] as! Int)
    var measures = MeasureName.allCases.map { $0.measure(settings) }
    measures.append(LinearRegressionSimilarity(ridge: ridge))
    let result = try RepresentationComparison(measures: measures)
      .compare(layersA: a, namesA: namesA, layersB: b, namesB: namesB, settings: settings)
    #expect(result.tables.count == expected.count)
    for (k, table) in result.tables.enumerated() {
      let key = k == MeasureName.allCases.count ? "linreg_ridge" : table.name
      let golden = try #require(expected[key], "\(key)")
      for i in a.indices { for j in b.indices {
        let value = try #require(table.values[i][j], "\(key)[\(i)][\(j)]")
        #expect(abs(value - golden[i][j]) < 1e-9, "\(key)[\(i)][\(j)]: \(value) vs \(golden[i][j])")
      } }
    }
    // Wide: w1, w2 and v2 have at least as many features as the 12 examples.
    #expect(result.warnings.count == (wide ? 3 : 0), "\(result.warnings)")
  }
}
