@testable import CompareCLI
import Compare
import Foundation
import Testing
import TestSupport

/// Bad input as a user meets it, across the commands: each gets one line naming the file and
/// the problem, status 1 (64 for usage mistakes), and leaves no output or temporary file.
/// The inputs are written by the test into a fresh folder.
@Suite("Bad input")
struct BadInputTests {
  let scratch = TemporaryFolder("bad-input")
  var folder: String { scratch.path }

  init() throws {
    // 3 models, 6 test and 10 training examples, 4 classes; deterministic values.
    func logits(_ examples: Int, _ phase: Double) -> [Float] {
      (0..<(3 * examples * 4)).map { Float(sin(Double($0) * 1.7 + phase)) }
    }
    try NPYWriter.write(logits(6, 0), shape: [3, 6, 4], to: folder + "/test.npy")
    try NPYWriter.write(logits(10, 1), shape: [3, 10, 4], to: folder + "/train.npy")
    try NPYWriter.write([Float](), shape: [3, 0, 4], to: folder + "/train_empty.npy")
    try NPYWriter.write((0..<6).map { Int64($0 % 4) }, shape: [6], to: folder + "/y.npy")
    try NPYWriter.write((0..<10).map { Int64($0 % 4) }, shape: [10], to: folder + "/y_train.npy")
    try NPYWriter.write([Int64](repeating: Int64.max, count: 10), shape: [10], to: folder + "/y_train_huge.npy")
  }

  func path(_ name: String) -> String { folder + "/" + name }

  var kernelInputs: [String] {
    ["--test", path("test.npy"), "--train", path("train.npy"), "--test-labels", path("y.npy"),
     "--train-labels", path("y_train.npy")]
  }

