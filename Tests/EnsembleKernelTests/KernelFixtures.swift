import CompareCore
import EnsembleKernel
import Foundation
import TensorIO

/// The committed fixtures of `Tests/Fixtures/kernel` (made by `make_fixtures.py`).
enum KernelFixtures {
  static let folder: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)
    return parts.joined(separator: "/") + "/Fixtures/kernel/"
  }()

  static func path(_ name: String) -> String { folder + name }

  static func logits(_ name: String, precision: LogitsPrecision = .float32) throws -> LogitsArray {
    let tensor = try TensorReference(path(name)).tensor()
    return try LogitsArray(name: name, models: tensor.shape[0], examples: tensor.shape[1],
                           classes: tensor.shape[2], values: tensor.floats(), precision: precision)
  }

  static func labels(_ name: String) throws -> [Int] {
    try TensorReference(path(name)).tensor().integers().map { Int($0) }
  }

  static var test: LogitsArray { get throws { try logits("test_logits.npy") } }
  static var train: LogitsArray { get throws { try logits("train_logits.npy") } }

  static var golden: [String: Any] {
    let data = FileManager.default.contents(atPath: path("golden.json"))!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  static func matrix(_ key: String) -> [[Double]] { golden[key] as! [[Double]] }
  static func number(_ key: String) -> Double { (golden[key] as! NSNumber).doubleValue }
  static var ambiguousRows: Set<Int> { Set(golden["ambiguous_rows"] as! [Int]) }
}

/// Largest absolute difference between a matrix and nested golden rows.
func maxDifference(_ m: Matrix<Float>, _ golden: [[Double]]) -> Double {
  precondition(m.rows == golden.count && m.columns == golden[0].count, "shape mismatch")
  var worst = 0.0
  for i in 0..<m.rows { for j in 0..<m.columns { worst = max(worst, abs(Double(m[i, j]) - golden[i][j])) } }
  return worst
}

/// Logits with a seeded random pattern shared by models plus model noise.
func syntheticLogits(models: Int, examples: Int, classes: Int, seed: UInt64,
                     name: String = "synthetic") throws -> LogitsArray {
  var rng = SplitMix64(seed: seed)
  var base = [Float](repeating: 0, count: examples * classes)
  for i in base.indices { base[i] = Float(rng.nextGaussian()) * 2 }
  var values = [Float](repeating: 0, count: models * examples * classes)
  for m in 0..<models {
    for e in 0..<(examples * classes) { values[m * examples * classes + e] = base[e] + Float(rng.nextGaussian()) }
  }
  return try LogitsArray(name: name, models: models, examples: examples, classes: classes, values: values)
}
