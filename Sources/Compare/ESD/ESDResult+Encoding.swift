import CompareCore
import SpectralMetrics
import TensorIO

extension ESDResult {
  /// The columns of the text table, in order (`ESDColumn` names).
  public static let tableColumns = ESDReport.tableColumns
  /// The demo's shorter table.
  public static let compactColumns = ["name", "N", "M", "alpha", "entropy", "rand_distance", "mp_softrank",
                                      "num_spikes", "cka_from_init", "warning"]

  /// The report this result prints: its rows, skipped tensors and conventions.
  public var report: ESDReport {
    ESDReport(rows: reports.map(\.columns), skipped: skipped, conventions: conventionsJSON,
              conventionsText: conventionsText, expectedColumns: expectedColumns)
  }

  /// The columns a successful row has under this run's options (`ESDColumn.Group`), which
  /// `--json` keeps in every row (null where a layer failed), so that its keys do not depend on
  /// which layers failed.
  public var expectedColumns: Set<String> {
    var groups: [ESDColumn.Group] = [.always, .reason]
    if options.randomize { groups.append(.randomized) }
    if options.mpFit { groups.append(.marchenkoPastur) }
    if options.mpFit && options.randomize { groups.append(.randomMarchenkoPastur) }
    if options.fit != .powerLaw { groups.append(.truncatedPowerLaw) }
    if options.fixFingers == .clipXmax { groups.append(.clippedFingers) }
    if options.detX { groups.append(.detX) }
    if options.alphaResamples > 0 { groups.append(.alphaInterval) }
    if options.powerLawTestSamples > 0 { groups.append(.powerLawTest) }
    return Set(ESDColumn.all.filter { column in groups.contains { $0 == column.group } }.map(\.name))
  }

  /// The conventions, as the text output's last line says them.
  var conventionsText: String {
    var conventions = ["ESD of WᵀW\(options.normalize ? "/N" : "") (eigenvalues = squared singular values\(options.normalize ? " / N" : ""))"]
    if options.randomize {
      let counterpart = options.randMethod == .shuffle ? "W shuffled" : "a Gaussian of W's shape, mean and variance"
      conventions.append("rand_distance against \(counterpart), seed \(options.seed)\(options.randRepeats > 1 ? ", mean of \(options.randRepeats) draws" : "")")
    }
    if options.delta { conventions.append("ESD of W − W0") }
    if options.fit != .powerLaw || options.fixFingers != nil {
      var fit = "tail fit \(options.fit.rawValue)"
      if let fix = options.fixFingers { fit += ", fix_fingers \(fix.rawValue)" }
      if let xminMax = options.xminMax { fit += ", xmin_max \(Format.general(xminMax, 6))" }
      conventions.append(fit)
    }
    if reports.contains(where: { $0.kind == .conv1d }) || modelLayerKinds.contains(.conv1d) {
      conventions.append("conv1d (out, in, k): k slices\(options.pool ? " pooled" : "")\(options.convNorm ? ", eigenvalues × \(options.pool ? "1/2" : "k/2")" : "")")
    }
    if reports.contains(where: { $0.kind == .experts }) || modelLayerKinds.contains(.expert) {
      conventions.append("stacked experts (experts, out, in): a row of all experts pooled (not in the summary), then one per expert")
    }
    if let loraScale {
      conventions.append(loraScale == .config
        ? "LoRA rows: ΔW = (lora_alpha/r)·B·A, its top min(r, M) eigenvalues"
        : "LoRA rows: ΔW = B·A without lora_alpha/r (weightwatcher's peft=True), its top min(r, M) eigenvalues")
      if reports.contains(where: { $0.kind == .loraMerged }) {
        conventions.append(loraScale == .config ? "NAME.merged = W + ΔW, the fine-tuned weight"
          : "NAME.merged = W + B·A, not the fine-tuned weight without --lora-scale")
      }
    }
    conventions.append(order.description)
    conventions += fitTestConventions
    return conventions.joined(separator: "; ")
  }

