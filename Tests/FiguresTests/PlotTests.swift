import Foundation
import Testing
@testable import Figures

@Suite("Plot")
struct PlotTests {
  func plot(_ build: (inout Plot) -> Void, xScale: Scale = .linear, yScale: Scale = .linear) -> Plot {
    var p = Plot(title: "Accuracy", xLabel: "models", yLabel: "accuracy", xScale: xScale,
                 yScale: yScale)
    build(&p)
    return p
  }

  @Test("the PNG is valid and has the requested size; encoded(as:) picks the format")
  func validPNG() {
    let p = plot { $0.addLine(x: [1, 2, 3], y: [0.5, 0.7, 0.8], label: "ensemble") }
    #expect(DecodedPNG(p.encoded(as: .png, width: 300, height: 200)).width == 300)
    #expect(String(decoding: p.encoded(as: .svg), as: UTF8.self) == p.svg())
    let png = DecodedPNG(p.png(width: 640, height: 400))
    #expect(png.width == 640 && png.height == 400 && png.pixels != nil)
    #expect(png.chunks.allSatisfy { $0.storedCRC == $0.computedCRC })
  }

  @Test("a log axis skips values ≤ 0: the plot equals the one without them")
  func logAxisSkipsNonPositive() {
    let with = plot({
      $0.addLine(x: [0, 1, 10, 100], y: [-1, 0.2, 0.5, 0.9], label: "a")
      $0.addPoints(x: [-5, 2], y: [1, 0.3], label: "b")
    }, xScale: .log10)
    let without = plot({
      $0.addLine(x: [1, 10, 100], y: [0.2, 0.5, 0.9], label: "a")
      $0.addPoints(x: [2], y: [0.3], label: "b")
    }, xScale: .log10)
    #expect(with.raster() == without.raster())
    // Negative control: on a linear axis the same values are drawn and the figure changes.
    let linear = plot({
      $0.addLine(x: [0, 1, 10, 100], y: [-1, 0.2, 0.5, 0.9], label: "a")
      $0.addPoints(x: [-5, 2], y: [1, 0.3], label: "b")
    })
    let linearWithout = plot({
      $0.addLine(x: [1, 10, 100], y: [0.2, 0.5, 0.9], label: "a")
      $0.addPoints(x: [2], y: [0.3], label: "b")
    })
    #expect(linear.raster() != linearWithout.raster())
  }

  @Test("empty plots, empty series and all-invalid series render", arguments: [Scale.linear, .log10])
  func emptyInputs(scale: Scale) {
    var p = Plot(title: "", xLabel: "", yLabel: "", xScale: scale, yScale: scale)
    #expect(DecodedPNG(p.png()).pixels != nil)
    p.addLine(x: [], y: [], label: "empty")
    p.addPoints(x: [.nan, 1], y: [1], label: "")
    p.addBars(edges: [], heights: [], label: "no bars")
    p.addBars(edges: [1, 2], heights: [3, 4, 5], label: "mismatched")
    p.addLine(x: [-1, 0, .infinity], y: [0, -2, 1], label: "invalid")
    p.addVerticalLine(at: .nan, label: "nan line")
    #expect(DecodedPNG(p.png()).pixels != nil)
    #expect(DecodedPNG(p.png(width: 1, height: -3)).pixels != nil)
    #expect(svgStructureProblem(p.svg()) == nil)
  }

  @Test("a single point and a constant series get a non-degenerate axis")
  func degenerateRanges() {
    let p = plot { $0.addPoints(x: [5], y: [5], label: "one") }
    let svg = p.svg()
    #expect(svgStructureProblem(svg) == nil)
    #expect(svg.contains("<circle"))
    let q = plot({ $0.addLine(x: [1, 2], y: [3, 3], label: "flat") }, yScale: .log10)
    #expect(q.svg().contains("<polyline"))
  }

  @Test("the SVG holds the title, axis labels, tick labels and legend, escaped")
  func svgText() {
    var p = Plot(title: "CKA <layer> & \"more\"", xLabel: "size & count", yLabel: "a<b")
    p.addLine(x: [0, 1], y: [0, 1], label: "fit \"linear\"")
    p.addBars(edges: [0, 0.5, 1], heights: [1, 2], label: "hist")
    p.addVerticalLine(at: 0.5, label: "cut")
    let svg = p.svg()
    #expect(svgStructureProblem(svg) == nil)
    for text in ["CKA &lt;layer&gt; &amp; &quot;more&quot;", "size &amp; count", "a&lt;b",
                 "fit &quot;linear&quot;", "hist", "cut", "0.0", "0.5", "1.0", "2.0"] {
      #expect(svg.contains(">\(text)</text>"), "missing \(text)")
    }
    #expect(!svg.contains("<layer>") && !svg.contains("& count"))
  }

