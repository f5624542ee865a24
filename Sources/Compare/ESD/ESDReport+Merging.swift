import CompareCore
import TensorIO

extension ESDReport {
  /// The stacked tensor an expert's row label (`NAME.expert.E`) belongs to.
  static func stackName(_ label: String) -> String {
    let parts = label.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 3, parts[parts.count - 2] == "expert", parts.last!.allSatisfy(\.isNumber) else { return label }
    return parts.dropLast(2).joined(separator: ".")
  }

  /// Joins the `--json` documents of a sharded run's parts (`compare esd MODEL --shard I/N
  /// --output part-I.json`) into the report a single run prints: the rows in table order, the
  /// skipped tensors once, the same summary, JSON and CSV.
  ///
  /// Parts are of one model when their `model_fingerprint`s agree (`ModelFingerprint`), whatever
  /// the path each was run with: a model mounted at two paths on two machines merges, two models
  /// copied in turn to one path do not. Each row is checked against the columns `compare esd`
  /// writes (`ESDColumn.row(from:)`).
  ///
  /// - Parameter files: The part files, in any order.
  /// - Throws: `InputError` naming the part when a file is not a part, has no model fingerprint
  ///   (written by an earlier version: rerun its shard), a row is malformed, parts come from
  ///   another model, another number of parts or other options, a part is given twice or is
  ///   missing, or a layer is in two parts or in none.
  public static func merging(_ files: [String]) throws -> ESDReport {
    guard !files.isEmpty else { throw InputError("no parts given") }
    struct Part {
      var file: String, index: Int, count: Int, layers: [String], skippedTensors: Int
      var fingerprint: ModelFingerprint, initFingerprint: ModelFingerprint?
      var conventions: JSONValue, conventionsText: String
      var rows: [[(String, JSONValue)]], skipped: [SkippedTensor]
    }
    let parts = try files.map { file -> Part in
      let mapped = try MappedFile(path: file)
      let json: JSONValue
      do { json = try JSONValue.parse(mapped.bytes) } catch {
        throw InputError("\(file): not a JSON document (\(error))")
      }
      guard let shard = json["shard"], case .int(let index)? = shard["index"], case .int(let count)? = shard["count"],
            case .string? = shard["model"], case .array(let names)? = shard["layers"],
            case .int(let skippedTensors)? = shard["skipped_tensors"], case .string(let text)? = shard["conventions_text"],
            let conventions = json["conventions"], case .array(let rows)? = json["layers"],
            case .array(let skipped)? = json["skipped"] else {
        throw InputError("\(file): not a part of a sharded run (write parts with compare esd MODEL --shard I/N --output FILE)")
      }
      guard let recorded = shard["model_fingerprint"] else {
        throw InputError("\(file): part \(index)/\(count) has no model fingerprint (written by an earlier compare); rerun its shard to merge it")
      }
      guard let fingerprint = ModelFingerprint(json: recorded) else {
        throw InputError("\(file): its model_fingerprint is not {\"method\", \"files\": [{\"name\", \"bytes\", \"crc32\"}]}")
      }
      var initFingerprint: ModelFingerprint?
      if let recordedInit = shard["init_fingerprint"] {
        guard let value = ModelFingerprint(json: recordedInit) else {
          throw InputError("\(file): its init_fingerprint is not {\"method\", \"files\": [{\"name\", \"bytes\", \"crc32\"}]}")
        }
        initFingerprint = value
      }
      guard skippedTensors >= 0, skippedTensors <= skipped.count else {
        throw InputError("\(file): its skipped_tensors is \(skippedTensors), not a count of its \(skipped.count) skipped entries")
      }
      let layers = try names.map { name -> String in
        guard case .string(let s) = name else {
          throw InputError("\(file): its layer list holds \(name.serialized().prefix(40)), not a name")
        }
        return s
      }
      return Part(
        file: file, index: index, count: count, layers: layers,
        skippedTensors: skippedTensors, fingerprint: fingerprint, initFingerprint: initFingerprint,
        conventions: conventions, conventionsText: text,
        rows: try rows.map { row in
          do { return try ESDColumn.row(from: row) } catch let error as InputError {
            throw InputError("\(file): \(error.message)")
          }
        },
        skipped: try skipped.map { entry in
          guard case .string(let name)? = entry["name"], case .string(let reason)? = entry["reason"] else {
            throw InputError("\(file): a skipped entry is \(entry.serialized().prefix(40)), not {\"name\", \"reason\"}")
          }
          return SkippedTensor(name: name, reason: reason)
        })
    }
    let first = parts[0]
    for part in parts.dropFirst() {
      // The model by its content, not its path (kept from the first part where they differ).
      guard part.fingerprint.method == first.fingerprint.method else {
        throw InputError("\(part.file): its model fingerprint is taken otherwise than \(first.file)'s (by another version of compare); rerun its shard")
      }
      if let difference = part.fingerprint.difference(from: first.fingerprint) {
        throw InputError("\(part.file): a part of another model than \(first.file) (\(difference))")
      }
      // The init model by its content too (distances from init come from it).
      switch (part.initFingerprint, first.initFingerprint) {
      case (nil, nil): break
      case (let mine?, let theirs?):
        if let difference = mine.difference(from: theirs) {
          throw InputError("\(part.file): run with another init model than \(first.file) (\(difference))")
        }
      default:
        throw InputError("\(part.file): run \(part.initFingerprint == nil ? "without" : "with") an init model, \(first.file) \(first.initFingerprint == nil ? "without" : "with")")
      }
      guard part.skippedTensors == first.skippedTensors else {
        throw InputError("\(part.file): made with other options or layers than \(first.file) (it skips \(part.skippedTensors) tensors before analysis, \(first.file) \(first.skippedTensors))")
      }
      guard part.count == first.count else {
        throw InputError("\(part.file): part \(part.index)/\(part.count), but \(first.file) is part \(first.index)/\(first.count)")
      }
      guard part.conventions == first.conventions, part.layers == first.layers else {
        throw InputError("\(part.file): made with other options or layers than \(first.file) (its conventions or layer list differ)")
      }
    }
    var byIndex: [Int: Part] = [:]
    for part in parts {
      if let other = byIndex[part.index] {
        throw InputError("\(part.file): part \(part.index)/\(part.count) is also \(other.file)")
      }
      byIndex[part.index] = part
    }
    let missing = (1...first.count).filter { byIndex[$0] == nil }
    guard missing.isEmpty else {
      throw InputError("part\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(first.count)" }.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") missing (given: \(byIndex.keys.sorted().map(String.init).joined(separator: ", ")))")
    }
    // Every layer in exactly one part, as a row (or rows, one per conv slice) or as skipped.
    let position = Dictionary(first.layers.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    var owner: [String: String] = [:]
    var rows: [(Int, Int, [(String, JSONValue)])] = []
    var analysisSkipped: [(Int, SkippedTensor)] = []
    for index in 1...first.count {
      let part = byIndex[index]!
      var names = Set<String>(), labels = Set<String>()
      for (k, row) in part.rows.enumerated() {
        // An expert's row (`NAME.expert.E`) belongs to its stacked tensor `NAME`.
        guard case .string(let label)? = row.first(where: { $0.0 == "name" })?.1 else {
          throw InputError("\(part.file): a row has no name")
        }
        // A row's label (with its conv slice) is written once per run.
        var key = label
        if case .int(let slice)? = row.first(where: { $0.0 == "slice_id" })?.1 { key += "[\(slice)]" }
        guard labels.insert(key).inserted else { throw InputError("\(part.file): row '\(key)' is given twice") }
        let name = position[label] != nil ? label : Self.stackName(label)
        guard let at = position[name] else { throw InputError("\(part.file): row '\(label)' is no layer of the run") }
        names.insert(name)
        rows.append((at, k, row))
      }
      for s in part.skipped.dropFirst(part.skippedTensors) {
        guard let at = position[s.name] else { throw InputError("\(part.file): skips '\(s.name)', no layer of the run") }
        names.insert(s.name)
        analysisSkipped.append((at, s))
      }
      for name in names {
        if let other = owner[name] { throw InputError("\(part.file): layer '\(name)' is also in \(other)") }
        owner[name] = part.file
      }
    }
    if let gap = first.layers.first(where: { owner[$0] == nil }) {
      throw InputError("layer '\(gap)' is in no part")
    }
    rows.sort { ($0.0, $0.1) < ($1.0, $1.1) }
    // `layer_id` counts the model's weights, not a part's rows: it needs no renumbering.
    let merged = rows.map(\.2)
    let skipped = Array(first.skipped.prefix(first.skippedTensors))
      + analysisSkipped.sorted { $0.0 < $1.0 }.map(\.1)
    return ESDReport(rows: merged, skipped: skipped, conventions: first.conventions,
                     conventionsText: first.conventionsText)
  }
}
