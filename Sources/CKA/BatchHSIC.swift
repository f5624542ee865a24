import CompareCore

/// The HSIC terms of every batch of a minibatch CKA estimate, kept so that the estimate can be
/// recomputed from any reweighting of the batches (jackknife, bootstrap) without forming a Gram
/// matrix again.
///
///     θ(A_k, B_l) = Σ_b h_xy(b) / √(Σ_b h_xx(b) · Σ_b h_yy(b))
///
/// with h the unbiased HSIC₁ of batch b of layer k of A (x) and layer l of B (y).
///
/// - Complexity: memory (a·b + a + b) doubles per batch for a layers of A and b of B.
public struct BatchHSIC: Sendable, Equatable {
  /// Layers of A (rows) and of B (columns).
  public let layersA: Int, layersB: Int
  /// h_xy of each batch, `batches × (layersA·layersB)`, each batch's a × b block row-major.
  public private(set) var cross: [Double] = []
  /// h_xx of each batch, `batches × layersA`.
  public private(set) var selfA: [Double] = []
  /// h_yy of each batch, `batches × layersB`.
  public private(set) var selfB: [Double] = []

  /// No batches yet.
  public init(layersA: Int, layersB: Int) {
    self.layersA = layersA
    self.layersB = layersB
  }

  /// Terms given batch by batch: `cross[b]` is batch b's `layersA × layersB` matrix of h_xy,
  /// `selfA[b]`, `selfB[b]` its h_xx and h_yy.
  /// - Throws: `InputError` when the shapes disagree.
  public init(cross: [Matrix<Double>], selfA: [[Double]], selfB: [[Double]]) throws {
    guard let first = cross.first else { throw InputError("no batch of HSIC terms was given") }
    self.init(layersA: first.rows, layersB: first.columns)
    guard cross.count == selfA.count, cross.count == selfB.count else {
      throw InputError("HSIC terms of \(cross.count), \(selfA.count) and \(selfB.count) batches do not match")
    }
    for (c, (a, b)) in zip(cross, zip(selfA, selfB)) {
      guard c.rows == layersA, c.columns == layersB, a.count == layersA, b.count == layersB else {
        throw InputError("a batch's HSIC terms (\(c.shapeDescription), \(a.count), \(b.count)) do not fit \(layersA) × \(layersB) layers")
      }
      append(cross: c.elements, selfA: a, selfB: b)
    }
  }

  /// Batches kept.
  public var batches: Int { selfA.count / max(layersA, 1) }

  mutating func append(cross c: some Collection<Double>, selfA a: some Collection<Double>,
                       selfB b: some Collection<Double>) {
    cross.append(contentsOf: c)
    selfA.append(contentsOf: a)
    selfB.append(contentsOf: b)
  }

  /// θ from the batches counted `weights[b]` times each (1 for all: the estimate itself; a
  /// bootstrap resample's counts; 0 for a left-out batch). NaN where a self-HSIC sum is ≤ 0.
  /// - Throws: `InputError` unless there is one finite weight per batch.
  public func similarities(weights: [Double]) throws -> Matrix<Double> {
    guard weights.count == batches, weights.allSatisfy(\.isFinite) else {
      throw InputError("\(weights.count) weights for \(batches) batches: one finite weight per batch is needed")
    }
    return weighted(weights)
  }

  func weighted(_ weights: [Double]) -> Matrix<Double> {
    let a = layersA, b = layersB
    var sumCross = [Double](repeating: 0, count: a * b)
    var sumA = [Double](repeating: 0, count: a), sumB = [Double](repeating: 0, count: b)
    for (t, w) in weights.enumerated() where w != 0 {
      for e in 0..<(a * b) { sumCross[e] += w * cross[t * a * b + e] }
      for i in 0..<a { sumA[i] += w * selfA[t * a + i] }
      for j in 0..<b { sumB[j] += w * selfB[t * b + j] }
    }
    return Self.ratio(sumCross, sumA, sumB, a, b)
  }

  /// θ from the resampled batches `indices` (with repetition): the bootstrap's ratio of
  /// resampled sums.
  /// - Throws: `InputError` for an index outside `0..<batches`.
  public func similarities(batches indices: [Int]) throws -> Matrix<Double> {
    if let bad = indices.first(where: { !(0..<batches).contains($0) }) {
      throw InputError("batch index \(bad) is outside 0..<\(batches)")
    }
    return resampled(indices)
  }

