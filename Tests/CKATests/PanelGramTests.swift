@testable import CKA
import CompareCore
import Testing

/// The Gram matrix of centred activations formed panel by panel (`GramKernel.centredUpperGram`).
@Suite("Panel-wise centred Gram")
struct PanelGramTests {
  /// The upper triangle of the Gram of `x`'s centred columns, formed in panels of `width`.
  func panelGram<S: BLASScalar>(_ x: Matrix<S>, width: Int) -> [S] {
    let n = x.rows, p = x.columns
    var panel = [S](repeating: 0, count: n * width), gram = [S](repeating: 0, count: n * n)
    x.elements.withUnsafeBufferPointer { px in
      panel.withUnsafeMutableBufferPointer { pp in
        gram.withUnsafeMutableBufferPointer { pg in
          GramKernel.centredUpperGram(px.baseAddress!, rows: n, columns: p, panel: pp.baseAddress!,
                                      into: pg.baseAddress!, width: width)
        }
      }
    }
    return gram
  }

  /// The largest difference between two upper triangles, relative to the largest entry of `b`.
  func upperDifference<S: BLASScalar, T: BLASScalar>(_ a: [S], _ b: [T], size n: Int) -> Double {
    var difference = 0.0, scale = 0.0
    for i in 0..<n {
      for j in i..<n {
        difference = max(difference, abs(Double(a[i * n + j]) - Double(b[i * n + j])))
        scale = max(scale, abs(Double(b[i * n + j])))
      }
    }
    return difference / scale
  }

  @Test("panels of 16, 7 and 1 columns (a remainder each) give the one-panel Gram, which is (X − 1μᵀ)(X − 1μᵀ)ᵀ",
        arguments: [16, 7, 1])
  func panelsEqualOnePanel(width: Int) {
    let x = activations(examples: 30, features: 101, seed: 4, offset: 3)
    let whole = panelGram(x, width: 101), panels = panelGram(x, width: width)
    #expect(upperDifference(panels, whole, size: 30) < 1e-13)
    // Reference: the Gram of explicitly centred columns.
    let means = (0..<101).map { j in (0..<30).reduce(0.0) { $0 + x[$1, j] } / 30 }
    let centred = Matrix(rows: 30, columns: 101) { i, j in x[i, j] - means[j] }
    let reference = centred.multiplied(by: centred.transposed())
    #expect(upperDifference(whole, reference.elements, size: 30) < 1e-13)
    // Negative control: the raw Gram (no centring) is far from it.
    let raw = x.multiplied(by: x.transposed())
    #expect(upperDifference(raw.elements, reference.elements, size: 30) > 0.5)
  }

  @Test("float32 panels centre each column exactly: an offset of 1000 leaves the Gram as accurate as without")
  func float32Offset() {
    let x = activations(examples: 40, features: 300, seed: 5)
    let shifted = Matrix(rows: 40, columns: 300) { i, j in x[i, j] + 1000 }
    let reference = panelGram(x, width: 300)
    let single = panelGram(Matrix(rows: 40, columns: 300) { i, j in Float(shifted[i, j]) }, width: 64)
    #expect(upperDifference(single, reference, size: 40) < 1e-4)
  }

  @Test("the default panel holds n rows in 1 MiB, between 256 columns and all of them")
  func defaultWidth() {
    #expect(GramKernel.panelColumns(rows: 512, columns: 4096, scalar: Float.self) == 512)
    #expect(GramKernel.panelColumns(rows: 512, columns: 4096, scalar: Double.self) == 256)
    #expect(GramKernel.panelColumns(rows: 10_000, columns: 4096, scalar: Float.self) == 256)
    #expect(GramKernel.panelColumns(rows: 512, columns: 100, scalar: Float.self) == 100)
  }
}
