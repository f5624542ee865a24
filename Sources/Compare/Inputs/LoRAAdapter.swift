import CompareCore
import SpectralMetrics
import TensorIO

/// How a LoRA update's factors are scaled into ΔW.
public enum LoRAScale: String, Sendable, CaseIterable {
  /// ΔW = B·A, as weightwatcher 0.7.7's `analyze(peft=True)` analyses it.
  case none
  /// ΔW = (lora_alpha / r)·B·A (lora_alpha / √r with `use_rslora`), per module with
  /// `rank_pattern` / `alpha_pattern`: the update the fine-tuned model adds to W.
  case config
}

/// A PEFT LoRA adapter folder (`adapter_config.json` with `adapter_model.safetensors` or
/// `adapter_model.bin`), opened without reading its weights: one `Module` per adapted layer,
/// its factors A (`r × in`) and B (`out × r`) paired by name.
///
/// Module names are the tensor keys without PEFT's `base_model.model.` prefix, the
/// `.lora_A.weight` / `.lora_B.weight` suffix and an adapter-name segment (`.default`):
/// `base_model.model.encoder.layer.0.attention.self.query.lora_A.weight` is
/// `encoder.layer.0.attention.self.query`, the name of the base model's layer it updates.
///
/// ```swift
/// let adapter = try LoRAAdapter(path: "my-lora")
/// let result = try adapter.esd(scale: .config, base: ModelWeights(path: "base-model"))
/// print(result.text, terminator: "")
/// ```
public struct LoRAAdapter: Sendable {
  /// One adapted layer: its factors and its scale.
  public struct Module: Sendable {
    /// The base model's layer name (`encoder.layer.0.attention.self.query`).
    public let name: String
    /// The key prefix in the adapter file (`base_model.model.encoder…query`).
    public let prefix: String
    /// The adapter-name segment of the factors' keys (`default` in `…query.lora_A.default.weight`);
    /// `nil` when the keys have none, as `save_pretrained` writes them.
    public let adapterName: String?
    /// lora_A, `r × in` (for an embedding, `r × num_embeddings`).
    public let a: Tensor
    /// lora_B, `out × r` (for an embedding, `dim × r`).
    public let b: Tensor
    /// r: A's rows.
    public var rank: Int { a.shape[0] }
    /// lora_alpha for this module (`alpha_pattern` or the config's).
    public let alpha: Double
    /// lora_alpha / r, or lora_alpha / √r with `use_rslora`: PEFT's `scaling`.
    public let scale: Double
    /// B·A's shape, `[out, in]`.
    public var shape: [Int] { [b.shape[0], a.shape[1]] }
    /// An embedding's factors (`lora_embedding_A/B`): B·A is ΔWᵀ of the `(num, dim)` table.
    public let isEmbedding: Bool
  }

  /// The folder as given.
  public let path: String
  /// `adapter_config.json`.
  public let configFile: String
  /// `adapter_model.safetensors` or `adapter_model.bin`.
  public let weightsFile: String
  /// The adapted layers, in natural order of their names.
  public let modules: [Module]
  /// Tensors of the adapter file that are not LoRA factors (`modules_to_save` copies, DoRA
  /// magnitudes, conv factors), with the reason.
  public let skipped: [SkippedTensor]
  /// The config's `fan_in_fan_out`: the base weights are stored `in × out` (GPT-2's Conv1D).
  public let fanInFanOut: Bool
  /// The keys adapter_config.json lacks whose LoraConfig default (`r` = 8, `lora_alpha` = 8) some
  /// module's scale uses (no `rank_pattern` / `alpha_pattern` entry matches it), in that order.
  /// `esd(scale: .config)` warns of each.
  public let defaultedKeys: [String]

  static let configName = "adapter_config.json"
  static let weightNames = ["adapter_model.safetensors", "adapter_model.bin"]

