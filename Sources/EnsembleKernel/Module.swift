// The EnsembleKernel module: the ensemble correlation kernel and k-NN inference over the logits
// of many independently trained models.
//
// Entry points: `CorrelationKernel` (the kernel, in row blocks, out of core), `Neighbors` (the
// top-K training examples of each test example), `KernelKNN` (voting), `EnsembleAccuracy`
// (single-model and ensemble accuracy). Logits reach it through a `LogitsSource`, so this module
// knows nothing of files.
