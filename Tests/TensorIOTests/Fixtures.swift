import Foundation
import CompareCore
import TensorIO

/// The folder `Tests/Fixtures/tensor-io/`, found from this file's path.
let fixtureFolder: String = {
  var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(2)
  return parts.joined(separator: "/") + "/Fixtures/tensor-io/"
}()

/// One tensor of `expected.json`: what numpy (or torch, for bfloat16) reads.
struct ExpectedTensor: Sendable {
  var key: String
  var dtype: String
  var shape: [Int]
  /// Row-major values as float64; NaN for "nan", ±infinity for "inf"/"-inf".
  var values: [Double]
}

/// One good fixture file of `expected.json`.
struct ExpectedFile: Sendable, CustomTestStringConvertible {
  var file: String
  var format: String
  var tensors: [ExpectedTensor]
  var metadata: [String: String]?
  var testDescription: String { file }
}

/// Every good fixture with its golden values, from the generator's `expected.json`, read with
/// TensorIO's own JSON parser (exact shortest-digit doubles, unlike Foundation's on Linux).
let expectedFiles: [ExpectedFile] = {
  guard let data = FileManager.default.contents(atPath: fixtureFolder + "expected.json"),
        let root = try? data.withUnsafeBytes({ try JSONValue.parse($0) }),
        case .array(let files)? = root["files"] else { return [] }
  func string(_ v: JSONValue?) -> String { if case .string(let s)? = v { s } else { "" } }
  func array(_ v: JSONValue?) -> [JSONValue] { if case .array(let a)? = v { a } else { [] } }
  func double(_ v: JSONValue) -> Double {
    switch v {
    case .int(let n): Double(n)
    case .double(let x): x
    case .string("nan"): .nan
    case .string("inf"): .infinity
    case .string("-inf"): -.infinity
    default: .nan
    }
  }
  return files.map { file in
    let tensors = array(file["tensors"]).map { t in
      ExpectedTensor(key: string(t["key"]), dtype: string(t["dtype"]),
                     shape: array(t["shape"]).map { if case .int(let n) = $0 { n } else { -1 } },
                     values: array(t["values"]).map(double))
    }
    var metadata: [String: String]? = nil
    if case .object(let pairs)? = file["metadata"] {
      metadata = Dictionary(uniqueKeysWithValues: pairs.map { ($0.0, string($0.1)) })
    }
    return ExpectedFile(file: string(file["file"]), format: string(file["format"]), tensors: tensors,
                        metadata: metadata)
  }
}()

import Testing

/// `true` when two doubles are equal, NaN matching NaN.
func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
