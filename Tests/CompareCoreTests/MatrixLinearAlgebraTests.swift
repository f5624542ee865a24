import CompareCore
import Testing

/// A naive float64 product, the reference every fast path is checked against.
func naiveProduct<S: BLASScalar>(_ a: Matrix<S>, _ b: Matrix<S>) -> [Double] {
  var c = [Double](repeating: 0, count: a.rows * b.columns)
  for i in 0..<a.rows {
    for j in 0..<b.columns {
      var sum = 0.0
      for k in 0..<a.columns { sum += Double(a[i, k]) * Double(b[k, j]) }
      c[i * b.columns + j] = sum
    }
  }
  return c
}

func maxDifference<S: BLASScalar>(_ x: [S], _ y: [Double]) -> Double {
  zip(x, y).map { abs(Double($0) - $1) }.max() ?? 0
}

@Suite("Matrix products")
struct MatrixProductTests {
  static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 3, 5), (3, 9, 2), (40, 17, 33), (0, 4, 3), (4, 0, 3)]

  @Test("gemm matches a naive float64 product on 1×1, tall, wide and empty shapes",
        arguments: shapes.indices)
  func gemmMatchesNaive(index: Int) {
    let (m, k, n) = Self.shapes[index]
    var rng = SplitMix64(seed: UInt64(index))
    let a = Matrix<Double>.gaussian(rows: m, columns: k, using: &rng)
    let b = Matrix<Double>.gaussian(rows: k, columns: n, using: &rng)
    let c = a.multiplied(by: b)
    #expect(c.rows == m && c.columns == n)
    #expect(maxDifference(c.elements, naiveProduct(a, b)) < 1e-12)
    let af = a.converted(to: Float.self), bf = b.converted(to: Float.self)
    #expect(maxDifference(af.multiplied(by: bf).elements, naiveProduct(af, bf)) < 1e-4)
  }

  @Test("transposed products equal products with explicit transposes")
  func transposedProducts() {
    var rng = SplitMix64(seed: 9)
    let a = Matrix<Double>.gaussian(rows: 6, columns: 4, using: &rng)
    let b = Matrix<Double>.gaussian(rows: 6, columns: 5, using: &rng)
    let c = Matrix<Double>.gaussian(rows: 3, columns: 4, using: &rng)
    #expect(maxDifference(a.transposedMultiplied(by: b).elements, naiveProduct(a.transposed(), b)) < 1e-12)
    #expect(maxDifference(a.multipliedByTransposed(c).elements, naiveProduct(a, c.transposed())) < 1e-12)
  }

  @Test("gram and featureGram are the symmetric products A·Aᵀ and Aᵀ·A")
  func grams() {
    var rng = SplitMix64(seed: 5)
    let a = Matrix<Float>.gaussian(rows: 9, columns: 4, using: &rng)
    #expect(maxDifference(a.gram().elements, naiveProduct(a, a.transposed())) < 1e-4)
    #expect(maxDifference(a.featureGram().elements, naiveProduct(a.transposed(), a)) < 1e-4)
    let g = a.gram()
    #expect(g == g.transposed())
  }

  @Test("scaled and adding are elementwise, and a wrong answer is detected")
  func elementwise() {
    let a = Matrix<Double>([[1, 2], [3, 4]])
    #expect(a.scaled(by: 2) == Matrix([[2, 4], [6, 8]]))
    #expect(a.adding(a, scaledBy: -1) == Matrix(zeros: 2, 2))
    #expect(a.scaled(by: 2) != a)
    #expect(a.frobeniusNormSquared == 30)
  }
}

