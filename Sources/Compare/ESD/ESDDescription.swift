import CompareCore
import SpectralMetrics
import TensorIO

/// What `compare esd --describe` prints: the rows an analysis would produce, with their
/// shapes, and the tensors it would leave out; no tensor data is read and no eigenvalue is
/// computed (the reference tool's `describe()`).
public struct ESDDescription: Sendable {
  /// The model's path.
  public var model: String
  /// The rows, in table order: only `ESDDescription.columns` are set.
  public var rows: [LayerReport]
  /// Tensors and layers that would not be analysed, with the reason.
  public var skipped: [SkippedTensor]
  /// How the layers are ordered.
  public var order: ModelWeights.Order

  /// The columns, in order (`ESDColumn` names); `slice_id` and `expert_id` follow `layer_type`
  /// in the JSON and CSV of rows that have them.
  public static let columns = ["layer_id", "name", "longname", "layer_type", "N", "M", "Q", "rf", "num_evals"]

  /// The names of a row's columns, in `ESDColumn.all` order.
  static func names(_ r: LayerReport) -> [String] {
    ESDColumn.all.map(\.name).filter { columns.contains($0) || (["slice_id", "expert_id"].contains($0) && r.value($0) != .null) }
  }

  /// The text table (`name` is the row label: `layer[slice]`, `layer.expert.E`), then the
  /// skipped tensors and the layer order.
  public var text: String {
    let header = Self.columns
    let table = rows.map { r in header.map { $0 == "name" ? r.label : ESDResult.cell(r.value($0)) } }
    var lines = [""]
    let layers = Set(rows.map(\.layerID)).count
    lines.append("\(layers) layer\(layers == 1 ? "" : "s"), \(rows.count) row\(rows.count == 1 ? "" : "s"); no eigenvalues computed.")
    lines += ESDResult.skippedLines(skipped)
    lines.append("Conventions: " + order.description + ".")
    return Format.table(header: header, rows: table, rightAligned: Set([0] + Array(4..<header.count)))
      + lines.map { $0 + "\n" }.joined()
  }

  /// `{"layers": [...], "skipped": [...], "conventions": {"layer_order": ...}}`.
  public func json() -> JSONValue {
    .object([
      ("layers", .array(rows.map { r in .object(Self.names(r).map { ($0, r.value($0)) }) })),
      ("skipped", .array(skipped.map { .object([("name", .string($0.name)), ("reason", .string($0.reason))]) })),
      ("conventions", .object([("layer_order", .string(order.rawValue))])),
    ])
  }

  /// The columns as CSV (`slice_id`, `expert_id` when some row has them).
  public func csv() -> String {
    let present = Set(rows.flatMap(Self.names))
    let header = ESDColumn.all.map(\.name).filter { present.contains($0) }
    var table = CSVTable(header: header)
    for r in rows {
      table.append(header.map { column in
        switch r.value(column) {
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .string(let s): return s
        default: return ""
        }
      })
    }
    return table.text
  }
}
