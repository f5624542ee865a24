@testable import CompareCLI
import Foundation
import Testing
import TensorIO

@Suite("compare esd --describe, --exclude, --save-esd, --3d")
struct ESDDepthCommandTests {
  static let depth = ESDCommandTests.fixtures + "depth"

  @Test("--describe lists every row without reading weights: a NaN weight that esd rejects is described")
  func describeReadsNoData() {
    let analysed = runCompare(["esd", ESDCommandTests.fixtures + "bad_nan.npy"])
    #expect(analysed.status == 1)
    let described = runCompare(["esd", ESDCommandTests.fixtures + "bad_nan.npy", "--describe"])
    #expect(described.status == 0, "\(described.err)")
    #expect(described.out.hasPrefix("layer_id  name     longname  layer_type   N   M      Q  rf  num_evals\n"
                                    + "       1  bad_nan  bad_nan   dense       12  10  1.200   1         10\n"))
  }

  @Test("--describe on 3-D weights: a conv1d kernel, experts after their summary row")
  func describeText() {
    let result = runCompare(["esd", Self.depth, "--describe", "--exclude", "rankdef"])
    #expect(result.status == 0)
    #expect(result.out == """
      layer_id  name          longname  layer_type   N   M      Q  rf  num_evals
             1  conv1d        conv1d    conv1d      16  12  1.333   5         60
             2  moe           moe       experts     24  20  1.200   4         80
             2  moe.expert.0  moe       expert      24  20  1.200   1         20
             2  moe.expert.1  moe       expert      24  20  1.200   1         20
             2  moe.expert.2  moe       expert      24  20  1.200   1         20
             2  moe.expert.3  moe       expert      24  20  1.200   1         20

      2 layers, 6 rows; no eigenvalues computed.
      Conventions: layers in natural order of their names.

      """)
    let json = runCompare(["esd", Self.depth, "--describe", "--json", "--layers", "moe", "--3d", "conv"])
    let doc = try? JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
    let rows = doc?["layers"] as? [[String: Any]] ?? []
    #expect(rows.count == 1)
    #expect(rows.first.map { Array($0.keys).sorted() } == ["M", "N", "Q", "layer_id", "layer_type", "longname", "name", "num_evals", "rf"])
    #expect(rows.first?["layer_type"] as? String == "conv1d")
  }

  @Test("--save-esd writes every row's eigenvalues and NAME/rand; their counts and maxima match the table")
  func saveESD() throws {
    let path = NSTemporaryDirectory() + "esd-save-\(getpid()).npz"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let result = runCompare(["esd", Self.depth, "--layers", "moe,rankdef", "--save-esd", path, "--json"])
    #expect(result.status == 0, "\(result.err)")
    let doc = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
    let rows = doc["layers"] as! [[String: Any]]
    let file = try TensorFile.open(path)
    #expect(file.tensors.map(\.key) == rows.flatMap { [$0["name"] as! String, ($0["name"] as! String) + "/rand"] })
    for row in rows {
      let values = try file.tensor(row["name"] as! String).doubles()
      #expect(values.count == row["num_evals"] as! Int)
      // The JSON prints 16 significant digits.
      #expect(abs(values.last! - (row["lambda_max"] as! Double)) <= 1e-14 * values.last!)
      // The first shuffle's largest eigenvalue is λmax − ww_maxdist.
      let rand = try file.tensor(row["name"] as! String + "/rand").doubles()
      let lambdaMax = row["lambda_max"] as! Double, firstMax = lambdaMax - (row["ww_maxdist"] as! Double)
      #expect(abs(rand.last! - firstMax) <= 1e-14 * lambdaMax)
      #expect(rand.count == values.count && rand == rand.sorted())
    }
    #expect(file.tensors.allSatisfy { $0.dtype == .float64 && $0.shape.count == 1 })
  }

  @Test("--save-esd needs .npz or .safetensors; --describe computes nothing to save; --tolerance is a number")
  func usage() {
    let bad = runCompare(["esd", Self.depth, "--save-esd", "esd.txt"])
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("Error: --save-esd expects a .npz or .safetensors file, got 'esd.txt'\nUsage: compare esd "))
    let both = runCompare(["esd", Self.depth, "--describe", "--save-esd", "esd.npz"])
    #expect(both.status == 64)
    #expect(both.err.hasPrefix("Error: --describe computes no eigenvalues: it cannot be combined with --save-esd\n"))
    let tolerance = runCompare(["esd", Self.depth, "--tolerance", "small"])
    #expect(tolerance.status == 64)
    let rule = runCompare(["esd", Self.depth, "--3d", "stack"])
    #expect(rule.status == 64)
  }

  @Test("--tolerance moves weak_rank_loss; --exclude leaves layers out")
  func tolerance() throws {
    func row(_ extra: [String]) throws -> [String: Any] {
      let result = runCompare(["esd", Self.depth, "--layers", "rank*", "--json", "--no-randomize", "--no-mp-fit"] + extra)
      let doc = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
      return (doc["layers"] as! [[String: Any]])[0]
    }
    #expect(try row([])["weak_rank_loss"] as! Int == 6)
    #expect(try row(["--tolerance", "1e-12"])["weak_rank_loss"] as! Int == 3)
    #expect(try row([])["rank_loss"] as! Int == 3)
    let excluded = runCompare(["esd", Self.depth, "--exclude", "moe,conv*", "--describe", "--csv"])
    #expect(excluded.out == "layer_id,name,longname,layer_type,N,M,Q,rf,num_evals\n3,rankdef,rankdef,dense,40,20,2.0,1,20\n")
  }
}
