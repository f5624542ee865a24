import CompareCore
import Synchronization

/// What an ensemble of runs of one recipe does on a labelled test set, from their logits
/// alone: single-run accuracy and its spread, the variance analysis of "Calibrated Chaos",
/// the ensemble's accuracy, calibration, disagreement between runs and per-example stability.
///
/// For run m, example i with label yᵢ and logits L[m, i, :], p[m, i, :] = softmax(L[m, i, :]):
///
///     correct[m, i]          = [argmax_c L[m, i, c] = yᵢ]                    first of equal maxima
///     single_model_accuracy  = (1/(M·n)) Σ_{m,i} correct[m, i]               mean over runs
///     single_model_accuracy_std = std over runs (N − 1) of (1/n) Σᵢ correct[m, i]
///     ensemble_accuracy      = mean_i [argmax_c round((1/M) Σ_m L[m, i, c]) = yᵢ]
///     ensemble_accuracy_probs = mean_i [argmax_c (1/M) Σ_m p[m, i, c] = yᵢ]
///     disagreement           = (1/n) Σᵢ (1 − Σ_c k_{i,c}(k_{i,c} − 1) / (M(M − 1)))
///     margin[m, i]           = L[m, i, yᵢ] − max_{c ≠ yᵢ} L[m, i, c]
///
/// `round` is the logits' storage precision, as in `EnsembleAccuracy` (PyTorch's `mean` of a
/// float16 tensor). `disagreement` is the mean over pairs of distinct runs of the fraction of
/// examples whose predicted classes differ; k_{i,c} counts the runs that predict class c for
/// example i, so it costs O(M·n·C), not O(M²·n). Calibration is of the ensemble's mean
/// softmax and, averaged over runs, of each run's softmax (`Calibration`); the variance lines
/// are `VarianceAnalysis`.
///
/// How it is computed: runs are read a chunk at a time through one buffer
/// (`LogitsSource.logits(models:into:)`), its size bounded by `Options.memoryLimit`, and every
/// per-example quantity is accumulated over runs in Double (sums of logits and probabilities,
/// class counts, Welford's mean and variance of the margin), every per-run one from a scratch
/// row of the chunk. Each example's runs are summed in run order and each run's examples in
/// example order, so the result does not depend on the number of threads.
public struct EnsembleSummary: Sendable {
  /// Memory and what else to accumulate in the same pass.
  public struct Options: Sendable {
    /// Bytes for the read buffer and its per-run scratch; at most `chunkBytes` are used.
    public var memoryLimit: Int
    /// The largest read buffer: bigger chunks are no faster, and fresh memory costs page faults.
    public var chunkBytes: Int
    /// Also accumulate the mean logits of these smaller ensembles (accuracy against size).
    public var subsets: EnsembleSubsets?

    public init(memoryLimit: Int = 4 << 30, chunkBytes: Int = 64 << 20, subsets: EnsembleSubsets? = nil) {
      self.memoryLimit = memoryLimit
      self.chunkBytes = chunkBytes
      self.subsets = subsets
    }
  }

  /// What the logits are called (for messages).
  public let name: String
  public let models: Int
  public let examples: Int
  public let classes: Int
  /// S_m: the number of examples run m gets right.
  public let correctPerRun: [Int]
  /// Mean over runs of the test accuracy, in [0, 1].
  public let singleModelAccuracy: Double
  /// Standard deviation over runs (N − 1) of the test accuracy.
  public let singleModelAccuracyStd: Double
  /// singleModelAccuracy ± 1.96 · std / √runs: the script's 95 % interval of the mean.
  public let singleModelAccuracyInterval: (low: Double, high: Double)
  /// "Calibrated Chaos" variance analysis.
  public let variance: VarianceAnalysis
  /// Accuracy of the argmax of the mean logits (rounded to the storage precision).
  public let ensembleAccuracy: Double
  /// Accuracy of the argmax of the mean softmax.
  public let ensembleAccuracyProbs: Double
  /// Calibration of the ensemble's mean softmax.
  public let ensembleCalibration: Calibration
  /// Each run's calibration, averaged over runs.
  public let meanModelCalibration: Calibration
  /// Mean over pairs of runs of the fraction of examples predicted differently.
  public let disagreement: Double
  /// Per example: runs right, margin statistics, entropy of the mean softmax.
  public let stability: ExampleStability
  /// The ensemble's prediction (argmax of the mean logits) of each example.
  public let ensemblePredictions: [Int]
  /// The mean-softmax ensemble's prediction of each example.
  public let ensemblePredictionsProbs: [Int]
  /// With `Options.subsets`: `[resample][size]` accuracy of the mean-logits ensemble of that subset.
  public let subsetEnsembleAccuracy: [[Double]]

