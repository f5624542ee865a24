/// Which distribution `ESDAnalyzer` fits to the ESD tail: the reference tool's
/// `analyze(fit=...)`, under its names.
public enum PowerLawFitKind: String, CaseIterable, Sendable {
  /// `PL`: the power law ρ(λ) ∝ λ^(−alpha) (`PowerLawFit`), the default.
  case powerLaw = "PL"
  /// `TPL`: the truncated power law ρ(λ) ∝ λ^(−alpha) e^(−Lambda·λ), xmin over every
  /// eigenvalue (`TruncatedPowerLawFit`); adds `Lambda`.
  case truncatedPowerLaw = "TPL"
  /// `E_TPL`: the truncated power law with its xmin searched near the peak of the ESD, as
  /// the reference's `fit='E_TPL'` (which is `fit='TPL', fix_fingers='xmin_peak'`).
  case extendedTruncatedPowerLaw = "E_TPL"

  /// Whether the tail is a truncated power law (`Lambda` is reported).
  public var isTruncated: Bool { self != .powerLaw }
}
