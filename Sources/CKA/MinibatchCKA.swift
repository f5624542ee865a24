import CompareCore
import Dispatch
import Synchronization

/// Minibatch CKA between two models' layers, accumulated one batch at a time (Nguyen, Raghu
/// & Kornblith, ICLR 2021):
///
///     HSIC₁(K, L) = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3))
///     CKA(Aₚ, B_q) = Σᵢ HSIC₁(Kᵢ, Lᵢ) / √(Σᵢ HSIC₁(Kᵢ, Kᵢ) · Σᵢ HSIC₁(Lᵢ, Lᵢ))
///
/// with Kᵢ, Lᵢ the n×n Gram matrices of batch i and K̃ = K with a zero diagonal. Each batch
/// costs, per layer, one Gram matrix of its centred activations (`syrk` in the input's
/// precision) turned into its U-centred form Ũ in `Double`, so that HSIC₁(K, L) =
/// ⟨Ũ_K, Ũ_L⟩/(n(n−3)) (Székely & Rizzo 2014); then all layer pairs' HSIC terms come from one
/// `syrk` over the stacked Ũ's. Sums accumulate in `Double`.
///
/// Differs on purpose from torch_cka 0.21, which evaluates the formula in float32 on raw
/// Gram matrices: centring each batch's columns first (HSIC is invariant to translating the
/// features) avoids its cancellation (negative self-HSIC, NaN once activations carry an
/// offset), and each Gram matrix is formed once per batch, not once per layer pair.
///
/// ```swift
/// var cka = try MinibatchCKA(layersA: ["fc1", "fc2"], layersB: ["conv1", "conv2", "fc"])
/// for batch in batches { try cka.accumulate(batchA: batch.a, batchB: batch.b) }
/// let matrix = try cka.result()   // 2 × 3
/// ```
///
/// Every batch's HSIC terms are kept (`terms`), from which `CKAUncertainty` computes jackknife
/// standard errors and bootstrap intervals. With `permutations` P > 0, each batch also adds
/// the cross terms of P within-batch shuffles of B's examples, ⟨Ũ_K, PŨ_LPᵀ⟩ (U-centring
/// commutes with permuting the examples, so the already formed Ũ_L are reused): the
/// permutation null of every cell (`permutedSimilarities()`).
///
/// - Complexity: per batch of n examples, O(n²·Σp) for the Gram matrices of layers with p
///   features, plus O(n²·(a+b)²) for the pairs and O(P·a·b·n²/2) for the permutations;
///   memory: one batch of every layer plus (a+b)·n²/2 doubles, and with permutations
///   b·n² floats and P·n indices more.
public struct MinibatchCKA: Sendable {
  /// Model A's layer names (the result's rows).
  public let layersA: [String]
  /// Model B's layer names (the result's columns).
  public let layersB: [String]
  /// Model names, for messages and the result.
  public let modelA: String, modelB: String
  /// The kernel.
  public let kernel: CKAKernel
  /// `true`: unbiased HSIC₁ per batch (U-centring); `false`: the biased HSIC of Gretton et al.
  /// (double centring), used for the full-batch biased estimator.
  let debiased: Bool
  /// Batches accumulated so far.
  public private(set) var batches = 0
  /// Examples accumulated so far.
  public private(set) var examples = 0

  var cross: [Double]
  var selfA: [Double]
  var selfB: [Double]
  /// Each batch's HSIC terms, for the resampling statistics.
  public private(set) var terms: BatchHSIC
  /// Shuffles of B's examples per batch for the permutation null (0: none).
  public let permutations: Int
  /// The generator of the shuffles, `SplitMix64(seed:)` at the start.
  var shuffles: SplitMix64
  /// Σ over batches of the permuted cross terms, `permutations × (a·b)`.
  var nullCross: [Double]
  /// Work space of the permutations, kept between batches: B's Ũ unpacked, the shuffles, the
  /// gathered permuted rows and their products.
  var permutationScratch = PermutationScratch()
  /// The stacked centred kernel matrices of the current batch and the work space that forms
  /// them, kept between batches (`GramStack`).
  var grams = GramStack()

