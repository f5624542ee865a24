import CompareCore
import Synchronization

/// Whether a measure grows (`similarity`) or shrinks (`distance`) as two representations agree.
public enum MeasureDirection: String, Sendable {
  case similarity
  case distance
}

/// A measure of how alike two representations of the same examples are.
///
/// Each measure reads the two layers' `LayerDecomposition`s (made once per layer) and their
/// `LayerPair` cross product (made once per pair), so a table of many measures costs one
/// decomposition per layer and one small product per pair.
public protocol SimilarityMeasure: Sendable {
  /// The name in `--measure` and in JSON (`cka`, `cca_r2`, …).
  var name: String { get }
  /// Whether larger means more alike.
  var direction: MeasureDirection { get }
  /// The settings that change the value, as JSON reports them.
  var parameters: [(String, Double)] { get }
  /// Whether the measure compares canonical correlations or regressions, which become trivially
  /// 1 when a layer has at least as many features as examples.
  var fitsLinearMaps: Bool { get }
  /// The parts of each layer the measure reads.
  var needs: LayerNeeds { get }
  /// The value for one pair of layers, or `nil` when it is undefined (a constant layer).
  func value(_ pair: LayerPair) throws -> Double?
  /// Why `examples` examples are too few for `value` (which would throw), or `nil` when they
  /// suffice: callers that know the files check before reading them.
  func tooFewExamples(_ examples: Int) -> String?
  /// Why `value(pair)` is `nil` for two layers that are not constant, for the warning that says
  /// so (a constant layer has a warning of its own); `nil` when no reason is known.
  func whyUndefined(_ pair: LayerPair) -> String?
}

extension SimilarityMeasure {
  public var fitsLinearMaps: Bool { false }
  public var needs: LayerNeeds { .spectrum }
  public func tooFewExamples(_ examples: Int) -> String? { nil }
  public func whyUndefined(_ pair: LayerPair) -> String? { nil }

  /// The value between two activation matrices, `examples × features` each, same examples,
  /// with k-NN lists of `neighbours` where the measure uses them.
  ///
  /// - Throws: `InputError` for empty or non-finite input or different example counts.
  public func value(_ x: Matrix<Double>, _ y: Matrix<Double>,
                    neighbours: Int = MeasureSettings.defaultNeighbours) throws -> Double? {
    try value(LayerPair(try LayerRepresentation(of: x, needs: needs, neighbours: neighbours),
                        try LayerRepresentation(of: y, needs: needs, neighbours: neighbours)))
  }
}

/// Two layers' decompositions and the cross product of their singular bases,
///
///     M = U_Xᵀ U_Y   (m_X × m_Y, one GEMM),
///
/// from which every measure here follows: X̃ᵀỸ = V_X Σ_X M Σ_Y V_Yᵀ has the Frobenius and
/// nuclear norms of Σ_X M Σ_Y, and the canonical correlations are the singular values of M's
/// leading block.
public struct LayerPair: Sendable {
  /// The row layer and the column layer.
  public let a: LayerRepresentation
  public let b: LayerRepresentation
  /// U_Xᵀ U_Y, when both layers have their spectrum (empty otherwise).
  public let cross: Matrix<Double>
  /// Decompositions that several measures of this pair read (cca and cca_r2, svcca where its
  /// directions are the ranks, procrustes and its Euclidean form): made once.
  let shared = SharedDecompositions()
  /// Buffers for the measures' small decompositions: the worker's, reused pair after pair.
  let scratch: PairScratch

  /// - Throws: `InputError` if the example counts differ.
  public init(_ a: LayerRepresentation, _ b: LayerRepresentation) throws {
    try self.init(a, b, scratch: PairScratch())
  }

