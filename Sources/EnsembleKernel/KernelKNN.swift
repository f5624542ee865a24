import CompareCore

/// k-nearest-neighbour classification of test examples by the labels of their most similar
/// training examples under a kernel.
///
///     pred[i] = argmax_c Σ_{j ∈ topk(kernel[i, :], k), label[j] = c} w(kernel[i, j])
///
/// With `weighting: .none` every neighbour has weight 1 and this is the reference code's
/// `labels_train[topk(kernel, k)].mode()`, tie rule included: `torch.mode` returns the
/// smallest of the most frequent labels (checked against PyTorch 2.x on CPU), so with k = 3 and
/// three different labels the prediction is the smallest label, not the nearest neighbour's.
/// `ties: .kernelSum` is the better rule Compare offers: among tied labels, the one whose
/// neighbours have the largest summed kernel value.
public struct KernelKNN: Sendable {
  /// How a neighbour's vote is weighted by its kernel value κ.
  public enum Weighting: Sendable, Equatable, CustomStringConvertible {
    /// Every neighbour counts 1 (majority vote).
    case none
    /// w = max(κ, 0)^p: closer neighbours count more; negative correlations count 0.
    case power(Double)
    /// w = exp(κ / T): a softmax over the neighbours' kernel values at temperature T.
    case softmax(temperature: Double)

    /// Parses `power:P` or `softmax:T` (P ≥ 0, T > 0) or `none`; `nil` when malformed.
    public init?(_ text: String) {
      if text == "none" { self = .none; return }
      let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
      guard parts.count == 2, let x = Double(parts[1]), x.isFinite else { return nil }
      switch parts[0] {
      case "power" where x >= 0: self = .power(x)
      case "softmax" where x > 0: self = .softmax(temperature: x)
      default: return nil
      }
    }

    /// The command-line spelling: `none`, `power:P`, `softmax:T`.
    public var description: String {
      switch self {
      case .none: "none"
      case .power(let p): "power:\(Self.number(p))"
      case .softmax(let t): "softmax:\(Self.number(t))"
      }
    }

    static func number(_ x: Double) -> String {
      x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }
  }

  /// How a tie between the top-voted labels is broken.
  public enum TieRule: String, Sendable, CaseIterable {
    /// The smallest label: `torch.mode`'s rule, the reference's behaviour.
    case smallestLabel = "smallest-label"
    /// The label whose neighbours have the largest summed kernel value; then the smallest.
    case kernelSum = "kernel-sum"
  }

  /// Neighbours that vote.
  public var k: Int
  /// How votes are weighted by kernel value.
  public var weighting: Weighting
  /// How a tie between the top-voted labels is broken.
  public var ties: TieRule

  /// A k-NN classifier; the defaults are the reference's: k = 3, one vote each, smallest label
  /// on a tie.
  public init(k: Int = 3, weighting: Weighting = .none, ties: TieRule = .smallestLabel) {
    self.k = k
    self.weighting = weighting
    self.ties = ties
  }

  /// The predicted label of every row of `neighbors`.
  ///
  /// - Parameters:
  ///   - trainLabels: Labels of the training examples, in `0..<classes`.
  /// - Throws: `InputError` if `k` exceeds the neighbours held, or a neighbour's index is
  ///   outside `trainLabels`.
  public func predictions(_ neighbors: Neighbors, trainLabels: [Int], classes: Int) throws -> [Int] {
    guard k >= 1, k <= neighbors.count else {
      throw InputError("k = \(k) needs at least \(k) neighbours per example, but \(neighbors.count) are held")
    }
    var result = [Int](repeating: 0, count: neighbors.rows.count)
    var score = [Double](repeating: 0, count: classes)
    var sum = [Double](repeating: 0, count: classes)
    var present = [Bool](repeating: false, count: classes)
    for r in 0..<neighbors.rows.count {
      for c in 0..<classes { score[c] = 0; sum[c] = 0; present[c] = false }
      let top = Double(neighbors.values[r * neighbors.count])
      for n in 0..<k {
        let j = neighbors.indices[r * neighbors.count + n]
        guard j >= 0, j < trainLabels.count else {
          throw InputError("neighbour index \(j) is outside the \(trainLabels.count) training labels")
        }
        let label = trainLabels[j]
        guard label >= 0, label < classes else {
          throw InputError("training label \(label) at index \(j) is outside 0..<\(classes)")
        }
        let kappa = Double(neighbors.values[r * neighbors.count + n])
        let weight: Double
        switch weighting {
        case .none: weight = 1
        case .power(let p): weight = pow(max(kappa, 0), p)
        case .softmax(let t): weight = exp((kappa - top) / t)
        }
        score[label] += weight
        sum[label] += kappa
        present[label] = true
      }
      var best = -1
      for c in 0..<classes where present[c] {
        if best < 0 || score[c] > score[best] {
          best = c
        } else if score[c] == score[best], ties == .kernelSum, sum[c] > sum[best] {
          best = c
        }
      }
      result[r] = best
    }
    return result
  }

  /// Fraction of rows whose prediction equals `testLabels[row]` (labels of the whole test set,
  /// indexed by the rows of `neighbors`).
  /// - Throws: As `predictions`, and `InputError` if `testLabels` does not cover the rows.
  public func accuracy(_ neighbors: Neighbors, trainLabels: [Int], testLabels: [Int],
                       classes: Int) throws -> Double {
    guard neighbors.rows.upperBound <= testLabels.count else {
      throw InputError("test labels cover \(testLabels.count) examples, neighbours rows up to \(neighbors.rows.upperBound)")
    }
    let predicted = try predictions(neighbors, trainLabels: trainLabels, classes: classes)
    if predicted.isEmpty { return 0 }
    var correct = 0
    for (r, p) in predicted.enumerated() where testLabels[neighbors.rows.lowerBound + r] == p { correct += 1 }
    return Double(correct) / Double(predicted.count)
  }
}
