import CompareCore
import Foundation
@testable import Similarity
import Testing

/// Identity, the invariances each measure claims, a negative control for one it does not claim,
/// and symmetry where it is symmetric.
@Suite("Similarity properties")
struct PropertyTests {
  static func data(_ seed: UInt64, rows: Int = 60, columns: Int = 8) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    return Matrix<Double>.gaussian(rows: rows, columns: columns, using: &rng)
  }

  /// A transform of x and what it is.
  enum Transform: CaseIterable {
    case orthogonal, isotropic, permutation, invertible, nonlinear

    func apply(_ x: Matrix<Double>, seed: UInt64) -> Matrix<Double> {
      var rng = SplitMix64(seed: seed &+ 99)
      switch self {
      case .orthogonal:
        return x.multiplied(by: Matrix<Double>.randomOrthogonal(size: x.columns, using: &rng))
      case .isotropic: return x.scaled(by: 3.7)
      case .permutation:
        return Matrix(rows: x.rows, columns: x.columns) { i, j in x[i, (j * 5 + 1) % x.columns] }
      case .invertible:
        // Strongly anisotropic, so that rotation-only measures notice.
        let w = Matrix<Double>.gaussian(rows: x.columns, columns: x.columns, using: &rng)
        let d = Matrix<Double>(rows: x.columns, columns: x.columns) { i, j in i == j ? pow(4, Double(i)) / 100 : 0 }
        return x.multiplied(by: w).multiplied(by: d)
      case .nonlinear:
        return Matrix(rows: x.rows, columns: x.columns) { i, j in x[i, j] * x[i, j] * x[i, j] }
      }
    }
  }

  /// What each measure is blind to (adding a constant offset too, for all).
  static let invariances: [(MeasureName, Set<Transform>, Transform)] = [
    (.cka, [.orthogonal, .isotropic, .permutation], .invertible),
    (.cca, [.orthogonal, .isotropic, .permutation, .invertible], .nonlinear),
    (.ccaR2, [.orthogonal, .isotropic, .permutation, .invertible], .nonlinear),
    (.svcca, [.orthogonal, .isotropic, .permutation], .invertible),
    (.pwcca, [.isotropic, .permutation, .invertible], .nonlinear),
    (.procrustes, [.orthogonal, .isotropic, .permutation], .invertible),
    (.procrustesEuclidean, [.orthogonal, .isotropic, .permutation], .invertible),
    (.linreg, [.orthogonal, .isotropic, .permutation, .invertible], .nonlinear),
    (.rsa, [.isotropic, .permutation], .orthogonal),
    (.mknn, [.orthogonal, .isotropic, .permutation], .invertible),
    (.cknna, [.orthogonal, .isotropic, .permutation], .invertible),
    (.dcor, [.orthogonal, .isotropic, .permutation], .invertible),
  ]

  /// The k-NN measures work on uncentred rows, as the reference does: not blind to an offset.
  static func translationInvariant(_ name: MeasureName) -> Bool { name != .mknn && name != .cknna }

  static func identity(_ measure: any SimilarityMeasure) -> Double {
    measure.direction == .similarity ? 1 : 0
  }

  @Test("a layer against itself is 1 (similarities) or 0 (distances)", arguments: MeasureName.allCases)
  func identity(name: MeasureName) throws {
    let measure = name.measure()
    let x = Self.data(1)
    let value = try #require(try measure.value(x, x))
    // cknna divides by s + 10⁻⁶ as the reference does: just below 1.
    #expect(abs(value - Self.identity(measure)) < (name == .cknna ? 1e-3 : 1e-6), "\(name): \(value)")
  }

  @Test("each claimed invariance holds, and the negative control moves the value",
        arguments: [1, 2] as [UInt64])
  func invariances(seed: UInt64) throws {
    // Y: a noisy nonlinear function of X, so that the values are away from 0 and 1.
    let x = Self.data(seed, rows: 80, columns: 6)
    let noise = Self.data(seed &+ 7, rows: 80, columns: 5)
    let y = Matrix<Double>(rows: 80, columns: 5) { i, j in tanh(x[i, j] + 0.5 * x[i, j + 1]) + 0.6 * noise[i, j] }
    let shifted = Matrix<Double>(rows: 80, columns: 6) { i, j in x[i, j] + 100 }
    for (name, invariant, control) in Self.invariances {
      let measure = name.measure()
      let base = try #require(try measure.value(x, y))
      if Self.translationInvariant(name) {
        #expect(abs(try #require(try measure.value(shifted, y)) - base) < 1e-9, "\(name): offset")
      } else {
        #expect(abs(try #require(try measure.value(shifted, y)) - base) > 1e-3, "\(name): offset")
      }
      for t in invariant {
        let v = try #require(try measure.value(t.apply(x, seed: seed), y))
        #expect(abs(v - base) < 1e-8, "\(name) under \(t): \(v) vs \(base)")
      }
      let moved = try #require(try measure.value(control.apply(x, seed: seed), y))
      #expect(abs(moved - base) > 1e-3, "\(name) should change under \(control): \(moved) vs \(base)")
    }
  }

  @Test("measures blind to scaling stay so far from 1: activations ×1e-20 and ×1e20 (k-NN rows shorter than 1e-12 included)",
        arguments: [1e-20, 1e20])
  func extremeScales(scale: Double) throws {
    let x = Self.data(3, rows: 80, columns: 6)
    let y = Matrix<Double>(rows: 80, columns: 5) { i, j in tanh(x[i, j] + 0.5 * x[i, j + 1]) }
    for (name, invariant, _) in Self.invariances where invariant.contains(.isotropic) {
      let measure = name.measure()
      let base = try #require(try measure.value(x, y))
      let scaled = try #require(try measure.value(x.scaled(by: scale), y))
      #expect(abs(scaled - base) < 1e-8, "\(name) at ×\(scale): \(scaled) vs \(base)")
    }
  }

  @Test("symmetric measures give the same value both ways (pwcca weights the narrower side either way); linreg is not, cknna nearly")
  func symmetry() throws {
    let x = Self.data(3, rows: 50, columns: 4), y = Self.data(4, rows: 50, columns: 9)
    for name in MeasureName.allCases {
      let measure = name.measure()
      let xy = try #require(try measure.value(x, y)), yx = try #require(try measure.value(y, x))
      if name == .linreg {
        #expect(abs(xy - yx) > 1e-3, "\(name) is not symmetric here")
      } else if name == .cknna {
        #expect(abs(xy - yx) < 0.05, "\(name): \(xy) vs \(yx)")
      } else {
        #expect(abs(xy - yx) < 1e-10, "\(name): \(xy) vs \(yx)")
      }
    }
  }

  @Test("a constant layer gives nil and a warning naming it, never NaN")
  func constantLayer() throws {
    let x = Self.data(5, rows: 20, columns: 3)
    let constant = Matrix<Double>(rows: 20, columns: 3) { _, j in Double(j) }
    let result = try RepresentationComparison(measures: MeasureName.allCases.map { $0.measure() })
      .compare(layersA: [x, constant], namesA: ["ok", "flat"], layersB: [x], namesB: ["same"])
    for table in result.tables {
      #expect(table.values[0][0] != nil, "\(table.name)")
      #expect(table.values[1][0] == nil, "\(table.name)")
    }
    #expect(result.warnings == ["layer 'flat' of A is constant: its values are null"])
  }

  @Test("a layer with as many features as examples warns that CCA is trivially 1")
  func wideLayer() throws {
    let x = Self.data(6, rows: 10, columns: 12), y = Self.data(7, rows: 10, columns: 3)
    let result = try RepresentationComparison(measures: [CCASimilarity(), CKASimilarity()])
      .compare(layersA: [x], namesA: ["wide"], layersB: [y], namesB: ["narrow"])
    #expect(abs(try #require(result.tables[0].values[0][0]) - 1) < 1e-9)
    #expect(result.warnings.count == 1)
    #expect(result.warnings.first?.hasPrefix("layer 'wide' of A has 10 examples for 12 features") == true)
  }

  @Test("the rank counts the nonzero singular values not below tolerance × the largest: 1 keeps the largest, 0 every nonzero one")
  func rankTolerance() throws {
    let x = try LayerDecomposition(of: Self.data(9, rows: 30, columns: 6))
    #expect(x.rank(tolerance: 1) == 1)
    #expect(x.rank(tolerance: 0) == 6)
    #expect(x.rank(tolerance: 1e-6) == 6)
    // A rank-2 layer: the null directions never count, even at tolerance 0.
    let low = Matrix<Double>(rows: 30, columns: 4) { i, j in j < 2 ? Double((i * (j + 3)) % 7) : 0 }
    #expect(try LayerDecomposition(of: low).rank(tolerance: 0) == 2)
    #expect(try LayerDecomposition(of: Matrix<Double>(rows: 5, columns: 2) { _, _ in 1 }).rank(tolerance: 0) == 0)
    // With tolerance 1 a layer against itself still has one canonical correlation, 1.
    let y = Self.data(10, rows: 30, columns: 6)
    #expect(abs(try #require(try CCASimilarity(tolerance: 1).value(y, y)) - 1) < 1e-12)
    #expect(try #require(try CCASimilarity(tolerance: 1).value(y, Self.data(11, rows: 30, columns: 6))) < 0.99)
  }

  @Test("a value null between layers that are not constant gets a warning saying why; a defined one none")
  func undefinedWarning() throws {
    let comparison = RepresentationComparison(measures: [RSASimilarity(), CKASimilarity()])
    let two = try comparison.compare(layersA: [Self.data(12, rows: 2, columns: 3)], namesA: ["x"],
                                     layersB: [Self.data(13, rows: 2, columns: 3)], namesB: ["y"])
    #expect(two.tables[0].values[0][0] == nil)
    #expect(two.warnings == ["rsa needs at least 3 examples, got 2: its values are null"])
    let ten = try comparison.compare(layersA: [Self.data(12, rows: 10, columns: 3)], namesA: ["x"],
                                     layersB: [Self.data(13, rows: 10, columns: 3)], namesB: ["y"])
    #expect(ten.tables[0].values[0][0] != nil)
    #expect(ten.warnings.isEmpty)
    // A tolerance above 1 (the library does not refuse it) keeps no direction: null, and said so.
    let strict = try RepresentationComparison(measures: [CCASimilarity(tolerance: 2)])
      .compare(layersA: [Self.data(12, rows: 10, columns: 3)], namesA: ["x"],
               layersB: [Self.data(13, rows: 10, columns: 3), Self.data(14, rows: 10, columns: 3)], namesB: ["y", "z"])
    #expect(strict.warnings == ["cca: no singular direction at or above 2 × the largest singular value: its values are null"])
  }

  @Test("the wide path (QR first) and the tall path agree on the singular values")
  func wideAndTall() throws {
    let x = Self.data(8, rows: 7, columns: 15)
    let wide = try LayerDecomposition(of: x), tall = try LayerDecomposition(of: x.transposed())
    // X̃ᵀ is not the transpose's centring, so compare with the centred matrix's own values.
    let centred = Matrix<Double>(rows: 7, columns: 15) { i, j in
      x[i, j] - (0..<7).reduce(0) { $0 + x[$1, j] } / 7
    }
    let reference = try centred.singularValues()
    for (a, b) in zip(wide.singularValues, reference) { #expect(abs(a - b) < 1e-10) }
    #expect(wide.rank(tolerance: 1e-6) == 6)
    #expect(tall.singularValues.count == 7)
  }

  @Test("average ranks share ties, and the centred ranks have unit norm")
  func ranks() {
    let r = RankedDissimilarities(of: Matrix([[0, 1, 2], [0, 2, 1], [5, 1, 0], [1, 1, 3]]))
    #expect(r.ranks.count == 6)
    #expect(abs(r.ranks.reduce(0) { $0 + $1 * $1 } - 1) < 1e-12)
    #expect(abs(r.ranks.reduce(0, +)) < 1e-12)
  }

  @Test("rsa keeps 2r − (N + 1) as 32-bit integers: average ranks of ties included, exactly")
  func doubledRanks() {
    // Values 0.3, 0.1, 0.3, 0.2: ranks 3.5, 1, 3.5, 2; doubled minus N + 1 = 5: 2, −3, 2, −1.
    let values = [0.3, 0.1, 0.3, 0.2]
    let order = values.indices.sorted { values[$0] < values[$1] }
    var c = [Int32](repeating: 99, count: 4)
    let squares = c.withUnsafeMutableBufferPointer {
      RankedDissimilarities.assignCentredDoubledRanks(count: 4, entry: { order[$0] },
                                                      equalsPrevious: { values[order[$0]] == values[order[$0 - 1]] }, into: $0)
    }
    #expect(c == [2, -3, 2, -1])
    #expect(squares == 18)
    // Control: without the tie, the two 0.3s take ranks 3 and 4.
    c.withUnsafeMutableBufferPointer {
      _ = RankedDissimilarities.assignCentredDoubledRanks(count: 4, entry: { order[$0] }, equalsPrevious: { _ in false }, into: $0)
    }
    #expect(c == [1, -3, 3, -1])
  }

  @Test("rsa and dcor refuse before reading when n² per layer does not fit the budget")
  func memoryBudget() throws {
    let comparison = RepresentationComparison(measures: [RSASimilarity(), CKASimilarity()])
    let small = MeasureSettings(memoryBudget: 1 << 20)
    #expect(throws: InputError.self) { try comparison.checkMemory(examples: 1000, layers: 4, settings: small) }
    try comparison.checkMemory(examples: 100, layers: 4, settings: small)
    try RepresentationComparison(measures: [CKASimilarity()]).checkMemory(examples: 100_000, layers: 4, settings: small)
  }

  @Test("1×1 and single-feature layers: nil where undefined, the closed form where not; empty throws")
  func edgeShapes() throws {
    let one = Matrix<Double>([[3]])
    for name in MeasureName.allCases where !name.measure().needs.contains(.neighbours) {
      #expect(try name.measure().value(one, one) == nil, "\(name)")
    }
    // Two single-feature columns: every linear measure reduces to |Pearson r| or r².
    let x = Matrix<Double>([[1], [2], [4], [7]]), y = Matrix<Double>([[2], [1], [5], [6]])
    let r = 0.8997354108424372  // numpy.corrcoef
    #expect(abs(try #require(try CKASimilarity().value(x, y)) - r * r) < 1e-12)
    #expect(abs(try #require(try CCASimilarity().value(x, y)) - r) < 1e-12)
    #expect(abs(try #require(try LinearRegressionSimilarity().value(x, y)) - r * r) < 1e-12)
    #expect(abs(try #require(try ProcrustesDistance().value(x, y)) - acos(r)) < 1e-12)
    #expect(throws: InputError.self) { try CKASimilarity().value(Matrix(zeros: 0, 3), Matrix(zeros: 0, 3)) }
  }

  @Test("different example counts are rejected")
  func mismatch() throws {
    #expect(throws: InputError.self) { try CKASimilarity().value(Self.data(1, rows: 5), Self.data(2, rows: 6)) }
  }
}
