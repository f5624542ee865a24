import CompareCore
import Dispatch
import Synchronization

/// Settings of an ESD analysis; the defaults are the reference tool's
/// `analyze(randomize=True, mp_fit=True)`.
public struct ESDOptions: Sendable {
  /// Layers with fewer eigenvalues (M·rf pooled, M per slice) are skipped, and listed.
  public var minEvals = 8
  /// Pool a conv layer's kh·kw slices into one ESD (`false`: one row per slice).
  public var pool = true
  /// The reference's `conv2d_norm`: conv eigenvalues × 1/2 when pooled (× rf/2 per slice
  /// with pooling off, as the reference does).
  public var convNorm = true
  /// The 1/N convention: every eigenvalue divided by N (the ESD of WᵀW/N).
  public var normalize = false
  /// Shuffle W: `rand_distance`, `max_rand_eval`, `ww_softrank`, `ww_maxdist`, `rand_*`.
  public var randomize = true
  /// Marchenko–Pastur fits (`bulk_max`, `num_spikes`, `mp_softrank`, and `rand_*`).
  public var mpFit = true
  /// How W's random counterpart is made (shuffled elements, or a Gaussian of W's shape,
  /// mean and variance).
  public var randMethod = RandomizationMethod.shuffle
  /// Shuffles averaged into `rand_distance` (its standard deviation is reported).
  public var randRepeats = 1
  /// Seed of the shuffles (mixed with each layer's name).
  public var seed: UInt64 = 0
  /// Analyse W − W0 instead of W (needs `WeightLayer.loadInit`).
  public var delta = false
  /// How eigenvalues are computed.
  public var solver = EigenvalueSolver()
  /// Layers with more elements than this are analysed one at a time with threaded BLAS;
  /// smaller ones in parallel, single-threaded BLAS each.
  public var parallelLimit = 1 << 22

  public init() {}
}

/// Computes the ESD table of a model's layers (see `LayerReport` for the columns).
///
/// Small layers run in parallel (`DispatchQueue.concurrentPerform`, one BLAS thread each);
/// large ones run one at a time with OpenBLAS threading inside each call (with one BLAS
/// thread, they join the parallel part, started first). OpenBLAS's thread
/// count is process-wide: it is set to 1 during the parallel part and restored after, which
/// other BLAS work running at the same time in the process also sees. Each layer is read
/// when its turn comes and released after, so memory is bounded by a few layers.
public struct ESDAnalyzer: Sendable {
  public var options: ESDOptions

  public init(options: ESDOptions = ESDOptions()) { self.options = options }

  /// Analyses every layer, in the given order.
  ///
  /// - Parameter progress: Called after each layer with the number finished and its name
  ///   (from any thread).
  /// - Returns: The rows of each layer (one, or one per slice with pooling off).
  /// - Throws: The first error in layer order: `InputError` for NaN/∞ weights or an init whose
  ///   shape differs, a loader's error. A decomposition that does not converge is not thrown:
  ///   that layer's row is `failed` and says so.
  public func analyze(_ layers: [WeightLayer],
                      progress: @escaping @Sendable (Int, String) -> Void = { _, _ in }) throws -> [[LayerReport]] {
    let results = Mutex<[Int: Result<[LayerReport], any Error>]>([:])
    let done = Mutex(0)
    // With a single BLAS thread a large layer gains nothing from running alone: it joins the
    // parallel part, first, so that it overlaps the small ones instead of following them.
    let limit = BLASThreads.count > 1 ? options.parallelLimit : Int.max
    let large = layers.indices.filter { layers[$0].count > limit }
    let small = layers.indices.filter { layers[$0].count > options.parallelLimit && layers[$0].count <= limit }
      + layers.indices.filter { layers[$0].count <= options.parallelLimit }
    let run: @Sendable (Int) -> Void = { index in
      let result = Result { try self.analyze(layers[index]) }
      results.withLock { $0[index] = result }
      let count = done.withLock { $0 += 1; return $0 }
      progress(count, layers[index].name)
    }
    if !small.isEmpty {
      let threads = BLASThreads.count
      BLASThreads.set(1)
      DispatchQueue.concurrentPerform(iterations: small.count) { run(small[$0]) }
      BLASThreads.set(threads)
    }
    for index in large { run(index) }
    return try layers.indices.map { index in
      try results.withLock { $0[index]! }.get()
    }
  }

