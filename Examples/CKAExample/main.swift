// `compare cka A B --heatmap FIGURE` through the library:
//   swift run CKAExample [A B FIGURE]
import Compare

BLASKernels.prefer(for: .float32)  // the fastest OpenBLAS kernels for float32 work, as compare does
let arguments = Array(CommandLine.arguments.dropFirst())
let (pathA, pathB, figure) = arguments.count == 3
  ? (arguments[0], arguments[1], arguments[2])
  : ("Examples/data/activations_mlp.safetensors", "Examples/data/activations_cnn.npz", "cka.png")
do {
  let (a, b) = try ActivationSet.pair(pathA, pathB)                 // one tensor per layer
  let result = try CKAEstimator.minibatch(batchSize: 256).similarities(a, b)
  for line in result.messages { printToStandardError(line) }
  try CKAFigures.writeHeatmap(result.matrix, to: figure)           // .png or .svg
  print(result.text, terminator: "")                                // or result.json()
} catch {
  printToStandardError("Error: \(error)")
  exit(1)
}
