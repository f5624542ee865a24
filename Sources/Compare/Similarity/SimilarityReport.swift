import CompareCore
import Similarity

/// `compare similarity`: several representation similarity measures between every layer of
/// model A (rows) and every layer of model B (columns), from activations of the same examples.
///
/// ```swift
/// let (a, b) = try ActivationSet.pair("mlp.safetensors", "cnn.npz")
/// let report = try SimilarityReport(a, b, measures: MeasureName.allCases)
/// print(report.text, terminator: "")
/// ```
public struct SimilarityReport: Sendable {
  public var modelA: String
  public var modelB: String
  public var layersA: [String]
  public var layersB: [String]
  /// Examples compared (the first `examples` of each file).
  public var examples: Int
  /// Examples in the files.
  public var available: Int
  /// One table per measure, in the order asked.
  public var tables: [RepresentationComparison.Table]
  /// Constant layers, wide layers.
  public var warnings: [String]

  /// Reads the first `examples` examples (all when `nil`) of every layer of `a` and `b` in
  /// float64 and computes `measures` with `settings`; each layer is read and decomposed once.
  ///
  /// - Throws: `InputError` naming the files if the two sets have different example counts,
  ///   `examples` exceeds them, there are fewer than 2 examples or fewer than a measure needs
  ///   (dcor, cknna: 4; mknn, cknna: k + 1), rsa or dcor would not fit the memory budget, or a layer holds a non-finite value
  ///   (the message names the layer); `ReadError` from
  ///   the files; `LinearAlgebraError` if a decomposition fails.
  ///
  /// `progress` is called, from any thread, with (done, total) steps: each layer read and
  /// decomposed, each pair measured.
  public init(_ a: ActivationSet, _ b: ActivationSet, measures: [MeasureName],
              settings: MeasureSettings = MeasureSettings(), examples: Int? = nil,
              progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws {
    guard a.examples == b.examples else {
      throw InputError("\(a.path) has \(a.examples) examples and \(b.path) has \(b.examples): the activations must be of the same examples")
    }
    let files = a.path == b.path ? a.path : "\(a.path) and \(b.path)"
    let n = examples ?? a.examples
    if let examples, examples > a.examples {
      throw InputError("\(files): \(examples) examples asked for, the activations have \(a.examples)")
    }
    guard n >= 2 else {
      throw InputError("\(files): \(n) example\(n == 1 ? "" : "s") to compare; the similarity measures need at least 2")
    }
    let comparison = RepresentationComparison(measures: measures.map { $0.measure(settings) })
    for measure in comparison.measures {
      if let problem = measure.tooFewExamples(n) { throw InputError("\(files): \(problem)") }
    }
    try comparison.checkMemory(examples: n, layersA: a.names.count, layersB: b.names.count, settings: settings)
    // Each layer is converted to float64 by the worker that decomposes it, into that worker's
    // reused buffer, not all of them up front.
    func inputs(_ set: ActivationSet) -> [LayerInput] {
      set.features.indices.map { l in
        LayerInput(examples: n, features: set.features[l]) { out in try set.readLayer(l, rows: 0..<n, into: out) }
      }
    }
    let result = try comparison.compare(inputsA: inputs(a), namesA: a.names, inputsB: inputs(b), namesB: b.names,
                                        modelA: a.name, modelB: b.name, settings: settings, progress: progress)
    modelA = a.name
    modelB = b.name
    self.layersA = a.names
    self.layersB = b.names
    self.examples = n
    available = a.examples
    tables = result.tables
    warnings = result.warnings
  }
}
