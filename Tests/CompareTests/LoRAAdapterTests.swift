import Compare
import Foundation
import Testing
import TestSupport

/// `Tests/Fixtures/esd/lora`: a PEFT adapter on the bundled MLP (`make_lora_fixtures.py`), its
/// numpy goldens (`make_lora_golden.py`) and weightwatcher 0.7.7's own table (`ww_reference.py`).
let loraFixtures = packageRoot + "Tests/Fixtures/esd/lora/"

@Suite("LoRA adapters: PEFT folders, ΔW = B·A rows, the base model beside them")
struct LoRAAdapterTests {
  let scratch = TemporaryFolder("lora-adapter")

  static let deterministic = [
    "lambda_max", "norm", "log_norm", "spectral_norm", "log_spectral_norm", "stable_rank", "entropy",
    "alpha", "xmin", "xmax", "D", "sigma", "alpha_weighted", "log_alpha_norm", "sv_max", "sv_min",
  ]
  static let fitted = [
    "sigma_mp", "bulk_max", "bulk_min", "mp_softrank", "W_scale", "rand_distance", "max_rand_eval",
    "ww_softrank", "ww_maxdist", "rand_sigma_mp", "rand_mp_softrank", "rand_bulk_max", "rand_W_scale",
  ]
  static let counts = ["N", "M", "rf", "num_evals", "matrix_rank", "num_pl_spikes", "num_spikes",
                       "rand_num_spikes", "rank_loss", "weak_rank_loss"]

