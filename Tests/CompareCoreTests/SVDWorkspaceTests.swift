import Testing
@testable import CompareCore

/// One workspace for many SVDs of different shapes gives each the values and vectors of a fresh
/// decomposition, in storage it keeps.
@Suite("SVD workspace")
struct SVDWorkspaceTests {
  static func matrix(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    return Matrix<Double>.gaussian(rows: rows, columns: columns, using: &rng)
  }

  @Test("shapes in turn, larger and smaller: the same as a fresh decomposition, values only too")
  func reused() throws {
    let workspace = SVDWorkspace<Double>()
    for (k, shape) in [(60, 40), (7, 9), (80, 80), (1, 5), (33, 12)].enumerated() {
      let a = Self.matrix(shape.0, shape.1, seed: UInt64(k))
      let fresh = try a.singularValueDecomposition()
      workspace.load(rows: a.rows, columns: a.columns) { $0.update(fromContentsOf: a.elements) }
      let svd = try workspace.decompose(rows: a.rows, columns: a.columns)
      #expect(svd.values == fresh.values)
      #expect(svd.left.elements == fresh.left.elements && svd.rightTransposed.elements == fresh.rightTransposed.elements)
      #expect(svd.left.rows == a.rows && svd.rightTransposed.columns == a.columns)
      workspace.load(rows: a.rows, columns: a.columns) { $0.update(fromContentsOf: a.elements) }
      #expect(try workspace.singularValues(rows: a.rows, columns: a.columns) == a.singularValues())
      // Negative control: another matrix of the shape has other values.
      let other = Self.matrix(shape.0, shape.1, seed: UInt64(k) + 100)
      #expect(try other.singularValues() != fresh.values)
    }
  }

  @Test("its LAPACK workspace is kept from one call to the next")
  func keepsStorage() throws {
    let workspace = SVDWorkspace<Double>()
    let a = Self.matrix(50, 50, seed: 1)
    workspace.load(rows: 50, columns: 50) { $0.update(fromContentsOf: a.elements) }
    _ = try workspace.decompose(rows: 50, columns: 50)
    let work = workspace.work.withUnsafeBufferPointer { $0.baseAddress }
    workspace.load(rows: 20, columns: 30) { $0.update(repeating: 1) }
    _ = try workspace.singularValues(rows: 20, columns: 30)
    workspace.load(rows: 50, columns: 50) { $0.update(fromContentsOf: a.elements) }
    _ = try workspace.decompose(rows: 50, columns: 50)
    #expect(workspace.work.withUnsafeBufferPointer { $0.baseAddress } == work)
  }
}
