/// A two-dimensional chart: lines, scatter points, histogram bars and vertical markers on
/// linear or logarithmic axes, with nice ticks, a light grid and a legend. Rendered as PNG or
/// SVG with the same layout.
///
/// ```swift
/// var plot = Plot(title: "Accuracy vs ensemble size", xLabel: "models", yLabel: "accuracy",
///                 xScale: .log10)
/// plot.addLine(x: sizes, y: accuracy, label: "ensemble")
/// plot.addVerticalLine(at: 16, label: "chosen")
/// let png = plot.png()
/// ```
///
/// Values an axis cannot place (NaN, ±∞, and ≤ 0 on a log axis) are skipped: a line breaks
/// there and resumes at the next valid point. Nothing about the data makes rendering fail.
public struct Plot: Sendable {
  /// Drawn in bold above the axes; empty: none.
  public var title: String
  /// Axis titles; empty: none.
  public var xLabel: String
  public var yLabel: String
  /// How each axis places values.
  public var xScale: Scale
  public var yScale: Scale
  /// Names for the x positions 1, 2, …, n (layers in model order): drawn as the x tick labels
  /// instead of numbers, every k-th one when they would not fit, each shortened to fit.
  public var xCategories: [String]?

  enum Kind: Sendable, Equatable {
    case line(dashed: Bool, markers: Bool), points, bars, verticalLine(dashed: Bool)
  }

  struct Series: Sendable {
    var kind: Kind
    var x: [Double]
    var y: [Double]
    var label: String
    var color: Color
  }

  private(set) var series: [Series] = []
  private var automaticColors = 0