  nonisolated(unsafe) static let golden: [String: Any] = {
    let data = FileManager.default.contents(atPath: loraFixtures + "golden_lora.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }()

  static func temporary(_ name: String) -> String {
    NSTemporaryDirectory() + "lora-\(getpid())-" + name
  }

  /// Every column of `rows` against `expected` by row name: 1e-9 relative for the
  /// deterministic columns, 1e-6 for the MP fits and the shuffled ESD's, counts exact.
  static func check(_ rows: [LayerReport], against expected: [String: Any]) {
    #expect(Set(rows.map(\.name)) == Set(expected.keys))
    for row in rows {
      let golden = expected[row.name] as! [String: Any]
      #expect(row.status == .success, "\(row.name): \(row.reason)")
      for column in deterministic + fitted {
        guard case .double(let mine) = row.value(column) else {
          Issue.record("\(row.name): column \(column) missing")
          continue
        }
        let theirs = golden[column] as! Double
        let tolerance = deterministic.contains(column) ? 1e-9 : 1e-6
        #expect(abs(mine - theirs) <= max(tolerance * abs(theirs), 1e-13), "\(row.name).\(column): \(mine) vs \(theirs)")
      }
      for column in counts { #expect(row.value(column) == .int(golden[column] as! Int), "\(row.name).\(column)") }
    }
  }

  @Test("modules, ranks and scales from adapter_config.json (rank_pattern, alpha_pattern)")
  func modules() throws {
    let adapter = try LoRAAdapter(path: loraFixtures + "mlp")
    #expect(adapter.modules.map(\.name) == ["fc1", "fc2", "fc3", "fc4"])
    #expect(adapter.modules.map(\.rank) == [8, 8, 12, 8])
    #expect(adapter.modules.map(\.scale) == [2, 4, 16.0 / 12, 2])
    #expect(adapter.modules.map(\.shape) == [[256, 64], [128, 256], [64, 128], [10, 64]])
    #expect(adapter.skipped.isEmpty)
  }

  @Test("B·A rows equal the float64 numpy goldens, unscaled (weightwatcher's) and scaled by lora_alpha/r")
  func goldenRows() throws {
    let adapter = try LoRAAdapter(path: loraFixtures + "mlp")
    let plain = try adapter.esd()
    #expect(plain.reports.allSatisfy { $0.kind == .lora })
    Self.check(plain.reports, against: Self.golden["unscaled"] as! [String: Any])
    let eigenvalues = Self.golden["eigenvalues"] as! [String: [Double]]
    for (name, expected) in eigenvalues {
      let mine = try #require(plain.eigenvalues(of: name))
      #expect(mine.count == expected.count)
      for (x, y) in zip(mine, expected) { #expect(abs(x - y) <= 1e-12 * expected.last!) }
    }
    Self.check(try adapter.esd(scale: .config).reports, against: Self.golden["scaled"] as! [String: Any])
  }

  @Test("with the base model: NAME, NAME.base (W) and NAME.merged (W + ΔW) equal the goldens")
  func baseRows() throws {
    let adapter = try LoRAAdapter(path: loraFixtures + "mlp")
    let result = try adapter.esd(scale: .config, base: ModelWeights(path: examples + "weights_mlp.safetensors"))
    #expect(result.reports.prefix(3).map(\.name) == ["fc1", "fc1.base", "fc1.merged"])
    #expect(result.reports.prefix(3).map(\.kind) == [.lora, .dense, .loraMerged])
    Self.check(result.reports, against: Self.golden["with_base_scaled"] as! [String: Any])
    // The base rows are the plain model's rows (only the shuffle seeds, mixed with the name, differ).
    let plain = try ModelWeights(path: examples + "weights_mlp.safetensors").esd()
    for row in result.reports where row.name.hasSuffix(".base") {
      let mine = plain.reports.first { $0.name + ".base" == row.name }!
      // Equal to rounding (the eigensolver's last bits follow the BLAS thread count of the moment).
      for (x, y) in zip(row.spectrum!.eigenvalues, mine.spectrum!.eigenvalues) { #expect(abs(x - y) <= 1e-13 * mine.spectrum!.lambdaMax) }
      #expect(abs(row.powerLaw!.alpha - mine.powerLaw!.alpha) <= 1e-12 * mine.powerLaw!.alpha)
    }
  }

  @Test("ModelWeights(path:) of an adapter folder analyses it as LoRAAdapter does")
  func throughModelWeights() throws {
    var options = ESDOptions()
    options.randomize = false
    for folder in ["mlp", "mlp-bin"] {
      let viaModel = try ModelWeights(path: loraFixtures + folder).esd(options: options)
      let direct = try LoRAAdapter(path: loraFixtures + folder).esd(options: options)
      #expect(viaModel.reports.map(\.name) == ["fc1", "fc2", "fc3", "fc4"] && viaModel.reports.allSatisfy { $0.kind == .lora })
      #expect(zip(viaModel.reports, direct.reports).allSatisfy { abs($0.spectrum!.lambdaMax - $1.spectrum!.lambdaMax) <= 1e-13 * $1.spectrum!.lambdaMax })
      #expect(try ModelWeights(path: loraFixtures + folder).describe().rows.map(\.kind) == [.lora, .lora, .lora, .lora])
    }
  }

  @Test("adapter_model.bin gives the same rows as adapter_model.safetensors")
  func binary() throws {
    let a = try LoRAAdapter(path: loraFixtures + "mlp").esd().reports
    let b = try LoRAAdapter(path: loraFixtures + "mlp-bin").esd().reports
    #expect(a.map(\.name) == b.map(\.name))
    // Equal to rounding: the eigensolver's last bits follow the BLAS thread count of the moment.
    for (x, y) in zip(a, b) {
      for ((column, u), (_, v)) in zip(x.columns, y.columns) {
        if case .double(let p) = u, case .double(let q) = v {
          #expect(abs(p - q) <= 1e-12 * max(abs(p), 1e-3), "\(x.name).\(column)")
        } else {
          #expect(u == v, "\(x.name).\(column)")
        }
      }
    }
  }

  /// weightwatcher 0.7.7's `analyze(peft=True)` table: (module, column) → value.
  static func weightwatcherRows() throws -> [String: [String: String]] {
    let text = try String(contentsOfFile: loraFixtures + "ww_peft.csv", encoding: .utf8)
    let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = lines[0]
    var rows: [String: [String: String]] = [:]
    for line in lines.dropFirst() {
      let row = Dictionary(uniqueKeysWithValues: zip(header, line))
      // base_model.model.fc1.lora_BA.default → fc1
      rows[row["longname"]!.split(separator: ".")[2].description] = row
    }
    return rows
  }

  @Test("the columns shared with weightwatcher 0.7.7's peft=True table agree to 1e-7 (its B·A is float32)")
  func weightwatcher() throws {
    let ww = try Self.weightwatcherRows()
    let result = try LoRAAdapter(path: loraFixtures + "mlp").esd()
    #expect(Set(ww.keys) == Set(result.reports.map(\.name)))
    for row in result.reports {
      let theirs = ww[row.name]!
      for column in Self.deterministic + ["sigma_mp", "bulk_max", "bulk_min", "mp_softrank", "W_scale"] {
        guard case .double(let mine) = row.value(column), let value = Double(theirs[column]!) else {
          Issue.record("\(row.name).\(column) missing")
          continue
        }
        #expect(abs(mine - value) <= 1e-7 * abs(value), "\(row.name).\(column): \(mine) vs \(value)")
      }
      for column in ["N", "M", "rf", "num_evals", "matrix_rank", "num_pl_spikes", "num_spikes", "rank_loss", "weak_rank_loss"] {
        #expect(row.value(column) == .int(Int(theirs[column]!)!), "\(row.name).\(column)")
      }
      #expect(row.value("warning") == .string(theirs["warning"]!))
    }
  }

  /// An adapter folder written here: `factors` are (key, shape, values), config merged in.
  static func writeAdapter(_ name: String, config: String, factors: [(String, [Int], [Float])]) throws -> String {
    let folder = temporary(name)
    try? FileManager.default.removeItem(atPath: folder)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try config.write(toFile: folder + "/adapter_config.json", atomically: false, encoding: .utf8)
    try SafetensorsWriter.write(factors.map { .init(key: $0.0, shape: $0.1, values: $0.2) },
                                to: folder + "/adapter_model.safetensors")
    return folder
  }

  @Test("a zero B: the ΔW row fails, and W + ΔW has W's row values; a non-zero B moves them")
  func zeroUpdate() throws {
    let a = try LoRAAdapter(path: loraFixtures + "mlp").modules[3].a.doubles().map(Float.init)
    let folder = try Self.writeAdapter("zero", config: #"{"r": 8, "lora_alpha": 16, "target_modules": ["fc4"]}"#, factors: [
      ("base_model.model.fc4.lora_A.default.weight", [8, 64], a),
      ("base_model.model.fc4.lora_B.default.weight", [10, 8], [Float](repeating: 0, count: 80)),
    ])
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let base = try ModelWeights(path: examples + "weights_mlp.safetensors")
    let rows = try LoRAAdapter(path: folder).esd(scale: .config, base: base).reports
    #expect(rows.map(\.name) == ["fc4", "fc4.base", "fc4.merged"])
    #expect(rows[0].status == .failed && rows[0].reason.contains("all eigenvalues are zero"))
    for column in Self.deterministic + Self.counts + ["sigma_mp", "bulk_max", "mp_softrank"] where !column.hasPrefix("rand") {
      #expect(rows[1].value(column) == rows[2].value(column), "\(column)")
    }
    // Negative control: the fixture's non-zero B changes W's spectrum.
    let real = try LoRAAdapter(path: loraFixtures + "mlp").esd(scale: .config, base: base, layers: ["fc4"]).reports
    #expect(real[1].value("lambda_max") != real[2].value("lambda_max"))
  }

  @Test("a base stored in × out (fan_in_fan_out, an embedding's lora_embedding_A/B) is merged with ΔWᵀ",
        arguments: [false, true])
  func transposedBase(embedding: Bool) throws {
    let fc4 = try LoRAAdapter(path: loraFixtures + "mlp").modules[3]
    let (a, b) = (try fc4.a.doubles().map(Float.init), try fc4.b.doubles().map(Float.init))
    let name = embedding ? "embed" : "fc4"
    let (markerA, markerB) = embedding ? ("lora_embedding_A", "lora_embedding_B") : ("lora_A.weight", "lora_B.weight")
    let folder = try Self.writeAdapter("t\(embedding)", config: #"{"r": 8, "lora_alpha": 16, "fan_in_fan_out": \#(!embedding)}"#, factors: [
      ("base_model.model.\(name).\(markerA)", [8, 64], a), ("base_model.model.\(name).\(markerB)", [10, 8], b),
    ])
    defer { try? FileManager.default.removeItem(atPath: folder) }
    // The MLP's fc4 (10 × 64) stored transposed, 64 × 10, under the module's name.
    let w = try ModelWeights(path: examples + "weights_mlp.safetensors").tensors.first { $0.key == "fc4.weight" }!.doubles()
    let wt = (0..<640).map { k in Float(w[(k % 10) * 64 + k / 10]) }
    let basePath = Self.temporary("base\(embedding).safetensors")
    try SafetensorsWriter.write([.init(key: name + ".weight", shape: [64, 10], values: wt)], to: basePath)
    defer { try? FileManager.default.removeItem(atPath: basePath) }
    var options = ESDOptions()
    options.randomize = false
    let rows = try LoRAAdapter(path: folder).esd(options: options, scale: .config, base: ModelWeights(path: basePath)).reports
    let expected = (Self.golden["with_base_scaled"] as! [String: Any])["fc4.merged"] as! [String: Any]
    #expect(rows.map(\.name) == [name, name + ".base", name + ".merged"])
    let lambdaMax = try #require(rows[2].spectrum?.lambdaMax)
    #expect(abs(lambdaMax - (expected["lambda_max"] as! Double)) <= 1e-12 * lambdaMax)
    #expect(abs(rows[2].powerLaw!.alpha - (expected["alpha"] as! Double)) <= 1e-9)
    // Negative control: adding ΔW untransposed is refused, the shapes differ.
    let plain = try Self.writeAdapter("p\(embedding)", config: #"{"r": 8, "lora_alpha": 16}"#, factors: [
      ("base_model.model.\(name).lora_A.weight", [8, 64], a), ("base_model.model.\(name).lora_B.weight", [10, 8], b),
    ])
    defer { try? FileManager.default.removeItem(atPath: plain) }
    #expect(throws: InputError.self) { try LoRAAdapter(path: plain).esd(options: options, base: ModelWeights(path: basePath)) }
  }

  @Test("a base whose keys all start with model. (a prefix ModelWeights removes) still pairs by the full key")
  func nestedBase() throws {
    let fc4 = try LoRAAdapter(path: loraFixtures + "mlp").modules[3]
    let folder = try Self.writeAdapter("nested", config: #"{"r": 8, "lora_alpha": 16}"#, factors: [
      ("base_model.model.model.fc4.lora_A.weight", [8, 64], try fc4.a.doubles().map(Float.init)),
      ("base_model.model.model.fc4.lora_B.weight", [10, 8], try fc4.b.doubles().map(Float.init)),
    ])
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let w = try ModelWeights(path: examples + "weights_mlp.safetensors").tensors.first { $0.key == "fc4.weight" }!.doubles()
    let basePath = Self.temporary("nested.safetensors")
    try SafetensorsWriter.write([.init(key: "model.fc4.weight", shape: [10, 64], values: w.map(Float.init))], to: basePath)
    defer { try? FileManager.default.removeItem(atPath: basePath) }
    let base = try ModelWeights(path: basePath)
    #expect(base.layers.map(\.name) == ["fc4"])
    var options = ESDOptions()
    options.randomize = false
    let rows = try LoRAAdapter(path: folder).esd(options: options, scale: .config, base: base).reports
    #expect(rows.map(\.name) == ["model.fc4", "model.fc4.base", "model.fc4.merged"])
    let expected = (Self.golden["with_base_scaled"] as! [String: Any])["fc4.merged"] as! [String: Any]
    #expect(abs(rows[2].spectrum!.lambdaMax - (expected["lambda_max"] as! Double)) <= 1e-12 * rows[2].spectrum!.lambdaMax)
  }

  @Test("names: base_model.model. and an adapter-name segment (.default) are stripped; nested modules keep their path")
  func names() throws {
    let folder = try Self.writeAdapter("names", config: #"{"r": 2, "lora_alpha": 4, "target_modules": ["query"]}"#, factors: [
      ("base_model.model.encoder.layer.0.attention.self.query.lora_A.default.weight", [2, 12], (0..<24).map { Float($0) / 24 }),
      ("base_model.model.encoder.layer.0.attention.self.query.lora_B.default.weight", [12, 2], (0..<24).map { Float($0 % 5) }),
      ("base_model.model.classifier.modules_to_save.default.weight", [2, 12], [Float](repeating: 1, count: 24)),
    ])
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let adapter = try LoRAAdapter(path: folder)
    #expect(adapter.modules.map(\.name) == ["encoder.layer.0.attention.self.query"])
    #expect(adapter.skipped.map(\.name) == ["base_model.model.classifier.modules_to_save.default.weight"])
    var options = ESDOptions()
    options.minEvals = 2
    let description = try adapter.describe(options: options)
    #expect(description.rows.map(\.longname) == ["base_model.model.encoder.layer.0.attention.self.query"])
    #expect(description.rows[0].value("num_evals") == .int(2))
  }

