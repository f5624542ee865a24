import CompareCore
import Figures
import SpectralMetrics
import TensorIO

/// The figures of `compare esd --plot` and the demo: per-layer ESD histograms with their fits,
/// the ESD beside the shuffled ESD, and alpha by layer.
public enum ESDFigures {
  /// Per layer a log-log ESD histogram with the power-law fit and xmin marked
  /// (`esd_<layer>.png`) and the ESD beside its shuffled ESD (`esd_<layer>_rand.png`); one
  /// overview of alpha by layer (`esd_alpha_by_layer.png`).
  ///
  /// Layer names are made file-safe (other characters become `_`); where two layers would then
  /// share a file (`sub/x` and `sub_x`, a layer `x_rand` beside `x`'s shuffled plot, or a
  /// layer `alpha_by_layer`), the later one gets `-2`, `-3`, … (`esd_sub_x-2.png`).
  public static func write(_ reports: [LayerReport], to dir: String, title: String) throws {
    try Folders.create(dir)
    let plotted = reports.filter { ($0.spectrum?.lambdaMax ?? 0) > 0 }
    for (report, name) in zip(plotted, fileNames(plotted)) {
      guard let spectrum = report.spectrum else { continue }
      try AtomicFile.write(esdPlot(report, spectrum).png(), to: FileSystem.path("esd_\(name).png", in: dir))
      if let rand = report.firstRandomEigenvalues {
        try AtomicFile.write(randomPlot(report, spectrum, rand).png(), to: FileSystem.path("esd_\(name)_rand.png", in: dir))
      }
    }
    try writeOverview(reports, to: FileSystem.path("esd_alpha_by_layer", in: dir), title: title)
  }

  /// A file-safe name per report, distinct from each other's, from their `_rand` names and
  /// from the overview's (`alpha_by_layer`), in order.
  static func fileNames(_ reports: [LayerReport]) -> [String] {
    var used: Set<String> = ["alpha_by_layer"]
    return reports.map { report in
      let base = fileName(report)
      var name = base, copy = 1
      while used.contains(name) || used.contains(name + "_rand") {
        copy += 1
        name = "\(base)-\(copy)"
      }
      used.formUnion([name, name + "_rand"])
      return name
    }
  }

  static func fileName(_ report: LayerReport) -> String {
    let name = report.sliceIndex.map { "\(report.name).slice\($0)" } ?? report.name
    return String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" })
  }

  /// Log-spaced histogram of the positive values as a density: (edges, heights).
  static func logHistogram(_ values: [Double], bins: Int = 60, range: (Double, Double)? = nil) -> ([Double], [Double]) {
    let positive = values.filter { $0 > 0 }
    guard let lo = range?.0 ?? positive.min(), let hi = range?.1 ?? positive.max(), lo > 0, hi > lo else { return ([], []) }
    let a = log10(lo), b = log10(hi) + 1e-12
    let edges = (0...bins).map { pow(10, a + (b - a) * Double($0) / Double(bins)) }
    var counts = [Double](repeating: 0, count: bins)
    for v in positive {
      let k = Int((log10(v) - a) / (b - a) * Double(bins))
      if k >= 0 && k < bins { counts[k] += 1 }
    }
    let total = Double(positive.count)
    let heights = (0..<bins).map { (k: Int) -> Double in
      let width: Double = edges[k + 1] - edges[k]
      return counts[k] / (total * width)
    }
    return (edges, heights)
  }

  public static func esdPlot(_ report: LayerReport, _ spectrum: Spectrum) -> Plot {
    var caption = report.name
    if let fit = report.truncatedPowerLaw {
      caption += ": TPL alpha \(Format.fixed(fit.alpha, 2)), Lambda \(Format.general(fit.lambda, 3)), xmin \(Format.general(fit.xmin, 3))"
    } else if let fit = report.powerLaw {
      caption += ": alpha \(Format.fixed(fit.alpha, 2)), D \(Format.fixed(fit.d, 3)), xmin \(Format.general(fit.xmin, 3))"
    }
    var plot = Plot(title: caption, xLabel: "eigenvalue of W^T W", yLabel: "density",
                    xScale: .log10, yScale: .log10)
    let (edges, heights) = logHistogram(spectrum.eigenvalues.filter { $0 > PowerLawFit.threshold })
    plot.addBars(edges: edges, heights: heights.map { $0 > 0 ? $0 : .nan }, label: "ESD")
    if let fit = report.truncatedPowerLaw {
      // C λ^(−alpha) e^(−Lambda·λ), C = Lambda^(1−alpha)/Γ(1−alpha, Lambda·xmin), scaled by the
      // tail's share of the eigenvalues.
      let share = Double(fit.tailCount) / Double(spectrum.eigenvalues.filter { $0 > PowerLawFit.threshold }.count)
      let c = pow(fit.lambda, 1 - fit.alpha) / upperIncompleteGamma(1 - fit.alpha, fit.lambda * fit.xmin)
      let xs = (0...40).map { fit.xmin * pow(fit.xmax / fit.xmin, Double($0) / 40) }
      let ys = xs.map { (x: Double) -> Double in
        let density: Double = c * pow(x, -fit.alpha) * exp(-fit.lambda * x)
        return share * density
      }
      plot.addLine(x: xs, y: ys, label: "truncated power law, alpha \(Format.fixed(fit.alpha, 2))", dashed: true)
      plot.addVerticalLine(at: fit.xmin, label: "xmin")
    } else if let fit = report.powerLaw {
      // The fitted density, scaled by the tail's share of the eigenvalues.
      let share = Double(fit.tailCount) / Double(spectrum.eigenvalues.filter { $0 > PowerLawFit.threshold }.count)
      let xs = (0...40).map { fit.xmin * pow(fit.xmax / fit.xmin, Double($0) / 40) }
      let ys = xs.map { share * (fit.alpha - 1) / fit.xmin * pow($0 / fit.xmin, -fit.alpha) }
      plot.addLine(x: xs, y: ys, label: "power law, alpha \(Format.fixed(fit.alpha, 2))", dashed: true)
      plot.addVerticalLine(at: fit.xmin, label: "xmin")
    }
    if let mp = report.marchenkoPastur { plot.addVerticalLine(at: mp.bulkMax, label: "MP bulk edge") }
    return plot
  }