  func resampled(_ indices: [Int]) -> Matrix<Double> {
    var weights = [Double](repeating: 0, count: batches)
    for i in indices { weights[i] += 1 }
    return weighted(weights)
  }

  /// The delete-one-batch jackknife standard error of every cell:
  ///
  ///     θ₋ᵢ = (Σ_b h_xy − h_xy(i)) / √((Σ_b h_xx − h_xx(i)) · (Σ_b h_yy − h_yy(i)))
  ///     SE = √((B−1)/B · Σᵢ (θ₋ᵢ − mean(θ₋·))²)
  ///
  /// - Returns: `layersA × layersB`, NaN where a leave-one-out θ is undefined; `nil` for fewer
  ///   than 2 batches.
  /// - Complexity: O(B·a·b).
  public func jackknifeStandardErrors() -> Matrix<Double>? {
    let count = batches
    guard count >= 2 else { return nil }
    let a = layersA, b = layersB
    let totals = (0..<(a * b)).map { e in (0..<count).reduce(0) { $0 + cross[$1 * a * b + e] } }
    let totalA = (0..<a).map { i in (0..<count).reduce(0) { $0 + selfA[$1 * a + i] } }
    let totalB = (0..<b).map { j in (0..<count).reduce(0) { $0 + selfB[$1 * b + j] } }
    let leftOut = (0..<count).map { t in
      Self.ratio((0..<(a * b)).map { totals[$0] - cross[t * a * b + $0] },
                 (0..<a).map { totalA[$0] - selfA[t * a + $0] },
                 (0..<b).map { totalB[$0] - selfB[t * b + $0] }, a, b)
    }
    let scale = Double(count - 1) / Double(count)
    return Matrix(rows: a, columns: b) { r, c in
      let values = leftOut.map { $0[r, c] }
      let mean = values.reduce(0, +) / Double(count)
      let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
      return (scale * squares).squareRoot()
    }
  }

  /// Percentile bootstrap intervals: `resamples` draws of B batches with replacement (by
  /// `SplitMix64(seed:)`, each draw B calls of `nextIndex(below: B)`), θ recomputed from each
  /// draw's sums, and the (1−confidence)/2 and (1+confidence)/2 quantiles of the draws
  /// (linear interpolation between order statistics, numpy's default). A draw whose θ is
  /// undefined (a self-HSIC sum ≤ 0) is left out of that cell's quantiles.
  ///
  /// - Returns: The lower and upper ends, `layersA × layersB`; `nil` for fewer than 2 batches.
  /// - Complexity: O(resamples·B·(a·b)) time, O(resamples·a·b) memory.
  public func bootstrapIntervals(resamples: Int, confidence: Double, seed: UInt64)
    -> (low: Matrix<Double>, high: Matrix<Double>)? {
    let count = batches
    guard count >= 2, resamples > 0 else { return nil }
    var rng = SplitMix64(seed: seed)
    let draws = (0..<resamples).map { _ in
      resampled((0..<count).map { _ in rng.nextIndex(below: count) })
    }
    return Self.percentiles(draws, rows: layersA, columns: layersB, confidence: confidence)
  }

  /// The (1−confidence)/2 and (1+confidence)/2 quantiles of each cell over `draws`.
  public static func percentiles(_ draws: [Matrix<Double>], rows: Int, columns: Int,
                                 confidence: Double) -> (low: Matrix<Double>, high: Matrix<Double>) {
    var low = Matrix<Double>(zeros: rows, columns), high = Matrix<Double>(zeros: rows, columns)
    for r in 0..<rows {
      for c in 0..<columns {
        let values = draws.map { $0[r, c] }.filter(\.isFinite).sorted()
        low.elements[r * columns + c] = quantile(values, (1 - confidence) / 2)
        high.elements[r * columns + c] = quantile(values, (1 + confidence) / 2)
      }
    }
    return (low, high)
  }

  /// The q-quantile of sorted values, interpolating linearly between order statistics
  /// (numpy's `quantile` default); NaN for no values.
  public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let position = q * Double(sorted.count - 1)
    let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
    let fraction = position - Double(below)
    return sorted[below] + fraction * (sorted[above] - sorted[below])
  }

  static func ratio(_ cross: [Double], _ a: [Double], _ b: [Double], _ rows: Int, _ columns: Int) -> Matrix<Double> {
    Matrix(rows: rows, columns: columns) { i, j in
      guard a[i] > 0, b[j] > 0 else { return .nan }
      return cross[i * columns + j] / (a[i].squareRoot() * b[j].squareRoot())
    }
  }
}
