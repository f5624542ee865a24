#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Compare
import Synchronization

/// `compare esd`: the reference tool's per-layer spectral (ESD) table of a model's weights.
enum ESDCommand: Command {
  static let spec = CommandSpec(
    name: "esd",
    overview: "WeightWatcher-style spectral (ESD) metrics of a model's weight matrices.",
    arguments: [
      ArgumentSpec("model", help: "Weights: .safetensors, a Hugging Face model folder, a torch.save'd state dict (.pt, .bin), .npz, .npy or a folder of .npy."),
    ],
    options: [
      OptionSpec("--layers", value: "glob", help: "Analyse only layers whose name (or tensor key) matches; or a comma-separated list.", default: "all", repeatable: true),
      OptionSpec("--min-evals", value: "n", help: "Skip (and list) layers with fewer eigenvalues.", default: "8"),
      OptionSpec("--seed", value: "n", help: "Seed of the shuffles behind rand_distance.", default: "0"),
      OptionSpec("--rand-repeats", value: "r", help: "Shuffles per layer; rand_distance is their mean, rand_distance_std their spread.", default: "1"),
      OptionSpec("--init", value: "model0", help: "The model at initialisation: adds distance_from_init and friends, layers paired by name."),
      OptionSpec("--delta", help: "Analyse the ESD of W − W0 (needs --init)."),
      OptionSpec("--normalize", help: "Use the 1/N convention: the ESD of WᵀW/N instead of WᵀW."),
      OptionSpec("--no-pool", help: "One row per conv slice instead of pooling the kh·kw slices."),
      OptionSpec("--no-conv-norm", help: "Do not scale conv eigenvalues by 1/2."),
      OptionSpec("--no-randomize", help: "Skip the shuffled ESD (rand_distance and the rand_* columns)."),
      OptionSpec("--no-mp-fit", help: "Skip the Marchenko–Pastur fits."),
      OptionSpec("--precision", value: "p", help: "Arithmetic of the eigenvalues.", default: "float64", values: ["float64", "float32"]),
      OptionSpec("--method", value: "m", help: "Eigenvalues from a Gram matrix (SVD fallback), always the SVD, or always the Gram.", default: "automatic", values: ["automatic", "svd", "gram"]),
      OptionSpec("--csv", help: "Print every column as CSV on stdout."),
      OptionSpec("--plot", value: "dir", help: "Write per-layer ESD figures and an alpha-by-layer overview into this folder."),
    ],
    discussion: """
      Columns keep the reference tool's names (alpha, alpha_weighted, entropy, rand_distance,
      stable_rank, log_spectral_norm, mp_softrank, num_spikes, ...); the README explains each one and
      where Compare differs. Layers appear in natural order of their names (layer.2 before layer.10);
      2-D and 4-D weights are analysed, anything else is listed as skipped with its reason.
      """,
    examples: [
      "compare esd model.safetensors",
      "compare esd Examples/data/weights_mlp.safetensors --init Examples/data/weights_mlp_init.safetensors",
      "compare esd ./bert-base-uncased --layers 'encoder.layer.*.output.dense' --json",
    ])

  /// Prefixes under which state dicts are commonly nested; stripped when every key has one.
  static let nestingKeys = ["state_dict", "model_state_dict", "model", "module", "net", "network"]

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let path = arguments.argument("model")!
    var options = ESDOptions()
    options.minEvals = try arguments.int("--min-evals", default: 8, in: 1...Int.max)
    options.seed = UInt64(try arguments.int("--seed", default: 0, in: 0...Int.max))
    options.randRepeats = try arguments.int("--rand-repeats", default: 1, in: 1...10_000)
    options.pool = !arguments.flag("--no-pool")
    options.convNorm = !arguments.flag("--no-conv-norm")
    options.normalize = arguments.flag("--normalize")
    options.randomize = !arguments.flag("--no-randomize")
    options.mpFit = !arguments.flag("--no-mp-fit")
    options.delta = arguments.flag("--delta")
    options.solver = EigenvalueSolver(
      method: EigenvalueSolver.Method(rawValue: arguments.string("--method") ?? "automatic") ?? .automatic,
      precision: EigenvalueSolver.Precision(rawValue: arguments.string("--precision") ?? "float64") ?? .float64)
    let initPath = arguments.string("--init")
    if options.delta && initPath == nil {
      throw UsageError("--delta needs --init <model0>", command: spec.name)
    }
    let json = arguments.flag("--json"), csv = arguments.flag("--csv")
    if json && csv { throw UsageError("--json and --csv cannot be combined", command: spec.name) }
    let patterns = arguments.strings("--layers").flatMap { $0.split(separator: ",").map(String.init) }

