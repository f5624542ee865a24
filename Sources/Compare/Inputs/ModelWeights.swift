import CompareCore
import SpectralMetrics
import TensorIO

/// The weights of a model on disk, opened without reading them: a `.safetensors` file, a
/// Hugging Face folder (single or sharded safetensors with its index, `pytorch_model*.bin`), a
/// `torch.save`'d (nested) state dict, `.npz`, `.npy` or a folder of `.npy`.
///
/// Tensors are listed in the model's order where the files say it (a Hugging Face index's
/// `weight_map` order, a `torch.save`'d state dict's or an `.npz`'s key order); safetensors
/// headers are sorted by name, so there the order is embeddings, then numbered blocks in
/// natural order (`layers.2` before `layers.10`), then the rest, with `lm_head` last (`order`
/// says which). A common state-dict prefix (`state_dict.`, `model.`, ...) is removed.
/// `layers` are the 2-D, 3-D and 4-D floating-point weights, each read only when an analysis asks.
///
/// ```swift
/// let model = try ModelWeights(path: "bert-base-uncased")
/// let result = try model.esd()
/// print(result.json().serialized(pretty: true))
/// ```
public struct ModelWeights: Sendable {
  /// How the layers are ordered.
  public enum Order: String, Sendable {
    /// The shard index's `weight_map` order (`model.safetensors.index.json`, or
    /// `pytorch_model.bin.index.json` for `.bin` shards).
    case index
    /// The order of the keys in the file(s): a state dict's insertion order.
    case file
    /// Embeddings, numbered blocks in natural order, the rest, `lm_head` last (names only).
    case conventional
    /// Natural order of the names (a folder of `.npy` files).
    case natural

    /// How the conventions line and `--json` say it.
    public var description: String {
      switch self {
      case .index: "layers in the shard index's weight_map order"
      case .file: "layers in the order of the keys in the file"
      case .conventional: "layers ordered embeddings, numbered blocks (natural order), the rest, lm_head (safetensors keys are sorted by name)"
      case .natural: "layers in natural order of their names"
      }
    }
  }

  /// Prefixes under which state dicts are commonly nested; stripped when every key has one.
  public static let nestingKeys = ["state_dict", "model_state_dict", "model", "module", "net", "network"]

  /// The path as given.
  public let path: String
  /// Tensors of every file, in the model's order (`order` says which): a shard index's
  /// `weight_map` order; else a state dict's (or `.npz`'s) key order, file after file; else, for
  /// safetensors (whose keys are sorted by name), embeddings, numbered blocks in natural order,
  /// the rest, `lm_head` last; a folder of `.npy` in natural order of the names.
  public let tensors: [Tensor]
  /// Their keys, with a common nesting prefix removed.
  public let keys: [String]
  /// How `tensors` are ordered.
  public let order: Order

  /// Problems with the files that do not stop the reading, one line each for standard error
  /// (`warning: …`): a Hugging Face folder's `.safetensors` files that its shard index does not
  /// list (not read: transformers reads only the shards the index lists).
  public let warnings: [String]

  /// Opens the model at `path` (its headers only).
  /// - Throws: `ReadError` naming the file: missing, a `FILE:KEY` reference (a model is read
  ///   whole), a folder without weights, a malformed shard index or one that lists a tensor in a
  ///   shard that does not hold it, an unreadable tensor file.
  /// - Complexity: O(tensors): headers and the shard index only.
  public init(path: String) throws {
    self.path = path
    var tensors: [Tensor] = [], formats: Set<TensorFormat> = []
    let (files, index) = try ModelWeights.files(at: path)
    for file in files {
      let opened = try TensorFile.open(file)
      formats.insert(opened.format)
      tensors += opened.tensors
    }
    var keys = tensors.map(\.key)
    if let prefix = Self.nestingKeys.first(where: { p in !keys.isEmpty && keys.allSatisfy { $0.hasPrefix(p + ".") } }) {
      keys = keys.map { String($0.dropFirst(prefix.count + 1)) }
    }
    let listed = try index.map { try Self.checkedIndex($0.path, entries: $0.entries, tensors: tensors) } ?? []
    warnings = index.map { Self.unlistedShards(in: path, index: $0.path, listed: listed) } ?? []
    let rank: [Int]
    if !listed.isEmpty {
      let position = Dictionary(listed.enumerated().map { ($1.tensor, $0) }, uniquingKeysWith: { a, _ in a })
      rank = tensors.map { position[$0.key] ?? listed.count }
      order = .index
    } else if formats == [.directory] {
      rank = keys.map { _ in 0 }
      order = .natural
    } else if formats.contains(.safetensors) {
      rank = keys.map(Self.conventionalRank)
      order = .conventional
    } else {
      rank = Array(keys.indices)
      order = .file
    }
    let sorted = keys.indices.sorted { a, b in
      rank[a] != rank[b] ? rank[a] < rank[b] : NaturalOrder.precedes(keys[a], keys[b])
    }
    self.tensors = sorted.map { tensors[$0] }
    self.keys = sorted.map { keys[$0] }
  }

