import CompareCore
import EnsembleKernel
import Testing

@Suite("Ensemble accuracy")
struct EnsembleAccuracyTests {
  @Test("single-model and ensemble accuracies equal the golden values")
  func golden() throws {
    let accuracy = try EnsembleAccuracy(logits: try KernelFixtures.test,
                                        labels: try KernelFixtures.labels("test_labels.npy"))
    #expect(accuracy.singleModel.isClose(to: KernelFixtures.number("single_model_accuracy"), tolerance: 1e-12))
    #expect(accuracy.ensemble.isClose(to: KernelFixtures.number("ensemble_accuracy"), tolerance: 1e-12))
    #expect(accuracy.ensemblePredictions == KernelFixtures.golden["ensemble_predictions"] as! [Int])
    #expect(accuracy.perModel.count == 6)
  }

  @Test("float16 logits: the mean is rounded to float16 before the argmax, as torch does, so ties go to the lower class")
  func float16Rounding() throws {
    let golden = KernelFixtures.golden["float16"] as! [String: Any]
    let labels = try KernelFixtures.labels("test_labels_f16.npy")
    let half = try KernelFixtures.logits("test_logits_f16.npy", precision: .float16)
    let accuracy = try EnsembleAccuracy(logits: half, labels: labels)
    #expect(accuracy.ensemblePredictions == golden["ensemble_predictions"] as! [Int])
    #expect(accuracy.ensemblePredictions[5] == 0)
    #expect(accuracy.ensemble.isClose(to: golden["ensemble_accuracy"] as! Double, tolerance: 1e-12))
    // Negative control: without the rounding, example 5 goes to class 1.
    let exact = try EnsembleAccuracy(logits: try KernelFixtures.logits("test_logits_f16.npy", precision: .float64),
                                     labels: labels)
    #expect(exact.ensemblePredictions == golden["ensemble_predictions_unrounded"] as! [Int])
    #expect(exact.ensemblePredictions[5] == 1)
  }

  @Test("labels of the wrong length or out of range are errors naming them")
  func badLabels() throws {
    let test = try KernelFixtures.test
    #expect(throws: InputError("labels has 11 labels but test_logits.npy has 12 examples")) {
      try EnsembleAccuracy(logits: test, labels: Array(repeating: 0, count: 11))
    }
    var labels = Array(repeating: 0, count: 12)
    labels[4] = 4
    #expect(throws: InputError("labels[4] = 4 is outside the 4 classes 0..<4")) {
      try EnsembleAccuracy(logits: test, labels: labels)
    }
  }

  @Test("rounding to the storage precision: float16 and bfloat16 round to nearest, ties to even")
  func precisionRounding() {
    #expect(LogitsPrecision.float16.rounded(1.0001) == 1.0)
    #expect(LogitsPrecision.float16.rounded(1.0006) == 1.0009765625)
    #expect(LogitsPrecision.bfloat16.rounded(1.00390625) == 1.0)          // halfway: to even
    #expect(LogitsPrecision.bfloat16.rounded(1.01171875) == 1.015625)     // halfway: to even
    #expect(LogitsPrecision.bfloat16.rounded(1.005) == 1.0078125)
    #expect(LogitsPrecision.float32.rounded(0.1) == Double(Float(0.1)))
    #expect(LogitsPrecision.float64.rounded(0.1) == 0.1)
  }

  @Test("accuracies of a row range count only those rows")
  func rows() throws {
    let test = try KernelFixtures.test, labels = try KernelFixtures.labels("test_labels.npy")
    let whole = try EnsembleAccuracy(logits: test, labels: labels)
    let part = try EnsembleAccuracy(logits: test, labels: labels, rows: 4..<10)
    #expect(part.ensemblePredictions == Array(whole.ensemblePredictions[4..<10]))
    let correct = (4..<10).filter { whole.ensemblePredictions[$0] == labels[$0] }.count
    #expect(part.ensemble == Double(correct) / 6)
  }
}
