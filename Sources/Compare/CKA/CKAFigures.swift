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

  /// The cells (row, column) that a permutation test found not significant
  /// (`CKAUncertainty.isSignificant` false); empty without a test.
  public static func insignificantCells(_ result: CKAResult) -> [(row: Int, column: Int)] {
    let m = result.matrix
    return m.layersA.indices.flatMap { i in
      m.layersB.indices.compactMap { j in result.uncertainty.isSignificant(i, j) == false ? (i, j) : nil }
    }
  }

  /// The heatmap of a result: `heatmap(result.matrix)`, and with a permutation test the x-axis
  /// label states the legend of the cells drawn greyed and hatched (see `writeHeatmap`).
  public static func heatmap(_ result: CKAResult) -> Heatmap {
    var figure = heatmap(result.matrix)
    if result.uncertainty.testedPValues != nil {
      let adjusted = result.uncertainty.pAdjusted == nil ? "" : ", Benjamini–Hochberg"
      figure.xLabel += "; greyed, hatched: not significant (permutation p > \(Format.general(CKAStatistics.significanceLevel, 2))\(adjusted))"
    }
    return figure
  }

  /// `heatmap(result)` as pixels, its not significant cells greyed and hatched.
  public static func raster(_ result: CKAResult, cellSize: Int = 48) -> RGBImage {
    let figure = heatmap(result)
    var image = figure.raster(cellSize: cellSize)
    let cells = insignificantCells(result)
    guard !cells.isEmpty, let grid = CellGrid(figure, image: image, cellSize: cellSize) else { return image }
    for (i, j) in cells {
      let (x0, y0, x1, y1) = grid.pixels(i, j)
      for y in y0..<y1 {
        for x in x0..<x1 {
          let p = (y * image.width + x) * 3
          // Grey by luminance, pulled towards light grey, the annotation still legible.
          let grey = 0.2126 * Double(image.pixels[p]) + 0.7152 * Double(image.pixels[p + 1])
            + 0.0722 * Double(image.pixels[p + 2])
          let value = (x + y) % 8 == 0 ? 150 : UInt8((grey + 2 * 215) / 3)
          image.pixels[p] = value
          image.pixels[p + 1] = value
          image.pixels[p + 2] = value
        }
      }
    }
    return image
  }

  /// `heatmap(result)` as SVG, its not significant cells under a light grey, hatched veil.
  public static func svg(_ result: CKAResult, cellSize: Int = 48) -> String {
    let figure = heatmap(result)
    let document = figure.svg(cellSize: cellSize)
    let cells = insignificantCells(result)
    var body = Substring(document)
    while body.last?.isWhitespace == true { body = body.dropLast() }
    guard !cells.isEmpty, body.hasSuffix("</svg>"),
          let grid = CellGrid(figure, image: figure.raster(cellSize: cellSize), cellSize: cellSize)
    else { return document }
    var overlay = "<defs><pattern id=\"not-significant\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
      + "patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#969696\" "
      + "stroke-width=\"1.5\"/></pattern></defs>\n"
    for (i, j) in cells {
      let (x0, y0, x1, y1) = grid.pixels(i, j)
      let rect = "x=\"\(x0)\" y=\"\(y0)\" width=\"\(x1 - x0)\" height=\"\(y1 - y0)\""
      overlay += "<rect class=\"not-significant\" \(rect) fill=\"#d7d7d7\" fill-opacity=\"0.7\"/>"
        + "<rect \(rect) fill=\"url(#not-significant)\"/>\n"
    }
    return body.dropLast(6) + overlay + "</svg>\n"
  }

  /// Writes the heatmap of a result as PNG or SVG by the file's extension, atomically: the
  /// plain `heatmap(result.matrix)` without a permutation test; with one, the cells that are
  /// not significant greyed and hatched, as the x-axis label says.
  /// - Throws: `InputError` for another extension; the write's `ReadError`.
  public static func writeHeatmap(_ result: CKAResult, to path: String) throws {
    guard result.uncertainty.testedPValues != nil else { return try writeHeatmap(result.matrix, to: path) }
    switch FigureFormat(path: path) {
    case .svg: try AtomicFile.write(svg(result), to: path)
    case .png: try AtomicFile.write(PNGEncoder.encode(raster(result)), to: path)
    case nil: throw InputError("\(path): a heatmap is written as .png or .svg")
    }
  }

  /// Where the heatmap's cells are, in pixels: found by drawing the same figure with every cell
  /// empty (hatched), which differs from the drawn one exactly over the matrix. `Heatmap` keeps
  /// its layout to itself; this reads it off the pixels instead.
  struct CellGrid {
    var x0: Int, y0: Int, x1: Int, y1: Int, rows: Int, columns: Int

    init?(_ figure: Heatmap, image: RGBImage, cellSize: Int) {
      var probe = figure
      probe.values = figure.values.map { $0.map { _ in .nan } }
      let empty = probe.raster(cellSize: cellSize)
      guard empty.width == image.width, empty.height == image.height else { return nil }
      var lowX = Int.max, lowY = Int.max, highX = -1, highY = -1
      for y in 0..<image.height {
        for x in 0..<image.width {
          let p = (y * image.width + x) * 3
          if image.pixels[p..<(p + 3)] != empty.pixels[p..<(p + 3)] {
            lowX = min(lowX, x); lowY = min(lowY, y); highX = max(highX, x); highY = max(highY, y)
          }
        }
      }
      rows = figure.values.count
      columns = figure.values.map(\.count).max() ?? 0
      guard highX >= lowX, highY >= lowY, rows > 0, columns > 0 else { return nil }
      (x0, y0, x1, y1) = (lowX, lowY, highX + 1, highY + 1)
    }

    /// The pixel rectangle [x0, x1) × [y0, y1) of cell (i, j).
    func pixels(_ i: Int, _ j: Int) -> (Int, Int, Int, Int) {
      let w = Double(x1 - x0) / Double(columns), h = Double(y1 - y0) / Double(rows)
      return (x0 + Int((Double(j) * w).rounded()), y0 + Int((Double(i) * h).rounded()),
              x0 + Int((Double(j + 1) * w).rounded()), y0 + Int((Double(i + 1) * h).rounded()))
    }
  }
}
