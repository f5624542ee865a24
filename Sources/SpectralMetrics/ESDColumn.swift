import CompareCore

/// One column of the ESD table: its name (the reference tool's), which rows have it, and how
/// its value comes from a `LayerReport`. `ESDColumn.all` is the one table that drives the text
/// table, the JSON and the CSV.
public struct ESDColumn: Sendable {
  /// Which rows have a column.
  public enum Group: Sendable {
    /// Every row.
    case always
    /// Rows of one conv slice (pooling off).
    case slice
    /// Rows of one expert of a stacked expert tensor.
    case expert
    /// Rows whose W was shuffled (`rand_distance` and friends).
    case randomized
    /// Rows with a Marchenko–Pastur fit.
    case marchenkoPastur
    /// Rows with a Marchenko–Pastur fit of the shuffled ESD.
    case randomMarchenkoPastur
    /// Rows compared with an init model.
    case initDistance
    /// Rows fitted with a truncated power law (`fit` TPL or E_TPL).
    case truncatedPowerLaw
    /// Rows whose fingers were clipped (`fix_fingers` clip_xmax).
    case clippedFingers
    /// Rows with the detX constraint.
    case detX
    /// Failed or skipped rows (the reason).
    case reason
    /// Rows with a bootstrap interval for alpha (`--alpha-ci`).
    case alphaInterval
    /// Rows with the power-law goodness-of-fit and likelihood ratio tests (`--pl-test`).
    case powerLawTest

    func applies(to r: LayerReport) -> Bool {
      switch self {
      case .always: true
      case .slice: r.sliceIndex != nil
      case .expert: r.expertIndex != nil
      case .randomized: !r.randDistances.isEmpty
      case .marchenkoPastur: r.marchenkoPastur != nil
      case .randomMarchenkoPastur: r.randomMarchenkoPastur != nil
      case .initDistance: r.initDistance != nil
      case .truncatedPowerLaw: r.tailFit?.isTruncated == true
      case .clippedFingers: r.fingerFix == .clipXmax && r.tailFit != nil
      case .detX: r.detX != nil
      case .reason: !r.reason.isEmpty
      case .alphaInterval: r.alphaInterval != nil
      case .powerLawTest: r.goodnessOfFit != nil
      }
    }
  }

  /// What a column's values are in the JSON.
  public enum Kind: Sendable {
    /// A number, `null` when undefined (not finite, no fit).
    case number
    /// An integer, always present.
    case integer
    /// An integer, `null` when undefined.
    case optionalInteger
    /// A string, always present.
    case text

    /// Whether `value` is one this column writes (an integer counts as a number: JSON does not
    /// tell `2` from `2.0`).
    public func admits(_ value: JSONValue) -> Bool {
      switch (self, value) {
      case (.number, .double), (.number, .int), (.number, .null): true
      case (.integer, .int), (.optionalInteger, .int), (.optionalInteger, .null): true
      case (.text, .string): true
      default: false
      }
    }
  }

  /// The column's name in the table, JSON and CSV.
  public let name: String
  /// Which rows have it.
  public let group: Group
  /// What its values are.
  public let kind: Kind
  let value: @Sendable (LayerReport) -> JSONValue

  init(_ name: String, _ group: Group = .always, as kind: Kind = .number,
       _ value: @escaping @Sendable (LayerReport) -> JSONValue) {
    self.name = name
    self.group = group
    self.kind = kind
    self.value = value
  }