  /// An empty accumulator for these layers.
  ///
  /// - Parameters:
  ///   - layersA: Names of model A's layers, in the order batches will give them.
  ///   - layersB: Names of model B's layers.
  ///   - modelA, modelB: Model names for messages and the result (default `A`, `B`).
  ///   - kernel: `.linear` (default) or `.rbf(threshold:)`, σ set per batch.
  /// - Throws: `InputError` when either list is empty.
  ///   - permutations: Within-batch shuffles of B's examples for the permutation null
  ///     (default 0: none), drawn by `SplitMix64(seed: seed)`: per batch, in order, P
  ///     Fisher–Yates shuffles (`shuffle`) of the indices 0..<n as `Int32`.
  /// - Throws: `InputError` when either list is empty or `permutations` is negative.
  public init(layersA: [String], layersB: [String], modelA: String = "A", modelB: String = "B",
              kernel: CKAKernel = .linear, permutations: Int = 0, seed: UInt64 = 0) throws {
    try self.init(layersA: layersA, layersB: layersB, modelA: modelA, modelB: modelB,
                  kernel: kernel, debiased: true, permutations: permutations, seed: seed)
  }

  init(layersA: [String], layersB: [String], modelA: String, modelB: String,
       kernel: CKAKernel, debiased: Bool, permutations: Int = 0, seed: UInt64 = 0) throws {
    guard !layersA.isEmpty else { throw InputError("\(modelA) has no layers to compare") }
    guard !layersB.isEmpty else { throw InputError("\(modelB) has no layers to compare") }
    guard permutations >= 0 else { throw InputError("the number of permutations must be ≥ 0, got \(permutations)") }
    precondition(permutations == 0 || debiased, "permutations need the U-centred (zero-diagonal) kernels")
    self.permutations = permutations
    shuffles = SplitMix64(seed: seed)
    nullCross = [Double](repeating: 0, count: permutations * layersA.count * layersB.count)
    terms = BatchHSIC(layersA: layersA.count, layersB: layersB.count)
    self.layersA = layersA
    self.layersB = layersB
    self.modelA = modelA
    self.modelB = modelB
    self.kernel = kernel
    self.debiased = debiased
    cross = [Double](repeating: 0, count: layersA.count * layersB.count)
    selfA = [Double](repeating: 0, count: layersA.count)
    selfB = [Double](repeating: 0, count: layersB.count)
  }

  /// The fewest examples a batch may have: 4 for the unbiased HSIC (it divides by n−3),
  /// 2 for the biased one.
  public var minimumBatchSize: Int { debiased ? 4 : 2 }

  /// Adds one batch: the same n examples through every layer of both models.
  ///
  /// - Parameters:
  ///   - batchA: One `n × features` matrix per layer of A, in `layersA` order.
  ///   - batchB: One `n × features` matrix per layer of B, the same examples in the same order.
  /// - Throws: `InputError` for a wrong number of layers, differing example counts, fewer than
  ///   `minimumBatchSize` examples, or a NaN/∞ activation (named by layer, example and
  ///   feature); the sums are unchanged then.
  public mutating func accumulate(batchA: [Matrix<Float>], batchB: [Matrix<Float>]) throws {
    try add(batchA, batchB)
  }

  /// Adds one batch of `Double` activations; Gram matrices are then formed in `Double`.
  public mutating func accumulate(batchA: [Matrix<Double>], batchB: [Matrix<Double>]) throws {
    try add(batchA, batchB)
  }

  /// The similarity matrix of the batches so far.
  /// - Throws: `InputError` when no batch was accumulated.
  public func result() throws -> SimilarityMatrix {
    guard batches > 0 else { throw InputError("no batch of examples was accumulated") }
    return try SimilarityMatrix(
      modelA: modelA, modelB: modelB, layersA: layersA, layersB: layersB,
      hsic: Matrix(rows: layersA.count, columns: layersB.count, elements: cross),
      hsicA: selfA, hsicB: selfB)
  }

  mutating func add<S: BLASScalar>(_ batchA: [Matrix<S>], _ batchB: [Matrix<S>]) throws {
    guard batchA.count == layersA.count else {
      throw InputError("the batch has \(batchA.count) layers of \(modelA), expected \(layersA.count)")
    }
    guard batchB.count == layersB.count else {
      throw InputError("the batch has \(batchB.count) layers of \(modelB), expected \(layersB.count)")
    }
    let layers = batchA.map { ($0, modelA) } + batchB.map { ($0, modelB) }
    let names = layersA + layersB
    let n = batchA[0].rows
    for (index, (x, model)) in layers.enumerated() where x.rows != n {
      throw InputError("layer '\(names[index])' of \(model) has \(x.rows) examples in this batch, layer '\(layersA[0])' of \(modelA) has \(n)")
    }
    try withElementBuffers(batchA + batchB) { buffers in
      try add(rows: n, Array(buffers[..<batchA.count]), Array(buffers[batchA.count...]))
    }
  }