  /// The shard index's (tensor, file) pairs, each checked against the tensors read: a tensor
  /// the index places in a shard that does not hold it would otherwise vanish without a word.
  /// - Throws: `ReadError` naming the index, the tensor and the shard.
  static func checkedIndex(_ index: String, entries listed: [(tensor: String, file: String)],
                           tensors: [Tensor]) throws -> [(tensor: String, file: String)] {
    var held: [String: Set<String>] = [:]
    for tensor in tensors { held[FileSystem.baseName(tensor.file), default: []].insert(tensor.key) }
    for (tensor, file) in listed where held[file]?.contains(tensor) != true {
      throw ReadError(file: index, "lists '\(tensor.prefix(80))' in \(file.prefix(80)), which does not hold it")
    }
    return listed
  }

  /// The warning for the `.safetensors` files beside a safetensors shard index that it does not
  /// list: `ModelWeights` reads only the listed shards, as transformers' `from_pretrained` does.
  static func unlistedShards(in folder: String, index: String, listed: [(tensor: String, file: String)]) -> [String] {
    guard index.hasSuffix(".safetensors.index.json") else { return [] }
    let shards = Set(listed.map(\.file))
    let unlisted = NaturalOrder.sorted((FileSystem.names(in: folder) ?? []).filter { $0.hasSuffix(".safetensors") && !shards.contains($0) })
    guard !unlisted.isEmpty else { return [] }
    let one = unlisted.count == 1
    return ["warning: \(index): does not list \(TensorFile.list(unlisted)), which \(one ? "is" : "are") in the folder: \(one ? "its" : "their") tensors are not read (transformers reads only the shards the index lists)"]
  }

