import Compare

/// A tensor of logits, `models × examples × classes`, read a range of models at a time from
/// its memory-mapped file: the command line's adapter from `TensorIO` to `LogitsSource`.
struct TensorLogits: LogitsSource {
  let tensor: Tensor
  let name: String

  /// Opens the logits named by `reference` (`FILE` or `FILE:KEY`).
  /// - Throws: `ReadError` if the file cannot be read; `InputError` unless the tensor is a
  ///   floating-point `[models, examples, classes]` array with no empty axis.
  init(_ reference: String) throws {
    let tensor = try TensorReference(reference).tensor()
    guard tensor.dtype.isFloatingPoint else {
      throw InputError("\(reference): logits have dtype \(tensor.dtype.numpyName); expected float16, bfloat16, float32 or float64")
    }
    guard tensor.shape.count == 3 else {
      throw InputError("\(reference): logits have shape \(tensor.shapeDescription); expected [models, examples, classes]")
    }
    guard !tensor.shape.contains(0) else {
      throw InputError("\(reference): logits have shape \(tensor.shapeDescription); no axis may be empty")
    }
    self.tensor = tensor
    self.name = reference
  }

  var models: Int { tensor.shape[0] }
  var examples: Int { tensor.shape[1] }
  var classes: Int { tensor.shape[2] }

  var precision: LogitsPrecision {
    switch tensor.dtype {
    case .float16: .float16
    case .bfloat16: .bfloat16
    case .float64: .float64
    default: .float32
    }
  }

  func logits(models: Range<Int>) throws -> [Float] { try tensor.floats(rows: models) }
}

/// Options shared by `compare kernel` and `compare kernel pairs`, and reading them.
enum KernelInputs {
  static let sourceOptions: [OptionSpec] = [
    OptionSpec("--test", value: "ref", help: "Test logits [models, examples, classes] (FILE or FILE:KEY; .npy, .npz, .safetensors, .pt). Repeat to join shards along the model axis.",
               required: true, repeatable: true),
    OptionSpec("--train", value: "ref", help: "Training logits, same models in the same order. Repeatable like --test.",
               required: true, repeatable: true),
    OptionSpec("--test-labels", value: "ref", help: "Integer labels of the test examples, shape [examples].", required: true),
    OptionSpec("--train-labels", value: "ref", help: "Integer labels of the training examples.", required: true),
    OptionSpec("--models", value: "n", help: "Use the first n models. (default: all)"),
  ]

  static let kernelOptions: [OptionSpec] = [
    OptionSpec("--class", value: "c", help: "Use only class c's correlation kernel (the per-class kernel). (default: the mean over all classes)"),
    OptionSpec("--no-log-softmax", help: "Standardise the raw logits, without the log-softmax over classes."),
    OptionSpec("--memory", value: "GiB", help: "Memory for normalised logits and kernel blocks; past it models are streamed in chunks.", default: "4"),
  ]

  /// Test and training logits, joined over their shards.
  static func sources(_ arguments: ParsedArguments) throws -> (test: any LogitsSource, train: any LogitsSource) {
    func joined(_ references: [String]) throws -> any LogitsSource {
      let shards: [any LogitsSource] = try references.map { try TensorLogits($0) }
      return shards.count == 1 ? shards[0] : try ConcatenatedLogits(shards)
    }
    return (try joined(arguments.strings("--test")), try joined(arguments.strings("--train")))
  }

  /// The labels named by `reference`, checked against `logits`.
  static func labels(_ reference: String, for logits: any LogitsSource) throws -> [Int] {
    let tensor = try TensorReference(reference).tensor()
    guard tensor.shape.count == 1 || (tensor.shape.count == 2 && tensor.shape[1] == 1) else {
      throw InputError("\(reference): labels have shape \(tensor.shapeDescription); expected [examples]")
    }
    let labels = try tensor.integers().map { Int($0) }
    try EnsembleAccuracy.check(labels: labels, for: logits, name: reference)
    return labels
  }

  /// Kernel options from the command line.
  static func options(_ arguments: ParsedArguments, classes: Int) throws -> CorrelationKernel.Options {
    var options = CorrelationKernel.Options()
    options.logSoftmax = !arguments.flag("--no-log-softmax")
    if let c = try arguments.int("--class", in: 0...Int.max) {
      guard c < classes else {
        throw UsageError("--class \(c) is out of range: the logits have \(classes) classes (0...\(classes - 1))",
                         command: arguments.spec.name)
      }
      options.classIndex = c
    }
    let gib = try arguments.double("--memory", default: 4, in: 0.01...65536)
    options.memoryLimit = Int(gib * Double(1 << 30))
    options.blockBytes = min(options.blockBytes, max(1 << 20, options.memoryLimit / 8))
    return options
  }

  /// `--models`, checked against the sources.
  static func models(_ arguments: ParsedArguments) throws -> Int? {
    try arguments.int("--models", in: 1...Int.max)
  }

  /// `--rows START:END` (END is clamped to the test set, so job arrays may overshoot).
  static func rows(_ arguments: ParsedArguments, testExamples: Int) throws -> Range<Int>? {
    guard let text = arguments.string("--rows") else { return nil }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]), start >= 0, end > start else {
      throw UsageError("--rows expects START:END with 0 ≤ START < END, got '\(text)'", command: arguments.spec.name)
    }
    guard start < testExamples else {
      throw InputError("--rows \(text) starts past the \(testExamples) test examples")
    }
    return start..<min(end, testExamples)
  }
}
