import CompareCore
import Similarity

extension SimilarityReport {
  /// `compare similarity --json`: CKA's `model1_…`/`model2_…` keys, then each measure's
  /// direction, values (rows: model A's layers; `null` where undefined) and parameters.
  public func json() -> JSONValue {
    .object([
      ("model1_name", .string(modelA)),
      ("model2_name", .string(modelB)),
      ("model1_layers", .strings(layersA)),
      ("model2_layers", .strings(layersB)),
      ("examples", .int(examples)),
      ("measures", .object(tables.map { table in
        (table.name, .object([
          ("direction", .string(table.direction.rawValue)),
          ("values", .array(table.values.map { .array($0.map(JSONValue.number)) })),
          ("parameters", .object(table.parameters.map { ($0.0, .double($0.1)) })),
        ]))
      })),
      ("warnings", .strings(warnings)),
    ])
  }

  /// The tables `compare similarity` prints: one matrix per measure.
  public var text: String {
    let layers = { (count: Int) in "\(count) layer\(count == 1 ? "" : "s")" }
    var out = "Similarity of \(modelA) (rows, \(layers(layersA.count))) against \(modelB) (columns, \(layers(layersB.count))): \(examples)"
    out += examples == available ? " examples\n" : " of \(available) examples\n"
    for table in tables {
      let arrow = table.direction == .similarity ? "higher = more alike" : "lower = more alike"
      var title = "\n\(table.name) (\(table.direction.rawValue), \(arrow)"
      for (key, value) in table.parameters { title += ", \(key) \(Format.general(value))" }
      out += title + ")\n"
      let rows = layersA.indices.map { i in
        [layersA[i]] + layersB.indices.map { j in table.values[i][j].map { Format.fixed($0, 4) } ?? "null" }
      }
      out += Format.table(header: ["layer"] + layersB, rows: rows, rightAligned: Set(1...max(layersB.count, 1)))
    }
    return out
  }

  /// The lines for standard error.
  public var messages: [String] { warnings.map { "warning: \($0)" } }
}
