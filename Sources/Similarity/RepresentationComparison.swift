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
    try compare(inputsA: inputsA, namesA: namesA, inputsB: inputsB, namesB: namesB, modelA: modelA,
                modelB: modelB, settings: settings, streamingB: nil, progress: progress)
  }

  /// The same; `streamingB` forces B's layers to be kept (false) or made, compared and dropped
  /// one per worker (true) instead of choosing by the worker count (nil).
  package func compare(inputsA: [LayerInput], namesA: [String], inputsB: [LayerInput],
                       namesB: [String], modelA: String, modelB: String, settings: MeasureSettings,
                       streamingB: Bool?, progress: @Sendable (Int, Int) -> Void) throws -> Result {
    let linear = measures.contains { $0.fitsLinearMaps }
    let needs = measures.reduce(LayerNeeds()) { $0.union($1.needs) }
    // Model A's layers are made and kept; when there are enough of B's to keep every worker
    // busy, each of B's is made by a worker, compared with all of A's and dropped, its buffers
    // reused for the next (`transient`): only A's layers and one of B's per worker are held.
    let plan = Self.MemoryPlan(layersA: inputsA.count, layersB: inputsB.count, streaming: streamingB)
    let streamed = plan.streamed
    try Self.checkMemory(needs: needs, examples: (inputsA + inputsB).first?.examples ?? 0, plan: plan,
                         budget: settings.memoryBudget)
    // Every layer's decomposition at once over the cores, one BLAS thread each: they are
    // independent, and OpenBLAS's threads spin between mid-sized calls when cores are shared.
    // Each worker keeps its own work buffers (`LayerScratch`) from one layer to the next.
    let kept = streamed ? inputsA : inputsA + inputsB
    let steps = inputsA.count + inputsB.count + inputsA.count * inputsB.count, done = Atomic<Int>(0)
    let made = Mutex<[Int: Swift.Result<LayerRepresentation, any Error>]>([:])
    let neighbours = settings.neighbours
    // One scratch per worker, kept for B's layers too.
    let pool = WorkerStates(LayerScratch.init)
    BLASWorkers.forEachIndex(kept.count, state: pool.take) { index, scratch in
      let r = Swift.Result {
        try LayerRepresentation(of: try kept[index].matrix(using: &scratch.input), needs: needs,
                                neighbours: neighbours, scratch: scratch)
      }
      made.withLock { $0[index] = r }
      progress(done.add(1, ordering: .relaxed).newValue, steps)
      return r.isSuccess
    }
    /// The layer's warning (constant, or as many features as examples for the CCA family), or
    /// its error with the layer named.
    @Sendable func checked(_ result: Swift.Result<LayerRepresentation, any Error>?, _ name: String,
                           _ model: String) throws -> (LayerRepresentation, String?) {
      let r: LayerRepresentation
      do {
        // A layer is missing only after an earlier one failed, whose error was thrown.
        guard let result else { throw InputError("not made after an earlier layer failed") }
        r = try result.get()
      } catch let error as InputError {
        throw InputError("layer '\(name)' of \(model): \(error.message)")
      }
      if r.isConstant { return (r, "layer '\(name)' of \(model) is constant: its values are null") }
      if linear, let spectrum = r.spectrum, spectrum.rank(tolerance: MeasureSettings.defaultTolerance) >= r.examples - 1 {
        // The centred columns span every direction orthogonal to 1 (rank n − 1): any other
        // layer then lies in that span.
        return (r, "layer '\(name)' of \(model) has \(r.examples) examples for \(r.features) features: CCA-type measures (cca, svcca, pwcca, linreg) are trivially 1 there; use more examples or svcca")
      }
      return (r, nil)
    }
    var warnings: [String] = []
    func represent(_ offset: Int, _ names: [String], _ model: String) throws -> [LayerRepresentation] {
      try names.indices.map { position in
        let (r, warning) = try checked(made.withLock { $0[offset + position] }, names[position], model)
        if let warning { warnings.append(warning) }
        return r
      }
    }
    let a = try represent(0, namesA, modelA)
    // Every pair at once over the cores too, one BLAS thread each (each pair's cross product and
    // the measures' small decompositions), then assembled in order.
    let measures = self.measures
    let outcomes = Mutex<[Int: Swift.Result<PairOutcome, any Error>]>([:])
    let countB = inputsB.count
    if streamed {
      // One of B's layers per task: made, compared with every layer of A, dropped.
      let warningsB = Mutex<[Int: Swift.Result<String?, any Error>]>([:])
      pool.reset()
      BLASWorkers.forEachIndex(countB, state: pool.take) { j, scratch in
        let result = Swift.Result {
          try LayerRepresentation(of: try inputsB[j].matrix(using: &scratch.input), needs: needs,
                                  neighbours: neighbours, scratch: scratch, transient: true)
        }
        progress(done.add(1, ordering: .relaxed).newValue, steps)
        let layer: Swift.Result<(LayerRepresentation, String?), any Error> = Swift.Result {
          try checked(result, namesB[j], modelB)
        }
        warningsB.withLock { $0[j] = layer.map(\.1) }
        guard case .success(let (b, _)) = layer else { return false }
        var ok = true
        for i in a.indices where ok {
          let r = Swift.Result { try PairOutcome(a[i], b, measures: measures, scratch: scratch.pairs) }
          outcomes.withLock { $0[i * countB + j] = r }
          progress(done.add(1, ordering: .relaxed).newValue, steps)
          ok = r.isSuccess
        }
        var dropped: LayerRepresentation? = b
        scratch.recycle(&dropped)
        return ok
      }
      // B's layer errors first, in order, as when every layer is made before any pair.
      for j in 0..<countB {
        if let warning = try warningsB.withLock({ $0[j] })?.get() { warnings.append(warning) }
      }
    } else {
      let b = try represent(inputsA.count, namesB, modelB)
      pool.reset()
      BLASWorkers.forEachIndex(a.count * countB, state: pool.take) { q, scratch in
        let r = Swift.Result { try PairOutcome(a[q / countB], b[q % countB], measures: measures, scratch: scratch.pairs) }
        outcomes.withLock { $0[q] = r }
        progress(done.add(1, ordering: .relaxed).newValue, steps)
        return r.isSuccess
      }
    }
    var values = [[[Double?]]](repeating: [[Double?]](repeating: [Double?](repeating: nil, count: countB),
                                                       count: a.count), count: measures.count)
    var tiedPairs: [String] = []
    // Per measure, the reasons its value is null between layers that are not constant, each
    // with the pairs it concerns, in order.
    var undefined = [[(reason: String, pairs: [String])]](repeating: [], count: measures.count)
    for i in a.indices {
      for j in 0..<countB {
        guard let result = outcomes.withLock({ $0[i * countB + j] }) else { continue }
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
    let pairs = a.count * countB
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

    init(_ a: LayerRepresentation, _ b: LayerRepresentation, measures: [any SimilarityMeasure],
         scratch: PairScratch) throws {
      let pair = try LayerPair(a, b, scratch: scratch)
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
      scratch.recycle(consume pair)
    }
  }

  /// rsa and dcor keep an n×n matrix's upper triangle per layer (rsa with an n×n Gram matrix per
  /// worker while layers are made): refuse before reading when that does not fit. `layers` of
  /// both models, all counted as kept.
  ///
  /// - Throws: `InputError` suggesting how many examples fit.
  public func checkMemory(examples: Int, layers: Int, settings: MeasureSettings) throws {
    try Self.checkMemory(needs: measures.reduce(LayerNeeds()) { $0.union($1.needs) }, examples: examples,
                         plan: MemoryPlan(kept: layers, workers: 1, streamed: false), budget: settings.memoryBudget)
  }

  /// The same for a comparison of `layersA` layers with `layersB`, as `compare` holds them: A's
  /// layers kept, and B's each made, compared and dropped by a worker when there are at least as
  /// many as workers.
  public func checkMemory(examples: Int, layersA: Int, layersB: Int, settings: MeasureSettings) throws {
    try Self.checkMemory(needs: measures.reduce(LayerNeeds()) { $0.union($1.needs) }, examples: examples,
                         plan: MemoryPlan(layersA: layersA, layersB: layersB), budget: settings.memoryBudget)
  }

  /// Which layers a comparison holds at once.
  struct MemoryPlan {
    /// Layers made and kept for the whole comparison.
    var kept: Int
    /// Layers made at once, each worker with its n×n Gram matrices.
    var workers: Int
    /// Whether B's layers are made one per worker, compared and dropped.
    var streamed: Bool

    init(kept: Int, workers: Int, streamed: Bool) {
      (self.kept, self.workers, self.streamed) = (kept, workers, streamed)
    }

    init(layersA: Int, layersB: Int, streaming: Bool? = nil) {
      workers = Swift.max(1, Swift.min(BLASThreads.count, layersA + layersB))
      streamed = streaming ?? (layersB >= Swift.max(workers, 2))
      kept = streamed ? layersA : layersA + layersB
    }
  }

  /// Each kept layer holds n(n−1)/2 values per quadratic measure (rsa's 32-bit ranks, dcor's
  /// float64 distances, packed with their diagonal). For rsa each worker has an n×n Gram matrix
  /// (where it also sorts, and where a transient layer's ranks stay); dcor makes its triangle in
  /// place, so a worker needs only, streaming, the packed triangle of the layer it holds.
  static func checkMemory(needs: LayerNeeds, examples n: Int, plan: MemoryPlan, budget: Int) throws {
    let rsa = needs.contains(.dissimilarities), dcor = needs.contains(.distances)
    guard rsa || dcor else { return }
    let n2 = Double(n) * Double(n)
    let perLayer = n2 / 2 * Double((rsa ? 4 : 0) + (dcor ? 8 : 0))
    let perWorker = (rsa ? n2 * 8 : 0) + (dcor && plan.streamed ? n2 / 2 * 8 : 0)
    let total = perLayer * Double(plan.kept) + Double(plan.workers) * perWorker
    guard total <= Double(budget) else {
      let gib = { (b: Double) in Format.fixed(b / Double(1 << 30), 1) + " GiB" }
      let room = Int((Double(budget) / (total / n2 * 1.5)).squareRoot())
      throw InputError("rsa and dcor keep n(n−1)/2 values per layer: \(n) examples × \(plan.kept) layers need \(gib(total)), more than the \(gib(Double(budget))) budget; compare fewer examples (--examples \(room) fits)")
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
