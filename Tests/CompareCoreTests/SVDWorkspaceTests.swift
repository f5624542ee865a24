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

  /// Element by element within 1e-10 (the entries are of order 1).
  static func close(_ x: [Double], _ y: [Double]) -> Bool {
    x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-10 }
  }

  @Test("shapes in turn, larger and smaller: the same as a fresh decomposition, values only too")
  func reused() throws {
    let workspace = SVDWorkspace<Double>()
    for (k, shape) in [(60, 40), (7, 9), (80, 80), (1, 5), (33, 12)].enumerated() {
      let a = Self.matrix(shape.0, shape.1, seed: UInt64(k))
      let fresh = try a.singularValueDecomposition()
      workspace.load(rows: a.rows, columns: a.columns) { $0.update(fromContentsOf: a.elements) }
      let svd = try workspace.decompose(rows: a.rows, columns: a.columns)
      // Equal to the last bits, which follow OpenBLAS's process-wide thread count (tests
      // running in parallel change it between the two calls).
      #expect(Self.close(svd.values, fresh.values))
      #expect(Self.close(svd.left.elements, fresh.left.elements)
              && Self.close(svd.rightTransposed.elements, fresh.rightTransposed.elements))
      #expect(svd.left.rows == a.rows && svd.rightTransposed.columns == a.columns)
      workspace.load(rows: a.rows, columns: a.columns) { $0.update(fromContentsOf: a.elements) }
      #expect(Self.close(try workspace.singularValues(rows: a.rows, columns: a.columns), try a.singularValues()))
      // Negative control: another matrix of the shape has other values.
      let other = Self.matrix(shape.0, shape.1, seed: UInt64(k) + 100)
      #expect(!Self.close(try other.singularValues(), fresh.values))
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