  /// The names in `folder`, hidden temporary files included.
  func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).sorted() }

  @Test("logits with an empty axis name the file, before any -k check")
  func emptyTrainingSet() {
    let result = runCompare(["kernel", "--test", path("test.npy"), "--train", path("train_empty.npy"),
                             "--test-labels", path("y.npy"), "--train-labels", path("y.npy")])
    #expect(result.status == 1)
    #expect(result.err == "Error: \(path("train_empty.npy")): logits have shape (3, 0, 4); no axis may be empty\n")
  }

  @Test("an output in a missing folder fails before the work, naming the folder")
  func missingOutputFolder() throws {
    let before = try listing()
    for option in ["--save-kernel", "--save-neighbors"] {
      let out = path(option == "--save-neighbors" ? "nodir/out.npz" : "nodir/out.npy")
      let result = runCompare(["kernel"] + kernelInputs + [option, out])
      #expect(result.status == 1)
      #expect(result.err == "Error: \(out): cannot be written: folder '\(path("nodir"))' does not exist\n")
      #expect(result.out.isEmpty)
    }
    let merge = runCompare(["kernel", "merge", "-o", path("nodir/m.npz"), path("none.npz")])
    #expect(merge.err == "Error: \(path("nodir/m.npz")): cannot be written: folder '\(path("nodir"))' does not exist\n")
    #expect(try listing() == before)
  }

  @Test("an output that is a directory or a FIFO is refused and left alone")
  func outputNotARegularFile() throws {
    try FileManager.default.createDirectory(atPath: path("adir.npz"), withIntermediateDirectories: true)
    let dir = runCompare(["kernel"] + kernelInputs + ["--save-neighbors", path("adir.npz")])
    #expect(dir.status == 1)
    #expect(dir.err == "Error: \(path("adir.npz")): cannot be written: is a directory\n")
    #expect(mkfifo(path("fifo.npy"), 0o644) == 0)
    let fifo = runCompare(["kernel"] + kernelInputs + ["--save-kernel", path("fifo.npy")])
    #expect(fifo.status == 1)
    #expect(fifo.err == "Error: \(path("fifo.npy")): cannot be written: is not a regular file\n")
    var info = stat()
    #expect(stat(path("fifo.npy"), &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
    // Reading a FIFO is refused at once instead of waiting for a writer.
    let read = runCompare(["inspect", path("fifo.npy")])
    #expect(read.status == 1)
    #expect(read.err == "Error: \(path("fifo.npy")): is not a regular file\n")
  }

  @Test("an option that needs another is a usage error")
  func optionNeedsAnother() {
    let neighbors = runCompare(["kernel"] + kernelInputs + ["--neighbors", "5"])
    #expect(neighbors.status == 64)
    #expect(neighbors.err.hasPrefix("Error: --neighbors needs --save-neighbors\nUsage: compare kernel "))
    let grid = runCompare(["kernel", "pairs"] + kernelInputs + ["--grid", path("g.png")])
    #expect(grid.status == 64)
    #expect(grid.err.hasPrefix("Error: --grid needs --images\nUsage: compare kernel pairs "))
    let features = runCompare(["kernel", "pairs"] + kernelInputs + ["--train-features", path("f.npy")])
    #expect(features.err.hasPrefix("Error: --train-features needs --features\nUsage: compare kernel pairs "))
  }

  @Test("kernel pairs: features and images of the wrong shape name their file")
  func pairsFeaturesAndImages() throws {
    // A grid of more than 100 neighbours per row is refused; a start past the pairs says "(none)".
    let wide = runCompare(["kernel", "pairs"] + kernelInputs + ["--neighbors", "101"])
    #expect(wide.status == 64)
    #expect(wide.err.hasPrefix("Error: --neighbors expects an integer in 1...100, got '101'\n"))
    let late = runCompare(["kernel", "pairs"] + kernelInputs + ["--start", "1000"])
    #expect(late.status == 0)
    #expect(late.out.hasPrefix("Most similar test/train pairs by kernel value (3 models)\n(none)\n"))
    try NPYWriter.write([Float](repeating: 1, count: 30), shape: [6, 5], to: path("f.npy"))
    try NPYWriter.write([Float](repeating: 1, count: 40), shape: [10, 4], to: path("f_train.npy"))
    try NPYWriter.write([Float](repeating: 1, count: 6), shape: [6], to: path("f_1d.npy"))
    try NPYWriter.write([Float](repeating: .nan, count: 50), shape: [10, 5], to: path("f_nan.npy"))
    try NPYWriter.write([UInt8](), shape: [6, 0, 0], to: path("img.npy"))
    try NPYWriter.write([UInt8](repeating: 0, count: 10 * 4), shape: [10, 2, 2], to: path("img_train.npy"))
    func pairs(_ extra: [String]) -> (status: Int32, out: String, err: String) {
      runCompare(["kernel", "pairs"] + kernelInputs + extra)
    }
    let columns = pairs(["--features", path("f.npy"), "--train-features", path("f_train.npy")])
    #expect(columns.status == 1)
    #expect(columns.err == "Error: \(path("f_train.npy")): features have 4 columns but \(path("f.npy")) has 5\n")
    let vector = pairs(["--features", path("f_1d.npy"), "--train-features", path("f_train.npy")])
    #expect(vector.err == "Error: \(path("f_1d.npy")): features have shape (6,); expected [6, features]\n")
    let nan = pairs(["--features", path("f.npy"), "--train-features", path("f_nan.npy")])
    #expect(nan.err == "Error: \(path("f_nan.npy")): feature [0, 0] is nan\n")
    let empty = pairs(["--images", path("img.npy"), "--train-images", path("img_train.npy"), "--grid", path("g.png")])
    #expect(empty.status == 1)
    #expect(empty.err == "Error: \(path("img.npy")): images have shape (6, 0, 0); height and width must be positive\n")
    #expect(!FileManager.default.fileExists(atPath: path("g.png")))
  }

  /// A neighbour file as `--save-neighbors` writes it, with the given members.
  func shard(_ name: String, rows: [Int64], indices: [Int64], k: Int) throws -> String {
    let n = indices.count / max(k, 1)
    let members: [(String, [UInt8])] = [
      ("indices.npy", NPYWriter.encode(indices, shape: [n, k])),
      ("values.npy", NPYWriter.encode([Float](repeating: 0.5, count: indices.count), shape: [n, k])),
      ("rows.npy", NPYWriter.encode(rows, shape: [2])),
    ]
    try AtomicFile.write(NPZWriter.archive(members), to: path(name))
    return path(name)
  }

  @Test("kernel merge names the shards that overlap or differ, and never traps on their numbers")
  func mergeShards() throws {
    let a = try shard("a.npz", rows: [0, 3], indices: [0, 1, 2, 3, 4, 5], k: 2)
    let b = try shard("b.npz", rows: [2, 5], indices: [0, 1, 2, 3, 4, 5], k: 2)
    let c = try shard("c.npz", rows: [3, 5], indices: [0, 1, 2, 3, 4, 5], k: 3)
    let overflow = try shard("o.npz", rows: [1, Int64.min], indices: [0, 1], k: 2)
    let negative = try shard("n.npz", rows: [3, 6], indices: [0, 1, 2, -5, 4, 5], k: 2)
    let out = path("merged.npz")
    let before = try listing()
    let overlap = runCompare(["kernel", "merge", "-o", out, b, a])
    #expect(overlap.status == 1)
    #expect(overlap.err == "Error: \(b): rows 2:3 are also in \(a)\n")
    let counts = runCompare(["kernel", "merge", "-o", out, a, c])
    #expect(counts.err == "Error: \(c): holds 3 neighbours per row but \(a) holds 2\n")
    let rows = runCompare(["kernel", "merge", "-o", out, overflow])
    #expect(rows.status == 1)
    #expect(rows.err == "Error: \(overflow): 'rows' must be [START, END] with END − START = 1\n")
    let index = runCompare(["kernel", "merge", "-o", out, a, negative])
    #expect(index.err == "Error: \(negative): 'indices' holds -5 at [1, 1]; training indices are ≥ 0\n")
    #expect(try listing() == before)
    // Labels up to Int64.max vote over the distinct labels: no overflow, no huge vote array.
    let huge = runCompare(["kernel", "merge", "-o", out, a, "--test-labels", path("y.npy"),
                           "--train-labels", path("y_train_huge.npy"), "-k", "2", "--json"])
    #expect(huge.status == 0)
    #expect(huge.out.contains("\"kernel_accuracy\": 0,\n") || huge.out.contains("\"kernel_accuracy\": 0.0,\n"))
  }

  @Test("kernel merge names the shard and the labels file for an index past the labels, and refuses NaN kernel values")
  func mergeShardContents() throws {
    let a = try shard("a.npz", rows: [0, 3], indices: [0, 1, 2, 3, 4, 12], k: 2)
    let out = path("merged.npz")
    let before = try listing()
    let index = runCompare(["kernel", "merge", "-o", out, a, "--test-labels", path("y.npy"), "--train-labels", path("y_train.npy"), "-k", "2"])
    #expect(index.status == 1)
    #expect(index.err == "Error: \(a): neighbour index 12 is outside the 10 training labels of \(path("y_train.npy"))\n")
    let members: [(String, [UInt8])] = [
      ("indices.npy", NPYWriter.encode([Int64](0..<6), shape: [3, 2])),
      ("values.npy", NPYWriter.encode([0.5, 0.4, 0.3, .nan, 0.2, 0.1] as [Float], shape: [3, 2])),
      ("rows.npy", NPYWriter.encode([Int64(3), 6], shape: [2])),
    ]
    try AtomicFile.write(NPZWriter.archive(members), to: path("nan.npz"))
    let nan = runCompare(["kernel", "merge", "-o", out, a, path("nan.npz")])
    #expect(nan.status == 1)
    #expect(nan.err == "Error: \(path("nan.npz")): 'values' holds nan at [1, 1]; kernel values are finite\n")
    #expect(try listing() == (before + ["nan.npz"]).sorted())
    // Negative control: indices inside the labels score.
    let good = try shard("good.npz", rows: [0, 3], indices: [0, 1, 2, 3, 4, 9], k: 2)
    #expect(runCompare(["kernel", "merge", "-o", out, good, "--test-labels", path("y.npy"), "--train-labels", path("y_train.npy"), "-k", "2"]).status == 0)
  }

  @Test("an output that is an input, or two outputs on one file, is a usage error before any work; inputs stay as they were")
  func outputConflicts() throws {
    let kernelUsage = "Usage: compare kernel --test <ref> ... --train <ref> ... --test-labels <ref> --train-labels <ref> [--models <n>] [-k <k>] [--weighting <scheme>] [--ties <rule>] [--class <c>] [--no-log-softmax] [--memory <GiB>] [--sizes <list>] [--figure <file>] [--rows <start:end>] [--save-neighbors <file>] [--neighbors <K>] [--save-kernel <file>] [--plan] [--json]\n  See 'compare kernel --help' for more information.\n"
    try FileManager.default.createSymbolicLink(atPath: path("labels-link.npy"), withDestinationPath: path("y_train.npy"))
    try AtomicFile.write(NPZWriter.archive([("logits.npy", NPYWriter.encode([Float](repeating: 0, count: 72), shape: [3, 6, 4]))]),
                         to: path("l.npz"))
    let a = try shard("a.npz", rows: [0, 3], indices: [0, 1, 2, 3, 4, 5], k: 2)
    let names = try listing()
    let contents = try names.map { try Data(contentsOf: URL(fileURLWithPath: path($0))) }

    let kernel = runCompare(["kernel"] + kernelInputs + ["--save-kernel", folder + "/./test.npy"])
    #expect(kernel.status == 64)
    #expect(kernel.err == "Error: --save-kernel \(folder)/./test.npy is also an input (--test); choose another output path\n" + kernelUsage)
    let labels = runCompare(["kernel"] + kernelInputs + ["--save-neighbors", path("labels-link.npy")])
    #expect(labels.err.hasPrefix("Error: --save-neighbors \(path("labels-link.npy")) is also an input (--train-labels); choose another output path\n"))
    let key = runCompare(["kernel", "--test", path("l.npz") + ":logits", "--train", path("train.npy"), "--test-labels", path("y.npy"),
                          "--train-labels", path("y_train.npy"), "--save-kernel", path("l.npz")])
    #expect(key.err.hasPrefix("Error: --save-kernel \(path("l.npz")) is also an input (--test); choose another output path\n"))
    let same = runCompare(["kernel"] + kernelInputs + ["--save-kernel", path("same.npy"), "--save-neighbors", path("same.npy")])
    #expect(same.status == 64)
    #expect(same.err == "Error: --save-kernel and --save-neighbors both write \(path("same.npy"))\n" + kernelUsage)
    let merge = runCompare(["kernel", "merge", "-o", a, a, "--test-labels", path("y.npy"), "--train-labels", path("y_train.npy")])
    #expect(merge.status == 64)
    #expect(merge.err.hasPrefix("Error: -o \(a) is also an input (<shards>); choose another output path\nUsage: compare kernel merge "))
    let mergeLabels = runCompare(["kernel", "merge", "-o", path("y.npy"), a, "--test-labels", path("y.npy"), "--train-labels", path("y_train.npy")])
    #expect(mergeLabels.err.hasPrefix("Error: -o \(path("y.npy")) is also an input (--test-labels); choose another output path\n"))
    let pairs = runCompare(["kernel", "pairs"] + kernelInputs + ["--images", path("img.png"), "--train-images", path("img.png"),
                                                                  "--grid", path("img.png")])
    #expect(pairs.status == 64)
    #expect(pairs.err.hasPrefix("Error: --grid \(path("img.png")) is also an input (--images); choose another output path\nUsage: compare kernel pairs "))
    #expect(try listing() == names)
    #expect(try names.map { try Data(contentsOf: URL(fileURLWithPath: path($0))) } == contents)
    // Negative control: the same outputs on paths of their own are written.
    let ok = runCompare(["kernel"] + kernelInputs + ["--save-kernel", path("k.npy"), "--save-neighbors", path("n.npz")])
    #expect(ok.status == 0)
    #expect(runCompare(["kernel", "merge", "-o", path("m.npz"), a]).status == 0)
  }

  @Test("cka checks every output before computing, so no output is written when one fails")
  func ckaOutputsCheckedFirst() throws {
    let a = path("acts.npz")
    let layer = (0..<(16 * 3)).map { Float(sin(Double($0))) }
    try AtomicFile.write(NPZWriter.archive([("x.npy", NPYWriter.encode(layer, shape: [16, 3]))]), to: a)
    let result = runCompare(["cka", a, a, "--batch-size", "4", "--save", path("cka.npy"),
                             "--heatmap", path("nodir/h.png")])
    #expect(result.status == 1)
    #expect(result.err == "Error: \(path("nodir/h.png")): cannot be written: folder '\(path("nodir"))' does not exist\n")
    #expect(!FileManager.default.fileExists(atPath: path("cka.npy")))
    try AtomicFile.write(NPZWriter.archive([("x.npy", NPYWriter.encode(Array(layer[0..<9]), shape: [3, 3]))]),
                         to: path("three.npz"))
    let three = runCompare(["cka", path("three.npz"), path("three.npz"), "--batch-size", "4", "--keep-last"])
    #expect(three.status == 1)
    #expect(three.err == "Error: 3 examples are fewer than the 4 a batch needs: use --estimator full\n")
  }

  @Test("FILE:KEY of a missing file names the file; an empty zip says so")
  func missingFileWithKey() throws {
    let missing = runCompare(["inspect", path("nope.npz") + ":logits"])
    #expect(missing.status == 1)
    #expect(missing.err == "Error: \(path("nope.npz")): no such file\n")
    #expect(runCompare(["inspect", ""]).err == "Error: '': no such file\n")
    // The end-of-central-directory record alone: what np.savez writes with no arrays.
    try AtomicFile.write(NPZWriter.archive([]), to: path("empty.npz"))
    let empty = runCompare(["inspect", path("empty.npz")])
    #expect(empty.status == 1)
    #expect(empty.err == "Error: \(path("empty.npz")): is an empty zip archive (no tensors)\n")
  }

  @Test("esd: FILE:KEY points to --layers, a missing model says 'no such file'")
  func esdReferences() throws {
    let w = path("w.npy")
    try NPYWriter.write((0..<200).map { Float(sin(Double($0))) }, shape: [20, 10], to: w)
    let key = runCompare(["esd", w + ":fc.weight"])
    #expect(key.status == 1)
    #expect(key.err == "Error: \(w): esd reads a whole model, not FILE:KEY; choose layers with --layers 'fc.weight'\n")
    let missing = runCompare(["esd", w, "--init", path("nope.safetensors")])
    #expect(missing.status == 1)
    #expect(missing.err == "Error: \(path("nope.safetensors")): no such file\n")
  }

  @Test("uint64 labels past Int64.max are refused, not wrapped to negative")
  func unsignedLabels() throws {
    // int64 −1 is uint64's maximum; only the header's dtype changes.
    var bytes = NPYWriter.encode([Int64](repeating: -1, count: 6), shape: [6])
    let at = try #require((0..<bytes.count - 3).first { Array(bytes[$0..<($0 + 3)]) == Array("<i8".utf8) })
    bytes[at + 1] = UInt8(ascii: "u")
    try AtomicFile.write(bytes, to: path("y_u64.npy"))
    let result = runCompare(["kernel", "--test", path("test.npy"), "--train", path("train.npy"),
                             "--test-labels", path("y_u64.npy"), "--train-labels", path("y_train.npy")])
    #expect(result.status == 1)
    #expect(result.err == "Error: \(path("y_u64.npy")): tensor 'y_u64' holds 18446744073709551615 at index 0, which does not fit in int64\n")
  }
}