  public static func randomPlot(_ report: LayerReport, _ spectrum: Spectrum, _ rand: [Double]) -> Plot {
    let all = (spectrum.eigenvalues + rand).filter { $0 > PowerLawFit.threshold }
    let range = (all.min() ?? 1, all.max() ?? 1)
    let distance = report.randDistance.map { ", rand_distance \(Format.fixed($0, 3))" } ?? ""
    var plot = Plot(title: "\(report.name) vs shuffled\(distance)", xLabel: "eigenvalue of W^T W",
                    yLabel: "density", xScale: .log10, yScale: .log10)
    let a = logHistogram(spectrum.eigenvalues.filter { $0 > PowerLawFit.threshold }, range: range)
    let b = logHistogram(rand.filter { $0 > PowerLawFit.threshold }, range: range)
    plot.addBars(edges: a.0, heights: a.1.map { $0 > 0 ? $0 : .nan }, label: "W")
    plot.addBars(edges: b.0, heights: b.1.map { $0 > 0 ? $0 : .nan }, label: "W shuffled")
    return plot
  }

  /// alpha of every layer against its position in the model, with the reference's 2 and 6
  /// marked; the x axis names the layers (every k-th when there are many).
  public static func writeOverview(_ reports: [LayerReport], to path: String, title: String) throws {
    try writeOverview([(title, reports)], to: path, title: title)
  }

  /// The same with one line per model, each point placed by its layer's name (see
  /// `overviewPoints`): a layer one model lacks is skipped by its line, and never shifts its
  /// later layers under other names.
  public static func writeOverview(_ models: [(name: String, reports: [LayerReport])], to path: String,
                                   title: String) throws {
    let (names, points) = overviewPoints(models)
    var plot = Plot(title: "\(title): alpha by layer", xLabel: "layer (model order)", yLabel: "alpha")
    plot.xCategories = names
    for ((name, _), line) in zip(models, points) {
      plot.addLine(x: line.map(\.x), y: line.map(\.alpha), label: models.count > 1 ? "alpha, \(name)" : "alpha",
                   markers: true)
    }
    let span = [0.5, Double(max(names.count, 1)) + 0.5]
    plot.addLine(x: span, y: [2, 2], label: "2 (below: over-trained)", dashed: true)
    plot.addLine(x: span, y: [6, 6], label: "6 (above: under-trained)", dashed: true)
    try AtomicFile.write(plot.png(), to: path + ".png")
    try AtomicFile.write(Array(plot.svg().utf8), to: path + ".svg")
  }

  /// Where `writeOverview` puts each model's rows: the x axis's layer names, and per model the
  /// (x, alpha) of each row that has an alpha, x being its name's 1-based position on the axis.
  ///
  /// The axis is the union of the models' row labels (`layer`, `layer[slice]`): the first
  /// model's in its order, then each name another model adds, right after the name that
  /// precedes it in that model (right before the first name they share when none does). So a
  /// model lacking a layer keeps its other layers under their own names, a model with an extra
  /// layer has it beside its neighbours, each line runs left to right when the models list
  /// their shared names in the same order, and a model sharing no name (another
  /// architecture) follows the others.
  package static func overviewPoints(_ models: [(name: String, reports: [LayerReport])])
    -> (names: [String], points: [[(x: Double, alpha: Double)]]) {
    func label(_ r: LayerReport) -> String { r.sliceIndex.map { "\(r.name)[\($0)]" } ?? r.name }
    var names: [String] = []
    for (_, reports) in models {
      let labels = reports.map(label)
      // Where a name this model adds goes: after its predecessor here, else before the first
      // name it shares, else (no name shared) at the end.
      var next = labels.lazy.compactMap { names.firstIndex(of: $0) }.first ?? names.count
      for name in labels {
        if let i = names.firstIndex(of: name) {
          next = Swift.max(next, i + 1)
        } else {
          names.insert(name, at: next)
          next += 1
        }
      }
    }
    let position = Dictionary(names.enumerated().map { ($1, Double($0 + 1)) }, uniquingKeysWith: { a, _ in a })
    let points = models.map { model in
      model.reports.compactMap { r in r.alpha.map { (x: position[label(r)]!, alpha: $0) } }
    }
    return (names, points)
  }
}