  /// Every column, in output order.
  public static let all: [ESDColumn] = [
    ESDColumn("layer_id", as: .integer) { .int($0.layerID) },
    ESDColumn("name", as: .text) { .string($0.name) },
    ESDColumn("longname", as: .text) { .string($0.longname) },
    ESDColumn("layer_type", as: .text) { .string($0.kind.rawValue) },
    ESDColumn("slice_id", .slice, as: .optionalInteger) { int($0.sliceIndex) },
    ESDColumn("expert_id", .expert, as: .optionalInteger) { int($0.expertIndex) },
    ESDColumn("N", as: .integer) { .int($0.n) },
    ESDColumn("M", as: .integer) { .int($0.m) },
    ESDColumn("Q") { .double(Double($0.n) / Double(max($0.m, 1))) },
    ESDColumn("rf", as: .integer) { .int($0.rf) },
    ESDColumn("num_evals", as: .integer) { .int($0.spectrum?.count ?? $0.evalCount ?? $0.m * $0.rf) },
    ESDColumn("sv_max") { double($0.svMax) },
    ESDColumn("sv_min") { double($0.svMin) },
    ESDColumn("rank_loss", as: .optionalInteger) { int($0.rankLoss) },
    ESDColumn("weak_rank_loss", as: .optionalInteger) { int($0.weakRankLoss) },
    ESDColumn("lambda_max") { double($0.spectrum?.lambdaMax) },
    ESDColumn("norm") { double($0.spectrum?.norm) },
    ESDColumn("log_norm") { double(defined($0)?.logNorm) },
    ESDColumn("spectral_norm") { double($0.spectrum?.lambdaMax) },
    ESDColumn("log_spectral_norm") { double(defined($0)?.logSpectralNorm) },
    ESDColumn("stable_rank") { double(defined($0)?.stableRank) },
    ESDColumn("matrix_rank", as: .optionalInteger) { int($0.spectrum?.matrixRank) },
    ESDColumn("entropy") { double(defined($0)?.entropy) },
    ESDColumn("alpha") { double($0.alpha) },
    ESDColumn("xmin") { double($0.truncatedPowerLaw?.xmin ?? $0.powerLaw?.xmin) },
    ESDColumn("xmax") { double($0.truncatedPowerLaw?.xmax ?? $0.powerLaw?.xmax) },
    ESDColumn("D") { double($0.truncatedPowerLaw?.d ?? $0.powerLaw?.d) },
    ESDColumn("sigma") { double($0.powerLaw?.sigma) },
    ESDColumn("num_pl_spikes", as: .optionalInteger) { int($0.truncatedPowerLaw?.tailCount ?? $0.powerLaw?.tailCount) },
    ESDColumn("Lambda", .truncatedPowerLaw) { double($0.truncatedPowerLaw?.lambda) },
    ESDColumn("num_fingers", .clippedFingers, as: .optionalInteger) { int($0.clipped?.fingerCount) },
    ESDColumn("raw_alpha", .clippedFingers) { double($0.clipped?.rawAlpha) },
    ESDColumn("alpha_weighted") { double($0.alphaWeighted) },
    ESDColumn("log_alpha_norm") { double($0.logAlphaNorm) },
    ESDColumn("warning", as: .text) { .string($0.warning) },
    ESDColumn("rand_distance", .randomized) { double($0.randDistance) },
    ESDColumn("rand_distance_std", .randomized) { double($0.randDistanceDeviation) },
    ESDColumn("max_rand_eval", .randomized) { double($0.randomEigenvalues?.last) },
    ESDColumn("ww_softrank", .randomized) { r in
      double(r.firstRandomMax.flatMap { f in r.spectrum.map { f / $0.lambdaMax } })
    },
    ESDColumn("ww_maxdist", .randomized) { r in
      double(r.firstRandomMax.flatMap { f in r.spectrum.map { $0.lambdaMax - f } })
    },
    ESDColumn("bulk_max", .marchenkoPastur) { double($0.marchenkoPastur?.bulkMax) },
    ESDColumn("bulk_min", .marchenkoPastur) { double($0.marchenkoPastur?.bulkMin) },
    ESDColumn("sigma_mp", .marchenkoPastur) { double($0.marchenkoPastur?.sigma) },
    ESDColumn("num_spikes", .marchenkoPastur, as: .optionalInteger) { int($0.marchenkoPastur?.spikeCount) },
    ESDColumn("mp_softrank", .marchenkoPastur) { double($0.marchenkoPastur?.softRank) },
    ESDColumn("W_scale", .marchenkoPastur) { double($0.marchenkoPastur?.wScale) },
    ESDColumn("rand_num_spikes", .randomMarchenkoPastur, as: .optionalInteger) { int($0.randomMarchenkoPastur?.spikeCount) },
    ESDColumn("num_traps", .randomMarchenkoPastur, as: .optionalInteger) { int($0.randomMarchenkoPastur?.spikeCount) },
    ESDColumn("rand_sigma_mp", .randomMarchenkoPastur) { double($0.randomMarchenkoPastur?.sigma) },
    ESDColumn("rand_mp_softrank", .randomMarchenkoPastur) { double($0.randomMarchenkoPastur?.softRank) },
    ESDColumn("rand_W_scale", .randomMarchenkoPastur) { double($0.randomMarchenkoPastur?.wScale) },
    ESDColumn("rand_bulk_max", .randomMarchenkoPastur) { double($0.randomMarchenkoPastur?.bulkMax) },
    ESDColumn("rand_bulk_min", .randomMarchenkoPastur) { double($0.randomMarchenkoPastur?.bulkMin) },
    ESDColumn("detX_num", .detX, as: .optionalInteger) { int($0.detX?.count) },
    ESDColumn("detX_val", .detX) { double($0.detX?.value) },
    ESDColumn("detX_val_unrescaled", .detX) { double($0.detX?.rescaledValue) },
    ESDColumn("num_ERG_spikes", .detX, as: .optionalInteger) { int($0.detX?.count) },
    ESDColumn("ERG_gap", .detX, as: .optionalInteger) { r in
      int(r.detX.flatMap { d in (r.truncatedPowerLaw?.tailCount ?? r.powerLaw?.tailCount).map { d.count - $0 } })
    },
    ESDColumn("distance_from_init", .initDistance) { double($0.initDistance?.distance) },
    ESDColumn("relative_distance_from_init", .initDistance) { double($0.initDistance?.relativeDistance) },
    ESDColumn("cosine_distance_from_init", .initDistance) { double($0.initDistance?.cosineDistance) },
    ESDColumn("cka_from_init", .initDistance) { double($0.initDistance?.cka) },
    ESDColumn("ww_cka_from_init", .initDistance) { double($0.initDistance?.uncentredCKA) },
    ESDColumn("alpha_ci_low", .alphaInterval) { double($0.alphaInterval?.low) },
    ESDColumn("alpha_ci_high", .alphaInterval) { double($0.alphaInterval?.high) },
    ESDColumn("pl_p_value", .powerLawTest) { double($0.goodnessOfFit?.pValue) },
  ] + LikelihoodRatioTest.Alternative.allCases.flatMap { alternative in [
    ESDColumn("pl_vs_\(alternative.rawValue)_R", .powerLawTest) { r in
      double(r.likelihoodRatioTests.first { $0.alternative == alternative }?.ratio)
    },
    ESDColumn("pl_vs_\(alternative.rawValue)_p", .powerLawTest) { r in
      double(r.likelihoodRatioTests.first { $0.alternative == alternative }?.pValue)
    },
  ] } + [
    ESDColumn("status", as: .text) { .string($0.status.rawValue) },
    ESDColumn("reason", .reason, as: .text) { .string($0.reason) },
  ]

  /// `all` by name.
  package static let byName = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

  /// The spectrum when its log-scale columns are defined (analysed, λmax > 0).
  private static func defined(_ r: LayerReport) -> Spectrum? {
    guard r.status != .skipped, let s = r.spectrum, s.lambdaMax > 0 else { return nil }
    return s
  }

  private static func double(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .double($0) : .null } ?? .null }
  private static func int(_ x: Int?) -> JSONValue { x.map { .int($0) } ?? .null }
}
