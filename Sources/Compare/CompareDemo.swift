import CKA
import CompareCore
import EnsembleKernel
import SpectralMetrics
import TensorIO

/// `compare demo`: every module on the bundled example data (`Examples/data`), as a short
/// report and figures.
public enum CompareDemo {
  /// One titled part of the report.
  public struct Section: Sendable {
    public var title: String
    public var lines: [String]
  }

  /// Runs the demo on the data in `examples`, writing figures into `output` (created).
  /// - Throws: `ReadError` when `examples` is not a folder or `output` cannot be created; the
  ///   modules' errors on the data.
  public static func run(examples: String, output: String) throws -> [Section] {
    try Folders.requireDirectory(examples, what: "example data folder")
    try Folders.create(output)
    let base = examples.hasSuffix("/") ? examples : examples + "/"
    return [
      Section(title: "Tensor files", lines: files(base)),
      Section(title: "Ensemble correlation kernel", lines: try kernel(base, output: output)),
      Section(title: "Ensemble summary", lines: try ensemble(base)),
      Section(title: "CKA", lines: try cka(base, output: output)),
      Section(title: "Spectral (ESD) metrics", lines: try esd(examples, output: output)),
    ]
  }

  /// One line per tensor file in the folder (name, format, tensor count, total tensor bytes).
  static func files(_ base: String) -> [String] {
    guard let all = FileSystem.names(in: base) else { return ["cannot read \(base)"] }
    let names = NaturalOrder.sorted(all.filter { name in Folders.tensorExtensions.contains { name.hasSuffix($0) } })
    guard !names.isEmpty else { return ["no tensor files in \(base)"] }
    var rows: [[String]] = []
    var problems: [String] = []
    for name in names {
      do {
        let file = try TensorFile.open(base + name)
        let total = file.tensors.reduce(0) { $0 + $1.byteCount }
        rows.append([name, file.format.rawValue, "\(file.tensors.count) tensor\(file.tensors.count == 1 ? "" : "s")",
                     TensorListing.byteText(total)])
      } catch {
        rows.append([name, "-", "-", "-"])
        problems.append("\(name): \((error as? ReadError)?.problem ?? "\(error)")")
      }
    }
    return Format.table(header: ["file", "format", "tensors", "size"], rows: rows, rightAligned: [2, 3])
      .split(separator: "\n").map(String.init) + problems
  }

  /// The kernel against ensemble size, the three accuracy lines, and the pairs grid.
  static func kernel(_ base: String, output: String) throws -> [String] {
    let file = base + "ensemble.npz"
    let inputs = try KernelInputs(test: [file + ":logits"], train: [file + ":logits_train"],
                                  testLabels: file + ":labels", trainLabels: file + ":labels_train")
    let request = KernelRequest(k: 3)
    let knn = KernelKNN(k: 3)
    var table: [KernelEvaluation] = []
    for models in [2, 4, 8, 16, 32, inputs.test.models] where models <= inputs.test.models {
      let kernel = try CorrelationKernel(test: inputs.test, train: inputs.train, models: models)
      table.append(try KernelEvaluation(kernel, rows: nil, keep: models == inputs.test.models ? 8 : 3,
                                        knn: knn, labels: inputs))
    }
    let main = table.last!
    try KernelFigures.sizes(table, k: 3, to: output + "/kernel-sizes.png")
    // The most similar pairs and the confident failures, beside their nearest training images.
    let (pairs, failures) = KernelPairsRequest.tables(main.neighbors, labels: inputs, start: 1, top: 4)
    let found = KernelPairsResult(models: main.models, testExamples: inputs.test.examples,
                                  trainExamples: inputs.train.examples, classes: inputs.test.classes,
                                  neighbors: main.neighbors, pairs: pairs, failures: failures)
    try found.writeGrid(testImages: file + ":images", trainImages: file + ":images_train", labels: inputs,
                        to: output + "/kernel-pairs.png", shown: 4)
    return KernelResult.lines(main, request: request)
  }

