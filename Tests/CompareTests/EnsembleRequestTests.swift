import Compare
import Foundation
import Testing

@Suite("Ensemble workflow")
struct EnsembleRequestTests {
  let e = examples + "ensemble.npz"

  @Test("the kernel column of --sizes (first n runs) equals compare kernel's for the same sizes")
  func kernelColumn() throws {
    let inputs = try EnsembleInputs(test: [e + ":logits"], labels: e + ":labels",
                                    train: [e + ":logits_train"], trainLabels: e + ":labels_train")
    let result = try EnsembleRequest(top: 0, sizes: [4, 16]).run(inputs)
    let kernel = try KernelRequest(k: 3, sizes: [4, 16]).run(
      try KernelInputs(test: [e + ":logits"], train: [e + ":logits_train"], testLabels: e + ":labels",
                       trainLabels: e + ":labels_train"))
    for (row, evaluation) in zip(result.sizes, kernel.sizes) {
      #expect(row.models == evaluation.models)
      #expect(row.kernelAccuracy == [evaluation.kernelAccuracy])
      #expect(row.ensembleAccuracy == [evaluation.accuracy.ensemble])
      #expect(row.singleModelAccuracy[0].isClose(to: evaluation.accuracy.singleModel, tolerance: 1e-14))
    }
    #expect(result.text.contains("runs  single model %  ensemble %  kernel %\n"))
  }

  @Test("resampled sizes: R values per size, the full size has no spread, the same seed gives the same table")
  func resampled() throws {
    let inputs = try EnsembleInputs(test: [e + ":logits"], labels: e + ":labels")
    let request = EnsembleRequest(top: 0, sizes: [2, 16, 64], resamples: 4, seed: 11)
    let first = try request.run(inputs), second = try request.run(inputs)
    #expect(first.sizes.map(\.ensembleAccuracy) == second.sizes.map(\.ensembleAccuracy))
    #expect(first.sizes.allSatisfy { $0.ensembleAccuracy.count == 4 })
    #expect(EnsembleSizeRow.spread(first.sizes[2].ensembleAccuracy).std == 0)
    #expect(first.sizes[2].ensembleAccuracy[0] == first.summary.ensembleAccuracy)
    let other = try EnsembleRequest(top: 0, sizes: [2, 16, 64], resamples: 4, seed: 12).run(inputs)
    #expect(other.sizes[0].singleModelAccuracy != first.sizes[0].singleModelAccuracy)
  }

  @Test("training logits without labels, and -k past the training set, are refused")
  func badRequests() throws {
    #expect(throws: InputError("training logits and training labels go together: give both or neither")) {
      try EnsembleInputs(test: [e + ":logits"], labels: e + ":labels", train: [e + ":logits_train"])
    }
    let inputs = try EnsembleInputs(test: [e + ":logits"], labels: e + ":labels",
                                    train: [e + ":logits_train"], trainLabels: e + ":labels_train")
    #expect(throws: InputError("-k 2000 is larger than the 1347 training examples")) {
      try EnsembleRequest(sizes: [4], knn: KernelKNN(k: 2000)).run(inputs)
    }
  }
}