@Suite("Spectral decompositions")
struct SpectralDecompositionTests {
  /// U·diag(s)·Vᵀ with random orthogonal U, V: singular values exactly `s`.
  static func withSpectrum(_ s: [Double], rows: Int, columns: Int, seed: UInt64) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    let u = Matrix<Double>.randomOrthogonal(size: rows, using: &rng)
    let v = Matrix<Double>.randomOrthogonal(size: columns, using: &rng)
    var d = Matrix<Double>(zeros: rows, columns)
    for (i, value) in s.enumerated() { d[i, i] = value }
    return u.multiplied(by: d).multipliedByTransposed(v)
  }

  @Test("singular values of a matrix with a known spectrum, tall and wide, float and double",
        arguments: [(8, 5), (5, 8), (1, 1), (6, 6)])
  func knownSpectrum(rows: Int, columns: Int) throws {
    let s = (0..<min(rows, columns)).map { Double(10 - $0) * 0.5 }
    let a = Self.withSpectrum(s, rows: rows, columns: columns, seed: UInt64(rows * 31 + columns))
    let values = try a.singularValues()
    #expect(values.count == s.count)
    for (x, y) in zip(values, s) { #expect(x.isClose(to: y, tolerance: 1e-12)) }
    let valuesFloat = try a.converted(to: Float.self).singularValues()
    for (x, y) in zip(valuesFloat, s) { #expect(Double(x).isClose(to: y, tolerance: 1e-5)) }
  }

  @Test("symmetric eigenvalues are the squared singular values of the factor, ascending")
  func eigenvaluesOfGram() throws {
    let s = [3.0, 2.0, 1.0, 0.5]
    let a = Self.withSpectrum(s, rows: 7, columns: 4, seed: 11)
    let eigen = try a.featureGram().symmetricEigenvalues()
    let expected = s.map { $0 * $0 }.sorted()
    for (x, y) in zip(eigen, expected) { #expect(x.isClose(to: y, tolerance: 1e-12)) }
  }

  @Test("empty matrices have no singular values; a non-square eigenproblem is an error")
  func edgeCases() throws {
    #expect(try Matrix<Double>(zeros: 0, 3).singularValues().isEmpty)
    #expect(throws: InputError.self) { try Matrix<Double>(zeros: 2, 3).symmetricEigenvalues() }
  }

  @Test("random orthogonal matrices are orthogonal")
  func orthogonal() {
    var rng = SplitMix64(seed: 3)
    let q = Matrix<Double>.randomOrthogonal(size: 6, using: &rng)
    let qtq = q.transposedMultiplied(by: q)
    #expect(maxDifference(qtq.elements, Matrix<Double>.identity(6).elements.map { $0 }) < 1e-12)
  }
}

@Suite("LinearAlgebraError")
struct LinearAlgebraErrorTests {
  @Test("says whose fault it is: a negative info is a bug, a positive one the data")
  func messages() {
    #expect(LinearAlgebraError(routine: "gesdd", info: -4).description
      == "gesdd rejected argument 4 (a bug in Compare; please report it)")
    #expect(LinearAlgebraError(routine: "gesdd", info: 3).in("fc1").description
      == "fc1: gesdd did not converge (info 3)")
  }
}

@Suite("Singular value decomposition")
struct SingularValueDecompositionTests {
  @Test("U Σ Vᵀ rebuilds tall, wide and square matrices; U and V are orthonormal; Σ is the values-only SVD's",
        arguments: [(30, 7), (7, 30), (12, 12), (1, 5)])
  func rebuilds(shape: (Int, Int)) throws {
    var rng = SplitMix64(seed: UInt64(shape.0 * 100 + shape.1))
    let a = Matrix<Double>.gaussian(rows: shape.0, columns: shape.1, using: &rng)
    let svd = try a.singularValueDecomposition()
    let k = min(shape.0, shape.1)
    #expect(svd.values.count == k && svd.left.rows == shape.0 && svd.left.columns == k)
    #expect(svd.rightTransposed.rows == k && svd.rightTransposed.columns == shape.1)
    let scaled = Matrix<Double>(rows: shape.0, columns: k) { i, j in svd.left[i, j] * svd.values[j] }
    let rebuilt = scaled.multiplied(by: svd.rightTransposed)
    #expect(zip(rebuilt.elements, a.elements).allSatisfy { abs($0 - $1) < 1e-12 })
    let utu = svd.left.transposedMultiplied(by: svd.left)
    let vtv = svd.rightTransposed.multipliedByTransposed(svd.rightTransposed)
    for i in 0..<k {
      for j in 0..<k {
        #expect(abs(utu[i, j] - (i == j ? 1 : 0)) < 1e-12 && abs(vtv[i, j] - (i == j ? 1 : 0)) < 1e-12)
      }
    }
    let values = try a.singularValues()
    #expect(zip(values, svd.values).allSatisfy { abs($0 - $1) < 1e-12 })
    #expect(zip(svd.values, svd.values.dropFirst()).allSatisfy { $0 >= $1 })
    // Negative control: swapping U's first two columns no longer rebuilds A.
    if k >= 2 {
      let swapped = Matrix<Double>(rows: shape.0, columns: k) { i, j in
        svd.left[i, j == 0 ? 1 : j == 1 ? 0 : j] * svd.values[j]
      }
      let wrong = swapped.multiplied(by: svd.rightTransposed)
      #expect(zip(wrong.elements, a.elements).contains { abs($0 - $1) > 1e-3 })
    }
  }
}
