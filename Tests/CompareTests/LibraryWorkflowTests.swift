import Compare
import Foundation
import Testing

/// The package root, from this file's path (`Tests/CompareTests/…`), ending in `/`.
let packageRoot: String = {
  var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(3)
  return parts.joined(separator: "/") + "/"
}()
let examples = packageRoot + "Examples/data/"

@Suite("Library workflows")
struct LibraryWorkflowTests {
  @Test("ModelWeights lists a model's 2-D and 4-D weights in table order, names without .weight")
  func modelWeights() throws {
    let mlp = try ModelWeights(path: examples + "weights_mlp.safetensors")
    #expect(mlp.layers.map(\.name) == ["fc1", "fc2", "fc3", "fc4"])
    #expect(mlp.layers.map(\.shape) == [[256, 64], [128, 256], [64, 128], [10, 64]])
    let cnn = try ModelWeights(path: examples + "weights_cnn.pt")
    #expect(cnn.layers.map(\.kind) == [.conv2d, .conv2d, .conv2d, .dense, .dense])
    #expect(throws: ReadError.self) { try ModelWeights(path: examples + "missing.safetensors") }
  }

  @Test("ModelWeights.esd: rand_distance equals the public randDistance of the same layer and seed, and differs for another seed")
  func randDistanceOnePath() throws {
    let model = try ModelWeights(path: examples + "weights_mlp.safetensors")
    var options = ESDOptions()
    options.seed = 7
    let result = try model.esd(options: options, layers: ["fc2"])
    let layer = try #require(model.layers.first { $0.name == "fc2" })
    let w = Matrix<Double>(rows: layer.shape[0], columns: layer.shape[1], elements: try layer.load())
    let direct = try randDistance(of: w, seed: layerSeed(7, name: "fc2"))
    // Equal up to the rounding of BLAS threading (the analysis runs small layers on one BLAS
    // thread each): the same shuffle, the same eigenvalue route.
    #expect(try #require(result.reports[0].randDistance).isClose(to: direct, tolerance: 1e-12))
    let other = try randDistance(of: w, seed: layerSeed(8, name: "fc2"))
    #expect(abs(other - direct) > 1e-4)
  }

  @Test("ActivationSet picks layers, checks them, and refills the same buffers batch after batch")
  func activationSet() throws {
    let set = try ActivationSet(path: examples + "activations_cnn.npz", layers: ["fc1", "conv2"])
    #expect(set.names == ["fc1", "conv2"])
    #expect(set.examples == 450)
    #expect(set.features == [64, 128])
    var batch: [Matrix<Float>] = []
    try set.read(rows: 0..<100, into: &batch)
    let first = batch[1].elements.withUnsafeBufferPointer { $0.baseAddress }
    let copy = batch[1].elements.map { $0 }  // a copy that shares no storage
    try set.read(rows: 100..<200, into: &batch)
    #expect(batch[1].elements.withUnsafeBufferPointer { $0.baseAddress } == first)
    #expect(batch[1].elements != copy)
    #expect(batch[1] == (try set.batch(rows: 100..<200, as: Float.self))[1])
    // A batch of another size is a new buffer of that size.
    try set.read(rows: 200..<250, into: &batch)
    #expect(batch[0].rows == 50)
    #expect(throws: ReadError.self) { try ActivationSet(path: examples + "activations_cnn.npz", layers: ["nope"]) }
  }

  @Test("CKAEstimator batches as the command does: a partial batch is dropped with a note, or kept")
  func ckaBatching() throws {
    let (a, b) = try ActivationSet.pair(examples + "activations_mlp.safetensors", examples + "activations_cnn.npz")
    let dropped = try CKAEstimator.minibatch(batchSize: 200).similarities(a, b)
    #expect(dropped.batches == 2 && dropped.examples == 400)
    #expect(dropped.notes == ["note: the last 50 examples (a partial batch) were dropped; --keep-last keeps them"])
    let kept = try CKAEstimator.minibatch(batchSize: 200, keepLast: true).similarities(a, b)
    #expect(kept.batches == 3 && kept.examples == 450 && kept.notes.isEmpty)
    #expect(throws: InputError.self) { try CKAEstimator.minibatch(batchSize: 500).similarities(a, b) }
    let full = try CKAEstimator.full.similarities(a, b)
    #expect(full.batches == 1 && full.batchSize == nil)
  }

