import CompareCore
import EnsembleKernel

extension EnsembleResult {
  /// The note printed (and in JSON `notes`) when the distribution-wise std is undefined.
  static let undefinedNote = "distribution_std is undefined: the variance over runs of the number of correct examples is below Σ p(1 − p), so √(n/(n−1)·(V − Σ p(1 − p))) has a negative argument (eval_kernel.py prints nan)"

  /// The keys of one summary, fractions not percent.
  static func summaryPairs(_ s: EnsembleSummary) -> [(String, JSONValue)] {
    let v = s.variance, interval = s.singleModelAccuracyInterval
    return [
      ("models", .int(s.models)),
      ("examples", .int(s.examples)),
      ("classes", .int(s.classes)),
      ("single_model_accuracy", .double(s.singleModelAccuracy)),
      ("single_model_accuracy_std", .double(s.singleModelAccuracyStd)),
      ("single_model_accuracy_ci", .numbers([interval.low, interval.high])),
      ("empirical_std", .double(v.empiricalStd)),
      ("independent_std", .double(v.independentStd)),
      ("distribution_std", .number(v.distributionStd)),
      ("ensemble_accuracy", .double(s.ensembleAccuracy)),
      ("ensemble_accuracy_probs", .double(s.ensembleAccuracyProbs)),
      ("ece", .double(s.ensembleCalibration.ece)),
      ("nll", .double(s.ensembleCalibration.nll)),
      ("brier", .double(s.ensembleCalibration.brier)),
      ("mean_model_ece", .double(s.meanModelCalibration.ece)),
      ("mean_model_nll", .double(s.meanModelCalibration.nll)),
      ("mean_model_brier", .double(s.meanModelCalibration.brier)),
      ("disagreement", .double(s.disagreement)),
    ]
  }

  /// The listed examples: least stable alone, most changed with a comparison.
  public var listed: [Int] {
    comparison.map { $0.mostChanged(request.top) } ?? summary.stability.leastStable(request.top)
  }

  /// `compare ensemble --json`: fractions, not percent.
  public func json() -> JSONValue {
    var pairs = Self.summaryPairs(summary)
    var notes: [String] = []
    if summary.variance.distributionStd == nil { notes.append(Self.undefinedNote) }
    let s = summary.stability
    if let c = comparison {
      if c.b.variance.distributionStd == nil { notes.append("against: " + Self.undefinedNote) }
      pairs += [
        ("churn", .double(c.churn)),
        ("single_model_accuracy_difference", .double(c.singleModelAccuracyDifference)),
        ("single_model_accuracy_difference_se", .double(c.singleModelAccuracyDifferenceSE)),
        ("ensemble_accuracy_difference", .double(c.ensembleAccuracyDifference)),
        ("most_changed", .array(listed.map { i in
          .object([("example", .int(i)), ("label", .int(labels[i])),
                   ("p_correct", .double(c.a.stability.pCorrect[i])),
                   ("p_correct_against", .double(c.b.stability.pCorrect[i])),
                   ("p_correct_difference", .double(c.pCorrectDifference[i])),
                   ("p_value", .double(c.pValue[i]))])
        })),
        ("against", .object(Self.summaryPairs(c.b))),
      ]
    } else {
      pairs.append(("least_stable", .array(listed.map { i in
        .object([("example", .int(i)), ("label", .int(labels[i])), ("p_correct", .double(s.pCorrect[i])),
                 ("margin_mean", .double(s.marginMean[i])), ("margin_std", .double(s.marginStd[i])),
                 ("entropy", .double(s.entropy[i]))])
      })))
    }
    if let t = tta {
      let interval = t.singleModelAccuracyInterval
      pairs.append(("tta", .object([
        ("models", .int(t.models)),
        ("single_model_accuracy", .double(t.singleModelAccuracy)),
        ("single_model_accuracy_std", .double(t.singleModelAccuracyStd)),
        ("single_model_accuracy_ci", .numbers([interval.low, interval.high])),
        ("ensemble_accuracy", .double(t.ensembleAccuracy)),
        ("ensemble_accuracy_probs", .double(t.ensembleAccuracyProbs)),
      ])))
    }
    if !sizes.isEmpty {
      pairs.append(("resamples", .int(request.resamples)))
      if request.resamples > 1 { pairs.append(("seed", .int(Int(truncatingIfNeeded: request.seed)))) }
      pairs.append(("sizes", .array(sizes.map { row in
        var o: [(String, JSONValue)] = [("models", .int(row.models))]
        func add(_ key: String, _ values: [Double]) {
          let (mean, std) = EnsembleSizeRow.spread(values)
          o.append((key, .double(mean)))
          o.append((key + "_std", .number(std)))
        }
        add("single_model_accuracy", row.singleModelAccuracy)
        add("ensemble_accuracy", row.ensembleAccuracy)
        if let kernel = row.kernelAccuracy { add("kernel_accuracy", kernel) }
        return .object(o)
      })))
      if sizes.first?.kernelAccuracy != nil { pairs.append(("k", .int(request.knn.k))) }
    }
    if !notes.isEmpty { pairs.append(("notes", .strings(notes))) }
    return .object(pairs)
  }

