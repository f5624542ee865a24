import CompareCore
import Testing
import TensorIO
@testable import SpectralMetrics

@Suite("ESDColumn.row(from:): a saved --json row checked against the columns written")
struct ESDColumnReadingTests {
  /// A row as `--json` writes it and a reader parses it back.
  static func saved(_ report: LayerReport) throws -> JSONValue {
    try JSONValue.parse(JSONValue.object(report.columns).serialized())
  }

  /// The row of `gaussian` with every default group (shuffled ESD, MP fits).
  static func gaussianRow() throws -> [(String, JSONValue)] {
    guard case .object(let pairs) = try saved(try ESDAnalyzer().analyze(try ESDFixtures.layer("gaussian"))[0]) else {
      Issue.record("a row is an object")
      return []
    }
    return pairs
  }

  func replacing(_ row: [(String, JSONValue)], _ column: String, with value: JSONValue?) -> JSONValue {
    .object(row.compactMap { $0.0 == column ? value.map { (column, $0) } : $0 })
  }

  @Test("every row compare esd writes, success or failed, reads back unchanged", arguments: ["gaussian", "bad_zeros"])
  func roundTrip(name: String) throws {
    var options = ESDOptions()
    options.fit = .truncatedPowerLaw
    options.detX = true
    let report = try ESDAnalyzer(options: options).analyze(try ESDFixtures.layer(name, withInit: name == "gaussian"))[0]
    let row = try ESDColumn.row(from: try Self.saved(report))
    #expect(row.map(\.0) == report.columns.map(\.0))
    #expect(JSONValue.object(row) == (try Self.saved(report)))
  }

  @Test("a value of the wrong kind is refused, naming the layer, the column and the value")
  func wrongKind() throws {
    let row = try Self.gaussianRow()
    #expect(throws: InputError("layer 'gaussian': 'alpha' is \"abc\", not a number")) {
      try ESDColumn.row(from: replacing(row, "alpha", with: .string("abc")))
    }
    #expect(throws: InputError("layer 'gaussian': 'N' is 3.5, not an integer")) {
      try ESDColumn.row(from: replacing(row, "N", with: .double(3.5)))
    }
    #expect(throws: InputError("layer 'gaussian': 'num_spikes' is \"2\", not an integer or null")) {
      try ESDColumn.row(from: replacing(row, "num_spikes", with: .string("2")))
    }
    #expect(throws: InputError("layer 'gaussian': 'warning' is null, not a string")) {
      try ESDColumn.row(from: replacing(row, "warning", with: .null))
    }
    #expect(throws: InputError("layer 'gaussian': 'status' is \"done\", not success, failed or skipped")) {
      try ESDColumn.row(from: replacing(row, "status", with: .string("done")))
    }
    #expect(throws: InputError("layer 'gaussian': 'layer_type' is \"mlp\", not a layer type")) {
      try ESDColumn.row(from: replacing(row, "layer_type", with: .string("mlp")))
    }
    #expect(throws: InputError("layer 'gaussian': 'N' is -5, not a positive integer")) {
      try ESDColumn.row(from: replacing(row, "N", with: .int(-5)))
    }
    #expect(throws: InputError("layer 'gaussian': 'num_evals' is -1, not a non-negative integer")) {
      try ESDColumn.row(from: replacing(row, "num_evals", with: .int(-1)))
    }
    // Negative control: null is how an undefined number is written.
    #expect(try ESDColumn.row(from: replacing(row, "alpha", with: .null)).first { $0.0 == "alpha" }?.1 == .null)
  }

  @Test("a missing, unknown, repeated or half-written group of columns is refused")
  func keys() throws {
    let row = try Self.gaussianRow()
    #expect(throws: InputError("layer 'gaussian': has no 'alpha'")) {
      try ESDColumn.row(from: replacing(row, "alpha", with: nil))
    }
    #expect(throws: InputError("layer 'gaussian': unknown column 'alfa'")) {
      try ESDColumn.row(from: .object(row + [("alfa", .double(3))]))
    }
    #expect(throws: InputError("layer 'gaussian': 'alpha' is given twice")) {
      try ESDColumn.row(from: .object(row + [("alpha", .double(3))]))
    }
    #expect(throws: InputError("layer 'gaussian': has 'rand_distance' but not 'rand_distance_std'")) {
      try ESDColumn.row(from: replacing(row, "rand_distance_std", with: nil))
    }
    #expect(throws: InputError("a row has no name")) { try ESDColumn.row(from: replacing(row, "name", with: nil)) }
    #expect(throws: InputError("a row is 7, not an object of columns")) { try ESDColumn.row(from: .int(7)) }
    // Negative control: a whole group left out is a row without that option (--no-randomize).
    let unrandomized = row.filter { ESDColumn.byName[$0.0]?.group != .randomized }
    #expect(try ESDColumn.row(from: .object(unrandomized)).count == unrandomized.count)
  }

  @Test("columns come back in the written order, and a number written as an integer is a double")
  func normalised() throws {
    let row = try Self.gaussianRow()
    let read = try ESDColumn.row(from: .object(replacing(row, "alpha", with: .int(3)).objectPairs.reversed()))
    #expect(read.map(\.0) == row.map(\.0))
    #expect(read.first { $0.0 == "alpha" }?.1 == .double(3))
    #expect(read.first { $0.0 == "N" }?.1 == row.first { $0.0 == "N" }?.1)
  }
}

extension JSONValue {
  fileprivate var objectPairs: [(String, JSONValue)] {
    if case .object(let pairs) = self { return pairs }
    return []
  }
}
