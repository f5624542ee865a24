import CompareCore
import Synchronization

/// Per example and class, the mean and inverse standard deviation over models of the
/// (log-softmaxed) logits: the statistics of the kernel's normalisation.
///
///     t[m, i, c] = log_softmax(L[m, i, :])[c]          (or L[m, i, c] without log-softmax)
///     Z[m, i, c] = (t[m, i, c] − mean_m t[·, i, c]) / std_m t[·, i, c]     std with N − 1
///
/// Accumulated by Welford's update in `Double`, streamed over groups of models. A class whose
/// values are equal in every model (std 0) gets scale 0, so its Z is 0: it adds nothing to the
/// kernel. The reference code divides by 0 there and gets NaN.
struct Standardization: Sendable {
  /// The examples covered, as indices into the source.
  let rows: Range<Int>
  let classes: Int
  /// `rows.count × classes` means.
  var mean: [Double]
  /// `rows.count × classes` inverse standard deviations (0 where the std is 0).
  var scale: [Double]
}

/// Where pass 1 writes the transformed logits, when the whole Z fits in memory.
struct ZTarget: @unchecked Sendable {
  /// Row i of Z (example `rows.lowerBound + i`) starts at `base + i * stride`.
  let base: UnsafeMutablePointer<Float>
  let stride: Int
}

enum LogitsTransform {
  /// Models read at once: about `bytes` of `Float`s.
  static func group(_ source: any LogitsSource, bytes: Int) -> Int {
    max(1, bytes / max(1, source.examples * source.classes * 4))
  }

  /// Floats of the read buffer that holds one group of the first `models` models of any of
  /// `sources`: allocated once per run and passed to `statistics` and `fill`.
  static func readCapacity(_ sources: [any LogitsSource], models: Int, bytes: Int) -> Int {
    sources.map { min(models, group($0, bytes: bytes)) * $0.examples * $0.classes }.max() ?? 0
  }

  /// Writes the transformed logits of example `i`, model `m` of a group into `out` (`classes`
  /// long), each a `Float` value (what Z stores) held as a `Double`. Returns the first
  /// non-finite class, or `nil`.
  @inline(__always)
  static func transform(_ x: UnsafePointer<Float>, classes: Int, logSoftmax: Bool,
                        into out: UnsafeMutablePointer<Double>) -> Int? {
    var maximum = -Float.infinity
    for c in 0..<classes {
      let v = x[c]
      guard v.isFinite else { return c }
      out[c] = Double(v)
      if v > maximum { maximum = v }
    }
    guard logSoftmax else { return nil }
    // Σ exp(x − max) with libm's expf, as the reference's float32 log_softmax: the terms lie
    // in (0, 1] and are summed in Double.
    var total = 0.0
    for c in 0..<classes { total += Double(expf(x[c] - maximum)) }
    let shift = Double(maximum) + log(total)
    // Rounded to Float, as Z holds them: the statistics must be those of the values they
    // standardise. (With the unrounded mean, two models whose log-probabilities differ by a
    // few ulps gave Z = ±0.68 instead of ±1/√2, moving 2-model kernel values by up to 2e-3.)
    for c in 0..<classes { out[c] = Double(Float(out[c] - shift)) }
    return nil
  }

  /// Pass 1: reads models `0..<models` of `source`, checks every value is finite, and returns
  /// the standardisation statistics of examples `rows`. With `target`, also writes the
  /// transformed values of the selected classes into Z (column `m · selected.count + s`).
  /// Groups of models are read through `buffer` (at least `readCapacity` floats).
  static func statistics(of source: any LogitsSource, models: Int, rows: Range<Int>,
                         logSoftmax: Bool, selected: [Int], target: ZTarget?, readBytes: Int,
                         buffer: UnsafeMutableBufferPointer<Float>,
                         progress: (Int) -> Void) throws -> Standardization {
    let classes = source.classes, examples = source.examples
    var mean = [Double](repeating: 0, count: rows.count * classes)
    var m2 = [Double](repeating: 0, count: rows.count * classes)
    let group = group(source, bytes: readBytes)
    let failure = Mutex<(model: Int, example: Int, cls: Int)?>(nil)
    let selectedCount = selected.count
    var start = 0
    while start < models {
      let end = min(models, start + group)
      try source.logits(models: start..<end, into: buffer)
      let groupStart = start
      mean.withUnsafeMutableBufferPointer { meanP in
        m2.withUnsafeMutableBufferPointer { m2P in
          let v = SharedPointer(buffer.baseAddress!)
          let mp = SharedPointer(meanP.baseAddress!), sp = SharedPointer(m2P.baseAddress!)
          selected.withUnsafeBufferPointer { selP in
            let sel = SharedPointer(UnsafeMutablePointer(mutating: selP.baseAddress!))
            Parallel.forEach(rows.count, grain: 64) { range in
              withUnsafeTemporaryAllocation(of: Double.self, capacity: classes) { t in
                let t = t.baseAddress!
                for r in range {
                  let i = rows.lowerBound + r
                  let meanRow = mp.base + r * classes, m2Row = sp.base + r * classes
                  for m in 0..<(end - groupStart) {
                    let x = UnsafePointer(v.base + (m * examples + i) * classes)
                    if let bad = transform(x, classes: classes, logSoftmax: logSoftmax, into: t) {
                      failure.withLock { f in
                        let here = (groupStart + m, i, bad)
                        if f == nil || (here.0, here.1) < (f!.model, f!.example) { f = here }
                      }
                      return
                    }
                    let model = groupStart + m
                    let weight = 1 / Double(model + 1)
                    for c in 0..<classes {
                      let delta = t[c] - meanRow[c]
                      meanRow[c] += delta * weight
                      m2Row[c] += delta * (t[c] - meanRow[c])
                    }
                    if let target {
                      let z = target.base + r * target.stride + model * selectedCount
                      for s in 0..<selectedCount { z[s] = Float(t[sel.base[s]]) }
                    }
                  }
                }
              }
            }
          }
        }
      }
      if let bad = failure.withLock({ $0 }) {
        let value = buffer[((bad.model - groupStart) * examples + bad.example) * classes + bad.cls]
        throw source.nonFiniteLogitError(model: bad.model, example: bad.example, class: bad.cls, value: value)
      }
      start = end
      progress(end)
    }
    let denominator = Double(models - 1)
    let scale = m2.map { s -> Double in
      let variance = s / denominator
      return variance > 0 ? 1 / variance.squareRoot() : 0
    }
    return Standardization(rows: rows, classes: classes, mean: mean, scale: scale)
  }

