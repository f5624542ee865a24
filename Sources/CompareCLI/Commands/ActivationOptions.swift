import Compare

/// The arguments and options `compare cka` and `compare similarity` share, declared once: the two
/// activation sets, which layers and examples of them, their names; and reading them.
enum ActivationOptions {
  static let arguments: [ArgumentSpec] = [
    ArgumentSpec("a", help: "Activations of model A: .safetensors, .npz, .pt or a folder of .npy, one tensor per layer, [examples, ...] (FILE:KEY picks the tensors under KEY)."),
    ArgumentSpec("b", help: "Activations of model B: the same examples in the same order."),
  ]

  static let selection: [OptionSpec] = [
    OptionSpec("--layers-a", value: "names", help: "Model A's layers to compare, comma-separated, in this order. (default: all, in natural order)"),
    OptionSpec("--layers-b", value: "names", help: "Model B's layers to compare. (default: all, in natural order)"),
    OptionSpec("--examples", value: "n", help: "Use only the first n examples of each; when A and B have different counts, these are different inputs paired by position (implies --paired-by-index). (default: all)"),
    OptionSpec("--paired-by-index", help: "A and B hold different inputs paired by position (two datasets through one model, as torch_cka's two data loaders): their example counts may differ, and the first --examples of each (default: the smaller count) are compared."),
    OptionSpec("--pool", value: "pool", help: "How [n, tokens, d] and [n, C, H, W] layers become feature vectors: flattened, mean or max over tokens (or H×W per channel), or the first (cls) or last token.",
               default: ActivationSet.Pooling.flatten.rawValue, values: ActivationSet.Pooling.allCases.map(\.rawValue)),
    OptionSpec("--name-a", value: "name", help: "Model A's name in the output. (default: the file name of <a>)"),
    OptionSpec("--name-b", value: "name", help: "Model B's name in the output. (default: the file name of <b>)"),
  ]

  /// The two activation sets the options select.
  static func pair(_ arguments: ParsedArguments) throws -> (ActivationSet, ActivationSet) {
    let sets = try self.sets(arguments)
    return (sets[0], sets[1])
  }

  /// Every model named on the command line (`compare cka A B C ...`), as `ActivationSet.group`
  /// opens them: A with `--layers-a` and `--name-a`, the others with `--layers-b` (B with
  /// `--name-b`).
  static func sets(_ arguments: ParsedArguments) throws -> [ActivationSet] {
    try ActivationSet.group(
      arguments.positionals, layersA: list(arguments.string("--layers-a")),
      layersB: list(arguments.string("--layers-b")), nameA: arguments.string("--name-a"),
      nameB: arguments.string("--name-b"), examples: try arguments.int("--examples", in: 1...Int.max),
      pairedByIndex: arguments.flag("--paired-by-index"), pool: arguments.choice("--pool"))
  }

  /// Comma-separated names, or `nil` when the option was not given.
  static func list(_ text: String?) -> [String]? {
    text.map { $0.split(separator: ",").map { String($0.trimmingSpaces) }.filter { !$0.isEmpty } }
  }
}
