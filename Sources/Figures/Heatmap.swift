import CompareCore

/// A matrix of values drawn as coloured cells with row and column labels, an optional value in
/// each cell and a colour bar: the usual picture of a layer-by-layer similarity (CKA) matrix.
///
/// Rows are drawn top to bottom in the order given, columns left to right. Colours come from
/// viridis over `range` (values outside are clamped to its ends); NaN cells are grey with
/// hatching and annotated "nan" (±∞ likewise, annotated "inf" / "-inf"). Long column labels
/// turn vertical; labels longer than 180 pixels are shortened from the front
/// ("…layer4.1.conv2"), which keeps the distinguishing end of a layer name; cells smaller than
/// a line of text get a label every few rows and columns.
///
/// Unlike torch_cka's plot, which draws the first row at the bottom and labels axes only by
/// index, this heatmap reads like a table and names every layer.
public struct Heatmap: Sendable {
  /// `rows × columns`; a short row is padded with NaN cells.
  public var values: [[Double]]
  /// One per row, drawn left of it (missing labels are blank, extra ones ignored).
  public var rowLabels: [String]
  /// One per column, drawn under it.
  public var columnLabels: [String]
  /// Drawn in bold above the matrix.
  public var title: String
  /// Axis titles under the column labels and, turned, left of the row labels; empty: none.
  public var xLabel: String
  public var yLabel: String
  /// The values mapped to the two ends of the colour map; nil: the finite minimum and maximum.
  public var range: ClosedRange<Double>?
  /// Whether to print each value in its cell (when the cell is wide enough).
  public var annotate: Bool

  /// A heatmap of `values`; see the properties for each argument.
  public init(values: [[Double]], rowLabels: [String], columnLabels: [String], title: String,
              xLabel: String = "", yLabel: String = "", range: ClosedRange<Double>? = 0...1,
              annotate: Bool = true) {
    self.values = values
    self.rowLabels = rowLabels
    self.columnLabels = columnLabels
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.range = range
    self.annotate = annotate
  }

  /// The figure as an SVG document; each cell is `cellSize` pixels square (clamped to 4...400,
  /// and smaller when the matrix would exceed 4000 pixels).
  public func svg(cellSize: Int = 48) -> String {
    let layout = Layout(self, cellSize: cellSize)
    var r = SVGRenderer(width: Int(layout.width), height: Int(layout.height))
    draw(into: &r, layout)
    return r.document
  }

  /// The figure as PNG bytes; each cell is `cellSize` pixels square (clamped to 4...400,
  /// and smaller when the matrix would exceed 4000 pixels).
  /// - Complexity: proportional to the figure's pixels; a 6 × 6 matrix takes milliseconds.
  public func png(cellSize: Int = 48) -> [UInt8] {
    PNGEncoder.encode(raster(cellSize: cellSize))
  }

  /// The figure's file bytes in `format` (SVG as UTF-8), for a path given on a command line:
  /// `try AtomicFile.write(heatmap.encoded(as: format), to: path)`.
  public func encoded(as format: FigureFormat, cellSize: Int = 48) -> [UInt8] {
    format == .png ? png(cellSize: cellSize) : Array(svg(cellSize: cellSize).utf8)
  }

  /// The figure's pixels, as `png` encodes them.
  public func raster(cellSize: Int = 48) -> RGBImage {
    let layout = Layout(self, cellSize: cellSize)
    var r = RasterRenderer(width: Int(layout.width), height: Int(layout.height))
    draw(into: &r, layout)
    return r.canvas
  }

  var rowCount: Int { values.count }
  var columnCount: Int { values.map(\.count).max() ?? 0 }

  func value(_ i: Int, _ j: Int) -> Double { j < values[i].count ? values[i][j] : .nan }

  /// The colour scale's ends: `range`, or the finite extremes, widened if they coincide.
  var colorRange: (lower: Double, upper: Double) {
    if let range, range.lowerBound.isFinite, range.upperBound.isFinite,
       range.upperBound > range.lowerBound {
      return (range.lowerBound, range.upperBound)
    }
    let finite = values.joined().filter(\.isFinite)
    guard let lo = finite.min(), let hi = finite.max() else { return (0, 1) }
    return hi > lo ? (lo, hi) : (lo - 0.5, hi + 0.5)
  }

