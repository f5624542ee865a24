import Testing
import Figures

@Suite("FigureFormat")
struct FigureFormatTests {
  @Test("is chosen by the extension, ignoring case and directories")
  func byExtension() {
    #expect(FigureFormat(path: "out/cka.png") == .png)
    #expect(FigureFormat(path: "CKA.SVG") == .svg)
    #expect(FigureFormat(path: "a.b/figure.svg") == .svg)
  }

  @Test("is nil for other or missing extensions", arguments: ["x.jpg", "png", "dir.png/file", ".png", ""])
  func rejected(path: String) {
    #expect(FigureFormat(path: path) == nil)
  }
}
