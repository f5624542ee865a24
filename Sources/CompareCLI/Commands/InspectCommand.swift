import Compare

/// `compare inspect FILE[:KEY]`: lists a tensor file's tensors (key, dtype, shape, bytes), with
/// `--stats` their min, max, mean, standard deviation and NaN/∞ counts, and with `--head N`
/// their first N elements in row-major order.
enum InspectCommand: Command {
  static let spec = CommandSpec(
    name: "inspect",
    overview: "List the tensors in a file (key, dtype, shape, bytes) and optionally their statistics.",
    arguments: [ArgumentSpec("ref", help: "A tensor file (.npy, .npz, .safetensors, .pt), or FILE:KEY for one tensor or those under a key.")],
    options: [
      OptionSpec("--stats", help: "Add min, max, mean, std (of the finite values, in float64) and the NaN and ∞ counts."),
      OptionSpec("--head", value: "n", help: "Add the first n elements in row-major (C) order.", default: 0),
    ],
    discussion: "Keys are in file order; dtypes have numpy's names. A torch.save'd dictionary's keys are joined by '.', list items by index.",
    examples: ["compare inspect log.pt", "compare inspect weights.safetensors --stats", "compare inspect ckpt.pt:state_dict --json --head 5"])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let listing = try TensorListing(TensorReference(arguments.argument("ref")!), statistics: arguments.flag("--stats"),
                                    head: try arguments.int("--head", in: 0...Int.max))
    console.write(arguments.flag("--json") ? listing.json().serialized(pretty: true) + "\n" : listing.text)
  }
}
