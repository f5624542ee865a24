extension BinaryFloatingPoint {
  /// `true` when `|self − other| ≤ tolerance · max(1, |other|)`: absolute near zero, relative
  /// elsewhere. NaN is close to nothing.
  @inlinable
  public func isClose(to other: Self, tolerance: Self) -> Bool {
    abs(self - other) <= tolerance * Swift.max(1, abs(other))
  }
}