  /// Adds one batch of n examples given as row-major `n × features` buffers per layer, in
  /// `layersA` and `layersB` order: where `CKAEstimator` hands over batches read straight from
  /// the mapped files (`RepresentationSource.withRows`).
  mutating func add<S: BLASScalar>(rows n: Int, _ batchA: [UnsafeBufferPointer<S>],
                                   _ batchB: [UnsafeBufferPointer<S>]) throws {
    guard batchA.count == layersA.count, batchB.count == layersB.count else {
      throw InputError("the batch has \(batchA.count) × \(batchB.count) layers, expected \(layersA.count) × \(layersB.count)")
    }
    guard n >= minimumBatchSize else {
      throw InputError("a batch of \(n) examples is too small: the \(debiased ? "unbiased" : "biased") HSIC needs at least \(minimumBatchSize)")
    }
    let layers = try LayerRows.layers(batchA, rows: n, names: layersA, model: modelA)
      + LayerRows.layers(batchB, rows: n, names: layersB, model: modelB)
    let products = try grams.products(layers, n: n, kernel: kernel, debiased: debiased, firstExample: examples)
    accumulate(products: products, count: layers.count, n: n, offsetA: 0, offsetB: layersA.count)
  }

  /// Adds one batch's HSIC terms from the products ⟨Ũᵢ, Ũⱼ⟩ of a stack of layers (`GramStack`)
  /// in which A's layers start at `offsetA` and B's at `offsetB`: how `MinibatchCKAGroup` feeds
  /// every pair of several models from one stack per batch.
  mutating func accumulate(products: [Double], count: Int, n: Int, offsetA: Int, offsetB: Int) {
    let scale = debiased ? 1 / (Double(n) * Double(n - 3)) : 1 / (Double(n - 1) * Double(n - 1))
    let a = layersA.count, b = layersB.count
    let batchCross = (0..<(a * b)).map { products[(offsetA + $0 / b) * count + offsetB + $0 % b] * scale }
    let batchA = (0..<a).map { products[(offsetA + $0) * count + offsetA + $0] * scale }
    let batchB = (0..<b).map { products[(offsetB + $0) * count + offsetB + $0] * scale }
    for e in 0..<(a * b) { cross[e] += batchCross[e] }
    for i in 0..<a { selfA[i] += batchA[i] }
    for j in 0..<b { selfB[j] += batchB[j] }
    terms.append(cross: batchCross, selfA: batchA, selfB: batchB)
    if permutations > 0 { addPermutedCross(size: n, scale: scale) }
    batches += 1
    examples += n
  }

  /// The error for a layer whose Gram diagonal is not finite: the first NaN/∞ activation, or
  /// an overflow of the squares when every activation is finite.
  static func nonFinite<S: BLASScalar>(_ x: LayerRows<S>, firstExample: Int) -> InputError {
    if let index = x.elements.firstIndex(where: { !$0.isFinite }) {
      let (row, column) = (index / Swift.max(x.columns, 1), index % Swift.max(x.columns, 1))
      return InputError("layer '\(x.name)' of \(x.model) has a non-finite activation (\(x.elements[index])) at example \(firstExample + row), feature \(column)")
    }
    return InputError("layer '\(x.name)' of \(x.model) has activations too large for \(S.self) products (the squared norms overflow) near example \(firstExample)")
  }
}

/// Calls `body` with the element buffers of `matrices`, all valid at once.
package func withElementBuffers<S: BLASScalar, R>(_ matrices: [Matrix<S>],
                                                  _ body: ([UnsafeBufferPointer<S>]) throws -> R) throws -> R {
  var buffers: [UnsafeBufferPointer<S>] = []
  buffers.reserveCapacity(matrices.count)
  func nest(_ index: Int) throws -> R {
    if index == matrices.count { return try body(buffers) }
    return try matrices[index].elements.withUnsafeBufferPointer { buffer in
      buffers.append(buffer)
      return try nest(index + 1)
    }
  }
  return try nest(0)
}

/// One layer's activations for one batch, n × `columns` row-major, wherever they are stored (a
/// matrix, or a mapped input file), with the names its errors give.
struct LayerRows<S: BLASScalar>: @unchecked Sendable {
  let elements: UnsafeBufferPointer<S>
  let columns: Int
  let name: String
  let model: String