  @Test("the checker rejects unbalanced tags and bare ampersands (negative control)")
  func checkerControl() {
    #expect(svgStructureProblem("<svg><text>a</svg>") != nil)
    #expect(svgStructureProblem("<svg><text>a & b</text></svg>") != nil)
    #expect(svgStructureProblem("<svg><text>a &amp; b</text><rect/></svg>") == nil)
  }

  @Test("labels, dashes and legends change the picture")
  func optionsMatter() {
    let solid = plot { $0.addLine(x: [0, 1], y: [0, 1], label: "", color: .red) }
    let dashed = plot { $0.addLine(x: [0, 1], y: [0, 1], label: "", color: .red, dashed: true) }
    let labelled = plot { $0.addLine(x: [0, 1], y: [0, 1], label: "line", color: .red) }
    #expect(solid.raster() != dashed.raster())
    #expect(solid.raster() != labelled.raster())
    let markers = plot { $0.addLine(x: [0, 1], y: [0, 1], label: "", color: .red, markers: true) }
    #expect(solid.raster() != markers.raster())
    #expect(markers.svg().components(separatedBy: "<circle").count == 3)
    #expect(!solid.svg().contains("stroke-dasharray"))
    #expect(dashed.svg().contains("stroke-dasharray"))
  }

  @Test("series without a colour take the palette in order")
  func colorCycle() {
    let p = plot {
      $0.addLine(x: [0, 1], y: [0, 1], label: "a")
      $0.addLine(x: [0, 1], y: [1, 0], label: "b", color: .black)
      $0.addPoints(x: [0.5], y: [0.5], label: "c")
    }
    #expect(p.series.map(\.color) == [.blue, .black, .orange])
  }

  @Test("data lines are drawn in their colour and stay inside the axes")
  func clipping() {
    let p = plot { $0.addLine(x: [0, 1, 2], y: [0, 100, 0], label: "", color: .red) }
    let image = p.raster(width: 400, height: 300)
    var reds = 0
    for y in 0..<image.height {
      for x in 0..<image.width where image.color(x, y) == .red { reds += 1 }
    }
    #expect(reds > 200)
  }
}

@Suite("Plot extremes")
struct PlotExtremesTests {
  static let extremes: [Double] = [
    -.greatestFiniteMagnitude, .greatestFiniteMagnitude, 1e308, -1e308, Double.leastNonzeroMagnitude, -Double.leastNonzeroMagnitude, 0, 1,
  ]

  @Test("values at the ends of Double render without crashing", arguments: [Scale.linear, .log10])
  func extremeValues(scale: Scale) {
    var p = Plot(title: "extremes", xLabel: "x", yLabel: "y", xScale: scale, yScale: scale)
    p.addLine(x: Self.extremes, y: Self.extremes.reversed(), label: "line")
    p.addPoints(x: Self.extremes, y: Self.extremes, label: "points")
    p.addBars(edges: [Double.leastNonzeroMagnitude, 1, 1e308], heights: [1e308, Double.leastNonzeroMagnitude], label: "bars")
    p.addVerticalLine(at: .greatestFiniteMagnitude, label: "v")
    #expect(DecodedPNG(p.png()).pixels != nil)
    #expect(svgStructureProblem(p.svg()) == nil)
    var tiny = Plot(title: "", xLabel: "", yLabel: "", xScale: scale, yScale: scale)
    tiny.addLine(x: [1, 1 + 1e-15], y: [Double.leastNonzeroMagnitude, 2 * Double.leastNonzeroMagnitude], label: "")
    #expect(DecodedPNG(tiny.png()).pixels != nil)
  }

  @Test("heatmaps with extreme values render without crashing")
  func extremeHeatmap() {
    for range in [nil, 0...1, -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude]
      as [ClosedRange<Double>?]
    {
      let h = Heatmap(values: [Array(PlotExtremesTests.extremes.prefix(4)), [Double.leastNonzeroMagnitude, -Double.leastNonzeroMagnitude, 0, 1]],
                      rowLabels: ["a", "b"], columnLabels: ["c"], title: "", range: range)
      #expect(DecodedPNG(h.png()).pixels != nil)
      #expect(svgStructureProblem(h.svg()) == nil)
    }
  }
}
