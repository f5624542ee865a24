// The SpectralMetrics module. See its issue and README section.
import CompareCore