  /// One model's layers of a batch of n examples, the features of each from its buffer's size.
  /// - Throws: `InputError` naming a layer whose values are not a whole number of examples.
  static func layers(_ buffers: [UnsafeBufferPointer<S>], rows n: Int, names: [String],
                     model: String) throws -> [LayerRows] {
    try zip(buffers, names).map { buffer, name in
      guard buffer.count % n == 0 else {
        throw InputError("layer '\(name)' of \(model) has \(buffer.count) values for a batch of \(n) examples")
      }
      return LayerRows(elements: buffer, columns: buffer.count / n, name: name, model: model)
    }
  }
}

/// The U-centred (or centred) kernel matrices of one batch of several layers, packed and stacked,
/// and all their pairwise Frobenius products from one `syrk`: the per-batch work of
/// `MinibatchCKA`, with its buffers kept between batches (a fresh multi-MB buffer per batch costs
/// more in page faults than the arithmetic).
struct GramStack: Sendable {
  /// The stacked packed triangles, layers × n(n+1)/2, of the last batch.
  var stacked: [Double] = []
  /// Per-worker centring, Gram and kernel space (as Double, rebound to Float for float32).
  var scratch: [Double] = []
  /// Per layer, whether its next batch is centred before its Gram is formed (1) or not (0):
  /// `LayerGrams.run` decides it from the layer's first batch and re-checks every batch.
  var centring: [UInt8] = []

  /// The products ⟨Ũᵢ, Ũⱼ⟩ (row-major count × count) of the layers' kernel matrices.
  /// - Throws: `InputError` for a NaN/∞ activation (named by layer, model and example).
  mutating func products<S: BLASScalar>(_ layers: [LayerRows<S>], n: Int, kernel: CKAKernel,
                                        debiased: Bool, firstExample: Int) throws -> [Double] {
    let packed = GramKernel.packedCount(n)
    let size = try blasDimension(packed, "examples² of a batch")
    let count = layers.count
    if stacked.count != count * packed { stacked = [Double](repeating: 0, count: count * packed) }
    let widest = layers.map(\.columns).max() ?? 0
    let panel = GramKernel.panelColumns(rows: n, columns: widest, scalar: S.self)
    // Scratch layout, in units of S: a centred panel n·panel, then the Gram n·n, then (as
    // Double) the full kernel n·n when needed.
    let fastPath = debiased && kernel == .linear
    let scalarsPerDouble = MemoryLayout<Double>.stride / MemoryLayout<S>.stride
    let centredDoubles = (n * panel + n * n + scalarsPerDouble - 1) / scalarsPerDouble
    let needed = centredDoubles + (fastPath ? 0 : n * n)
    // With several BLAS threads, the layers' Gram matrices are formed in parallel, one BLAS
    // thread each, rather than one after another with OpenBLAS threading each mid-sized syrk:
    // its threads spin between the calls (measured: 60 % of the wall time in system time).
    // The pairs' syrk below stays at one thread too: a threaded call would wake OpenBLAS's
    // threads, which then spin (system time) beside the next batch's workers.
    let threads = BLASThreads.count
    let workers = Swift.max(1, Swift.min(threads, count))
    if workers > 1 { BLASThreads.set(1) }
    defer { if workers > 1 { BLASThreads.set(threads) } }
    if scratch.count < workers * needed { scratch = [Double](repeating: 0, count: workers * needed) }
    if centring.count != count { centring = [UInt8](repeating: 1, count: count) }
    let failures = Mutex<[Int: any Error]>([:])
    try stacked.withUnsafeMutableBufferPointer { stack in
      try scratch.withUnsafeMutableBufferPointer { work in
       try centring.withUnsafeMutableBufferPointer { flags in
        let job = LayerGrams<S>(
          layers: layers, n: n, panel: panel, packed: packed, kernel: kernel,
          debiased: debiased, fastPath: fastPath, centredDoubles: centredDoubles, needed: needed,
          firstExample: firstExample, stack: SendableAddress(stack.baseAddress!),
          work: SendableAddress(work.baseAddress!), centring: SendableAddress(flags.baseAddress!))
        if workers == 1 {
          for index in layers.indices { try job.run(index, worker: 0) }
          return
        }
        // Each worker takes the next layer not yet taken, so that a worker slowed by the rest
        // of the machine does fewer layers instead of making the others wait at the batch's end.
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
          while true {
            let index = next.add(1, ordering: .relaxed).oldValue
            if index >= layers.count { break }
            do { try job.run(index, worker: worker) } catch { failures.withLock { $0[index] = error } }
          }
        }
       }
      }
    }
    if let first = failures.withLock({ $0.min { $0.key < $1.key } }) { throw first.value }
    // All pairs at once: G = Ũ·Ũᵀ over the stacked packed triangles by syrk; each full
    // Frobenius product is twice the packed one. With several workers, each takes a range of
    // the packed columns and the partial products are summed (this step is otherwise the only
    // serial work of a batch: 0.04 of 1.5 s on the 6 × 6 benchmark at two threads).
    let parts = packed >= 4096 ? workers : 1
    var partials = [Double](repeating: 0, count: parts * count * count)
    stacked.withUnsafeBufferPointer { stack in
      partials.withUnsafeMutableBufferPointer { pp in
        let (source, target) = (SendableAddress(UnsafeMutablePointer(mutating: stack.baseAddress!)),
                                SendableAddress(pp.baseAddress!))
        let part: @Sendable (Int) -> Void = { index in
          let first = index * packed / parts, end = (index + 1) * packed / parts
          Double.syrk(transpose: false, n: Int32(count), k: Int32(end - first), alpha: 2,
                      a: source.base + first, lda: size, beta: 0, c: target.base + index * count * count,
                      ldc: Int32(count))
        }
        if parts == 1 { part(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: part) }
      }
    }
    guard parts > 1 else { return partials }
    var products = [Double](repeating: 0, count: count * count)
    for index in 0..<parts {
      for e in 0..<(count * count) { products[e] += partials[index * count * count + e] }
    }
    return products
  }
}

