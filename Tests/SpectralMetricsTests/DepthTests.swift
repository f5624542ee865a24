import CompareCore
import Foundation
import Synchronization
import SpectralMetrics
import Testing
import TensorIO

/// `golden_depth.json` and the 3-D fixtures of `Tests/Fixtures/esd/depth` (made by
/// `make_depth_fixtures.py`).
enum DepthFixtures {
  nonisolated(unsafe) static let golden: [String: Any] = {
    let data = FileManager.default.contents(atPath: ESDFixtures.folder + "golden_depth.json")!
    return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
  }()

  static func row(_ name: String) -> [String: Any] {
    (golden["rows"] as! [String: Any])[name] as! [String: Any]
  }

  /// A fixture of `depth/` as a layer of `kind`, its first axis readable alone.
  static func layer(_ name: String, kind: WeightLayer.Kind) throws -> WeightLayer {
    let tensor = try TensorFile.open(ESDFixtures.folder + "depth/" + name + ".npy").tensors[0]
    var layer = WeightLayer(name: name, kind: kind, shape: tensor.shape, load: { try tensor.doubles() })
    layer.loadRows = { try tensor.doubles(rows: $0) }
    return layer
  }
}

@Suite("sv_max, sv_min, rank_loss, weak_rank_loss and 3-D weights against the numpy goldens")
struct DepthGoldenTests {
  static let counts: Set = ["N", "M", "rf", "num_evals", "matrix_rank", "num_pl_spikes", "num_spikes",
                            "rand_num_spikes", "rank_loss", "weak_rank_loss"]
  /// Columns from a fit or a shuffle: the golden's float32 shuffles and our Gram route agree
  /// to ~1e-13; 1e-6 as in `GoldenTests`.
  static let fitted: Set = ["sigma_mp", "bulk_max", "bulk_min", "mp_softrank", "W_scale", "rand_distance",
                            "max_rand_eval", "ww_softrank", "ww_maxdist", "rand_sigma_mp", "rand_mp_softrank",
                            "rand_bulk_max", "rand_bulk_min", "rand_W_scale"]

  func expectRow(_ report: LayerReport, golden: [String: Any], _ label: String) {
    #expect(report.status == .success, "\(label): \(report.reason)")
    for (column, expected) in golden {
      if column == "Q" || column == "warning" { continue }
      switch report.value(column) {
      case .int(let mine):
        #expect(Self.counts.contains(column) && mine == expected as! Int, "\(label).\(column): \(mine) vs \(expected)")
      case .double(let mine):
        let tolerance = Self.fitted.contains(column) ? 1e-6 : 1e-9
        // An absolute floor for sv_min of a rank-deficient matrix: 0 in the golden, ~1e-17 here.
        #expect(close(mine, expected as! Double, relative: tolerance), "\(label).\(column): \(mine) vs \(expected)")
      default:
        Issue.record("\(label): column \(column) missing")
      }
    }
  }

  @Test("the rank columns of every 2-D and 4-D fixture match",
        arguments: ["gaussian", "heavy", "lowrank", "conv", "small", "small_tail", "wide"])
  func rankColumns(name: String) throws {
    var options = ESDOptions()
    options.randomize = false
    let report = try ESDAnalyzer(options: options).analyze(ESDFixtures.layer(name))[0]
    let golden = (DepthFixtures.golden["always"] as! [String: Any])[name] as! [String: Any]
    expectRow(report, golden: golden, name)
  }

  @Test("a rank-deficient layer: every column, rank_loss 3 and weak_rank_loss 6")
  func rankDeficient() throws {
    var options = ESDOptions()
    options.seed = 7
    let layer = try DepthFixtures.layer("rankdef", kind: .dense)
    let report = try ESDAnalyzer(options: options).analyze(layer)[0]
    expectRow(report, golden: DepthFixtures.row("rankdef"), "rankdef")
    #expect(report.rankLoss == 3 && report.weakRankLoss == 6)
    // Negative control: below the tiny columns' eigenvalues (~1e-8) only the zero ones count.
    options.tolerance = 1e-12
    #expect(try ESDAnalyzer(options: options).analyze(layer)[0].weakRankLoss == 3)
  }

  @Test("stacked experts: one row per expert and the pooled summary row, every column")
  func experts() throws {
    var options = ESDOptions()
    options.seed = 7
    let rows = try ESDAnalyzer(options: options).analyze(DepthFixtures.layer("moe", kind: .expert))
    #expect(rows.map(\.name) == ["moe", "moe.expert.0", "moe.expert.1", "moe.expert.2", "moe.expert.3"])
    #expect(rows.map(\.kind) == [.experts, .expert, .expert, .expert, .expert])
    #expect(rows.map(\.expertIndex) == [nil, 0, 1, 2, 3])
    for row in rows { expectRow(row, golden: DepthFixtures.row(row.name), row.name) }
  }

