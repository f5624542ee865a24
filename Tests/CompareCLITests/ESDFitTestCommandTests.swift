@testable import CompareCLI
import Foundation
import Testing

@Suite("compare esd --alpha-ci, --pl-test")
struct ESDFitTestCommandTests {
  static let heavy = ESDCommandTests.fixtures + "heavy.npy"
  static let intervalColumns = ["alpha_ci_low", "alpha_ci_high"]
  static let testColumns = ["pl_p_value", "pl_vs_exponential_R", "pl_vs_exponential_p", "pl_vs_lognormal_R",
                            "pl_vs_lognormal_p", "pl_vs_truncated_power_law_R", "pl_vs_truncated_power_law_p"]

  func document(_ words: [String]) throws -> [String: Any] {
    let result = runCompare(["esd", Self.heavy, "--json", "--no-mp-fit"] + words)
    #expect(result.status == 0, "\(result.err)")
    return try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
  }

  @Test("--alpha-ci adds the interval columns and says so in the conventions; nothing else")
  func intervalJSON() throws {
    let doc = try document(["--alpha-ci", "30", "--confidence", "0.9", "--seed", "2"])
    let row = (doc["layers"] as! [[String: Any]])[0]
    let low = row["alpha_ci_low"] as! Double, high = row["alpha_ci_high"] as! Double, alpha = row["alpha"] as! Double
    #expect(low <= alpha && alpha <= high)
    #expect(Self.testColumns.allSatisfy { row[$0] == nil })
    let conventions = doc["conventions"] as! [String: Any]
    #expect(conventions["alpha_ci_resamples"] as! Int == 30 && conventions["confidence"] as! Double == 0.9)
    // The same seed gives the same interval; another seed another.
    let again = (try document(["--alpha-ci", "30", "--confidence", "0.9", "--seed", "2"])["layers"] as! [[String: Any]])[0]
    let other = (try document(["--alpha-ci", "30", "--confidence", "0.9", "--seed", "3"])["layers"] as! [[String: Any]])[0]
    #expect(again["alpha_ci_low"] as! Double == low && again["alpha_ci_high"] as! Double == high)
    #expect(other["alpha_ci_low"] as! Double != low || other["alpha_ci_high"] as! Double != high)
  }

  @Test("--pl-test adds pl_p_value and the three likelihood ratio tests")
  func testJSON() throws {
    let doc = try document(["--pl-test", "20"])
    let row = (doc["layers"] as! [[String: Any]])[0]
    for column in Self.testColumns { #expect(row[column] is Double, "\(column)") }
    #expect(Self.intervalColumns.allSatisfy { row[$0] == nil })
    #expect((doc["conventions"] as! [String: Any])["pl_test_samples"] as! Int == 20)
  }

  @Test("the text table and the CSV show the new columns only when asked")
  func tableAndCSV() {
    let text = runCompare(["esd", Self.heavy, "--alpha-ci", "20", "--pl-test", "20"])
    #expect(text.status == 0)
    let header = text.out.split(separator: "\n")[0]
    #expect(header.contains("alpha  alpha_ci_low  alpha_ci_high  alpha_weighted"))
    #expect(header.contains("num_spikes  pl_p_value  pl_vs_exponential_R  pl_vs_lognormal_R  pl_vs_truncated_power_law_R  warning"))
    #expect(text.out.contains("alpha_ci: 95 % percentile bootstrap of 20 resamples"))
    let csv = runCompare(["esd", Self.heavy, "--csv", "--pl-test", "20"]).out
    #expect(Self.testColumns.allSatisfy { csv.split(separator: "\n")[0].contains($0) })
    let plain = runCompare(["esd", Self.heavy])
    #expect(!plain.out.contains("alpha_ci") && !plain.out.contains("pl_"))
  }

  @Test("bad values are usage errors with one message line and exit 64",
        arguments: [(["--alpha-ci", "-1"], "Error: --alpha-ci expects an integer in 0...1000000, got '-1'"),
                    (["--pl-test", "x"], "Error: --pl-test expects an integer in 0...1000000, got 'x'"),
                    (["--confidence", "1"], "Error: --confidence expects a number strictly between 0 and 1, got '1'"),
                    (["--confidence", "x"], "Error: --confidence expects a number in 0.0...1.0, got 'x'"),
                    (["--confidence", "0.9"], "Error: --confidence is the coverage of the --alpha-ci interval: give --alpha-ci <r> too")])
  func badValues(words: [String], message: String) {
    let result = runCompare(["esd", Self.heavy] + words)
    #expect(result.status == 64)
    #expect(result.out.isEmpty)
    #expect(result.err.split(separator: "\n").first.map(String.init) == message)
  }
}