  /// `compare ensemble` on the bundled runs: accuracy spread, variance analysis, calibration.
  static func ensemble(_ base: String) throws -> [String] {
    let file = base + "ensemble.npz"
    let result = try EnsembleRequest(top: 3).run(try EnsembleInputs(test: [file + ":logits"], labels: file + ":labels"))
    let s = result.summary, v = s.variance, e = s.ensembleCalibration, m = s.meanModelCalibration
    func percent(_ x: Double?) -> String { x.map { Format.fixed(100 * $0, 2) } ?? "undefined" }
    func fixed(_ x: Double) -> String { Format.fixed(x, 4) }
    return [
      "\(s.models) runs, \(s.examples) test examples: single run \(percent(s.singleModelAccuracy)) ± \(percent(s.singleModelAccuracyStd)) %, ensemble \(percent(s.ensembleAccuracy)) % (mean softmax \(percent(s.ensembleAccuracyProbs)) %)",
      "std of accuracy (%): empirical \(percent(v.empiricalStd)), examplewise-independence \(percent(v.independentStd)), distribution-wise \(percent(v.distributionStd))",
      "ensemble (single runs): ECE \(fixed(e.ece)) (\(fixed(m.ece))), NLL \(fixed(e.nll)) (\(fixed(m.nll))), Brier \(fixed(e.brier)) (\(fixed(m.brier)))",
      "disagreement between runs \(percent(s.disagreement)) %; least stable examples: \(result.listed.map(String.init).joined(separator: ", "))",
    ]
  }

  /// Minibatch CKA of the MLP against the CNN, best matches and the heatmap.
  static func cka(_ base: String, output: String) throws -> [String] {
    let (mlp, cnn) = try ActivationSet.pair(base + "activations_mlp.safetensors", base + "activations_cnn.npz",
                                            nameA: "mlp", nameB: "cnn")
    let result = try CKAEstimator.minibatch(batchSize: 150).similarities(mlp, cnn)
    let m = result.matrix
    var lines = ["Minibatch linear CKA, \(m.layersA.count) × \(m.layersB.count) layers, \(result.batches) batches of 150 (\(result.examples) of \(result.available) examples)"]
    for match in m.bestMatches {
      lines.append("  mlp \(match.layerA) is closest to cnn \(match.layerB ?? "-") (CKA \(CKAResult.cell(match.similarity)))")
    }
    let figure = output + "/cka_mlp_cnn.png"
    do {
      try CKAFigures.writeHeatmap(m, to: figure)
      lines.append("heatmap: \(figure)")
    } catch {
      lines.append("heatmap not drawn: \(error)")
    }
    return lines
  }

  /// The ESD of the example MLP and CNN against their init, and an alpha-by-layer figure.
  static func esd(_ examples: String, output: String) throws -> [String] {
    var lines: [String] = []
    var all: [(name: String, reports: [LayerReport])] = []
    for (model, initModel) in [("weights_mlp.safetensors", "weights_mlp_init.safetensors"),
                               ("weights_cnn.pt", "weights_cnn_init.pt")] {
      let path = FileSystem.path(model, in: examples)
      let weights: ModelWeights
      do { weights = try ModelWeights(path: path) } catch { lines.append("\(model): not readable in this build (\(error))"); continue }
      let result = try weights.esd(initial: try ModelWeights(path: FileSystem.path(initModel, in: examples)))
      all.append((String(model.prefix { $0 != "." }), result.reports))
      lines.append("compare esd \(path) --init \(FileSystem.path(initModel, in: examples))")
      lines += result.table(columns: ESDResult.compactColumns).split(separator: "\n").map { "  " + $0 }
      let moved = result.reports.compactMap { r -> Double? in
        if case .double(let x) = r.value("relative_distance_from_init") { return x }
        return nil
      }
      lines.append("  mean alpha \(Format.fixed(result.summary.mean("alpha") ?? .nan, 2)); layers moved \(Format.fixed(100 * (moved.min() ?? .nan), 0))–\(Format.fixed(100 * (moved.max() ?? .nan), 0)) % from init (‖W − W0‖/‖W0‖)")
    }
    if !all.isEmpty {
      try ESDFigures.writeOverview(all, to: output + "/esd_alpha_by_layer", title: "Example models")
      lines.append("Figure: \(output)/esd_alpha_by_layer.svg")
    }
    return lines
  }
}