    let model = try ModelWeights(path)
    var (layers, skipped) = try model.layers(matching: patterns)
    if let initPath {
      let base = try ModelWeights(initPath)
      layers = try pair(layers, with: base, modelPath: path)
    }
    guard !layers.isEmpty else {
      if patterns.isEmpty {
        throw InputError("\(path): no 2-D or 4-D weights to analyse (\(model.tensors.count) tensor\(model.tensors.count == 1 ? "" : "s"), none a matrix or conv kernel)")
      }
      throw InputError("\(path): no layer matches \(patterns.joined(separator: ", ")) (layers: \(TensorFile.list(model.layerNames)))")
    }

    var meter = ProgressMeter(console: console, label: "esd", total: layers.count)
    let meterBox = Mutex(meter)
    let reportsByLayer: [[LayerReport]]
    do {
      reportsByLayer = try ESDAnalyzer(options: options).analyze(layers) { done, name in
        meterBox.withLock { $0.update(done, detail: name) }
      }
    } catch let error as InputError {
      meterBox.withLock { $0.finish() }
      throw InputError("\(path): \(error.message)")
    }
    meter = meterBox.withLock { $0 }
    meter.finish()
    var reports = reportsByLayer.flatMap { $0 }
    for r in reports where r.status == .skipped { skipped.append((r.name, r.reason)) }
    reports.removeAll { $0.status == .skipped }
    for r in reports where r.status == .failed { console.warn("warning: layer '\(r.name)': \(r.reason)") }
    let summary = ESDSummary(reports)

