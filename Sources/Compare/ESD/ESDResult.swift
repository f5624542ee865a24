import CompareCore
import SpectralMetrics
import TensorIO

/// What `compare esd` computes for a model: a row per analysed layer (or conv slice), the
/// tensors left out, and the summary, with the options that produced them.
public struct ESDResult: Sendable {
  /// The model's path.
  public var model: String
  /// Analysed rows, in table order (status `success` or `failed`).
  public var reports: [LayerReport]
  /// Tensors and layers not analysed, with the reason.
  public var skipped: [SkippedTensor]
  /// Means over the successful rows; `skipped` counts `skipped` above.
  public var summary: ESDSummary
  /// The settings used.
  public var options: ESDOptions
  /// How the layers were ordered (see `ModelWeights.Order`).
  public var order: ModelWeights.Order
  /// For one part of a sharded run: the part, every layer of the whole run in table order, and
  /// how many of `skipped` were left out before analysis (and so are in every part).
  public var shard: (part: ESDShard, layers: [String], skippedTensors: Int)?

  /// One warning per failed row, for standard error.
  public var warnings: [String] {
    reports.filter { $0.status == .failed }.map { "warning: layer '\($0.name)': \($0.reason)" }
  }
}

extension ModelWeights {
  /// The ESD table of this model's layers: weightwatcher's `analyze()` columns.
  ///
  /// - Parameters:
  ///   - options: The analysis settings (defaults: the reference's `randomize=True, mp_fit=True`).
  ///   - patterns: Shell patterns of layer names or keys to analyse (all when empty).
  ///   - initial: The model at initialisation: adds `distance_from_init` and friends, layers
  ///     paired by name (needed by `options.delta`).
  ///   - shard: Analyse only this part of the layers (`ESDShard`); `ESDReport.merging` joins
  ///     the parts' `--json` documents into the whole table.
  ///   - progress: Called after each layer with (done, total, layer name), from any thread.
  /// - Throws: `InputError` naming the model when no layer is left to analyse, a weight is
  ///   NaN/∞, or the init model lacks a layer; the loaders' `ReadError`s.
  /// - Complexity: per layer an eigendecomposition, O(N·M²), twice with randomisation; layers
  ///   are read one at a time.
  public func esd(options: ESDOptions = ESDOptions(), layers patterns: [String] = [],
                  initial: ModelWeights? = nil, shard: ESDShard? = nil,
                  progress: @escaping @Sendable (Int, Int, String) -> Void = { _, _, _ in }) throws -> ESDResult {
    if options.delta, initial == nil { throw InputError("\(path): --delta needs the init model") }
    var (layers, skipped) = try analysable(matching: patterns, initial: initial)
    let allLayers = layers.map(\.name), skippedTensors = skipped.count
    if let shard { layers = shard.select(layers) }
    let total = layers.count
    let rows: [[LayerReport]]
    do {
      rows = try ESDAnalyzer(options: options).analyze(layers) { done, name in progress(done, total, name) }
    } catch let error as InputError {
      throw InputError("\(path): \(error.message)")
    }
    var reports = rows.flatMap { $0 }
    for r in reports where r.status == .skipped { skipped.append(SkippedTensor(name: r.name, reason: r.reason)) }
    reports.removeAll { $0.status == .skipped }
    return ESDResult(model: path, reports: reports, skipped: skipped,
                     summary: ESDSummary(reports, skippedTensors: skipped.count), options: options,
                     order: order, shard: shard.map { ($0, allLayers, skippedTensors) })
  }

  /// The layers an analysis takes (matching `patterns`, paired with `initial`), and the
  /// tensors it leaves out.
  /// - Throws: `InputError` naming the model when no layer is left, or the init lacks one.
  func analysable(matching patterns: [String], initial: ModelWeights?) throws -> ([WeightLayer], [SkippedTensor]) {
    var (layers, skipped) = selection(matching: patterns)
    if let initial { layers = try paired(layers, with: initial) }
    guard !layers.isEmpty else {
      if patterns.isEmpty {
        throw InputError("\(path): no 2-D or 4-D weights to analyse (\(tensors.count) tensor\(tensors.count == 1 ? "" : "s"), none a matrix or conv kernel)")
      }
      throw InputError("\(path): no layer matches \(patterns.joined(separator: ", ")) (layers: \(TensorFile.list(layerNames)))")
    }
    return (layers, skipped)
  }
}
