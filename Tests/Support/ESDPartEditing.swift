import CompareCore
import TensorIO
import Foundation
import Testing

/// Writes to `path` the `compare esd --json` document in `file` with `edit` applied to the
/// first row of its `layers` (the rest as written): a hand-edited part for the merge's checks.
/// Returns `path`; records an issue (and returns `file`) when `file` is not such a document.
public func editingFirstRow(_ file: String, to path: String,
                            _ edit: ([(String, JSONValue)]) -> [(String, JSONValue)]) throws -> String {
  guard case .object(var document) = try JSONValue.parse(String(contentsOfFile: file, encoding: .utf8)),
        let at = document.firstIndex(where: { $0.0 == "layers" }), case .array(var rows) = document[at].1,
        case .object(let row) = rows[0] else {
    Issue.record("\(file) is not an esd --json document")
    return file
  }
  rows[0] = .object(edit(row))
  document[at].1 = .array(rows)
  try JSONValue.object(document).serialized(pretty: true).write(toFile: path, atomically: false, encoding: .utf8)
  return path
}
