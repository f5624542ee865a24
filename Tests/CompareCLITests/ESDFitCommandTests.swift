@testable import CompareCLI
import Foundation
import Testing

/// `compare esd --fit`, `--fix-fingers`, `--xmin-max`, `--detx`: weightwatcher 0.7.7's
/// analyze(fit=, fix_fingers=, xmin_max=, detX=) options.
@Suite("compare esd tail-fit options")
struct ESDFitCommandTests {
  static let fixtures = ESDCommandTests.fixtures
  static let examples = ESDModelInputTests.examples

  func rows(_ words: [String]) throws -> [[String: Any]] {
    let result = runCompare(["esd"] + words + ["--json", "--no-randomize", "--no-mp-fit"])
    #expect(result.status == 0, "\(result.err)")
    let doc = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    return doc["layers"] as! [[String: Any]]
  }

  @Test("each option adds its columns to the table and to --json, and nothing else does",
        arguments: [
          (["--fit", "TPL"], ["Lambda"]), (["--fit", "E_TPL"], ["Lambda"]),
          (["--fix-fingers", "clip_xmax"], ["num_fingers", "raw_alpha"]),
          (["--fit", "TPL", "--fix-fingers", "clip_xmax"], ["Lambda", "num_fingers", "raw_alpha"]),
          (["--fix-fingers", "xmin_peak"], [String]()), (["--detx"], ["detX_num", "detX_val"]),
        ])
  func columns(option: [String], added: [String]) throws {
    let path = Self.fixtures + "heavy.npy"
    let table = runCompare(["esd", path, "--no-randomize"] + option)
    #expect(table.status == 0)
    let header = table.out.split(separator: "\n")[0].split(separator: " ").map(String.init)
    for column in added { #expect(header.contains(column), "\(option): \(column) not in \(header)") }
    let row = try rows([path] + option)[0]
    let all = ["Lambda", "num_fingers", "raw_alpha", "detX_num", "detX_val", "detX_val_unrescaled",
               "num_ERG_spikes", "ERG_gap"]
    let detX = ["detX_val_unrescaled", "num_ERG_spikes", "ERG_gap"]
    for column in all {
      let expected = added.contains(column) || (detX.contains(column) && added.contains("detX_num"))
      #expect((row[column] != nil) == expected, "\(option): \(column)")
    }
    #expect(row["status"] as! String == "success")
    let plain = try rows([path])[0]
    for column in all { #expect(plain[column] == nil) }
  }

  @Test("bad option values are one-line usage errors with exit 64",
        arguments: [
          (["--fit", "XYZ"], "Error: 'XYZ' is not a valid value for '--fit' (values: PL, TPL, E_TPL)"),
          (["--fix-fingers", "peak"], "Error: 'peak' is not a valid value for '--fix-fingers' (values: xmin_peak, clip_xmax)"),
          (["--fit", "E_TPL", "--fix-fingers", "clip_xmax"], "Error: fit E_TPL cannot be combined with fix_fingers clip_xmax (clip_xmax fits a power law)"),
          (["--xmin-max", "3"], "Error: --xmin-max applies to --fix-fingers xmin_peak or --fit E_TPL"),
          (["--fit", "E_TPL", "--xmin-max", "-1"], "Error: --xmin-max expects a number in 5e-324...1.7976931348623157e+308, got '-1'"),
        ])
  func badInput(words: [String], message: String) {
    let result = runCompare(["esd", Self.fixtures + "heavy.npy"] + words)
    #expect(result.status == 64)
    #expect(result.out.isEmpty)
    #expect(result.err.split(separator: "\n").first.map(String.init) == message)
  }

  @Test("a fit that cannot be made is a failed row with null columns and a warning, not a crash")
  func failedFit() throws {
    let result = runCompare(["esd", Self.fixtures + "small.npy", "--fit", "E_TPL", "--json", "--no-randomize"])
    #expect(result.status == 0)
    #expect(result.err.contains("warning: layer 'small': truncated power-law fit: fewer than 2 distinct eigenvalues above 1e-5 in the xmin range"))
    let row = ((try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any])["layers"] as! [[String: Any]])[0]
    #expect(row["status"] as! String == "failed")
    #expect(row["alpha"] is NSNull && row["Lambda"] is NSNull && row["alpha_weighted"] is NSNull)
  }

  @Test("--plot draws the truncated fit: the figures are written")
  func plotTruncated() throws {
    let dir = NSTemporaryDirectory() + "esd-tpl-plot-test-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let result = runCompare(["esd", Self.fixtures + "heavy.npy", "--fit", "TPL", "--plot", dir, "--no-randomize"])
    #expect(result.status == 0, "\(result.err)")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    #expect(files.contains("esd_heavy.png") && files.contains("esd_alpha_by_layer.svg"))
  }

  /// The reference's rows of one example model and run.
  static func reference(_ file: String, _ run: String) -> [String: [String: Any]] {
    let data = FileManager.default.contents(atPath: fixtures + "ww_fits_reference.json")!
    let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    let model = (json["examples"] as! [String: Any])[file] as! [String: Any]
    return (model[run] as! [String: Any])["layers"] as! [String: [String: Any]]
  }

  static let runs: [(String, [String])] = [
    ("TPL", ["--fit", "TPL"]), ("E_TPL", ["--fit", "E_TPL"]), ("xmin_peak", ["--fix-fingers", "xmin_peak"]),
    ("clip_xmax", ["--fix-fingers", "clip_xmax"]), ("detX", ["--detx"]),
    ("TPL_clip_xmax", ["--fit", "TPL", "--fix-fingers", "clip_xmax"]),
    ("xmin_peak_xmin_max_3", ["--fix-fingers", "xmin_peak", "--xmin-max", "3"]),
  ]

  @Test("the bundled models match weightwatcher 0.7.7 itself (every layer with the same ESD)",
        arguments: ["weights_mlp.safetensors", "weights_cnn.pt"])
  func examples(file: String) throws {
    for (run, words) in Self.runs {
      let reference = Self.reference(file, run)
      for row in try rows([Self.examples + file] + words) {
        let name = row["name"] as! String
        // conv1 (16×1×3×3): the reference slices such a tiny conv along the other axes, so its
        // nine eigenvalues are not these (README, "Conv weights").
        guard name != "conv1", let expected = reference[name] else { continue }
        #expect(expected["num_evals"] as? Int == row["num_evals"] as? Int)
        guard expected["status"] as? String == "success" else {
          #expect(row["status"] as! String == "failed", "\(file) \(run) \(name)")
          continue
        }
        for column in ["alpha", "Lambda", "xmin", "D", "sigma", "raw_alpha", "detX_val", "detX_val_unrescaled",
                       "alpha_weighted", "log_alpha_norm"] {
          guard let value = expected[column] as? Double else { continue }
          let mine = row[column] as? Double ?? .nan
          #expect(abs(mine - value) <= 1e-9 * abs(value), "\(file) \(run) \(name).\(column): \(mine) vs \(value)")
        }
        for column in ["num_pl_spikes", "num_fingers", "detX_num", "num_ERG_spikes", "ERG_gap"] {
          guard let value = expected[column] as? Int else { continue }
          #expect(row[column] as? Int == value, "\(file) \(run) \(name).\(column)")
        }
      }
    }
  }
}