    if let dir = arguments.string("--plot") {
      try ESDPlots.write(reports, to: dir, title: baseName(path))
    }
    if json {
      console.print(document(reports, summary: summary, skipped: skipped, options: options).serialized(pretty: true))
    } else if csv {
      console.write(csvText(reports))
    } else {
      console.write(table(reports))
      for line in summaryLines(summary, skipped: skipped, options: options) { console.print(line) }
    }
  }

  // MARK: Pairing with the init model

  /// Attaches each layer's counterpart in `base` by name (two single-layer files pair with each
  /// other whatever their names).
  static func pair(_ layers: [WeightLayer], with base: ModelWeights, modelPath: String) throws -> [WeightLayer] {
    let (baseLayers, _) = try base.layers(matching: [])
    let byName = Dictionary(baseLayers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let single = layers.count == 1 && baseLayers.count == 1
    return try layers.map { layer in
      guard let other = single ? baseLayers[0] : byName[layer.name] else {
        throw InputError("\(base.path): has no layer '\(layer.name)' to pair with \(modelPath)")
      }
      guard other.shape == layer.shape else {
        throw InputError("layer '\(layer.name)': shape \(shapeText(layer.shape)) in \(modelPath) but \(shapeText(other.shape)) in \(base.path)")
      }
      return WeightLayer(name: layer.name, kind: layer.kind, shape: layer.shape, load: layer.load, loadInit: other.load)
    }
  }

  static func shapeText(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }

  static func baseName(_ path: String) -> String {
    let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
    return String(trimmed.split(separator: "/").last ?? Substring(trimmed))
  }

  // MARK: Output

  static let tableColumns = ["name", "N", "M", "alpha", "alpha_weighted", "entropy", "rand_distance",
                             "stable_rank", "log_spectral_norm", "mp_softrank", "num_spikes", "warning"]

  static func cell(_ value: LayerReport.Value, digits: Int = 3) -> String {
    switch value {
    case .int(let i): return String(i)
    case .double(let d): return abs(d) >= 1e5 || (abs(d) < 1e-3 && d != 0) ? Format.general(d, 3) : Format.fixed(d, digits)
    case .string(let s): return s
    case .null: return "-"
    }
  }

  static func table(_ reports: [LayerReport], columns chosen: [String]? = nil) -> String {
    var columns = chosen ?? tableColumns
    if chosen == nil, reports.contains(where: { $0.initDistance != nil }) {
      columns.insert(contentsOf: ["relative_distance_from_init", "cka_from_init"], at: columns.count - 1)
    }
    let rows = reports.map { r -> [String] in
      columns.map { column in
        if column == "name", let slice = r.sliceIndex { return "\(r.name)[\(slice)]" }
        if column == "warning", r.status == .failed { return "failed" }
        return cell(r.value(column))
      }
    }
    return Format.table(header: columns, rows: rows, rightAligned: Set(1..<(columns.count - 1)))
  }

  static func summaryLines(_ summary: ESDSummary, skipped: [(String, String)], options: ESDOptions) -> [String] {
    var lines = [""]
    let means = summary.means.map { "\($0.0) \(Format.fixed($0.1, 3))" }.joined(separator: ", ")
    lines.append("Summary over \(summary.analysed) layer\(summary.analysed == 1 ? "" : "s"): \(means.isEmpty ? "-" : means)")
    if summary.failed > 0 { lines.append("Failed: \(summary.failed) layer\(summary.failed == 1 ? "" : "s") (not averaged; see the warnings above).") }
    let small = skipped.filter { !$0.1.hasPrefix("1-D") && !$0.1.hasPrefix("0-D") }
    let vectors = skipped.count - small.count
    if vectors > 0 { lines.append("Skipped \(vectors) tensor\(vectors == 1 ? "" : "s") with fewer than 2 dimensions (biases, norms).") }
    for (name, reason) in small { lines.append("Skipped \(name): \(reason)") }
    var conventions = ["ESD of WᵀW\(options.normalize ? "/N" : "") (eigenvalues = squared singular values\(options.normalize ? " / N" : ""))"]
    if options.randomize { conventions.append("rand_distance seed \(options.seed)\(options.randRepeats > 1 ? ", mean of \(options.randRepeats) shuffles" : "")") }
    if options.delta { conventions.append("ESD of W − W0") }
    lines.append("Conventions: " + conventions.joined(separator: "; ") + ".")
    return lines
  }

  static func json(_ value: LayerReport.Value) -> JSONValue {
    switch value {
    case .int(let i): return .int(i)
    case .double(let d): return .double(d)
    case .string(let s): return .string(s)
    case .null: return .null
    }
  }

  static func document(_ reports: [LayerReport], summary: ESDSummary, skipped: [(String, String)],
                       options: ESDOptions) -> JSONValue {
    let layers = JSONValue.array(reports.map { r in .object(r.columns.map { ($0.0, json($0.1)) }) })
    var summaryPairs = summary.means.map { ($0.0, JSONValue.double($0.1)) }
    summaryPairs += [("num_layers", .int(summary.analysed)), ("num_failed", .int(summary.failed)),
                     ("num_skipped", .int(skipped.count))]
    return .object([
      ("layers", layers),
      ("summary", .object(summaryPairs)),
      ("skipped", .array(skipped.map { .object([("name", .string($0.0)), ("reason", .string($0.1))]) })),
      ("conventions", .object([
        ("esd", .string(options.normalize ? "eigenvalues of W^T W / N" : "eigenvalues of W^T W (no 1/N)")),
        ("conv2d_norm", .bool(options.convNorm)), ("pool", .bool(options.pool)),
        ("delta", .bool(options.delta)), ("seed", .int(Int(options.seed))),
        ("rand_repeats", .int(options.randRepeats)),
        ("precision", .string(options.solver.precision.rawValue)),
        ("method", .string(options.solver.method.rawValue)),
      ])),
    ])
  }

  static func csvText(_ reports: [LayerReport]) -> String {
    var header: [String] = []
    for r in reports { for (name, _) in r.columns where !header.contains(name) { header.append(name) } }
    var table = CSVTable(header: header)
    for r in reports {
      table.append(header.map { column in
        switch r.value(column) {
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .string(let s): return s
        case .null: return ""
        }
      })
    }
    return table.text
  }

  // MARK: Demo

  /// This module's part of `compare demo`: the ESD table summary of the example MLP (and CNN)
  /// against its init, and an alpha-by-layer figure in `output`.
  static func demo(examples: String, output: String, console: Console) throws -> [String] {
    var lines: [String] = []
    var all: [LayerReport] = []
    for (model, initModel) in [("weights_mlp.safetensors", "weights_mlp_init.safetensors"),
                               ("weights_cnn.pt", "weights_cnn_init.pt")] {
      let path = examples + "/" + model
      let weights: ModelWeights
      do { weights = try ModelWeights(path) } catch { lines.append("\(model): not readable in this build (\(error))"); continue }
      var options = ESDOptions()
      options.seed = 0
      var (layers, _) = try weights.layers(matching: [])
      layers = try pair(layers, with: try ModelWeights(examples + "/" + initModel), modelPath: path)
      let reports = try ESDAnalyzer(options: options).analyze(layers).flatMap { $0 }.filter { $0.status != .skipped }
      all += reports
      lines.append("compare esd \(path) --init \(examples)/\(initModel)")
      let compact = ["name", "N", "M", "alpha", "entropy", "rand_distance", "mp_softrank", "num_spikes",
                     "cka_from_init", "warning"]
      lines += table(reports, columns: compact).split(separator: "\n").map { "  " + $0 }
      let summary = ESDSummary(reports)
      let alpha = summary.means.first { $0.0 == "alpha" }?.1 ?? .nan
      let moved = reports.compactMap { r -> Double? in
        if case .double(let x) = r.value("relative_distance_from_init") { return x }
        return nil
      }
      lines.append("  mean alpha \(Format.fixed(alpha, 2)); layers moved \(Format.fixed(100 * (moved.min() ?? .nan), 0))–\(Format.fixed(100 * (moved.max() ?? .nan), 0)) % from init (‖W − W0‖/‖W0‖)")
    }
    if !all.isEmpty {
      try ESDPlots.writeOverview(all, to: output + "/esd_alpha_by_layer", title: "Example models")
      lines.append("Figure: \(output)/esd_alpha_by_layer.svg")
    }
    return lines
  }
}

