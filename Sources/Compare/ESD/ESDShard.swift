import CompareCore
import SpectralMetrics
import TensorIO

/// One of N parts of a model's ESD work, for job arrays: `compare esd MODEL --shard I/N`.
///
/// Layers are dealt to parts by their eigenvalue work, not their count: each layer weighs its
/// decompositions' estimated time (`weight(of:options:)`: the Gram product, the eigensolver or
/// the SVD of each of its rf slices, for W and each random draw), and the layers, heaviest
/// first, go one by one to the part with the least work so far (ties to the lower part, then
/// the earlier layer; the classic longest-processing-time rule, within 4/3 of the best
/// balance). The deal depends only on the layers' shapes and order and the options, so every
/// part computes the same one.
public struct ESDShard: Sendable, Equatable, CustomStringConvertible {
  /// 1-based part number.
  public let index: Int
  /// Number of parts.
  public let count: Int

  /// - Throws: `InputError` unless 1 ≤ index ≤ count.
  public init(index: Int, count: Int) throws {
    guard count >= 1, index >= 1, index <= count else {
      throw InputError("--shard \(index)/\(count) is not a part: expected I/N with 1 ≤ I ≤ N")
    }
    self.index = index
    self.count = count
  }

  /// Parses `I/N`.
  /// - Throws: `InputError` for anything else, or I outside 1...N.
  public init(_ text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
      throw InputError("--shard expects I/N (e.g. 2/8), got '\(text)'")
    }
    try self.init(index: i, count: n)
  }

  public var description: String { "\(index)/\(count)" }

  /// The eigenvalue work of a layer: rf·N·M².
  public static func cost(of layer: WeightLayer) -> Double {
    Double(layer.rf) * Double(layer.n) * Double(layer.m) * Double(layer.m)
  }

  /// Decompositions of a layer's analysis: W, and with randomisation each random draw
  /// (`--rand-repeats`, 5 when M·rf < 100, as the reference pools them).
  public static func decompositions(of layer: WeightLayer, options: ESDOptions) -> Int {
    let rowRf = options.pool ? layer.rf : 1
    return 1 + (options.randomize ? Swift.max(options.randRepeats, layer.m * rowRf < 100 ? 5 : 1) : 0)
  }

  /// A layer's estimated analysis time in units of one rf·N·M² Gram product: per
  /// decomposition, rf·(N·M² + 2.7·M³) on the Gram route (`syrk`, then `syevd`'s M³ at 2.7
  /// times `syrk`'s rate per unit), or rf·12.7·N·M² for a near-square layer in float64, which
  /// goes to `gesdd` (`EigenvalueSolver.probesConditioning`). The ratios are `compare esd
  /// --plan`'s float64 rates on this project's 2-core machine; only their proportions matter.
  public static func weight(of layer: WeightLayer, options: ESDOptions) -> Double {
    let n = Double(Swift.max(layer.n, layer.m)), m = Double(Swift.min(layer.n, layer.m))
    let each = options.solver.probesConditioning(rows: layer.n, columns: layer.m)
      ? 12.7 * n * m * m : n * m * m + 2.7 * m * m * m
    return Double(layer.rf) * each * Double(decompositions(of: layer, options: options))
  }

  /// The part (0-based) each layer goes to.
  public static func assignment(of layers: [WeightLayer], parts: Int, options: ESDOptions = ESDOptions()) -> [Int] {
    var load = [Double](repeating: 0, count: parts)
    var part = [Int](repeating: 0, count: layers.count)
    let weights = layers.map { weight(of: $0, options: options) }
    let order = layers.indices.sorted { (weights[$0], -$0) > (weights[$1], -$1) }
    for i in order {
      let least = load.indices.min { (load[$0], $0) < (load[$1], $1) }!
      part[i] = least
      load[least] += weights[i]
    }
    return part
  }

  /// This part's layers, in table order.
  public func select(_ layers: [WeightLayer], options: ESDOptions = ESDOptions()) -> [WeightLayer] {
    let part = Self.assignment(of: layers, parts: count, options: options)
    return layers.indices.filter { part[$0] == index - 1 }.map { layers[$0] }
  }
}
