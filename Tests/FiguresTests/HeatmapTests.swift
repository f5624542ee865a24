import Foundation
import Testing
@testable import Figures

@Suite("Heatmap")
struct HeatmapTests {
  static let names = ["conv1", "layer1.0.conv1", "layer2.0.downsample.0", "fc"]

  /// The colour a few pixels inside the top-left corner of cell (i, j), away from its text.
  func cellColor(_ h: Heatmap, _ image: RGBImage, _ i: Int, _ j: Int, cellSize: Int = 48) -> Color {
    let l = Heatmap.Layout(h, cellSize: cellSize)
    return image.color(Int(l.matrix.x) + j * cellSize + 3, Int(l.matrix.y) + i * cellSize + 3)
  }

  @Test("the maximum and minimum cells get different colours, and rows run top to bottom")
  func extremes() {
    let h = Heatmap(values: [[0, 0.5], [0.25, 1]], rowLabels: ["a", "b"], columnLabels: ["a", "b"],
                    title: "t")
    let image = h.raster()
    let low = cellColor(h, image, 0, 0), high = cellColor(h, image, 1, 1)
    #expect(low != high)
    #expect(low == h.color(for: 0) && high == h.color(for: 1))
    // Viridis: dark purple at the low end, bright yellow at the high end.
    #expect(low.luminance < 0.2 && high.luminance > 0.8)
  }

  @Test("values outside the range take the colour of its nearest end; nil range spans the data")
  func range() {
    let h = Heatmap(values: [[-3, 7]], rowLabels: [], columnLabels: [], title: "")
    #expect(h.color(for: -3) == h.color(for: 0) && h.color(for: 7) == h.color(for: 1))
    let auto = Heatmap(values: [[-3, 7]], rowLabels: [], columnLabels: [], title: "", range: nil)
    #expect(auto.color(for: -3) == h.color(for: 0) && auto.color(for: 7) == h.color(for: 1))
    #expect(auto.color(for: 2) != auto.color(for: -3))
  }

  @Test("NaN cells are grey and hatched, unlike any value's colour, and annotated nan")
  func nanCells() {
    let h = Heatmap(values: [[1, .nan], [0.3, 0]], rowLabels: ["a", "b"], columnLabels: ["a", "b"],
                    title: "t")
    let image = h.raster()
    let l = Heatmap.Layout(h, cellSize: 48)
    var colors = Set<Color>()
    for dy in 0..<16 {
      for dx in 0..<16 {
        colors.insert(image.color(Int(l.matrix.x) + 48 + 2 + dx, Int(l.matrix.y) + 2 + dy))
      }
    }
    #expect(colors.count >= 2, "hatching shows two tones")
    #expect(colors.allSatisfy { $0.r == $0.g && $0.g == $0.b }, "grey")
    let valueColors = stride(from: 0.0, through: 1, by: 0.01).compactMap { h.color(for: $0) }
    #expect(colors.isDisjoint(with: valueColors))
    #expect(h.color(for: .nan) == nil)
    #expect(h.svg().contains(">nan</text>"))
    #expect(!Heatmap(values: [[1, 0.5]], rowLabels: [], columnLabels: [], title: "").svg().contains("nan"))
  }

  @Test("the SVG is well formed and holds the title, every label and every value")
  func svgContents() {
    let values = [[1, 0.61, 0.37, 0.22], [0.61, 1, 0.6, 0.37], [0.37, 0.6, 1, 0.61], [0.22, 0.37, 0.61, 1]]
    let h = Heatmap(values: values, rowLabels: Self.names, columnLabels: Self.names,
                    title: "Linear CKA", xLabel: "model B", yLabel: "model A")
    let svg = h.svg()
    #expect(svgStructureProblem(svg) == nil)
    for text in ["Linear CKA", "model B", "model A", "0.61", "0.37"] + Self.names {
      #expect(svg.contains(">\(text)</text>"), "missing \(text)")
    }
    // Wide column labels are turned vertical.
    #expect(svg.contains("rotate(-90"))
    #expect(!h.svg().contains(">0.37 <"))
  }

