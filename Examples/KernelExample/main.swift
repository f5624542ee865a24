// The ensemble correlation kernel through the library API, on the bundled example data:
// 64 small networks' logits on the digits data set.
//
//   swift run KernelExample [Examples/data/ensemble.npz]
import Compare

/// Logits of a `[models, examples, classes]` tensor, read into memory.
func logits(_ file: TensorFile, _ key: String) throws -> LogitsArray {
  let tensor = try file.tensor(key)
  return try LogitsArray(name: "\(file.path):\(key)", models: tensor.shape[0], examples: tensor.shape[1],
                         classes: tensor.shape[2], values: tensor.floats(),
                         precision: tensor.dtype == .float16 ? .float16 : .float32)
}

func labels(_ file: TensorFile, _ key: String) throws -> [Int] {
  try file.tensor(key).integers().map { Int($0) }
}

func main() throws {
  let path = CommandLine.arguments.dropFirst().first ?? "Examples/data/ensemble.npz"
  let file = try TensorFile.open(path)
  let test = try logits(file, "logits"), train = try logits(file, "logits_train")
  let testLabels = try labels(file, "labels"), trainLabels = try labels(file, "labels_train")
  print("\(test.models) models, \(test.examples) test and \(train.examples) training examples, \(test.classes) classes")

  // Single-model and ensemble accuracy: the baselines.
  let accuracy = try EnsembleAccuracy(logits: test, labels: testLabels)
  print("average single-model accuracy: \(Format.percent(accuracy.singleModel))")
  print("ensemble accuracy:             \(Format.percent(accuracy.ensemble))")

  // The kernel, its 5 nearest training examples per test example, and a k = 3 vote.
  let kernel = try CorrelationKernel(test: test, train: train)
  let neighbors = try kernel.neighbors(count: 5)
  for knn in [KernelKNN(k: 3), KernelKNN(k: 3, ties: .kernelSum), KernelKNN(k: 5, weighting: .power(4))] {
    let value = try knn.accuracy(neighbors, trainLabels: trainLabels, testLabels: testLabels, classes: test.classes)
    print("kernel k-NN, k = \(knn.k), weighting \(knn.weighting), ties \(knn.ties.rawValue): \(Format.percent(value))")
  }

  // Accuracy against ensemble size: the kernel needs more models than averaging does.
  for models in [4, 16, 64] {
    let small = try CorrelationKernel(test: test, train: train, models: models)
    let value = try KernelKNN(k: 3).accuracy(small.neighbors(count: 3), trainLabels: trainLabels,
                                             testLabels: testLabels, classes: test.classes)
    let ensemble = try EnsembleAccuracy(logits: test, labels: testLabels, models: models).ensemble
    print("\(models) models: ensemble \(Format.percent(ensemble)), kernel \(Format.percent(value))")
  }

  // The most similar test/train pair: a near-duplicate.
  let best = neighbors.rankedByNearest()[0]
  let j = neighbors.indices(of: best).first!
  print("most similar pair: test \(best) (label \(testLabels[best])) and train \(j) (label \(trainLabels[j])), kernel \(Format.fixed(Double(neighbors.values(of: best).first!), 4))")
}

do {
  try main()
} catch {
  print("Error: \(error)")
}
