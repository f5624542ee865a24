import CompareCore
import Synchronization

/// Exact full-data linear CKA, biased or debiased, from each layer's n×n Gram matrix of centred
/// activations (example space) instead of its features' p×p products: the cheaper route when
/// there are few examples for the layers' widths (`isCheaper`; Kornblith et al. 2019).
///
///     K̃ = X̃X̃ᵀ,   ‖X̃ᵀỸ‖²_F = ⟨K̃, L̃⟩_F,   Σᵢ ‖x̃ᵢ‖²‖ỹᵢ‖² = Σᵢ K̃ᵢᵢL̃ᵢᵢ,   ‖X̃‖²_F = tr K̃
///
/// the terms of `LinearCKA.hsic`, which `StreamingLinearCKA` accumulates in feature space. Each
/// layer is centred in float64 (column means summed in float64) and its Gram matrix made by one
/// `dsyrk`, the layers at once over the cores with one BLAS thread each; a layer keeps its Gram
/// matrix's strict upper triangle and diagonal, and a pair is one `ddot` of two triangles.
///
/// - Complexity: n²·p multiply–adds per layer and n² per pair, against n·p² per layer and
///   2·n·p·q per pair in feature space; memory n(n+1)/2 float64 per layer, plus per worker a
///   layer in float64 and an n×n Gram matrix.
package struct GramLinearCKA: Sendable {
  /// The unbiased HSIC (Song et al. 2012) instead of the biased one.
  package let debiased: Bool

  package init(debiased: Bool) { self.debiased = debiased }

  /// One layer's Gram matrix K̃ as a pair needs it: its strict upper triangle (the first
  /// n(n−1)/2 values of `storage`, row by row), its diagonal and trace, its own HSIC.
  struct LayerGram: @unchecked Sendable {
    var storage: [Double]
    var diagonal: [Double]
    var trace: Double
    var ownHSIC = 0.0
  }

  /// Whether this route does fewer multiply–adds than the feature-space one for these shapes
  /// and holds less memory than its accumulators (`StreamingLinearCKA`): A's triangles, and per
  /// worker one layer in float64 and one n×n Gram matrix.
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
      + Double(Swift.max(1, Swift.min(workers, widths.count))) * (examples * widest + examples * examples) * 8
    let featureBytes = Double(StreamingLinearCKA.memoryBytes(widthsA: widthsA, widthsB: widthsB))
    return gramWork < featureWork && gramBytes < featureBytes
  }

  /// The CKA matrix between the layers of `a` and `b` (the same n examples; `widthsA` and
  /// `widthsB` their features).
  ///
  /// A's layers are made first and kept, over the cores with one BLAS thread each: each read
  /// alone (`RepresentationSource.readLayer`, in float64), centred and passed to one `dsyrk`.
  /// Then B's the same way, except that each worker measures its layer of B against every layer
  /// of A at once, its triangle packed in the Gram buffer, and drops it: only A's triangles are
  /// held beside each worker's buffers. `progress` is called with (done, total) layers.
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
  /// triangles' dot plus the diagonals'.
  static func hsic(_ x: LayerGram, _ y: LayerGram, examples n: Int, debiased: Bool) -> Double {
    let count = n * (n - 1) / 2
    let upper = count == 0 ? 0 : x.storage.withUnsafeBufferPointer { px in
      y.storage.withUnsafeBufferPointer { py in
        Double.dot(n: Int32(count), x: px.baseAddress!, incx: 1, y: py.baseAddress!, incy: 1)
      }
    }
    let normDot = zip(x.diagonal, y.diagonal).reduce(0) { $0 + $1.0 * $1.1 }
    return LinearCKA.hsic(product: 2 * upper + normDot, normDot: normDot, traceX: x.trace, traceY: y.trace,
                          examples: n, debiased: debiased)
  }

  /// One worker's buffers: a layer centred in float64, then its n×n Gram matrix.
  final class Scratch: @unchecked Sendable {
    var centred: [Double] = []
    var gram: [Double] = []
    var features = 0

    /// Reads layer `layer` of `source` (n × p) in float64 and centres its columns in place
    /// (`GramKernel.centreColumns`); a constant layer becomes exact zeros, as in `LinearCKA`, so
    /// that its HSIC with itself is 0 and its CKA is reported undefined.
    /// - Throws: `InputError` for a NaN/∞ activation, named by layer, example and feature.
    func load(_ source: any RepresentationSource, layer: Int, examples n: Int, features p: Int) throws {
      features = p
      WorkBuffer.resize(&centred, to: n * p)
      guard n > 0, p > 0 else { return }
      try centred.withUnsafeMutableBufferPointer { c in
        try source.readLayer(layer, rows: 0..<n, into: c)
        if let bad = c.firstIndex(where: { !$0.isFinite }) {
          throw InputError("layer '\(source.layerNames[layer])' of \(source.name) has a non-finite activation (\(c[bad])) at example \(bad / p), feature \(bad % p)")
        }
        if GramKernel.isConstant(c.baseAddress!, rows: n, columns: p) {
          c.update(repeating: 0)
        } else {
          GramKernel.centreColumns(c.baseAddress!, rows: n, columns: p, into: c.baseAddress!)
        }
      }
    }

    /// The Gram matrix of the loaded layer (one `dsyrk`): its triangle in an array of its own
    /// (`keep`), or packed at the front of this scratch's Gram buffer, valid until the next.
    func gram(examples n: Int, keep: Bool) -> LayerGram {
      let p = features, count = n * (n - 1) / 2
      WorkBuffer.resize(&gram, to: n * n)
      gram.withUnsafeMutableBufferPointer { g in
        guard p > 0 else { return g.update(repeating: 0) }
        centred.withUnsafeBufferPointer { c in
          Double.syrk(transpose: false, n: Int32(n), k: Int32(p), alpha: 1, a: c.baseAddress!, lda: Int32(p),
                      beta: 0, c: g.baseAddress!, ldc: Int32(n))
        }
      }
      // Row i's entries (i, i+1 ..< n) go to k = i·n − i(i+1)/2, at or before where they are
      // read, and every later read is further on: packing in place is safe.
      func pack(_ g: UnsafePointer<Double>, into t: UnsafeMutablePointer<Double>) {
        var k = 0
        for i in 0..<n where i + 1 < n {
          (t + k).update(from: g + i * n + i + 1, count: n - i - 1)
          k += n - i - 1
        }
      }
      let diagonal = gram.withUnsafeBufferPointer { g in (0..<n).map { g[$0 * n + $0] } }
      let storage: [Double]
      if keep {
        storage = gram.withUnsafeBufferPointer { g in
          WorkBuffer.prefaulted(count: count) { (t: UnsafeMutableBufferPointer<Double>) in
            if count > 0 { pack(g.baseAddress!, into: t.baseAddress!) }
          }
        }
      } else {
        gram.withUnsafeMutableBufferPointer { g in pack(g.baseAddress!, into: g.baseAddress!) }
        storage = gram
      }
      return LayerGram(storage: storage, diagonal: diagonal, trace: diagonal.reduce(0, +))
    }
  }
}
