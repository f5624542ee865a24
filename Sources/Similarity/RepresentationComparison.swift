import CompareCore

/// Several similarity measures between every layer of one model and every layer of another,
/// each layer decomposed once and each pair's cross product made once for all the measures.
///
/// ```swift
/// let comparison = RepresentationComparison(measures: [CKASimilarity(), CCASimilarity()])
/// let tables = try comparison.compare(layersA: a, namesA: ["fc1", "fc2"], layersB: b, namesB: ["conv1"])
/// print(tables.tables[0].values)   // rows: A's layers, columns: B's
/// ```
public struct RepresentationComparison: Sendable {
  /// The measures, in output order.
  public var measures: [any SimilarityMeasure]

  public init(measures: [any SimilarityMeasure]) { self.measures = measures }

  /// One measure's values over all layer pairs.
  public struct Table: Sendable {
    public var name: String
    public var direction: MeasureDirection
    public var parameters: [(String, Double)]
    /// Rows: model A's layers; columns: model B's. `nil` where the measure is undefined.
    public var values: [[Double?]]
  }

  /// The tables, one per measure, and the warnings (constant layers, wide layers).
  public struct Result: Sendable {
    public var tables: [Table]
    public var warnings: [String]
  }

  /// Compares `layersA` (each `examples × features`) with `layersB`, same examples in the same
  /// order. `namesA`/`namesB` only label the warnings.
  ///
  /// - Throws: `InputError` for empty or non-finite layers or different example counts;
  ///   `LinearAlgebraError` if a decomposition fails.
  /// - Complexity: one decomposition per layer, one GEMM of m_A × n × m_B per pair, then each
  ///   measure's own (small) cost.
  public func compare(layersA: [Matrix<Double>], namesA: [String], layersB: [Matrix<Double>],
                      namesB: [String], modelA: String = "A", modelB: String = "B") throws -> Result {
    var warnings: [String] = []
    let linear = measures.contains { $0.fitsLinearMaps }
    func decompose(_ layers: [Matrix<Double>], _ names: [String], _ model: String) throws -> [LayerDecomposition] {
      try zip(layers, names).map { layer, name in
        let d: LayerDecomposition
        do { d = try LayerDecomposition(of: layer) } catch let error as InputError {
          throw InputError("layer '\(name)' of \(model): \(error.message)")
        }
        if d.isConstant {
          warnings.append("layer '\(name)' of \(model) is constant: its values are null")
        } else if linear, d.examples <= d.features {
          warnings.append("layer '\(name)' of \(model) has \(d.examples) examples for \(d.features) features: CCA-type measures (cca, svcca, pwcca, linreg) are trivially 1 there; use more examples or svcca")
        }
        return d
      }
    }
    let a = try decompose(layersA, namesA, modelA), b = try decompose(layersB, namesB, modelB)
    var values = [[[Double?]]](repeating: [[Double?]](repeating: [Double?](repeating: nil, count: b.count),
                                                       count: a.count), count: measures.count)
    for i in a.indices {
      for j in b.indices {
        let pair = try LayerPair(a[i], b[j])
        for (k, measure) in measures.enumerated() {
          let v = try measure.value(pair)
          values[k][i][j] = v.flatMap { $0.isFinite ? $0 : nil }
        }
      }
    }
    let tables = measures.indices.map { k in
      Table(name: measures[k].name, direction: measures[k].direction,
            parameters: measures[k].parameters, values: values[k])
    }
    return Result(tables: tables, warnings: warnings)
  }
}