/// An address that may cross into `concurrentPerform`'s closure: each worker writes only its own
/// scratch region and its own layers' stacked triangles (and, in the CKA benchmark's bound, its
/// own Gram buffer).
package struct SendableAddress<T>: @unchecked Sendable {
  package let base: UnsafeMutablePointer<T>
  package init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}

/// One batch's work per layer: form the Gram matrix of its centred rows panel by panel, kernel
/// and centre it, and pack its upper triangle into the layer's row of the stack.
///
/// Activations so small that their products are subnormal in `S` (|x| below about 1e-19 in
/// float32), or so large that they overflow, are scaled by a power of two before the Gram is
/// formed, and the `Double` kernel is scaled back: exact, and for activations of ordinary size
/// (where neither happens) nothing changes.
struct LayerGrams<S: BLASScalar>: Sendable {
  let layers: [LayerRows<S>]
  let n: Int, panel: Int, packed: Int
  let kernel: CKAKernel
  let debiased: Bool, fastPath: Bool
  let centredDoubles: Int, needed: Int
  let firstExample: Int
  let stack: SendableAddress<Double>
  let work: SendableAddress<Double>
  /// Per layer: centre the next batch (1) or not (0); each worker writes only its own layers'.
  let centring: SendableAddress<UInt8>

  /// When the Gram `gram` of `x` (formed in `S`) has a diagonal out of `S`'s range, forms it
  /// again from the activations scaled by 2^e (`GramKernel.normalisingExponent`) and returns
  /// 2^−2e, the factor that brings it back; otherwise returns 1 and leaves `gram` alone.
  /// - Throws: `InputError` for a NaN/∞ activation, or activations whose HSIC `Double` cannot hold.
  func rescaledGramIfNeeded(_ x: LayerRows<S>, panel: UnsafeMutablePointer<S>,
                            gram: UnsafeMutablePointer<S>) throws -> Double {
    guard GramKernel.diagonalOutOfRange(gram, size: n) else { return 1 }
    if x.elements.contains(where: { !$0.isFinite }) { throw MinibatchCKA.nonFinite(x, firstExample: firstExample) }
    let e = GramKernel.normalisingExponent(x.elements)
    let unscale = Double(sign: .plus, exponent: -2 * e, significand: 1)
    // HSIC goes as the fourth power of the scale: its terms must stay normal Doubles.
    guard e.magnitude < 240 else {
      throw InputError("layer '\(x.name)' of \(x.model) has activations too \(e > 0 ? "small" : "large") for their HSIC to be represented (largest |x| is 2^\(-e)) near example \(firstExample)")
    }
    // In two steps: 2^e itself may be out of `S`'s range (float32 activations below 1e-38).
    let half = S(sign: .plus, exponent: S.Exponent(e / 2), significand: 1)
    let rest = S(sign: .plus, exponent: S.Exponent(e - e / 2), significand: 1)
    let scaled = x.elements.map { $0 * half * rest }
    scaled.withUnsafeBufferPointer {
      GramKernel.centredUpperGram($0.baseAddress!, rows: n, columns: x.columns, panel: panel, into: gram)
    }
    guard GramKernel.diagonalIsFinite(gram, size: n) else { throw MinibatchCKA.nonFinite(x, firstExample: firstExample) }
    return unscale
  }

