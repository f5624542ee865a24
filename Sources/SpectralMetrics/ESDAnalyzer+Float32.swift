import CompareCore
import Dispatch
import Synchronization

extension ESDAnalyzer {
  /// Whether `analyze` takes a layer through `analyzeFloats`: a plain matrix (dense or
  /// embedding) stored in a type float32 holds exactly, with no init model, in float64, its
  /// random counterparts shuffled (or none).
  func analysesFloats(_ layer: WeightLayer, rows: [LayerReport]) -> Bool {
    layer.loadFloatsInto != nil && layer.loadInit == nil && !options.delta
      && layer.shape.count == 2 && (layer.kind == .dense || layer.kind == .embedding) && rows.count == 1
      && options.solver.precision == .float64 && (!options.randomize || options.randMethod == .shuffle)
  }

  /// `analyze` for a layer `analysesFloats` accepts, from W's float32 elements (in place in the
  /// mapped file when stored so, else a float32 copy: half the float64 route's) and a float32
  /// shuffled copy; each Gram matrix is formed in float64 from
  /// widened panels (`EigenvalueSolver.eigenvalues(ofWidening:rows:columns:scratch:)`). The
  /// shuffles are the float64 route's, element for element, so every column agrees with it to
  /// the Gram matrices' round-off. `nil` when W has a NaN or ∞: the float64 route then reports
  /// it with its row and column.
  func analyzeFloats(_ layer: WeightLayer, rows blank: [LayerReport], scratch: ESDScratch) throws -> [LayerReport]? {
    // In place in the mapped file when it is stored as float32, else a copy in the scratch.
    if let stored = try layer.storedFloats?() {
      return try withExtendedLifetime(stored) {
        try analyzeFloats(FloatElements(stored.buffer), layer: layer, rows: blank, scratch: scratch)
      }
    }
    guard let load = layer.loadFloatsInto else { return nil }
    try load(&scratch.floats)
    let copy = scratch.floats
    return try copy.withUnsafeBufferPointer {
      try analyzeFloats(FloatElements($0), layer: layer, rows: blank, scratch: scratch)
    }
  }

  func analyzeFloats(_ w: FloatElements, layer: WeightLayer, rows blank: [LayerReport],
                     scratch: ESDScratch) throws -> [LayerReport]? {
    if w.buffer.contains(where: { !$0.isFinite }) { return nil }
    var rows = blank
    let scale = options.normalize ? 1 / Double(layer.n) : 1
    do {
      let spectra = try floatSpectra(w, shape: layer.sliceShape, n: layer.n, scale: scale,
                                     seed: layerSeed(options.seed, name: layer.name),
                                     shuffles: shuffleCount(m: rows[0].m, rf: rows[0].rf), scratch: scratch)
      fill(&rows[0], spectra)
    } catch {
      rows[0].status = .failed
      rows[0].reason = (error as? LinearAlgebraError)?.description ?? "\(error)"
    }
    return rows
  }

  /// `spectra` for a float32 W: its eigenvalues and those of `shuffles` shuffled copies, with
  /// W's and the first copy's decompositions side by side on one BLAS thread each when there
  /// are several (as `concurrentSpectra`), W's in `scratch.companion`'s buffers.
  func floatSpectra(_ w: FloatElements, shape: (rows: Int, columns: Int), n: Int, scale: Double, seed: UInt64,
                    shuffles: Int, scratch: ESDScratch) throws -> LayerSpectra {
    let draws = RandomDraws(seed: seed, scratch: scratch)
    var own: [Double], all: [[Double]] = []
    if shuffles > 0, BLASThreads.count > 1 {
      let companion = scratch.companion
      let results = Mutex<[Int: Result<[Double], any Error>]>([:])
      let threads = BLASThreads.count
      BLASThreads.set(1)
      DispatchQueue.concurrentPerform(iterations: 2) { job in
        let result = Result {
          job == 0 ? try widenedEigenvalues(of: w, shape: shape, scale: scale, in: companion)
                   : try nextFloatDraw(draws, of: w, shape: shape, scale: scale)
        }
        results.withLock { $0[job] = result }
      }
      BLASThreads.set(threads)
      own = try results.withLock { $0[0]! }.get()
      all.append(try results.withLock { $0[1]! }.get())
    } else {
      own = try widenedEigenvalues(of: w, shape: shape, scale: scale, in: scratch)
    }
    while all.count < shuffles { all.append(try nextFloatDraw(draws, of: w, shape: shape, scale: scale)) }
    return LayerSpectra(slices: [own], n: n, shuffles: all)
  }

  /// The eigenvalues of a float32 W (row-major `shape`) times `scale`, in `scratch`'s buffers.
  func widenedEigenvalues(of w: FloatElements, shape: (rows: Int, columns: Int), scale: Double,
                          in scratch: ESDScratch) throws -> [Double] {
    try options.solver.eigenvalues(ofWidening: w.buffer, rows: shape.rows, columns: shape.columns, scratch: scratch)
      .map { $0 * scale }
  }

  /// The eigenvalues, ascending, of the next shuffled copy of W in `draws`: the first scattered
  /// from W into `shuffledFloats`, later ones reshuffled there (as `nextDraw`).
  func nextFloatDraw(_ draws: RandomDraws, of w: FloatElements, shape: (rows: Int, columns: Int),
                     scale: Double) throws -> [Double] {
    let scratch = draws.scratch
    defer { draws.drawn += 1 }
    if draws.drawn == 0 {
      shuffledCopy(of: w.buffer, into: &scratch.shuffledFloats, using: &draws.rng, scratch: scratch)
    } else {
      shuffleElements(&scratch.shuffledFloats, spare: &scratch.shuffleOutputFloats, using: &draws.rng, scratch: scratch)
    }
    let shuffled = scratch.shuffledFloats
    return try shuffled.withUnsafeBufferPointer {
      try widenedEigenvalues(of: FloatElements($0), shape: shape, scale: scale, in: scratch).sorted()
    }
  }
}

/// A float32 W's elements, readable from the workers of `floatSpectra` (the caller keeps them
/// alive and unchanged meanwhile).
struct FloatElements: @unchecked Sendable {
  let buffer: UnsafeBufferPointer<Float>
  init(_ buffer: UnsafeBufferPointer<Float>) { self.buffer = buffer }
}
