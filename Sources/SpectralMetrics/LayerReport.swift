import CompareCore

/// One row of the ESD table: the reference tool's columns for one layer (or one conv slice
/// with pooling off), under the same names.
public struct LayerReport: Sendable {
  /// Whether the layer's numbers are usable.
  public enum Status: String, Sendable {
    /// Every requested column was computed.
    case success
    /// Some columns are undefined (all-zero weight, failed fit, non-converging SVD): see `reason`.
    case failed
    /// Not analysed (too few eigenvalues): see `reason`.
    case skipped
  }

  public var name: String
  public var kind: WeightLayer.Kind
  /// The conv slice (i·kw + j) when pooling is off, else `nil`.
  public var sliceIndex: Int?
  /// The expert of a stacked expert tensor (`NAME.expert.E`), else `nil`.
  public var expertIndex: Int?
  /// `layer_id`: the layer's 1-based position in the model's list of weights.
  public var layerID = 1
  /// `longname`: the tensor's key.
  public var longname: String
  public var n: Int
  public var m: Int
  public var rf: Int
  public var status: Status = .success
  /// Why the layer failed or was skipped; empty on success.
  public var reason: String = ""

  /// The ESD, when computed.
  public var spectrum: Spectrum?
  /// The power-law fit (`fit` PL), after the finger fix if any.
  public var powerLaw: PowerLawFit?
  /// The truncated power-law fit (`fit` TPL or E_TPL).
  public var truncatedPowerLaw: TruncatedPowerLawFit?
  /// `clip_xmax`'s search (`num_fingers`, `raw_alpha`); its kept fit is `powerLaw`.
  public var clipped: ClippedPowerLawFit?
  /// The detX constraint, when asked for.
  public var detX: DetX?
  /// The tail fit asked for (set on analysed rows: a failed fit keeps its columns, as `null`).
  public var tailFit: PowerLawFitKind?
  /// The finger fix asked for (E_TPL implies `xmin_peak`).
  public var fingerFix: FingerFix?
  public var marchenkoPastur: MarchenkoPasturFit?
  /// The shuffled ESDs' fit (`rand_*`, `num_traps`).
  public var randomMarchenkoPastur: MarchenkoPasturFit?
  /// Pooled shuffled eigenvalues used for `max_rand_eval` and the `rand_*` fit.
  public var randomEigenvalues: [Double]?
  /// The first shuffle's eigenvalues (`ww_softrank`, `ww_maxdist`, plots).
  public var firstRandomEigenvalues: [Double]?
  /// `rand_distance` over each shuffle (one unless `--rand-repeats`).
  public var randDistances: [Double] = []
  public var initDistance: InitDistance?
  /// `sv_min`: the largest over slices of each slice's smallest singular value (√λ, the
  /// reference's rule; for one matrix its smallest singular value).
  public var svMin: Double?
  /// `rank_loss`: Σ over slices of M − rank, numpy's `matrix_rank` rule per slice.
  public var rankLoss: Int?
  /// `weak_rank_loss`: eigenvalues below `ESDOptions.tolerance`.
  public var weakRankLoss: Int?
  /// `alpha_ci_low`, `alpha_ci_high` (`ESDOptions.alphaResamples`).
  public var alphaInterval: AlphaConfidenceInterval?
  /// `pl_p_value` (`ESDOptions.powerLawTestSamples`).
  public var goodnessOfFit: PowerLawGoodnessOfFit?
  /// `pl_vs_<alternative>_R`, `_p`, one per alternative (`ESDOptions.powerLawTestSamples`).
  public var likelihoodRatioTests: [LikelihoodRatioTest] = []
  /// The number of eigenvalues when it is not M·rf: min(r, M) for a LoRA update of rank r.
  public var evalCount: Int?

  public init(name: String, kind: WeightLayer.Kind, sliceIndex: Int? = nil, n: Int, m: Int, rf: Int) {
    self.name = name
    self.kind = kind
    self.sliceIndex = sliceIndex
    self.n = n
    self.m = m
    self.rf = rf
    longname = name
  }

  /// The row's label in the table and the key of its eigenvalues in `--save-esd`:
  /// `name`, `name[slice]` for a conv slice (an expert's `name` is already `NAME.expert.E`).
  public var label: String { sliceIndex.map { "\(name)[\($0)]" } ?? name }

  /// `sv_max`: the largest singular value, √λmax.
  public var svMax: Double? { spectrum.map { $0.lambdaMax.squareRoot() } }

  /// `rand_distance`: the mean over shuffles.
  public var randDistance: Double? {
    randDistances.isEmpty ? nil : randDistances.reduce(0, +) / Double(randDistances.count)
  }

