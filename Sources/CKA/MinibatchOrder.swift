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

extension RepresentationSource {
  /// Reads one minibatch's examples of every layer into `matrices`.
  func read<S: BLASScalar>(_ batch: MinibatchRows, into matrices: inout [Matrix<S>]) throws {
    switch batch {
    case .rows(let rows): try read(rows: rows, into: &matrices)
    case .examples(let indices): try read(examples: indices, into: &matrices)
    }
  }
}
