import Foundation

/// The reference tool's detX constraint (`analyze(detX=True)`): the smallest tail of the ESD,
/// rescaled to mean 1, whose eigenvalues' product falls below 1.
///
/// With λ̃ = λ·M'/Σλ (M' = number of eigenvalues, so that mean λ̃ = 1) ascending, `detX_num` is
/// the least k such that Π of the k largest λ̃ < 1, and the tail starts at λ̃_{M'−k}:
/// `detX_val` is that eigenvalue in the original units and `detX_val_unrescaled` in the
/// rescaled ones (the reference's names, which read the other way round).
///
/// Differences from the reference, on purpose: the product is a sum of logarithms (the
/// reference's `np.prod` of the tail overflows to ∞ for long tails of λ̃ > 1 and then never
/// falls below 1); and when no tail short of all eigenvalues qualifies, the reference reports
/// `detX_num` = M' with the second-smallest eigenvalue, Compare M' with the smallest.
/// A constant spectrum (λ̃₀ = λ̃_max) gives 0 and the smallest eigenvalue, as the reference.
/// - Complexity: O(M') (the reference's loop is O(M'²)).
public struct DetX: Sendable, Equatable {
  /// `detX_num`: eigenvalues in the tail.
  public let count: Int
  /// `detX_val`: where the tail starts, in the ESD's units.
  public let value: Double
  /// `detX_val_unrescaled`: where the tail starts, in the mean-1 units.
  public let rescaledValue: Double

  /// - Parameter eigenvalues: The ESD, every eigenvalue (zeros included), ascending.
  public init(eigenvalues: [Double]) {
    let n = eigenvalues.count
    // The reference's rescale_eigenvalues: W_scale = √n/√Σλ, λ̃ = W_scale²·λ.
    let wScale = Double(n).squareRoot() / eigenvalues.reduce(0, +).squareRoot()
    let scale = wScale * wScale
    let rescaled = eigenvalues.map { scale * $0 }
    var index = 0, count = 0
    if n >= 2, rescaled[0] < rescaled[n - 1] {
      var logProduct = 0.0
      count = n
      for i in stride(from: n - 1, through: 0, by: -1) {
        logProduct += log(max(rescaled[i], 0))
        if logProduct < 0 {
          index = i
          count = n - i
          break
        }
      }
    }
    self.count = count
    value = n == 0 ? .nan : rescaled[index] / scale
    rescaledValue = n == 0 ? .nan : rescaled[index]
  }
}
