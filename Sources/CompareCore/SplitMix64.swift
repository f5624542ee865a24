/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast generator whose output for a seed is
/// the same on every machine. Everything random in Compare draws from it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  @usableFromInline var state: UInt64

  public init(seed: UInt64) { state = seed }

  @inlinable
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in [0, 1) from the top 53 bits.
  @inlinable
  public mutating func nextUniform() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A standard normal deviate (Box–Muller, one value per call).
  @inlinable
  public mutating func nextGaussian() -> Double {
    var u = nextUniform()
    while u == 0 { u = nextUniform() }
    let v = nextUniform()
    return (-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v)
  }

  /// A uniform integer in 0..<bound without modulo bias (Lemire's method).
  @inlinable
  public mutating func nextIndex(below bound: Int) -> Int {
    precondition(bound > 0)
    let b = UInt64(bound)
    var product = next().multipliedFullWidth(by: b)
    if product.low < b {
      let threshold = (0 &- b) % b
      while product.low < threshold { product = next().multipliedFullWidth(by: b) }
    }
    return Int(product.high)
  }

  /// Fisher–Yates shuffle of a buffer, reproducible for a seed on every machine.
  @inlinable
  public mutating func shuffle<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
    var i = buffer.count - 1
    while i > 0 {
      let j = nextIndex(below: i + 1)
      buffer.swapAt(i, j)
      i -= 1
    }
  }
}
