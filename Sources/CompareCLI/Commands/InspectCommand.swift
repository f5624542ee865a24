#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
      OptionSpec("--head", value: "n", help: "Add the first n elements in row-major (C) order.", default: "0"),
    ],
    discussion: "Keys are in file order; dtypes have numpy's names. A torch.save'd dictionary's keys are joined by '.', list items by index.",
    examples: ["compare inspect log.pt", "compare inspect weights.safetensors --stats", "compare inspect ckpt.pt:state_dict --json --head 5"])

  static func run(_ arguments: ParsedArguments, console: Console) throws {
    let reference = TensorReference(arguments.argument("ref")!)
    let head = try arguments.int("--head", default: 0, in: 0...Int.max)
    let stats = arguments.flag("--stats")
    let file = try TensorFile.open(reference.path)
    var tensors = file.tensors
    if let key = reference.key {
      tensors = file.tensors(under: key)
      guard !tensors.isEmpty else {
        throw ReadError(file: reference.path, "has no tensor '\(key)' (available: \(TensorFile.list(file.keys)))")
      }
    }
    var rows: [[String]] = []
    var entries: [JSONValue] = []
    var heads: [String] = []
    for tensor in tensors {
      var row = [tensor.key, tensor.dtype.numpyName, tensor.shapeDescription, String(tensor.byteCount)]
      var entry: [(String, JSONValue)] = [
        ("key", .string(tensor.key)), ("dtype", .string(tensor.dtype.numpyName)),
        ("shape", .array(tensor.shape.map(JSONValue.int))), ("bytes", .int(tensor.byteCount)),
      ]
      if stats {
        let s = try TensorStatistics(of: tensor)
        row += [s.min, s.max, s.mean, s.std].map { $0.map { Format.general($0, 6) } ?? "-" }
        row += [String(s.nan), String(s.inf)]
        entry += [("min", .number(s.min)), ("max", .number(s.max)), ("mean", .number(s.mean)),
                  ("std", .number(s.std)), ("nan", .int(s.nan)), ("inf", .int(s.inf))]
      }
      if head > 0 {
        let values = try tensor.head(head)
        entry.append(("head", .array(values.map { element(of: tensor.dtype, $0) })))
        heads.append("\(tensor.key): [" + values.map { text(of: tensor.dtype, $0) }.joined(separator: ", ") + "]")
      }
      rows.append(row)
      entries.append(.object(entry))
    }
    if arguments.flag("--json") {
      console.print(JSONValue.object([
        ("file", .string(reference.path)), ("format", .string(file.format.rawValue)), ("tensors", .array(entries)),
      ]).serialized(pretty: true))
      return
    }
    let total = tensors.reduce(0) { $0 + $1.byteCount }
    let noun = tensors.count == 1 ? "tensor" : "tensors"
    console.print("\(reference.description): \(file.format.rawValue), \(tensors.count) \(noun), \(byteText(total))")
    var header = ["key", "dtype", "shape", "bytes"]
    if stats { header += ["min", "max", "mean", "std", "nan", "inf"] }
    console.write(Format.table(header: header, rows: rows, rightAligned: Set(3..<header.count)))
    if !heads.isEmpty {
      console.print()
      console.print("first \(head) elements (row-major):")
      for line in heads { console.print(line) }
    }
  }

  /// An element as JSON: integers without a decimal point, bools as booleans, NaN/∞ as null.
  static func element(of dtype: DType, _ x: Double) -> JSONValue {
    if dtype == .bool { return .bool(x != 0) }
    if !dtype.isFloatingPoint, abs(x) < 9.0e15 { return .int(Int(x)) }
    return .double(x)
  }

  /// An element as numpy prints it, roughly: integers plain, floats in shortest form.
  static func text(of dtype: DType, _ x: Double) -> String {
    if dtype == .bool { return x != 0 ? "True" : "False" }
    if !dtype.isFloatingPoint, abs(x) < 9.0e15 { return String(Int(x)) }
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    return Format.general(x, 6)
  }

  /// A byte count for people: `840 B`, `12.3 kB`, `1.07 GB` (powers of 1000).
  static func byteText(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : Format.general(value, 3) + " " + units[unit]
  }

  /// This module's part of `compare demo`: one line per tensor file in the example folder
  /// (name, format, tensor count, total tensor bytes).
  static func demo(examples: String, output: String, console: Console) throws -> [String] {
    guard let dir = opendir(examples) else { return ["cannot read \(examples)"] }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      let suffixes = [".npy", ".npz", ".safetensors", ".pt", ".pth", ".bin"]
      if !name.hasPrefix("."), suffixes.contains(where: { name.hasSuffix($0) }) { names.append(name) }
    }
    closedir(dir)
    names.sort { NaturalOrder.precedes($0, $1) }
    guard !names.isEmpty else { return ["no tensor files in \(examples)"] }
    var rows: [[String]] = []
    var problems: [String] = []
    for name in names {
      let path = examples.hasSuffix("/") ? examples + name : examples + "/" + name
      do {
        let file = try TensorFile.open(path)
        let total = file.tensors.reduce(0) { $0 + $1.byteCount }
        rows.append([name, file.format.rawValue, "\(file.tensors.count) tensor\(file.tensors.count == 1 ? "" : "s")", byteText(total)])
      } catch let error as ReadError {
        rows.append([name, "-", "-", "-"])
        problems.append("\(name): \(error.problem)")
      }
    }
    return Format.table(header: ["file", "format", "tensors", "size"], rows: rows, rightAligned: [2, 3])
      .split(separator: "\n").map(String.init) + problems
  }
}
