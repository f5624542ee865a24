import Foundation
import Testing
@testable import TensorIO

@Suite("TensorFuzzing: every fixture through every fuzz target ends in tensors or a ReadError")
struct TensorFuzzingTests {
  /// Every file under the fixture folders the fuzz corpora are seeded from, bad files included.
  static let files: [String] = {
    let folders = ["npy", "npz", "safetensors", "torch", "pickle", "json", "bad"]
    return folders.flatMap { folder in
      let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtureFolder + folder)) ?? []
      return names.sorted().map { folder + "/" + $0 }
    }
  }()

  @Test("the fixture folders are there")
  func filesAreThere() {
    #expect(TensorFuzzingTests.files.count > 80)
  }

  @Test("each target returns on each fixture, within a second", arguments: TensorFuzzing.Target.allCases)
  func replay(target: TensorFuzzing.Target) throws {
    for name in TensorFuzzingTests.files {
      let data = try #require(FileManager.default.contents(atPath: fixtureFolder + name))
      let start = ContinuousClock.now
      data.withUnsafeBytes { _ = TensorFuzzing.run(target, $0) }
      #expect(ContinuousClock.now - start < .seconds(1), "\(target.rawValue) on \(name)")
    }
  }
}
