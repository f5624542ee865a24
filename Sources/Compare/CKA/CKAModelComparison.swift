import CKA
import CompareCore
import Figures
import TensorIO

/// CKA between every pair of several models (checkpoints of one network, or several networks),
/// computed by `CKAEstimator.pairwiseSimilarities` (one pass over all models with the minibatch
/// estimator), with a model × model summary: for row
/// model i and column model j, the mean over i's layers of their best match in j; and, when
/// both have as many layers, the mean of the diagonal (layer k against layer k).
///
/// - Complexity: with the minibatch estimator and no permutation test, one pass over the M
///   models' files, M·L kernel matrices per batch for L layers each; otherwise one estimator
///   pass per pair, M(M − 1)/2.
public struct CKAModelComparison: Sendable {
  /// The models' names, in the order given.
  public var models: [String]
  /// Every pair (i, j), i < j, in row order: (0, 1), (0, 2), …, (1, 2), …
  public var pairs: [(i: Int, j: Int, result: CKAResult)]
  /// `bestMatch[i, j]`: the mean over model i's layers of their highest CKA with a layer of
  /// model j (1 on the diagonal of identical models); NaN where undefined.
  public var bestMatch: Matrix<Double>
  /// `diagonal[i, j]`: the mean CKA of layer k of i with layer k of j, when the two have as many
  /// layers; NaN otherwise.
  public var diagonal: Matrix<Double>

  /// Compares every pair of `sets` with `estimator`.
  /// - Throws: `InputError` for fewer than two sets; the estimator's errors, naming the pair.
  public init(_ sets: [ActivationSet], estimator: CKAEstimator, kernel: CKAKernel = .linear,
              statistics: CKAStatistics = CKAStatistics(), epochs: Int = 1,
              progress: (Int, Int) -> Void = { _, _ in }) throws {
    guard sets.count >= 2 else { throw InputError("CKA compares at least two models, got \(sets.count)") }
    let m = sets.count
    models = sets.map(\.name)
    var pairs: [(i: Int, j: Int, result: CKAResult)] = []
    var best = Matrix<Double>(zeros: m, m), diagonal = Matrix<Double>(zeros: m, m)
    for i in 0..<m { best[i, i] = 1; diagonal[i, i] = 1 }
    for (i, j, result) in try estimator.pairwiseSimilarities(sets, kernel: kernel, statistics: statistics,
                                                             epochs: epochs, progress: progress) {
      let values = result.matrix.values
      best[i, j] = Self.meanBest(values, transposed: false)
      best[j, i] = Self.meanBest(values, transposed: true)
      let same = values.rows == values.columns
      let diag = same ? (0..<values.rows).map { values[$0, $0] } : []
      diagonal[i, j] = same && diag.allSatisfy(\.isFinite) ? diag.reduce(0, +) / Double(diag.count) : .nan
      diagonal[j, i] = diagonal[i, j]
      pairs.append((i, j, result))
    }
    self.pairs = pairs
    bestMatch = best
    self.diagonal = diagonal
  }

  /// The mean over rows (columns, when `transposed`) of their largest finite value.
  static func meanBest(_ v: Matrix<Double>, transposed: Bool) -> Double {
    let outer = transposed ? v.columns : v.rows, inner = transposed ? v.rows : v.columns
    let maxima = (0..<outer).compactMap { a -> Double? in
      (0..<inner).map { transposed ? v[$0, a] : v[a, $0] }.filter(\.isFinite).max()
    }
    return maxima.isEmpty ? .nan : maxima.reduce(0, +) / Double(maxima.count)
  }

  /// `compare cka A B C ... --json`: `models`, `pairs` (each pair's document as two models
  /// print it), `best_match` and `diagonal` (model × model, `null` where undefined).
  public func json() -> JSONValue {
    func matrix(_ m: Matrix<Double>) -> JSONValue {
      .array((0..<m.rows).map { .array(m.row($0).map { JSONValue.number($0) }) })
    }
    return .object([
      ("models", .strings(models)),
      ("pairs", .array(pairs.map { $0.result.json() })),
      ("best_match", matrix(bestMatch)),
      ("diagonal", matrix(diagonal)),
    ])
  }

  /// The summary tables, then each pair's best matches.
  public var text: String {
    func table(_ m: Matrix<Double>) -> String {
      Format.table(header: ["model"] + models, rows: models.indices.map { i in
        [models[i]] + models.indices.map { j in m[i, j].isNaN ? "-" : Format.fixed(m[i, j], 4) }
      }, rightAligned: Set(1...models.count))
    }
    var out = "CKA between \(models.count) models, \(pairs.count) pairs\n"
    if pairs.contains(where: \.result.pairedByIndex) {
      out += "paired by index: the models hold different inputs, example i of each against example i of the others\n"
    }
    out += "\n"
    out += "Mean over the row model's layers of their best match in the column model:\n" + table(bestMatch)
    if diagonal.elements.enumerated().contains(where: { $0.offset % (models.count + 1) != 0 && $0.element.isFinite }) {
      out += "\nMean CKA of layer k with layer k (models with as many layers):\n" + table(diagonal)
    }
    for (i, j, result) in pairs {
      out += "\n\(models[i]) against \(models[j]): best match in \(models[j]) for each layer of \(models[i])\n"
      let width = result.matrix.layersA.map(\.count).max() ?? 0
      for match in result.matrix.bestMatches {
        let value = match.layerB.map { "\($0) (\(CKAResult.cell(match.similarity)))" } ?? "undefined"
        out += "  \(Format.left(match.layerA, width))  → \(value)\n"
      }
    }
    return out
  }

  /// The best-match summary as a heatmap (models × models).
  public var summaryHeatmap: Heatmap {
    Heatmap(values: (0..<bestMatch.rows).map { bestMatch.row($0) }, rowLabels: models, columnLabels: models,
            title: "CKA: mean best match of the row model's layers", xLabel: "model",
            yLabel: "model", range: min(0, bestMatch.elements.filter(\.isFinite).min() ?? 0)...1,
            annotate: true)
  }

  /// `compare cka A B C ... --heatmap`: a grid of the summary heatmap, then one row per model
  /// of its pairs' layer heatmaps (`CKAFigures.raster`: with a permutation test, the cells that
  /// are not significant greyed and hatched, as each panel's axis label says).
  public var heatmapGrid: ImageGrid {
    var grid = ImageGrid(title: "CKA between \(models.count) models")
    grid.addRow([(summaryHeatmap.raster(cellSize: 48), "mean best match of the row model's layers")], label: "summary")
    for i in models.indices {
      let row = pairs.filter { $0.i == i }
      guard !row.isEmpty else { continue }
      grid.addRow(row.map { (CKAFigures.raster($0.result), "\(models[$0.i]) vs \(models[$0.j])") }, label: models[i])
    }
    return grid
  }

  /// Writes `heatmapGrid`, PNG or SVG by extension, atomically.
  /// - Throws: `InputError` for another extension; the write's `ReadError`.
  public func writeHeatmap(to path: String) throws {
    guard let format = FigureFormat(path: path) else {
      throw InputError("\(path): a heatmap is written as .png or .svg")
    }
    try AtomicFile.write(heatmapGrid.encoded(as: format), to: path)
  }
}