  @Test("a conv1d kernel: k pooled slices, every column; with pooling off, one row per slice")
  func conv1d() throws {
    var options = ESDOptions()
    options.seed = 7
    let layer = try DepthFixtures.layer("conv1d", kind: .conv1d)
    let report = try ESDAnalyzer(options: options).analyze(layer)
    #expect(report.count == 1)
    expectRow(report[0], golden: DepthFixtures.row("conv1d"), "conv1d")
    options.pool = false
    #expect(try ESDAnalyzer(options: options).analyze(layer).map(\.sliceIndex) == [0, 1, 2, 3, 4])
  }

  @Test("experts are read one at a time, never the whole tensor")
  func expertsStream() throws {
    let tensor = try TensorFile.open(ESDFixtures.folder + "depth/moe.npy").tensors[0]
    let reads = Mutex<[Range<Int>]>([])
    var layer = WeightLayer(name: "moe", kind: .expert, shape: tensor.shape, load: {
      Issue.record("the whole tensor was read")
      return try tensor.doubles()
    })
    layer.loadRows = { range in
      reads.withLock { $0.append(range) }
      return try tensor.doubles(rows: range)
    }
    var options = ESDOptions()
    options.randomize = false
    _ = try ESDAnalyzer(options: options).analyze(layer)
    #expect(reads.withLock { $0 } == [0..<1, 1..<2, 2..<3, 3..<4])
  }

  @Test("describe gives the rows' shapes without reading an element")
  func describeReadsNothing() throws {
    let fail: @Sendable () throws -> [Double] = {
      Issue.record("describe read a tensor")
      return []
    }
    var expert = WeightLayer(name: "moe", kind: .expert, shape: [3, 32, 16], load: fail)
    expert.loadRows = { _ in Issue.record("describe read an expert"); return [] }
    expert.key = "moe.weight"
    let layers = [
      WeightLayer(name: "fc", kind: .dense, shape: [30, 50], load: fail),
      WeightLayer(name: "conv", kind: .conv1d, shape: [8, 4, 3], load: fail),
      expert,
    ]
    let rows = try ESDAnalyzer().describe(layers).flatMap { $0 }
    #expect(rows.map(\.label) == ["fc", "conv", "moe", "moe.expert.0", "moe.expert.1", "moe.expert.2"])
    #expect(rows.map(\.layerID) == [1, 2, 3, 3, 3, 3])
    #expect(rows.map(\.longname) == ["fc", "conv", "moe.weight", "moe.weight", "moe.weight", "moe.weight"])
    #expect(rows.map { [$0.n, $0.m, $0.rf] } == [[50, 30, 1], [8, 4, 3], [32, 16, 3], [32, 16, 1], [32, 16, 1], [32, 16, 1]])
    #expect(rows.map { $0.value("num_evals") } == [.int(30), .int(12), .int(48), .int(16), .int(16), .int(16)])
    #expect(rows.allSatisfy { $0.status == .success && $0.spectrum == nil })
  }

  @Test("the 3-D rule: experts by name or shape, conv1d by a small last axis, else undecided; --3d overrides")
  func threeDimensionalRule() {
    let auto = ThreeDimensionalRule.auto
    #expect(auto.kind(key: "moe.w1", shape: [8, 64, 32]) == .expert)
    #expect(auto.kind(key: "block.experts.w1", shape: [512, 64, 8]) == .expert)
    #expect(auto.kind(key: "encoder.conv", shape: [64, 32, 3]) == .conv1d)
    #expect(auto.kind(key: "encoder.conv", shape: [512, 64, 3]) == .conv1d)
    #expect(auto.kind(key: "big", shape: [300, 20, 20]) == nil)
    #expect(ThreeDimensionalRule.experts.kind(key: "big", shape: [300, 20, 20]) == .expert)
    #expect(ThreeDimensionalRule.conv.kind(key: "moe.w1", shape: [8, 64, 32]) == .conv1d)
    #expect(auto.kind(key: "fc", shape: [8, 64]) == nil)
  }

  @Test("the model summary counts experts, not their summary row")
  func summaryCountsExperts() throws {
    var options = ESDOptions()
    options.randomize = false
    let rows = try ESDAnalyzer(options: options).analyze(DepthFixtures.layer("moe", kind: .expert))
    let summary = ESDSummary(rows)
    #expect(summary.analysed == 4)
    let alphas = rows.dropFirst().map { $0.powerLaw!.alpha }
    #expect(close(summary.mean("alpha")!, alphas.reduce(0, +) / 4, relative: 1e-12))
  }
}
