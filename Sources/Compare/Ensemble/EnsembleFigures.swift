import CompareCore
import EnsembleKernel
import Figures
import TensorIO

/// The figure of `compare ensemble --sizes … --figure FILE`.
public enum EnsembleFigures {
  /// Accuracy against ensemble size: mean single run, the mean-logits ensemble and (with
  /// training logits) the kernel k-NN, in percent, each the mean over resamples; with several
  /// resamples, dashed lines mark the ensemble's mean ± one std.
  public static func sizes(_ rows: [EnsembleSizeRow], to path: String) throws {
    let format = FigureFormat(path: path) ?? .png
    let sorted = rows.sorted { $0.models < $1.models }
    let x = sorted.map { Double($0.models) }
    let logarithmic = (x.last ?? 1) / max(x.first ?? 1, 1) >= 8
    var plot = Plot(title: "Accuracy against ensemble size", xLabel: "runs", yLabel: "test accuracy (%)",
                    xScale: logarithmic ? .log10 : .linear)
    func means(_ values: (EnsembleSizeRow) -> [Double]) -> [Double] {
      sorted.map { 100 * EnsembleSizeRow.spread(values($0)).mean }
    }
    plot.addLine(x: x, y: means(\.singleModelAccuracy), label: "average single run", markers: true)
    let ensembleColor = Color.cycle[1]
    plot.addLine(x: x, y: means(\.ensembleAccuracy), label: "ensemble (mean logits)", color: ensembleColor,
                 markers: true)
    if sorted.first?.ensembleAccuracy.count ?? 0 > 1 {
      // The plot font has no ±: the band is labelled in ASCII.
      let spread = sorted.map { EnsembleSizeRow.spread($0.ensembleAccuracy) }
      plot.addLine(x: x, y: spread.map { 100 * ($0.mean + ($0.std ?? 0)) }, label: "ensemble +/- 1 std",
                   color: ensembleColor, dashed: true)
      plot.addLine(x: x, y: spread.map { 100 * ($0.mean - ($0.std ?? 0)) }, label: "", color: ensembleColor, dashed: true)
    }
    if sorted.first?.kernelAccuracy != nil {
      plot.addLine(x: x, y: means { $0.kernelAccuracy ?? [] }, label: "kernel k-NN", color: Color.cycle[2], markers: true)
    }
    try AtomicFile.write(plot.encoded(as: format), to: path)
  }
}
