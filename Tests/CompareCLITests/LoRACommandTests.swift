@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

@Suite("compare esd on a LoRA adapter: --lora-scale, --base, bad adapters")
struct LoRACommandTests {
  static let lora = ESDCommandTests.fixtures + "lora/"
  static let mlp = packageRoot + "Examples/data/weights_mlp.safetensors"
  let scratch = TemporaryFolder("lora-command")

  func rows(_ words: [String]) throws -> [[String: Any]] {
    let result = runCompare(["esd"] + words + ["--json"])
    #expect(result.status == 0, "\(result.err)")
    let doc = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    return doc["layers"] as! [[String: Any]]
  }

  @Test("the adapter's table: one lora row per module, weightwatcher's peft=True values")
  func table() {
    let result = runCompare(["esd", Self.lora + "mlp"])
    #expect(result.status == 0)
    #expect(result.err.isEmpty)
    #expect(result.out == """
      name    N    M  alpha  alpha_weighted  entropy  rand_distance  stable_rank  log_spectral_norm  mp_softrank  num_spikes  warning
      fc1   256   64  1.913          -0.714    0.932          0.187        3.840             -0.373        1.046           0  over-trained
      fc2   256  128  2.762          -2.157    0.979          0.108        5.405             -0.781        1.066           0
      fc3   128   64  2.301          -2.142    0.948          0.138        5.653             -0.931        1.046           0
      fc4    64   10  1.542          -2.227    0.795          0.245        2.500             -1.444        0.263           3  over-trained

      Summary over 4 layers: log_norm -0.265, alpha 2.129, alpha_weighted -1.810, log_alpha_norm -1.398, log_spectral_norm -0.882, stable_rank 4.350, mp_softrank 0.855
      Conventions: ESD of WᵀW (eigenvalues = squared singular values); rand_distance against W shuffled, seed 0; LoRA rows: ΔW = B·A without lora_alpha/r (weightwatcher's peft=True), its top min(r, M) eigenvalues; layers in natural order of their names.

      """)
  }

  @Test("JSON rows: layer_type lora, num_evals r, the scale in the conventions; .bin the same")
  func json() throws {
    let result = runCompare(["esd", Self.lora + "mlp", "--json"])
    let doc = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    let layers = doc["layers"] as! [[String: Any]]
    #expect(layers.map { $0["name"] as! String } == ["fc1", "fc2", "fc3", "fc4"])
    #expect(layers.allSatisfy { $0["layer_type"] as? String == "lora" })
    #expect(layers.map { $0["num_evals"] as! Int } == [8, 8, 12, 8])
    #expect(layers.map { $0["longname"] as! String } == ["base_model.model.fc1", "base_model.model.fc2", "base_model.model.fc3", "base_model.model.fc4"])
    #expect((doc["conventions"] as! [String: Any])["lora_scale"] as? String == "none")
    // The same numbers from the .bin (to rounding: BLAS threads vary while tests run in parallel).
    let bin = try JSONSerialization.jsonObject(with: Data(runCompare(["esd", Self.lora + "mlp-bin", "--json"]).out.utf8)) as! [String: Any]
    for (a, b) in zip(layers, bin["layers"] as! [[String: Any]]) {
      #expect(Set(a.keys) == Set(b.keys))
      for (key, x) in a {
        if let x = x as? Double, let y = b[key] as? Double {
          #expect(abs(x - y) <= 1e-12 * max(abs(x), 1e-3), "\(key)")
        } else {
          #expect("\(x)" == "\(b[key]!)", "\(key)")
        }
      }
    }
  }

  @Test("--lora-scale multiplies every eigenvalue by (lora_alpha/r)²: 4, 16, (16/12)², 4")
  func loraScale() throws {
    let plain = try rows([Self.lora + "mlp", "--no-randomize"])
    let scaled = try rows([Self.lora + "mlp", "--no-randomize", "--lora-scale"])
    for (p, (s, factor)) in zip(plain, zip(scaled, [2.0, 4, 16.0 / 12, 2])) {
      let ratio = (s["lambda_max"] as! Double) / (p["lambda_max"] as! Double)
      #expect(abs(ratio - factor * factor) <= 1e-12 * factor * factor)
      #expect(abs((s["alpha"] as! Double) - (p["alpha"] as! Double)) <= 1e-9)
    }
  }

  @Test("--base adds NAME.base and NAME.merged after each module; a note without --lora-scale")
  func base() throws {
    let result = runCompare(["esd", Self.lora + "mlp", "--base", Self.mlp, "--layers", "fc4", "--no-randomize"])
    #expect(result.status == 0)
    #expect(result.err == "note: without --lora-scale, NAME.merged is W + B·A, not the fine-tuned weight W + (lora_alpha/r)·B·A\n")
    let names = try rows([Self.lora + "mlp", "--base", Self.mlp, "--lora-scale", "--no-randomize"]).map { ($0["name"] as! String, $0["layer_type"] as! String) }
    #expect(names.prefix(3).map(\.0) == ["fc1", "fc1.base", "fc1.merged"])
    #expect(names.prefix(3).map(\.1) == ["lora", "dense", "lora_merged"])
    #expect(names.count == 12)
    let scaled = runCompare(["esd", Self.lora + "mlp", "--base", Self.mlp, "--lora-scale", "--layers", "fc4", "--no-randomize"])
    #expect(scaled.err.isEmpty)
    #expect(scaled.out.contains("NAME.merged = W + ΔW, the fine-tuned weight"))
    let described = runCompare(["esd", Self.lora + "mlp", "--base", Self.mlp, "--describe", "--csv"])
    #expect(described.out.hasPrefix("layer_id,name,longname,layer_type,N,M,Q,rf,num_evals\n1,fc1,base_model.model.fc1,lora,256,64,4.0,1,8\n1,fc1.base,fc1.weight,dense,256,64,4.0,1,64\n1,fc1.merged,fc1.weight,lora_merged,256,64,4.0,1,64\n"))
  }

  @Test("bad adapters and a base without the module: one line naming the file and the module, exit 1")
  func badInput() {
    let cases: [([String], String)] = [
      (["bad-missing-b"], "bad-missing-b/adapter_model.safetensors: module 'fc4' has lora_A but no lora_B"),
      (["bad-shapes"], "bad-shapes/adapter_model.safetensors: module 'fc4': lora_B is (10, 7) and lora_A (8, 64): B·A needs B's columns to equal A's rows"),
      (["bad-absent-module"], "bad-absent-module/adapter_config.json: target module 'q_proj' has no lora_A / lora_B in adapter_model.safetensors"),
    ]
    for (words, message) in cases {
      let result = runCompare(["esd", Self.lora + words[0]])
      #expect(result.status == 1)
      #expect(result.err == "Error: \(Self.lora)\(message)\n")
    }
    let gaussian = ESDCommandTests.fixtures + "gaussian.npy"
    let missing = runCompare(["esd", Self.lora + "mlp", "--base", gaussian])
    #expect(missing.status == 1)
    #expect(missing.err == "Error: \(gaussian): has no layer 'fc1' adapted by \(Self.lora)mlp/adapter_model.safetensors\n")
  }

  @Test("--lora-scale and --base need an adapter; --init and --plan do not apply to one; help lists them")
  func usage() {
    let scale = runCompare(["esd", Self.mlp, "--lora-scale"])
    #expect(scale.status == 64)
    #expect(scale.err.hasPrefix("Error: --lora-scale needs a LoRA adapter folder (with adapter_config.json), got '\(Self.mlp)'\nUsage: compare esd "))
    #expect(runCompare(["esd", Self.mlp, "--base", Self.mlp]).status == 64)
    for option in [["--init", Self.mlp], ["--plan"]] {
      let result = runCompare(["esd", Self.lora + "mlp"] + option)
      #expect(result.status == 64)
      #expect(result.err.hasPrefix("Error: \(option[0]) does not apply to a LoRA adapter\n"))
    }
    let help = runCompare(["esd", "--help"]).out
    #expect(help.contains("  --lora-scale            For a LoRA adapter: ΔW = (lora_alpha/r)·B·A from adapter_config.json\n                          (default: B·A, as weightwatcher).\n"))
    #expect(help.contains("  --base <model>          For a LoRA adapter: the base model; adds W (NAME.base) and W + ΔW\n"))
  }

  /// A copy of the `mlp` fixture adapter as `name`, its adapter_config.json passed through `edit`.
  func fixtureCopy(_ name: String, config edit: (String) -> String) throws -> String {
    let folder = scratch.file(name)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let config = try String(contentsOfFile: Self.lora + "mlp/adapter_config.json", encoding: .utf8)
    try edit(config).write(toFile: folder + "/adapter_config.json", atomically: false, encoding: .utf8)
    try FileManager.default.copyItem(atPath: Self.lora + "mlp/adapter_model.safetensors", toPath: folder + "/adapter_model.safetensors")
    return folder
  }

  @Test("factors of two adapter names for one module: exit 1, one line naming the file, the module and both names")
  func twoAdapters() throws {
    let folder = scratch.file("two-adapters")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try #"{"r": 2, "lora_alpha": 4, "target_modules": ["fc1"]}"#.write(toFile: folder + "/adapter_config.json", atomically: false, encoding: .utf8)
    let entries = ["default", "other"].flatMap { name in [
      SafetensorsWriter.Entry(key: "base_model.model.fc1.lora_A.\(name).weight", shape: [2, 4], values: (0..<8).map { Float($0) }),
      SafetensorsWriter.Entry(key: "base_model.model.fc1.lora_B.\(name).weight", shape: [4, 2], values: (0..<8).map { Float($0 % 3) }),
    ] }
    try SafetensorsWriter.write(entries, to: folder + "/adapter_model.safetensors")
    let run = runCompare(["esd", folder])
    #expect(run.status == 1 && run.out.isEmpty)
    #expect(run.err == "Error: \(folder)/adapter_model.safetensors: module 'fc1' has LoRA factors of two adapters ('default', 'other'); save one adapter per folder\n")
    // Negative control: the same file with only one adapter is analysed.
    try SafetensorsWriter.write(Array(entries.prefix(2)), to: folder + "/adapter_model.safetensors")
    #expect(runCompare(["esd", folder, "--min-evals", "1", "--no-randomize"]).status == 0)
  }

  @Test("an r that is not a positive integer or a lora_alpha that is not a number: exit 1, one line naming adapter_config.json",
        arguments: [(#""r": 8.5,"#, #""r" must be a positive integer, got 8.5"#),
                    (#""r": -8,"#, #""r" must be a positive integer, got -8"#),
                    (#""r": null,"#, #""r" must be a positive integer, got null"#)])
  func badRank(replacement: String, problem: String) throws {
    let folder = try fixtureCopy("bad-r", config: { $0.replacingOccurrences(of: #""r": 8,"#, with: replacement) })
    let run = runCompare(["esd", folder, "--lora-scale"])
    #expect(run.status == 1 && run.out.isEmpty)
    #expect(run.err == "Error: \(folder)/adapter_config.json: \(problem)\n")
    let alpha = try fixtureCopy("bad-alpha", config: { $0.replacingOccurrences(of: #""lora_alpha": 16,"#, with: #""lora_alpha": "16","#) })
    #expect(runCompare(["esd", alpha]).err == "Error: \(alpha)/adapter_config.json: \"lora_alpha\" must be a finite number, got \"16\"\n")
  }

  @Test("--lora-scale with no lora_alpha in adapter_config.json: one warning naming PEFT's default; none unscaled")
  func defaultAlpha() throws {
    let folder = try fixtureCopy("no-alpha", config: { $0.replacingOccurrences(of: #""lora_alpha": 16,"#, with: "") })
    let scaled = runCompare(["esd", folder, "--lora-scale", "--layers", "fc4", "--no-randomize"])
    #expect(scaled.status == 0)
    #expect(scaled.err == "warning: \(folder)/adapter_config.json has no \"lora_alpha\": ΔW is scaled with PEFT's default lora_alpha = 8\n")
    let plain = runCompare(["esd", folder, "--layers", "fc4", "--no-randomize"])
    #expect(plain.status == 0 && plain.err.isEmpty)
    // lora_alpha 8 over r 8: the scaled rows are the unscaled ones.
    #expect(plain.out.split(separator: "\n").first { $0.hasPrefix("fc4 ") } == scaled.out.split(separator: "\n").first { $0.hasPrefix("fc4 ") })
    // Negative control: the fixture's own config, no warning.
    #expect(runCompare(["esd", Self.lora + "mlp", "--lora-scale", "--layers", "fc4", "--no-randomize"]).err.isEmpty)
  }

  @Test("a NaN in the --base model: exit 1, the line compare esd prints for the base model alone")
  func nonFiniteBase() throws {
    let source = try TensorFile.open(Self.mlp)
    var entries: [SafetensorsWriter.Entry] = []
    for tensor in source.tensors {
      var values = try tensor.floats()
      if tensor.key == "fc1.weight" { values[0] = .nan }
      entries.append(SafetensorsWriter.Entry(key: tensor.key, shape: tensor.shape, values: values))
    }
    let base = scratch.file("nan-base.safetensors")
    try SafetensorsWriter.write(entries, to: base)
    let alone = runCompare(["esd", base])
    #expect(alone.status == 1)
    #expect(alone.err == "Error: \(base): layer 'fc1': weight has a non-finite value (nan) at [0, 0]\n")
    for scale in [[], ["--lora-scale"]] {
      let run = runCompare(["esd", Self.lora + "mlp", "--base", base] + scale)
      #expect(run.status == 1 && run.out.isEmpty)
      #expect(run.err == alone.err)
    }
  }
}