  @Test("annotate: false prints no values")
  func noAnnotations() {
    let h = Heatmap(values: [[0.37]], rowLabels: ["a"], columnLabels: ["b"], title: "t", annotate: false)
    #expect(!h.svg().contains("0.37"))
    #expect(Heatmap(values: [[0.37]], rowLabels: ["a"], columnLabels: ["b"], title: "t").svg().contains(">0.37<"))
  }

  @Test("labels longer than 180 px keep their end behind an ellipsis")
  func longLabels() {
    let long = "encoder.layers.11.attention.output.dense.weight.and.then.some.more.text"
    let h = Heatmap(values: [[1]], rowLabels: [long], columnLabels: [long], title: "t")
    let l = Heatmap.Layout(h, cellSize: 48)
    #expect(l.rowLabels[0].hasPrefix("…") && l.rowLabels[0].hasSuffix("some.more.text"))
    #expect(TextStyle.small.width(l.rowLabels[0]) <= 180)
    #expect(h.svg().contains("some.more.text</text>"))
  }

  @Test("empty, ragged and non-finite inputs render without crashing")
  func robustness() {
    let cases: [[[Double]]] = [[], [[]], [[1, 2, 3], [4]], [[.infinity, -.infinity]], [[.nan]]]
    for values in cases {
      for range in [nil, 0...1] as [ClosedRange<Double>?] {
        let h = Heatmap(values: values, rowLabels: ["r"], columnLabels: [], title: "", range: range)
        #expect(DecodedPNG(h.png()).pixels != nil)
        #expect(svgStructureProblem(h.svg()) == nil)
      }
    }
    #expect(DecodedPNG(Heatmap(values: [[1]], rowLabels: [], columnLabels: [], title: "x").png(cellSize: -5)).pixels != nil)
  }

  @Test("the PNG is as large as the layout, and a 6 × 6 matrix renders quickly")
  func size() {
    let values = (0..<6).map { i in (0..<6).map { j in Double(i * j) / 25 } }
    let names = (0..<6).map { "layer\($0)" }
    let h = Heatmap(values: values, rowLabels: names, columnLabels: names, title: "CKA")
    let l = Heatmap.Layout(h, cellSize: 48)
    let start = ContinuousClock.now
    let png = DecodedPNG(h.png())
    // Generous bound for a debug build on a shared machine; release takes a few milliseconds.
    #expect(ContinuousClock.now - start < .seconds(2))
    #expect(png.width == Int(l.width) && png.height == Int(l.height))
    #expect(l.matrix.width == 6 * 48 && l.matrix.height == 6 * 48)
  }
}

@Suite("Heatmap labels")
struct HeatmapLabelTests {
  @Test("cells smaller than a line of text label every few rows; large cells label all")
  func labelStride() {
    let names = (0..<12).map { "layer\($0)" }
    let values = (0..<12).map { i in (0..<12).map { j in Double(i + j) / 22 } }
    let h = Heatmap(values: values, rowLabels: names, columnLabels: names, title: "", annotate: false)
    let small = h.svg(cellSize: 8)
    let large = h.svg(cellSize: 48)
    func count(_ svg: String, _ label: String) -> Int {
      svg.components(separatedBy: ">\(label)</text>").count - 1
    }
    #expect(count(large, "layer1") == 2 && count(large, "layer0") == 2)
    #expect(count(small, "layer0") == 2 && count(small, "layer1") == 0)
  }

  @Test("infinite cells are annotated inf and -inf")
  func infinities() {
    let svg = Heatmap(values: [[.infinity, -.infinity]], rowLabels: [], columnLabels: [], title: "").svg()
    #expect(svg.contains(">inf</text>") && svg.contains(">-inf</text>"))
  }
}

@Suite("Heatmap size")
struct HeatmapSizeTests {
  @Test("a matrix with many layers gets cells small enough to stay within 4000 px")
  func manyLayers() {
    let values = [[Double]](repeating: [Double](repeating: 0.5, count: 900), count: 900)
    let l = Heatmap.Layout(Heatmap(values: values, rowLabels: [], columnLabels: [], title: ""), cellSize: 48)
    #expect(l.cell == 4 && l.matrix.width == 3600)
    let few = Heatmap.Layout(Heatmap(values: [[1]], rowLabels: [], columnLabels: [], title: ""), cellSize: 48)
    #expect(few.cell == 48)
  }
}
