@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

@Suite("compare esd")
struct ESDCommandTests {
  /// `Tests/Fixtures/esd/`, relative to the package root when tests run there, else absolute.
  static let fixtures = packageRoot + "Tests/Fixtures/esd/"

  func json(_ text: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
  }

  @Test("--json has the reference's column names, in natural layer order, and a summary")
  func jsonContract() throws {
    let result = runCompare(["esd", Self.fixtures, "--layers", "gaussian,heavy,conv*", "--json"])
    #expect(result.status == 0)
    let doc = try json(result.out)
    let layers = doc["layers"] as! [[String: Any]]
    #expect(layers.map { $0["name"] as! String } == ["conv", "conv_init", "gaussian", "heavy"])
    for key in ["name", "layer_type", "N", "M", "Q", "rf", "num_evals", "lambda_max", "norm", "log_norm",
                "spectral_norm", "log_spectral_norm", "stable_rank", "matrix_rank", "entropy", "alpha",
                "xmin", "xmax", "D", "sigma", "num_pl_spikes", "alpha_weighted", "log_alpha_norm",
                "warning", "rand_distance", "max_rand_eval", "ww_softrank", "ww_maxdist", "bulk_max",
                "num_spikes", "mp_softrank", "num_traps", "rand_num_spikes", "rand_mp_softrank", "status"] {
      #expect(layers[3][key] != nil, "missing \(key)")
    }
    #expect(layers[0]["layer_type"] as! String == "conv2d")
    let summary = doc["summary"] as! [String: Any]
    #expect(Set(summary.keys).isSuperset(of: ["log_norm", "alpha", "alpha_weighted", "log_alpha_norm",
                                              "log_spectral_norm", "stable_rank", "mp_softrank"]))
    #expect(summary["num_layers"] as! Int == 4)
  }

  @Test("the same seed gives the same rand_distance; another seed another")
  func seeded() throws {
    let a = runCompare(["esd", Self.fixtures + "heavy.npy", "--seed", "3", "--json", "--no-mp-fit"])
    let b = runCompare(["esd", Self.fixtures + "heavy.npy", "--seed", "3", "--json", "--no-mp-fit"])
    let c = runCompare(["esd", Self.fixtures + "heavy.npy", "--seed", "4", "--json", "--no-mp-fit"])
    // Equal up to BLAS summation order (tests in parallel share OpenBLAS's thread setting).
    func rand(_ out: String) throws -> Double {
      ((try json(out))["layers"] as! [[String: Any]])[0]["rand_distance"] as! Double
    }
    #expect(abs(try rand(a.out) - rand(b.out)) < 1e-12)
    #expect(abs(try rand(a.out) - rand(c.out)) > 1e-6)
  }

  @Test("NaN weights are a data error naming the file, layer and position")
  func nanWeights() {
    let result = runCompare(["esd", Self.fixtures + "bad_nan.npy"])
    #expect(result.status == 1)
    #expect(result.out.isEmpty)
    #expect(result.err == "Error: \(Self.fixtures)bad_nan.npy: layer 'bad_nan': weight has a non-finite value (nan) at [3, 4]\n")
  }

  @Test("an all-zero matrix is a failed row with a warning, and is not averaged")
  func zeroWeights() throws {
    let result = runCompare(["esd", Self.fixtures + "bad_zeros.npy", "--json"])
    #expect(result.status == 0)
    #expect(result.err == "warning: layer 'bad_zeros': all eigenvalues are zero: entropy, alpha and the MP fit are undefined\n")
    let doc = try json(result.out)
    let row = (doc["layers"] as! [[String: Any]])[0]
    #expect(row["status"] as! String == "failed")
    #expect(row["entropy"] is NSNull && row["alpha"] is NSNull)
    let summary = doc["summary"] as! [String: Any]
    #expect(summary["num_failed"] as! Int == 1 && summary["alpha"] is NSNull)
    // Stable keys: the failed row has every column a successful row has (null where undefined),
    // and the summary every metric.
    let good = try json(runCompare(["esd", Self.fixtures + "gaussian.npy", "--json"]).out)
    let goodRow = (good["layers"] as! [[String: Any]])[0]
    #expect(Set(row.keys) == Set(goodRow.keys))
    #expect(row["rand_distance"] is NSNull && row["mp_softrank"] is NSNull && row["num_spikes"] is NSNull)
    #expect(Set(summary.keys) == Set((good["summary"] as! [String: Any]).keys))
  }

  @Test("an init whose layer shape differs is a data error")
  func initShapes() {
    let result = runCompare(["esd", Self.fixtures + "gaussian.npy", "--init", Self.fixtures + "bad_init_shape.npy"])
    #expect(result.status == 1)
    #expect(result.err == "Error: layer 'gaussian': shape (60, 40) in \(Self.fixtures)gaussian.npy but (40, 60) in \(Self.fixtures)bad_init_shape.npy\n")
  }

  @Test("a file without 2-D weights is a data error")
  func noMatrices() throws {
    let result = runCompare(["esd", Self.fixtures + "bad_vector.npy"])
    #expect(result.status == 1)
    #expect(result.err == "Error: \(Self.fixtures)bad_vector.npy: no 2-D, 3-D or 4-D weights to analyse (1 tensor, none a matrix, conv kernel or expert stack)\n")
    // An integer matrix is not a vector: the message says what it is.
    let scratch = TemporaryFolder("esd-integer")
    try NPYWriter.write((0..<(64 * 32)).map { Int32($0 % 100) }, shape: [64, 32], to: scratch.file("int.npy"))
    let integer = runCompare(["esd", scratch.file("int.npy")])
    #expect(integer.status == 1)
    #expect(integer.err == "Error: \(scratch.file("int.npy")): no 2-D, 3-D or 4-D weights to analyse (1 tensor, 'int': int32 tensor, not weights)\n")
  }

  @Test("--delta without --init and a bad --rand-repeats are usage errors")
  func usage() {
    let delta = runCompare(["esd", Self.fixtures + "gaussian.npy", "--delta"])
    #expect(delta.status == 64)
    #expect(delta.err.hasPrefix("Error: --delta needs --init <model0>\nUsage: compare esd "))
    let repeats = runCompare(["esd", Self.fixtures + "gaussian.npy", "--rand-repeats", "0"])
    #expect(repeats.status == 64)
    #expect(repeats.err.hasPrefix("Error: --rand-repeats expects an integer in 1...10000, got '0'\n"))
  }

  @Test("w.npy and w_init.npy pair whatever their names; a model is at distance 0 from itself")
  func initPairing() throws {
    let other = try json(runCompare(["esd", Self.fixtures + "gaussian.npy", "--init", Self.fixtures + "gaussian_init.npy", "--json", "--no-randomize"]).out)
    let row = (other["layers"] as! [[String: Any]])[0]
    let golden = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: Self.fixtures + "golden.json")!) as! [String: Any]
    let expected = ((golden["distances"] as! [String: Any])["gaussian"] as! [String: Any])["distance_from_init"] as! Double
    #expect(abs(row["distance_from_init"] as! Double - expected) < 1e-9 * expected)
    let same = try json(runCompare(["esd", Self.fixtures + "gaussian.npy", "--init", Self.fixtures + "gaussian.npy", "--json", "--no-randomize"]).out)
    #expect((same["layers"] as! [[String: Any]])[0]["distance_from_init"] as! Double == 0)
  }

  @Test("help shows every option with its default")
  func help() {
    let result = runCompare(["esd", "--help"])
    #expect(result.status == 0)
    #expect(result.out.contains("USAGE: compare esd [--layers <glob> ...] [--exclude <glob> ...] [--describe] [--3d <rule>] [--min-evals <n>] [--seed <n>] [--rand-repeats <r>] [--tolerance <t>] [--rand-method <method>] [--init <model0>] [--delta] [--normalize] [--no-pool] [--no-conv-norm] [--no-randomize] [--no-mp-fit] [--fit <kind>] [--fix-fingers <how>] [--xmin-max <x>] [--detx] [--precision <p>] [--method <m>] [--csv] [--plot <dir>] [--shard <I/N>] [-o <file>] [--plan] [--save-esd <file>] [--alpha-ci <r>] [--confidence <level>] [--pl-test <r>] [--lora-scale] [--base <model>] [--json] <model> [<more> ...]"))
    #expect(result.out.contains("(values: auto, experts, conv; default: auto)"))
    #expect(result.out.contains("--tolerance <t>         weak_rank_loss counts eigenvalues below this. (default: 1e-06)"))
    #expect(result.out.contains("--min-evals <n>         Skip (and list) layers with fewer eigenvalues. (default: 8)"))
    #expect(result.out.contains("(values: PL, TPL,\n                          E_TPL; default: PL)"))
    #expect(result.out.contains("raw_alpha). (values: xmin_peak, clip_xmax)"))
  }
}

