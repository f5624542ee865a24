import CompareCore

/// CKA between every layer of model A (rows) and every layer of model B (columns), with the
/// HSIC sums it was computed from.
///
///     CKA(Aᵢ, Bⱼ) = HSIC(Aᵢ, Bⱼ) / √(HSIC(Aᵢ, Aᵢ) · HSIC(Bⱼ, Bⱼ))
///
/// A value is a similarity: 1 for representations equal up to rotation and isotropic scaling,
/// near 0 for unrelated ones; unbiased estimates can fall slightly below 0. A layer whose HSIC
/// with itself is not positive (a constant layer: every example maps to the same point) has
/// no CKA: its row or column is NaN and `warnings` says so.
public struct SimilarityMatrix: Sendable, Equatable {
  /// Name of the model whose layers are the rows.
  public let modelA: String
  /// Name of the model whose layers are the columns.
  public let modelB: String
  /// Row labels: model A's layers, in order.
  public let layersA: [String]
  /// Column labels: model B's layers, in order.
  public let layersB: [String]
  /// HSIC(Aᵢ, Bⱼ), `layersA.count × layersB.count`: a sum over batches for the minibatch
  /// estimator, the single full-batch value otherwise.
  public let hsic: Matrix<Double>
  /// HSIC(Aᵢ, Aᵢ) for each layer of A.
  public let hsicA: [Double]
  /// HSIC(Bⱼ, Bⱼ) for each layer of B.
  public let hsicB: [Double]
  /// CKA, `layersA.count × layersB.count`; NaN in the rows and columns of undefined layers.
  public let values: Matrix<Double>

  /// A matrix from HSIC values (sums over batches, or full-batch values); computes `values`.
  /// - Throws: `InputError` when the shapes disagree with the label counts.
  public init(modelA: String, modelB: String, layersA: [String], layersB: [String],
              hsic: Matrix<Double>, hsicA: [Double], hsicB: [Double]) throws {
    guard hsic.rows == layersA.count, hsic.columns == layersB.count,
          hsicA.count == layersA.count, hsicB.count == layersB.count else {
      throw InputError("HSIC values of shape \(hsic.shapeDescription), \(hsicA.count) and \(hsicB.count) do not fit \(layersA.count) × \(layersB.count) layers")
    }
    self.modelA = modelA
    self.modelB = modelB
    self.layersA = layersA
    self.layersB = layersB
    self.hsic = hsic
    self.hsicA = hsicA
    self.hsicB = hsicB
    values = Matrix(rows: layersA.count, columns: layersB.count) { i, j in
      guard hsicA[i] > 0, hsicB[j] > 0 else { return .nan }
      return hsic[i, j] / (hsicA[i].squareRoot() * hsicB[j].squareRoot())
    }
  }

  /// CKA between layer `row` of A and layer `column` of B.
  public subscript(row: Int, column: Int) -> Double { values[row, column] }

  /// The matrix as rows of A, for JSON and tables.
  public var rows: [[Double]] { (0..<values.rows).map { values.row($0) } }

  /// Layers of A whose CKA is undefined (HSIC with itself ≤ 0, or not finite).
  public var undefinedLayersA: [String] {
    zip(layersA, hsicA).filter { !($0.1 > 0) }.map(\.0)
  }

  /// Layers of B whose CKA is undefined.
  public var undefinedLayersB: [String] {
    zip(layersB, hsicB).filter { !($0.1 > 0) }.map(\.0)
  }

  /// One line per undefined layer, naming it and why its row or column is NaN.
  public var warnings: [String] {
    func lines(_ model: String, _ layers: [String], _ values: [Double], _ what: String) -> [String] {
      zip(layers, values).compactMap { layer, h in
        guard !(h > 0) else { return nil }
        let reason = h == 0 ? "is constant (HSIC with itself is 0)"
                            : "has a non-positive HSIC with itself (\(Format.general(h, 3)))"
        return "layer '\(layer)' of \(model) \(reason): its CKA is undefined, the \(what) is NaN"
      }
    }
    return lines(modelA, layersA, hsicA, "row") + lines(modelB, layersB, hsicB, "column")
  }

  /// For each layer of A, the layer of B most similar to it (ties: the first), skipping NaN.
  /// `nil` layer when the whole row is undefined.
  public var bestMatches: [(layerA: String, layerB: String?, similarity: Double)] {
    layersA.indices.map { i in
      var best: (Int, Double)?
      for j in layersB.indices where values[i, j].isFinite {
        if best == nil || values[i, j] > best!.1 { best = (j, values[i, j]) }
      }
      return (layersA[i], best.map { layersB[$0.0] }, best?.1 ?? .nan)
    }
  }

  /// Equal labels and HSIC values (NaN CKA cells do not make two matrices unequal).
  public static func == (a: SimilarityMatrix, b: SimilarityMatrix) -> Bool {
    a.modelA == b.modelA && a.modelB == b.modelB && a.layersA == b.layersA
      && a.layersB == b.layersB && a.hsic == b.hsic && a.hsicA == b.hsicA && a.hsicB == b.hsicB
  }
}