  /// Whether `path` is a folder holding `adapter_config.json`.
  public static func isAdapter(at path: String) -> Bool {
    FileSystem.kind(of: path) == .directory && (FileSystem.names(in: path) ?? []).contains(configName)
  }

  /// Opens the adapter at `path` (the config and the weight file's header).
  /// - Throws: `ReadError` naming the file: no config or weights, invalid JSON, a `peft_type`
  ///   other than LoRA, an `r` / `rank_pattern` value that is not a positive integer or a
  ///   `lora_alpha` / `alpha_pattern` value that is not a finite number (null included: PEFT
  ///   cannot load it), a module with lora_A but no lora_B (or the reverse), with factors of two
  ///   adapter names or two tensors for one factor, factors whose shapes do not multiply, a rank
  ///   that differs from the config's `r` / `rank_pattern`, a `target_modules` entry with no
  ///   factors, no LoRA factors at all.
  public init(path: String) throws {
    self.path = path
    let names = FileSystem.names(in: path) ?? []
    configFile = FileSystem.path(Self.configName, in: path)
    guard names.contains(Self.configName) else { throw ReadError(file: path, "is not a PEFT adapter folder (no \(Self.configName))") }
    guard let weights = Self.weightNames.first(where: names.contains) else {
      throw ReadError(file: path, "adapter folder has no adapter_model.safetensors or adapter_model.bin")
    }
    weightsFile = FileSystem.path(weights, in: path)
    let config = try Self.readConfig(configFile)
    let file = configFile
    func patterns(_ key: String, _ read: (JSONValue, String) throws -> Double) throws -> [(String, Double)] {
      guard let value = config[key], value != .null else { return [] }
      guard case .object(let pairs) = value else { throw ReadError(file: file, "\"\(key)\" is not an object") }
      return try pairs.map { ($0, try read($1, "\"\(key)\" entry '\($0)'")) }
    }
    if case .string(let type)? = config["peft_type"], type.uppercased() != "LORA" {
      throw ReadError(file: file, "peft_type is '\(type)', not LORA: only LoRA adapters are analysed")
    }
    // An absent key takes LoraConfig's default; a null one PEFT cannot load (r <= 0 and
    // lora_alpha / r fail on None), so it is refused like any other non-number.
    let r = try config["r"].map { try Self.rank($0, "\"r\"", in: file) }
    let alpha = try config["lora_alpha"].map { try Self.alpha($0, "\"lora_alpha\"", in: file) }
    let rankPattern = try patterns("rank_pattern") { try Self.rank($0, $1, in: file) }
    let alphaPattern = try patterns("alpha_pattern") { try Self.alpha($0, $1, in: file) }
    let rsLoRA = config["use_rslora"] == .bool(true)
    fanInFanOut = config["fan_in_fan_out"] == .bool(true)

    let tensors = try TensorFile.open(weightsFile).tensors
    var factors: [String: (prefix: String, a: Tensor?, b: Tensor?, embedding: Bool, adapters: Set<String?>)] = [:]
    var skipped: [SkippedTensor] = []
    for tensor in tensors {
      guard let factor = Self.parse(tensor.key) else {
        let reason = tensor.key.contains("lora_magnitude_vector")
          ? "DoRA magnitude vector: the DoRA update is not B·A, only its B·A part is analysed"
          : "not a LoRA factor (lora_A / lora_B)"
        skipped.append(SkippedTensor(name: tensor.key, reason: reason))
        continue
      }
      let module = factor.module
      var entry = factors[module] ?? (factor.prefix, nil, nil, factor.isEmbedding, [])
      entry.adapters.insert(factor.adapter)
      let named = NaturalOrder.sorted(entry.adapters.compactMap { $0 })
      if named.count > 1 {
        // PEFT saves each adapter of a multi-adapter model in a folder of its own; pairing
        // one adapter's A with the other's B, or keeping either alone, would be silently wrong.
        throw ReadError(file: weightsFile, "module '\(module)' has LoRA factors of \(named.count == 2 ? "two" : "\(named.count)") adapters (\(named.map { "'\($0)'" }.joined(separator: ", "))); save one adapter per folder")
      }
      let previous = factor.isA ? entry.a : entry.b
      if let previous {
        throw ReadError(file: weightsFile, "module '\(module)' has two \(factor.isA ? "lora_A" : "lora_B") tensors, '\(previous.key)' and '\(tensor.key)'")
      }
      if factor.isA { entry.a = tensor } else { entry.b = tensor }
      factors[module] = entry
    }
    var modules: [Module] = []
    var defaulted: Set<String> = []
    for name in NaturalOrder.sorted(Array(factors.keys)) {
      let entry = factors[name]!
      guard let a = entry.a else { throw ReadError(file: weightsFile, "module '\(name)' has lora_B but no lora_A") }
      guard let b = entry.b else { throw ReadError(file: weightsFile, "module '\(name)' has lora_A but no lora_B") }
      if a.shape.count == 4 || b.shape.count == 4 {
        skipped.append(SkippedTensor(name: entry.prefix, reason: "conv LoRA (4-D factors) is not analysed"))
        continue
      }
      guard a.shape.count == 2, b.shape.count == 2, !a.shape.contains(0), !b.shape.contains(0) else {
        throw ReadError(file: weightsFile, "module '\(name)': lora_A is \(ModelWeights.shapeText(a.shape)) and lora_B \(ModelWeights.shapeText(b.shape)), expected two non-empty matrices")
      }
      guard b.shape[1] == a.shape[0] else {
        throw ReadError(file: weightsFile, "module '\(name)': lora_B is \(ModelWeights.shapeText(b.shape)) and lora_A \(ModelWeights.shapeText(a.shape)): B·A needs B's columns to equal A's rows")
      }
      let patternRank = Self.pattern(rankPattern, for: name)
      let rank = patternRank ?? r ?? Self.defaultRank
      guard Double(a.shape[0]) == rank else {
        let says = patternRank == nil && r == nil
          ? "has no \"r\" (PEFT's default r = \(Int(Self.defaultRank)))" : "says r = \(Int(rank))"
        throw ReadError(file: weightsFile, "module '\(name)': lora_A has rank \(a.shape[0]) but \(Self.configName) \(says)")
      }
      let patternAlpha = Self.pattern(alphaPattern, for: name)
      let moduleAlpha = patternAlpha ?? alpha ?? Self.defaultAlpha
      if patternRank == nil && r == nil { defaulted.insert("r") }
      if patternAlpha == nil && alpha == nil { defaulted.insert("lora_alpha") }
      let scale = rsLoRA ? moduleAlpha / rank.squareRoot() : moduleAlpha / rank
      modules.append(Module(name: name, prefix: entry.prefix, adapterName: entry.adapters.compactMap { $0 }.first,
                            a: a, b: b, alpha: moduleAlpha, scale: scale, isEmbedding: entry.embedding))
    }
    guard !modules.isEmpty || !factors.isEmpty else {
      throw ReadError(file: weightsFile, "has no LoRA factors (no lora_A / lora_B tensors)")
    }
    if case .array(let targets)? = config["target_modules"] {
      for case .string(let target) in targets where !factors.keys.contains(where: { Self.matches($0, target) }) {
        throw ReadError(file: configFile, "target module '\(target)' has no lora_A / lora_B in \(FileSystem.baseName(weightsFile))")
      }
    }
    self.modules = modules
    self.skipped = skipped
    defaultedKeys = ["r", "lora_alpha"].filter(defaulted.contains)
  }

