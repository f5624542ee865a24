import CompareCore
import TensorIO

extension ESDReport {
  /// Joins the `--json` documents of a sharded run's parts (`compare esd MODEL --shard I/N
  /// --output part-I.json`) into the report a single run prints: the rows in table order, the
  /// skipped tensors once, the same summary, JSON and CSV.
  ///
  /// - Parameter files: The part files, in any order.
  /// - Throws: `InputError` naming the part when a file is not a part, parts come from another
  ///   model, another number of parts or other options, a part is given twice or is missing, or
  ///   a layer is in two parts or in none.
  /// The stacked tensor an expert's row label (`NAME.expert.E`) belongs to.
  static func stackName(_ label: String) -> String {
    let parts = label.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 3, parts[parts.count - 2] == "expert", parts.last!.allSatisfy(\.isNumber) else { return label }
    return parts.dropLast(2).joined(separator: ".")
  }

  public static func merging(_ files: [String]) throws -> ESDReport {
    guard !files.isEmpty else { throw InputError("no parts given") }
    struct Part {
      var file: String, index: Int, count: Int, model: String, layers: [String], skippedTensors: Int
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
            case .string(let model)? = shard["model"], case .array(let names)? = shard["layers"],
            case .int(let skippedTensors)? = shard["skipped_tensors"], case .string(let text)? = shard["conventions_text"],
            let conventions = json["conventions"], case .array(let rows)? = json["layers"],
            case .array(let skipped)? = json["skipped"] else {
        throw InputError("\(file): not a part of a sharded run (write parts with compare esd MODEL --shard I/N --output FILE)")
      }
      return Part(
        file: file, index: index, count: count, model: model,
        layers: names.compactMap { if case .string(let s) = $0 { s } else { nil } },
        skippedTensors: skippedTensors, conventions: conventions, conventionsText: text,
        rows: rows.compactMap { if case .object(let pairs) = $0 { pairs } else { nil } },
        skipped: skipped.compactMap { entry in
          guard case .string(let name)? = entry["name"], case .string(let reason)? = entry["reason"] else { return nil }
          return SkippedTensor(name: name, reason: reason)
        })
    }
    let first = parts[0]
    for part in parts.dropFirst() {
      guard part.model == first.model else {
        throw InputError("\(part.file): a part of \(part.model), but \(first.file) is a part of \(first.model)")
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
      var names = Set<String>()
      for (k, row) in part.rows.enumerated() {
        // An expert's row (`NAME.expert.E`) belongs to its stacked tensor `NAME`.
        guard case .string(let label)? = row.first(where: { $0.0 == "name" })?.1 else {
          throw InputError("\(part.file): a row has no name")
        }
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
