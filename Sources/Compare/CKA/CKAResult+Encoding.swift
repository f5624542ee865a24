import CKA
import CompareCore

extension CKAResult {
  /// `compare cka --json`: torch_cka's export keys (`model1_name`, `model2_name`,
  /// `model1_layers`, `model2_layers`, `CKA`), how the estimate was made (`examples`: counted
  /// once per pass, `batches` over all passes, `epochs`: the passes; `paired_by_index`: the
  /// models' examples are different inputs paired by position), and its uncertainty:
  /// `std_error` (jackknife), `confidence`, `bootstrap`, `ci_low`, `ci_high` (bootstrap
  /// intervals), `permutations`, `p_value`, `null_mean`, `null_std` (permutation test) and
  /// `p_adjusted` (Benjamini–Hochberg, with `fdr`). Matrices are shaped like `CKA`; a
  /// statistic not computed (or not defined, as for the full-batch estimators) is `null`.
  /// `warnings`: undefined layers, and statistics asked for that could not be computed.
  public func json() -> JSONValue {
    let m = matrix, u = uncertainty
    func grid(_ x: Matrix<Double>?) -> JSONValue {
      guard let x else { return .null }
      return .array((0..<x.rows).map { .array(x.row($0).map { JSONValue.number($0) }) })
    }
    return .object([
      ("model1_name", .string(m.modelA)),
      ("model2_name", .string(m.modelB)),
      ("model1_layers", .strings(m.layersA)),
      ("model2_layers", .strings(m.layersB)),
      ("CKA", .array(m.rows.map { .array($0.map { JSONValue.number($0) }) })),
      ("estimator", .string(estimator.description)),
      ("kernel", .string(kernel.description)),
      ("batch_size", batchSize.map(JSONValue.int) ?? .null),
      ("examples", .int(examples)),
      ("paired_by_index", .bool(pairedByIndex)),
      ("batches", .int(batches)),
      ("epochs", .int(epochs)),
      ("std_error", grid(u.standardError)),
      ("confidence", .number(u.confidence)),
      ("bootstrap", u.bootstrap.map(JSONValue.int) ?? .null),
      ("ci_low", grid(u.intervalLow)),
      ("ci_high", grid(u.intervalHigh)),
      ("permutations", .int(u.permutations)),
      ("p_value", grid(u.pValue)),
      ("p_adjusted", grid(u.pAdjusted)),
      ("null_mean", grid(u.nullMean)),
      ("null_std", grid(u.nullStd)),
      ("warnings", .strings(warnings)),
    ])
  }

  /// The table `compare cka` prints, and a line per layer of A naming its best match in B.
  public var text: String { text(showingStandardErrors: false) }