  @Test("bad adapters: one line naming the file and the module")
  func badInput() throws {
    func message(_ body: () throws -> Void) -> String {
      do { try body() } catch { return "\(error)" }
      return ""
    }
    #expect(message { _ = try LoRAAdapter(path: loraFixtures + "bad-missing-b") }
      == "\(loraFixtures)bad-missing-b/adapter_model.safetensors: module 'fc4' has lora_A but no lora_B")
    #expect(message { _ = try LoRAAdapter(path: loraFixtures + "bad-shapes") }
      == "\(loraFixtures)bad-shapes/adapter_model.safetensors: module 'fc4': lora_B is (10, 7) and lora_A (8, 64): B·A needs B's columns to equal A's rows")
    #expect(message { _ = try LoRAAdapter(path: loraFixtures + "bad-absent-module") }
      == "\(loraFixtures)bad-absent-module/adapter_config.json: target module 'q_proj' has no lora_A / lora_B in adapter_model.safetensors")
    let adapter = try LoRAAdapter(path: loraFixtures + "mlp")
    #expect(message { _ = try adapter.esd(base: ModelWeights(path: examples + "weights_cnn.pt")) }
      == "\(examples)weights_cnn.pt: layer 'fc1' is (64, 256) but B·A of \(loraFixtures)mlp/adapter_model.safetensors is (256, 64)")
    let rank = try Self.writeAdapter("rank", config: #"{"r": 4, "lora_alpha": 8}"#, factors: [
      ("base_model.model.fc.lora_A.weight", [2, 3], [1, 2, 3, 4, 5, 6]),
      ("base_model.model.fc.lora_B.weight", [3, 2], [1, 2, 3, 4, 5, 6]),
    ])
    defer { try? FileManager.default.removeItem(atPath: rank) }
    #expect(message { _ = try LoRAAdapter(path: rank) }
      == "\(rank)/adapter_model.safetensors: module 'fc': lora_A has rank 2 but adapter_config.json says r = 4")
  }

  /// An adapter folder `name` in `scratch`: `adapter_config.json` holding `config`, and
  /// `adapter_model.safetensors` the factors (key, shape, values).
  func adapter(_ name: String, config: String, factors: [(String, [Int], [Float])]) throws -> String {
    let folder = scratch.file(name)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try config.write(toFile: folder + "/adapter_config.json", atomically: false, encoding: .utf8)
    try SafetensorsWriter.write(factors.map { .init(key: $0.0, shape: $0.1, values: $0.2) },
                                to: folder + "/adapter_model.safetensors")
    return folder
  }

  /// A rank-2 module `fc` (A 2 × 3, B 3 × 2) under each adapter name (`nil`: no name segment).
  static func factors(_ names: [String?], prefix: String = "base_model.model.") -> [(String, [Int], [Float])] {
    names.flatMap { name -> [(String, [Int], [Float])] in
      let segment = name.map { ".\($0)" } ?? ""
      return [("\(prefix)fc.lora_A\(segment).weight", [2, 3], [1, 2, 3, 4, 5, 6]),
              ("\(prefix)fc.lora_B\(segment).weight", [3, 2], [1, 0, 0, 1, 1, 1])]
    }
  }

  static func message(_ body: () throws -> Void) -> String {
    do { try body() } catch { return "\(error)" }
    return ""
  }

  @Test("factors of two adapter names for one module are refused, naming the file, the module and both names")
  func twoAdapters() throws {
    let config = #"{"r": 2, "lora_alpha": 4}"#
    let two = try adapter("two", config: config, factors: Self.factors(["other", "default"]))
    #expect(Self.message { _ = try LoRAAdapter(path: two) }
      == "\(two)/adapter_model.safetensors: module 'fc' has LoRA factors of two adapters ('default', 'other'); save one adapter per folder")
    // Only lora_A of a second adapter: still two adapters for the module.
    let half = try adapter("half", config: config, factors: Self.factors(["default"]) + [Self.factors(["b"])[0]])
    #expect(Self.message { _ = try LoRAAdapter(path: half) }
      == "\(half)/adapter_model.safetensors: module 'fc' has LoRA factors of two adapters ('b', 'default'); save one adapter per folder")
    // One factor given twice under two prefixes (no adapter name) is refused too, not overwritten.
    let twice = try adapter("twice", config: config, factors: Self.factors([nil]) + [Self.factors([nil], prefix: "")[0]])
    #expect(Self.message { _ = try LoRAAdapter(path: twice) }
      .hasPrefix("\(twice)/adapter_model.safetensors: module 'fc' has two lora_A tensors, '"))
    // Negative control: one adapter name, with or without the segment, is read.
    let one = try LoRAAdapter(path: try adapter("one", config: config, factors: Self.factors(["default"])))
    #expect(one.modules.map(\.name) == ["fc"] && one.modules.map(\.adapterName) == ["default"])
    let plain = try LoRAAdapter(path: try adapter("plain", config: config, factors: Self.factors([nil])))
    #expect(plain.modules.map(\.name) == ["fc"] && plain.modules.map(\.adapterName) == [nil])
  }

  @Test("an r or rank_pattern value that is not a positive integer, a lora_alpha or alpha_pattern value that is not a finite number: one line naming adapter_config.json",
        arguments: [
          (#""r": 8.5"#, #""r" must be a positive integer, got 8.5"#),
          (#""r": -8"#, #""r" must be a positive integer, got -8"#),
          (#""r": 0"#, #""r" must be a positive integer, got 0"#),
          (#""r": null"#, #""r" must be a positive integer, got null"#),
          (#""r": "2""#, #""r" must be a positive integer, got "2""#),
          (#""r": 2, "lora_alpha": null"#, #""lora_alpha" must be a finite number, got null"#),
          (#""r": 2, "lora_alpha": "4""#, #""lora_alpha" must be a finite number, got "4""#),
          (#""r": 2, "rank_pattern": {"fc": 2.5}"#, #""rank_pattern" entry 'fc' must be a positive integer, got 2.5"#),
          (#""r": 2, "alpha_pattern": {"fc": true}"#, #""alpha_pattern" entry 'fc' must be a finite number, got true"#),
        ])
  func badConfigNumbers(entry: String, problem: String) throws {
    let folder = try adapter("numbers", config: "{\(entry)}", factors: Self.factors([nil]))
    #expect(Self.message { _ = try LoRAAdapter(path: folder) } == "\(folder)/adapter_config.json: \(problem)")
  }

  @Test("r given as an integral float, a negative lora_alpha and patterns of valid numbers are read")
  func goodConfigNumbers() throws {
    let config = #"{"r": 2.0, "lora_alpha": -4, "rank_pattern": {"other": 3}, "alpha_pattern": {"fc": 1.5}}"#
    let folder = try adapter("good", config: config, factors: Self.factors([nil]))
    let module = try #require(try LoRAAdapter(path: folder).modules.first)
    #expect(module.rank == 2 && module.alpha == 1.5 && module.scale == 0.75)
  }

  @Test("a config without r or lora_alpha takes PEFT's defaults (8, 8), and the scaled ESD warns of each")
  func configDefaults() throws {
    let rank8: [(String, [Int], [Float])] = [
      ("base_model.model.fc.lora_A.weight", [8, 3], (0..<24).map { Float($0 % 5) - 2 }),
      ("base_model.model.fc.lora_B.weight", [3, 8], (0..<24).map { Float($0 % 3) }),
    ]
    var options = ESDOptions()
    options.randomize = false
    options.minEvals = 1
    let bare = try adapter("bare", config: "{}", factors: rank8)
    let adapter = try LoRAAdapter(path: bare)
    #expect(adapter.defaultedKeys == ["r", "lora_alpha"])
    #expect(adapter.modules.map(\.scale) == [1])
    #expect(try adapter.esd(options: options, scale: .config).messages == [
      #"warning: \#(bare)/adapter_config.json has no "r": ΔW is scaled with PEFT's default r = 8"#,
      #"warning: \#(bare)/adapter_config.json has no "lora_alpha": ΔW is scaled with PEFT's default lora_alpha = 8"#,
    ])
    // Unscaled, the defaults do not enter ΔW: no warning.
    #expect(try adapter.esd(options: options).messages.isEmpty)
    let noAlpha = try LoRAAdapter(path: try self.adapter("no-alpha", config: #"{"r": 8}"#, factors: rank8))
    #expect(noAlpha.defaultedKeys == ["lora_alpha"])
    // Negative control: the keys, or patterns covering every module, leave nothing to the defaults.
    let patterns = #"{"rank_pattern": {"fc": 8}, "alpha_pattern": {"fc": 16}}"#
    let covered = try LoRAAdapter(path: try self.adapter("covered", config: patterns, factors: rank8))
    #expect(covered.defaultedKeys.isEmpty && covered.modules.map(\.scale) == [2])
    #expect(try covered.esd(options: options, scale: .config).messages.isEmpty)
    // A rank other than the default with no r says so, rather than quoting an r the file lacks.
    let rank2 = try self.adapter("rank2", config: "{}", factors: Self.factors([nil]))
    #expect(Self.message { _ = try LoRAAdapter(path: rank2) }
      == #"\#(rank2)/adapter_model.safetensors: module 'fc': lora_A has rank 2 but adapter_config.json has no "r" (PEFT's default r = 8)"#)
  }

  @Test("a NaN in the base model names the base model's file, as its own ESD does; a NaN in a factor names the adapter")
  func nonFiniteBase() throws {
    let fc4 = try LoRAAdapter(path: loraFixtures + "mlp").modules[3]
    let (a, b) = (try fc4.a.doubles().map(Float.init), try fc4.b.doubles().map(Float.init))
    var w = try ModelWeights(path: examples + "weights_mlp.safetensors").tensors.first { $0.key == "fc4.weight" }!
      .doubles().map(Float.init)
    w[65] = .nan
    let basePath = scratch.file("nan-base.safetensors")
    try SafetensorsWriter.write([.init(key: "fc4.weight", shape: [10, 64], values: w)], to: basePath)
    let config = #"{"r": 8, "lora_alpha": 16}"#
    let folder = try adapter("nan-base", config: config, factors: [
      ("base_model.model.fc4.lora_A.weight", [8, 64], a), ("base_model.model.fc4.lora_B.weight", [10, 8], b),
    ])
    var options = ESDOptions()
    options.randomize = false
    let base = try ModelWeights(path: basePath)
    let alone = Self.message { _ = try base.esd(options: options) }
    #expect(alone == "\(basePath): layer 'fc4': weight has a non-finite value (nan) at [1, 1]")
    for scale in LoRAScale.allCases {
      #expect(Self.message { _ = try LoRAAdapter(path: folder).esd(options: options, scale: scale, base: base) } == alone)
    }
    // Negative control: a NaN in lora_A is the adapter's.
    var badA = a
    badA[3] = .nan
    let nanA = try adapter("nan-a", config: config, factors: [
      ("base_model.model.fc4.lora_A.weight", [8, 64], badA), ("base_model.model.fc4.lora_B.weight", [10, 8], b),
    ])
    #expect(Self.message { _ = try LoRAAdapter(path: nanA).esd(options: options, base: ModelWeights(path: examples + "weights_mlp.safetensors")) }
      == "\(nanA)/adapter_model.safetensors: module 'fc4': A has a non-finite value (nan) at [0, 3]")
  }
}
