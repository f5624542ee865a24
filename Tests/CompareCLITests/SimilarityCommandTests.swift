@testable import CompareCLI
import Compare
import Foundation
import Testing

/// `compare similarity` on the bundled activations and the CKA fixtures.
@Suite("compare similarity")
struct SimilarityCommandTests {
  static let d = packageRoot + "Examples/data/"
  let mlp = d + "activations_mlp.safetensors", cnn = d + "activations_cnn.npz"
  static let usage = "Usage: compare similarity [--measure <list>] [--layers-a <names>] [--layers-b <names>] [--examples <n>] [--paired-by-index] [--pool <pool>] [--name-a <name>] [--name-b <name>] [--cca-tolerance <t>] [--svcca-variance <f>] [--ridge <λ>] [--heatmap <prefix>] [--knn <k>] [--json] <a> <b>\n  See 'compare similarity --help' for more information.\n"

  @Test("--json has the issue's keys, every measure with its direction, and cka equal to compare cka's full estimator")
  func json() throws {
    let result = runCompare(["similarity", mlp, cnn, "--examples", "200", "--layers-a", "fc2,logits", "--json"])
    #expect(result.status == 0)
    let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    #expect(Array(object.keys).sorted() == ["examples", "measures", "model1_layers", "model1_name",
                                            "model2_layers", "model2_name", "warnings"])
    #expect(object["model1_layers"] as? [String] == ["fc2", "logits"])
    #expect(object["model2_layers"] as? [String] == ["conv1", "conv2", "conv3", "fc1", "logits"])
    #expect(object["examples"] as? Int == 200)
    let measures = object["measures"] as! [String: [String: Any]]
    #expect(Set(measures.keys) == Set(MeasureName.allCases.map(\.rawValue)))
    #expect(measures["procrustes"]?["direction"] as? String == "distance")
    #expect(measures["cka"]?["direction"] as? String == "similarity")
    #expect((measures["svcca"]?["parameters"] as? [String: Double])?["variance"] == 0.99)
    #expect((measures["mknn"]?["parameters"] as? [String: Double])?["k"] == 10)

    // The first 200 examples: compare cka --estimator full on the same rows must agree.
    let (a, b) = try ActivationSet.pair(mlp, cnn, layersA: ["fc2", "logits"])
    let rows = 0..<200
    let reference = try LinearCKA().similarities(layersA: try a.batch(rows: rows, as: Double.self),
                                                 layersB: try b.batch(rows: rows, as: Double.self))
    let cka = measures["cka"]!["values"] as! [[Double]]
    for i in 0..<2 { for j in 0..<5 { #expect(abs(cka[i][j] - reference.values[i, j]) < 1e-10) } }
  }

  @Test("the table prints one matrix per measure, with its direction and parameters")
  func table() {
    let result = runCompare(["similarity", mlp, cnn, "--measure", "cka,procrustes,linreg", "--layers-a", "fc1",
                             "--layers-b", "conv1,fc1", "--name-a", "mlp", "--name-b", "cnn"])
    #expect(result.status == 0)
    #expect(result.out.hasPrefix("""
      Similarity of mlp (rows, 1 layers) against cnn (columns, 2 layers): 450 examples

      cka (similarity, higher = more alike)
      layer   conv1     fc1
      fc1    0.8654  0.7940

      procrustes (distance, lower = more alike)
      """))
    #expect(result.out.contains("linreg (similarity, higher = more alike, tolerance 1e-06, ridge 0)\n"))
    #expect(result.err.isEmpty)
  }

  @Test("an unknown measure is a usage error naming it")
  func unknownMeasure() {
    let result = runCompare(["similarity", mlp, cnn, "--measure", "cka,bogus"])
    #expect(result.status == 64)
    #expect(result.err == "Error: --measure: unknown measure 'bogus' (expected all or cka, cca, cca_r2, svcca, pwcca, procrustes, procrustes_euclidean, linreg, rsa, mknn, cknna, dcor)\n" + Self.usage)
  }

  @Test("cknna with --knn 1 is a usage error; too many examples is a data error")
  func badNumbers() {
    let knn = runCompare(["similarity", mlp, cnn, "--measure", "cknna", "--knn", "1"])
    #expect(knn.status == 64)
    #expect(knn.err == "Error: --knn must be at least 2 for cknna, got 1\n" + Self.usage)
    let examples = runCompare(["similarity", mlp, cnn, "--examples", "451"])
    #expect(examples.status == 1)
    #expect(examples.err == "Error: activations_mlp.safetensors has 450 examples; --examples 451 asks for more\n")
  }

  @Test("--heatmap draws one figure per measure next to the prefix")
  func heatmaps() throws {
    let prefix = NSTemporaryDirectory() + "compare-similarity-test-\(getpid()).svg"
    let result = runCompare(["similarity", mlp, cnn, "--measure", "cka,procrustes", "--examples", "100",
                             "--heatmap", prefix])
    #expect(result.status == 0)
    for name in ["cka", "procrustes"] {
      let path = SimilarityFigures.path(prefix: prefix, measure: name)
      #expect(path.hasSuffix("-\(name).svg"))
      let svg = try String(contentsOfFile: path, encoding: .utf8)
      #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
      #expect(svg.contains(name == "cka" ? "higher = more alike" : "lower = more alike"))
      try FileManager.default.removeItem(atPath: path)
    }
    #expect(SimilarityFigures.path(prefix: "figs/sim", measure: "rsa") == "figs/sim-rsa.png")
    #expect(SimilarityFigures.path(prefix: "sim.png", measure: "rsa") == "sim-rsa.png")
  }

  @Test("help shows every option with its default")
  func help() {
    let result = runCompare(["similarity", "--help"])
    #expect(result.status == 0)
    #expect(result.out.contains("--measure <list>"))
    #expect(result.out.contains("(default: all)"))
    #expect(result.out.contains("--knn <k>"))
    #expect(result.out == runCompare(["help", "similarity"]).out)
  }

  @Test("pwcca warns about pairs whose ranks add up to more than the examples (canonical correlations tied at 1)")
  func pwccaTies() throws {
    // fc1 (rank 231) × conv3 (rank 239) on 450 examples: 20 or more correlations exactly 1.
    let tied = runCompare(["similarity", mlp, cnn, "--measure", "pwcca", "--layers-a", "fc1", "--json"])
    #expect(tied.status == 0)
    let warnings = try #require((try JSONSerialization.jsonObject(with: Data(tied.out.utf8)) as? [String: Any])?["warnings"] as? [String])
    #expect(warnings == ["pwcca: the layers' ranks add up to more than the 450 examples for 1 pair (fc1 × conv3): several canonical correlations are exactly 1 and their weights are not unique, so those values can move in the 4th digit with the BLAS thread count; more examples make them well defined"])
    // Negative controls: the same pairs without pwcca, and a layer whose ranks leave room.
    #expect(!runCompare(["similarity", mlp, cnn, "--measure", "cca", "--layers-a", "fc1"]).err.contains("pwcca:"))
    #expect(!runCompare(["similarity", mlp, cnn, "--measure", "pwcca", "--layers-a", "fc3"]).err.contains("pwcca:"))
  }
}