  /// An empty plot; add series, then render with `png` or `svg`.
  public init(title: String, xLabel: String, yLabel: String,
              xScale: Scale = .linear, yScale: Scale = .linear) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.xScale = xScale
    self.yScale = yScale
  }

  private mutating func nextColor(_ color: Color?) -> Color {
    if let color { return color }
    defer { automaticColors += 1 }
    return Color.cycle[automaticColors % Color.cycle.count]
  }

  /// A line through `(x[i], y[i])` in the order given (extra values of the longer array are
  /// ignored), with a dot at each point when `markers`. `color` nil takes the next colour of
  /// `Color.cycle`.
  public mutating func addLine(x: [Double], y: [Double], label: String, color: Color? = nil,
                               dashed: Bool = false, markers: Bool = false) {
    let n = min(x.count, y.count)
    series.append(Series(kind: .line(dashed: dashed, markers: markers), x: Array(x.prefix(n)),
                         y: Array(y.prefix(n)), label: label, color: nextColor(color)))
  }

  /// Unconnected markers at `(x[i], y[i])`.
  public mutating func addPoints(x: [Double], y: [Double], label: String, color: Color? = nil) {
    let n = min(x.count, y.count)
    series.append(Series(kind: .points, x: Array(x.prefix(n)), y: Array(y.prefix(n)),
                         label: label, color: nextColor(color)))
  }

  /// A histogram: bar `i` spans `edges[i]...edges[i + 1]` with height `heights[i]`, from 0 on a
  /// linear y axis or from the bottom of a log one. Bars are translucent, so histograms overlap
  /// readably. With `edges.count != heights.count + 1`, only the bars both arrays define are
  /// drawn.
  public mutating func addBars(edges: [Double], heights: [Double], label: String,
                               color: Color? = nil) {
    let n = max(0, min(edges.count - 1, heights.count))
    series.append(Series(kind: .bars, x: Array(edges.prefix(n + 1)), y: Array(heights.prefix(n)),
                         label: label, color: nextColor(color)))
  }

  /// A vertical line across the whole plot at `x`, e.g. a threshold or a chosen size.
  public mutating func addVerticalLine(at x: Double, label: String, color: Color? = nil,
                                       dashed: Bool = true) {
    series.append(Series(kind: .verticalLine(dashed: dashed), x: [x], y: [], label: label,
                         color: nextColor(color)))
  }

  /// The figure as an SVG document. Sizes are clamped to 200...8000 × 150...8000.
  public func svg(width: Int = 720, height: Int = 480) -> String {
    let (w, h) = Plot.size(width, height)
    var r = SVGRenderer(width: w, height: h)
    draw(into: &r, width: Double(w), height: Double(h))
    return r.document
  }

  /// The figure as PNG bytes. Sizes are clamped to 200...8000 × 150...8000.
  public func png(width: Int = 720, height: Int = 480) -> [UInt8] {
    PNGEncoder.encode(raster(width: width, height: height))
  }

  /// The figure's file bytes in `format` (SVG as UTF-8), for a path given on a command line.
  public func encoded(as format: FigureFormat, width: Int = 720, height: Int = 480) -> [UInt8] {
    format == .png ? png(width: width, height: height) : Array(svg(width: width, height: height).utf8)
  }

  /// The figure's pixels, as `png` encodes them.
  public func raster(width: Int = 720, height: Int = 480) -> RGBImage {
    let (w, h) = Plot.size(width, height)
    var r = RasterRenderer(width: w, height: h)
    draw(into: &r, width: Double(w), height: Double(h))
    return r.canvas
  }

  private static func size(_ w: Int, _ h: Int) -> (Int, Int) {
    (max(200, min(w, 8000)), max(150, min(h, 8000)))
  }

  // MARK: Limits

  private func usable(_ v: Double, _ scale: Scale) -> Bool {
    v.isFinite && (scale == .linear || v > 0)
  }

  /// Data limits of one axis, padded by 5% of the span (of the log span on a log axis); a bar
  /// baseline at 0 is kept on the edge.
  private func limits(_ values: [Double], scale: Scale, stickyZero: Bool) -> AxisMapping {
    let valid = values.filter { usable($0, scale) }
    guard var lo = valid.min(), var hi = valid.max() else {
      return scale == .linear ? AxisMapping(scale: scale, lower: 0, upper: 1)
        : AxisMapping(scale: scale, lower: 1, upper: 10)
    }
    switch scale {
    case .linear:
      if stickyZero { lo = min(lo, 0) }
      if lo == hi || !(hi - lo).isNormal {
        let d = lo == 0 ? 1 : abs(lo) * 0.1
        return AxisMapping(scale: scale, lower: lo - d, upper: hi + d)
      }
      let pad = (hi / 2 - lo / 2) * 0.1
      let big = Double.greatestFiniteMagnitude
      let lower = stickyZero && lo == 0 ? 0 : max(-big, lo - pad)
      return AxisMapping(scale: scale, lower: lower, upper: min(big, hi + pad))
    case .log10:
      if lo == hi { return AxisMapping(scale: scale, lower: lo / 3.1623, upper: hi * 3.1623) }
      let a = log10(lo), b = log10(hi), pad = (b - a) * 0.05
      lo = pow(10, a - pad)
      hi = pow(10, b + pad)
      return AxisMapping(scale: scale, lower: lo, upper: hi)
    }
  }

  private func axes() -> (x: AxisMapping, y: AxisMapping) {
    var xs: [Double] = [], ys: [Double] = []
    var hasBars = false
    for s in series {
      switch s.kind {
      case .line, .points:
        for (x, y) in zip(s.x, s.y) where usable(x, xScale) && usable(y, yScale) {
          xs.append(x)
          ys.append(y)
        }
      case .bars:
        hasBars = hasBars || !s.y.isEmpty
        xs += s.x
        ys += s.y
      case .verticalLine:
        xs += s.x
      }
    }
    let y = limits(ys, scale: yScale, stickyZero: hasBars && yScale == .linear
                   && (ys.filter(\.isFinite).min() ?? 0) >= 0)
    if let n = xCategories?.count, n > 0 {
      return (AxisMapping(scale: .linear, lower: 0.5, upper: Double(n) + 0.5), y)
    }
    return (limits(xs, scale: xScale, stickyZero: false), y)
  }

  // MARK: Drawing

  func draw<R: Renderer>(into r: inout R, width: Double, height: Double) {
    let small = TextStyle.small, medium = TextStyle.medium
    let (xAxis, yAxis) = axes()
    let pad = 12.0, tick = 4.0
    let smallLine = Double(small.font.ascent + small.font.descent)
    let digitHeight = Double(small.font.glyph("0").height)
    let titleHeight = title.isEmpty ? 0 : Double(TextStyle.title.font.ascent) + 12
    let xLabelHeight = xLabel.isEmpty ? 0 : Double(medium.font.ascent + medium.font.descent) + 4
    let yLabelWidth = yLabel.isEmpty ? 0 : Double(medium.font.ascent + medium.font.descent) + 4

    let yTicks = yAxis.ticks(count: max(3, min(9, Int((height - 100) / 55))))
    let yLabels = Ticks.labels(for: yTicks, scale: yScale)
    let yTickWidth = yLabels.map { small.width($0) }.max() ?? 0
    let left = pad + yLabelWidth + yTickWidth + tick + 4
    var xTicks: [Double] = [], xLabels: [String] = []
    var right = pad + 8
    let top = pad + titleHeight
    let bottom = pad + xLabelHeight + smallLine + tick + 2
    if let categories = xCategories, !categories.isEmpty {
      // Every k-th name, k growing until the (shortened) names have room.
      let maxLabel = min(160, max(40, (width - left - pad) / 4))
      let names = categories.map { small.truncated($0, toFit: maxLabel) }
      right = max(pad + 8, (small.width(names.last ?? "") / 2) + 4)
      let widest = names.map { small.width($0) }.max() ?? 0
      let slot = (width - left - right) / Double(max(1, categories.count))
      let step = max(1, Int(((widest + 12) / max(slot, 1)).rounded(.up)))
      let shown = Array(stride(from: 0, to: categories.count, by: step))
      xTicks = shown.map { Double($0 + 1) }
      xLabels = shown.map { names[$0] }
    } else {
      // Fewer x ticks until their labels have room to breathe.
      var count = max(3, min(10, Int((width - left - right) / 70)))
      while true {
        xTicks = xAxis.ticks(count: count)
        xLabels = Ticks.labels(for: xTicks, scale: xScale)
        right = max(pad + 8, (small.width(xLabels.last ?? "") / 2) + 4)
        let spacing = (width - left - right) / Double(max(1, xTicks.count - 1))
        let widest = xLabels.map { small.width($0) }.max() ?? 0
        if widest + 12 <= spacing || count <= 2 { break }
        count -= 1
      }
    }
    let area = Rect(x: left.rounded(), y: top.rounded(),
                    width: max(10, width - left.rounded() - right.rounded()),
                    height: max(10, height - top.rounded() - bottom.rounded()))
    func px(_ v: Double) -> Double? { xAxis.fraction(v).map { area.x + $0 * area.width } }
    func py(_ v: Double) -> Double? { yAxis.fraction(v).map { area.maxY - $0 * area.height } }

    // Grid and frame.
    // Hairlines sit on whole pixels (x.rounded(.down)) so both renderings stay crisp.
    for t in xTicks {
      if let x = px(t) { r.fill(Rect(x: x.rounded(.down), y: area.y, width: 1, height: area.height), .grid) }
    }
    for t in yTicks {
      if let y = py(t) { r.fill(Rect(x: area.x, y: y.rounded(.down), width: area.width, height: 1), .grid) }
    }

    // Data, clipped to the axes.
    r.clip(area)
    for s in series where s.kind == .bars { drawBars(s, &r, px, py, area) }
    for s in series {
      switch s.kind {
      case .line(let dashed, let markers):
        for run in runs(s, px, py) {
          r.polyline(run, s.color, width: 2, dashed: dashed)
          if markers { for p in run { r.circle(p, radius: 3, s.color) } }
        }
      case .points:
        for run in runs(s, px, py) { for p in run { r.circle(p, radius: 3.5, s.color) } }
      case .verticalLine(let dashed):
        if let x = s.x.first.flatMap(px) {
          r.polyline([Point(x: x, y: area.y), Point(x: x, y: area.maxY)], s.color, width: 1.5,
                     dashed: dashed)
        }
      case .bars: break
      }
    }
    r.clip(nil)
    r.outline(Rect(x: area.x - 1, y: area.y - 1, width: area.width + 2, height: area.height + 2),
              .frame)

    // Ticks and their labels; log axes also get short unlabelled minor ticks.
    for t in xAxis.minorTicks(majors: xTicks) {
      if let x = px(t)?.rounded(.down) { r.fill(Rect(x: x, y: area.maxY, width: 1, height: 2), .frame) }
    }
    for t in yAxis.minorTicks(majors: yTicks) {
      if let y = py(t)?.rounded(.down) { r.fill(Rect(x: area.x - 2, y: y, width: 2, height: 1), .frame) }
    }
    for (t, label) in zip(xTicks, xLabels) {
      guard let x = px(t)?.rounded(.down) else { continue }
      r.fill(Rect(x: x, y: area.maxY, width: 1, height: tick), .frame)
      r.text(label, at: Point(x: x + 0.5, y: area.maxY + tick + 2 + Double(small.font.ascent)),
             style: small, anchor: .middle)
    }
    for (t, label) in zip(yTicks, yLabels) {
      guard let y = py(t)?.rounded(.down) else { continue }
      r.fill(Rect(x: area.x - tick, y: y, width: tick, height: 1), .frame)
      r.text(label, at: Point(x: area.x - tick - 3, y: y + 1 + (digitHeight / 2).rounded()),
             style: small, anchor: .end)
    }

    // Axis labels and title.
    if !xLabel.isEmpty {
      r.text(medium.truncated(xLabel, toFit: width - 2 * pad),
             at: Point(x: area.x + area.width / 2, y: height - pad - Double(medium.font.descent)),
             style: medium, anchor: .middle)
    }
    if !yLabel.isEmpty {
      r.text(medium.truncated(yLabel, toFit: height - 2 * pad),
             at: Point(x: pad + Double(medium.font.ascent), y: area.y + area.height / 2),
             style: medium, anchor: .middle, vertical: true)
    }
    if !title.isEmpty {
      r.text(TextStyle.title.truncated(title, toFit: width - 2 * pad),
             at: Point(x: area.x + area.width / 2, y: pad + Double(TextStyle.title.font.ascent) - 2),
             style: .title, anchor: .middle)
    }
    drawLegend(&r, area: area, px, py)
  }

  /// Valid points of a line or point series in pixels, split where a value cannot be placed.
  private func runs(_ s: Series, _ px: (Double) -> Double?, _ py: (Double) -> Double?) -> [[Point]] {
    var out: [[Point]] = [], current: [Point] = []
    for (x, y) in zip(s.x, s.y) {
      if let X = px(x), let Y = py(y) {
        current.append(Point(x: X, y: Y))
      } else if !current.isEmpty {
        out.append(current)
        current = []
      }
    }
    if !current.isEmpty { out.append(current) }
    return out
  }

  private func drawBars<R: Renderer>(_ s: Series, _ r: inout R, _ px: (Double) -> Double?,
                                     _ py: (Double) -> Double?, _ area: Rect) {
    let base = yScale == .linear ? (py(0) ?? area.maxY) : area.maxY
    var outline: [Point] = []
    for i in 0..<s.y.count {
      guard let x0 = px(s.x[i]), let x1 = px(s.x[i + 1]), let top = py(s.y[i]) else {
        if outline.count > 1 { r.polyline(outline, s.color, width: 1.2, dashed: false) }
        outline = []
        continue
      }
      let (lo, hi) = (min(x0, x1), max(x0, x1))
      r.fill(Rect(x: lo, y: min(top, base), width: hi - lo, height: abs(base - top)), s.color,
             opacity: 0.55)
      if outline.isEmpty { outline.append(Point(x: x0, y: base)) }
      outline += [Point(x: x0, y: top), Point(x: x1, y: top)]
      if i == s.y.count - 1 || px(s.x[i + 1]) == nil { outline.append(Point(x: x1, y: base)) }
    }
    if outline.count > 1 { r.polyline(outline, s.color, width: 1.2, dashed: false) }
  }

  private func drawLegend<R: Renderer>(_ r: inout R, area: Rect, _ px: (Double) -> Double?,
                                       _ py: (Double) -> Double?) {
    let entries = series.filter { !$0.label.isEmpty }
    guard !entries.isEmpty else { return }
    let small = TextStyle.small
    let rowHeight = Double(small.font.ascent + small.font.descent) + 3
    let sample = 26.0, inset = 8.0
    let maxText = area.width * 0.6 - sample - 3 * inset
    let labels = entries.map { small.truncated($0.label, toFit: max(20, maxText)) }
    let boxWidth = sample + 3 * inset + (labels.map { small.width($0) }.max() ?? 0)
    let boxHeight = Double(entries.count) * rowHeight + inset
    // The corner that hides the fewest data points.
    var samples: [Point] = []
    for s in series {
      switch s.kind {
      case .line, .points:
        for run in runs(s, px, py) {
          for (a, b) in zip(run, run.dropFirst()) {
            for k in 0..<4 { let t = Double(k) / 4; samples.append(Point(x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t)) }
          }
          if let last = run.last { samples.append(last) }
        }
      case .bars:
        for (i, h) in s.y.enumerated() {
          if let x = px((s.x[i] + s.x[i + 1]) / 2), let y = py(h) {
            var v = y
            while v < area.maxY { samples.append(Point(x: x, y: v)); v += 10 }
          }
        }
      case .verticalLine:
        if let x = s.x.first.flatMap(px) {
          samples += stride(from: area.y, to: area.maxY, by: 10).map { Point(x: x, y: $0) }
        }
      }
    }
    let m = 8.0
    let corners = [
      Rect(x: area.maxX - boxWidth - m, y: area.y + m, width: boxWidth, height: boxHeight),
      Rect(x: area.x + m, y: area.y + m, width: boxWidth, height: boxHeight),
      Rect(x: area.maxX - boxWidth - m, y: area.maxY - boxHeight - m, width: boxWidth, height: boxHeight),
      Rect(x: area.x + m, y: area.maxY - boxHeight - m, width: boxWidth, height: boxHeight),
    ]
    let box = corners.min { a, b in
      samples.filter(a.contains).count < samples.filter(b.contains).count
    }!.snappedOut
    r.fill(box, .white, opacity: 0.85)
    r.outline(box, Color(r: 204, g: 204, b: 204))
    for (i, (s, label)) in zip(entries, labels).enumerated() {
      let cy = box.y + inset / 2 + rowHeight * (Double(i) + 0.5)
      let x0 = box.x + inset
      switch s.kind {
      case .line(let dashed, let markers):
        r.polyline([Point(x: x0, y: cy), Point(x: x0 + sample, y: cy)], s.color, width: 2,
                   dashed: dashed)
        if markers { r.circle(Point(x: x0 + sample / 2, y: cy), radius: 3, s.color) }
      case .verticalLine(let dashed):
        r.polyline([Point(x: x0, y: cy), Point(x: x0 + sample, y: cy)], s.color, width: 1.5,
                   dashed: dashed)
      case .points:
        r.circle(Point(x: x0 + sample / 2, y: cy), radius: 3.5, s.color)
      case .bars:
        r.fill(Rect(x: x0 + 4, y: cy - 5, width: sample - 8, height: 10), s.color, opacity: 0.55)
        r.outline(Rect(x: x0 + 4, y: cy - 5, width: sample - 8, height: 10), s.color)
      }
      let digitHeight = Double(small.font.glyph("0").height)
      r.text(label, at: Point(x: x0 + sample + inset, y: (cy + digitHeight / 2).rounded()),
             style: small)
    }
  }
}

extension Rect {
  /// The smallest rectangle with integer edges containing this one.
  var snappedOut: Rect {
    let x0 = x.rounded(.down), y0 = y.rounded(.down)
    return Rect(x: x0, y: y0, width: maxX.rounded(.up) - x0, height: maxY.rounded(.up) - y0)
  }
}

import CompareCore