/// The weights of a model on disk: one file, a Hugging Face folder (single or sharded
/// safetensors, `pytorch_model*.bin`) or a folder of `.npy`, with tensors in natural order of
/// their keys and a common state-dict prefix (`state_dict.`, `model.`) removed.
struct ModelWeights {
  let path: String
  /// Tensors of every file, in natural order of their keys.
  let tensors: [Tensor]
  /// Their keys, with a common nesting prefix removed.
  let keys: [String]

  init(_ path: String) throws {
    self.path = path
    var tensors: [Tensor] = []
    for file in try ModelWeights.files(at: path) {
      tensors += try TensorFile.open(file).tensors
    }
    var keys = tensors.map(\.key)
    if let prefix = ESDCommand.nestingKeys.first(where: { p in !keys.isEmpty && keys.allSatisfy { $0.hasPrefix(p + ".") } }) {
      keys = keys.map { String($0.dropFirst(prefix.count + 1)) }
    }
    let order = keys.indices.sorted { NaturalOrder.precedes(keys[$0], keys[$1]) }
    self.tensors = order.map { tensors[$0] }
    self.keys = order.map { keys[$0] }
  }

  /// The files holding a model's weights.
  static func files(at path: String) throws -> [String] {
    var info = stat()
    guard stat(path, &info) == 0 else {
      let reference = TensorReference(path)
      if let key = reference.key, stat(reference.path, &info) == 0 {
        throw ReadError(file: reference.path, "esd reads a whole model, not FILE:KEY; choose layers with --layers '\(key)'")
      }
      throw ReadError(file: path, "no such file")
    }
    guard (info.st_mode & S_IFMT) == S_IFDIR else { return [path] }
    let names = try listFolder(path)
    let base = path.hasSuffix("/") ? path : path + "/"
    if names.contains("model.safetensors") { return [base + "model.safetensors"] }
    let shards = names.filter { $0.hasPrefix("model-") && $0.hasSuffix(".safetensors") }
    if let index = names.first(where: { $0.hasSuffix(".safetensors.index.json") }) {
      let listed = try shardNames(inIndex: base + index)
      guard !listed.isEmpty else {
        throw ReadError(file: base + index, "lists no .safetensors shards (expected JSON with a \"weight_map\" of tensor names to shard files)")
      }
      for name in listed where !names.contains(name) {
        throw ReadError(file: base + index, "lists shard '\(name)', which is not in the folder")
      }
      return listed.sorted { NaturalOrder.precedes($0, $1) }.map { base + $0 }
    }
    if !shards.isEmpty { return shards.sorted { NaturalOrder.precedes($0, $1) }.map { base + $0 } }
    let otherSafetensors = names.filter { $0.hasSuffix(".safetensors") }
    if !otherSafetensors.isEmpty { return otherSafetensors.sorted { NaturalOrder.precedes($0, $1) }.map { base + $0 } }
    let bins = names.filter { $0.hasPrefix("pytorch_model") && $0.hasSuffix(".bin") }
    if !bins.isEmpty { return bins.sorted { NaturalOrder.precedes($0, $1) }.map { base + $0 } }
    if names.contains(where: { $0.hasSuffix(".npy") }) { return [path] }
    throw ReadError(file: path, "folder has no model.safetensors, model-*.safetensors, pytorch_model*.bin or .npy files")
  }

