/// Rows of captioned images under a title, each row named at its left: for example a test image
/// followed by its nearest training images, one row per test image.
///
/// Every image sits in a cell as wide as the widest image or caption (at least 64 px, captions
/// counting up to 160 px) and is centred in it; captions go under the images, longer ones cut
/// with an ellipsis; row labels beyond 200 px lose their start. Scale small
/// images first (`RGBImage.scaled(by:)`) to make them visible.
public struct ImageGrid: Sendable {
  /// Drawn in bold above the rows; empty: none.
  public var title: String
  private(set) var rows: [(images: [(image: RGBImage, caption: String)], label: String)] = []

  /// An empty grid.
  public init(title: String) {
    self.title = title
  }

  /// Appends a row: `label` on its left, then the images left to right, each over its caption.
  public mutating func addRow(_ images: [(image: RGBImage, caption: String)], label: String) {
    rows.append((images, label))
  }

  /// The grid as PNG bytes.
  public func png() -> [UInt8] { PNGEncoder.encode(raster()) }

  /// The grid as an SVG document with the images embedded as PNG data.
  public func svg() -> String {
    let l = layout()
    var r = SVGRenderer(width: Int(l.width), height: Int(l.height))
    draw(into: &r, l)
    return r.document
  }

  /// The grid's file bytes in `format` (SVG as UTF-8).
  public func encoded(as format: FigureFormat) -> [UInt8] {
    format == .png ? png() : Array(svg().utf8)
  }

  /// The grid's pixels, as `png` encodes them.
  public func raster() -> RGBImage {
    let l = layout()
    var r = RasterRenderer(width: Int(l.width), height: Int(l.height))
    draw(into: &r, l)
    return r.canvas
  }

  private static let pad = 12.0, gap = 10.0, maxLabel = 200.0, maxCaption = 160.0

  /// Positions shared by the PNG and SVG renderings.
  private struct Layout {
    var cell: Double
    var rowHeights: [Double]
    var left: Double
    var top: Double
    var width: Double
    var height: Double
  }

  private func layout() -> Layout {
    let small = TextStyle.small, titleStyle = TextStyle.title
    let pad = ImageGrid.pad, gap = ImageGrid.gap
    let widestImage = Double(rows.flatMap { $0.images.map(\.image.width) }.max() ?? 0)
    let widestCaption = rows.flatMap { $0.images.map { small.width($0.caption) } }.max() ?? 0
    let cell = max(64, widestImage, min(ImageGrid.maxCaption, widestCaption))
    let captionHeight = Double(small.font.ascent + small.font.descent) + 4
    let rowHeights = rows.map { row in
      Double(row.images.map(\.image.height).max() ?? 0) + captionHeight
    }
    let labelWidth = min(ImageGrid.maxLabel, rows.map { small.width($0.label) }.max() ?? 0)
    let left = pad + (labelWidth > 0 ? labelWidth + gap : 0)
    let top = pad + (title.isEmpty ? 0 : Double(titleStyle.font.ascent + titleStyle.font.descent) + 8)
    let columns = Double(rows.map(\.images.count).max() ?? 0)
    let width = max(left + columns * cell + max(0, columns - 1) * gap + pad,
                    titleStyle.width(title) + 2 * pad, 120)
    let height = top + rowHeights.reduce(0, +) + Double(max(0, rows.count - 1)) * gap + pad
    return Layout(cell: cell, rowHeights: rowHeights, left: left, top: top, width: width.rounded(.up),
                  height: max(60, height).rounded(.up))
  }

  private func draw<R: Renderer>(into r: inout R, _ l: Layout) {
    let small = TextStyle.small
    let digitHeight = Double(small.font.glyph("0").height)
    if !title.isEmpty {
      r.text(TextStyle.title.truncated(title, toFit: l.width - 2 * ImageGrid.pad),
             at: Point(x: max(ImageGrid.pad + TextStyle.title.width(title) / 2,
                       min(l.width - ImageGrid.pad - TextStyle.title.width(title) / 2,
                           (l.left + l.width - ImageGrid.pad) / 2)),
                       y: ImageGrid.pad + Double(TextStyle.title.font.ascent) - 2),
             style: .title, anchor: .middle)
    }
    var y = l.top
    for (row, rowHeight) in zip(rows, l.rowHeights) {
      let imageHeight = Double(row.images.map(\.image.height).max() ?? 0)
      if !row.label.isEmpty {
        r.text(small.truncated(row.label, toFit: ImageGrid.maxLabel),
               at: Point(x: l.left - ImageGrid.gap, y: (y + imageHeight / 2 + digitHeight / 2).rounded()),
               style: small, anchor: .end)
      }
      for (k, item) in row.images.enumerated() {
        let x = l.left + Double(k) * (l.cell + ImageGrid.gap)
        let origin = Point(x: x + ((l.cell - Double(item.image.width)) / 2).rounded(),
                           y: y + ((imageHeight - Double(item.image.height)) / 2).rounded())
        r.image(item.image, at: origin)
        r.outline(Rect(x: origin.x - 1, y: origin.y - 1, width: Double(item.image.width) + 2,
                       height: Double(item.image.height) + 2), Color(r: 190, g: 190, b: 190))
        r.text(small.truncated(item.caption, toFit: l.cell, keepingStart: true),
               at: Point(x: x + l.cell / 2, y: y + imageHeight + 3 + Double(small.font.ascent)),
               style: small, anchor: .middle)
      }
      y += rowHeight + ImageGrid.gap
    }
  }
}