@Suite("compare esd --plot")
struct ESDPlotTests {
  @Test("writes a log-log ESD and a shuffled-ESD figure per layer and the alpha overview")
  func plots() throws {
    let dir = NSTemporaryDirectory() + "esd-plot-test-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let result = runCompare(["esd", ESDCommandTests.fixtures + "heavy.npy", "--plot", dir])
    #expect(result.status == 0)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    #expect(files == ["esd_alpha_by_layer.png", "esd_alpha_by_layer.svg", "esd_heavy.png", "esd_heavy_rand.png"])
    let png = FileManager.default.contents(atPath: dir + "/esd_heavy.png")!
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
  }

  @Test("layers whose file-safe names collide (sub/x, sub_x, x_rand beside x, alpha_by_layer) each get their own figure")
  func collidingNames() throws {
    let scratch = TemporaryFolder("esd-plot-names")
    let w = (0..<(40 * 24)).map { Float(sin(Double($0) * 0.37) + 0.2 * cos(Double($0) * 1.3)) }
    let model = scratch.file("names.safetensors")
    try SafetensorsWriter.write(["sub/x", "sub_x", "x", "x_rand", "alpha_by_layer"].map {
      .init(key: $0, shape: [40, 24], values: w)
    }, to: model)
    let dir = scratch.file("plots")
    let result = runCompare(["esd", model, "--plot", dir])
    #expect(result.status == 0, "\(result.err)")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    #expect(files == [
      "esd_alpha_by_layer-2.png", "esd_alpha_by_layer-2_rand.png", "esd_alpha_by_layer.png", "esd_alpha_by_layer.svg",
      "esd_sub_x-2.png", "esd_sub_x-2_rand.png", "esd_sub_x.png", "esd_sub_x_rand.png",
      "esd_x.png", "esd_x_rand-2.png", "esd_x_rand-2_rand.png", "esd_x_rand.png",
    ])
  }
}