  @Test("EnsembleLogits joins shards along the model axis")
  func ensembleLogits() throws {
    let one = try EnsembleLogits(references: [examples + "ensemble.npz:logits"])
    #expect((one.models, one.examples, one.classes) == (64, 450, 10))
    let two = try EnsembleLogits(references: [examples + "ensemble.npz:logits", examples + "ensemble.pt:logits"])
    #expect(two.models == 128)
    #expect(try two.logits(models: 64..<65) == one.logits(models: 0..<1))
    #expect(throws: InputError.self) {
      try EnsembleLogits(references: [examples + "ensemble.npz:logits", examples + "ensemble.npz:logits_train"])
    }
  }

  @Test("ESDRequest runs compare esd's workflows: one model with its files, several side by side")
  func esdRequest() throws {
    let output = NSTemporaryDirectory() + "compare-library-esd-\(getpid())"
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: output) }
    var request = ESDRequest(layers: ["fc*"])
    request.output = output + "/esd.json"
    request.plot = output + "/plots"
    request.saveESD = output + "/esd.npz"
    let model = try ModelWeights(path: examples + "weights_mlp.safetensors")
    let result = try request.run(model)
    #expect(result.reports.map(\.name) == ["fc1", "fc2", "fc3", "fc4"])
    #expect(try String(contentsOfFile: output + "/esd.json", encoding: .utf8) == result.json().serialized(pretty: true) + "\n")
    #expect(try ESDSpectra(contentsOf: output + "/esd.npz").eigenvalues(of: "fc2") == result.eigenvalues(of: "fc2"))
    for name in ["esd_fc1.png", "esd_fc1_rand.png", "esd_alpha_by_layer.svg"] {
      #expect(FileManager.default.fileExists(atPath: output + "/plots/" + name), "\(name)")
    }
    #expect(result.messages == result.warnings)
    // Several models: each as its own esd, paired by name; the overview drawn in `plot`.
    request.plot = output + "/series"
    let paths = [examples + "weights_mlp.safetensors", examples + "weights_mlp_init.safetensors"]
    let series = try request.series(paths)
    #expect(series.models == paths)
    guard case .double(let alpha) = series.values("alpha", layer: "fc2")[0],
          case .double(let alone) = result.reports[1].value("alpha") else {
      Issue.record("fc2 has no alpha")
      return
    }
    #expect(abs(alpha - alone) < 1e-9 * alone)  // up to BLAS summation order
    #expect(FileManager.default.fileExists(atPath: output + "/series/esd_alpha_by_layer.png"))
  }

  @Test("the demo's kernel lines on the bundled data, and its figures")
  func demo() throws {
    let output = NSTemporaryDirectory() + "compare-library-demo-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: output) }
    let sections = try CompareDemo.run(examples: examples, output: output)
    #expect(sections.map(\.title) == ["Tensor files", "Ensemble correlation kernel", "Ensemble summary", "CKA",
                                      "Spectral (ESD) metrics"])
    #expect(sections[1].lines == ["average single-model accuracy   : 97.21", "ensemble accuracy (64 models)   : 97.56",
                                  "kernel accuracy (k-NN w/ k=3)   : 98.22"])
    for name in ["kernel-sizes.png", "kernel-pairs.png", "cka_mlp_cnn.png", "esd_alpha_by_layer.svg"] {
      #expect(FileManager.default.fileExists(atPath: output + "/" + name))
    }
  }
}
