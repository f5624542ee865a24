import Compare

/// `compare cka A B`: CKA between every layer of model A and every layer of model B, from
/// activations of the same examples.
enum CKACommand: Command {
  static let spec = CommandSpec(
    name: "cka",
    overview: "Layer-by-layer CKA between two models' activations.",
    arguments: [
      ArgumentSpec("a", help: "Activations of model A: .safetensors, .npz, .pt or a folder of .npy, one tensor per layer, [examples, ...] (FILE:KEY picks the tensors under KEY)."),
      ArgumentSpec("b", help: "Activations of model B: the same examples in the same order."),
    ],
    options: [
      OptionSpec("--estimator", value: "estimator",
                 help: "minibatch: unbiased HSIC summed over batches; full: biased HSIC on all examples; debiased: unbiased HSIC on all examples.",
                 default: "minibatch", values: ["minibatch", "full", "debiased"]),
      OptionSpec("--kernel", value: "kernel",
                 help: "linear, or rbf[:THRESHOLD]: a Gaussian with σ² = THRESHOLD² × the median squared distance (THRESHOLD 1 if left out).",
                 default: "linear"),
      OptionSpec("--batch-size", value: "n", help: "Examples per minibatch, at least 4.", default: "256"),
      OptionSpec("--keep-last", help: "Keep a trailing partial batch of at least 4 examples (it is dropped by default)."),
      OptionSpec("--layers-a", value: "names", help: "Model A's layers to compare, comma-separated, in this order. (default: all, in natural order)"),
      OptionSpec("--layers-b", value: "names", help: "Model B's layers to compare. (default: all, in natural order)"),
      OptionSpec("--name-a", value: "name", help: "Model A's name in the output. (default: the file name of <a>)"),
      OptionSpec("--name-b", value: "name", help: "Model B's name in the output. (default: the file name of <b>)"),
      OptionSpec("--save", value: "file", help: "Write the CKA matrix (rows: model A's layers) to a .npy file."),
      OptionSpec("--heatmap", value: "file", help: "Draw the matrix as a heatmap, .png or .svg."),
    ],
    discussion: """
      CKA is 1 for representations equal up to rotation and isotropic scaling, near 0 for unrelated
      ones; the unbiased estimators can fall slightly below 0. Each batch's activations are centred
      before the products and HSIC sums are kept in float64. A constant layer has no CKA: its row or
      column is NaN (null in JSON) and a warning names it.
      """,
    examples: [
      "compare cka mlp.safetensors cnn.npz",
      "compare cka a.npz b.npz --estimator debiased --kernel rbf:0.5 --json",
      "compare cka a.safetensors b.safetensors --layers-a fc1,fc2 --heatmap cka.png",
    ])

  /// What a run computed, for printing, JSON and the demo.
  struct Outcome {
    var matrix: SimilarityMatrix
    var estimator: String
    var kernel: CKAKernel
    /// `nil` for the full-batch estimators.
    var batchSize: Int?
    var batches: Int
    /// Examples that entered the estimate.
    var examples: Int
    /// Examples in the files.
    var available: Int
  }

