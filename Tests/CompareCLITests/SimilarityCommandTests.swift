@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

/// `compare similarity` on the bundled activations and the CKA fixtures.
@Suite("compare similarity")
struct SimilarityCommandTests {
  static let d = packageRoot + "Examples/data/"
  let mlp = d + "activations_mlp.safetensors", cnn = d + "activations_cnn.npz"
  let scratch = TemporaryFolder("similarity")

  /// `name.npz` in the scratch folder: two layers of `examples` deterministic examples.
  func activations(_ name: String, examples: Int) throws -> String {
    let path = scratch.file(name + ".npz")
    let l1 = (0..<(examples * 5)).map { Float(sin(Double($0) * 0.7)) }
    let l2 = (0..<(examples * 3)).map { Float(cos(Double($0) * 1.3)) }
    try AtomicFile.write(NPZWriter.archive([("l1.npy", NPYWriter.encode(l1, shape: [examples, 5])),
                                            ("l2.npy", NPYWriter.encode(l2, shape: [examples, 3]))]), to: path)
    return path
  }

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

  @Test("a NaN in a layer names that layer and its model, the first bad layer in order when several are; the rest still run")
  func nonFiniteLayer() throws {
    func file(_ name: String, badLayer: Int?) throws -> String {
      let path = scratch.file(name + ".npz")
      var layers = (0..<3).map { l in (0..<(40 * 4)).map { Float(sin(Double($0 * (l + 2)) * 0.7)) } }
      if let badLayer { layers[badLayer][37] = .nan }
      try AtomicFile.write(NPZWriter.archive(layers.indices.map { ("l\($0).npy", NPYWriter.encode(layers[$0], shape: [40, 4])) }),
                           to: path)
      return path
    }
    let good = try file("good", badLayer: nil), badB = try file("badB", badLayer: 2), badA = try file("badA", badLayer: 1)
    let one = runCompare(["similarity", good, badB, "--measure", "cka,dcor,rsa"])
    #expect(one.status == 1)
    #expect(one.err == "Error: layer 'l2' of badB.npz: a layer holds a non-finite value at example 9, feature 1\n")
    let two = runCompare(["similarity", badA, badB, "--measure", "cka,dcor,rsa"])
    #expect(two.err == "Error: layer 'l1' of badA.npz: a layer holds a non-finite value at example 9, feature 1\n")
    // Control: the same layers without the NaN.
    #expect(runCompare(["similarity", good, good, "--measure", "cka,dcor,rsa"]).status == 0)
  }

  @Test("the table prints one matrix per measure, with its direction and parameters")
  func table() {
    let result = runCompare(["similarity", mlp, cnn, "--measure", "cka,procrustes,linreg", "--layers-a", "fc1",
                             "--layers-b", "conv1,fc1", "--name-a", "mlp", "--name-b", "cnn"])
    #expect(result.status == 0)
    #expect(result.out.hasPrefix("""
      Similarity of mlp (rows, 1 layer) against cnn (columns, 2 layers): 450 examples

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

  @Test("too few examples name the files and the count, not an option that was not given")
  func tooFewExamples() throws {
    let one = try activations("one", examples: 1), three = try activations("three", examples: 3)
    let single = runCompare(["similarity", one, one])
    #expect(single.status == 1)
    #expect(single.out.isEmpty)
    #expect(single.err == "Error: \(one): 1 example to compare; the similarity measures need at least 2\n")
    let cut = runCompare(["similarity", mlp, cnn, "--examples", "1"])
    #expect(cut.err == "Error: \(mlp) and \(cnn): 1 example to compare; the similarity measures need at least 2\n")
    let dcor = runCompare(["similarity", three, three, "--measure", "dcor"])
    #expect(dcor.status == 1)
    #expect(dcor.err == "Error: \(three): dcor needs at least 4 examples, got 3\n")
    let knn = runCompare(["similarity", three, three])
    #expect(knn.err == "Error: \(three): mknn with k = 10 needs at least 11 examples, got 3\n")
    #expect(runCompare(["similarity", three, three, "--measure", "cknna", "--knn", "2"]).err
            == "Error: \(three): cknna with k = 2 needs at least 4 examples, got 3\n")
    // Negative control: the measures that need fewer run on the same file.
    #expect(runCompare(["similarity", three, three, "--measure", "cka,rsa,mknn", "--knn", "2"]).status == 0)
  }

