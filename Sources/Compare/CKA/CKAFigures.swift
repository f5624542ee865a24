import CKA
import CompareCore
import Figures
import TensorIO

/// The figure of `compare cka --heatmap`.
public enum CKAFigures {
  /// The matrix as an annotated heatmap: rows A's layers top to bottom, columns B's, colours
  /// from min(0, lowest value) to 1 (debiased estimates can dip below 0: the range widens,
  /// never narrows).
  public static func heatmap(_ m: SimilarityMatrix) -> Heatmap {
    let lowest = m.values.elements.filter(\.isFinite).min() ?? 0
    return Heatmap(
      values: m.rows, rowLabels: m.layersA, columnLabels: m.layersB,
      title: "CKA: \(m.modelA) vs \(m.modelB)", xLabel: "layers of \(m.modelB)",
      yLabel: "layers of \(m.modelA)", range: min(0, lowest)...1, annotate: true)
  }

  /// Writes `heatmap(m)` as PNG or SVG by the file's extension, atomically.
  /// - Throws: `InputError` for another extension; the write's `ReadError`.
  public static func writeHeatmap(_ m: SimilarityMatrix, to path: String) throws {
    let figure = heatmap(m)
    switch FigureFormat(path: path) {
    case .svg: try AtomicFile.write(figure.svg(), to: path)
    case .png: try AtomicFile.write(figure.png(), to: path)
    case nil: throw InputError("\(path): a heatmap is written as .png or .svg")
    }
  }
}