  /// One model's layers, read lazily.
  struct Model {
    var path: String
    var name: String
    var tensors: [Tensor]
    var examples: Int
    var features: [Int]
    var keys: [String] { tensors.map(\.key) }
    var isDouble: Bool { tensors.allSatisfy { $0.dtype == .float64 } }
  }

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let estimator = arguments.string("--estimator") ?? "minibatch"
    let kernelText = arguments.string("--kernel") ?? "linear"
    guard let kernel = CKAKernel(kernelText) else {
      throw UsageError("--kernel expects linear, rbf or rbf:THRESHOLD with THRESHOLD > 0, got '\(kernelText)'",
                       command: spec.name)
    }
    let batchSize = try arguments.int("--batch-size", default: 256, in: 4...Int.max)
    let save = arguments.string("--save"), heatmap = arguments.string("--heatmap")
    if let save, !save.hasSuffix(".npy") {
      throw UsageError("--save expects a .npy file name, got '\(save)'", command: spec.name)
    }
    if let heatmap, FigureFormat(path: heatmap) == nil {
      throw UsageError("--heatmap expects a .png or .svg file name, got '\(heatmap)'", command: spec.name)
    }
    for path in [save, heatmap].compactMap({ $0 }) { try AtomicFile.checkDestination(path) }
    let pathA = arguments.argument("a")!, pathB = arguments.argument("b")!
    let outcome = try compute(
      pathA, pathB, layersA: list(arguments.string("--layers-a")), layersB: list(arguments.string("--layers-b")),
      nameA: arguments.string("--name-a"), nameB: arguments.string("--name-b"),
      estimator: estimator, kernel: kernel, batchSize: batchSize,
      keepLast: arguments.flag("--keep-last"), console: console)
    for warning in outcome.matrix.warnings { console.warn("warning: \(warning)") }
    if let save {
      let m = outcome.matrix.values
      try NPYWriter.write(m.elements, shape: [m.rows, m.columns], to: save)
    }
    if let heatmap { try drawHeatmap(outcome.matrix, to: heatmap) }
    if arguments.flag("--json") {
      console.print(json(outcome).serialized(pretty: true))
    } else {
      console.write(report(outcome))
    }
  }

  /// Comma-separated names, or `nil` when the option was not given.
  static func list(_ text: String?) -> [String]? {
    text.map { $0.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty } }
  }

  /// The file name of a path, for default model names.
  static func fileName(_ path: String) -> String {
    let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
    return String(trimmed.split(separator: "/").last ?? Substring(trimmed))
  }

  /// Opens a representation set and picks its layers.
  static func load(_ path: String, layers: [String]?, name: String?) throws -> Model {
    let reference = TensorReference(path)
    let all = try reference.tensors()
    let tensors: [Tensor]
    if let layers {
      guard !layers.isEmpty else { throw ReadError(file: path, "no layer named in the layer list") }
      tensors = try layers.map { layer in
        guard let t = all.first(where: { $0.key == layer }) else {
          throw ReadError(file: path, "has no layer '\(layer)' (available: \(TensorFile.list(NaturalOrder.sorted(all.map(\.key)))))")
        }
        return t
      }
    } else {
      tensors = all.sorted { NaturalOrder.precedes($0.key, $1.key) }
    }
    var examples: Int?
    var features: [Int] = []
    for t in tensors {
      guard let rows = t.shape.first else {
        throw ReadError(file: path, "layer '\(t.key)' is a scalar; activations have a shape [examples, ...]")
      }
      guard rows > 0 else { throw ReadError(file: path, "layer '\(t.key)' has no examples (shape \(t.shapeDescription))") }
      let width = t.shape.dropFirst().reduce(1, *)
      guard width > 0 else { throw ReadError(file: path, "layer '\(t.key)' has no features (shape \(t.shapeDescription))") }
      if let examples, rows != examples {
        throw ReadError(file: path, "layer '\(t.key)' has \(rows) examples, layer '\(tensors[0].key)' has \(examples)")
      }
      examples = rows
      features.append(width)
    }
    return Model(path: path, name: name ?? fileName(reference.description), tensors: tensors,
                 examples: examples ?? 0, features: features)
  }

  static func compute(_ pathA: String, _ pathB: String, layersA: [String]?, layersB: [String]?,
                      nameA: String?, nameB: String?, estimator: String, kernel: CKAKernel,
                      batchSize: Int, keepLast: Bool, console: Console) throws -> Outcome {
    let a = try load(pathA, layers: layersA, name: nameA)
    var b = try load(pathB, layers: layersB, name: nameB)
    if b.name == a.name, nameB == nil, pathA != pathB { b.name = b.path }
    guard a.examples == b.examples else {
      throw InputError("\(a.name) has \(a.examples) examples and \(b.name) has \(b.examples): CKA needs the same examples in the same order")
    }
    let n = a.examples
    let useDouble = a.isDouble && b.isDouble
    if estimator != "minibatch" {
      let matrix: SimilarityMatrix
      if case .linear = kernel {
        let cka = LinearCKA(debiased: estimator == "debiased")
        matrix = useDouble
          ? try cka.similarities(layersA: matrices(a, Double.self), layersB: matrices(b, Double.self),
                                 namesA: a.keys, namesB: b.keys, modelA: a.name, modelB: b.name)
          : try cka.similarities(layersA: matrices(a, Float.self), layersB: matrices(b, Float.self),
                                 namesA: a.keys, namesB: b.keys, modelA: a.name, modelB: b.name)
      } else {
        let bytes = Double(a.tensors.count + b.tensors.count) * Double(n) * Double(n) * 8
        guard bytes <= 8 * 1_073_741_824 else {
          throw InputError("the full-batch rbf estimator on \(n) examples needs \(Format.fixed(bytes / 1_073_741_824, 1)) GiB of Gram matrices; use --estimator minibatch")
        }
        let cka = KernelCKA(kernel: kernel, debiased: estimator == "debiased")
        matrix = useDouble
          ? try cka.similarities(layersA: matrices(a, Double.self), layersB: matrices(b, Double.self),
                                 namesA: a.keys, namesB: b.keys, modelA: a.name, modelB: b.name)
          : try cka.similarities(layersA: matrices(a, Float.self), layersB: matrices(b, Float.self),
                                 namesA: a.keys, namesB: b.keys, modelA: a.name, modelB: b.name)
      }
      return Outcome(matrix: matrix, estimator: estimator, kernel: kernel, batchSize: nil,
                     batches: 1, examples: n, available: n)
    }
    var bounds = stride(from: 0, through: n - batchSize, by: batchSize).map { $0..<($0 + batchSize) }
    let rest = n - bounds.count * batchSize
    if rest > 0 {
      if keepLast, rest >= 4 {
        bounds.append((n - rest)..<n)
      } else if !bounds.isEmpty {
        console.warn(keepLast
          ? "note: the last \(rest) examples were dropped: a batch needs at least 4"
          : "note: the last \(rest) examples (a partial batch) were dropped; --keep-last keeps them")
      }
    }
    guard !bounds.isEmpty else {
      if keepLast { throw InputError("\(n) examples are fewer than the 4 a batch needs: use --estimator full") }
      throw InputError("\(n) examples are fewer than one batch of \(batchSize): lower --batch-size, add --keep-last, or use --estimator debiased")
    }
    var cka = try MinibatchCKA(layersA: a.keys, layersB: b.keys, modelA: a.name, modelB: b.name,
                               kernel: kernel)
    var meter = ProgressMeter(console: console, label: "CKA batches", total: bounds.count)
    for (index, rows) in bounds.enumerated() {
      if useDouble {
        try cka.accumulate(batchA: try batch(a, rows, Double.self), batchB: try batch(b, rows, Double.self))
      } else {
        try cka.accumulate(batchA: try batch(a, rows, Float.self), batchB: try batch(b, rows, Float.self))
      }
      meter.update(index + 1)
    }
    meter.finish()
    return Outcome(matrix: try cka.result(), estimator: estimator, kernel: kernel,
                   batchSize: batchSize, batches: cka.batches, examples: cka.examples, available: n)
  }

  /// Rows `rows` of every layer, flattened to `examples × features`.
  static func batch<S: BLASScalar>(_ model: Model, _ rows: Range<Int>, _ type: S.Type) throws -> [Matrix<S>] {
    try zip(model.tensors, model.features).map { t, width in
      Matrix(rows: rows.count, columns: width, elements: try t.converted(rows: rows, as: S.self))
    }
  }

  static func matrices<S: BLASScalar>(_ model: Model, _ type: S.Type) throws -> [Matrix<S>] {
    try batch(model, 0..<model.examples, type)
  }

  static func json(_ outcome: Outcome) -> JSONValue {
    let m = outcome.matrix
    return .object([
      ("model1_name", .string(m.modelA)),
      ("model2_name", .string(m.modelB)),
      ("model1_layers", .strings(m.layersA)),
      ("model2_layers", .strings(m.layersB)),
      ("CKA", .array(m.rows.map { .array($0.map { JSONValue.number($0) }) })),
      ("estimator", .string(outcome.estimator)),
      ("kernel", .string(outcome.kernel.description)),
      ("batch_size", outcome.batchSize.map(JSONValue.int) ?? .null),
      ("examples", .int(outcome.examples)),
      ("batches", .int(outcome.batches)),
      ("warnings", .strings(m.warnings)),
    ])
  }

  /// The table and a line per layer of A naming its best match in B.
  static func report(_ outcome: Outcome) -> String {
    let m = outcome.matrix
    var out = "CKA of \(m.modelA) (rows, \(m.layersA.count) layers) against \(m.modelB) (columns, \(m.layersB.count) layers)\n"
    var how = "estimator \(outcome.estimator), kernel \(outcome.kernel)"
    if let size = outcome.batchSize {
      how += ", batch size \(size): \(outcome.batches) batches, \(outcome.examples) of \(outcome.available) examples"
    } else {
      how += ": \(outcome.examples) examples"
    }
    out += how + "\n\n"
    let rows = m.layersA.indices.map { i in
      [m.layersA[i]] + m.layersB.indices.map { j in cell(m[i, j]) }
    }
    out += Format.table(header: ["layer"] + m.layersB, rows: rows,
                        rightAligned: Set(1...m.layersB.count))
    out += "\nBest match in \(m.modelB) for each layer of \(m.modelA):\n"
    let width = m.layersA.map(\.count).max() ?? 0
    for match in m.bestMatches {
      if let layer = match.layerB {
        out += "  \(Format.left(match.layerA, width))  → \(layer) (\(cell(match.similarity)))\n"
      } else {
        out += "  \(Format.left(match.layerA, width))  → undefined\n"
      }
    }
    return out
  }

  static func cell(_ value: Double) -> String { value.isNaN ? "nan" : Format.fixed(value, 4) }

  /// Writes the heatmap (rows: A's layers, top to bottom; columns: B's) as PNG or SVG, by the
  /// file's extension, through a temporary file renamed at the end.
  static func drawHeatmap(_ m: SimilarityMatrix, to path: String) throws {
    let lowest = m.values.elements.filter(\.isFinite).min() ?? 0
    // Debiased estimates can dip below 0: widen the colour range then, never narrow it.
    let heatmap = Heatmap(
      values: m.rows, rowLabels: m.layersA, columnLabels: m.layersB,
      title: "CKA: \(m.modelA) vs \(m.modelB)", xLabel: "layers of \(m.modelB)",
      yLabel: "layers of \(m.modelA)", range: min(0, lowest)...1, annotate: true)
    switch FigureFormat(path: path) {
    case .svg: try AtomicFile.write(heatmap.svg(), to: path)
    default: try AtomicFile.write(heatmap.png(), to: path)
    }
  }

  /// This module's part of `compare demo`; returns the lines of its report.
  static func demo(examples: String, output: String, console: Console) throws -> [String] {
    let mlp = examples + "/activations_mlp.safetensors", cnn = examples + "/activations_cnn.npz"
    let outcome = try compute(mlp, cnn, layersA: nil, layersB: nil, nameA: "mlp", nameB: "cnn",
                              estimator: "minibatch", kernel: .linear, batchSize: 150,
                              keepLast: false, console: console)
    let m = outcome.matrix
    var lines = ["Minibatch linear CKA, \(m.layersA.count) × \(m.layersB.count) layers, \(outcome.batches) batches of 150 (\(outcome.examples) of \(outcome.available) examples)"]
    for match in m.bestMatches {
      lines.append("  mlp \(match.layerA) is closest to cnn \(match.layerB ?? "-") (CKA \(cell(match.similarity)))")
    }
    let figure = output + "/cka_mlp_cnn.png"
    do {
      try drawHeatmap(m, to: figure)
      lines.append("heatmap: \(figure)")
    } catch {
      lines.append("heatmap not drawn: \(error)")
    }
    return lines
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
