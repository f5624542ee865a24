import CKA
import CompareCore
import Foundation
import TensorIO

/// The committed fixtures of Tests/Fixtures/cka (made by make_fixtures.py, float64 numpy).
enum CKAFixtures {
  static let folder: String = {
    // …/Tests/CKATests/Fixtures.swift → …/Tests/Fixtures/cka
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)
    return parts.joined(separator: "/") + "/Fixtures/cka"
  }()

  static func layers(_ model: String) throws -> (names: [String], matrices: [Matrix<Double>]) {
    let file = try TensorFile.open(folder + "/" + model)
    return (file.keys, try file.tensors.map { try $0.matrix(Double.self) })
  }

  static func goldens() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/goldens.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  struct Case {
    var name: String
    var estimator: String
    var kernel: String
    var batchSize: Int
    var keepLast: Bool
    var cka: [[Double]]
    var hsic: [[Double]]
    var hsicA: [Double]
    var hsicB: [Double]
  }

  static func cases() throws -> [Case] {
    let cases = try goldens()["cases"] as! [[String: Any]]
    return cases.map { c in
      Case(name: c["name"] as! String, estimator: c["estimator"] as! String,
           kernel: c["kernel"] as! String, batchSize: c["batch_size"] as! Int,
           keepLast: c["keep_last"] as! Bool, cka: c["CKA"] as! [[Double]],
           hsic: c["hsic"] as! [[Double]], hsicA: c["hsic_a"] as! [Double],
           hsicB: c["hsic_b"] as! [Double])
    }
  }

  /// Largest |a − b| / max(1, |b|) over two matrices.
  static func maxRelativeError(_ a: Matrix<Double>, _ b: [[Double]]) -> Double {
    var worst = 0.0
    for i in 0..<a.rows { for j in 0..<a.columns {
      worst = max(worst, abs(a[i, j] - b[i][j]) / max(1, abs(b[i][j])))
    } }
    return worst
  }

  static func maxRelativeError(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
  }
}

extension Matrix where Scalar == Double {
  /// Rows `range` of every layer.
  static func slice(_ layers: [Matrix<Double>], _ range: Range<Int>) -> [Matrix<Double>] {
    layers.map { $0.rows(range) }
  }
}

/// Runs the minibatch estimator over `layers` in consecutive batches (trailing partial batch
/// dropped, or kept when `keepLast` and it has ≥ 4 examples).
func minibatchCKA(_ a: [Matrix<Double>], _ b: [Matrix<Double>], batch: Int, keepLast: Bool = false,
                  kernel: CKAKernel = .linear) throws -> SimilarityMatrix {
  var cka = try MinibatchCKA(layersA: a.indices.map(String.init), layersB: b.indices.map(String.init),
                             kernel: kernel)
  let n = a[0].rows
  var start = 0
  while start + batch <= n {
    try cka.accumulate(batchA: Matrix.slice(a, start..<start + batch), batchB: Matrix.slice(b, start..<start + batch))
    start += batch
  }
  if keepLast, n - start >= 4 {
    try cka.accumulate(batchA: Matrix.slice(a, start..<n), batchB: Matrix.slice(b, start..<n))
  }
  return try cka.result()
}

func floatMinibatchCKA(_ a: [Matrix<Float>], _ b: [Matrix<Float>], batch: Int) throws -> SimilarityMatrix {
  var cka = try MinibatchCKA(layersA: a.indices.map(String.init), layersB: b.indices.map(String.init))
  var start = 0
  while start + batch <= a[0].rows {
    try cka.accumulate(batchA: a.map { $0.rows(start..<start + batch) },
                       batchB: b.map { $0.rows(start..<start + batch) })
    start += batch
  }
  return try cka.result()
}