  /// The title, how the estimate was made (and, with `pairedByIndex`, that the examples are
  /// different inputs paired by position), then the table, with each cell's jackknife standard error (`0.8675 ± 0.0123`) when
  /// `showingStandardErrors` and there are 2 or more batches; then the bootstrap intervals and
  /// the permutation p-values when computed. Cells that are not significant (p above
  /// `CKAStatistics.significanceLevel`, adjusted when asked) are marked `ns`, and so are best
  /// matches.
  public func text(showingStandardErrors: Bool) -> String {
    let m = matrix, u = uncertainty
    let errors = showingStandardErrors ? u.standardError : nil
    let tested = u.testedPValues
    let layers = { (count: Int) in "\(count) layer\(count == 1 ? "" : "s")" }
    var out = "CKA of \(m.modelA) (rows, \(layers(m.layersA.count))) against \(m.modelB) (columns, \(layers(m.layersB.count)))\n"
    var how = "estimator \(estimator), kernel \(kernel)"
    if let size = batchSize, epochs > 1 {
      // `examples` counts each pass: say what one pass covers.
      let perPass = examples / epochs
      how += ", batch size \(size): \(batches) batches ("
      how += perPass == available ? "\(epochs) passes over \(available) examples)"
                                  : "\(epochs) passes, each over \(perPass) of \(available) examples)"
    } else if let size = batchSize {
      how += ", batch size \(size): \(batches) batches, \(examples) of \(available) examples"
    } else {
      how += ": \(examples) examples"
    }
    out += how + "\n"
    if pairedByIndex {
      out += "paired by index: \(m.modelA) and \(m.modelB) hold different inputs, example i of one against example i of the other\n"
    }
    out += "\n"
    func entry(_ i: Int, _ j: Int) -> String {
      var s = Self.cell(m[i, j])
      if let errors { s += " ± " + Self.cell(errors[i, j]) }
      if tested != nil { s += u.isSignificant(i, j) == false ? " ns" : "   " }
      return s
    }
    let rows = m.layersA.indices.map { i in [m.layersA[i]] + m.layersB.indices.map { j in entry(i, j) } }
    out += Format.table(header: ["layer"] + m.layersB, rows: rows, rightAligned: Set(1...m.layersB.count))
    if showingStandardErrors {
      out += errors == nil
        ? "(no standard errors: they need at least 2 batches)\n"
        : "± the delete-one-batch jackknife standard error over the \(batches) batches\n"
    }
    if missingIntervals { out += "(no bootstrap intervals: they need at least 2 batches)\n" }
    if tested != nil {
      let adjusted = uncertainty.pAdjusted == nil ? "" : ", Benjamini–Hochberg adjusted"
      out += "ns: not significant (permutation p > \(Format.general(CKAStatistics.significanceLevel, 2))\(adjusted))\n"
    }
    if let low = u.intervalLow, let high = u.intervalHigh, let confidence = u.confidence,
       let resamples = u.bootstrap {
      out += "\n\(Self.percent(confidence)) % bootstrap intervals (\(resamples) resamples of the \(batches) batches):\n"
      let rows = m.layersA.indices.map { i in
        [m.layersA[i]] + m.layersB.indices.map { j in "[\(Self.cell(low[i, j])), \(Self.cell(high[i, j]))]" }
      }
      out += Format.table(header: ["layer"] + m.layersB, rows: rows, rightAligned: Set(1...m.layersB.count))
    }
    if let tested {
      out += "\n\(pValueDescription):\n"
      let rows = m.layersA.indices.map { i in
        [m.layersA[i]] + m.layersB.indices.map { j in Self.cell(tested[i, j]) }
      }
      out += Format.table(header: ["layer"] + m.layersB, rows: rows, rightAligned: Set(1...m.layersB.count))
    }
    out += "\nBest match in \(m.modelB) for each layer of \(m.modelA):\n"
    let width = m.layersA.map(\.count).max() ?? 0
    for (i, match) in m.bestMatches.enumerated() {
      if let layer = match.layerB, let j = m.layersB.firstIndex(of: layer) {
        var value = Self.cell(match.similarity)
        if let errors { value += " ± " + Self.cell(errors[i, j]) }
        var line = "  \(Format.left(match.layerA, width))  → \(layer) (\(value))"
        if u.isSignificant(i, j) == false, let p = tested?[i, j] {
          line += ", not significant (p = \(Self.cell(p)))"
        }
        out += line + "\n"
      } else {
        out += "  \(Format.left(match.layerA, width))  → undefined\n"
      }
    }
    return out
  }

  /// The title of the p-value table: how many shuffles, and whether adjusted.
  var pValueDescription: String {
    let shuffles = "\(uncertainty.permutations) shuffles of \(matrix.modelB)'s examples within each batch"
    return uncertainty.pAdjusted == nil
      ? "Permutation p-values (\(shuffles))"
      : "Permutation p-values, Benjamini–Hochberg adjusted across the \(matrix.values.elements.count) cells (\(shuffles))"
  }

  /// The lines for standard error: notes (examples dropped), then the warnings.
  public var messages: [String] { notes + warnings.map { "warning: \($0)" } }

  /// A line per undefined layer (`SimilarityMatrix.warnings`), then one per statistic asked for
  /// that could not be computed (bootstrap intervals from a single batch).
  public var warnings: [String] {
    matrix.warnings + (missingIntervals ? ["no bootstrap intervals: they need at least 2 batches, got \(batches)"] : [])
  }

  /// Intervals were asked for (`statistics.bootstrap` > 0) but there were too few batches.
  var missingIntervals: Bool { statistics.bootstrap > 0 && uncertainty.intervalLow == nil }

  /// A coverage in (0, 1) as a percentage with the fewest digits (at least 4 significant) that
  /// give it back: 95, 99.5, 99.9999, never a rounded 100 or 0.
  public static func percent(_ confidence: Double) -> String {
    let value = confidence * 100
    for digits in 4...16 {
      let text = Format.general(value, digits)
      if let parsed = Double(text), parsed > 0, parsed < 100, abs(parsed - value) <= 1e-12 * value { return text }
    }
    return Format.general(value, 17)
  }

  /// A CKA value as the table prints it: 4 decimals, `nan` when undefined.
  public static func cell(_ value: Double) -> String { value.isNaN ? "nan" : Format.fixed(value, 4) }
}