  /// LoraConfig's defaults, used for a key adapter_config.json lacks: `r` = 8, `lora_alpha` = 8.
  static let defaultRank = 8.0, defaultAlpha = 8.0

  /// A rank (`r`, a `rank_pattern` value): a positive integer (an integral float such as 8.0
  /// is read as that integer).
  static func rank(_ value: JSONValue, _ what: String, in file: String) throws -> Double {
    switch value {
    case .int(let i) where i > 0: return Double(i)
    case .double(let d) where d > 0 && d.isFinite && d.rounded() == d && d <= Double(Int32.max): return d
    default: throw ReadError(file: file, "\(what) must be a positive integer, got \(value.serialized().prefix(40))")
    }
  }

  /// A `lora_alpha` (or an `alpha_pattern` value): a finite number.
  static func alpha(_ value: JSONValue, _ what: String, in file: String) throws -> Double {
    switch value {
    case .int(let i): return Double(i)
    case .double(let d) where d.isFinite: return d
    default: throw ReadError(file: file, "\(what) must be a finite number, got \(value.serialized().prefix(40))")
    }
  }

  static func readConfig(_ path: String) throws -> JSONValue {
    let file = try MappedFile(path: path)
    let config: JSONValue
    do {
      config = try JSONValue.parse(file.bytes)
    } catch let error as JSONValue.ParseError {
      throw ReadError(file: path, "is not valid JSON (\(error.problem) at byte \(error.offset))")
    }
    guard case .object = config else { throw ReadError(file: path, "is not a JSON object") }
    return config
  }