  /// The colour of a cell holding `v` (nil for a value with no colour, drawn hatched).
  public func color(for v: Double) -> Color? {
    guard v.isFinite else { return nil }
    let (lo, hi) = colorRange
    return Viridis.color(at: (v - lo) / (hi - lo))
  }

  static func annotation(_ v: Double, magnitude: Double) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : v > 0 ? "inf" : "-inf" }
    let s = magnitude < 100 ? Format.fixed(v, 2) : Format.general(v, 3)
    return s == "-0.00" ? "0.00" : s
  }

  /// Positions of every part, shared by the PNG and SVG renderings.
  struct Layout {
    static let pad = 12.0, maxLabel = 180.0, maxMatrix = 4000.0
    var cell: Double
    var rowLabels: [String]
    var columnLabels: [String]
    var verticalColumns: Bool
    /// Every how many rows and columns a label is drawn: cells smaller than a line of text
    /// would make neighbouring labels overlap.
    var labelStride: Int
    var matrix: Rect
    var bar: Rect
    var barTicks: [Double]
    var barLabels: [String]
    var titleY: Double
    var columnLabelY: Double
    var xLabelY: Double
    var width: Double
    var height: Double

    init(_ h: Heatmap, cellSize: Int) {
      let small = TextStyle.small, medium = TextStyle.medium, titleStyle = TextStyle.title
      let pad = Layout.pad
      let rows = h.rowCount, cols = h.columnCount
      // Matrices over 4000 px get smaller cells, which bounds the raster's memory.
      let fit = Layout.maxMatrix / Double(max(1, rows, cols))
      cell = max(1, min(Double(max(4, min(400, cellSize))), fit.rounded(.down)))
      rowLabels = (0..<rows).map {
        small.truncated($0 < h.rowLabels.count ? h.rowLabels[$0] : "", toFit: Layout.maxLabel)
      }
      columnLabels = (0..<cols).map {
        small.truncated($0 < h.columnLabels.count ? h.columnLabels[$0] : "", toFit: Layout.maxLabel)
      }
      let rowLabelWidth = rowLabels.map { small.width($0) }.max() ?? 0
      let columnLabelWidth = columnLabels.map { small.width($0) }.max() ?? 0
      verticalColumns = columnLabelWidth > cell - 6
      labelStride = Int((Double(small.font.glyph("0").height + 4) / cell).rounded(.up))
      let smallLine = Double(small.font.ascent + small.font.descent)
      let mediumLine = Double(medium.font.ascent + medium.font.descent)
      let columnBand = cols == 0 ? 0 : (verticalColumns ? columnLabelWidth : smallLine) + 6
      let yLabelWidth = h.yLabel.isEmpty ? 0 : mediumLine + 6
      let titleHeight = h.title.isEmpty ? 0 : Double(titleStyle.font.ascent + titleStyle.font.descent) + 10

      let matrixWidth = Double(cols) * cell, matrixHeight = Double(rows) * cell
      let left = pad + yLabelWidth + (rowLabelWidth > 0 ? rowLabelWidth + 6 : 0)
      let top = pad + titleHeight
      matrix = Rect(x: left, y: top, width: matrixWidth, height: matrixHeight)
      // The colour bar is at least 150 px tall so its ticks stay legible beside small matrices.
      let barHeight = max(150, matrixHeight)
      bar = Rect(x: matrix.maxX + 18, y: top, width: 16, height: barHeight)
      let (lo, hi) = h.colorRange
      barTicks = Ticks.linear(from: lo, to: hi, count: max(3, min(8, Int(barHeight / 40))))
      barLabels = Ticks.labels(for: barTicks, scale: .linear)
      let barLabelWidth = barLabels.map { small.width($0) }.max() ?? 0
      columnLabelY = matrix.maxY + 6
      xLabelY = columnLabelY + columnBand + Double(medium.font.ascent)
      let contentBottom = max(bar.maxY + 4, h.xLabel.isEmpty ? matrix.maxY + columnBand
                              : xLabelY + Double(medium.font.descent))
      let titleWidth = titleStyle.width(h.title)
      width = max(bar.maxX + 4 + 4 + barLabelWidth + pad, titleWidth + 2 * pad,
                  medium.width(h.xLabel) + left + pad, 120).rounded(.up)
      height = max(contentBottom + pad, 80).rounded(.up)
      titleY = pad + Double(titleStyle.font.ascent) - 2
    }
  }

  func draw<R: Renderer>(into r: inout R, _ l: Layout) {
    let small = TextStyle.small, medium = TextStyle.medium
    let digitHeight = Double(small.font.glyph("0").height)
    let (lo, hi) = colorRange
    let magnitude = max(abs(lo), abs(hi))

    // Cells and their values.
    for i in 0..<rowCount {
      for j in 0..<columnCount {
        let cell = Rect(x: l.matrix.x + Double(j) * l.cell, y: l.matrix.y + Double(i) * l.cell,
                        width: l.cell, height: l.cell)
        let v = value(i, j)
        let c = color(for: v)
        if let c { r.fill(cell, c) } else { r.hatched(cell) }
        guard annotate || c == nil else { continue }
        let text = Heatmap.annotation(v, magnitude: magnitude)
        guard small.width(text) <= l.cell - 4, l.cell >= digitHeight + 4 else { continue }
        let ink = c.map { $0.luminance < 0.5 ? Color.white : Color.black } ?? .text
        r.text(text, at: Point(x: cell.x + l.cell / 2, y: (cell.y + l.cell / 2 + digitHeight / 2).rounded()),
               style: small, anchor: .middle, color: ink)
      }
    }

    // Row labels, right-aligned against the matrix.
    for (i, label) in l.rowLabels.enumerated() where i % l.labelStride == 0 {
      let cy = l.matrix.y + (Double(i) + 0.5) * l.cell
      r.text(label, at: Point(x: l.matrix.x - 6, y: (cy + digitHeight / 2).rounded()), style: small,
             anchor: .end)
    }
    // Column labels, vertical (reading upwards, ending at the matrix) when they are wide.
    for (j, label) in l.columnLabels.enumerated() where j % l.labelStride == 0 {
      let cx = l.matrix.x + (Double(j) + 0.5) * l.cell
      if l.verticalColumns {
        r.text(label, at: Point(x: (cx + digitHeight / 2).rounded(), y: l.columnLabelY), style: small,
               anchor: .end, vertical: true)
      } else {
        r.text(label, at: Point(x: cx, y: l.columnLabelY + Double(small.font.ascent)), style: small,
               anchor: .middle)
      }
    }
    if !xLabel.isEmpty {
      r.text(xLabel, at: Point(x: max(l.matrix.x + l.matrix.width / 2, l.matrix.x + medium.width(xLabel) / 2), y: l.xLabelY),
             style: medium, anchor: .middle)
    }
    if !yLabel.isEmpty {
      r.text(medium.truncated(yLabel, toFit: max(l.matrix.height, l.height - 2 * Layout.pad)),
             at: Point(x: Layout.pad + Double(medium.font.ascent),
                       y: l.matrix.height > 0 ? l.matrix.y + l.matrix.height / 2 : l.height / 2),
             style: medium, anchor: .middle, vertical: true)
    }
    if !title.isEmpty {
      // Centred on the matrix when it fits there, else on the figure.
      let w = TextStyle.title.width(title)
      let centre = w <= l.matrix.width ? l.matrix.x + l.matrix.width / 2 : l.width / 2
      r.text(title, at: Point(x: max(centre, Layout.pad + w / 2), y: l.titleY), style: .title,
             anchor: .middle)
    }

    // Colour bar.
    r.verticalGradient(l.bar, Viridis.stops.map { Color(r: $0.0, g: $0.1, b: $0.2) })
    r.outline(l.bar, .frame)
    for (t, label) in zip(l.barTicks, l.barLabels) {
      let y = (l.bar.maxY - (t - lo) / (hi - lo) * l.bar.height).rounded()
      let yy = min(l.bar.maxY - 1, max(l.bar.y, y - 0.5))
      r.fill(Rect(x: l.bar.maxX, y: yy, width: 4, height: 1), .frame)
      r.text(label, at: Point(x: l.bar.maxX + 7, y: y + (digitHeight / 2).rounded()), style: small)
    }
  }
}