  /// The distinct `*.safetensors` file names in an index's `weight_map` (its string values).
  static func shardNames(inIndex path: String) throws -> [String] {
    let file = try MappedFile(path: path)
    let text = String(decoding: file.bytes, as: UTF8.self)
    var names: [String] = []
    var rest = Substring(text)
    while let open = rest.firstIndex(of: "\"") {
      let after = rest[rest.index(after: open)...]
      guard let close = after.firstIndex(of: "\"") else { break }
      let word = String(after[..<close])
      if word.hasSuffix(".safetensors"), !word.contains("/"), !names.contains(word) { names.append(word) }
      rest = after[after.index(after: close)...]
    }
    return names
  }

  static func listFolder(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else { throw ReadError(file: path, "folder cannot be read") }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if !name.hasPrefix(".") { names.append(name) }
    }
    return names
  }

  /// Layer names: keys without a trailing `.weight`.
  var layerNames: [String] {
    keys.indices.filter { tensors[$0].shape.count == 2 || tensors[$0].shape.count == 4 }.map { ModelWeights.layerName($0 < keys.count ? keys[$0] : "") }
  }

  static func layerName(_ key: String) -> String {
    key.hasSuffix(".weight") ? String(key.dropLast(7)) : key
  }

  /// The 2-D and 4-D weights whose name or key matches one of `patterns` (all when empty), and
  /// the other tensors with the reason they are left out.
  func layers(matching patterns: [String]) throws -> (layers: [WeightLayer], skipped: [(String, String)]) {
    var layers: [WeightLayer] = [], skipped: [(String, String)] = []
    for (tensor, key) in zip(tensors, keys) {
      let name = ModelWeights.layerName(key)
      if !patterns.isEmpty, !patterns.contains(where: { fnmatch($0, name, 0) == 0 || fnmatch($0, key, 0) == 0 }) {
        continue
      }
      guard tensor.dtype.isFloatingPoint else {
        skipped.append((key, "\(tensor.dtype) tensor, not weights"))
        continue
      }
      switch tensor.shape.count {
      case 2, 4:
        if tensor.shape.contains(0) {
          skipped.append((key, "empty tensor \(tensor.shapeDescription)"))
          continue
        }
        let kind: WeightLayer.Kind = tensor.shape.count == 4 ? .conv2d
          : name.lowercased().contains("embed") ? .embedding : .dense
        layers.append(WeightLayer(name: name, kind: kind, shape: tensor.shape, load: { try tensor.doubles() }))
      case 0, 1:
        skipped.append((key, "\(tensor.shape.count)-D tensor (bias or norm)"))
      default:
        skipped.append((key, "\(tensor.shape.count)-D tensor \(tensor.shapeDescription): only 2-D and 4-D weights have an ESD"))
      }
    }
    return (layers, skipped)
  }
}

/// The figures of `compare esd --plot` and the demo (PNG).
enum ESDPlots {
  /// Per layer a log-log ESD histogram with the power-law fit and xmin marked
  /// (`esd_<layer>.png`) and the ESD beside its shuffled ESD (`esd_<layer>_rand.png`); one
  /// overview of alpha by layer (`esd_alpha_by_layer.png`).
  static func write(_ reports: [LayerReport], to dir: String, title: String) throws {
    try Folders.create(dir)
    let base = dir.hasSuffix("/") ? dir : dir + "/"
    for report in reports {
      guard let spectrum = report.spectrum, spectrum.lambdaMax > 0 else { continue }
      let name = fileName(report)
      try AtomicFile.write(esdPlot(report, spectrum).png(), to: base + "esd_\(name).png")
      if let rand = report.firstRandomEigenvalues {
        try AtomicFile.write(randomPlot(report, spectrum, rand).png(), to: base + "esd_\(name)_rand.png")
      }
    }
    try writeOverview(reports, to: base + "esd_alpha_by_layer", title: title)
  }

  static func fileName(_ report: LayerReport) -> String {
    let name = report.sliceIndex.map { "\(report.name).slice\($0)" } ?? report.name
    return String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" })
  }

