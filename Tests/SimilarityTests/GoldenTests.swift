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

/// Every measure against the field's own packages on the same layers (reference.json, made once
/// by Tests/Fixtures/similarity/reference_packages.py: google/svcca, platonic-rep, netrep,
/// rsatoolbox, dcor, scikit-learn; versions in the file). platonic-rep's mutual k-NN returns a
/// float32 mean, hence 1e-6 there. The `_verbatim` entries record where the packages, called as
/// published, differ on purpose from Compare (see the README) and are not compared.
@Suite("Similarity against the reference packages")
struct ReferencePackageTests {
  @Test("every measure equals the reference packages' value (1e-9 relative; mknn 1e-6)")
  func referencePackages() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: GoldenTests.folder + "/reference.json"))
    let reference = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let golden = try GoldenTests.goldens()
    let (namesA, a) = GoldenTests.layers(golden, "a"), (namesB, b) = GoldenTests.layers(golden, "b")
    let settings = MeasureSettings(neighbours: golden["knn"] as! Int)
    let result = try RepresentationComparison(measures: MeasureName.allCases.map { $0.measure(settings) })
      .compare(layersA: a, namesA: namesA, layersB: b, namesB: namesB, settings: settings)
    let measures = reference["measures"] as! [String: [[Any]]]
    var compared = 0
    for table in result.tables {
      let expected = try #require(measures[table.name], "\(table.name) missing from reference.json")
      let tolerance = table.name == "mknn" ? 1e-6 : 1e-9
      for i in a.indices { for j in b.indices {
        guard let value = expected[i][j] as? Double else { continue }  // null: the package cannot
        let ours = try #require(table.values[i][j])
        #expect(abs(ours - value) <= tolerance * max(abs(value), 1e-3), "\(table.name)[\(i)][\(j)]: \(ours) vs \(value)")
        compared += 1
      } }
    }
    #expect(compared >= 12 * a.count * b.count - 2)
    // The control: pwcca.py as published is not the definition, and the test can tell.
    let verbatim = try #require(measures["pwcca_google_verbatim"]?[0][0] as? Double)
    let ours = try #require(result.tables.first { $0.name == "pwcca" }?.values[0][0])
    #expect(abs(ours - verbatim) > 1e-3)
  }
}
