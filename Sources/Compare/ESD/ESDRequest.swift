import CompareCore
import SpectralMetrics
import TensorIO

/// What `compare esd` analyses and writes, with its defaults: the analysis settings, the layers
/// chosen, how a LoRA adapter's ΔW is scaled, and the files written beside the printed table.
///
/// ```swift
/// var request = ESDRequest(layers: ["encoder.layer.*.output.dense"])
/// request.plot = "figures"
/// let result = try request.run(try ModelWeights(path: "bert-base-uncased"))
/// print(result.text, terminator: "")
/// ```
public struct ESDRequest: Sendable {
  /// The analysis settings.
  public var options: ESDOptions
  /// Shell patterns of layer names or keys to analyse (all when empty).
  public var layers: [String]
  /// Shell patterns of layer names or keys to leave out.
  public var excluded: [String]
  /// For a LoRA adapter: ΔW = B·A (`.none`, as weightwatcher) or (lora_alpha/r)·B·A.
  public var loraScale: LoRAScale = .none
  /// Also write the `--json` document to this file, atomically.
  public var output: String?
  /// Write per-layer ESD figures and the alpha-by-layer overview into this folder.
  public var plot: String?
  /// Write every row's eigenvalues to this `.npz` or `.safetensors` file (`ESDSpectra`).
  public var saveESD: String?

  public init(options: ESDOptions = ESDOptions(), layers: [String] = [], excluding excluded: [String] = []) {
    self.options = options
    self.layers = layers
    self.excluded = excluded
  }

  /// `compare esd MODEL`: the ESD table of a model (`ModelWeights.esd`), then the files asked
  /// for (`write`).
  /// - Parameters:
  ///   - initial: The model at initialisation (adds `distance_from_init` and friends).
  ///   - shard: Analyse only this part of the layers.
  ///   - progress: Called after each layer with (done, total, layer name), from any thread.
  /// - Throws: as `ModelWeights.esd`; `ReadError` when a file cannot be written.
  public func run(_ model: ModelWeights, initial: ModelWeights? = nil, shard: ESDShard? = nil,
                  progress: @escaping @Sendable (Int, Int, String) -> Void = { _, _, _ in }) throws -> ESDResult {
    let result = try model.esd(options: options, layers: layers, excluding: excluded, initial: initial,
                               shard: shard, progress: progress)
    try write(result)
    return result
  }

  /// `compare esd ADAPTER`: the ESD table of a LoRA adapter's ΔW (`LoRAAdapter.esd`, scaled by
  /// `loraScale`; with `base`, W and W + ΔW beside each), then the files asked for (`write`).
  /// - Throws: as `LoRAAdapter.esd`; `ReadError` when a file cannot be written.
  public func run(_ adapter: LoRAAdapter, base: ModelWeights? = nil,
                  progress: @escaping @Sendable (Int, Int, String) -> Void = { _, _, _ in }) throws -> ESDResult {
    let result = try adapter.esd(options: options, scale: loraScale, base: base, layers: layers,
                                 excluding: excluded, progress: progress)
    try write(result)
    return result
  }

  /// `compare esd A B ...`: each model analysed (a LoRA adapter folder as `LoRAAdapter.esd`
  /// with `loraScale`, anything else as `ModelWeights.esd`), side by side with layers paired by
  /// name; with `plot`, the alpha-by-layer overview of all of them.
  /// - Throws: the first model's error, naming it; `ReadError` when the figure cannot be written.
  /// - Complexity: the models one after the other, each as its own `esd`.
  public func series(_ paths: [String]) throws -> ESDSeries {
    let results = try paths.map { path in
      try LoRAAdapter.isAdapter(at: path)
        ? LoRAAdapter(path: path).esd(options: options, scale: loraScale, layers: layers, excluding: excluded)
        : ModelWeights(path: path).esd(options: options, layers: layers, excluding: excluded)
    }
    let series = ESDSeries(results)
    if let plot { try series.writePlot(to: plot) }
    return series
  }

  /// Writes the files asked for: the `--json` document to `output`, the figures into `plot`
  /// (titled with the model's file name) and the eigenvalues to `saveESD`.
  /// - Throws: `ReadError` when a file or folder cannot be written.
  public func write(_ result: ESDResult) throws {
    if let output { try AtomicFile.write(result.json().serialized(pretty: true) + "\n", to: output) }
    if let plot { try ESDFigures.write(result.reports, to: plot, title: FileSystem.baseName(result.model)) }
    if let saveESD { try result.spectra.write(to: saveESD) }
  }
}
