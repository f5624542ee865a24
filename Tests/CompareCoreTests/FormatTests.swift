import CompareCore
import Testing

@Suite("Format")
struct FormatTests {
  @Test("formats numbers like printf and aligns tables")
  func formatting() {
    #expect(Format.fixed(3.14159, 2) == "3.14")
    #expect(Format.percent(0.9326) == "93.26 %")
    #expect(Format.general(0.000123456, 3) == "0.000123")
    #expect(Format.table(header: ["a", "bb"], rows: [["xyz", "1"]], rightAligned: [1]) == "a    bb\nxyz   1\n")
  }

  @Test("isClose is relative away from zero and absolute near it")
  func closeness() {
    #expect(1000.0.isClose(to: 1000.5, tolerance: 1e-3))
    #expect(!1000.0.isClose(to: 1002, tolerance: 1e-3))
    #expect(1e-9.isClose(to: 0, tolerance: 1e-8))
    #expect(!Double.nan.isClose(to: 0, tolerance: 1))
  }
}