  /// Log-spaced histogram of the positive values as a density: (edges, heights).
  static func logHistogram(_ values: [Double], bins: Int = 60, range: (Double, Double)? = nil) -> ([Double], [Double]) {
    let positive = values.filter { $0 > 0 }
    guard let lo = range?.0 ?? positive.min(), let hi = range?.1 ?? positive.max(), lo > 0, hi > lo else { return ([], []) }
    let a = log10(lo), b = log10(hi) + 1e-12
    let edges = (0...bins).map { pow(10, a + (b - a) * Double($0) / Double(bins)) }
    var counts = [Double](repeating: 0, count: bins)
    for v in positive {
      let k = Int((log10(v) - a) / (b - a) * Double(bins))
      if k >= 0 && k < bins { counts[k] += 1 }
    }
    let heights = (0..<bins).map { counts[$0] / (Double(positive.count) * (edges[$0 + 1] - edges[$0])) }
    return (edges, heights)
  }

  static func esdPlot(_ report: LayerReport, _ spectrum: Spectrum) -> Plot {
    var caption = report.name
    if let fit = report.powerLaw {
      caption += ": alpha \(Format.fixed(fit.alpha, 2)), D \(Format.fixed(fit.d, 3)), xmin \(Format.general(fit.xmin, 3))"
    }
    var plot = Plot(title: caption, xLabel: "eigenvalue of W^T W", yLabel: "density",
                    xScale: .log10, yScale: .log10)
    let (edges, heights) = logHistogram(spectrum.eigenvalues.filter { $0 > PowerLawFit.threshold })
    plot.addBars(edges: edges, heights: heights.map { $0 > 0 ? $0 : .nan }, label: "ESD")
    if let fit = report.powerLaw {
      // The fitted density, scaled by the tail's share of the eigenvalues.
      let share = Double(fit.tailCount) / Double(spectrum.eigenvalues.filter { $0 > PowerLawFit.threshold }.count)
      let xs = (0...40).map { fit.xmin * pow(fit.xmax / fit.xmin, Double($0) / 40) }
      let ys = xs.map { share * (fit.alpha - 1) / fit.xmin * pow($0 / fit.xmin, -fit.alpha) }
      plot.addLine(x: xs, y: ys, label: "power law, alpha \(Format.fixed(fit.alpha, 2))", dashed: true)
      plot.addVerticalLine(at: fit.xmin, label: "xmin")
    }
    if let mp = report.marchenkoPastur { plot.addVerticalLine(at: mp.bulkMax, label: "MP bulk edge") }
    return plot
  }

  static func randomPlot(_ report: LayerReport, _ spectrum: Spectrum, _ rand: [Double]) -> Plot {
    let all = (spectrum.eigenvalues + rand).filter { $0 > PowerLawFit.threshold }
    let range = (all.min() ?? 1, all.max() ?? 1)
    let distance = report.randDistance.map { ", rand_distance \(Format.fixed($0, 3))" } ?? ""
    var plot = Plot(title: "\(report.name) vs shuffled\(distance)", xLabel: "eigenvalue of W^T W",
                    yLabel: "density", xScale: .log10, yScale: .log10)
    let a = logHistogram(spectrum.eigenvalues.filter { $0 > PowerLawFit.threshold }, range: range)
    let b = logHistogram(rand.filter { $0 > PowerLawFit.threshold }, range: range)
    plot.addBars(edges: a.0, heights: a.1.map { $0 > 0 ? $0 : .nan }, label: "W")
    plot.addBars(edges: b.0, heights: b.1.map { $0 > 0 ? $0 : .nan }, label: "W shuffled")
    return plot
  }

  /// alpha of every layer against its position, with the reference's 2 and 6 marked.
  static func writeOverview(_ reports: [LayerReport], to path: String, title: String) throws {
    var xs: [Double] = [], ys: [Double] = []
    for (i, r) in reports.enumerated() {
      if let fit = r.powerLaw { xs.append(Double(i + 1)); ys.append(fit.alpha) }
    }
    var plot = Plot(title: "\(title): alpha by layer", xLabel: "layer (in table order)", yLabel: "alpha")
    plot.addLine(x: xs, y: ys, label: "alpha", markers: true)
    let span = [0.5, Double(max(reports.count, 1)) + 0.5]
    plot.addLine(x: span, y: [2, 2], label: "2 (below: over-trained)", dashed: true)
    plot.addLine(x: span, y: [6, 6], label: "6 (above: under-trained)", dashed: true)
    try AtomicFile.write(plot.png(), to: path + ".png")
    try AtomicFile.write(Array(plot.svg().utf8), to: path + ".svg")
  }
}
