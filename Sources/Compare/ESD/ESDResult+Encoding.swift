import CompareCore
import SpectralMetrics
import TensorIO

extension ESDResult {
  /// The columns of the text table, in order (`ESDColumn` names).
  public static let tableColumns = ["name", "N", "M", "alpha", "alpha_weighted", "entropy", "rand_distance",
                                    "stable_rank", "log_spectral_norm", "mp_softrank", "num_spikes", "warning"]
  /// The demo's shorter table.
  public static let compactColumns = ["name", "N", "M", "alpha", "entropy", "rand_distance", "mp_softrank",
                                      "num_spikes", "cka_from_init", "warning"]

  /// The text table: `tableColumns` (plus the init distances when there is an init model), or
  /// the given columns. A conv slice is named `layer[slice]`; a failed row's warning says so.
  public func table(columns chosen: [String]? = nil) -> String {
    var columns = chosen ?? Self.tableColumns
    if chosen == nil, reports.contains(where: { $0.initDistance != nil }) {
      columns.insert(contentsOf: ["relative_distance_from_init", "cka_from_init"], at: columns.count - 1)
    }
    let rows = reports.map { r -> [String] in
      columns.map { column in
        if column == "name" { return r.label }
        if column == "warning", r.status == .failed { return "failed" }
        return Self.cell(r.value(column))
      }
    }
    return Format.table(header: columns, rows: rows, rightAligned: Set(1..<(columns.count - 1)))
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
    var lines = [""]
    let means = summary.means.map { "\($0.0) \(Format.fixed($0.1, 3))" }.joined(separator: ", ")
    lines.append("Summary over \(summary.analysed) layer\(summary.analysed == 1 ? "" : "s"): \(means.isEmpty ? "-" : means)")
    if summary.failed > 0 { lines.append("Failed: \(summary.failed) layer\(summary.failed == 1 ? "" : "s") (not averaged; see the warnings above).") }
    lines += Self.skippedLines(skipped)
    var conventions = ["ESD of WᵀW\(options.normalize ? "/N" : "") (eigenvalues = squared singular values\(options.normalize ? " / N" : ""))"]
    if options.randomize {
      let counterpart = options.randMethod == .shuffle ? "W shuffled" : "a Gaussian of W's shape, mean and variance"
      conventions.append("rand_distance against \(counterpart), seed \(options.seed)\(options.randRepeats > 1 ? ", mean of \(options.randRepeats) draws" : "")")
    }
    if options.delta { conventions.append("ESD of W − W0") }
    if reports.contains(where: { $0.kind == .conv1d }) {
      conventions.append("conv1d (out, in, k): k slices\(options.pool ? " pooled" : "")\(options.convNorm ? ", eigenvalues × \(options.pool ? "1/2" : "k/2")" : "")")
    }
    if reports.contains(where: { $0.kind == .experts }) {
      conventions.append("stacked experts (experts, out, in): a row of all experts pooled (not in the summary), then one per expert")
    }
    conventions.append(order.description)
    lines.append("Conventions: " + conventions.joined(separator: "; ") + ".")
    return lines
  }

  /// One line for the tensors with fewer than 2 dimensions, one per other skipped tensor.
  static func skippedLines(_ skipped: [SkippedTensor]) -> [String] {
    var lines: [String] = []
    let small = skipped.filter { !$0.reason.hasPrefix("1-D") && !$0.reason.hasPrefix("0-D") }
    let vectors = skipped.count - small.count
    if vectors > 0 { lines.append("Skipped \(vectors) tensor\(vectors == 1 ? "" : "s") with fewer than 2 dimensions (biases, norms).") }
    for s in small { lines.append("Skipped \(s.name): \(s.reason)") }
    return lines
  }

  /// The table and the summary lines, as `compare esd` prints them.
  public var text: String { table() + summaryLines.map { $0 + "\n" }.joined() }

  /// `compare esd --json`: `layers` (every column of each row), `summary`, `skipped`,
  /// `conventions`.
  public func json() -> JSONValue {
    let layers = JSONValue.array(reports.map { .object($0.columns) })
    var summaryPairs = summary.means.map { ($0.0, JSONValue.double($0.1)) }
    summaryPairs += [("num_layers", .int(summary.analysed)), ("num_failed", .int(summary.failed)),
                     ("num_skipped", .int(summary.skipped))]
    return .object([
      ("layers", layers),
      ("summary", .object(summaryPairs)),
      ("skipped", .array(skipped.map { .object([("name", .string($0.name)), ("reason", .string($0.reason))]) })),
      ("conventions", .object([
        ("esd", .string(options.normalize ? "eigenvalues of W^T W / N" : "eigenvalues of W^T W (no 1/N)")),
        ("conv2d_norm", .bool(options.convNorm)), ("pool", .bool(options.pool)),
        ("delta", .bool(options.delta)), ("seed", .int(Int(options.seed))),
        ("rand_repeats", .int(options.randRepeats)),
        ("rand_method", .string(options.randMethod.rawValue)),
        ("tolerance", .double(options.tolerance)),
        ("three_d", .string(options.threeDimensional.rawValue)),
        ("precision", .string(options.solver.precision.rawValue)),
        ("method", .string(options.solver.method.rawValue)),
        ("layer_order", .string(order.rawValue)),
      ])),
    ])
  }

  /// `compare esd --csv`: every column any row has, in `ESDColumn.all` order; empty cells for
  /// undefined values.
  public func csv() -> String {
    let present = Set(reports.flatMap { $0.columns.map(\.0) })
    let header = ESDColumn.all.map(\.name).filter { present.contains($0) }
    var table = CSVTable(header: header)
    for r in reports {
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