  /// Where a name goes when the file does not give the order: embeddings (0), numbered blocks
  /// (1), the rest (2), `lm_head` (3); natural order within each.
  static func conventionalRank(_ key: String) -> Int {
    let lower = key.lowercased()
    if lower.contains("lm_head") { return 3 }
    if lower.contains("embed") || lower.hasPrefix("wte") || lower.hasPrefix("wpe")
      || lower.contains(".wte") || lower.contains(".wpe") { return 0 }
    let parts = key.split(separator: ".")
    if parts.dropLast().contains(where: { !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return 1 }
    return 2
  }

  /// Every weight `compare esd` analyses (2-D, 4-D, and 3-D by `ThreeDimensionalRule.auto`),
  /// in the order it prints them, read lazily.
  public var layers: [WeightLayer] { selection(matching: []).layers }

  /// Layer names: keys without a trailing `.weight`, of the 2-D, 3-D and 4-D tensors.
  public var layerNames: [String] {
    zip(tensors, keys).filter { (2...4).contains($0.0.shape.count) }.map { Self.layerName($0.1) }
  }

  /// A key without its trailing `.weight`.
  public static func layerName(_ key: String) -> String {
    key.hasSuffix(".weight") ? String(key.dropLast(7)) : key
  }

  /// The weights whose name or key matches one of the shell `patterns` (all when empty) and
  /// none of `excluded`, and the tensors left out, each with the reason.
  ///
  /// 2-D weights are `dense` (`embedding` when the name contains `embed`), 4-D ones `conv2d`;
  /// a 3-D weight is stacked experts or a conv1d kernel by `threeDimensional` (see
  /// `ThreeDimensionalRule`), or skipped with the reason when the rule cannot tell. Each layer
  /// carries its `id` (1-based position among all the model's weights, whatever the patterns)
  /// and its tensor `key`. Nothing is read.
  public func selection(matching patterns: [String], excluding excluded: [String] = [],
                        threeDimensional: ThreeDimensionalRule = .auto) -> (layers: [WeightLayer], skipped: [SkippedTensor]) {
    var layers: [WeightLayer] = [], skipped: [SkippedTensor] = []
    var position = 0
    for (tensor, key) in zip(tensors, keys) {
      let name = Self.layerName(key)
      func matches(_ list: [String]) -> Bool {
        list.contains(where: { fnmatch($0, name, 0) == 0 || fnmatch($0, key, 0) == 0 })
      }
      let isWeight = tensor.dtype.isFloatingPoint && (2...4).contains(tensor.shape.count) && !tensor.shape.contains(0)
      if isWeight { position += 1 }
      if !patterns.isEmpty, !matches(patterns) { continue }
      if matches(excluded) { continue }
      guard tensor.dtype.isFloatingPoint else {
        skipped.append(SkippedTensor(name: key, reason: "\(tensor.dtype) tensor, not weights"))
        continue
      }
      let kind: WeightLayer.Kind
      switch tensor.shape.count {
      case 2, 3, 4:
        if tensor.shape.contains(0) {
          skipped.append(SkippedTensor(name: key, reason: "empty tensor \(tensor.shapeDescription)"))
          continue
        }
        if tensor.shape.count == 3 {
          guard let k = threeDimensional.kind(key: key, shape: tensor.shape) else {
            skipped.append(SkippedTensor(name: key, reason: "3-D tensor \(tensor.shapeDescription) is neither stacked experts nor a conv1d kernel by the default rule; choose with --3d experts|conv"))
            continue
          }
          kind = k
        } else {
          kind = tensor.shape.count == 4 ? .conv2d : name.lowercased().contains("embed") ? .embedding : .dense
        }
      case 0, 1:
        skipped.append(SkippedTensor(name: key, reason: "\(tensor.shape.count)-D tensor (bias or norm)"))
        continue
      default:
        skipped.append(SkippedTensor(name: key, reason: "\(tensor.shape.count)-D tensor \(tensor.shapeDescription): only 2-D, 3-D and 4-D weights have an ESD"))
        continue
      }
      var layer = WeightLayer(name: name, kind: kind, shape: tensor.shape, load: { try tensor.doubles() })
      layer.loadRows = { try tensor.doubles(rows: $0) }
      layer.loadInto = Self.reader(tensor, as: Double.self)
      if [.float32, .float16, .bfloat16].contains(tensor.dtype) {
        layer.loadFloatsInto = Self.reader(tensor, as: Float.self)
        layer.storedFloats = {
          try tensor.storedRows(0..<tensor.shape[0], as: Float.self).map { StoredFloats($0, owner: tensor.storage) }
        }
      }
      layer.id = position
      layer.key = key
      layers.append(layer)
    }
    return (layers, skipped)
  }

  /// Reads `tensor`'s elements, converted to `S`, into a reused buffer (resized to hold them).
  static func reader<S: BLASScalar>(_ tensor: Tensor, as: S.Type) -> @Sendable (inout [S]) throws -> Void {
    { buffer in
      WorkBuffer.resize(&buffer, to: tensor.count)
      _ = try buffer.withUnsafeMutableBufferPointer { try tensor.convert(into: $0) }
    }
  }

  /// `layers` with each one's counterpart in `initial` attached by name (two single-layer
  /// models pair with each other whatever their names).
  /// - Throws: `InputError` when `initial` lacks a layer or its shape differs.
  public func paired(_ layers: [WeightLayer], with initial: ModelWeights) throws -> [WeightLayer] {
    // Every 3-D init tensor is offered (read as experts or not, it pairs by name and shape).
    let baseLayers = initial.selection(matching: [], threeDimensional: .experts).layers
    let byName = Dictionary(baseLayers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let single = layers.count == 1 && baseLayers.count == 1
    return try layers.map { layer in
      guard let other = single ? baseLayers[0] : byName[layer.name] else {
        throw InputError("\(initial.path): has no layer '\(layer.name)' to pair with \(path)")
      }
      guard other.shape == layer.shape else {
        throw InputError("layer '\(layer.name)': shape \(Self.shapeText(layer.shape)) in \(path) but \(Self.shapeText(other.shape)) in \(initial.path)")
      }
      var paired = WeightLayer(name: layer.name, kind: layer.kind, shape: layer.shape, load: layer.load,
                               loadInit: other.load)
      paired.loadRows = layer.loadRows
      paired.loadInitRows = other.loadRows
      paired.id = layer.id
      paired.key = layer.key
      return paired
    }
  }

  static func shapeText(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }

  /// Throws unless every shard `index` lists is among `names`, the folder's files.
  static func requireShards(_ listed: [String], of index: String, in names: [String]) throws {
    let present = Set(names)
    for name in listed where !present.contains(name) {
      throw ReadError(file: index, "lists shard '\(name.prefix(80))', which is not in the folder")
    }
  }

  /// A Hugging Face folder's shard index, parsed once: its path and its (tensor, shard) entries.
  struct ShardIndex {
    let path: String
    let entries: [(tensor: String, file: String)]
  }

  /// The files holding a model's weights and, for a sharded Hugging Face folder, the shard index
  /// that describes them: a `*.safetensors.index.json` beside safetensors shards, or a
  /// `*.bin.index.json` (as `pytorch_model.bin.index.json`) beside `pytorch_model-*.bin` shards
  /// when there is no safetensors file.
  static func files(at path: String) throws -> (files: [String], index: ShardIndex?) {
    switch FileSystem.kind(of: path) {
    case .missing:
      let reference = TensorReference(path)
      if let key = reference.key, FileSystem.kind(of: reference.path) != .missing {
        throw ReadError(file: reference.path, "esd reads a whole model, not FILE:KEY; choose layers with --layers '\(key)'")
      }
      throw ReadError(file: path, "no such file")
    case .directory: break
    default: return ([path], nil)
    }
    let names = try Folders.names(in: path)
    func inFolder(_ name: String) -> String { FileSystem.path(name, in: path) }
    func sorted(_ names: [String]) -> [String] { names.sorted { NaturalOrder.precedes($0, $1) }.map(inFolder) }
    if names.contains("model.safetensors") { return ([inFolder("model.safetensors")], nil) }
    // A PEFT adapter's factors (`esd` and `describe` analyse them as `LoRAAdapter` does).
    if names.contains(LoRAAdapter.configName), let weights = LoRAAdapter.weightNames.first(where: names.contains) {
      return ([inFolder(weights)], nil)
    }
    if let name = names.first(where: { $0.hasSuffix(".safetensors.index.json") }) {
      let index = ShardIndex(path: inFolder(name),
                             entries: try SafetensorsIndex.entries(inIndex: inFolder(name), suffix: ".safetensors"))
      let listed = SafetensorsIndex.shards(of: index.entries)
      guard !listed.isEmpty else {
        throw ReadError(file: index.path, "lists no .safetensors shards (expected JSON with a \"weight_map\" of tensor names to shard files)")
      }
      try requireShards(listed, of: index.path, in: names)
      return (sorted(listed), index)
    }
    let shards = names.filter { $0.hasPrefix("model-") && $0.hasSuffix(".safetensors") }
    if !shards.isEmpty { return (sorted(shards), nil) }
    let otherSafetensors = names.filter { $0.hasSuffix(".safetensors") }
    if !otherSafetensors.isEmpty { return (sorted(otherSafetensors), nil) }
    // `.bin` shards with their index: a shard it lists that is missing is named as such, before
    // `checkedIndex` would blame its tensors.
    var index: ShardIndex?
    if let name = names.first(where: { $0.hasSuffix(".bin.index.json") }) {
      let found = ShardIndex(path: inFolder(name), entries: try SafetensorsIndex.entries(inIndex: inFolder(name)))
      try requireShards(SafetensorsIndex.shards(of: found.entries), of: found.path, in: names)
      index = found
    }
    let bins = names.filter { $0.hasPrefix("pytorch_model") && $0.hasSuffix(".bin") }
    if !bins.isEmpty { return (sorted(bins), index) }
    if names.contains(where: { $0.hasSuffix(".npy") }) { return ([path], index) }
    throw ReadError(file: path, "folder has no model.safetensors, model-*.safetensors, pytorch_model*.bin or .npy files")
  }
}

/// A tensor of a model that is not analysed, and why (a bias, a 3-D tensor, an integer buffer).
public struct SkippedTensor: Sendable, Equatable {
  /// The tensor's key (or layer name).
  public var name: String
  /// Why it is left out.
  public var reason: String

  public init(name: String, reason: String) {
    self.name = name
    self.reason = reason
  }
}