@Suite("compare esd: outputs and init models that name the right thing")
struct ESDNamingTests {
  let scratch = TemporaryFolder("esd-naming")
  let w = (0..<(40 * 24)).map { Float(sin(Double($0) * 0.37) + 0.2 * cos(Double($0) * 1.3)) }

  @Test("a NaN in the --init model is reported against the init file, not the model")
  func initNaN() throws {
    let model = scratch.file("model.safetensors"), initial = scratch.file("init.safetensors")
    try SafetensorsWriter.write([.init(key: "w", shape: [40, 24], values: w)], to: model)
    var bad = w
    bad[1 * 24 + 1] = .nan
    try SafetensorsWriter.write([.init(key: "w", shape: [40, 24], values: bad)], to: initial)
    let result = runCompare(["esd", model, "--init", initial])
    #expect(result.status == 1)
    #expect(result.err == "Error: \(initial): layer 'w': init weight has a non-finite value (nan) at [1, 1]\n")
    // Control: the NaN in the model names the model.
    let swapped = runCompare(["esd", initial, "--init", model])
    #expect(swapped.err == "Error: \(initial): layer 'w': weight has a non-finite value (nan) at [1, 1]\n")
  }

  @Test("--save-esd refuses a layer named NAME/rand beside NAME's shuffled ESD (one key for two rows), and writes nothing")
  func savedKeysCollide() throws {
    let model = scratch.file("model.safetensors")
    try SafetensorsWriter.write([.init(key: "fc1", shape: [40, 24], values: w),
                                 .init(key: "fc1/rand", shape: [40, 24], values: w.reversed())], to: model)
    for ext in ["safetensors", "npz"] {
      let out = scratch.file("spectra.\(ext)")
      let result = runCompare(["esd", model, "--save-esd", out])
      #expect(result.status == 1)
      #expect(result.err == "Error: \(out): two rows' eigenvalues would be saved as 'fc1/rand' (a layer of that name and the shuffled ESD of 'fc1'); rename the layer, or save with --no-randomize\n")
      #expect(!FileManager.default.fileExists(atPath: out))
      // Control: without the shuffled ESD the keys are distinct.
      #expect(runCompare(["esd", model, "--save-esd", out, "--no-randomize"]).status == 0)
    }
  }
}

@Suite("compare esd: option combinations")
struct ESDOptionCombinationTests {
  let model = packageRoot + "Examples/data/weights_mlp.safetensors"
  let scratch = TemporaryFolder("esd-options")

  @Test("options that only shape an analysis are usage errors with --describe or --plan, and the shuffle's with --no-randomize",
        arguments: [
          (["--describe", "--plan"], "--describe and --plan cannot be combined"),
          (["--describe", "--shard", "1/2"], "--describe computes no eigenvalues: it cannot be combined with --shard"),
          (["--describe", "--alpha-ci", "5"], "--describe computes no eigenvalues: it cannot be combined with --alpha-ci"),
          (["--describe", "--no-randomize"], "--describe computes no eigenvalues: it cannot be combined with --no-randomize"),
          (["--plan", "--save-esd", "x.npz"], "--plan analyses nothing: it cannot be combined with --save-esd"),
          (["--plan", "--csv"], "--plan analyses nothing: it cannot be combined with --csv"),
          (["--no-randomize", "--rand-repeats", "5"], "--rand-repeats sets the shuffled ESD, which --no-randomize turns off"),
          (["--no-randomize", "--rand-method", "gaussian"], "--rand-method sets the shuffled ESD, which --no-randomize turns off"),
        ])
  func meaningless(words: [String], message: String) {
    let result = runCompare(["esd", model] + words)
    #expect(result.status == 64)
    #expect(result.err.hasPrefix("Error: \(message)\n"))
  }