  /// A LoRA factor's key taken apart: `base_model.model.fc1.lora_A.default.weight` is the
  /// factor A of module `fc1` (key prefix `base_model.model.fc1`) of adapter `default`.
  struct FactorKey: Equatable {
    var prefix: String
    var module: String
    /// The adapter-name segment after the marker; `nil` when the key has none.
    var adapter: String?
    var isA: Bool
    var isEmbedding: Bool
  }

  /// The parts of a LoRA factor's key, or `nil` for another tensor.
  static func parse(_ key: String) -> FactorKey? {
    let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    let markers = ["lora_A": (true, false), "lora_B": (false, false),
                   "lora_embedding_A": (true, true), "lora_embedding_B": (false, true)]
    guard let at = parts.lastIndex(where: { markers[$0] != nil }), at > 0 else { return nil }
    // After the marker: nothing, `weight`, an adapter name, or an adapter name then `weight`.
    let tail = parts[(at + 1)...]
    guard tail.count <= 2, tail.count < 2 || tail.last == "weight" else { return nil }
    var module = Array(parts[..<at])
    let prefix = module.joined(separator: ".")
    if module.count > 2, module[0] == "base_model", module[1] == "model" { module.removeFirst(2) }
    let (isA, embedding) = markers[parts[at]]!
    let adapter = tail.first.flatMap { tail.count == 2 || $0 != "weight" ? $0 : nil }
    return FactorKey(prefix: prefix, module: module.joined(separator: "."), adapter: adapter, isA: isA,
                     isEmbedding: embedding)
  }

  /// Whether a module name is `target` or ends with `.target` (PEFT's rule for a list entry).
  static func matches(_ name: String, _ target: String) -> Bool {
    name == target || name.hasSuffix("." + target)
  }

  /// The value of the longest pattern key matching a module (`rank_pattern`, `alpha_pattern`).
  static func pattern(_ patterns: [(String, Double)], for name: String) -> Double? {
    patterns.filter { matches(name, $0.0) }.max { $0.0.count < $1.0.count }?.1
  }