  /// Standardises, in place, Z rows written by `statistics(…target:)`.
  static func standardize(_ target: ZTarget, models: Int, selected: [Int],
                          statistics: Standardization) {
    let classes = statistics.classes, count = selected.count
    statistics.mean.withUnsafeBufferPointer { meanP in
      statistics.scale.withUnsafeBufferPointer { scaleP in
        let mp = SharedPointer(UnsafeMutablePointer(mutating: meanP.baseAddress!))
        let sp = SharedPointer(UnsafeMutablePointer(mutating: scaleP.baseAddress!))
        selected.withUnsafeBufferPointer { selP in
          let sel = SharedPointer(UnsafeMutablePointer(mutating: selP.baseAddress!))
          Parallel.forEach(statistics.rows.count, grain: 64) { range in
            for r in range {
              let z = target.base + r * target.stride
              for s in 0..<count {
                let mu = mp.base[r * classes + sel.base[s]], k = sp.base[r * classes + sel.base[s]]
                var p = z + s
                for _ in 0..<models {
                  p.pointee = Float((Double(p.pointee) - mu) * k)
                  p += count
                }
              }
            }
          }
        }
      }
    }
  }

  /// Pass 2 of the out-of-core path: writes the standardised Z of models `models` (columns from
  /// 0) for examples `rows` (a sub-range of `statistics.rows`) into `target`, reading groups of
  /// models through `buffer` (at least `readCapacity` floats).
  static func fill(_ target: ZTarget, from source: any LogitsSource, models: Range<Int>,
                   logSoftmax: Bool, selected: [Int], statistics: Standardization,
                   rows: Range<Int>, readBytes: Int,
                   buffer: UnsafeMutableBufferPointer<Float>) throws {
    precondition(rows.lowerBound >= statistics.rows.lowerBound
                 && rows.upperBound <= statistics.rows.upperBound)
    let classes = source.classes, examples = source.examples
    let group = group(source, bytes: readBytes), count = selected.count
    // The statistics of `rows` start this far into `statistics.mean` and `.scale`.
    let firstStatistic = (rows.lowerBound - statistics.rows.lowerBound) * classes
    var start = models.lowerBound
    while start < models.upperBound {
      let end = min(models.upperBound, start + group)
      try source.logits(models: start..<end, into: buffer)
      let firstColumn = (start - models.lowerBound) * count
      let groupCount = end - start
      statistics.mean.withUnsafeBufferPointer { meanP in
        statistics.scale.withUnsafeBufferPointer { scaleP in
          selected.withUnsafeBufferPointer { selP in
            let v = SharedPointer(buffer.baseAddress!)
            let mp = SharedPointer(UnsafeMutablePointer(mutating: meanP.baseAddress! + firstStatistic))
            let sp = SharedPointer(UnsafeMutablePointer(mutating: scaleP.baseAddress! + firstStatistic))
            let sel = SharedPointer(UnsafeMutablePointer(mutating: selP.baseAddress!))
            Parallel.forEach(rows.count, grain: 64) { range in
              withUnsafeTemporaryAllocation(of: Double.self, capacity: classes) { t in
                let t = t.baseAddress!
                for r in range {
                  let i = rows.lowerBound + r
                  for m in 0..<groupCount {
                    let x = UnsafePointer(v.base + (m * examples + i) * classes)
                    _ = transform(x, classes: classes, logSoftmax: logSoftmax, into: t)
                    let z = target.base + r * target.stride + firstColumn + m * count
                    for s in 0..<count {
                      let c = sel.base[s]
                      z[s] = Float((t[c] - mp.base[r * classes + c]) * sp.base[r * classes + c])
                    }
                  }
                }
              }
            }
          }
        }
      }
      start = end
    }
  }
}
