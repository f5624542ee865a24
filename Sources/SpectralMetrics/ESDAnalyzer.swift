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
  /// `weak_rank_loss` counts eigenvalues below this (the reference's default tolerance).
  public var tolerance = 1e-6
  /// How 3-D weights are read: stacked experts or conv1d kernels (see `ThreeDimensionalRule`).
  public var threeDimensional = ThreeDimensionalRule.auto
  /// Bootstrap resamples behind `alpha_ci_low`, `alpha_ci_high` (0: no interval; see
  /// `AlphaConfidenceInterval`).
  public var alphaResamples = 0
  /// Coverage of the alpha interval, in (0, 1).
  public var confidence = 0.95
  /// Synthetic samples of the goodness-of-fit test `pl_p_value` (see `PowerLawGoodnessOfFit`);
  /// also turns on the likelihood ratio tests `pl_vs_*` (see `LikelihoodRatioTest`). 0: off.
  public var powerLawTestSamples = 0
  /// The distribution fitted to the tail (`fit=`): PL, TPL (adds `Lambda`) or E_TPL.
  public var fit = PowerLawFitKind.powerLaw
  /// How the tail's outlying largest eigenvalues are handled (`fix_fingers=`); none by default.
  public var fixFingers: FingerFix?
  /// Upper end of the xmin search with `xmin_peak` or `E_TPL` (default 1.5 × the ESD's peak).
  public var xminMax: Double?
  /// The detX constraint (`detX_num`, `detX_val`, `detX_val_unrescaled`, `num_ERG_spikes`,
  /// `ERG_gap`).
  public var detX = false

  public init() {}

  /// Throws `InputError` for a combination the reference tool refuses too (E_TPL is TPL with
  /// `xmin_peak`, so it cannot clip), or an `xminMax` that is not positive.
  public func validate() throws {
    if fit == .extendedTruncatedPowerLaw && fixFingers == .clipXmax {
      throw InputError("fit \(fit.rawValue) cannot be combined with fix_fingers clip_xmax (clip_xmax fits a power law)")
    }
    if let xminMax, !(xminMax > 0 && xminMax.isFinite) {
      throw InputError("xmin_max must be a positive number, got \(xminMax)")
    }
  }
}

/// Computes the ESD table of a model's layers (see `LayerReport` for the columns).
///
/// Small layers run in parallel (`DispatchQueue.concurrentPerform`, one BLAS thread each);
/// large ones run one at a time with OpenBLAS threading inside each call (with one BLAS
/// thread, they join the parallel part, started first). OpenBLAS's thread
/// count is process-wide: it is set to 1 during the parallel part and restored after, which
/// other BLAS work running at the same time in the process also sees. Each layer is read
/// when its turn comes and released after (stacked experts one expert at a time), so memory is
/// bounded by a few layers.
public struct ESDAnalyzer: Sendable {
  public var options: ESDOptions

  public init(options: ESDOptions = ESDOptions()) { self.options = options }