  /// ΔW of each module as a `.lora` layer (`rank`, `loadFactors`; `load` forms the product),
  /// and, with `base`, after each the base layer `NAME.base` (W) and `NAME.merged`
  /// (`.loraMerged`, W + ΔW, with ΔW transposed where the base stores it `in × out`).
  /// Nothing is read.
  /// - Throws: `InputError` naming the base model when it lacks an adapted layer or its shape
  ///   is neither ΔW's nor its transpose. When analysed, a NaN/∞ in W is an `InputError`
  ///   naming the base model, one in A or B names the adapter file.
  public func layers(scale: LoRAScale = .none, base: ModelWeights? = nil, matching patterns: [String] = [],
                     excluding excluded: [String] = []) throws -> [WeightLayer] {
    func chosen(_ m: Module) -> Bool {
      func any(_ list: [String]) -> Bool {
        list.contains { fnmatch($0, m.name, 0) == 0 || fnmatch($0, m.prefix, 0) == 0 }
      }
      return (patterns.isEmpty || any(patterns)) && !any(excluded)
    }
    let baseLayers = base.map(Self.layersByName)
    var layers: [WeightLayer] = []
    for (index, module) in modules.enumerated() where chosen(module) {
      let factor = scale == .config ? module.scale : 1
      let file = weightsFile, name = module.name
      let loadFactors: @Sendable () throws -> LowRankProduct = {
        let (a, b) = (module.a, module.b)
        do {
          return try LowRankProduct(b: Matrix(rows: b.shape[0], columns: b.shape[1], elements: try b.doubles()),
                                    a: Matrix(rows: a.shape[0], columns: a.shape[1], elements: try a.doubles()),
                                    scale: factor)
        } catch let error as InputError {
          throw InputError("\(file): module '\(name)': \(error.message)")
        }
      }
      var delta = WeightLayer(name: name, kind: .lora, shape: module.shape, load: { try loadFactors().product().elements })
      delta.rank = module.rank
      delta.loadFactors = loadFactors
      delta.id = index + 1
      delta.key = module.prefix
      layers.append(delta)
      guard let base, let baseLayers else { continue }
      guard let w = baseLayers[name] else {
        throw InputError("\(base.path): has no layer '\(name)' adapted by \(file)")
      }
      // A Linear stores W as out × in, like B·A; GPT-2's Conv1D (fan_in_fan_out) and an
      // embedding table store the transpose.
      let transposed = fanInFanOut || module.isEmbedding
      guard w.shape == (transposed ? module.shape.reversed() : module.shape) else {
        throw InputError("\(base.path): layer '\(name)' is \(ModelWeights.shapeText(w.shape)) but B·A of \(file) is \(ModelWeights.shapeText(module.shape))")
      }
      // W is the base model's: a NaN in it is reported against the base's file, as
      // `compare esd BASE` reports it, not against the adapter whose rows these are.
      let basePath = base.path
      let load: @Sendable () throws -> [Double] = {
        let elements = try w.load()
        if let problem = w.nonFiniteProblem(in: elements) { throw InputError("\(basePath): \(problem)") }
        return elements
      }
      var plain = WeightLayer(name: name + ".base", kind: w.kind, shape: w.shape, load: load)
      plain.id = index + 1
      plain.key = w.key
      layers.append(plain)
      let (rows, columns) = (w.shape[0], w.shape[1])
      var merged = WeightLayer(name: name + ".merged", kind: .loraMerged, shape: w.shape, load: {
        var sum = try load()
        let update = try loadFactors().product().elements
        if transposed {
          // ΔW is columns × rows: element (i, j) of W pairs with (j, i) of ΔW.
          for i in 0..<rows { for j in 0..<columns { sum[i * columns + j] += update[j * rows + i] } }
        } else {
          for i in sum.indices { sum[i] += update[i] }
        }
        return sum
      })
      merged.id = index + 1
      merged.key = w.key
      layers.append(merged)
    }
    guard !layers.isEmpty else {
      throw InputError("\(path): no adapted module matches \((patterns + excluded.map { "excluding " + $0 }).joined(separator: ", ")) (modules: \(TensorFile.list(modules.map(\.name))))")
    }
    return layers
  }

