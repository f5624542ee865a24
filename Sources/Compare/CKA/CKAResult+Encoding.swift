import CKA
import CompareCore

extension CKAResult {
  /// `compare cka --json`: torch_cka's export keys (`model1_name`, `model2_name`,
  /// `model1_layers`, `model2_layers`, `CKA`) and how the estimate was made.
  public func json() -> JSONValue {
    let m = matrix
    return .object([
      ("model1_name", .string(m.modelA)),
      ("model2_name", .string(m.modelB)),
      ("model1_layers", .strings(m.layersA)),
      ("model2_layers", .strings(m.layersB)),
      ("CKA", .array(m.rows.map { .array($0.map { JSONValue.number($0) }) })),
      ("estimator", .string(estimator.description)),
      ("kernel", .string(kernel.description)),
      ("batch_size", batchSize.map(JSONValue.int) ?? .null),
      ("examples", .int(examples)),
      ("batches", .int(batches)),
      ("warnings", .strings(m.warnings)),
    ])
  }

  /// The table `compare cka` prints, and a line per layer of A naming its best match in B.
  public var text: String {
    let m = matrix
    var out = "CKA of \(m.modelA) (rows, \(m.layersA.count) layers) against \(m.modelB) (columns, \(m.layersB.count) layers)\n"
    var how = "estimator \(estimator), kernel \(kernel)"
    if let size = batchSize {
      how += ", batch size \(size): \(batches) batches, \(examples) of \(available) examples"
    } else {
      how += ": \(examples) examples"
    }
    out += how + "\n\n"
    let rows = m.layersA.indices.map { i in
      [m.layersA[i]] + m.layersB.indices.map { j in Self.cell(m[i, j]) }
    }
    out += Format.table(header: ["layer"] + m.layersB, rows: rows, rightAligned: Set(1...m.layersB.count))
    out += "\nBest match in \(m.modelB) for each layer of \(m.modelA):\n"
    let width = m.layersA.map(\.count).max() ?? 0
    for match in m.bestMatches {
      if let layer = match.layerB {
        out += "  \(Format.left(match.layerA, width))  → \(layer) (\(Self.cell(match.similarity)))\n"
      } else {
        out += "  \(Format.left(match.layerA, width))  → undefined\n"
      }
    }
    return out
  }

  /// The lines for standard error: notes (examples dropped), then a warning per undefined layer.
  public var messages: [String] { notes + matrix.warnings.map { "warning: \($0)" } }

  /// A CKA value as the table prints it: 4 decimals, `nan` when undefined.
  public static func cell(_ value: Double) -> String { value.isNaN ? "nan" : Format.fixed(value, 4) }
}
