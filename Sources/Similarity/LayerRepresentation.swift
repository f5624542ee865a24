import CompareCore

/// What a measure reads of each layer: each part is made once per layer, only when a requested
/// measure needs it.
public struct LayerNeeds: OptionSet, Sendable, Hashable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }
  /// The centred SVD (`LayerDecomposition`): cka, the CCA family, procrustes, linreg.
  public static let spectrum = LayerNeeds(rawValue: 1)
  /// The ranked correlation RDM (`RankedDissimilarities`): rsa.
  public static let dissimilarities = LayerNeeds(rawValue: 2)
  /// The k nearest neighbours of each example (`NeighbourLists`): mknn, cknna.
  public static let neighbours = LayerNeeds(rawValue: 4)
  /// The U-centred distance matrix (`UCentredDistances`): dcor.
  public static let distances = LayerNeeds(rawValue: 8)
}

/// One layer's activations in the forms the requested measures read, each made once.
public struct LayerRepresentation: Sendable {
  public let examples: Int
  public let features: Int
  public let spectrum: LayerDecomposition?
  public let dissimilarities: RankedDissimilarities?
  public let neighbours: NeighbourLists?
  public let distances: UCentredDistances?

  /// Makes the parts `needs` asks for; `neighbours` is k of the k-NN lists.
  ///
  /// - Throws: `InputError` for an empty or non-finite layer, or k ≥ examples with neighbours.
  public init(of x: Matrix<Double>, needs: LayerNeeds, neighbours k: Int = MeasureSettings.defaultNeighbours) throws {
    try self.init(of: x, needs: needs, neighbours: k, scratch: LayerScratch())
  }

  /// The same, with the work buffers in `scratch` (one per worker, reused layer after layer).
  /// A `transient` layer, compared and then dropped, keeps its rsa ranks in the Gram buffer
  /// lent by `scratch`, and its dcor triangle and singular vectors in spare buffers;
  /// `LayerScratch.recycle` drops it and takes them back.
  package init(of x: Matrix<Double>, needs: LayerNeeds, neighbours k: Int, scratch: LayerScratch,
               transient: Bool = false) throws {
    guard !x.isEmpty else { throw InputError("a layer has no examples or no features (\(x.shapeDescription))") }
    if let bad = x.firstNonFinite() {
      throw InputError("a layer holds a non-finite value at example \(bad.row), feature \(bad.column)")
    }
    examples = x.rows
    features = x.columns
    isConstant = Self.allRowsEqual(x)
    spectrum = needs.contains(.spectrum) ? try LayerDecomposition(of: x, scratch: scratch, transient: transient) : nil
    dissimilarities = needs.contains(.dissimilarities) ? RankedDissimilarities(of: x, scratch: scratch, transient: transient) : nil
    neighbours = needs.contains(.neighbours) ? try NeighbourLists(of: x, k: k, scratch: scratch) : nil
    distances = needs.contains(.distances) ? UCentredDistances(of: x, scratch: scratch, transient: transient) : nil
  }

  /// True when every example has the same activations: no measure is defined.
  public var isConstant: Bool

  static func allRowsEqual(_ x: Matrix<Double>) -> Bool {
    let p = x.columns
    for i in 1..<max(x.rows, 1) { for j in 0..<p where x.elements[i * p + j] != x.elements[j] { return false } }
    return true
  }
}
