import CompareCore
import Synchronization

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

  /// The tables, one per measure, and the warnings (constant layers, wide layers, values null
  /// for another reason).
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
                      namesB: [String], modelA: String = "A", modelB: String = "B",
                      settings: MeasureSettings = MeasureSettings()) throws -> Result {
    try compare(inputsA: layersA.map(LayerInput.init), namesA: namesA, inputsB: layersB.map(LayerInput.init),
                namesB: namesB, modelA: modelA, modelB: modelB, settings: settings)
  }

  /// The same, on layers each read by the worker that makes its representation, into a buffer
  /// that worker reuses (`LayerInput`). A layer's read error is thrown as it is; the first
  /// failing layer (A's first, in order) stops the comparison.
  ///
  /// `progress` is called, from any thread, with (done, total) steps as each layer is made and
  /// each pair measured (total: layers + pairs).
  public func compare(inputsA: [LayerInput], namesA: [String], inputsB: [LayerInput],
                      namesB: [String], modelA: String = "A", modelB: String = "B",
                      settings: MeasureSettings = MeasureSettings(),
                      progress: @Sendable (Int, Int) -> Void = { _, _ in }) throws -> Result {
    var warnings: [String] = []
    let linear = measures.contains { $0.fitsLinearMaps }
    let needs = measures.reduce(LayerNeeds()) { $0.union($1.needs) }
    try Self.checkMemory(needs: needs, examples: (inputsA + inputsB).first?.examples ?? 0,
                         layers: inputsA.count + inputsB.count, budget: settings.memoryBudget,
                         working: Swift.min(BLASThreads.count, inputsA.count + inputsB.count))
    // Every layer's decomposition at once over the cores, one BLAS thread each: they are
    // independent, and OpenBLAS's threads spin between mid-sized calls when cores are shared.
    // Each worker keeps its own work buffers (`LayerScratch`) from one layer to the next.
    let all = inputsA + inputsB
    let steps = all.count + inputsA.count * inputsB.count, done = Atomic<Int>(0)
    let made = Mutex<[Int: Swift.Result<LayerRepresentation, any Error>]>([:])
    let neighbours = settings.neighbours
    BLASWorkers.forEachIndex(all.count, state: LayerScratch.init) { index, scratch in
      let r = Swift.Result {
        try LayerRepresentation(of: try all[index].matrix(using: &scratch.input), needs: needs,
                                neighbours: neighbours, scratch: scratch)
      }
      made.withLock { $0[index] = r }
      progress(done.add(1, ordering: .relaxed).newValue, steps)
      return r.isSuccess
    }
    func represent(_ offset: Int, _ names: [String], _ model: String) throws -> [LayerRepresentation] {
      try names.enumerated().map { position, name in
        let r: LayerRepresentation
        do {
          // A layer is missing only after an earlier one failed, whose error was thrown.
          guard let result = made.withLock({ $0[offset + position] }) else {
            throw InputError("not made after an earlier layer failed")
          }
          r = try result.get()
        } catch let error as InputError {
          throw InputError("layer '\(name)' of \(model): \(error.message)")
        }
        if r.isConstant {
          warnings.append("layer '\(name)' of \(model) is constant: its values are null")
        } else if linear, let spectrum = r.spectrum,
                  spectrum.rank(tolerance: MeasureSettings.defaultTolerance) >= r.examples - 1 {
          // The centred columns span every direction orthogonal to 1 (rank n − 1): any other
          // layer then lies in that span.
          warnings.append("layer '\(name)' of \(model) has \(r.examples) examples for \(r.features) features: CCA-type measures (cca, svcca, pwcca, linreg) are trivially 1 there; use more examples or svcca")
        }
        return r
      }
    }
    let a = try represent(0, namesA, modelA), b = try represent(inputsA.count, namesB, modelB)
    // Every pair at once over the cores too, one BLAS thread each (each pair's cross product and
    // the measures' small decompositions), then assembled in order.
    let measures = self.measures
    let outcomes = Mutex<[Int: Swift.Result<PairOutcome, any Error>]>([:])
    BLASWorkers.forEachIndex(a.count * b.count, state: { () }) { q, _ in
      let r = Swift.Result { try PairOutcome(a[q / b.count], b[q % b.count], measures: measures) }
      outcomes.withLock { $0[q] = r }
      progress(done.add(1, ordering: .relaxed).newValue, steps)
      return r.isSuccess
    }
    var values = [[[Double?]]](repeating: [[Double?]](repeating: [Double?](repeating: nil, count: b.count),
                                                       count: a.count), count: measures.count)
    var tiedPairs: [String] = []
    // Per measure, the reasons its value is null between layers that are not constant, each
    // with the pairs it concerns, in order.
    var undefined = [[(reason: String, pairs: [String])]](repeating: [], count: measures.count)
    for i in a.indices {
      for j in b.indices {
        guard let result = outcomes.withLock({ $0[i * b.count + j] }) else { continue }
        let outcome = try result.get()
        let name = "\(namesA[i]) × \(namesB[j])"
        for k in measures.indices {
          values[k][i][j] = outcome.values[k]
          if let reason = outcome.reasons[k] {
            if let r = undefined[k].firstIndex(where: { $0.reason == reason }) {
              undefined[k][r].pairs.append(name)
            } else {
              undefined[k].append((reason, [name]))
            }
          }
        }
        if outcome.tied { tiedPairs.append(name) }
      }
    }
    let pairs = a.count * b.count
    for (reason, names) in undefined.joined() {
      warnings.append(names.count == pairs
        ? "\(reason): its values are null"
        : "\(reason): null for \(names.count) pair\(names.count == 1 ? "" : "s") (\(names[0])\(names.count > 1 ? ", ..." : ""))")
    }
    if let first = tiedPairs.first {
      let n = a.first?.examples ?? 0
      warnings.append("pwcca: the layers' ranks add up to more than the \(n) examples for \(tiedPairs.count) pair\(tiedPairs.count == 1 ? "" : "s") (\(first)\(tiedPairs.count > 1 ? ", ..." : "")): several canonical correlations are exactly 1 and their weights are not unique, so those values can move in the 4th digit with the BLAS library or its thread count; more examples make them well defined")
    }
    let tables = measures.indices.map { k in
      Table(name: measures[k].name, direction: measures[k].direction,
            parameters: measures[k].parameters, values: values[k])
    }
    return Result(tables: tables, warnings: warnings)
  }

  /// One pair's values, one per measure (`nil` where undefined or not finite), why each `nil`
  /// is undefined when neither layer is constant, and whether pwcca's weights are tied.
  struct PairOutcome: Sendable {
    var values: [Double?]
    var reasons: [String?]
    var tied = false

    init(_ a: LayerRepresentation, _ b: LayerRepresentation, measures: [any SimilarityMeasure]) throws {
      let pair = try LayerPair(a, b)
      values = []
      reasons = []
      for measure in measures {
        let v = try measure.value(pair)
        let value = v.flatMap { $0.isFinite ? $0 : nil }
        values.append(value)
        reasons.append(value == nil && !a.isConstant && !b.isConstant
                       ? measure.whyUndefined(pair) ?? "\(measure.name) is undefined for these layers" : nil)
        // Ranks adding up to more than n: the column spaces share that many directions, as
        // many canonical correlations are exactly 1, and any basis of the shared space is a
        // valid set of variates, over which pwcca's weights are not unique.
        // (By rank, not by feature count: 128 features of rank 107 on 120 examples are such a
        // layer. A layer of rank n − 1 has its own warning: every value is 1 there.)
        if let pwcca = measure as? PWCCASimilarity, v != nil {
          let n = a.examples
          let rx = pair.x.rank(tolerance: pwcca.tolerance), ry = pair.y.rank(tolerance: pwcca.tolerance)
          if rx + ry > n, rx < n - 1, ry < n - 1 { tied = true }
        }
      }
    }
  }

  /// rsa and dcor keep an n×n matrix's upper triangle per layer (with an n×n Gram matrix per
  /// worker while layers are made): refuse before reading when that does not fit.
  ///
  /// - Throws: `InputError` suggesting how many examples fit.
  public func checkMemory(examples: Int, layers: Int, settings: MeasureSettings) throws {
    try Self.checkMemory(needs: measures.reduce(LayerNeeds()) { $0.union($1.needs) }, examples: examples,
                         layers: layers, budget: settings.memoryBudget)
  }

  /// `working`: layers made at once, each worker with an n×n Gram matrix (where rsa also sorts)
  /// beside the triangles the layers keep.
  static func checkMemory(needs: LayerNeeds, examples n: Int, layers: Int, budget: Int, working: Int = 1) throws {
    var perLayer = 0.0, perWorker = 0.0
    let n2 = Double(n) * Double(n)
    if needs.contains(.dissimilarities) { perLayer += n2 / 2 * 8; perWorker = n2 * 8 }
    if needs.contains(.distances) { perLayer += n2 / 2 * 8; perWorker = Swift.max(perWorker, n2 * 8) }
    let total = perLayer * Double(layers) + Double(Swift.max(working, 1)) * perWorker
    guard total <= Double(budget) else {
      let gib = { (b: Double) in Format.fixed(b / Double(1 << 30), 1) + " GiB" }
      let room = Int((Double(budget) / ((perLayer * Double(layers) + Double(Swift.max(working, 1)) * perWorker) / n2 * 1.5)).squareRoot())
      throw InputError("rsa and dcor keep n(n−1)/2 values per layer: \(n) examples × \(layers) layers need \(gib(total)), more than the \(gib(Double(budget))) budget; compare fewer examples (--examples \(room) fits)")
    }
  }
}

extension Swift.Result {
  /// Whether this is a success.
  fileprivate var isSuccess: Bool {
    if case .success = self { return true }
    return false
  }
}