  /// A table without its final newline.
  static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
    String(Format.table(header: header, rows: rows, rightAligned: rightAligned).dropLast())
  }

  static func percent(_ x: Double) -> String { Format.fixed(100 * x, 2) }

  /// The accuracy lines, one column per set of logits (the script's "without tta" and "using tta").
  var accuracyTable: String {
    let columns = [summary] + (tta.map { [$0] } ?? [])
    let header = ["accuracy (%)"] + (tta == nil ? ["\(summary.models) runs"] : ["without tta", "with tta"])
    let lines: [(String, (EnsembleSummary) -> String)] = [
      ("mean single-model accuracy", { Self.percent($0.singleModelAccuracy) }),
      ("std over runs", { Self.percent($0.singleModelAccuracyStd) }),
      ("95 % interval of the mean", {
        Self.percent($0.singleModelAccuracyInterval.low) + " – " + Self.percent($0.singleModelAccuracyInterval.high)
      }),
      ("ensemble accuracy (mean logits)", { Self.percent($0.ensembleAccuracy) }),
      ("ensemble accuracy (mean softmax)", { Self.percent($0.ensembleAccuracyProbs) }),
    ]
    return Self.table(header: header, rows: lines.map { line in [line.0] + columns.map(line.1) },
                        rightAligned: Set(1...columns.count))
  }

  /// The variance analysis, in percent of accuracy as the script prints it.
  var varianceLines: [String] {
    let v = summary.variance
    let rows = [
      ("empirical std", Self.percent(v.empiricalStd)),
      ("examplewise-independence std", Self.percent(v.independentStd)),
      ("distribution-wise std", v.distributionStd.map(Self.percent) ?? "undefined (see note)"),
    ]
    return ["Variance analysis (Calibrated Chaos, Theorem 2), std of accuracy in %"]
      + rows.map { Format.left($0.0, 31) + ": " + $0.1 }
  }

  var calibrationTable: String {
    let e = summary.ensembleCalibration, m = summary.meanModelCalibration
    return Self.table(header: ["calibration", "ensemble", "single run (mean)"], rows: [
      ["ECE (15 bins)", Format.fixed(e.ece, 4), Format.fixed(m.ece, 4)],
      ["NLL", Format.fixed(e.nll, 4), Format.fixed(m.nll, 4)],
      ["Brier", Format.fixed(e.brier, 4), Format.fixed(m.brier, 4)],
    ], rightAligned: [1, 2])
  }

  /// The least stable examples, or the most changed ones with a comparison.
  var examplesTable: String {
    if let c = comparison {
      return "Examples most changed (p_correct of --test minus --against)\n" + Self.table(
        header: ["rank", "example", "label", "p_correct", "against", "difference", "p_value"],
        rows: listed.enumerated().map { rank, i in
          [String(rank + 1), String(i), String(labels[i]), Format.fixed(c.a.stability.pCorrect[i], 3),
           Format.fixed(c.b.stability.pCorrect[i], 3), Format.fixed(c.pCorrectDifference[i], 3),
           Format.general(c.pValue[i], 3)]
        }, rightAligned: [0, 1, 2, 3, 4, 5, 6])
    }
    let s = summary.stability
    return "Least stable examples (runs split most evenly)\n" + Self.table(
      header: ["rank", "example", "label", "p_correct", "margin mean", "margin std", "entropy"],
      rows: listed.enumerated().map { rank, i in
        [String(rank + 1), String(i), String(labels[i]), Format.fixed(s.pCorrect[i], 3),
         Format.fixed(s.marginMean[i], 3), Format.fixed(s.marginStd[i], 3), Format.fixed(s.entropy[i], 3)]
      }, rightAligned: [0, 1, 2, 3, 4, 5, 6])
  }

  /// The comparison's overall lines.
  var comparisonTable: String {
    guard let c = comparison else { return "" }
    let d = c.singleModelAccuracyDifference, se = c.singleModelAccuracyDifferenceSE
    return Self.table(header: ["accuracy (%)", "--test", "--against", "difference"], rows: [
      ["runs", String(c.a.models), String(c.b.models), ""],
      ["mean single-model accuracy", Self.percent(c.a.singleModelAccuracy), Self.percent(c.b.singleModelAccuracy),
       Self.percent(d) + " ± " + Self.percent(se)],
      ["ensemble accuracy (mean logits)", Self.percent(c.a.ensembleAccuracy), Self.percent(c.b.ensembleAccuracy),
       Self.percent(c.ensembleAccuracyDifference)],
    ], rightAligned: [1, 2, 3]) + "\n" + Format.left("churn (ensemble predictions differ)", 31) + ": "
      + Self.percent(c.churn) + " %"
  }

  /// The accuracy-against-size table (percent; ± the std over resamples when there are several).
  public var sizesTable: String {
    let spread = request.resamples > 1
    let kernel = sizes.first?.kernelAccuracy != nil
    var header = ["runs", "single model %"] + (spread ? ["± std"] : []) + ["ensemble %"] + (spread ? ["± std"] : [])
    if kernel { header += ["kernel %"] + (spread ? ["± std"] : []) }
    let rows = sizes.map { row -> [String] in
      var cells = [String(row.models)]
      for values in [row.singleModelAccuracy, row.ensembleAccuracy] + (row.kernelAccuracy.map { [$0] } ?? []) {
        let (mean, std) = EnsembleSizeRow.spread(values)
        cells.append(Self.percent(mean))
        if spread { cells.append(Self.percent(std ?? 0)) }
      }
      return cells
    }
    return Self.table(header: header, rows: rows, rightAligned: Set(0..<header.count))
  }

  /// What `compare ensemble` prints.
  public var text: String {
    var parts: [String] = []
    let s = summary
    if let c = comparison {
      parts.append("Ensembles of \(c.a.models) and \(c.b.models) runs, \(s.examples) examples, \(s.classes) classes\n"
                   + "--test    : \(c.a.name)\n--against : \(c.b.name)")
      parts.append(comparisonTable)
    } else {
      parts.append("Ensemble of \(s.models) runs, \(s.examples) examples, \(s.classes) classes")
      parts.append(accuracyTable)
      parts.append(varianceLines.joined(separator: "\n")
                   + (s.variance.distributionStd == nil ? "\nnote: " + Self.undefinedNote : ""))
      parts.append(calibrationTable + "\n" + Format.left("disagreement between runs (%)", 31) + ": "
                   + Self.percent(s.disagreement))
    }
    if request.top > 0 { parts.append(examplesTable) }
    if !sizes.isEmpty {
      let how = request.resamples > 1 ? "mean ± std over \(request.resamples) random subsets (seed \(request.seed))"
                                      : "the first n runs"
      parts.append("Accuracy against ensemble size (\(how))\n" + sizesTable)
    }
    return parts.joined(separator: "\n\n") + "\n"
  }
}
