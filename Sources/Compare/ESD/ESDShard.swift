import CompareCore
import SpectralMetrics
import TensorIO

/// One of N parts of a model's ESD work, for job arrays: `compare esd MODEL --shard I/N`.
///
/// Layers are dealt to parts by their eigenvalue work, not their count: each layer costs
/// rf·N·M² (the Gram or SVD of each of its rf slices), and the layers, largest first, go one by
/// one to the part with the least work so far (ties to the lower part, then the earlier layer;
/// the classic longest-processing-time rule, within 4/3 of the best balance). The deal depends
/// only on the layers' shapes and order, so every part computes the same one.
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

  /// The part (0-based) each layer goes to.
  public static func assignment(of layers: [WeightLayer], parts: Int) -> [Int] {
    var load = [Double](repeating: 0, count: parts)
    var part = [Int](repeating: 0, count: layers.count)
    let order = layers.indices.sorted { (cost(of: layers[$0]), -$0) > (cost(of: layers[$1]), -$1) }
    for i in order {
      let least = load.indices.min { (load[$0], $0) < (load[$1], $1) }!
      part[i] = least
      load[least] += cost(of: layers[i])
    }
    return part
  }

  /// This part's layers, in table order.
  public func select(_ layers: [WeightLayer]) -> [WeightLayer] {
    let part = Self.assignment(of: layers, parts: count)
    return layers.indices.filter { part[$0] == index - 1 }.map { layers[$0] }
  }
}
