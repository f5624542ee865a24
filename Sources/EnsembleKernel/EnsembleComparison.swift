import CompareCore

/// Two ensembles of runs (two training configurations) on the same labelled examples,
/// compared overall and example by example.
///
///     churn        = mean_i [ensemble prediction of A ≠ that of B]              (mean logits)
///     difference   = single_model_accuracy(A) − single_model_accuracy(B)
///     difference_se = √(std_A² / M_A + std_B² / M_B)                            runs independent
///     Δpᵢ          = p_correct_A(i) − p_correct_B(i)
///     zᵢ           = Δpᵢ / √(p̂ᵢ(1 − p̂ᵢ)(1/M_A + 1/M_B)),  p̂ᵢ = (k_A + k_B)/(M_A + M_B)
///     p_valueᵢ     = erfc(|zᵢ| / √2)                                              two-sided
///
/// The per-example test is the pooled two-proportion z-test on the runs that got example i
/// right in each configuration (Agresti, *Categorical Data Analysis*, 3rd ed., §2.1.2); when
/// both ensembles are all right or all wrong on an example (p̂ = 0 or 1) Δp is 0 and the p-value
/// is 1. The p-values are per example, not corrected for testing n examples.
public struct EnsembleComparison: Sendable {
  /// The configuration compared (`--test`).
  public let a: EnsembleSummary
  /// The configuration compared with (`--against`).
  public let b: EnsembleSummary
  /// Fraction of examples whose ensemble predictions differ.
  public let churn: Double
  /// Difference of the mean single-run accuracies, A − B.
  public let singleModelAccuracyDifference: Double
  /// Its standard error over runs.
  public let singleModelAccuracyDifferenceSE: Double
  /// Difference of the ensembles' accuracies, A − B.
  public let ensembleAccuracyDifference: Double
  /// Δp per example, A − B.
  public let pCorrectDifference: [Double]
  /// Two-sided p-value of the two-proportion test, per example.
  public let pValue: [Double]

  /// Compares two summaries of the same examples.
  /// - Throws: `InputError` naming both when their example or class counts differ.
  /// - Complexity: O(n).
  public init(_ a: EnsembleSummary, against b: EnsembleSummary) throws {
    guard a.examples == b.examples else {
      throw InputError("\(b.name) has \(b.examples) examples but \(a.name) has \(a.examples); the ensembles must be evaluated on the same examples")
    }
    guard a.classes == b.classes else {
      throw InputError("\(b.name) has \(b.classes) classes but \(a.name) has \(a.classes)")
    }
    let n = a.examples
    self.a = a
    self.b = b
    churn = Double(zip(a.ensemblePredictions, b.ensemblePredictions).filter { $0 != $1 }.count) / Double(n)
    singleModelAccuracyDifference = a.singleModelAccuracy - b.singleModelAccuracy
    let va = a.singleModelAccuracyStd * a.singleModelAccuracyStd / Double(a.models)
    let vb = b.singleModelAccuracyStd * b.singleModelAccuracyStd / Double(b.models)
    singleModelAccuracyDifferenceSE = (va + vb).squareRoot()
    ensembleAccuracyDifference = a.ensembleAccuracy - b.ensembleAccuracy
    var difference = [Double](repeating: 0, count: n), pValue = [Double](repeating: 1, count: n)
    let ma = Double(a.models), mb = Double(b.models)
    for i in 0..<n {
      let ka = Double(a.stability.correct[i]), kb = Double(b.stability.correct[i])
      difference[i] = ka / ma - kb / mb
      let pooled = (ka + kb) / (ma + mb)
      let variance = pooled * (1 - pooled) * (1 / ma + 1 / mb)
      if variance > 0 {
        let z = difference[i] / variance.squareRoot()
        pValue[i] = erfc(abs(z) / 2.0.squareRoot())
      }
    }
    pCorrectDifference = difference
    self.pValue = pValue
  }

  /// The `count` examples most changed: largest |Δp| first, then the smaller p-value, then the
  /// lower index.
  public func mostChanged(_ count: Int) -> [Int] {
    let order = pCorrectDifference.indices.sorted { x, y in
      let dx = abs(pCorrectDifference[x]), dy = abs(pCorrectDifference[y])
      if dx != dy { return dx > dy }
      if pValue[x] != pValue[y] { return pValue[x] < pValue[y] }
      return x < y
    }
    return Array(order.prefix(max(0, count)))
  }
}
