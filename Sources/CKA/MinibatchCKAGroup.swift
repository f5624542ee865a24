import CompareCore

/// Minibatch CKA between every pair of several models' layers in one pass: each batch's kernel
/// matrices are formed once per layer of every model and all pairs' HSIC terms come from one
/// `syrk` over their stack (`GramStack`), instead of once per pair of models.
///
/// For M models of L layers each, a batch costs M·L Gram matrices instead of M(M − 1)·L, and
/// the files are read once instead of M − 1 times. Each pair's sums, batch terms (for the
/// jackknife and the bootstrap) and result are exactly those of `MinibatchCKA` on that pair.
/// Permutation tests shuffle one model against another and are left to the pairwise estimator.
///
/// ```swift
/// var group = try MinibatchCKAGroup(models: [("ckpt1", names1), ("ckpt2", names2), ("ckpt3", names3)])
/// for batch in batches { try group.accumulate(batch) }   // one [Matrix] per model
/// let pairs = group.pairs                                 // (i, j, MinibatchCKA), i < j
/// ```
public struct MinibatchCKAGroup: Sendable {
  /// The models' names and layer names, in the order batches give them.
  public let models: [(name: String, layers: [String])]
  /// Every pair's accumulator, (0, 1), (0, 2), …, (1, 2), …
  public private(set) var pairs: [(i: Int, j: Int, cka: MinibatchCKA)]
  var grams = GramStack()
  let kernel: CKAKernel
  /// Examples accumulated so far.
  public private(set) var examples = 0

  /// - Throws: `InputError` for fewer than two models or a model without layers.
  public init(models: [(name: String, layers: [String])], kernel: CKAKernel = .linear) throws {
    guard models.count >= 2 else { throw InputError("CKA compares at least two models, got \(models.count)") }
    self.models = models
    self.kernel = kernel
    var pairs: [(i: Int, j: Int, cka: MinibatchCKA)] = []
    for i in models.indices {
      for j in (i + 1)..<models.count {
        pairs.append((i, j, try MinibatchCKA(layersA: models[i].layers, layersB: models[j].layers,
                                             modelA: models[i].name, modelB: models[j].name, kernel: kernel)))
      }
    }
    self.pairs = pairs
  }

  /// Adds one batch: for each model, one `n × features` matrix per layer, the same n examples.
  /// - Throws: `InputError` for a wrong number of models or layers, differing example counts,
  ///   fewer than 4 examples, or a NaN/∞ activation (named by layer, model and example).
  public mutating func accumulate<S: BLASScalar>(_ batch: [[Matrix<S>]]) throws {
    guard batch.count == models.count else {
      throw InputError("the batch has \(batch.count) models, expected \(models.count)")
    }
    let n = batch.first?.first?.rows ?? 0
    for (m, matrices) in batch.enumerated() {
      guard matrices.count == models[m].layers.count else {
        throw InputError("the batch has \(matrices.count) layers of \(models[m].name), expected \(models[m].layers.count)")
      }
      for (l, x) in matrices.enumerated() where x.rows != n {
        throw InputError("layer '\(models[m].layers[l])' of \(models[m].name) has \(x.rows) examples in this batch, expected \(n)")
      }
    }
    try withElementBuffers(batch.flatMap { $0 }) { buffers in
      var rest = buffers[...]
      let perModel = batch.map { matrices in
        defer { rest = rest.dropFirst(matrices.count) }
        return Array(rest.prefix(matrices.count))
      }
      try accumulate(rows: n, perModel)
    }
  }

  /// Adds one batch of n examples given as row-major `n × features` buffers, per model and
  /// layer: batches read straight from the mapped files (`RepresentationSource.withRows`).
  mutating func accumulate<S: BLASScalar>(rows n: Int, _ batch: [[UnsafeBufferPointer<S>]]) throws {
    guard batch.count == models.count else {
      throw InputError("the batch has \(batch.count) models, expected \(models.count)")
    }
    guard n >= 4 else {
      throw InputError("a batch of \(n) examples is too small: the unbiased HSIC needs at least 4")
    }
    var layers: [LayerRows<S>] = [], offsets: [Int] = []
    for (m, buffers) in batch.enumerated() {
      guard buffers.count == models[m].layers.count else {
        throw InputError("the batch has \(buffers.count) layers of \(models[m].name), expected \(models[m].layers.count)")
      }
      offsets.append(layers.count)
      layers += try LayerRows.layers(buffers, rows: n, names: models[m].layers, model: models[m].name)
    }
    let products = try grams.products(layers, n: n, kernel: kernel, debiased: true, firstExample: examples)
    for k in pairs.indices {
      pairs[k].cka.accumulate(products: products, count: layers.count, n: n,
                              offsetA: offsets[pairs[k].i], offsetB: offsets[pairs[k].j])
    }
    examples += n
  }
}