  @Test("rsa on 2 examples is null with a warning on stderr and in JSON; on 3 it has a value and no warning")
  func rsaTooFewExamples() throws {
    let two = try activations("two", examples: 2)
    let text = runCompare(["similarity", two, two, "--measure", "rsa,cka"])
    #expect(text.status == 0)
    #expect(text.err == "warning: rsa needs at least 3 examples, got 2: its values are null\n")
    #expect(text.out.contains("rsa (similarity, higher = more alike)\nlayer    l1    l2\nl1     null  null\n"))
    let json = runCompare(["similarity", two, two, "--measure", "rsa,cka", "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect(object["warnings"] as? [String] == ["rsa needs at least 3 examples, got 2: its values are null"])
    let three = try activations("three", examples: 3)
    let defined = runCompare(["similarity", three, three, "--measure", "rsa"])
    #expect(defined.status == 0)
    #expect(defined.err.isEmpty)
    #expect(!defined.out.contains("null"))
  }

  @Test("--cca-tolerance 1 keeps the largest direction, as its help says: a layer against itself is 1, no null")
  func ccaToleranceOne() throws {
    let result = runCompare(["similarity", mlp, mlp, "--measure", "cca,pwcca,linreg", "--layers-a", "fc1,fc2",
                             "--layers-b", "fc1,fc2", "--cca-tolerance", "1", "--json"])
    #expect(result.status == 0)
    #expect(result.err.isEmpty)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
    let measures = try #require(object["measures"] as? [String: [String: Any]])
    for name in ["cca", "pwcca"] {
      let values = try #require(measures[name]?["values"] as? [[Double]], "\(name)")
      #expect(abs(values[0][0] - 1) < 1e-9 && abs(values[1][1] - 1) < 1e-9, "\(name)")
      // Negative control: two different layers' leading directions are not the same.
      #expect(values[0][1] < 0.999, "\(name)")
    }
    #expect(measures["linreg"]?["values"] as? [[Double]] != nil)
    #expect(object["warnings"] as? [String] == [])
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

  @Test("a --heatmap file that is one of the models (its format is read from the bytes, not the name) is a usage error")
  func heatmapOntoModel() throws {
    let scratch = TemporaryFolder("similarity-heatmap-input")
    let model = scratch.file("m-cka.png")
    try FileManager.default.copyItem(atPath: packageRoot + "Examples/data/activations_mlp.safetensors", toPath: model)
    let result = runCompare(["similarity", model, model, "--measure", "cka", "--heatmap", scratch.file("m")])
    #expect(result.status == 64)
    #expect(result.err.hasPrefix("Error: --heatmap \(model) is also an input (<models>); choose another output path\n"))
    // Control: another prefix draws.
    #expect(runCompare(["similarity", model, model, "--measure", "cka", "--heatmap", scratch.file("h")]).status == 0)
  }

  @Test("'trivially 1' is said of layers whose rank reaches n − 1, not of every layer with more features than examples; pwcca's tie warning counts ranks")
  func rankWarnings() {
    let d = packageRoot + "Examples/data/"
    let result = runCompare(["similarity", d + "activations_mlp.safetensors", d + "activations_cnn.npz", "--measure", "pwcca", "--examples", "120"])
    #expect(result.status == 0)
    // conv2: 128 features, but rank 107 on 120 examples: its values are not 1.
    #expect(result.err.contains("layer 'conv1' of activations_cnn.npz has 120 examples for 256 features"))
    #expect(!result.err.contains("layer 'conv2'"))
    #expect(result.err.contains("pwcca: the layers' ranks add up to more than the 120 examples for 1 pair (fc3 × conv2)"))
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
    #expect(warnings == ["pwcca: the layers' ranks add up to more than the 450 examples for 1 pair (fc1 × conv3): several canonical correlations are exactly 1 and their weights are not unique, so those values can move in the 4th digit with the BLAS library or its thread count; more examples make them well defined"])
    // Negative controls: the same pairs without pwcca, and a layer whose ranks leave room.
    #expect(!runCompare(["similarity", mlp, cnn, "--measure", "cca", "--layers-a", "fc1"]).err.contains("pwcca:"))
    #expect(!runCompare(["similarity", mlp, cnn, "--measure", "pwcca", "--layers-a", "fc3"]).err.contains("pwcca:"))
  }
}
