import CompareCore
import Figures
import SpectralMetrics
import TensorIO

/// The ESD of several models side by side (checkpoints of one network, or a base model and its
/// fine-tune): every column of each layer across the models, layers paired by name, and the
/// layers whose `alpha` or `num_spikes` moves the most.
public struct ESDSeries: Sendable {
  /// The models' names (their paths), in the order given.
  public var models: [String]
  /// Each model's analysis.
  public var results: [ESDResult]
  /// Layer names (row labels) in the order they first appear across the models.
  public var layers: [String]

  /// Pairs the models' rows by name.
  public init(_ results: [ESDResult]) {
    self.results = results
    models = results.map(\.model)
    var seen = Set<String>(), layers: [String] = []
    for result in results {
      for r in result.reports where seen.insert(r.label).inserted { layers.append(r.label) }
    }
    self.layers = layers
  }

  /// The value of `column` for `layer` in each model (`null` where the model lacks the layer).
  public func values(_ column: String, layer: String) -> [JSONValue] {
    results.map { result in result.reports.first { $0.label == layer }.map { $0.value(column) } ?? .null }
  }

  /// Layers some model lacks, with the models that lack them.
  public var missing: [(layer: String, models: [String])] {
    layers.compactMap { layer in
      let lacking = results.filter { r in !r.reports.contains { $0.label == layer } }.map(\.model)
      return lacking.isEmpty ? nil : (layer, lacking)
    }
  }

  /// The layers by how much `column` moves across the models (max − min of its numbers),
  /// largest first.
  public func largestChanges(_ column: String, top: Int = 3) -> [(layer: String, change: Double)] {
    let changes = layers.compactMap { layer -> (String, Double)? in
      let numbers = values(column, layer: layer).compactMap { v -> Double? in
        switch v { case .double(let d): d; case .int(let i): Double(i); default: nil }
      }
      guard numbers.count >= 2, let lo = numbers.min(), let hi = numbers.max() else { return nil }
      return (layer, hi - lo)
    }
    return Array(changes.sorted { $0.1 > $1.1 }.prefix(top)).map { (layer: $0.0, change: $0.1) }
  }

  /// `compare esd A B ... --json`: `{"models", "layers": [{"name", "values": {column: [per
  /// model]}}], "missing", "largest_changes"}`.
  public func json() -> JSONValue {
    let columns = ESDColumn.all.map(\.name).filter { $0 != "name" }
    return .object([
      ("models", .strings(models)),
      ("layers", .array(layers.map { layer in
        .object([("name", .string(layer)),
                 ("values", .object(columns.map { ($0, .array(values($0, layer: layer))) }))])
      })),
      ("missing", .array(missing.map { .object([("name", .string($0.layer)), ("models", .strings($0.models))]) })),
      ("largest_changes", .object(["alpha", "num_spikes"].map { column in
        (column, .array(largestChanges(column).map { .object([("name", .string($0.layer)), ("change", .double($0.change))]) }))
      })),
    ])
  }

  /// The tables `text()` prints: alpha, num_spikes, entropy and rand_distance, then the fit
  /// confidence columns (`alpha_ci_low`, `alpha_ci_high`, `pl_p_value`) when the run has them.
  public var defaultColumns: [String] {
    ["alpha", "num_spikes", "entropy", "rand_distance"]
      + ["alpha_ci_low", "alpha_ci_high", "pl_p_value"].filter { column in
        layers.contains { layer in values(column, layer: layer).contains { $0 != .null } }
      }
  }

  /// One table per column of `columns` (default `defaultColumns`; layers × models), then the
  /// largest changes and the missing layers.
  public func text(columns: [String]? = nil) -> String {
    let columns = columns ?? defaultColumns
    let short = models.map(FileSystem.baseName)
    var out = "ESD of \(models.count) models, layers paired by name\n"
    for column in columns {
      out += "\n\(column)\n"
      out += Format.table(header: ["layer"] + short, rows: layers.map { layer in
        [layer] + values(column, layer: layer).map { ESDReport.cell($0) }
      }, rightAligned: Set(1...models.count))
    }
    for column in ["alpha", "num_spikes"] {
      let changes = largestChanges(column)
      guard !changes.isEmpty else { continue }
      out += "\nLargest changes of \(column): "
        + changes.map { "\(Format.visible($0.layer)) (\(Format.general($0.change, 3)))" }.joined(separator: ", ") + "\n"
    }
    for (layer, lacking) in missing {
      out += "Layer \(Format.visible(layer)) is missing in \(lacking.map { Format.visible(FileSystem.baseName($0)) }.joined(separator: ", "))\n"
    }
    return out
  }

  /// `compare esd A B ... --csv`: every model's rows in one table, a `model` column first
  /// (`ESDReport.csv(_:)`).
  public func csv() -> String { ESDReport.csv(results.map { (model: $0.model, report: $0.report) }) }

  /// alpha by layer, one line per model (`ESDFigures.writeOverview`).
  public func writePlot(to dir: String) throws {
    try Folders.create(dir)
    try ESDFigures.writeOverview(results.map { (FileSystem.baseName($0.model), $0.reports) },
                                 to: FileSystem.path("esd_alpha_by_layer", in: dir), title: "\(models.count) models")
  }
}
