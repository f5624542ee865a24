/// The settings of the similarity measures, each default declared once.
public struct MeasureSettings: Sendable, Equatable {
  /// Relative singular-value cut for the ranks of the CCA-type measures.
  public static let defaultTolerance = 1e-6
  /// Fraction of the variance SVCCA's kept directions explain.
  public static let defaultSVCCAVariance = 0.99
  /// Neighbours per example of mknn and cknna.
  public static let defaultNeighbours = 10
  /// Bytes the n×n measures (rsa, dcor) may keep for all layers together.
  public static let defaultMemoryBudget = 4 << 30

  /// `--cca-tolerance`.
  public var tolerance: Double = defaultTolerance
  /// `--svcca-variance`.
  public var svccaVariance: Double = defaultSVCCAVariance
  /// `--ridge`: linreg's ridge penalty (0: least squares).
  public var ridge: Double = 0
  /// `--knn`: neighbours per example of mknn and cknna.
  public var neighbours: Int = defaultNeighbours
  /// Bytes rsa's and dcor's per-layer n×n matrices may take, all layers together.
  public var memoryBudget: Int = defaultMemoryBudget

  public init(tolerance: Double = defaultTolerance, svccaVariance: Double = defaultSVCCAVariance,
              ridge: Double = 0, neighbours: Int = defaultNeighbours,
              memoryBudget: Int = defaultMemoryBudget) {
    self.tolerance = tolerance
    self.svccaVariance = svccaVariance
    self.ridge = ridge
    self.neighbours = neighbours
    self.memoryBudget = memoryBudget
  }
}

/// The measures `compare similarity --measure` accepts, in the order `all` lists them.
public enum MeasureName: String, CaseIterable, Sendable {
  case cka
  case cca
  case ccaR2 = "cca_r2"
  case svcca
  case pwcca
  case procrustes
  case procrustesEuclidean = "procrustes_euclidean"
  case linreg
  case rsa
  case mknn
  case cknna
  case dcor

  /// The measure with `settings`.
  public func measure(_ settings: MeasureSettings = MeasureSettings()) -> any SimilarityMeasure {
    switch self {
    case .cka: CKASimilarity()
    case .cca: CCASimilarity(tolerance: settings.tolerance)
    case .ccaR2: CCASimilarity(tolerance: settings.tolerance, squared: true)
    case .svcca: SVCCASimilarity(variance: settings.svccaVariance)
    case .pwcca: PWCCASimilarity(tolerance: settings.tolerance)
    case .procrustes: ProcrustesDistance()
    case .procrustesEuclidean: ProcrustesDistance(euclidean: true)
    case .linreg: LinearRegressionSimilarity(tolerance: settings.tolerance, ridge: settings.ridge)
    case .rsa: RSASimilarity()
    case .mknn: MutualKNNSimilarity(k: settings.neighbours)
    case .cknna: CKNNASimilarity(k: settings.neighbours)
    case .dcor: DistanceCorrelationSimilarity()
    }
  }

  /// Parses a comma-separated list, or `all`; `nil` names the first unknown word.
  public static func list(_ text: String) -> Result<[MeasureName], UnknownMeasure> {
    let words = text.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
      .filter { !$0.isEmpty }
    var names: [MeasureName] = []
    for word in words {
      if word == "all" {
        names += allCases
      } else if let name = MeasureName(rawValue: word) {
        names.append(name)
      } else {
        return .failure(UnknownMeasure(word: word))
      }
    }
    var seen = Set<MeasureName>()
    return .success(names.filter { seen.insert($0).inserted })
  }

  /// A word of a measure list that names no measure.
  public struct UnknownMeasure: Error, Sendable { public var word: String }
}

extension String {
  func trimmingCharacters(in set: Character) -> String {
    String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
  }
}
