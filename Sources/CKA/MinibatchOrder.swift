import CompareCore

/// Which examples one minibatch holds: consecutive rows, or (over several shuffled passes) the
/// examples at some indices.
enum MinibatchRows {
  case rows(Range<Int>)
  case examples([Int])

  /// Every batch of a minibatch run, with the number done and the total: the `ranges` in order
  /// for one pass; for E passes, the minibatch-CKA paper's protocol, each pass over a shuffle of
  /// the n examples drawn by `SplitMix64(seed:)`, the ranges then picking from the shuffle.
  static func forEach(examples n: Int, ranges: [Range<Int>], epochs: Int, seed: UInt64,
                      _ body: (MinibatchRows, Int, Int) throws -> Void) rethrows {
    if epochs == 1 {
      for (index, rows) in ranges.enumerated() { try body(.rows(rows), index + 1, ranges.count) }
      return
    }
    var rng = SplitMix64(seed: seed)
    var order = Array(0..<n)
    for epoch in 0..<epochs {
      order.withUnsafeMutableBufferPointer { rng.shuffle($0) }
      for (index, rows) in ranges.enumerated() {
        try body(.examples(Array(order[rows])), epoch * ranges.count + index + 1, epochs * ranges.count)
      }
    }
  }
}

extension MinibatchRows {
  /// Examples in the batch.
  var count: Int {
    switch self {
    case .rows(let rows): rows.count
    case .examples(let indices): indices.count
    }
  }
}

extension RepresentationSource {
  /// Calls `body` with one minibatch's examples of every layer as row-major buffers: read in
  /// place for consecutive rows where the source can (`withRows`), gathered into `buffers`
  /// for a shuffled pass.
  func withBatch<S: BLASScalar, R>(_ batch: MinibatchRows, buffers: inout [Matrix<S>],
                                   _ body: ([UnsafeBufferPointer<S>]) throws -> R) throws -> R {
    switch batch {
    case .rows(let rows):
      return try withRows(rows, buffers: &buffers, body)
    case .examples(let indices):
      try read(examples: indices, into: &buffers)
      return try withElementBuffers(buffers, body)
    }
  }
}