  /// Sample standard deviation of `rand_distance` over shuffles (0 for one shuffle).
  public var randDistanceDeviation: Double? {
    guard let mean = randDistance else { return nil }
    guard randDistances.count > 1 else { return 0 }
    let ss = randDistances.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
    return (ss / Double(randDistances.count - 1)).squareRoot()
  }

  /// `alpha`: the tail exponent of the fit asked for (PL or TPL).
  public var alpha: Double? { truncatedPowerLaw?.alpha ?? powerLaw?.alpha }

  /// `alpha_weighted` = alpha · log10 λmax.
  public var alphaWeighted: Double? {
    guard let alpha, let s = spectrum else { return nil }
    return alpha * s.logSpectralNorm
  }

  /// `log_alpha_norm` = log10 Σ λ^alpha.
  public var logAlphaNorm: Double? {
    guard let alpha, let s = spectrum else { return nil }
    return s.logAlphaNorm(alpha: alpha)
  }

  /// `warning`: "over-trained" when alpha < 2, "under-trained" when alpha > 6, else "".
  public var warning: String {
    guard let alpha else { return "" }
    return alpha < 2 ? "over-trained" : alpha > 6 ? "under-trained" : ""
  }

  /// This row's columns, in the order of the JSON and CSV outputs (see `ESDColumn.all`).
  public var columns: [(String, JSONValue)] {
    ESDColumn.all.filter { $0.group.applies(to: self) }.map { ($0.name, $0.value(self)) }
  }

  /// The value of one column, by its name: `null` when the row does not have it.
  public func value(_ column: String) -> JSONValue {
    guard let c = ESDColumn.byName[column], c.group.applies(to: self) else { return .null }
    return c.value(self)
  }

  /// The first shuffle's largest eigenvalue (`ww_softrank`, `ww_maxdist`).
  var firstRandomMax: Double? { firstRandomEigenvalues?.last }
}

/// The reference tool's `get_summary()`: means over layers of `log_norm`, `alpha`,
/// `alpha_weighted`, `log_alpha_norm`, `log_spectral_norm`, `stable_rank`, `mp_softrank`.
///
/// Unlike the reference, which averages in its alpha = −1 sentinel of failed fits, only layers
/// whose status is `success` are averaged, and the failures are counted. The summary row of a
/// stacked expert tensor (`layer_type` `experts`) is left out: its experts' rows are counted.
public struct ESDSummary: Sendable {
  public static let metrics = ["log_norm", "alpha", "alpha_weighted", "log_alpha_norm",
                               "log_spectral_norm", "stable_rank", "mp_softrank"]
  /// (metric, mean) in `metrics` order, for the metrics some layer has.
  public let means: [(String, Double)]
  /// Rows analysed successfully.
  public let analysed: Int
  /// Rows analysed whose numbers are (partly) undefined.
  public let failed: Int
  /// Rows not analysed (too few eigenvalues) plus the tensors left out before analysis.
  public let skipped: Int

  /// - Parameters:
  ///   - reports: Every row, of any status.
  ///   - skippedTensors: Tensors left out before analysis (biases, 3-D tensors, ...).
  public init(_ reports: [LayerReport], skippedTensors: Int = 0) {
    self.init(rows: reports.map(\.columns), skippedTensors: skippedTensors)
  }

  /// The same from rows of (column, value), as `LayerReport.columns` gives them or a saved
  /// `--json` holds them: `status` tells analysed, failed and skipped rows apart.
  public init(rows: [[(String, JSONValue)]], skippedTensors: Int = 0) {
    func value(_ row: [(String, JSONValue)], _ column: String) -> JSONValue { row.first { $0.0 == column }?.1 ?? .null }
    func status(_ row: [(String, JSONValue)]) -> String {
      if case .string(let s) = value(row, "status") { return s }
      return ""
    }
    // A stacked-experts tensor's summary row pools its expert rows: it is not averaged again.
    let rows = rows.filter { value($0, "layer_type") != .string(WeightLayer.Kind.experts.rawValue) }
    let good = rows.filter { status($0) == LayerReport.Status.success.rawValue }
    means = Self.metrics.compactMap { metric -> (String, Double)? in
      let values = good.compactMap { row -> Double? in
        if case .double(let x) = value(row, metric) { return x }
        return nil
      }
      return values.isEmpty ? nil : (metric, values.reduce(0, +) / Double(values.count))
    }
    analysed = good.count
    failed = rows.filter { status($0) == LayerReport.Status.failed.rawValue }.count
    skipped = rows.filter { status($0) == LayerReport.Status.skipped.rawValue }.count + skippedTensors
  }

  /// The mean of one metric, or `nil` when no layer has it.
  public func mean(_ metric: String) -> Double? { means.first { $0.0 == metric }?.1 }
}
