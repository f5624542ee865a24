extension Matrix {
  /// A matrix of independent standard normal entries drawn from `rng`.
  public static func gaussian(rows: Int, columns: Int, using rng: inout SplitMix64) -> Matrix {
    var elements = [Scalar]()
    elements.reserveCapacity(rows * columns)
    for _ in 0..<(rows * columns) { elements.append(Scalar(rng.nextGaussian())) }
    return Matrix(rows: rows, columns: columns, elements: elements)
  }

  /// A Haar-ish random orthogonal matrix: Q of the QR factorisation of a Gaussian matrix.
  public static func randomOrthogonal(size: Int, using rng: inout SplitMix64) -> Matrix {
    let g = gaussian(rows: size, columns: size, using: &rng)
    // Column-major QR of the transpose gives an orthogonal Q just as well.
    var a = g.elements
    var tau = [Scalar](repeating: 0, count: size)
    let result = a.withUnsafeMutableBufferPointer { pa in
      tau.withUnsafeMutableBufferPointer { pt in
        Scalar.orthonormalize(pa.baseAddress!, rows: Int32(size), columns: Int32(size),
                              tau: pt.baseAddress!)
      }
    }
    precondition(result.info == 0, "\(result.routine) failed on a Gaussian matrix: \(result.info)")
    return Matrix(rows: size, columns: size, elements: a)
  }

  /// The identity matrix.
  public static func identity(_ size: Int) -> Matrix {
    Matrix(rows: size, columns: size) { i, j in i == j ? 1 : 0 }
  }
}