  /// Layer `index` with worker `worker`'s scratch region.
  func run(_ index: Int, worker: Int) throws {
    let x = layers[index]
    let out = stack.base + index * packed
    let region = work.base + worker * needed
    let pf = region + centredDoubles
    try UnsafeMutableBufferPointer(start: region, count: centredDoubles).withMemoryRebound(to: S.self) { scalars in
      let pc = scalars.baseAddress!, pg = scalars.baseAddress! + n * panel
      let constant = x.columns == 0 || GramKernel.isConstant(x.elements.baseAddress!, rows: n, columns: x.columns)
      if constant, x.columns > 0, let bad = x.elements[..<x.columns].firstIndex(where: { !$0.isFinite }) {
        throw InputError("layer '\(x.name)' of \(x.model) has a non-finite activation (\(x.elements[bad])) at example \(firstExample), feature \(bad)")
      }
      if constant {
        // Exactly zero, as the centred kernel of identical rows is in exact arithmetic.
        out.update(repeating: 0, count: packed)
        return
      }
      // Centring is skipped for a layer whose mean carries at most a quarter of its squared
      // norm, ρ = ‖μ‖² / (‖μ‖² + mean ‖xᵢ − μ‖²) ≤ ¼: HSIC does not change, and the float32 Gram of
      // the raw rows then has at most 1/(1 − ρ) ≤ 4/3 the rounding error of the centred rows'
      // (its rounding grows with the rows' squared norms, the U-centred kernel with their
      // spread), while the centring pass (column means, a copy) costs 4 % of the whole command.
      // Zero-mean layers (pre-activations, normalised streams) skip it; post-ReLU layers
      // (ρ ≈ 0.3) and any with an offset keep it. Only the fast path skips; a layer's first
      // batch is centred and decides, and each skipped batch is checked from its own Gram,
      // centred after all (and the layer from then on) if it fails.
      let skip = fastPath && centring.base[index] == 0
      if skip {
        GramKernel.upperGram(x.elements.baseAddress!, rows: n, columns: x.columns, into: pg)
      } else {
        let meanSquares = GramKernel.centredUpperGram(x.elements.baseAddress!, rows: n, columns: x.columns,
                                                      panel: pc, into: pg)
        if fastPath {
          centring.base[index] = 3 * Double(n) * meanSquares <= GramKernel.trace(pg, size: n) ? 0 : 1
        }
      }
      // The Gram of the activations scaled by 2^e is 2^2e times theirs; `unscale` = 2^−2e.
      let unscale = try rescaledGramIfNeeded(x, panel: pc, gram: pg)
      if fastPath {
        let offDiagonal = GramKernel.packUCentred(pg, size: n, into: out)
        var scale = unscale
        // ρ = (1ᵀK1 / n) / tr K for the raw Gram K.
        if skip, unscale == 1 {
          let trace = GramKernel.trace(pg, size: n)
          if 4 * (offDiagonal + trace) > Double(n) * trace {
            GramKernel.centredUpperGram(x.elements.baseAddress!, rows: n, columns: x.columns, panel: pc, into: pg)
            scale = try rescaledGramIfNeeded(x, panel: pc, gram: pg)
            GramKernel.packUCentred(pg, size: n, into: out)
            centring.base[index] = 1
          }
        }
        if scale != 1 { for e in 0..<packed { out[e] *= scale } }
        return
      }
      GramKernel.widen(pg, size: n, into: pf)
      if case .rbf(let threshold) = kernel {
        // The rbf kernel (its width a multiple of the median distance) does not change with the scale.
        GramKernel.rbfInPlace(pf, size: n, threshold: threshold)
      } else if unscale != 1 {
        for e in 0..<(n * n) { pf[e] *= unscale }
      }
      if debiased { GramKernel.uCentre(pf, size: n) } else { GramKernel.centre(pf, size: n) }
      GramKernel.pack(pf, size: n, into: out)
    }
  }
}
