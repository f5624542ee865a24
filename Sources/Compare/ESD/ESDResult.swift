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
  /// For a LoRA adapter (`LoRAAdapter.esd`): how ΔW was scaled; `nil` for a model.
  public var loraScale: LoRAScale? = nil
  /// For one part of a sharded run: the model's content, which `ESDReport.merging` compares
  /// across parts (the path may differ between machines; the content may not).
  public var fingerprint: ModelFingerprint? = nil
  /// For a part run with `--init`: the init model's fingerprint, which merge compares too.
  public var initFingerprint: ModelFingerprint? = nil
  /// Warnings from opening the model (`ModelWeights.warnings`), for standard error.
  public var modelWarnings: [String] = []
  /// The kinds of all the model's selected layers, a shard's or not: the conventions of a part
  /// (stacked experts, conv1d) are those of the whole run, so that its parts merge into the
  /// single run's text.
  public var modelLayerKinds: Set<WeightLayer.Kind> = []

  /// The eigenvalues of a row, ascending, by its label (`layer`, `layer[slice]` for a conv
  /// slice, `layer.expert.E`): weightwatcher's `ESD.get`-style access; `nil` when there is no
  /// such row or it has no spectrum.
  public func eigenvalues(of label: String) -> [Double]? {
    reports.first { $0.label == label }?.spectrum?.eigenvalues
  }

  /// The first shuffle's eigenvalues of a row (with randomisation), ascending.
  public func shuffledEigenvalues(of label: String) -> [Double]? {
    reports.first { $0.label == label }?.firstRandomEigenvalues
  }

  /// Every row's eigenvalues (and shuffled eigenvalues), as `--save-esd` writes them.
  public var spectra: ESDSpectra {
    var entries: [(String, [Double])] = []
    for r in reports {
      guard let spectrum = r.spectrum else { continue }
      entries.append((r.label, spectrum.eigenvalues))
      if let rand = r.firstRandomEigenvalues { entries.append((r.label + ESDSpectra.shuffledSuffix, rand)) }
    }
    return ESDSpectra(entries)
  }

  /// One warning per failed row, for standard error (`ESDReport.warnings`, which a merge of
  /// parts prints the same way).
  public var warnings: [String] { report.warnings }

  /// The lines for standard error: `modelWarnings`, a note when `NAME.merged` rows are W + B·A
  /// rather than the fine-tuned weight (a LoRA adapter with a base, unscaled), then `warnings`.
  public var messages: [String] {
    let unscaledMerge = loraScale == LoRAScale.none && reports.contains { $0.kind == .loraMerged }
    return modelWarnings + (unscaledMerge ? ["note: without --lora-scale, NAME.merged is W + B·A, not the fine-tuned weight W + (lora_alpha/r)·B·A"] : [])
      + warnings
  }
}

extension ModelWeights {
  /// The ESD table of this model's layers: weightwatcher's `analyze()` columns.
  ///
  /// - Parameters:
  ///   - options: The analysis settings (defaults: the reference's `randomize=True, mp_fit=True`);
  ///     `options.threeDimensional` says how 3-D weights are read.
  ///   - patterns: Shell patterns of layer names or keys to analyse (all when empty).
  ///   - excluded: Shell patterns of layer names or keys to leave out.
  ///   - initial: The model at initialisation: adds `distance_from_init` and friends, layers
  ///     paired by name (needed by `options.delta`).
  ///   - shard: Analyse only this part of the layers (`ESDShard`); `ESDReport.merging` joins
  ///     the parts' `--json` documents into the whole table. The result then carries the
  ///     model's `fingerprint` (at most 192 KiB read per weight file).
  ///   - progress: Called after each layer with (done, total, layer name), from any thread.
  /// - Throws: `InputError` naming the model when no layer is left to analyse, a weight is
  ///   NaN/∞, or the init model lacks a layer; the loaders' `ReadError`s.
  /// - Complexity: per layer an eigendecomposition, O(N·M²), twice with randomisation; layers
  ///   are read one at a time (stacked experts one expert at a time).
  public func esd(options: ESDOptions = ESDOptions(), layers patterns: [String] = [],
                  excluding excluded: [String] = [], initial: ModelWeights? = nil, shard: ESDShard? = nil,
                  progress: @escaping @Sendable (Int, Int, String) -> Void = { _, _, _ in }) throws -> ESDResult {
    if LoRAAdapter.isAdapter(at: path) {
      // A PEFT adapter folder: its B·A rows (unscaled, as weightwatcher's peft=True).
      guard initial == nil, shard == nil else { throw InputError("\(path): an adapter takes no init model or shard") }
      return try LoRAAdapter(path: path).esd(options: options, layers: patterns, excluding: excluded, progress: progress)
    }
    if options.delta, initial == nil { throw InputError("\(path): --delta needs the init model") }
    var (layers, skipped) = try analysable(patterns, excluded, options)
    if let initial { layers = try paired(layers, with: initial) }
    let allLayers = layers.map(\.name), skippedTensors = skipped.count, kinds = Set(layers.map(\.kind))
    if let shard { layers = shard.select(layers, options: options) }
    // Taken before the analysis, the nearest to when the files were opened (and mapped).
    let fingerprint = try shard.map { _ in try ModelFingerprint(of: self) }
    let initFingerprint = try shard.flatMap { _ in try initial.map { try ModelFingerprint(of: $0) } }
    let total = layers.count
    let rows: [[LayerReport]]
    do {
      rows = try ESDAnalyzer(options: options).analyze(layers) { done, name in progress(done, total, name) }
    } catch let error as InputError {
      throw InputError("\(path): \(error.message)")
    } catch let error as InitWeightError {
      throw InputError("\(initial?.path ?? path): \(error.message)")
    }
    let (reports, more) = Self.splitSkipped(rows.flatMap { $0 })
    skipped += more
    var result = ESDResult(model: path, reports: reports, skipped: skipped,
                           summary: ESDSummary(reports, skippedTensors: skipped.count), options: options,
                           order: order, shard: shard.map { ($0, allLayers, skippedTensors) })
    result.fingerprint = fingerprint
    result.initFingerprint = initFingerprint
    result.modelWarnings = warnings
    result.modelLayerKinds = kinds
    return result
  }

