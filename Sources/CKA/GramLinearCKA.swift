import CompareCore
import Synchronization

/// Exact full-data linear CKA, biased or debiased, from each layer's n×n Gram matrix of centred
/// activations (example space) instead of its features' p×p products: the cheaper route when
/// there are few examples for the layers' widths (`isCheaper`; Kornblith et al. 2019).
///
///     K̃ = X̃X̃ᵀ,   ‖X̃ᵀỸ‖²_F = ⟨K̃, L̃⟩_F,   Σᵢ ‖x̃ᵢ‖²‖ỹᵢ‖² = Σᵢ K̃ᵢᵢL̃ᵢᵢ,   ‖X̃‖²_F = tr K̃
///
/// the terms of `LinearCKA.hsic`, which `StreamingLinearCKA` accumulates in feature space. Each
/// layer is read as stored (float32 or float64), its columns centred in float64 a panel at a
/// time (column means summed in float64), and each panel added to the Gram matrix by one `dsfrk`
/// straight into the layer's triangle, in LAPACK's rectangular full packed layout
/// (`RectangularFullPacked`); the layers go at once over the cores with one BLAS thread each.
/// A pair is one `ddot` of two triangles.
///
/// - Complexity: n²·p multiply–adds per layer and n² per pair, against n·p² per layer and
///   2·n·p·q per pair in feature space; memory n(n+1)/2 float64 per layer, plus per worker a
///   layer as stored, a panel of n × 512 float64 and, for B, one triangle.
package struct GramLinearCKA: Sendable {
  /// The unbiased HSIC (Song et al. 2012) instead of the biased one.
  package let debiased: Bool

  package init(debiased: Bool) { self.debiased = debiased }

  /// One layer's Gram matrix K̃ as a pair needs it: its upper triangle with the diagonal (n(n+1)/2
  /// values of `storage` in the rectangular full packed layout), its diagonal and trace, its own
  /// HSIC.
  struct LayerGram: @unchecked Sendable {
    var storage: [Double]
    var diagonal: [Double]
    var trace: Double
    var ownHSIC = 0.0
  }

  /// Whether this route does fewer multiply–adds than the feature-space one for these shapes
  /// and holds less memory than its accumulators (`StreamingLinearCKA`): A's triangles, and per
  /// worker one layer (counted in float64), one panel and one triangle.
  package static func isCheaper(examples n: Int, widthsA: [Int], widthsB: [Int],
                                workers: Int = BLASThreads.count) -> Bool {
    let widths = widthsA + widthsB
    guard n > 0, !widths.isEmpty else { return false }
    let examples = Double(n), total = Double(widths.reduce(0, +)), widest = Double(widths.max() ?? 0)
    let crossed = Double(widthsA.reduce(0) { sum, p in sum + widthsB.reduce(0) { $0 + p * $1 } })
    let squares = Double(widths.reduce(0) { $0 + $1 * $1 })
    let gramWork = examples * examples * total
    let featureWork = examples * (squares + 2 * crossed)
    let gramBytes = Double(widthsA.count) * examples * examples / 2 * 8
      + Double(Swift.max(1, Swift.min(workers, widths.count)))
      * (examples * widest + examples * Double(Swift.min(Int(widest), Scratch.panelWidth)) + examples * examples / 2) * 8
    let featureBytes = Double(StreamingLinearCKA.memoryBytes(widthsA: widthsA, widthsB: widthsB))
    return gramWork < featureWork && gramBytes < featureBytes
  }

  /// The CKA matrix between the layers of `a` and `b` (the same n examples; `widthsA` and
  /// `widthsB` their features).
  ///
  /// A's layers are made first and kept, over the cores with one BLAS thread each: each read
  /// alone (`RepresentationSource.readLayer`, as stored), centred a panel at a time and added by
  /// `dsfrk` into its own packed triangle. Then B's the same way, except that each worker makes
  /// its layer of B in its scratch's triangle, measures it against every layer of A at once, and
  /// drops it: only A's triangles are held beside each worker's buffers. `progress` is called
  /// with (done, total) layers.
  /// - Throws: `InputError` for a NaN/∞ activation (named by layer, example and feature) or
  ///   too few examples.
  package func similarities(_ a: any RepresentationSource, _ b: any RepresentationSource, widthsA: [Int],
                            widthsB: [Int], progress: (Int, Int) -> Void = { _, _ in }) throws -> SimilarityMatrix {
    let n = a.examples, minimum = debiased ? 4 : 2
    guard n >= minimum else {
      throw InputError("\(n) examples are too few: the \(debiased ? "unbiased" : "biased") HSIC needs at least \(minimum)")
    }
    let total = widthsA.count + widthsB.count
    let workers = Swift.max(1, Swift.min(BLASThreads.count, total))
    let scratches = WorkerStates(Scratch.init)
    /// Runs `body` on every layer of `source`, loaded into a worker's scratch: by the worker
    /// itself when the source may be read from several threads (`readsConcurrently`), else
    /// `workers` at a time on this thread before their Gram matrices are made at once.
    func forEachLayer(_ source: any RepresentationSource, _ widths: [Int], done: Int,
                      _ body: @escaping @Sendable (Int, Scratch) -> Void) throws {
      scratches.reset()
      if source.readsConcurrently {
        let shared = source.shared
        let failed = Mutex<[Int: any Error]>([:])
        BLASWorkers.forEachIndex(widths.count, state: scratches.take) { l, scratch in
          do {
            try scratch.load(shared.source, layer: l, examples: n, features: widths[l])
          } catch {
            failed.withLock { $0[l] = error }
            return false
          }
          body(l, scratch)
          return true
        }
        // The first failing layer, in order.
        if let first = failed.withLock({ $0.min { $0.key < $1.key } }) { throw first.value }
        progress(done + widths.count, total)
        return
      }
      let held = (0..<workers).map { _ in scratches.take() }
      for group in stride(from: 0, to: widths.count, by: workers) {
        let members = group..<Swift.min(widths.count, group + workers)
        for (k, l) in members.enumerated() {
          try held[k].load(source, layer: l, examples: n, features: widths[l])
        }
        BLASWorkers.forEachIndex(members.count, state: { () }) { k, _ in
          body(members.lowerBound + k, held[k])
          return true
        }
        progress(done + members.upperBound, total)
      }
    }
    let kept = Mutex<[Int: LayerGram]>([:])
    try forEachLayer(a, widthsA, done: 0) { l, scratch in
      var gram = scratch.gram(examples: n, keep: true)
      gram.ownHSIC = Self.hsic(gram, gram, examples: n, debiased: debiased)
      kept.withLock { $0[l] = gram }
    }
    let gramsA = (0..<widthsA.count).map { l in kept.withLock { $0[l]! } }
    let measured = Mutex<[Int: (row: [Double], own: Double)]>([:])
    try forEachLayer(b, widthsB, done: widthsA.count) { l, scratch in
      let gram = scratch.gram(examples: n, keep: false)
      let row = gramsA.map { Self.hsic($0, gram, examples: n, debiased: debiased) }
      measured.withLock { $0[l] = (row, Self.hsic(gram, gram, examples: n, debiased: debiased)) }
    }
    let columns = (0..<widthsB.count).map { l in measured.withLock { $0[l]! } }
    var matrix = Matrix<Double>(zeros: widthsA.count, widthsB.count)
    for i in 0..<widthsA.count { for j in 0..<widthsB.count { matrix[i, j] = columns[j].row[i] } }
    return try SimilarityMatrix(modelA: a.name, modelB: b.name, layersA: a.layerNames, layersB: b.layerNames,
                                hsic: matrix, hsicA: gramsA.map(\.ownHSIC), hsicB: columns.map(\.own))
  }

  /// HSIC of two layers from their Gram matrices (`LinearCKA.hsic`): ⟨K̃, L̃⟩_F is twice the
  /// triangles' dot (which counts the diagonal once) less the diagonals'.
  static func hsic(_ x: LayerGram, _ y: LayerGram, examples n: Int, debiased: Bool) -> Double {
    let count = RectangularFullPacked(order: n).count
    let upper = count == 0 ? 0 : x.storage.withUnsafeBufferPointer { px in
      y.storage.withUnsafeBufferPointer { py in
        Double.dot(n: Int32(count), x: px.baseAddress!, incx: 1, y: py.baseAddress!, incy: 1)
      }
    }
    let normDot = zip(x.diagonal, y.diagonal).reduce(0) { $0 + $1.0 * $1.1 }
    return LinearCKA.hsic(product: 2 * upper - normDot, normDot: normDot, traceX: x.trace, traceY: y.trace,
                          examples: n, debiased: debiased)
  }

  /// One worker's buffers: a layer as stored, its column means, a panel of it centred in float64,
  /// and a transient layer's triangle.
  final class Scratch: @unchecked Sendable {
    /// Columns centred and added per `dsfrk`: 16 MB of float64 panel at 4,000 examples, and
    /// enough multiply–adds per update of the triangle that the panels cost no more than one
    /// `dsyrk` over the whole layer (1.23–1.27 s against 1.20–1.23 s at 4,000 × 4,096 here).
    static let panelWidth = 512

    /// The layer as read: float32 unless the source stores float64.
    var single: [Float] = []
    var double: [Double] = []
    var isDouble = false
    var means: [Double] = []
    var panel: [Double] = []
    /// The triangle of a layer that is measured and dropped (`gram(keep: false)`).
    var transient: [Double] = []
    var features = 0
    var isConstant = false

    /// Reads layer `layer` of `source` (n × p) as stored and finds its column means in float64.
    /// A constant layer is centred to exact zeros, as in `LinearCKA`, so that its HSIC with
    /// itself is 0 and its CKA is reported undefined.
    /// - Throws: `InputError` for a NaN/∞ activation, named by layer, example and feature.
    func load(_ source: any RepresentationSource, layer: Int, examples n: Int, features p: Int) throws {
      features = p
      isDouble = source.isDouble
      if isDouble {
        try read(source, layer: layer, examples: n, into: &double)
      } else {
        try read(source, layer: layer, examples: n, into: &single)
      }
    }

    private func read<S: BLASScalar>(_ source: any RepresentationSource, layer: Int, examples n: Int,
                                     into buffer: inout [S]) throws {
      let p = features
      WorkBuffer.resize(&buffer, to: n * p)
      WorkBuffer.resize(&means, to: p)
      isConstant = true
      guard n > 0, p > 0 else { return }
      try buffer.withUnsafeMutableBufferPointer { c in
        try source.readLayer(layer, rows: 0..<n, into: c)
        if let bad = c.firstIndex(where: { !$0.isFinite }) {
          throw InputError("layer '\(source.layerNames[layer])' of \(source.name) has a non-finite activation (\(c[bad])) at example \(bad / p), feature \(bad % p)")
        }
        isConstant = GramKernel.isConstant(c.baseAddress!, rows: n, columns: p)
        means.withUnsafeMutableBufferPointer { m in
          m.update(repeating: 0)
          for i in 0..<n {
            let row = c.baseAddress! + i * p
            for j in 0..<p { m[j] += Double(row[j]) }
          }
          for j in 0..<p { m[j] /= Double(n) }
        }
      }
    }

    /// The Gram matrix of the loaded layer, centred: in an array of its own (`keep`), or in this
    /// scratch's triangle buffer, valid until the next.
    func gram(examples n: Int, keep: Bool) -> LayerGram {
      let layout = RectangularFullPacked(order: n)
      func fill(_ t: UnsafeMutablePointer<Double>) {
        if isDouble { accumulate(double, examples: n, into: t) } else { accumulate(single, examples: n, into: t) }
      }
      let storage: [Double]
      if keep {
        storage = WorkBuffer.prefaulted(count: layout.count) { (t: UnsafeMutableBufferPointer<Double>) in
          fill(t.baseAddress!)
        }
      } else {
        WorkBuffer.resize(&transient, to: layout.count)
        transient.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
        storage = transient
      }
      let diagonal = (0..<n).map { storage[layout.offset($0, $0)] }
      return LayerGram(storage: storage, diagonal: diagonal, trace: diagonal.reduce(0, +))
    }

    /// K̃ = Σ_panels X̃_c X̃_cᵀ into the packed triangle `t`: each panel of columns centred into
    /// `panel` in float64 and added by one `dsfrk` (β = 1 after the first).
    private func accumulate<S: BLASScalar>(_ x: [S], examples n: Int, into t: UnsafeMutablePointer<Double>) {
      let p = features, count = RectangularFullPacked(order: n).count
      guard p > 0, !isConstant else { return t.update(repeating: 0, count: count) }
      let width = Swift.min(p, Self.panelWidth)
      WorkBuffer.resize(&panel, to: n * width)
      x.withUnsafeBufferPointer { xs in
        means.withUnsafeBufferPointer { m in
          panel.withUnsafeMutableBufferPointer { buffer in
            let c = buffer.baseAddress!
            for start in stride(from: 0, to: p, by: width) {
              let w = Swift.min(width, p - start)
              for i in 0..<n {
                let row = xs.baseAddress! + i * p + start, target = c + i * w, mean = m.baseAddress! + start
                for j in 0..<w { target[j] = Double(row[j]) - mean[j] }
              }
              Double.sfrk(n: Int32(n), k: Int32(w), alpha: 1, a: c, lda: Int32(w), beta: start == 0 ? 0 : 1, c: t)
            }
          }
        }
      }
    }
  }
}
