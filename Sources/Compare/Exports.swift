// The umbrella module: `import Compare` brings in every Compare module.
@_exported import CKA
@_exported import CompareCore
@_exported import EnsembleKernel
@_exported import Figures
@_exported import Similarity
@_exported import SpectralMetrics
@_exported import TensorIO