  /// The layers `esd` would analyse and their rows (`layer_id`, `name`, `longname`,
  /// `layer_type`, `N`, `M`, `Q`, `rf`, `num_evals`), without reading any tensor data:
  /// the reference tool's `describe()`.
  /// - Throws: `InputError` naming the model when no layer is left.
  /// - Complexity: O(number of tensors); reads nothing past the headers opened by `init(path:)`.
  public func describe(options: ESDOptions = ESDOptions(), layers patterns: [String] = [],
                       excluding excluded: [String] = []) throws -> ESDDescription {
    if LoRAAdapter.isAdapter(at: path) {
      return try LoRAAdapter(path: path).describe(options: options, layers: patterns, excluding: excluded)
    }
    let (layers, selected) = try analysable(patterns, excluded, options)
    var skipped = selected
    let rows: [[LayerReport]]
    do {
      rows = try ESDAnalyzer(options: options).describe(layers)
    } catch let error as InputError {
      throw InputError("\(path): \(error.message)")
    }
    let (reports, more) = Self.splitSkipped(rows.flatMap { $0 })
    skipped += more
    return ESDDescription(model: path, rows: reports, skipped: skipped, order: order)
  }

  /// The selected layers, or an error saying why there are none.
  func analysable(_ patterns: [String], _ excluded: [String],
                  _ options: ESDOptions) throws -> ([WeightLayer], [SkippedTensor]) {
    let (layers, skipped) = selection(matching: patterns, excluding: excluded,
                                      threeDimensional: options.threeDimensional)
    guard layers.isEmpty else { return (layers, skipped) }
    if patterns.isEmpty && excluded.isEmpty {
      // Say why, when it is not the shape: an integer matrix, an empty one.
      let reasons = skipped.filter { !$0.reason.hasPrefix("1-D") && !$0.reason.hasPrefix("0-D") }
      let why = reasons.isEmpty ? "none a matrix, conv kernel or expert stack"
        : reasons.prefix(3).map { "'\($0.name)': \($0.reason)" }.joined(separator: "; ")
          + (reasons.count > 3 ? "; … \(reasons.count - 3) more" : "")
      throw InputError("\(path): no 2-D, 3-D or 4-D weights to analyse (\(tensors.count) tensor\(tensors.count == 1 ? "" : "s"), \(why))")
    }
    let chosen = (patterns.isEmpty ? [] : [patterns.joined(separator: ", ")])
      + (excluded.isEmpty ? [] : ["excluding " + excluded.joined(separator: ", ")])
    throw InputError("\(path): no layer matches \(chosen.joined(separator: ", ")) (layers: \(TensorFile.list(layerNames)))")
  }

  /// Rows analysed, and the skipped ones as skipped tensors (a stacked expert tensor once).
  static func splitSkipped(_ rows: [LayerReport]) -> ([LayerReport], [SkippedTensor]) {
    let skipped = rows.filter { $0.status == .skipped && $0.kind != .expert }
      .map { SkippedTensor(name: $0.name, reason: $0.reason) }
    return (rows.filter { $0.status != .skipped }, skipped)
  }
}
