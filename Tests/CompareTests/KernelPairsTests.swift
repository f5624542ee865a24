import Compare
import Foundation
import Testing

@Suite("Kernel pairs: random examples")
struct KernelPairsTests {
  let file = examples + "ensemble.npz"

  @Test("the draw is seeded, distinct and uniform over the test set; another seed draws others")
  func draw() {
    let a = KernelPairsRequest.draw(10, of: 450, seed: 7)
    #expect(a == KernelPairsRequest.draw(10, of: 450, seed: 7))
    #expect(Set(a).count == 10 && a.allSatisfy { (0..<450).contains($0) })
    #expect(a != KernelPairsRequest.draw(10, of: 450, seed: 8))
    #expect(KernelPairsRequest.draw(450, of: 450, seed: 1).sorted() == Array(0..<450))
    // Uniform: over many seeds each of 10 items is drawn first about equally often.
    var counts = [Int](repeating: 0, count: 10)
    for seed in 0..<5000 { counts[KernelPairsRequest.draw(1, of: 10, seed: UInt64(seed))[0]] += 1 }
    #expect(counts.allSatisfy { abs($0 - 500) < 100 })
  }

  @Test("each random example lists its nearest training examples by kernel and by cosine, as the neighbour passes find them")
  func randomExamples() throws {
    let inputs = try KernelInputs(test: [file + ":logits"], train: [file + ":logits_train"],
                                  testLabels: file + ":labels", trainLabels: file + ":labels_train")
    var request = KernelPairsRequest()
    request.random = 5
    request.seed = 11
    request.features = (file + ":features", file + ":features_train")
    let result = try request.run(inputs)
    #expect(result.randomExamples == KernelPairsRequest.draw(5, of: 450, seed: 11))
    let json = result.json()
    guard case .array(let rows)? = json["random"] else { Issue.record("no random rows"); return }
    #expect(rows.count == 5)
    let first = result.randomExamples[0]
    guard case .array(let kernel)? = rows[0]["kernel_neighbors"], case .array(let cosine)? = rows[0]["feature_neighbors"] else {
      Issue.record("missing neighbour lists"); return
    }
    #expect(kernel.count == 3 && cosine.count == 3)
    #expect(json["random_seed"] == .int(11))
    #expect(kernel[0]["train_index"] == .int(result.neighbors.indices(of: first).first!))
    #expect(cosine[0]["train_index"] == .int(result.featureNeighbors!.indices(of: first).first!))
    #expect(result.text.contains("Random test examples"))
    // Without --random, neither the rows nor the table.
    request.random = 0
    let plain = try request.run(inputs)
    #expect(plain.json()["random"] == nil && plain.json()["random_seed"] == nil)
    #expect(!plain.text.contains("Random test examples"))
    request.random = 451
    #expect(throws: InputError.self) { try request.run(inputs) }
  }

  @Test("the grid labels each row block with what its values are: kernel rows and cosine rows")
  func gridLabels() throws {
    let inputs = try KernelInputs(test: [file + ":logits"], train: [file + ":logits_train"],
                                  testLabels: file + ":labels", trainLabels: file + ":labels_train")
    let grid = NSTemporaryDirectory() + "compare-pairs-grid-\(getpid()).svg"
    defer { try? FileManager.default.removeItem(atPath: grid) }
    var request = KernelPairsRequest()
    request.top = 1
    request.random = 1
    request.images = (file + ":images", file + ":images_train", grid)
    _ = try request.run(inputs)
    let kernelOnly = try String(contentsOfFile: grid, encoding: .utf8)
    #expect(kernelOnly.contains("index (label) kernel value") && kernelOnly.contains("pair #1, kernel"))
    #expect(!kernelOnly.contains("cosine"))
    request.features = (file + ":features", file + ":features_train")
    _ = try request.run(inputs)
    let both = try String(contentsOfFile: grid, encoding: .utf8)
    for label in ["pair #1, kernel", "failure #1, kernel", "pair #1, cosine", "random #1, kernel", "random #1, cosine"] {
      #expect(both.contains(label), "\(label)")
    }
    // Over cosine rows, the title does not call every value a kernel value.
    #expect(!both.contains("kernel value<") && both.contains("kernel value or cosine similarity as the row says"))
  }
}
