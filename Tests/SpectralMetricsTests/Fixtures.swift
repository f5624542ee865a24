import CompareCore
import Foundation
import SpectralMetrics
import TensorIO

/// The committed fixtures of `Tests/Fixtures/esd` (made by its `make_fixtures.py`).
enum ESDFixtures {
  static let folder: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)
    return parts.joined(separator: "/") + "/Fixtures/esd/"
  }()

  nonisolated(unsafe) static let golden: [String: Any] = {
    let data = FileManager.default.contents(atPath: folder + "golden.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }()

  static func goldenLayer(_ name: String) -> [String: Any] {
    (golden["layers"] as! [String: Any])[name] as! [String: Any]
  }

  static func goldenDistances(_ name: String) -> [String: Any] {
    (golden["distances"] as! [String: Any])[name] as! [String: Any]
  }

  /// A fixture weight as a layer (conv2d when 4-D), with its `_init` pair when asked.
  static func layer(_ name: String, withInit: Bool = false) throws -> WeightLayer {
    let tensor = try TensorFile.open(folder + name + ".npy").tensors[0]
    let values = try tensor.doubles()
    var initValues: [Double]?
    if withInit { initValues = try TensorFile.open(folder + name + "_init.npy").tensors[0].doubles() }
    var loadInit: (@Sendable () throws -> [Double])?
    if let initValues { loadInit = { initValues } }
    return WeightLayer(name: name, kind: tensor.shape.count == 4 ? .conv2d : .dense, shape: tensor.shape,
                       load: { values }, loadInit: loadInit)
  }

  static func matrix(_ name: String) throws -> Matrix<Double> {
    try TensorFile.open(folder + name + ".npy").tensors[0].matrix(Double.self)
  }
}

/// `true` when |a − b| ≤ max(relative · |b|, absolute): relative, with an absolute floor near 0.
func close(_ a: Double, _ b: Double, relative: Double, absolute: Double = 1e-12) -> Bool {
  abs(a - b) <= max(relative * abs(b), absolute)
}
