import CompareCore

extension CKAEstimator {
  /// CKA between every pair (i < j) of several models, each pair's result as
  /// `similarities(sources[i], sources[j], ...)` gives it.
  ///
  /// With the minibatch estimator and no permutation test, one pass over the models computes
  /// all pairs (`MinibatchCKAGroup`): each batch of each model is read once and its kernel
  /// matrices formed once, not once per pair. Otherwise (full-batch estimators, permutation
  /// tests) each pair is its own pass.
  ///
  /// - Parameter progress: Called with (done, total) batches or pairs.
  /// - Throws: As `similarities`; `InputError` when the models' example counts differ.
  public func pairwiseSimilarities(_ sources: [any RepresentationSource], kernel: CKAKernel = .linear,
                                   statistics: CKAStatistics = CKAStatistics(), epochs: Int = 1,
                                   progress: (Int, Int) -> Void = { _, _ in }) throws -> [(i: Int, j: Int, result: CKAResult)] {
    guard sources.count >= 2 else { throw InputError("CKA compares at least two models, got \(sources.count)") }
    guard case .minibatch(let batchSize, let keepLast) = self, statistics.permutations == 0 else {
      var results: [(i: Int, j: Int, result: CKAResult)] = []
      let total = sources.count * (sources.count - 1) / 2
      for i in sources.indices {
        for j in (i + 1)..<sources.count {
          results.append((i, j, try similarities(sources[i], sources[j], kernel: kernel, statistics: statistics,
                                                 epochs: epochs)))
          progress(results.count, total)
        }
      }
      return results
    }
    let statistics = try statistics.validated()
    guard epochs >= 1 else { throw InputError("--epochs expects a positive number of passes, got \(epochs)") }
    let n = sources[0].examples
    for s in sources.dropFirst() where s.examples != n {
      throw InputError("\(sources[0].name) has \(n) examples and \(s.name) has \(s.examples): CKA needs the same examples in the same order")
    }
    let (ranges, note) = try Self.batches(examples: n, batchSize: batchSize, keepLast: keepLast)
    var group = try MinibatchCKAGroup(models: sources.map { ($0.name, $0.layerNames) }, kernel: kernel)
    if sources.allSatisfy(\.isDouble) {
      try pass(sources, &group, ranges, epochs, statistics, Double.self, progress)
    } else {
      try pass(sources, &group, ranges, epochs, statistics, Float.self, progress)
    }
    return try group.pairs.map { pair in
      let matrix = try pair.cka.result()
      let uncertainty = CKAUncertainty(similarities: matrix.values, terms: pair.cka.terms, null: [],
                                       statistics: statistics)
      var result = CKAResult(matrix: matrix, estimator: self, kernel: kernel, batches: pair.cka.batches,
                             examples: pair.cka.examples, available: n,
                             notes: note.map { [$0] } ?? [], uncertainty: uncertainty)
      result.pairedByIndex = sources[pair.i].pairedByIndex || sources[pair.j].pairedByIndex
      result.epochs = epochs
      result.statistics = statistics
      return (pair.i, pair.j, result)
    }
  }

  /// Reads every batch of every model (in place where the sources can, else into reused
  /// matrices) and feeds the group, in the order `similarities(..., epochs:)` reads them.
  private func pass<S: BLASScalar>(_ sources: [any RepresentationSource], _ group: inout MinibatchCKAGroup,
                                   _ ranges: [Range<Int>], _ epochs: Int, _ statistics: CKAStatistics,
                                   _ type: S.Type, _ progress: (Int, Int) -> Void) throws {
    var buffers = [[Matrix<S>]](repeating: [], count: sources.count)
    try buffers.withUnsafeMutableBufferPointer { slots in
      try MinibatchRows.forEach(examples: sources[0].examples, ranges: ranges, epochs: epochs,
                                seed: statistics.seed &+ 2) { rows, done, total in
        // Each model's batch stays valid while the next model's is read: nested calls.
        func nest(_ m: Int, _ read: [[UnsafeBufferPointer<S>]]) throws {
          if m == sources.count { return try group.accumulate(rows: rows.count, read) }
          try sources[m].withBatch(rows, buffers: &slots[m]) { try nest(m + 1, read + [$0]) }
        }
        try nest(0, [])
        progress(done, total)
      }
    }
  }
}
