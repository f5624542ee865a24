import CompareCore

/// How much of the run-to-run spread of test accuracy comes from which examples a run gets
/// right by chance, and how much from true differences between the runs' distributions
/// ("Calibrated Chaos", Jordan 2023, arXiv 2304.01910, Theorem 2), as fractions of accuracy.
///
/// With correct[m, i] ∈ {0, 1} for run m and example i, pᵢ = mean over runs of correct[·, i],
/// S_m = Σᵢ correct[m, i] and V the variance over runs of S_m (N − 1):
///
///     empirical    = √V / n
///     independent  = √(Σᵢ pᵢ(1 − pᵢ)) / n                        examples independent
///     distribution = √(n/(n − 1) · (V − Σᵢ pᵢ(1 − pᵢ))) / n       the "true instability"
///
/// exactly as `kernel/eval_kernel.py` of the published CIFAR-10 runs prints them (it prints
/// percent of 10,000 examples, `√V / 100`; these are fractions). When V < Σ pᵢ(1 − pᵢ) the
/// bracket is negative and the script prints `nan`: here `distribution` is `nil`.
public struct VarianceAnalysis: Sendable, Equatable {
  /// Standard deviation over runs of the test accuracy, √V / n.
  public var empiricalStd: Double
  /// The standard deviation predicted if examples were independent Bernoulli(pᵢ), √(Σ pᵢ(1−pᵢ)) / n.
  public var independentStd: Double
  /// The distribution-wise standard deviation; `nil` when V < Σ pᵢ(1 − pᵢ) or n < 2.
  public var distributionStd: Double?
  /// V, the variance over runs of the number of correct examples (N − 1).
  public var correctCountVariance: Double
  /// Σᵢ pᵢ(1 − pᵢ).
  public var independentVariance: Double

  /// The analysis from each run's number of correct examples and each example's number of
  /// runs that got it right.
  /// - Parameters:
  ///   - correctPerRun: S_m, one per run (at least 2 runs).
  ///   - correctPerExample: kᵢ = Σ_m correct[m, i], one per example.
  /// - Throws: `InputError` with fewer than 2 runs or no examples.
  /// - Complexity: O(runs + examples).
  public init(correctPerRun: [Int], correctPerExample: [Int]) throws {
    let runs = correctPerRun.count, n = correctPerExample.count
    guard runs >= 2 else { throw InputError("the variance over runs needs at least 2 runs, got \(runs)") }
    guard n >= 1 else { throw InputError("the variance analysis needs at least 1 example") }
    let mean = Double(correctPerRun.reduce(0, +)) / Double(runs)
    let v = correctPerRun.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(runs - 1)
    let independent = correctPerExample.reduce(0.0) { sum, k in
      let p = Double(k) / Double(runs)
      return sum + p * (1 - p)
    }
    let nn = Double(n)
    correctCountVariance = v
    independentVariance = independent
    empiricalStd = v.squareRoot() / nn
    independentStd = independent.squareRoot() / nn
    let bracket = n >= 2 ? nn / (nn - 1) * (v - independent) : -1
    distributionStd = bracket >= 0 ? bracket.squareRoot() / nn : nil
  }
}
