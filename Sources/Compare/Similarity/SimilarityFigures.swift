import CompareCore
import Figures
import Similarity
import TensorIO

/// The figures of `compare similarity --heatmap PREFIX`: one annotated heatmap per measure.
public enum SimilarityFigures {
  /// The file of one measure's heatmap: `PREFIX-NAME.png`, or `PREFIX-NAME.svg` when the prefix
  /// ends in `.svg` (`sim.png` and `sim` both give `sim-cka.png`).
  public static func path(prefix: String, measure: String) -> String {
    for ext in [".png", ".svg"] where prefix.hasSuffix(ext) {
      return String(prefix.dropLast(ext.count)) + "-" + measure + ext
    }
    return prefix + "-" + measure + ".png"
  }

  /// One measure's table as a heatmap: rows A's layers top to bottom, columns B's; undefined
  /// cells hatched. Similarities are coloured over min(0, lowest)…max(1, highest), distances over
  /// 0…highest, and the title says which way is "alike".
  public static func heatmap(_ report: SimilarityReport, table: RepresentationComparison.Table) -> Heatmap {
    let values = table.values.map { $0.map { $0 ?? .nan } }
    let finite = values.joined().filter(\.isFinite)
    let range: ClosedRange<Double> = table.direction == .similarity
      ? min(0, finite.min() ?? 0)...max(1, finite.max() ?? 1)
      : 0...max(finite.max() ?? 1, 1e-12)
    let way = table.direction == .similarity ? "higher = more alike" : "lower = more alike"
    return Heatmap(
      values: values, rowLabels: report.layersA, columnLabels: report.layersB,
      title: "\(table.name) (\(way)): \(report.modelA) vs \(report.modelB)",
      xLabel: "layers of \(report.modelB)", yLabel: "layers of \(report.modelA)",
      range: range, annotate: true)
  }

  /// Writes every measure's heatmap next to `prefix` (see `path(prefix:measure:)`), each file
  /// atomically, and returns the paths.
  /// - Throws: the write's `ReadError`.
  @discardableResult
  public static func writeHeatmaps(_ report: SimilarityReport, prefix: String) throws -> [String] {
    try report.tables.map { table in
      let path = path(prefix: prefix, measure: table.name)
      let figure = heatmap(report, table: table)
      if prefix.hasSuffix(".svg") {
        try AtomicFile.write(figure.svg(), to: path)
      } else {
        try AtomicFile.write(figure.png(), to: path)
      }
      return path
    }
  }
}
