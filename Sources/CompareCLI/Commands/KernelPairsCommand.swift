import Compare

/// `compare kernel pairs`: the test examples ranked by their kernel similarity to their
/// nearest training example (near-duplicates first), and the confident failures (the nearest
/// training example has another label), with an optional image grid and a feature baseline.
enum KernelPairsCommand: Command {
  static let spec = CommandSpec(
    name: "kernel pairs",
    overview: "Near-duplicate train/test pairs and confident failures by kernel value.",
    options: KernelOptions.sources + KernelOptions.kernel + [
      OptionSpec("--top", value: "n", help: "Rows in each table.", default: 10),
      OptionSpec("--start", value: "rank", help: "First rank shown (1 is the most similar pair).", default: 1),
      OptionSpec("--neighbors", value: "K", help: "Nearest training examples shown per test example in the image grid (at most 100).", default: 3),
      OptionSpec("--images", value: "ref", help: "Test images (uint8 or float, [N,H,W], [N,H,W,C] or [N,C,H,W]): draw a PNG grid of each test image beside its nearest training images."),
      OptionSpec("--train-images", value: "ref", help: "Training images. (default: the --images key with _train appended)"),
      OptionSpec("--features", value: "ref", help: "Baseline: test features of one model ([N, features]), ranked by cosine similarity."),
      OptionSpec("--train-features", value: "ref", help: "Training features. (default: the --features key with _train appended)"),
      OptionSpec("--grid", value: "file", help: "The image grid (.png) written with --images.", default: "kernel-pairs.png"),
      OptionSpec("--random", value: "n", help: "Also show n test examples drawn at random, each with its nearest training examples by kernel (and by cosine, with --features): the kernel card's third figure.", default: 0),
      OptionSpec("--seed", value: "s", help: "Seed of the --random draw.", default: 0),
    ],
    discussion: """
      Pairs: test examples ordered by the kernel value of their most similar training example;
      high values are near-duplicates. Failures: the same order, keeping the test examples whose
      most similar training example has another label. With --features, the same ranking by
      cosine similarity of the features, for comparison.
      """,
    examples: ["compare kernel pairs --test d.npz:logits --train d.npz:logits_train --test-labels d.npz:labels --train-labels d.npz:labels_train --images d.npz:images --features d.npz:features"])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    var request = KernelPairsRequest()
    request.top = try arguments.int("--top", in: 1...Int.max)
    request.start = try arguments.int("--start", in: 1...Int.max)
    request.neighbors = try arguments.int("--neighbors", in: 1...100)  // a grid row wider than 100 images is not a figure
    request.random = try arguments.int("--random", in: 0...Int.max)
    request.seed = UInt64(try arguments.int("--seed", in: 0...Int.max) as Int)
    let grid = arguments.string("--grid")!
    if FigureFormat(path: grid) == nil {
      throw UsageError("--grid expects a .png or .svg file, got '\(grid)'", command: spec.name)
    }
    for (option, needed) in [("--grid", "--images"), ("--train-images", "--images"), ("--train-features", "--features")]
    where arguments.given(option) && !arguments.given(needed) {
      throw UsageError("\(option) needs \(needed)", command: spec.name)
    }
    if let images = arguments.string("--images") {
      request.images = (images, try arguments.string("--train-images") ?? suffixed(images, option: "--images"), grid)
    }
    if let features = arguments.string("--features") {
      request.features = (features, try arguments.string("--train-features") ?? suffixed(features, option: "--features"))
    }
    // Defaulted training images and features are keys of the given files: those are compared.
    try arguments.checkOutputs([("--grid", request.images?.grid)],
                               inputs: ["--test", "--train", "--test-labels", "--train-labels", "--images", "--train-images",
                                        "--features", "--train-features"])
    if request.images != nil { try AtomicFile.checkDestination(grid) }
    request.models = try arguments.int("--models", in: 1...Int.max)
    let inputs = try KernelOptions.inputs(arguments)
    request.options = try KernelOptions.kernelOptions(arguments, classes: inputs.test.classes)
    var meter = ProgressMeter(console: console, label: "kernel", total: 100)
    let result = try request.run(inputs) { done, total in meter.update(100 * done / max(total, 1)) }
    meter.finish()
    if arguments.flag("--json") {
      console.print(result.json().serialized(pretty: true))
      return
    }
    console.write(result.text)
    if request.images != nil { console.print("Image grid written to \(grid)") }
  }

  /// `FILE:KEY` → `FILE:KEY_train`, the bundled data's naming.
  static func suffixed(_ reference: String, option: String) throws -> String {
    let parsed = TensorReference(reference)
    guard let key = parsed.key else {
      throw UsageError("\(option) \(reference) names no key, so the training tensor cannot be guessed; give --train-\(option.dropFirst(2))",
                       command: spec.name)
    }
    return "\(parsed.path):\(key)_train"
  }
}
