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

  /// A cell of the table.
  public enum Value: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    /// Undefined for this layer (JSON `null`, an empty CSV cell).
    case null

    /// The value as text: numbers in Swift's shortest round-trip form, `null` when undefined.
    public var description: String {
      switch self {
      case .int(let i): "\(i)"
      case .double(let d): "\(d)"
      case .string(let s): s
      case .null: "null"
      }
    }
  }

  public var name: String
  public var kind: WeightLayer.Kind
  /// The conv slice (i·kw + j) when pooling is off, else `nil`.
  public var sliceIndex: Int?
  public var n: Int
  public var m: Int
  public var rf: Int
  public var status: Status = .success
  /// Why the layer failed or was skipped; empty on success.
  public var reason: String = ""

  /// The ESD, when computed.
  public var spectrum: Spectrum?
  public var powerLaw: PowerLawFit?
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

  public init(name: String, kind: WeightLayer.Kind, sliceIndex: Int? = nil, n: Int, m: Int, rf: Int) {
    self.name = name
    self.kind = kind
    self.sliceIndex = sliceIndex
    self.n = n
    self.m = m
    self.rf = rf
  }

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

  /// `alpha_weighted` = alpha · log10 λmax.
  public var alphaWeighted: Double? {
    guard let fit = powerLaw, let s = spectrum else { return nil }
    return fit.alpha * s.logSpectralNorm
  }

  /// `log_alpha_norm` = log10 Σ λ^alpha.
  public var logAlphaNorm: Double? {
    guard let fit = powerLaw, let s = spectrum else { return nil }
    return s.logAlphaNorm(alpha: fit.alpha)
  }

  /// Every column in the order of the JSON and CSV outputs.
  public var columns: [(String, Value)] {
    func d(_ x: Double?) -> Value { x.map { $0.isFinite ? .double($0) : .null } ?? .null }
    func i(_ x: Int?) -> Value { x.map { .int($0) } ?? .null }
    var c: [(String, Value)] = [("name", .string(name)), ("layer_type", .string(kind.rawValue))]
    if let sliceIndex { c.append(("slice_id", .int(sliceIndex))) }
    c += [("N", .int(n)), ("M", .int(m)), ("Q", .double(Double(n) / Double(max(m, 1)))), ("rf", .int(rf))]
    let s = spectrum
    let defined = status != .skipped && (s?.lambdaMax ?? 0) > 0
    c += [
      ("num_evals", i(s?.count)),
      ("lambda_max", d(s?.lambdaMax)),
      ("norm", d(s?.norm)),
      ("log_norm", d(defined ? s?.logNorm : nil)),
      ("spectral_norm", d(s?.lambdaMax)),
      ("log_spectral_norm", d(defined ? s?.logSpectralNorm : nil)),
      ("stable_rank", d(defined ? s?.stableRank : nil)),
      ("matrix_rank", i(s?.matrixRank)),
      ("entropy", d(defined ? s?.entropy : nil)),
      ("alpha", d(powerLaw?.alpha)),
      ("xmin", d(powerLaw?.xmin)),
      ("xmax", d(powerLaw?.xmax)),
      ("D", d(powerLaw?.d)),
      ("sigma", d(powerLaw?.sigma)),
      ("num_pl_spikes", i(powerLaw?.tailCount)),
      ("alpha_weighted", d(alphaWeighted)),
      ("log_alpha_norm", d(logAlphaNorm)),
      ("warning", .string(powerLaw?.warning ?? "")),
    ]
    if !randDistances.isEmpty {
      let first = firstRandomEigenvalues?.last
      c += [
        ("rand_distance", d(randDistance)),
        ("rand_distance_std", d(randDistanceDeviation)),
        ("max_rand_eval", d(randomEigenvalues?.last)),
        ("ww_softrank", d(first.flatMap { f in s.map { f / $0.lambdaMax } })),
        ("ww_maxdist", d(first.flatMap { f in s.map { $0.lambdaMax - f } })),
      ]
    }
    if let mp = marchenkoPastur {
      c += [("bulk_max", d(mp.bulkMax)), ("bulk_min", d(mp.bulkMin)), ("sigma_mp", d(mp.sigma)),
            ("num_spikes", .int(mp.spikeCount)), ("mp_softrank", d(mp.softRank)), ("W_scale", d(mp.wScale))]
    }
    if let mp = randomMarchenkoPastur {
      c += [("rand_num_spikes", .int(mp.spikeCount)), ("num_traps", .int(mp.spikeCount)),
            ("rand_sigma_mp", d(mp.sigma)), ("rand_mp_softrank", d(mp.softRank)),
            ("rand_W_scale", d(mp.wScale)), ("rand_bulk_max", d(mp.bulkMax)),
            ("rand_bulk_min", d(mp.bulkMin))]
    }
    if let t = initDistance {
      c += [("distance_from_init", d(t.distance)), ("relative_distance_from_init", d(t.relativeDistance)),
            ("cosine_distance_from_init", d(t.cosineDistance)), ("cka_from_init", d(t.cka)),
            ("ww_cka_from_init", d(t.uncentredCKA))]
    }
    c.append(("status", .string(status.rawValue)))
    if !reason.isEmpty { c.append(("reason", .string(reason))) }
    return c
  }

  /// The value of one column, by its name.
  public func value(_ column: String) -> Value {
    columns.first { $0.0 == column }?.1 ?? .null
  }
}

/// The reference tool's `get_summary()`: means over layers of `log_norm`, `alpha`,
/// `alpha_weighted`, `log_alpha_norm`, `log_spectral_norm`, `stable_rank`, `mp_softrank`.
///
/// Unlike the reference, which averages in its alpha = −1 sentinel of failed fits, only layers
/// whose status is `success` are averaged, and the failures are counted.
public struct ESDSummary: Sendable {
  public static let metrics = ["log_norm", "alpha", "alpha_weighted", "log_alpha_norm",
                               "log_spectral_norm", "stable_rank", "mp_softrank"]
  /// (metric, mean) in `metrics` order, for the metrics some layer has.
  public let means: [(String, Double)]
  /// Rows analysed successfully, failed, skipped.
  public let analysed: Int
  public let failed: Int
  public let skipped: Int

  public init(_ reports: [LayerReport]) {
    let good = reports.filter { $0.status == .success }
    var means: [(String, Double)] = []
    for metric in Self.metrics {
      let values = good.compactMap { r -> Double? in
        if case .double(let x) = r.value(metric) { return x }
        return nil
      }
      if !values.isEmpty { means.append((metric, values.reduce(0, +) / Double(values.count))) }
    }
    self.means = means
    analysed = good.count
    failed = reports.filter { $0.status == .failed }.count
    skipped = reports.filter { $0.status == .skipped }.count
  }
}
