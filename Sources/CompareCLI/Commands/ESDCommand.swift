import Compare
import Synchronization

/// `compare esd`: the reference tool's per-layer spectral (ESD) table of a model's weights.
enum ESDCommand: Command {
  static let spec = CommandSpec(
    name: "esd",
    overview: "WeightWatcher-style spectral (ESD) metrics of a model's weight matrices.",
    arguments: [
      ArgumentSpec("model", help: "Weights: .safetensors, a Hugging Face model folder, a torch.save'd state dict (.pt, .bin), .npz, .npy or a folder of .npy."),
      ArgumentSpec("more", help: "More models (checkpoints of one network, a base model and its fine-tune): each column of each layer across the models, layers paired by name.",
                   optional: true, repeated: true),
    ],
    options: [
      OptionSpec("--layers", value: "glob", help: "Analyse only layers whose name (or tensor key) matches; or a comma-separated list.", default: "all", repeatable: true),
      OptionSpec("--exclude", value: "glob", help: "Leave out layers whose name (or tensor key) matches; or a comma-separated list.", repeatable: true),
      OptionSpec("--describe", help: "List the layers (layer_id, name, longname, layer_type, N, M, Q, rf, num_evals) without reading weights or computing eigenvalues."),
      OptionSpec("--3d", value: "rule", help: "How 3-D weights are read: by the rule below, all as stacked experts, or all as conv1d kernels.",
                 default: ESDOptions().threeDimensional.rawValue, values: ThreeDimensionalRule.allCases.map(\.rawValue)),
      OptionSpec("--min-evals", value: "n", help: "Skip (and list) layers with fewer eigenvalues.", default: ESDOptions().minEvals),
      OptionSpec("--seed", value: "n", help: "Seed of the shuffles behind rand_distance.", default: ESDOptions().seed),
      OptionSpec("--rand-repeats", value: "r", help: "Shuffles per layer; rand_distance is their mean, rand_distance_std their spread.", default: ESDOptions().randRepeats),
      OptionSpec("--tolerance", value: "t", help: "weak_rank_loss counts eigenvalues below this.", default: ESDOptions().tolerance),
      OptionSpec("--rand-method", value: "method", help: "W's random counterpart: its elements shuffled (as weightwatcher), or a Gaussian matrix of W's shape, mean and variance.",
                 default: ESDOptions().randMethod.rawValue, values: RandomizationMethod.allCases.map(\.rawValue)),
      OptionSpec("--init", value: "model0", help: "The model at initialisation: adds distance_from_init and friends, layers paired by name."),
      OptionSpec("--delta", help: "Analyse the ESD of W − W0 (needs --init)."),
      OptionSpec("--normalize", help: "Use the 1/N convention: the ESD of WᵀW/N instead of WᵀW."),
      OptionSpec("--no-pool", help: "One row per conv slice instead of pooling the kh·kw slices."),
      OptionSpec("--no-conv-norm", help: "Do not scale conv eigenvalues by 1/2."),
      OptionSpec("--no-randomize", help: "Skip the shuffled ESD (rand_distance and the rand_* columns)."),
      OptionSpec("--no-mp-fit", help: "Skip the Marchenko–Pastur fits."),
      OptionSpec("--fit", value: "kind", help: "Tail distribution (weightwatcher's fit=): power law, truncated power law (adds Lambda), or TPL with xmin near the ESD's peak.",
                 default: ESDOptions().fit.rawValue, values: PowerLawFitKind.allCases.map(\.rawValue)),
      OptionSpec("--fix-fingers", value: "how", help: "Outlying largest eigenvalues (weightwatcher's fix_fingers=): xmin searched near the ESD's peak, or clipped until alpha drops (adds num_fingers, raw_alpha).",
                 values: FingerFix.allCases.map(\.rawValue)),
      OptionSpec("--xmin-max", value: "x", help: "Upper end of the xmin search of xmin_peak and E_TPL.", default: "1.5 x the ESD's peak"),
      OptionSpec("--detx", help: "Add the detX constraint: detX_num, detX_val, detX_val_unrescaled, num_ERG_spikes, ERG_gap."),
      OptionSpec("--precision", value: "p", help: "Arithmetic of the eigenvalues.", default: EigenvalueSolver().precision.rawValue,
                 values: EigenvalueSolver.Precision.allCases.map(\.rawValue)),
      OptionSpec("--method", value: "m", help: "Eigenvalues from a Gram matrix (SVD fallback), always the SVD, or always the Gram.",
                 default: EigenvalueSolver().method.rawValue, values: EigenvalueSolver.Method.allCases.map(\.rawValue)),
      OptionSpec("--csv", help: "Print every column as CSV on stdout."),
      OptionSpec("--plot", value: "dir", help: "Write per-layer ESD figures and an alpha-by-layer overview into this folder."),
      OptionSpec("--shard", value: "I/N", help: "Analyse only part I of N, dealt by eigenvalue work (for job arrays; join the parts with 'compare esd merge')."),
      OptionSpec("-o", "--output", value: "file", help: "Also write the --json document to this file, atomically (a killed job leaves none)."),
      OptionSpec("--plan", help: "Print the eigenvalue work, bytes read, memory and the estimated time at this machine's measured LAPACK speed, without analysing."),
      OptionSpec("--save-esd", value: "file", help: "Write each row's eigenvalues (ascending, float64) under its name, and the shuffled ones under NAME/rand, to an .npz or .safetensors file."),
      OptionSpec("--alpha-ci", value: "r", help: "Percentile interval of alpha (alpha_ci_low, alpha_ci_high) from r bootstrap resamples of the eigenvalues, each refitted with its own xmin, seeded by --seed; 0: none.",
                 default: ESDOptions().alphaResamples),
      OptionSpec("--confidence", value: "level", help: "Coverage of the --alpha-ci interval, in (0, 1).", default: ESDOptions().confidence),
      OptionSpec("--pl-test", value: "r", help: "Goodness of the power-law fit (pl_p_value, Clauset-Shalizi-Newman KS bootstrap of r synthetic samples) seeded by --seed, and likelihood ratio tests against the exponential, lognormal and truncated power law on the same tail (pl_vs_*_R, pl_vs_*_p); 0: none.",
                 default: ESDOptions().powerLawTestSamples),
      OptionSpec("--lora-scale", help: "For a LoRA adapter: ΔW = (lora_alpha/r)·B·A from adapter_config.json (default: B·A, as weightwatcher)."),
      OptionSpec("--base", value: "model", help: "For a LoRA adapter: the base model; adds W (NAME.base) and W + ΔW (NAME.merged) beside each ΔW row."),
    ],
    discussion: """
      Columns keep the reference tool's names (alpha, alpha_weighted, entropy, rand_distance,
      stable_rank, log_spectral_norm, mp_softrank, num_spikes, ...); the README explains each one and
      where Compare differs. Layers appear in the model's order where the files give it (a shard
      index's weight_map, a state dict's key order); safetensors keys are sorted, so there:
      embeddings, numbered blocks in natural order, the rest, lm_head last. 2-D, 3-D and 4-D
      weights are analysed, anything else is listed as skipped with its reason. A 3-D weight
      (a, b, c) is stacked experts (experts, out, in), one row per expert NAME.expert.E after a
      summary row of all experts pooled, when its key contains "expert" or a <= 256 and
      b, c >= 16; else a conv1d kernel (out, in, k) with k slices when c <= 16; else it is
      skipped (--3d). A PEFT LoRA adapter folder (adapter_config.json) gives one row per adapted
      module, layer_type lora: the ESD of ΔW = B·A (its min(r, M) non-zero eigenvalues).
      """,
    examples: [
      "compare esd model.safetensors",
      "compare esd Examples/data/weights_mlp.safetensors --init Examples/data/weights_mlp_init.safetensors",
      "compare esd ./bert-base-uncased --layers 'encoder.layer.*.output.dense' --json",
      "compare esd model.safetensors --describe --exclude '*embed*'",
      "compare esd model.safetensors --save-esd esd.npz",
      "compare esd my-lora-adapter --base base-model --lora-scale",
    ])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let path = arguments.argument("model")!
    var options = ESDOptions()
    options.minEvals = try arguments.int("--min-evals", in: 1...Int.max)
    options.seed = UInt64(try arguments.int("--seed", in: 0...Int.max) as Int)
    options.randRepeats = try arguments.int("--rand-repeats", in: 1...10_000)
    options.randMethod = arguments.choice("--rand-method")
    options.tolerance = try arguments.double("--tolerance", in: 0...Double.greatestFiniteMagnitude)
    options.threeDimensional = arguments.choice("--3d")
    options.pool = !arguments.flag("--no-pool")
    options.convNorm = !arguments.flag("--no-conv-norm")
    options.normalize = arguments.flag("--normalize")
    options.randomize = !arguments.flag("--no-randomize")
    options.mpFit = !arguments.flag("--no-mp-fit")
    options.delta = arguments.flag("--delta")
    options.solver = EigenvalueSolver(method: arguments.choice("--method"), precision: arguments.choice("--precision"))
    options.alphaResamples = try arguments.int("--alpha-ci", in: 0...1_000_000)
    options.powerLawTestSamples = try arguments.int("--pl-test", in: 0...1_000_000)
    options.confidence = try arguments.double("--confidence", in: 0...1)
    guard options.confidence > 0, options.confidence < 1 else {
      throw UsageError("--confidence expects a number strictly between 0 and 1, got '\(arguments.string("--confidence")!)'",
                       command: spec.name)
    }
    if arguments.given("--confidence") && options.alphaResamples == 0 {
      throw UsageError("--confidence is the coverage of the --alpha-ci interval: give --alpha-ci <r> too", command: spec.name)
    }
    options.fit = arguments.choice("--fit")
    options.fixFingers = arguments.given("--fix-fingers") ? arguments.choice("--fix-fingers") as FingerFix : nil
    options.detX = arguments.flag("--detx")
    if arguments.given("--xmin-max") {
      guard options.fixFingers == .xminPeak || options.fit == .extendedTruncatedPowerLaw else {
        throw UsageError("--xmin-max applies to --fix-fingers xmin_peak or --fit E_TPL", command: spec.name)
      }
      options.xminMax = try arguments.double("--xmin-max", in: Double.leastNonzeroMagnitude...Double.greatestFiniteMagnitude)
    }
    do { try options.validate() } catch let error as InputError {
      throw UsageError(error.message, command: spec.name)
    }
    let initPath = arguments.string("--init")
    if options.delta && initPath == nil {
      throw UsageError("--delta needs --init <model0>", command: spec.name)
    }
    let json = arguments.flag("--json"), csv = arguments.flag("--csv")
    if json && csv { throw UsageError("--json and --csv cannot be combined", command: spec.name) }
    func globs(_ option: String) -> [String] {
      arguments.strings(option).flatMap { $0.split(separator: ",").map(String.init) }
    }
    var request = ESDRequest(options: options, layers: globs("--layers"), excluding: globs("--exclude"))
    request.loraScale = arguments.flag("--lora-scale") ? .config : .none
    request.plot = arguments.string("--plot")
    request.saveESD = arguments.string("--save-esd")
    if let saveESD = request.saveESD, !ESDSpectra.canWrite(saveESD) {
      throw UsageError("--save-esd expects a .npz or .safetensors file, got '\(saveESD)'", command: spec.name)
    }
    let describe = arguments.flag("--describe"), planOnly = arguments.flag("--plan")
    func used(_ option: String) -> Bool { arguments.given(option) || arguments.flag(option) }
    if describe && planOnly { throw UsageError("--describe and --plan cannot be combined", command: spec.name) }
    // Options that only change the eigenvalues, their fits or the outputs of an analysis.
    let analysisOnly = ["--init", "--delta", "--plot", "--save-esd", "--shard", "--seed", "--rand-repeats", "--rand-method",
                        "--tolerance", "--normalize", "--no-conv-norm", "--no-randomize", "--no-mp-fit", "--fit",
                        "--fix-fingers", "--xmin-max", "--detx", "--precision", "--method", "--alpha-ci", "--pl-test"]
    for option in analysisOnly where describe && used(option) {
      throw UsageError("--describe computes no eigenvalues: it cannot be combined with \(option)", command: spec.name)
    }
    for option in ["--plot", "--save-esd", "--csv"] where planOnly && used(option) {
      throw UsageError("--plan analyses nothing: it cannot be combined with \(option)", command: spec.name)
    }
    for option in ["--rand-repeats", "--rand-method"] where !options.randomize && used(option) {
      throw UsageError("\(option) sets the shuffled ESD, which --no-randomize turns off", command: spec.name)
    }
    let shard: ESDShard?
    do { shard = try arguments.string("--shard").map { try ESDShard($0) } } catch let error as InputError {
      throw UsageError(error.message, command: spec.name)
    }
    request.output = arguments.string("--output")
    try arguments.checkOutputs([("-o", request.output), ("--save-esd", request.saveESD)], inputs: ["--init", "--base"],
                               more: arguments.positionals.map { (option: "model", reference: $0) },
                               folders: [("--plot", request.plot)])
    if let output = request.output { try AtomicFile.checkDestination(output) }

