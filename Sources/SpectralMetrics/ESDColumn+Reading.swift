import CompareCore

extension ESDColumn {
  /// A row of a saved `--json` document (an element of its `layers`), checked against what
  /// `LayerReport.columns` writes, in `all` order.
  ///
  /// Each key must be a column, once; each value of its column's `kind` (a number may be
  /// written as an integer, and becomes a double; null in any column outside `.always`); every
  /// `.always` column present, and each
  /// other group's columns all present or all absent (`rand_distance` with
  /// `rand_distance_std`); `status` and `layer_type` one of their values.
  ///
  /// - Parameter value: The row as parsed.
  /// - Returns: The row's (column, value) pairs, in `all` order.
  /// - Throws: `InputError` naming the row's layer and the column:
  ///   `layer 'c': 'alpha' is "abc", not a number`.
  /// - Complexity: O(columns).
  public static func row(from value: JSONValue) throws -> [(String, JSONValue)] {
    guard case .object(let pairs) = value else {
      throw InputError("a row is \(Self.shown(value)), not an object of columns")
    }
    guard case .string(let name)? = pairs.first(where: { $0.0 == "name" })?.1 else {
      throw InputError("a row has no name")
    }
    func problem(_ text: String) -> InputError { InputError("layer '\(name)': \(text)") }
    var values: [String: JSONValue] = [:]
    for (key, value) in pairs {
      guard let column = byName[key] else { throw problem("unknown column '\(key.prefix(80))'") }
      guard values[key] == nil else { throw problem("'\(key)' is given twice") }
      // `--json` keeps every column of the run's options in every row, null where a layer has
      // no value (a failed row's `num_spikes`, a successful row's `reason`).
      guard column.kind.admits(value) || (value == .null && column.group != .always) else {
        throw problem("'\(key)' is \(Self.shown(value)), not \(column.kind.noun)")
      }
      values[key] = column.kind == .number ? value.asDouble : value
    }
    // Sizes and counts a layer cannot have: a part edited by hand.
    for (column, least) in [("layer_id", 1), ("N", 1), ("M", 1), ("rf", 1), ("num_evals", 0)] {
      if case .int(let n)? = values[column], n < least {
        throw problem("'\(column)' is \(n), not \(least == 1 ? "a positive" : "a non-negative") integer")
      }
    }
    if case .string(let text)? = values["status"], LayerReport.Status(rawValue: text) == nil {
      throw problem("'status' is \(Self.shown(.string(text))), not success, failed or skipped")
    }
    if case .string(let text)? = values["layer_type"], WeightLayer.Kind(rawValue: text) == nil {
      throw problem("'layer_type' is \(Self.shown(.string(text))), not a layer type")
    }
    var groups: [Group: (present: String?, absent: String?)] = [:]
    for column in all {
      let present = values[column.name] != nil
      if column.group == .always, !present { throw problem("has no '\(column.name)'") }
      var seen = groups[column.group] ?? (nil, nil)
      if present { seen.present = seen.present ?? column.name } else { seen.absent = seen.absent ?? column.name }
      if let has = seen.present, let lacks = seen.absent { throw problem("has '\(has)' but not '\(lacks)'") }
      groups[column.group] = seen
    }
    return all.compactMap { column in values[column.name].map { (column.name, $0) } }
  }

  /// A value for a message: its JSON, cut to 40 characters.
  static func shown(_ value: JSONValue) -> String {
    let text = value.serialized()
    return text.count > 40 ? text.prefix(40) + "…" : text
  }
}

extension ESDColumn.Kind {
  /// How a message names what the column holds.
  var noun: String {
    switch self {
    case .number: "a number"
    case .integer: "an integer"
    case .optionalInteger: "an integer or null"
    case .text: "a string"
    }
  }
}

extension JSONValue {
  /// An integer as a double; anything else unchanged.
  fileprivate var asDouble: JSONValue {
    if case .int(let i) = self { return .double(Double(i)) }
    return self
  }
}