  /// Analyses one layer.
  /// - Throws: `InputError` for a NaN/∞ element (naming the layer and position) or an init of
  ///   another shape.
  public func analyze(_ layer: WeightLayer) throws -> [LayerReport] {
    guard layer.shape.count == 2 || layer.shape.count == 4, layer.count > 0 else {
      throw InputError("layer '\(layer.name)': expected a non-empty 2-D or 4-D weight, got shape \(layer.shape)")
    }
    let rf = layer.rf, n = layer.n, m = layer.m
    let evalsPerRow = options.pool ? m * rf : m
    func blank(_ slice: Int?) -> LayerReport {
      LayerReport(name: layer.name, kind: layer.kind, sliceIndex: slice, n: n, m: m, rf: options.pool ? rf : 1)
    }
    let sliceIDs: [Int?] = options.pool || rf == 1 ? [nil] : Array(0..<rf)
    if evalsPerRow < options.minEvals {
      return sliceIDs.map { id in
        var r = blank(id)
        r.status = .skipped
        r.reason = "\(evalsPerRow) eigenvalues < --min-evals \(options.minEvals)"
        return r
      }
    }
    var elements = try layer.load()
    try check(elements, layer: layer, what: "weight")
    var initial: [Double]?
    if let loadInit = layer.loadInit {
      let w0 = try loadInit()
      guard w0.count == elements.count else {
        throw InputError("layer '\(layer.name)': init has \(w0.count) elements, the model \(elements.count)")
      }
      try check(w0, layer: layer, what: "init weight")
      initial = w0
    } else if options.delta {
      throw InputError("layer '\(layer.name)': --delta needs the init model's layer")
    }
    var distance: InitDistance?
    if let initial {
      let cols = layer.count / layer.shape[0]
      distance = try InitDistance(Matrix(rows: layer.shape[0], columns: cols, elements: elements),
                                  from: Matrix(rows: layer.shape[0], columns: cols, elements: initial))
      if options.delta {
        for i in elements.indices { elements[i] -= initial[i] }
      }
    }
    let slices = layer.slices(of: elements)
    elements = []
    var scale = 1.0
    if layer.kind == .conv2d && options.convNorm { scale = options.pool ? 0.5 : Double(rf) / 2 }
    if options.normalize { scale /= Double(n) }
    let groups: [[[Double]]] = options.pool ? [slices] : slices.map { [$0] }
    let seedBase = layerSeed(options.seed, name: layer.name)
    return groups.enumerated().map { g, group in
      var report = blank(sliceIDs.count > 1 ? g : nil)
      report.initDistance = distance
      do {
        try fill(&report, slices: group, shape: layer.sliceShape, scale: scale,
                 seed: sliceIDs.count > 1 ? layerSeed(seedBase, name: "\(g)") : seedBase)
      } catch let error as LinearAlgebraError {
        report.status = .failed
        report.reason = error.description
      } catch {
        report.status = .failed
        report.reason = "\(error)"
      }
      return report
    }
  }

  func check(_ values: [Double], layer: WeightLayer, what: String) throws {
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw InputError("layer '\(layer.name)': \(what) has a non-finite value (\(values[bad])) at \(layer.position(of: bad))")
    }
  }

  /// Computes every column of one row from its slices.
  func fill(_ report: inout LayerReport, slices: [[Double]], shape: (rows: Int, columns: Int),
            scale: Double, seed: UInt64) throws {
    let spectrum = Spectrum(
      eigenvalues: try Spectrum.pooledEigenvalues(of: slices, shape: shape, scale: scale, solver: options.solver),
      n: report.n, m: report.m, rf: slices.count)
    report.spectrum = spectrum
    guard spectrum.lambdaMax > 0 else {
      report.status = .failed
      report.reason = "all eigenvalues are zero: entropy, alpha and the MP fit are undefined"
      return
    }
    var problems: [String] = []
    do { report.powerLaw = try PowerLawFit(eigenvalues: spectrum.eigenvalues) } catch {
      problems.append("\(error)")
    }
    if options.mpFit {
      do { report.marchenkoPastur = try MarchenkoPasturFit(eigenvalues: spectrum.eigenvalues, n: report.n, m: report.m) } catch {
        problems.append("\(error)")
      }
    }
    if options.randomize {
      // The reference pools 5 shuffles for its random MP fit when M·rf < 100.
      let replicas = report.m * report.rf < 100 ? 5 : 1
      let shuffles = Swift.max(options.randRepeats, replicas)
      var rng = SplitMix64(seed: seed)
      var work = slices
      var pooled: [Double] = []
      for k in 0..<shuffles {
        let rand = try randomizedEigenvalues(&work, method: options.randMethod, shape: shape, scale: scale,
                                             using: &rng, solver: options.solver)
        if k < options.randRepeats { report.randDistances.append(jensenShannonDistance(spectrum.eigenvalues, rand)) }
        if k == 0 { report.firstRandomEigenvalues = rand }
        if k < replicas { pooled.append(contentsOf: rand) }
      }
      pooled.sort()
      report.randomEigenvalues = pooled
      if options.mpFit {
        report.randomMarchenkoPastur = try? MarchenkoPasturFit(eigenvalues: pooled, n: report.n, m: report.m)
      }
    }
    if !problems.isEmpty {
      report.status = .failed
      report.reason = problems.joined(separator: "; ")
    }
  }
}