  /// The same, with the cross product made in `scratch`'s buffer and the measures' SVDs in its
  /// workspace (`PairScratch.recycle` takes the buffer back when the pair is done).
  package init(_ a: LayerRepresentation, _ b: LayerRepresentation, scratch: PairScratch) throws {
    guard a.examples == b.examples else {
      throw InputError("the layers have \(a.examples) and \(b.examples) examples; they must be the same examples")
    }
    self.a = a
    self.b = b
    self.scratch = scratch
    if let x = a.spectrum, let y = b.spectrum {
      cross = Matrix.product(x.leftVectorsTransposed, transposed: false, y.leftVectorsTransposed, transposed: true,
                             into: scratch.takeCross())
    } else {
      cross = Matrix(zeros: 0, 0)
    }
  }

  /// The row layer's spectrum (measures that read it declare `.spectrum` in `needs`).
  public var x: LayerDecomposition {
    guard let s = a.spectrum else { preconditionFailure("the measure did not declare .spectrum") }
    return s
  }

  /// The column layer's spectrum.
  public var y: LayerDecomposition {
    guard let s = b.spectrum else { preconditionFailure("the measure did not declare .spectrum") }
    return s
  }

  /// The leading `rows × columns` block of the cross product.
  public func block(rows: Int, columns: Int) -> Matrix<Double> {
    Matrix(rows: rows, columns: columns) { i, j in cross[i, j] }
  }

  /// Calls `fill` with each entry (i, j) of Σ_X M Σ_Y, whose singular values are those of X̃ᵀỸ,
  /// row by row.
  func forEachScaledCross(_ fill: (Int, Int, Double) -> Void) {
    let sx = x.singularValues, sy = y.singularValues, q = cross.columns
    cross.elements.withUnsafeBufferPointer { m in
      for i in 0..<cross.rows { for j in 0..<q { fill(i, j, sx[i] * m[i * q + j] * sy[j]) } }
    }
  }

  /// ‖Σ_X M Σ_Y‖²_F = ‖X̃ᵀỸ‖²_F, without forming the matrix.
  func scaledCrossNormSquared() -> Double {
    var sum = 0.0
    forEachScaledCross { _, _, v in sum += v * v }
    return sum
  }

  /// The leading `rows × columns` block of the cross product, in the scratch's SVD workspace.
  func loadBlock(rows: Int, columns: Int) {
    let q = cross.columns
    cross.elements.withUnsafeBufferPointer { m in
      scratch.svd.load(rows: rows, columns: columns) { b in
        for i in 0..<rows { for j in 0..<columns { b[i * columns + j] = m[i * q + j] } }
      }
    }
  }

  /// The canonical correlations of the leading `rx` and `ry` directions, descending, in [0, 1].
  func canonicalCorrelations(rx: Int, ry: Int) throws -> [Double] {
    guard rx > 0, ry > 0 else { return [] }
    if let made = shared.correlations.withLock({ $0[rx << 32 | ry] }) { return made }
    loadBlock(rows: rx, columns: ry)
    let rho = try scratch.svd.singularValues(rows: rx, columns: ry).map { min(max($0, 0), 1) }
    shared.correlations.withLock { $0[rx << 32 | ry] = rho }
    return rho
  }

  /// The singular values of Σ_X M Σ_Y (those of X̃ᵀỸ), descending.
  func scaledCrossSingularValues() throws -> [Double] {
    if let made = shared.scaledCross.withLock({ $0 }) { return made }
    let q = cross.columns
    scratch.svd.load(rows: cross.rows, columns: q) { s in forEachScaledCross { i, j, v in s[i * q + j] = v } }
    let values = try scratch.svd.singularValues(rows: cross.rows, columns: q)
    shared.scaledCross.withLock { $0 = values }
    return values
  }
}

/// A pair's decompositions read by more than one measure, each made by the first that needs it
/// (the same call on the same matrix, so the values do not depend on which measures run).
final class SharedDecompositions: Sendable {
  /// Canonical correlations by `rx << 32 | ry`.
  let correlations = Mutex<[Int: [Double]]>([:])
  /// The singular values of Σ_X M Σ_Y.
  let scaledCross = Mutex<[Double]?>(nil)
}
