import CompareCore

/// How well predicted probabilities match outcomes: expected calibration error, negative
/// log-likelihood and Brier score, each a mean over examples.
///
///     ece   = Σ_b (count_b / n) · |accuracy_b − confidence_b|      15 equal-width bins of max_c p_c
///     nll   = (1/n) Σ_i −log p_{i, y_i}
///     brier = (1/n) Σ_i Σ_c (p_{i,c} − [c = y_i])²
///
/// The ECE is torchmetrics' `MulticlassCalibrationError(n_bins=15, norm="l1")`: the confidence
/// is the largest probability, the prediction its class (first of equal maxima), and a
/// confidence goes to bin b when `boundary[b] ≤ confidence < boundary[b + 1]` for the 16
/// boundaries of `linspace(0, 1, 16)`; a confidence of exactly 1 gets a bin of its own, as
/// `torch.bucketize(..., right=True) − 1` gives it. The Brier score is the multiclass form
/// (summed over classes, in [0, 2]; Brier 1950). All three shrink as calibration improves.
public struct Calibration: Sendable, Equatable {
  /// Expected calibration error, L1, 15 bins, in [0, 1].
  public var ece: Double
  /// Mean negative log-likelihood of the true class (nats).
  public var nll: Double
  /// Mean multiclass Brier score, in [0, 2].
  public var brier: Double

  public init(ece: Double, nll: Double, brier: Double) {
    self.ece = ece
    self.nll = nll
    self.brier = brier
  }

  /// Calibration of `probabilities` (row-major `examples × classes`, each row summing to 1)
  /// against `labels`.
  /// - Throws: `InputError` if the shapes disagree or a label is outside `0..<classes`.
  /// - Complexity: O(examples · classes).
  public init(probabilities: [Double], classes: Int, labels: [Int]) throws {
    guard classes > 0, probabilities.count == labels.count * classes else {
      throw InputError("\(probabilities.count) probabilities do not fill \(labels.count) examples × \(classes) classes")
    }
    if let i = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
      throw InputError("labels[\(i)] = \(labels[i]) is outside the \(classes) classes 0..<\(classes)")
    }
    var bins = Bins()
    var nll = 0.0, brier = 0.0
    for (i, y) in labels.enumerated() {
      let row = probabilities[(i * classes)..<((i + 1) * classes)]
      var best = 0, bestValue = -Double.infinity, squares = 0.0
      for (c, p) in row.enumerated() {
        if p > bestValue { best = c; bestValue = p }
        let d = p - (c == y ? 1 : 0)
        squares += d * d
      }
      bins.add(confidence: bestValue, correct: best == y)
      nll -= log(row[row.startIndex + y])
      brier += squares
    }
    let n = Double(max(labels.count, 1))
    self.init(ece: bins.ece, nll: nll / n, brier: brier / n)
  }

  /// torchmetrics' 15 calibration bins: counts, summed confidences and correct predictions.
  public struct Bins: Sendable {
    public static let count = 15
    var examples = [Double](repeating: 0, count: count + 1)
    var confidence = [Double](repeating: 0, count: count + 1)
    var correct = [Double](repeating: 0, count: count + 1)

    public init() {}

    /// `linspace(0, 1, 16)` as numpy and torch compute it: b · (1/15), the last exactly 1.
    static func boundary(_ b: Int) -> Double { b == count ? 1 : Double(b) * (1.0 / Double(count)) }

    /// The bin of `confidence`: the number of boundaries ≤ it, minus 1 (0...15).
    public static func index(of confidence: Double) -> Int {
      var b = max(0, min(count, Int(confidence * Double(count))))
      while b < count, confidence >= boundary(b + 1) { b += 1 }
      while b > 0, confidence < boundary(b) { b -= 1 }
      return b
    }

    /// Counts one prediction.
    public mutating func add(confidence p: Double, correct isCorrect: Bool) {
      let b = Self.index(of: p)
      examples[b] += 1
      confidence[b] += p
      if isCorrect { correct[b] += 1 }
    }

    /// Σ_b (count_b / n) · |accuracy_b − confidence_b|; 0 with no examples.
    public var ece: Double {
      let total = examples.reduce(0, +)
      guard total > 0 else { return 0 }
      var sum = 0.0
      for b in 0..<examples.count where examples[b] > 0 {
        sum += abs(correct[b] - confidence[b]) / total
      }
      return sum
    }
  }
}
