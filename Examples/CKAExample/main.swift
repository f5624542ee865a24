// CKA through the library API: `swift run CKAExample [Examples/data]`.
//
// Streams the two example models' activations batch by batch into a `MinibatchCKA` (as one
// would with activations produced on the fly), then computes full-batch linear CKA of one
// pair of layers with `LinearCKA`, and checks CKA's invariances on synthetic data.
#if canImport(Glibc)
import Glibc
#endif
import Compare

func main() throws {
  let folder = CommandLine.arguments.dropFirst().first ?? "Examples/data"
  let mlp = try TensorFile.open(folder + "/activations_mlp.safetensors")
  let cnn = try TensorFile.open(folder + "/activations_cnn.npz")
  let layersA = NaturalOrder.sorted(mlp.keys), layersB = NaturalOrder.sorted(cnn.keys)
  let examples = try mlp.tensor(layersA[0]).shape[0]

  // 1. Minibatch CKA, streaming: only one batch of every layer is in memory at a time.
  var cka = try MinibatchCKA(layersA: layersA, layersB: layersB, modelA: "mlp", modelB: "cnn")
  let batch = 150
  for start in stride(from: 0, through: examples - batch, by: batch) {
    let rows = start..<(start + batch)
    let a = try layersA.map { try mlp.tensor($0).rowsMatrix(rows) }
    let b = try layersB.map { try cnn.tensor($0).rowsMatrix(rows) }
    try cka.accumulate(batchA: a, batchB: b)
  }
  let matrix = try cka.result()
  print("Minibatch linear CKA (\(cka.batches) batches of \(batch)), rows mlp, columns cnn:")
  print("          " + layersB.map { Format.right($0, 8) }.joined())
  for (i, layer) in layersA.enumerated() {
    print(Format.left(layer, 10) + layersB.indices.map { Format.right(Format.fixed(matrix[i, $0], 4), 8) }.joined())
  }
  for match in matrix.bestMatches {
    print("  mlp \(match.layerA) is closest to cnn \(match.layerB ?? "-") (\(Format.fixed(match.similarity, 4)))")
  }

  // 2. Full-batch linear CKA of one pair, in feature space (no 450×450 matrix), both estimators.
  let x = try mlp.tensor("fc2").matrix(Float.self), y = try cnn.tensor("fc1").matrix(Float.self)
  print("mlp fc2 vs cnn fc1, all \(examples) examples: CKA \(Format.fixed(try LinearCKA().similarity(x, y), 4)) (biased HSIC), \(Format.fixed(try LinearCKA(debiased: true).similarity(x, y), 4)) (debiased)")

  // 3. What CKA ignores and what it does not: a rotation and a scaling, versus a generic map.
  var rng = SplitMix64(seed: 7)
  let q = Matrix<Float>.randomOrthogonal(size: y.columns, using: &rng)
  let w = Matrix<Float>.gaussian(rows: y.columns, columns: y.columns, using: &rng)
  let rotated = try LinearCKA().similarity(y, y.multiplied(by: q).scaled(by: 3))
  let mapped = try LinearCKA().similarity(y, y.multiplied(by: w))
  print("cnn fc1 vs itself rotated and scaled ×3: \(Format.fixed(rotated, 6)); vs a random linear map of itself: \(Format.fixed(mapped, 4))")
}

extension Tensor {
  /// Rows `rows` of this layer as an `examples × features` matrix.
  func rowsMatrix(_ rows: Range<Int>) throws -> Matrix<Float> {
    Matrix(rows: rows.count, columns: shape.dropFirst().reduce(1, *), elements: try floats(rows: rows))
  }
}

do {
  try main()
} catch {
  print("Error: \(error)")
  exit(1)
}