  /// Per-run accuracy, S_m / n.
  public var perRunAccuracy: [Double] { correctPerRun.map { Double($0) / Double(examples) } }

  /// Summarises `logits` against `labels` in one pass over the runs.
  ///
  /// - Parameter progress: Called with the number of runs done after each chunk.
  /// - Throws: `InputError` when `labels` does not have one label in `0..<classes` per
  ///   example, there are fewer than 2 runs or 2 classes, or a logit is not finite (naming the
  ///   source and its [run, example, class]); whatever reading the logits throws.
  /// - Complexity: O(M·n·C) time, one exp per logit; memory O(n·C) plus the read buffer.
  public init(logits: any LogitsSource, labels: [Int], options: Options = Options(),
              progress: (Int) -> Void = { _ in }) throws {
    try EnsembleAccuracy.check(labels: labels, for: logits)
    let M = logits.models, n = logits.examples, C = logits.classes
    guard M >= 2 else {
      throw InputError("\(logits.name): the run axis has length \(M); the spread over runs needs at least 2 runs")
    }
    guard C >= 2 else { throw InputError("\(logits.name) has \(C) class; a margin needs at least 2") }
    guard n >= 1 else { throw InputError("\(logits.name) has no examples") }
    if let subsets = options.subsets, subsets.orders.first?.count != M {
      throw InputError("the subsets are drawn from \(subsets.orders.first?.count ?? 0) runs but \(logits.name) has \(M)")
    }
    // Per run and example in a chunk: the logits, then confidence, NLL, Brier (Double) and correct.
    let perRunBytes = n * (4 * C + 3 * 8 + 1)
    let chunk = max(1, min(M, min(options.chunkBytes, options.memoryLimit) / perRunBytes))
    var buffer = [Float](repeating: 0, count: chunk * n * C)
    var scratch = [Double](repeating: 0, count: 3 * chunk * n)
    var correctScratch = [UInt8](repeating: 0, count: chunk * n)

    var sumLogits = [Double](repeating: 0, count: n * C)
    var sumProbs = [Double](repeating: 0, count: n * C)
    var classCounts = [Int32](repeating: 0, count: n * C)
    var marginMean = [Double](repeating: 0, count: n)
    var marginM2 = [Double](repeating: 0, count: n)
    var correctPerRun = [Int](repeating: 0, count: M)
    var runECE = [Double](repeating: 0, count: M), runNLL = runECE, runBrier = runECE
    let subsets = options.subsets
    let subsetCount = subsets.map { $0.resamples * $0.sizes.count } ?? 0
    var subsetSums = [Double](repeating: 0, count: subsetCount * n * C)
    let failure = Mutex<(model: Int, example: Int, cls: Int)?>(nil)

    var start = 0
    while start < M {
      let end = min(M, start + chunk), count = end - start
      try buffer.withUnsafeMutableBufferPointer { try logits.logits(models: start..<end, into: $0) }
      let first = start
      // Pass 1, parallel over examples: per-example sums over this chunk's runs, in run order.
      buffer.withUnsafeBufferPointer { bufferP in
        scratch.withUnsafeMutableBufferPointer { scratchP in
          correctScratch.withUnsafeMutableBufferPointer { correctP in
            sumLogits.withUnsafeMutableBufferPointer { sumLP in
              sumProbs.withUnsafeMutableBufferPointer { sumPP in
                classCounts.withUnsafeMutableBufferPointer { countsP in
                  marginMean.withUnsafeMutableBufferPointer { meanP in
                    marginM2.withUnsafeMutableBufferPointer { m2P in
                      subsetSums.withUnsafeMutableBufferPointer { subsetP in
                        labels.withUnsafeBufferPointer { labelsP in
                          let x = SharedPointer(UnsafeMutablePointer(mutating: bufferP.baseAddress!))
                          let s = SharedPointer(scratchP.baseAddress!), ok = SharedPointer(correctP.baseAddress!)
                          let sl = SharedPointer(sumLP.baseAddress!), sp = SharedPointer(sumPP.baseAddress!)
                          let cc = SharedPointer(countsP.baseAddress!)
                          let mm = SharedPointer(meanP.baseAddress!), m2 = SharedPointer(m2P.baseAddress!)
                          let sub = subsetCount > 0 ? SharedPointer(subsetP.baseAddress!) : nil
                          let y = SharedPointer(UnsafeMutablePointer(mutating: labelsP.baseAddress!))
                          let plane = count * n
                          Parallel.forEach(n, grain: 64) { range in
                            withUnsafeTemporaryAllocation(of: Double.self, capacity: C) { e in
                              let e = e.baseAddress!
                              // Blocks of examples, runs outer: each run's rows are read
                              // contiguously while the block's sums stay in cache.
                              for blockStart in stride(from: range.lowerBound, to: range.upperBound, by: 128) {
                                for m in 0..<count {
                                  for i in blockStart..<min(range.upperBound, blockStart + 128) {
                                    let label = y.base[i]
                                    let row = x.base + (m * n + i) * C
                                    var best = 0, maximum = row[0]
                                    var finite = true
                                    for c in 0..<C {
                                      let v = row[c]
                                      if !v.isFinite {
                                        failure.withLock { f in
                                          let here = (first + m, i, c)
                                          if f == nil || (here.0, here.1) < (f!.model, f!.example) { f = here }
                                        }
                                        finite = false
                                        break
                                      }
                                      if v > maximum { best = c; maximum = v }
                                    }
                                    if !finite { return }
                                    var other = -Float.infinity
                                    var total = 0.0
                                    let top = Double(maximum)
                                    for c in 0..<C {
                                      let d = Double(row[c]) - top
                                      e[c] = exp(d)
                                      total += e[c]
                                      if c != label, row[c] > other { other = row[c] }
                                    }
                                    let inverse = 1 / total
                                    var squares = 0.0
                                    let sums = sl.base + i * C, probs = sp.base + i * C
                                    for c in 0..<C {
                                      let p = e[c] * inverse
                                      let d = p - (c == label ? 1 : 0)
                                      squares += d * d
                                      probs[c] += p
                                      sums[c] += Double(row[c])
                                    }
                                    cc.base[i * C + best] += 1
                                    let isCorrect = best == label
                                    let k = m * n + i
                                    s.base[k] = inverse                                              // max p
                                    s.base[plane + k] = log(total) - (Double(row[label]) - top)    // −log p_y
                                    s.base[2 * plane + k] = squares
                                    ok.base[k] = isCorrect ? 1 : 0
                                    let margin = Double(row[label]) - Double(other)
                                    let delta = margin - mm.base[i]
                                    mm.base[i] += delta / Double(first + m + 1)
                                    m2.base[i] += delta * (margin - mm.base[i])
                                    if let sub, let subsets {
                                      for r in 0..<subsets.resamples {
                                        let rank = subsets.rank[r][first + m]
                                        for (j, size) in subsets.sizes.enumerated() where rank < size {
                                          let target = sub.base + ((r * subsets.sizes.count + j) * n + i) * C
                                          for c in 0..<C { target[c] += Double(row[c]) }
                                        }
                                      }
                                    }
                                  }
                                }
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
      if let bad = failure.withLock({ $0 }) {
        let value = buffer[((bad.model - first) * n + bad.example) * C + bad.cls]
        throw logits.nonFiniteLogitError(model: bad.model, example: bad.example, class: bad.cls, value: value)
      }
      // Pass 2, parallel over runs: each run's accuracy and calibration, in example order.
      scratch.withUnsafeBufferPointer { scratchP in
        correctScratch.withUnsafeBufferPointer { correctP in
          correctPerRun.withUnsafeMutableBufferPointer { correctRunP in
            runECE.withUnsafeMutableBufferPointer { eceP in
              runNLL.withUnsafeMutableBufferPointer { nllP in
                runBrier.withUnsafeMutableBufferPointer { brierP in
                  let s = SharedPointer(UnsafeMutablePointer(mutating: scratchP.baseAddress!))
                  let ok = SharedPointer(UnsafeMutablePointer(mutating: correctP.baseAddress!))
                  let cr = SharedPointer(correctRunP.baseAddress!), ec = SharedPointer(eceP.baseAddress!)
                  let nl = SharedPointer(nllP.baseAddress!), br = SharedPointer(brierP.baseAddress!)
                  let plane = count * n
                  Parallel.forEach(count) { range in
                    for m in range {
                      var bins = Calibration.Bins()
                      var right = 0, nll = 0.0, brier = 0.0
                      for i in 0..<n {
                        let k = m * n + i
                        let isCorrect = ok.base[k] == 1
                        if isCorrect { right += 1 }
                        bins.add(confidence: s.base[k], correct: isCorrect)
                        nll += s.base[plane + k]
                        brier += s.base[2 * plane + k]
                      }
                      cr.base[first + m] = right
                      ec.base[first + m] = bins.ece
                      nl.base[first + m] = nll / Double(n)
                      br.base[first + m] = brier / Double(n)
                    }
                  }
                }
              }
            }
          }
        }
      }
      start = end
      progress(end)
    }

    // Ensemble predictions, calibration and per-example stability.
    let precision = logits.precision
    var predictions = [Int](repeating: 0, count: n), predictionsProbs = predictions
    var meanProbs = [Double](repeating: 0, count: n * C)
    var correctPerExample = [Int](repeating: 0, count: n)
    var entropy = [Double](repeating: 0, count: n)
    var pairsAgreeing = 0.0
    var right = 0, rightProbs = 0
    for i in 0..<n {
      var best = 0, bestValue = -Double.infinity, bestP = 0, bestPValue = -Double.infinity
      var h = 0.0, agreeing = 0.0
      for c in 0..<C {
        let mean = precision.rounded(sumLogits[i * C + c] / Double(M))
        if mean > bestValue { best = c; bestValue = mean }
        let p = sumProbs[i * C + c] / Double(M)
        meanProbs[i * C + c] = p
        if p > bestPValue { bestP = c; bestPValue = p }
        if p > 0 { h -= p * log(p) }
        let k = Double(classCounts[i * C + c])
        agreeing += k * (k - 1)
      }
      predictions[i] = best
      predictionsProbs[i] = bestP
      if best == labels[i] { right += 1 }
      if bestP == labels[i] { rightProbs += 1 }
      entropy[i] = h
      correctPerExample[i] = Int(classCounts[i * C + labels[i]])
      pairsAgreeing += agreeing / (Double(M) * Double(M - 1))
    }

    let runs = Double(M)
    let accuracies = correctPerRun.map { Double($0) / Double(n) }
    let mean = Double(correctPerRun.reduce(0, +)) / (runs * Double(n))
    let std = (accuracies.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / (runs - 1)).squareRoot()
    let half = 1.96 * std / runs.squareRoot()
    name = logits.name
    models = M
    examples = n
    classes = C
    self.correctPerRun = correctPerRun
    singleModelAccuracy = mean
    singleModelAccuracyStd = std
    singleModelAccuracyInterval = (mean - half, mean + half)
    variance = try VarianceAnalysis(correctPerRun: correctPerRun, correctPerExample: correctPerExample)
    ensembleAccuracy = Double(right) / Double(n)
    ensembleAccuracyProbs = Double(rightProbs) / Double(n)
    ensembleCalibration = try Calibration(probabilities: meanProbs, classes: C, labels: labels)
    meanModelCalibration = Calibration(ece: runECE.reduce(0, +) / runs, nll: runNLL.reduce(0, +) / runs,
                                       brier: runBrier.reduce(0, +) / runs)
    disagreement = 1 - pairsAgreeing / Double(n)
    stability = ExampleStability(correct: correctPerExample, runs: M, marginMean: marginMean,
                                 marginStd: marginM2.map { ($0 / (runs - 1)).squareRoot() }, entropy: entropy)
    ensemblePredictions = predictions
    ensemblePredictionsProbs = predictionsProbs
    var subsetAccuracy: [[Double]] = []
    if let subsets {
      for r in 0..<subsets.resamples {
        subsetAccuracy.append(subsets.sizes.indices.map { j in
          let size = Double(subsets.sizes[j])
          var right = 0
          for i in 0..<n {
            let base = ((r * subsets.sizes.count + j) * n + i) * C
            var best = 0, bestValue = -Double.infinity
            for c in 0..<C {
              let v = precision.rounded(subsetSums[base + c] / size)
              if v > bestValue { best = c; bestValue = v }
            }
            if best == labels[i] { right += 1 }
          }
          return Double(right) / Double(n)
        })
      }
    }
    subsetEnsembleAccuracy = subsetAccuracy
  }
}

/// How stable each example's prediction is across the runs of an ensemble.
///
///     p_correct   = (1/M) Σ_m correct[m, i]
///     margin_mean = mean over runs of L[m, i, yᵢ] − max_{c ≠ yᵢ} L[m, i, c]   (> 0: right)
///     margin_std  = its standard deviation over runs (N − 1)
///     entropy     = −Σ_c p̄_c log p̄_c of the mean softmax p̄ (nats)
public struct ExampleStability: Sendable, Equatable {
  /// Runs that get each example right.
  public let correct: [Int]
  /// Runs in the ensemble.
  public let runs: Int
  /// Mean over runs of the margin, per example.
  public let marginMean: [Double]
  /// Standard deviation over runs (N − 1) of the margin, per example.
  public let marginStd: [Double]
  /// Entropy of the ensemble's mean softmax (nats), per example.
  public let entropy: [Double]

  /// Per-example arrays of equal length, computed elsewhere (`EnsembleSummary` makes them).
  public init(correct: [Int], runs: Int, marginMean: [Double], marginStd: [Double], entropy: [Double]) {
    self.correct = correct
    self.runs = runs
    self.marginMean = marginMean
    self.marginStd = marginStd
    self.entropy = entropy
  }

  /// Share of runs right, per example.
  public var pCorrect: [Double] { correct.map { Double($0) / Double(runs) } }

  /// The `count` least stable examples: largest p(1 − p) of p_correct first (the runs split
  /// most evenly), then the smallest |margin_mean|, then the lower index.
  public func leastStable(_ count: Int) -> [Int] {
    let p = pCorrect
    let order = p.indices.sorted { a, b in
      let va = p[a] * (1 - p[a]), vb = p[b] * (1 - p[b])
      if va != vb { return va > vb }
      let ma = abs(marginMean[a]), mb = abs(marginMean[b])
      if ma != mb { return ma < mb }
      return a < b
    }
    return Array(order.prefix(max(0, count)))
  }
}
