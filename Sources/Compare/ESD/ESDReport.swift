import CompareCore
import SpectralMetrics
import TensorIO

/// What `compare esd` prints, as data: the rows (every column of each analysed layer, in
/// table order), the tensors left out, the summary and the conventions. An `ESDResult` makes
/// one (`ESDResult.report`); `ESDReport.merging` joins the `--json` parts of a sharded run into
/// the same report as a single run's. `text`, `json()` and `csv()` are the encoders.
public struct ESDReport: Sendable {
  /// One row per analysed layer (or conv slice): (column, value) in `ESDColumn.all` order.
  public var rows: [[(String, JSONValue)]]
  /// Tensors and layers not analysed, with the reason.
  public var skipped: [SkippedTensor]
  /// The `conventions` object of `--json`.
  public var conventions: JSONValue
  /// The conventions as the text output's last line says them (without `Conventions: `).
  public var conventionsText: String
  /// Columns every `--json` row holds even when no row has them (null then): those the run's
  /// options give a successful row (`ESDResult.expectedColumns`).
  public var expectedColumns: Set<String> = []

  /// The columns of the text table, in order (`ESDColumn` names).
  public static let tableColumns = ["name", "N", "M", "alpha", "alpha_weighted", "entropy", "rand_distance",
                                    "stable_rank", "log_spectral_norm", "mp_softrank", "num_spikes", "warning"]

  /// The value of `column` in `row`, `null` when absent.
  static func value(_ row: [(String, JSONValue)], _ column: String) -> JSONValue {
    row.first { $0.0 == column }?.1 ?? .null
  }

  /// The keys of every `--json` row: each column some row has or `expectedColumns` names, in
  /// `ESDColumn.all` order, then any other (from a merged part) in the order first met.
  public var jsonColumns: [String] {
    let known = ESDColumn.all.map(\.name)
    let knownSet = Set(known)
    var present = expectedColumns
    var extra: [String] = []
    for row in rows {
      for (column, _) in row where present.insert(column).inserted && !knownSet.contains(column) {
        extra.append(column)
      }
    }
    return known.filter(present.contains) + extra
  }

  /// One warning per failed row (its name and `reason`), for standard error: the lines
  /// `ESDResult.warnings` gives for the same rows.
  public var warnings: [String] {
    rows.filter { Self.value($0, "status") == .string(LayerReport.Status.failed.rawValue) }.map { row in
      var name = "", reason = ""
      if case .string(let s) = Self.value(row, "name") { name = s }
      if case .string(let s) = Self.value(row, "reason") { reason = s }
      return "warning: layer '\(name)': \(reason)"
    }
  }

  /// Means over the successful rows, and the counts, as `get_summary()`.
  public var summary: ESDSummary { ESDSummary(rows: rows, skippedTensors: skipped.count) }

  /// Columns the text table adds after `alpha` when some row has the first of them (the
  /// options `--fit TPL|E_TPL`, `--fix-fingers clip_xmax`, `--detx`).
  static let optionalTableColumns = [["Lambda"], ["num_fingers", "raw_alpha"], ["detX_num", "detX_val"]]

  /// The text table: `tableColumns` (plus the init distances, `Lambda`, `num_fingers`,
  /// `raw_alpha`, `detX_num` and `detX_val` when a row has them), or the given columns. A conv
  /// slice is named `layer[slice]`; a failed row's warning says so.
  public func table(columns chosen: [String]? = nil) -> String {
    var columns = chosen ?? Self.tableColumns
    func present(_ column: String) -> Bool { rows.contains { $0.contains { $0.0 == column } } }
    if chosen == nil, present("distance_from_init") {
      columns.insert(contentsOf: ["relative_distance_from_init", "cka_from_init"], at: columns.count - 1)
    }
    if chosen == nil, let at = columns.firstIndex(of: "alpha") {
      let extra = Self.optionalTableColumns.filter { present($0[0]) }.flatMap { $0 }
      columns.insert(contentsOf: extra, at: at + 1)
    }
    if chosen == nil { columns = Self.withFitTestColumns(columns, rows: rows) }
    let cells = rows.map { row -> [String] in
      columns.map { column in
        if column == "name", case .int(let slice) = Self.value(row, "slice_id"), case .string(let name) = Self.value(row, "name") {
          return "\(name)[\(slice)]"
        }
        if column == "warning", Self.value(row, "status") == .string("failed") { return "failed" }
        return Self.cell(Self.value(row, column))
      }
    }
    return Format.table(header: columns, rows: cells, rightAligned: Set(1..<(columns.count - 1)))
  }

  /// `alpha_ci_low`, `alpha_ci_high` after `alpha` (`--alpha-ci`), and `pl_p_value` with the
  /// likelihood ratios R before `warning` (`--pl-test`; their p-values are in the JSON and CSV),
  /// when some row has them.
  static func withFitTestColumns(_ base: [String], rows: [[(String, JSONValue)]]) -> [String] {
    func present(_ column: String) -> Bool { rows.contains { $0.contains { $0.0 == column } } }
    var columns = base
    if present("alpha_ci_low"), let i = columns.firstIndex(of: "alpha") {
      columns.insert(contentsOf: ["alpha_ci_low", "alpha_ci_high"], at: i + 1)
    }
    if present("pl_p_value"), let i = columns.firstIndex(of: "warning") {
      columns.insert(contentsOf: ["pl_p_value", "pl_vs_exponential_R", "pl_vs_lognormal_R",
                                  "pl_vs_truncated_power_law_R"], at: i)
    }
    return columns
  }