  /// A base model's layers by name, and by their full tensor key without `.weight` when
  /// `ModelWeights` removed a nesting prefix (`model.`) that the adapter's names keep.
  static func layersByName(_ model: ModelWeights) -> [String: WeightLayer] {
    let original = Dictionary(zip(model.keys, model.tensors.map(\.key)), uniquingKeysWith: { a, _ in a })
    var byName: [String: WeightLayer] = [:]
    for layer in model.layers {
      if byName[layer.name] == nil { byName[layer.name] = layer }
      if let key = layer.key, let full = original[key], byName[ModelWeights.layerName(full)] == nil {
        byName[ModelWeights.layerName(full)] = layer
      }
    }
    return byName
  }

  /// The ESD table of the adapter: weightwatcher 0.7.7's `analyze(peft=True)` rows (the top
  /// min(r, M) eigenvalues of ΔWᵀΔW, N and M of ΔW, `layer_type` `lora`), and with `base`
  /// the base layer W and W + ΔW beside each (see `layers`).
  ///
  /// - Parameters:
  ///   - options: As for `ModelWeights.esd` (`delta` does not apply).
  ///   - scale: `.none` (the reference's B·A) or `.config` (lora_alpha / r). W + ΔW is the
  ///     fine-tuned weight only with `.config`.
  ///   - base: The base model the adapter was trained on, layers paired by name.
  ///   - patterns, excluded: Shell patterns of module names (or key prefixes).
  /// - Throws: `InputError` / `ReadError` naming the file and module (see `init(path:)` and
  ///   `layers`), NaN/∞ factors (naming the adapter file) or base weights (naming the base).
  ///   With `.config`, `modelWarnings` has a line for each of `defaultedKeys`.
  /// - Complexity: per module O(r²·(out + in)) for the eigenvalues; with randomisation ΔW is
  ///   formed and its shuffles decomposed, O(out·in·M) each, and with `base` W and W + ΔW are
  ///   full decompositions.
  public func esd(options: ESDOptions = ESDOptions(), scale: LoRAScale = .none, base: ModelWeights? = nil,
                  layers patterns: [String] = [], excluding excluded: [String] = [],
                  progress: @escaping @Sendable (Int, Int, String) -> Void = { _, _, _ in }) throws -> ESDResult {
    if options.delta { throw InputError("\(path): --delta does not apply to an adapter (its rows are already updates)") }
    let layers = try self.layers(scale: scale, base: base, matching: patterns, excluding: excluded)
    let total = layers.count
    let rows: [[LayerReport]]
    do {
      rows = try ESDAnalyzer(options: options).analyze(layers) { done, name in progress(done, total, name) }
    } catch let error as InputError {
      throw error.message.hasPrefix("layer '") ? InputError("\(path): \(error.message)") : error
    }
    let (reports, more) = ModelWeights.splitSkipped(rows.flatMap { $0 })
    let skipped = self.skipped + more
    var result = ESDResult(model: path, reports: reports, skipped: skipped,
                           summary: ESDSummary(reports, skippedTensors: skipped.count), options: options,
                           order: .natural, shard: nil)
    result.loraScale = scale
    if scale == .config {
      result.modelWarnings = defaultedKeys.map {
        "warning: \(configFile) has no \"\($0)\": ΔW is scaled with PEFT's default \($0) = \(Int($0 == "r" ? Self.defaultRank : Self.defaultAlpha))"
      }
    }
    return result
  }

  /// The rows `esd` would produce, without reading any weight: `--describe`.
  public func describe(options: ESDOptions = ESDOptions(), base: ModelWeights? = nil, layers patterns: [String] = [],
                       excluding excluded: [String] = []) throws -> ESDDescription {
    let layers = try self.layers(base: base, matching: patterns, excluding: excluded)
    let rows = try ESDAnalyzer(options: options).describe(layers)
    let (reports, more) = ModelWeights.splitSkipped(rows.flatMap { $0 })
    return ESDDescription(model: path, rows: reports, skipped: skipped + more, order: .natural)
  }
}
