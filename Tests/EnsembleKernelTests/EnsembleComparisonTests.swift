import CompareCore
import EnsembleKernel
import Foundation
import Testing

@Suite("Ensemble comparison")
struct EnsembleComparisonTests {
  @Test("churn, the accuracy differences and per-example tests equal the float64 golden values")
  func golden() throws {
    let labels = try EnsembleFixtures.labels()
    let a = try EnsembleSummary(logits: try EnsembleFixtures.logits("a.npy"), labels: labels)
    let b = try EnsembleSummary(logits: try EnsembleFixtures.logits("b.npy"), labels: labels)
    expectGolden(b, EnsembleFixtures.section("b"))
    let c = try EnsembleComparison(a, against: b)
    let golden = EnsembleFixtures.section("comparison")
    func number(_ key: String) -> Double { (golden[key] as! NSNumber).doubleValue }
    #expect(c.churn == number("churn"))
    #expect(c.singleModelAccuracyDifference.isClose(to: number("single_model_accuracy_difference"), tolerance: 1e-14))
    #expect(c.singleModelAccuracyDifferenceSE.isClose(to: number("single_model_accuracy_difference_se"), tolerance: 1e-14))
    #expect(c.ensembleAccuracyDifference.isClose(to: number("ensemble_accuracy_difference"), tolerance: 1e-14))
    let dp = golden["p_correct_difference"] as! [Double], pv = golden["p_value"] as! [Double]
    #expect(zip(c.pCorrectDifference, dp).allSatisfy { abs($0 - $1) < 1e-14 })
    #expect(zip(c.pValue, pv).allSatisfy { abs($0 - $1) < 1e-14 })
    #expect(c.churn > 0)
    let top = c.mostChanged(3)
    #expect(abs(c.pCorrectDifference[top[0]]) == c.pCorrectDifference.map(abs).max())
  }

  @Test("an ensemble against itself: churn 0, differences 0, every p-value 1")
  func itself() throws {
    let a = try EnsembleSummary(logits: try EnsembleFixtures.logits("a.npy"), labels: try EnsembleFixtures.labels())
    let c = try EnsembleComparison(a, against: a)
    #expect(c.churn == 0)
    #expect(c.singleModelAccuracyDifference == 0 && c.ensembleAccuracyDifference == 0)
    #expect(c.pCorrectDifference.allSatisfy { $0 == 0 })
    #expect(c.pValue.allSatisfy { $0 == 1 })
  }

  @Test("ensembles of different examples are refused, naming both")
  func mismatch() throws {
    let a = try EnsembleSummary(logits: try EnsembleFixtures.logits("a.npy"), labels: try EnsembleFixtures.labels())
    let u = try EnsembleSummary(logits: try EnsembleFixtures.logits("undefined.npy"),
                                labels: try EnsembleFixtures.labels("undefined_labels.npy"))
    #expect(throws: InputError("undefined.npy has 6 examples but a.npy has 40; the ensembles must be evaluated on the same examples")) {
      try EnsembleComparison(a, against: u)
    }
  }
}