  /// A table cell: 3 decimals, or 3 significant digits for very large or small values.
  static func cell(_ value: JSONValue) -> String {
    switch value {
    case .int(let i): return String(i)
    case .double(let d): return abs(d) >= 1e5 || (abs(d) < 1e-3 && d != 0) ? Format.general(d, 3) : Format.fixed(d, 3)
    case .string(let s): return s
    default: return "-"
    }
  }

  /// The lines after the table: the summary, failures, skipped tensors and conventions.
  public var summaryLines: [String] {
    let summary = self.summary
    var lines = [""]
    let means = summary.means.map { "\($0.0) \(Format.fixed($0.1, 3))" }.joined(separator: ", ")
    lines.append("Summary over \(summary.analysed) layer\(summary.analysed == 1 ? "" : "s"): \(means.isEmpty ? "-" : means)")
    if summary.failed > 0 { lines.append("Failed: \(summary.failed) layer\(summary.failed == 1 ? "" : "s") (not averaged; the warnings on standard error and the 'reason' column of --json and --csv say why).") }
    lines += Self.skippedLines(skipped)
    lines.append("Conventions: " + conventionsText + ".")
    return lines
  }

  /// One line for the tensors with fewer than 2 dimensions, one per other skipped tensor.
  static func skippedLines(_ skipped: [SkippedTensor]) -> [String] {
    var lines: [String] = []
    let small = skipped.filter { !$0.reason.hasPrefix("1-D") && !$0.reason.hasPrefix("0-D") }
    let vectors = skipped.count - small.count
    if vectors > 0 { lines.append("Skipped \(vectors) tensor\(vectors == 1 ? "" : "s") with fewer than 2 dimensions (biases, norms).") }
    for s in small { lines.append("Skipped \(Format.visible(s.name)): \(Format.visible(s.reason))") }
    return lines
  }

  /// The table and the summary lines, as `compare esd` prints them.
  public var text: String { table() + summaryLines.map { $0 + "\n" }.joined() }

  /// `compare esd --json`: `layers` (every column of each row), `summary`, `skipped`,
  /// `conventions`.
  ///
  /// Keys are stable: every row holds the same keys (`jsonColumns`), null where a row has no
  /// value (a failed or skipped layer), and `summary` holds each metric of `ESDSummary.metrics`
  /// that the rows have, null when no layer defines it.
  public func json() -> JSONValue {
    let summary = self.summary
    let columns = jsonColumns
    var summaryPairs = ESDSummary.metrics.filter(columns.contains).map { metric in
      (metric, summary.mean(metric).map(JSONValue.double) ?? .null)
    }
    summaryPairs += [("num_layers", .int(summary.analysed)), ("num_failed", .int(summary.failed)),
                     ("num_skipped", .int(summary.skipped))]
    return .object([
      ("layers", .array(rows.map { row in .object(columns.map { ($0, Self.value(row, $0)) }) })),
      ("summary", .object(summaryPairs)),
      ("skipped", .array(skipped.map { .object([("name", .string($0.name)), ("reason", .string($0.reason))]) })),
      ("conventions", conventions),
    ])
  }

  /// `compare esd --csv`: the `--json` rows' columns (`jsonColumns`), in `ESDColumn.all`
  /// order; empty cells for undefined values.
  public func csv() -> String {
    let header = jsonColumns
    var table = CSVTable(header: header)
    for row in rows { table.append(header.map { Self.csvCell(Self.value(row, $0)) }) }
    return table.text
  }

  /// Several models' rows as one CSV table (`compare esd A B ... --csv`): a `model` column
  /// (the name given) first, then every column of any model's `--json` rows.
  public static func csv(_ reports: [(model: String, report: ESDReport)]) -> String {
    var seen = Set<String>(), header: [String] = []
    for (_, report) in reports {
      for column in report.jsonColumns where seen.insert(column).inserted { header.append(column) }
    }
    let order = Dictionary(ESDColumn.all.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    header = header.enumerated().sorted { (order[$0.1] ?? Int.max, $0.0) < (order[$1.1] ?? Int.max, $1.0) }.map(\.1)
    var table = CSVTable(header: ["model"] + header)
    for (model, report) in reports {
      for row in report.rows { table.append([model] + header.map { csvCell(value(row, $0)) }) }
    }
    return table.text
  }

  /// A CSV cell: integers and strings as they are, doubles in full, undefined values empty.
  static func csvCell(_ value: JSONValue) -> String {
    switch value {
    case .int(let i): String(i)
    case .double(let d): d.isFinite ? "\(d)" : ""
    case .string(let s): s
    default: ""
    }
  }
}