  /// The `conventions` object of `--json`.
  var conventionsJSON: JSONValue {
    // The tail-fit options appear only when set, so the default document keeps its keys.
    var tailFit: [(String, JSONValue)] = []
    if options.fit != .powerLaw || options.fixFingers != nil || options.detX {
      tailFit = [
        ("fit", .string(options.fit.rawValue)),
        ("fix_fingers", options.fixFingers.map { .string($0.rawValue) } ?? .null),
        ("xmin_max", options.xminMax.map { .double($0) } ?? .null),
        ("detX", .bool(options.detX)),
      ]
    }
    return .object([
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
    ] + tailFit + fitTestConventionsJSON + (loraScale.map { [("lora_scale", JSONValue.string($0.rawValue))] } ?? []))
  }

  /// What `--alpha-ci` and `--pl-test` did, for the conventions line (nothing when off).
  var fitTestConventions: [String] {
    var lines: [String] = []
    if options.fit != .powerLaw && (options.alphaResamples > 0 || options.powerLawTestSamples > 0) {
      lines.append("alpha_ci and pl_* are of the power-law fit (PL) of the same eigenvalues, not of the \(options.fit.rawValue) fit in alpha")
    }
    if options.alphaResamples > 0 {
      lines.append("alpha_ci: \(Format.general(options.confidence * 100, 4)) % percentile bootstrap of \(options.alphaResamples) resamples, each refitted with its own xmin, seed \(options.seed)")
    }
    if options.powerLawTestSamples > 0 {
      lines.append("pl_p_value: Clauset–Shalizi–Newman KS bootstrap of \(options.powerLawTestSamples) synthetic samples, seed \(options.seed); pl_vs_*: powerlaw 1.5's normalised log-likelihood ratio on x ≥ xmin (R > 0 favours the power law)")
    }
    return lines
  }

  /// The same as `conventions` keys (none when both are off).
  var fitTestConventionsJSON: [(String, JSONValue)] {
    var keys: [(String, JSONValue)] = []
    if options.alphaResamples > 0 {
      keys += [("alpha_ci_resamples", .int(options.alphaResamples)), ("confidence", .double(options.confidence))]
    }
    if options.powerLawTestSamples > 0 { keys.append(("pl_test_samples", .int(options.powerLawTestSamples))) }
    return keys
  }

  /// A table cell (see `ESDReport.cell`).
  static func cell(_ value: JSONValue) -> String { ESDReport.cell(value) }
  /// One line for the tensors with fewer than 2 dimensions, one per other skipped tensor.
  static func skippedLines(_ skipped: [SkippedTensor]) -> [String] { ESDReport.skippedLines(skipped) }

  /// The text table (see `ESDReport.table(columns:)`).
  public func table(columns chosen: [String]? = nil) -> String { report.table(columns: chosen) }
  /// The lines after the table: the summary, failures, skipped tensors and conventions.
  public var summaryLines: [String] { report.summaryLines }
  /// The table and the summary lines, as `compare esd` prints them.
  public var text: String { report.text }
  /// `compare esd --json`; a part of a sharded run adds a `shard` object (`index`, `count`,
  /// `model`, `layers`, `skipped_tensors`, `conventions_text`, `model_fingerprint`, and with
  /// `--init` `init_fingerprint`) that
  /// `ESDReport.merging` reads.
  public func json() -> JSONValue {
    let document = report.json()
    guard let shard, case .object(var pairs) = document else { return document }
    pairs.append(("shard", .object([
      ("index", .int(shard.part.index)), ("count", .int(shard.part.count)), ("model", .string(model)),
      ("layers", .strings(shard.layers)), ("skipped_tensors", .int(shard.skippedTensors)),
      ("conventions_text", .string(conventionsText)),
    ] + (fingerprint.map { [("model_fingerprint", $0.json)] } ?? [])
      + (initFingerprint.map { [("init_fingerprint", $0.json)] } ?? []))))
    return .object(pairs)
  }
  /// `compare esd --csv`.
  public func csv() -> String { report.csv() }
}
