/// Running top-K of one row of kernel values.
enum TopK {
  /// Writes the `k` largest of `row[0..<count]` into `values`/`indices`, largest first; equal
  /// values keep their order (lowest index first). One pass; O(count + K · insertions).
  @inline(__always)
  static func select(_ row: UnsafePointer<Float>, count: Int, k: Int,
                     indices: UnsafeMutablePointer<Int>, values: UnsafeMutablePointer<Float>) {
    // Start from the first k, insertion-sorted (stable: a later equal value goes after).
    for j in 0..<k {
      let v = row[j]
      var p = j
      while p > 0, values[p - 1] < v {
        values[p] = values[p - 1]
        indices[p] = indices[p - 1]
        p -= 1
      }
      values[p] = v
      indices[p] = j
    }
    var threshold = values[k - 1]
    var j = k
    while j < count {
      let v = row[j]
      // Strictly greater: an equal value at a higher index never displaces an earlier one.
      if v > threshold {
        var p = k - 1
        while p > 0, values[p - 1] < v {
          values[p] = values[p - 1]
          indices[p] = indices[p - 1]
          p -= 1
        }
        values[p] = v
        indices[p] = j
        threshold = values[k - 1]
      }
      j += 1
    }
  }
}