    /// Prints one of the three encodings, as --json or --csv ask; with -o, writes the JSON
    /// document there too (for --describe and --plan as for an analysis).
    func emit(_ document: @autoclosure () -> JSONValue, csv table: @autoclosure () -> String,
              text: @autoclosure () -> String) throws {
      let serialized = json || request.output != nil ? document().serialized(pretty: true) + "\n" : ""
      if let output = request.output { try AtomicFile.write(serialized, to: output) }
      console.write(json ? serialized : csv ? table() : text())
    }
    if arguments.positionals.count > 1 {
      for option in ["--init", "--shard", "--output", "--save-esd", "--plan", "--base"] where used(option) {
        throw UsageError("\(option) takes one model; several models are compared side by side", command: spec.name)
      }
      if describe { throw UsageError("--describe takes one model", command: spec.name) }
      let series = try request.series(arguments.positionals)
      for result in series.results { for line in result.messages { console.warn(line) } }
      console.write(json ? series.json().serialized(pretty: true) + "\n" : csv ? series.csv() : series.text())
      return
    }
    let adapter = try LoRAAdapter.isAdapter(at: path) ? LoRAAdapter(path: path) : nil
    let misplaced = adapter == nil ? ["--lora-scale", "--base"] : ["--init", "--delta", "--shard", "--plan"]
    for option in misplaced where arguments.flag(option) || arguments.given(option) {
      throw UsageError(adapter == nil ? "\(option) needs a LoRA adapter folder (with adapter_config.json), got '\(path)'"
                                      : "\(option) does not apply to a LoRA adapter", command: spec.name)
    }
    let base = try arguments.string("--base").map { try ModelWeights(path: $0) }
    let model = try adapter == nil ? ModelWeights(path: path) : nil
    for line in base?.warnings ?? [] { console.warn(line) }
    if describe {
      for line in model?.warnings ?? [] { console.warn(line) }
      let description = try adapter.map { try $0.describe(options: options, base: base, layers: request.layers, excluding: request.excluded) }
        ?? model!.describe(options: options, layers: request.layers, excluding: request.excluded)
      try emit(description.json(), csv: description.csv(), text: description.text)
      return
    }
    if let saveESD = request.saveESD { try AtomicFile.checkDestination(saveESD) }
    let initial = try initPath.map { try ModelWeights(path: $0) }
    for line in initial?.warnings ?? [] { console.warn(line) }
    if let model, arguments.flag("--plan") {
      for line in model.warnings { console.warn(line) }
      let plan = try model.esdPlan(options: options, layers: request.layers, excluding: request.excluded,
                                   initial: initial, shard: shard)
      try emit(plan.json(), csv: plan.text, text: plan.text)
      return
    }
    if let model, let plan = model.esdLongRunPlan(options: options, layers: request.layers, excluding: request.excluded,
                                                  initial: initial, shard: shard) {
      console.warn("note: about \(KernelRunPlan.duration(plan.estimatedSeconds)) of work (--plan shows the estimate)")
    }
    let meter = Mutex(ProgressMeter(console: console, label: "esd", total: 0))
    defer { meter.withLock { $0.finish() } }
    let progress: @Sendable (Int, Int, String) -> Void = { done, total, name in
      meter.withLock { $0.update(done, of: total, detail: name) }
    }
    let result = try adapter.map { try request.run($0, base: base, progress: progress) }
      ?? request.run(model!, initial: initial, shard: shard, progress: progress)
    meter.withLock { $0.finish() }
    for line in result.messages { console.warn(line) }
    // The run wrote -o itself (`ESDRequest.run`).
    console.write(json ? result.json().serialized(pretty: true) + "\n" : csv ? result.csv() : result.text)
  }
}