  /// Analyses every layer, in the given order.
  ///
  /// - Parameter progress: Called after each layer with the number finished and its name
  ///   (from any thread).
  /// - Returns: The rows of each layer (one, one per slice with pooling off, or a summary row
  ///   and one per expert); a layer without an `id` gets its position in `layers`, from 1.
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
    let run: @Sendable (Int, ESDScratch?) -> Void = { index, scratch in
      let result = Result { try self.analyze(layers[index], id: layers[index].id ?? index + 1, scratch: scratch) }
      results.withLock { $0[index] = result }
      let count = done.withLock { $0 += 1; return $0 }
      progress(count, layers[index].name)
    }
    if !small.isEmpty {
      let threads = BLASThreads.count
      BLASThreads.set(1)
      DispatchQueue.concurrentPerform(iterations: small.count) { run(small[$0], nil) }
      BLASThreads.set(threads)
    }
    // The large layers: several at a time, one BLAS thread each, when memory allows (see
    // `largeLayerWorkers`); each worker reuses one set of work buffers (`ESDScratch`).
    let workers = Self.largeLayerWorkers(threads: BLASThreads.count, layers: large.map { layers[$0].count })
    if workers > 1 {
      let threads = BLASThreads.count
      let scratches = (0..<workers).map { _ in ESDScratch() }
      let next = Mutex(0)
      BLASThreads.set(1)
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        while let position = next.withLock({ value -> Int? in
          guard value < large.count else { return nil }
          value += 1
          return value - 1
        }) {
          run(large[position], scratches[worker])
        }
      }
      BLASThreads.set(threads)
    } else {
      let scratch = ESDScratch()
      for index in large { run(index, scratch) }
    }
    return try layers.indices.map { index in
      try results.withLock { $0[index]! }.get()
    }
  }

  /// How many large layers run at once, each with one BLAS thread: the BLAS thread count,
  /// at most the number of large layers, and at most as many as half the physical memory
  /// holds at `bytesPerElement` per element of the largest (its float64 elements, shuffled
  /// copy, float32 copy and Gram). 1: one at a time with threaded BLAS.
  ///
  /// Measured on this 2-core machine: a Llama-shaped block (seven 4096-wide matrices and two
  /// 32000 × 4096 ones, float32) took 65 s two at a time against 251 s one at a time with two
  /// BLAS threads while other work ran (OpenBLAS's threads spin and yield when the cores are
  /// shared); the symmetric eigensolver's tridiagonal reduction is half memory-bound and
  /// gains little from a second thread even on a quiet machine.
  public static func largeLayerWorkers(threads: Int, layers: [Int], bytesPerElement: Int = 32,
                                       memory: Int = Machine.physicalMemoryBytes) -> Int {
    guard threads > 1, layers.count > 1, let largest = layers.max(), largest > 0 else { return 1 }
    let fitting = memory > 0 ? memory / 2 / (largest * bytesPerElement) : 1
    return Swift.max(1, Swift.min(threads, layers.count, fitting))
  }

  /// Analyses one layer.
  /// - Returns: Its rows: one, one per conv slice with pooling off, or for stacked experts a
  ///   summary row (the pooled ESD of all experts, `layer_type` `experts`) then one row per
  ///   expert (`NAME.expert.E`), each expert read and decomposed on its own.
  /// - Throws: `InputError` for a NaN/∞ element (naming the layer and position), an init of
  ///   another shape, or a shape that does not fit the layer's kind.
  public func analyze(_ layer: WeightLayer) throws -> [LayerReport] {
    try analyze(layer, id: layer.id ?? 1)
  }

  /// The rows `analyze` would produce, with their shapes (`N`, `M`, `rf`, `num_evals`) and
  /// `skipped` status, without reading any element: the reference tool's `describe()`.
  /// Layers without an `id` are numbered by their position in `layers`, from 1.
  /// - Throws: `InputError` for a shape that does not fit the layer's kind.
  public func describe(_ layers: [WeightLayer]) throws -> [[LayerReport]] {
    try layers.enumerated().map { try describe($1, id: $1.id ?? $0 + 1) }
  }

  func describe(_ layer: WeightLayer, id: Int) throws -> [LayerReport] {
    let expected: Set<Int> = switch layer.kind {
    case .dense, .embedding, .lora, .loraMerged: [2]
    case .conv2d: [4]
    case .conv1d, .expert, .experts: [3]
    }
    guard layer.kind != .experts else {
      throw InputError("layer '\(layer.name)': `experts` is the kind of a summary row; stacked experts are `expert`")
    }
    guard expected.contains(layer.shape.count), layer.count > 0 else {
      throw InputError("layer '\(layer.name)': a \(layer.kind.rawValue) layer needs a non-empty \(expected.map { "\($0)-D" }.sorted().joined(separator: " or ")) weight, got shape \(layer.shape)")
    }
    let rf = layer.rf, n = layer.n, m = layer.m
    func row(_ name: String, _ kind: WeightLayer.Kind, slice: Int? = nil, expert: Int? = nil, rf: Int) -> LayerReport {
      var r = LayerReport(name: name, kind: kind, sliceIndex: slice, n: n, m: m, rf: rf)
      r.expertIndex = expert
      r.layerID = id
      r.longname = layer.key ?? layer.name
      return r
    }
    var rows: [LayerReport]
    let evalsPerRow: Int
    if layer.kind == .expert {
      rows = [row(layer.name, .experts, rf: layer.experts)]
        + (0..<layer.experts).map { row("\(layer.name).expert.\($0)", .expert, expert: $0, rf: 1) }
      evalsPerRow = m
    } else if layer.kind == .lora {
      // weightwatcher's peft rows: the top min(r, M) singular values of B·A.
      evalsPerRow = Swift.min(layer.rank ?? m, m)
      rows = [row(layer.name, layer.kind, rf: 1)]
      rows[0].evalCount = evalsPerRow
    } else if options.pool || rf == 1 {
      rows = [row(layer.name, layer.kind, rf: rf)]
      evalsPerRow = m * rf
    } else {
      rows = (0..<rf).map { row(layer.name, layer.kind, slice: $0, rf: 1) }
      evalsPerRow = m
    }
    if evalsPerRow < options.minEvals {
      for i in rows.indices {
        rows[i].status = .skipped
        rows[i].reason = "\(evalsPerRow) eigenvalues < --min-evals \(options.minEvals)"
      }
    }
    return rows
  }

  func analyze(_ layer: WeightLayer, id: Int, scratch: ESDScratch? = nil) throws -> [LayerReport] {
    try options.validate()
    var rows = try describe(layer, id: id)
    if rows.allSatisfy({ $0.status == .skipped }) { return rows }
    if layer.kind == .expert { return try analyzeExperts(layer, rows: rows) }
    if layer.kind == .lora { return try analyzeLowRank(layer, rows: rows) }
    // A float32 (or float16, bfloat16) matrix: no float64 copy of W or of its shuffles.
    // Without a scratch (a small layer, or one thread), a fresh one holds this layer's buffers.
    if analysesFloats(layer, rows: rows),
       let reports = try analyzeFloats(layer, rows: rows, scratch: scratch ?? ESDScratch()) {
      return reports
    }
    let rf = layer.rf, n = layer.n
    // Into the reused buffer when the layer is read whole and not changed in place (no init).
    let reuse = scratch != nil && layer.loadInto != nil && layer.loadInit == nil
    var elements: [Double]
    if reuse, let scratch, let loadInto = layer.loadInto {
      try loadInto(&scratch.elements)
      elements = scratch.elements
    } else {
      elements = try layer.load()
    }
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
    if (layer.kind == .conv2d || layer.kind == .conv1d) && options.convNorm { scale = options.pool ? 0.5 : Double(rf) / 2 }
    if options.normalize { scale /= Double(n) }
    let groups: [[[Double]]] = rows.count == 1 ? [slices] : slices.map { [$0] }
    let seedBase = layerSeed(options.seed, name: layer.name)
    for (g, group) in groups.enumerated() {
      rows[g].initDistance = distance
      let seed = rows.count > 1 ? layerSeed(seedBase, name: "\(g)") : seedBase
      do {
        let spectra = try self.spectra(of: group, shape: layer.sliceShape, n: n, scale: scale, seed: seed,
                                       shuffles: shuffleCount(m: rows[g].m, rf: rows[g].rf), scratch: scratch)
        fill(&rows[g], spectra)
      } catch {
        rows[g].status = .failed
        rows[g].reason = (error as? LinearAlgebraError)?.description ?? "\(error)"
      }
    }
    return rows
  }

  /// Stacked experts: each expert read, checked and decomposed alone (memory: one expert and
  /// the eigenvalues so far), then the summary row from all their eigenvalues and shuffles.
  func analyzeExperts(_ layer: WeightLayer, rows blank: [LayerReport]) throws -> [LayerReport] {
    var rows = blank
    let n = layer.n, size = layer.sliceShape.rows * layer.sliceShape.columns
    let scale = options.normalize ? 1 / Double(n) : 1
    let seedBase = layerSeed(options.seed, name: layer.name)
    let shuffles = shuffleCount(m: layer.m, rf: 1)
    var parts: [LayerSpectra] = []
    var failures: [Int] = []
    for e in 0..<layer.experts {
      var w = try layer.expert(e)
      try check(w, layer: layer, what: "weight", offset: e * size)
      if let w0 = try layer.initialExpert(e) {
        guard w0.count == w.count else {
          throw InputError("layer '\(layer.name)': init expert \(e) has \(w0.count) elements, the model \(w.count)")
        }
        try check(w0, layer: layer, what: "init weight", offset: e * size)
        let shape = layer.sliceShape
        rows[e + 1].initDistance = try InitDistance(Matrix(rows: shape.rows, columns: shape.columns, elements: w),
                                                    from: Matrix(rows: shape.rows, columns: shape.columns, elements: w0))
        if options.delta { for i in w.indices { w[i] -= w0[i] } }
      } else if options.delta {
        throw InputError("layer '\(layer.name)': --delta needs the init model's layer")
      }
      do {
        let spectra = try self.spectra(of: [w], shape: layer.sliceShape, n: n, scale: scale,
                                       seed: layerSeed(seedBase, name: "\(e)"), shuffles: shuffles)
        fill(&rows[e + 1], spectra)
        parts.append(spectra)
      } catch {
        rows[e + 1].status = .failed
        rows[e + 1].reason = (error as? LinearAlgebraError)?.description ?? "\(error)"
        failures.append(e)
      }
    }
    if failures.isEmpty {
      fill(&rows[0], LayerSpectra(pooling: parts, shuffles: shuffleCount(m: layer.m, rf: layer.experts)))
    } else {
      rows[0].status = .failed
      rows[0].reason = "expert\(failures.count == 1 ? "" : "s") \(failures.map(String.init).joined(separator: ", ")) failed"
    }
    return rows
  }

  /// A LoRA update ΔW = scale·B·A: its min(r, M) non-zero eigenvalues from the factors
  /// (`LowRankProduct`, O(r²·(out + in)), no N×M decomposition), and, with randomisation, ΔW
  /// formed (one GEMM) and shuffled as the reference does, keeping each draw's largest
  /// min(r, M) eigenvalues: that part is a full decomposition, O(N·M²) per draw.
  func analyzeLowRank(_ layer: WeightLayer, rows blank: [LayerReport]) throws -> [LayerReport] {
    var rows = blank
    guard let loadFactors = layer.loadFactors else {
      throw InputError("layer '\(layer.name)': a lora layer needs its factors B and A (loadFactors)")
    }
    let product = try loadFactors()
    guard product.rows == layer.sliceShape.rows, product.columns == layer.sliceShape.columns else {
      throw InputError("layer '\(layer.name)': B·A is \(product.rows)×\(product.columns), the layer \(layer.shape)")
    }
    let scale = options.normalize ? 1 / Double(layer.n) : 1
    let k = product.count
    do {
      let values = try product.eigenvalues(solver: options.solver).map { $0 * scale }
      var draws: [[Double]] = []
      let shuffles = shuffleCount(m: k, rf: 1)
      if shuffles > 0 {
        var work = [product.product().elements]
        var rng = SplitMix64(seed: layerSeed(options.seed, name: layer.name))
        // Only each draw's top k eigenvalues are kept, which the Gram route gets to ~n·ε·λmax
        // whatever the conditioning: no SVD fallback for the (often ill-conditioned) smallest.
        var drawSolver = options.solver
        if drawSolver.method == .automatic { drawSolver.method = .gram }
        for _ in 0..<shuffles {
          let all = try randomizedEigenvalues(&work, method: options.randMethod, shape: layer.sliceShape,
                                              scale: scale, using: &rng, solver: drawSolver)
          draws.append(Array(all.suffix(k)))
        }
      }
      fill(&rows[0], LayerSpectra(slices: [values], n: layer.n, shuffles: draws))
    } catch let error as InputError {
      throw InputError("layer '\(layer.name)': \(error.message)")
    } catch {
      rows[0].status = .failed
      rows[0].reason = (error as? LinearAlgebraError)?.description ?? "\(error)"
    }
    return rows
  }

  func check(_ values: [Double], layer: WeightLayer, what: String, offset: Int = 0) throws {
    if let message = layer.nonFiniteProblem(in: values, what: what, offset: offset) {
      throw what.hasPrefix("init") ? InitWeightError(message) : InputError(message)
    }
  }

  /// Shuffles a row of M·rf eigenvalues needs: `--rand-repeats`, and the reference pools 5
  /// for its random MP fit when M·rf < 100.
  func shuffleCount(m: Int, rf: Int) -> Int {
    options.randomize ? Swift.max(options.randRepeats, m * rf < 100 ? 5 : 1) : 0
  }

  /// The eigenvalues of a group of slices and of `shuffles` random counterparts: the
  /// decompositions, everything expensive about a row.
  func spectra(of slices: [[Double]], shape: (rows: Int, columns: Int), n: Int, scale: Double,
               seed: UInt64, shuffles: Int, scratch: ESDScratch? = nil) throws -> LayerSpectra {
    if let scratch, shuffles > 0, BLASThreads.count > 1 {
      return try concurrentSpectra(of: slices, shape: shape, n: n, scale: scale, seed: seed,
                                   shuffles: shuffles, scratch: scratch)
    }
    let perSlice = try Spectrum.sliceEigenvalues(of: slices, shape: shape, scale: scale, solver: options.solver,
                                                 scratch: scratch)
    let draws = try shuffledDraws(of: slices, shape: shape, scale: scale, seed: seed, shuffles: shuffles,
                                  scratch: scratch)
    return LayerSpectra(slices: perSlice, n: n, shuffles: draws)
  }

  /// The eigenvalues of `shuffles` random counterparts of the slices, drawn in turn from one
  /// generator seeded with `seed`; the shuffled copies live in `scratch.shuffled` (no fresh
  /// W-sized buffer per layer when the scratch is reused).
  func shuffledDraws(of slices: [[Double]], shape: (rows: Int, columns: Int), scale: Double,
                     seed: UInt64, shuffles: Int, scratch: ESDScratch?) throws -> [[Double]] {
    guard shuffles > 0 else { return [] }
    // Without a scratch, a fresh one holds this layer's buffers.
    let draws = RandomDraws(seed: seed, scratch: scratch ?? ESDScratch())
    return try (0..<shuffles).map { _ in try nextDraw(draws, of: slices, shape: shape, scale: scale) }
  }

  /// Where a layer's sequence of random counterparts stands: the generator and how many have
  /// been drawn, with the buffers they are drawn in.
  final class RandomDraws: @unchecked Sendable {
    var rng: SplitMix64
    var drawn = 0
    let scratch: ESDScratch
    init(seed: UInt64, scratch: ESDScratch) {
      rng = SplitMix64(seed: seed)
      self.scratch = scratch
    }
  }

  /// The eigenvalues of the next random counterpart in `draws`. With `--rand-method shuffle`
  /// the first draw scatters straight from the slices into the shuffled buffers and later draws
  /// reshuffle those: one W-sized copy per slice, plus the scatter's second buffer only from the
  /// second draw on (the same draws as copying first, one buffer fewer).
  func nextDraw(_ draws: RandomDraws, of slices: [[Double]], shape: (rows: Int, columns: Int),
                scale: Double) throws -> [Double] {
    let scratch = draws.scratch
    defer { draws.drawn += 1 }
    if options.randMethod == .shuffle {
      if draws.drawn == 0 { scratch.resizeShuffled(to: slices.count) }
      for s in slices.indices {
        if draws.drawn == 0 {
          slices[s].withUnsafeBufferPointer {
            shuffledCopy(of: $0, into: &scratch.shuffled[s], using: &draws.rng, scratch: scratch)
          }
        } else {
          shuffleElements(&scratch.shuffled[s], using: &draws.rng, scratch: scratch)
        }
      }
      return try Spectrum.pooledEigenvalues(of: scratch.shuffled, shape: shape, scale: scale,
                                            solver: options.solver, scratch: scratch)
    }
    if draws.drawn == 0 { scratch.copyToShuffled(slices) }
    return try randomizedEigenvalues(&scratch.shuffled, method: options.randMethod, shape: shape,
                                     scale: scale, using: &draws.rng, solver: options.solver, scratch: scratch)
  }

  /// `spectra` for a large layer analysed alone with several BLAS threads: W's decomposition
  /// (in `scratch.companion`'s buffers) and its first random draw's (in `scratch`'s) run at once,
  /// one BLAS thread each, rather than one after the other with OpenBLAS threading each.
  /// Threaded, `syevd`'s many matrix–vector steps keep OpenBLAS's second thread spinning in
  /// `sched_yield`: 18 % of the wall time in system time on a 4096 × 11008 layer. Further draws
  /// (`--rand-repeats`) follow on all the BLAS threads: on one thread beside nothing, they had
  /// left the other cores idle (4 draws of that layer: 31 s, 1.2 cores busy). The draws use the
  /// same seeded shuffles, so the numbers are those of the sequential route (to BLAS threading's
  /// last bits).
  func concurrentSpectra(of slices: [[Double]], shape: (rows: Int, columns: Int), n: Int, scale: Double,
                         seed: UInt64, shuffles: Int, scratch: ESDScratch) throws -> LayerSpectra {
    let companion = scratch.companion
    let draws = RandomDraws(seed: seed, scratch: scratch)
    let results = Mutex<[Int: Result<[[Double]], any Error>]>([:])
    let threads = BLASThreads.count
    BLASThreads.set(1)
    DispatchQueue.concurrentPerform(iterations: 2) { job in
      let result = Result { () throws -> [[Double]] in
        job == 0
          ? try Spectrum.sliceEigenvalues(of: slices, shape: shape, scale: scale, solver: options.solver,
                                          scratch: companion)
          : [try nextDraw(draws, of: slices, shape: shape, scale: scale)]
      }
      results.withLock { $0[job] = result }
    }
    BLASThreads.set(threads)
    let perSlice = try results.withLock { $0[0]! }.get()
    var all = try results.withLock { $0[1]! }.get()
    while all.count < shuffles { all.append(try nextDraw(draws, of: slices, shape: shape, scale: scale)) }
    return LayerSpectra(slices: perSlice, n: n, shuffles: all)
  }

  /// The tail fit the options ask for: PL, PL with fingers fixed, TPL or E_TPL.
  func fitTail(_ report: inout LayerReport, _ eigenvalues: [Double], problems: inout [String]) {
    report.tailFit = options.fit
    report.fingerFix = options.fit == .extendedTruncatedPowerLaw ? .xminPeak : options.fixFingers
    do {
      let range = report.fingerFix == .xminPeak
        ? FingerFix.xminRange(of: eigenvalues, xminMax: options.xminMax) : nil
      if report.fingerFix == .xminPeak && range == nil {
        throw InputError("no eigenvalue above 1e-5 to place the ESD's peak")
      }
      switch (options.fit.isTruncated, report.fingerFix) {
      case (true, .clipXmax):
        // The reference (pl_package='powerlaw'): the clipped power-law search with the
        // package's fitter, then the TPL above its xmin; D and sigma stay the power law's.
        let clipped = try ClippedPowerLawFit(eigenvalues: eigenvalues) {
          try PowerLawFit(eigenvalues: $0, xminRange: -Double.infinity...Double.infinity)
        }
        let kept = Array(eigenvalues.filter { $0 > PowerLawFit.threshold }.sorted().dropLast(clipped.clippedCount))
        let tpl = try TruncatedPowerLawFit(eigenvalues: kept, xmin: clipped.fit.xmin)
        report.clipped = clipped
        report.powerLaw = clipped.fit
        report.truncatedPowerLaw = TruncatedPowerLawFit(alpha: tpl.alpha, lambda: tpl.lambda, xmin: tpl.xmin,
                                                        xmax: tpl.xmax, d: clipped.fit.d,
                                                        tailCount: clipped.fit.tailCount)
      case (true, _):
        report.truncatedPowerLaw = try TruncatedPowerLawFit(eigenvalues: eigenvalues, xminRange: range)
      case (false, .clipXmax):
        let clipped = try ClippedPowerLawFit(eigenvalues: eigenvalues)
        report.clipped = clipped
        report.powerLaw = clipped.fit
      case (false, .xminPeak):
        report.powerLaw = try PowerLawFit(eigenvalues: eigenvalues, xminRange: range!)
      case (false, nil):
        report.powerLaw = try PowerLawFit(eigenvalues: eigenvalues)
      }
    } catch {
      problems.append("\(error)")
    }
  }

  /// Computes every column of one row from its eigenvalues and shuffles.
  func fill(_ report: inout LayerReport, _ spectra: LayerSpectra) {
    let spectrum = Spectrum(eigenvalues: spectra.eigenvalues, n: report.n, m: report.m, rf: report.rf)
    report.spectrum = spectrum
    report.svMin = (spectra.sliceMinima.max() ?? 0).squareRoot()
    report.rankLoss = spectra.rankLoss
    report.weakRankLoss = spectrum.eigenvalues.prefix { $0 < options.tolerance }.count
    guard spectrum.lambdaMax > 0 else {
      report.status = .failed
      report.reason = "all eigenvalues are zero: entropy, alpha and the MP fit are undefined"
      return
    }
    var problems: [String] = []
    fitTail(&report, spectrum.eigenvalues, problems: &problems)
    if options.alphaResamples > 0 || options.powerLawTestSamples > 0 {
      // The interval and the tests are of the power-law fit, also under --fit TPL/E_TPL.
      if let fit = report.powerLaw ?? (try? PowerLawFit(eigenvalues: spectrum.eigenvalues)) {
        problems += testFit(&report, fit, spectrum.eigenvalues)
      }
    }
    if options.detX { report.detX = DetX(eigenvalues: spectrum.eigenvalues) }
    if options.mpFit {
      do { report.marchenkoPastur = try MarchenkoPasturFit(eigenvalues: spectrum.eigenvalues, n: report.n, m: report.m) } catch {
        problems.append("\(error)")
      }
    }
    if options.randomize {
      // M·rf eigenvalues, or min(r, M) for a LoRA update (the reference's n_comp < 100).
      let replicas = spectra.eigenvalues.count < 100 ? 5 : 1
      var pooled: [Double] = []
      for (k, rand) in spectra.shuffles.enumerated() {
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

extension ESDAnalyzer {
  /// The fit's interval and tests (`--alpha-ci`, `--pl-test`), seeded by the row's label mixed
  /// into `seed`: the same row gets the same draws whatever else is analysed, in any order.
  /// - Returns: The problems met, for the row's `reason`.
  func testFit(_ report: inout LayerReport, _ fit: PowerLawFit, _ eigenvalues: [Double]) -> [String] {
    var problems: [String] = []
    let rowSeed = layerSeed(options.seed, name: report.label)
    if options.alphaResamples > 0 {
      do {
        report.alphaInterval = try AlphaConfidenceInterval(
          eigenvalues: eigenvalues, fit: fit, resamples: options.alphaResamples,
          confidence: options.confidence, seed: layerSeed(rowSeed, name: "alpha_ci"))
      } catch { problems.append("\(error)") }
    }
    if options.powerLawTestSamples > 0 {
      do {
        report.goodnessOfFit = try PowerLawGoodnessOfFit(
          eigenvalues: eigenvalues, fit: fit, samples: options.powerLawTestSamples,
          seed: layerSeed(rowSeed, name: "pl_test"))
        report.likelihoodRatioTests = try LikelihoodRatioTest.powerLaw(eigenvalues: eigenvalues, xmin: fit.xmin)
      } catch { problems.append("\(error)") }
    }
    return problems
  }
}

/// The eigenvalues behind one row: pooled over its slices (or experts), with what the
/// reference computes per slice, and the shuffled ESDs.
struct LayerSpectra {
  /// Pooled, ascending.
  var eigenvalues: [Double]
  /// Each slice's smallest eigenvalue (`sv_min` is the square root of their largest, as the
  /// reference's `combined_eigenvalues` takes the max over slices of each slice's minimum).
  var sliceMinima: [Double]
  /// Σ over slices of M − rank, numpy's rank rule per slice (`rank_loss`).
  var rankLoss: Int
  /// Each shuffle's pooled eigenvalues, ascending.
  var shuffles: [[Double]]

  init(slices: [[Double]], n: Int, shuffles: [[Double]]) {
    eigenvalues = slices.flatMap { $0 }.sorted()
    sliceMinima = slices.map { $0.first ?? 0 }
    rankLoss = slices.reduce(0) { total, ev in
      let tolerance = (ev.last ?? 0).squareRoot() * Double(n) * Double.ulpOfOne
      return total + ev.count - ev.reduce(0) { $0 + ($1.squareRoot() > tolerance ? 1 : 0) }
    }
    self.shuffles = shuffles
  }

  /// The rows of several experts pooled into one, with their first `shuffles` draws pooled
  /// draw by draw.
  init(pooling parts: [LayerSpectra], shuffles: Int) {
    eigenvalues = parts.flatMap(\.eigenvalues).sorted()
    sliceMinima = parts.flatMap(\.sliceMinima)
    rankLoss = parts.reduce(0) { $0 + $1.rankLoss }
    self.shuffles = (0..<shuffles).map { k in parts.flatMap { $0.shuffles[k] }.sorted() }
  }
}

/// A NaN or ∞ in the init model's weights (`--init`): the caller names the init model's file,
/// not the model's.
public struct InitWeightError: CompareError, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