  @Test("-o writes the JSON document of --describe and --plan too")
  func outputOfDescribeAndPlan() throws {
    for mode in ["--describe", "--plan"] {
      let path = scratch.file("out\(mode).json")
      let result = runCompare(["esd", model, mode, "--json", "-o", path])
      #expect(result.status == 0)
      #expect(try String(contentsOfFile: path, encoding: .utf8) == result.out)
    }
    // Control: --describe's JSON is not the plan's.
    #expect(try String(contentsOfFile: scratch.file("out--describe.json"), encoding: .utf8)
            != String(contentsOfFile: scratch.file("out--plan.json"), encoding: .utf8))
  }

  @Test("several models with --csv: one table, a model column first; --plan with several models is refused")
  func severalModelsCSV() {
    let initial = packageRoot + "Examples/data/weights_mlp_init.safetensors"
    let result = runCompare(["esd", model, initial, "--csv"])
    #expect(result.status == 0)
    let lines = result.out.split(separator: "\n")
    #expect(lines[0].hasPrefix("model,layer_id,name,"))
    #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(model + ",") || $0.hasPrefix(initial + ",") })
    #expect(lines.filter { $0.hasPrefix(initial + ",") }.count == lines.filter { $0.hasPrefix(model + ",") }.count)
    // Control: the text form is not CSV.
    #expect(!runCompare(["esd", model, initial]).out.hasPrefix("model,"))
    #expect(runCompare(["esd", model, initial, "--plan"]).status == 64)
  }

  @Test("an output on the model or init file, or -o and --save-esd on one file, are usage errors and change nothing")
  func outputsOnInputs() throws {
    let copy = scratch.file("model.safetensors")
    try FileManager.default.copyItem(atPath: model, toPath: copy)
    let before = try Data(contentsOf: URL(fileURLWithPath: copy))
    let onModel = runCompare(["esd", copy, "-o", copy])
    #expect(onModel.status == 64)
    #expect(onModel.err.hasPrefix("Error: -o \(copy) is also an input (model); choose another output path\n"))
    let onInit = runCompare(["esd", model, "--init", copy, "--save-esd", scratch.path + "/./model.safetensors"])
    #expect(onInit.status == 64)
    #expect(onInit.err.hasPrefix("Error: --save-esd \(scratch.path)/./model.safetensors is also an input (--init)"))
    let same = runCompare(["esd", model, "-o", scratch.file("x.npz"), "--save-esd", scratch.file("x.npz")])
    #expect(same.status == 64)
    #expect(same.err.hasPrefix("Error: -o and --save-esd both write \(scratch.file("x.npz"))\n"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
    #expect(try scratch.listing() == ["model.safetensors"])
  }

  @Test("an output in a folder model (existing, or named like a model file), or in or on the --plot folder, is a usage error")
  func outputsInFolders() throws {
    let folder = scratch.file("hf")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: model, toPath: folder + "/model.safetensors")
    let onModel = runCompare(["esd", folder, "-o", folder + "/model.safetensors"])
    #expect(onModel.status == 64)
    #expect(onModel.err.hasPrefix("Error: -o \(folder)/model.safetensors is in the input folder \(folder) (model) and would be read as part of it; choose another output path\n"))
    let newTensor = runCompare(["esd", folder, "--save-esd", folder + "/spectra.safetensors"])
    #expect(newTensor.status == 64)
    let plotOnOutput = runCompare(["esd", model, "-o", scratch.file("p.json"), "--plot", scratch.file("p.json")])
    #expect(plotOnOutput.status == 64)
    #expect(plotOnOutput.err.hasPrefix("Error: -o and --plot both write \(scratch.file("p.json"))\n"))
    let inPlot = runCompare(["esd", model, "-o", scratch.file("plots/esd_fc1.png"), "--plot", scratch.file("plots")])
    #expect(inPlot.status == 64)
    #expect(inPlot.err.hasPrefix("Error: -o \(scratch.file("plots/esd_fc1.png")) is in the folder --plot writes (\(scratch.file("plots"))); choose another output path\n"))
    #expect(try scratch.listing() == ["hf"])
    // Control: a report beside the model files, named like none of them, is written.
    #expect(runCompare(["esd", folder, "-o", folder + "/esd.json"]).status == 0)
  }
}
