import CompareCore

/// The two accuracies the kernel is compared with: the average accuracy of the single models,
/// and the accuracy of the ensemble (argmax of the mean logits).
///
///     single_model = (1/M) Σ_m mean_i [argmax_c L[m, i, c] = y_i]
///     ensemble     = mean_i [argmax_c round((1/M) Σ_m L[m, i, c]) = y_i]
///
/// As in the reference code, the argmax takes the first of equal maxima and the mean is
/// rounded to the logits' storage precision before it (PyTorch's `mean` of a float16 tensor
/// returns float16), so ties after rounding go to the lower class.
public struct EnsembleAccuracy: Sendable, Equatable {
  /// Average single-model accuracy, in [0, 1].
  public let singleModel: Double
  /// Ensemble accuracy, in [0, 1].
  public let ensemble: Double
  /// Accuracy of each model, in model order.
  public let perModel: [Double]
  /// The ensemble's predicted class of each example.
  public let ensemblePredictions: [Int]

  /// Accuracies of the first `models` models (all when `nil`) on examples `rows` (all when
  /// `nil`), against `labels` of the whole set.
  ///
  /// - Throws: `InputError` when `labels` does not have one label per example, a label is
  ///   outside `0..<classes`, `models` is out of range, or a logit is not finite.
  /// - Complexity: one pass over the logits; O(M·n·C).
  public init(logits: any LogitsSource, labels: [Int], models: Int? = nil, rows: Range<Int>? = nil,
              readBytes: Int = 32 << 20) throws {
    try EnsembleAccuracy.check(labels: labels, for: logits)
    let models = models ?? logits.models
    guard models >= 1, models <= logits.models else {
      throw InputError("\(logits.name): cannot use \(models) of its \(logits.models) models")
    }
    let rows = rows ?? 0..<logits.examples
    guard rows.lowerBound >= 0, rows.upperBound <= logits.examples else {
      throw InputError("rows \(rows.lowerBound):\(rows.upperBound) are outside the \(logits.examples) examples of \(logits.name)")
    }
    let n = logits.examples, classes = logits.classes
    var sums = [Double](repeating: 0, count: rows.count * classes)
    var perModel: [Double] = []
    var totalCorrect = 0
    let group = LogitsTransform.group(logits, bytes: readBytes)
    // One buffer for every group of models read.
    var buffer = [Float](repeating: 0, count: LogitsTransform.readCapacity(
      [logits], models: models, bytes: readBytes))
    var start = 0
    while start < models {
      let end = min(models, start + group)
      try buffer.withUnsafeMutableBufferPointer { try logits.logits(models: start..<end, into: $0) }
      for m in 0..<(end - start) {
        var correct = 0
        for r in 0..<rows.count {
          let base = (m * n + rows.lowerBound + r) * classes
          var best = 0
          var bestValue = buffer[base]
          for c in 0..<classes {
            let v = buffer[base + c]
            guard v.isFinite else {
              throw logits.nonFiniteLogitError(model: start + m, example: rows.lowerBound + r, class: c, value: v)
            }
            if v > bestValue { best = c; bestValue = v }
            sums[r * classes + c] += Double(v)
          }
          if best == labels[rows.lowerBound + r] { correct += 1 }
        }
        totalCorrect += correct
        perModel.append(rows.isEmpty ? 0 : Double(correct) / Double(rows.count))
      }
      start = end
    }
    var predictions = [Int](repeating: 0, count: rows.count)
    var correct = 0
    for r in 0..<rows.count {
      var best = 0, bestValue = -Double.infinity
      for c in 0..<classes {
        let mean = logits.precision.rounded(sums[r * classes + c] / Double(models))
        if mean > bestValue { best = c; bestValue = mean }
      }
      predictions[r] = best
      if best == labels[rows.lowerBound + r] { correct += 1 }
    }
    self.perModel = perModel
    // The mean of the per-model accuracies, as one exact ratio of counts.
    self.singleModel = rows.isEmpty ? 0 : Double(totalCorrect) / Double(models * rows.count)
    self.ensemble = rows.isEmpty ? 0 : Double(correct) / Double(rows.count)
    self.ensemblePredictions = predictions
  }

  /// Checks that `labels` has one label in `0..<classes` per example of `logits`.
  /// - Throws: `InputError` naming the logits, the counts, or the first bad label.
  public static func check(labels: [Int], for logits: any LogitsSource, name: String = "labels") throws {
    guard labels.count == logits.examples else {
      throw InputError("\(name) has \(labels.count) labels but \(logits.name) has \(logits.examples) examples")
    }
    if let i = labels.firstIndex(where: { $0 < 0 || $0 >= logits.classes }) {
      throw InputError("\(name)[\(i)] = \(labels[i]) is outside the \(logits.classes) classes 0..<\(logits.classes)")
    }
  }
}
