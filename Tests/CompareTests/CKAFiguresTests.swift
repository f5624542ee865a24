@testable import Compare
import Testing

/// The CKA heatmap with significance: cells a permutation test found not significant are greyed
/// and hatched, the others drawn as in the plain heatmap.
@Suite("CKAFigures")
struct CKAFiguresTests {
  static let fixtures = packageRoot + "Tests/Fixtures/cka/"

  static func result(permutations: Int) throws -> CKAResult {
    let (a, b) = try ActivationSet.pair(fixtures + "model_a", fixtures + "model_b")
    return try CKAEstimator.minibatch(batchSize: 8).similarities(
      a, b, statistics: CKAStatistics(permutations: permutations))
  }

  static func pixel(_ image: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
    let p = (y * image.width + x) * 3
    return Array(image.pixels[p..<(p + 3)])
  }

  @Test("not significant cells are grey and hatched, significant ones keep their colour")
  func greyedCells() throws {
    let result = try Self.result(permutations: 99)
    let cells = CKAFigures.insignificantCells(result)
    // At seed 0 every cell of block2 has p > 0.05, none of block1 (see the command's table).
    #expect(cells.map(\.row) == [0, 1, 2] && cells.allSatisfy { $0.column == 1 })
    let image = CKAFigures.raster(result)
    let figure = CKAFigures.heatmap(result)
    let plain = figure.raster()
    let grid = try #require(CKAFigures.CellGrid(figure, image: plain, cellSize: 48))
    for i in 0..<3 {
      for j in 0..<2 {
        let (x0, y0, x1, _) = grid.pixels(i, j)
        // A pixel near the cell's left edge, off the annotation and off the hatching lines.
        let x = x0 + 3, y = y0 + 3 + ((x0 + 3 + y0 + 3) % 8 == 0 ? 1 : 0)
        let drawn = Self.pixel(image, x, y)
        if j == 1 {
          #expect(drawn[0] == drawn[1] && drawn[1] == drawn[2], "cell \(i), \(j) is grey")
          #expect(drawn != Self.pixel(plain, x, y))
        } else {
          #expect(drawn == Self.pixel(plain, x, y), "cell \(i), \(j) keeps its colour")
          #expect(!(drawn[0] == drawn[1] && drawn[1] == drawn[2]))  // control: viridis is not grey
        }
        #expect(x1 - x0 == 48)
      }
    }
    let svg = CKAFigures.svg(result)
    #expect(svg.components(separatedBy: "class=\"not-significant\"").count - 1 == 3)
    #expect(svg.contains("greyed, hatched: not significant (permutation p &gt; 0.05)")
            || svg.contains("greyed, hatched: not significant (permutation p > 0.05)"))
    #expect(svg.hasSuffix("</svg>\n"))
  }

  @Test("without a permutation test the figure is the plain heatmap, byte for byte")
  func plainWithoutTest() throws {
    let result = try Self.result(permutations: 0)
    #expect(CKAFigures.insignificantCells(result).isEmpty)
    #expect(CKAFigures.raster(result) == CKAFigures.heatmap(result.matrix).raster())
    #expect(CKAFigures.svg(result) == CKAFigures.heatmap(result.matrix).svg())
  }

  @Test("several models: the grid holds the summary and every pair's panel, each pair's insignificant cells greyed")
  func severalModelsGrid() throws {
    let sets = try ActivationSet.group([Self.fixtures + "model_a", Self.fixtures + "model_b", Self.fixtures + "model_b"])
    func comparison(_ permutations: Int) throws -> CKAModelComparison {
      try CKAModelComparison(sets, estimator: .minibatch(batchSize: 8), statistics: CKAStatistics(permutations: permutations))
    }
    let tested = try comparison(99), plain = try comparison(0)
    // The pair (A, B) is the two-model result above, whose block2 column is not significant.
    let pair = try #require(tested.pairs.first { $0.i == 0 && $0.j == 1 })
    #expect(CKAFigures.insignificantCells(pair.result).count == 3)
    let panel = CKAFigures.raster(pair.result)
    let summary = tested.summaryHeatmap.raster(cellSize: 48)
    let grid = tested.heatmapGrid.raster()
    #expect(grid.width >= 2 * panel.width && grid.height >= summary.height + 2 * panel.height)
    // The hatching's grey (150) marks the greyed cells: in the tested grid, not in the plain one.
    func hatched(_ image: RGBImage) -> Int {
      stride(from: 0, to: image.pixels.count, by: 3).filter {
        image.pixels[$0] == 150 && image.pixels[$0 + 1] == 150 && image.pixels[$0 + 2] == 150
      }.count
    }
    #expect(hatched(grid) >= hatched(panel) && hatched(panel) > 20)
    #expect(hatched(plain.heatmapGrid.raster()) < hatched(panel) / 4)
    #expect(tested.heatmapGrid.svg().hasSuffix("</svg>\n") || tested.heatmapGrid.svg().contains("<svg"))
  }
}
