@testable import CompareCLI
import Compare
import Foundation
import Synchronization
import Testing

/// The built `compare` binary, run as a separate process while another process (the test)
/// truncates its input or signals it. Runs are made deterministic by the binary's test-only
/// hook `COMPARE_TEST_PAUSE=<point>:<fifo>`: at the first `mapped` input, or after the first
/// `written` chunk of an output, `compare` blocks reading one byte from the FIFO. The test acts
/// while it is paused, then releases it (or lets the signal end it). No sleeps, no timing.
@Suite("File guard", .serialized)
final class FileGuardTests {
  let base: String
  let folder: String
  /// Streams and the FIFO live here, outside `folder`, so that `folder` can be compared whole.
  let scratch: String

  init() throws {
    // Folders of their own per test (the UUID only names them; no data is random).
    base = NSTemporaryDirectory() + "compare-file-guard-\(UUID().uuidString)"
    folder = base + "/data"
    scratch = base + "/scratch"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: base) }

  func path(_ name: String) -> String { folder + "/" + name }

  /// The names in `folder`, hidden temporary files included.
  func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).sorted() }

  /// 16384 deterministic float32 values: 64 KiB, sixteen pages, so that a truncated file leaves
  /// whole pages of the mapping past its end.
  static let values: [Float] = (0..<16384).map { Float(sin(Double($0) * 0.37)) }

  static var rawBytes: [UInt8] { values.withUnsafeBytes { Array($0) } }

  /// A `torch.save` archive of one float32 tensor of `values.count` elements, written as
  /// PyTorch 2 writes `torch.save(torch.tensor(values), ...)` (pickle protocol 2).
  static func torchArchive() -> [UInt8] {
    let count = values.count
    func text(_ s: String) -> [UInt8] { Array(s.utf8) }
    func unicode(_ s: String) -> [UInt8] { [0x58, UInt8(s.utf8.count), 0, 0, 0] + text(s) }
    let count16: [UInt8] = [0x4D, UInt8(count & 0xFF), UInt8(count >> 8)]
    var pickle: [UInt8] = [0x80, 0x02] + text("ctorch._utils\n_rebuild_tensor_v2\n")
    pickle += [0x71, 0, 0x28, 0x28]
    pickle += unicode("storage") + [0x71, 1] + text("ctorch\nFloatStorage\n") + [0x71, 2]
    pickle += unicode("0") + [0x71, 3] + unicode("cpu") + [0x71, 4] + count16 + [0x74, 0x71, 5, 0x51]
    pickle += [0x4B, 0] + count16 + [0x85, 0x71, 6, 0x4B, 1, 0x85, 0x71, 7, 0x89]
    pickle += text("ccollections\nOrderedDict\n") + [0x71, 8, 0x29, 0x52, 0x71, 9, 0x74]
    pickle += [0x71, 10, 0x52, 0x71, 11, 0x2E]
    return NPZWriter.archive([
      ("w/data.pkl", pickle), ("w/byteorder", text("little")), ("w/data/0", rawBytes),
      ("w/version", text("3\n")),
    ])
  }

  /// Writes one 64 KiB tensor file of `format` and returns its path.
  func writeInput(_ format: TensorFormat) throws -> String {
    switch format {
    case .npy:
      try NPYWriter.write(Self.values, shape: [128, 128], to: path("w.npy"))
      return path("w.npy")
    case .npz:
      try AtomicFile.write(NPZWriter.archive([("w.npy", NPYWriter.encode(Self.values, shape: [128, 128]))]),
                           to: path("w.npz"))
      return path("w.npz")
    case .safetensors:
      try SafetensorsWriter.write([.init(key: "w", shape: [128, 128], values: Self.values)],
                                  to: path("w.safetensors"))
      return path("w.safetensors")
    case .torch:
      try AtomicFile.write(Self.torchArchive(), to: path("w.pt"))
      return path("w.pt")
    case .directory:
      try FileManager.default.createDirectory(atPath: path("layers"), withIntermediateDirectories: true)
      try NPYWriter.write(Self.values, shape: [128, 128], to: path("layers/w.npy"))
      return path("layers/w.npy")
    }
  }

  /// The line `compare` prints when `file`, `expected` bytes when mapped, is cut to 1000 bytes.
  func changed(_ file: String, expected: Int) -> String {
    "Error: \(file): the file changed while it was read (now 1000 bytes, expected \(expected) bytes)\n"
  }

  func size(_ file: String) -> Int {
    var info = stat()
    return stat(file, &info) == 0 ? Int(info.st_size) : -1
  }

  @Test("a file truncated while it is read ends the run with status 1 and one line naming it",
        arguments: [TensorFormat.npy, .npz, .safetensors, .torch, .directory])
  func truncatedInput(format: TensorFormat) throws {
    let file = try writeInput(format)
    let input = format == .directory ? path("layers") : file
    let expected = size(file)
    // Control: released untouched, the same run succeeds.
    let control = try runPaused(["inspect", "--stats", input], at: "mapped") { _ in }
    #expect(control.ending == .exited(0))
    #expect(control.err.isEmpty)

    let before = try listing()
    let run = try runPaused(["inspect", "--stats", input], at: "mapped") { _ in
      #expect(truncate(file, 1000) == 0)
    }
    #expect(run.ending == .exited(1))
    #expect(run.err == changed(file, expected: expected))
    #expect(run.out.isEmpty)
    #expect(try listing() == before)
  }

  @Test("esd, cka and similarity name the truncated file too")
  func truncatedInputOtherCommands() throws {
    let file = try writeInput(.npy)
    let expected = size(file)
    let esd = try runPaused(["esd", file, "--no-randomize"], at: "mapped") { _ in
      #expect(truncate(file, 1000) == 0)
    }
    #expect(esd.ending == .exited(1))
    #expect(esd.err == changed(file, expected: expected))
    #expect(esd.out.isEmpty)

    // Activations of two models, 128 examples each: the first file mapped is truncated. From
    // .npz the batches are converted; from float32 .safetensors they are read in place from the
    // mapping (`ActivationSet.withRows`), so the fault lands inside the CKA arithmetic.
    for ext in ["npz", "safetensors"] {
      let a = path("a.\(ext)"), b = path("b.\(ext)")
      func writeModels() throws {
        for file in [a, b] {
          if ext == "npz" {
            try AtomicFile.write(NPZWriter.archive([("x.npy", NPYWriter.encode(Self.values, shape: [128, 128]))]), to: file)
          } else {
            try SafetensorsWriter.write([.init(key: "x", shape: [128, 128], values: Self.values)], to: file)
          }
        }
      }
      try writeModels()
      let sizeA = size(a)
      let before = try listing()
      let cka = try runPaused(["cka", a, b, "--batch-size", "32", "--save", path("cka.npy")], at: "mapped") { _ in
        #expect(truncate(a, 1000) == 0)
      }
      #expect(cka.ending == .exited(1), "\(ext)")
      #expect(cka.err == changed(a, expected: sizeA), "\(ext)")
      #expect(cka.out.isEmpty, "\(ext)")
      #expect(try listing() == before, "\(ext)")
      // similarity reads each layer in the worker that decomposes it.
      try writeModels()
      let again = try listing()
      let similarity = try runPaused(["similarity", a, b, "--measure", "cka,dcor", "--heatmap", path("sim")],
                                     at: "mapped") { _ in
        #expect(truncate(a, 1000) == 0)
      }
      #expect(similarity.ending == .exited(1), "\(ext)")
      #expect(similarity.err == changed(a, expected: sizeA), "\(ext)")
      #expect(similarity.out.isEmpty, "\(ext)")
      #expect(try listing() == again, "\(ext)")
    }
  }

  /// Small logits and labels for `compare kernel`: 3 models, 6 test and 10 training examples,
  /// 4 classes; deterministic values.
  func writeKernelInputs() throws -> [String] {
    func logits(_ examples: Int, _ phase: Double) -> [Float] {
      (0..<(3 * examples * 4)).map { Float(sin(Double($0) * 1.7 + phase)) }
    }
    try NPYWriter.write(logits(6, 0), shape: [3, 6, 4], to: path("test.npy"))
    try NPYWriter.write(logits(10, 1), shape: [3, 10, 4], to: path("train.npy"))
    try NPYWriter.write((0..<6).map { Int64($0 % 4) }, shape: [6], to: path("y.npy"))
    try NPYWriter.write((0..<10).map { Int64($0 % 4) }, shape: [10], to: path("y_train.npy"))
    return ["kernel", "--test", path("test.npy"), "--train", path("train.npy"),
            "--test-labels", path("y.npy"), "--train-labels", path("y_train.npy")]
  }

  @Test("SIGINT, SIGTERM or SIGHUP mid-write removes the temporary output and exits with 128 + the signal",
        arguments: [SIGINT, SIGTERM, SIGHUP])
  func interruptedOutput(signal: Int32) throws {
    let kernel = try writeKernelInputs() + ["--save-kernel", path("k.npy")]
    let before = try listing()
    var during: [String] = []
    // Paused after the .npy header is written, before the kernel's rows.
    let run = try runPaused(kernel, at: "written", release: false) { pid in
      during = try listing()
      #expect(kill(pid, signal) == 0)
    }
    // The test saw the half-written temporary, so the check below can fail.
    let extra = during.filter { !before.contains($0) }
    #expect(extra.count == 1 && extra[0].hasPrefix(".k.npy."))
    #expect(run.ending == .exited(128 + signal))
    #expect(run.err.isEmpty)
    #expect(try listing() == before)
  }

  @Test("released without a signal, the paused write completes")
  func uninterruptedOutput() throws {
    let kernel = try writeKernelInputs() + ["--save-kernel", path("k.npy")]
    let before = try listing()
    let run = try runPaused(kernel, at: "written") { _ in }
    #expect(run.ending == .exited(0))
    #expect(try listing() == (before + ["k.npy"]).sorted())
  }

  @Test("a signal after one output is finished removes it too: an interrupted run leaves no output, not some",
        arguments: [SIGINT, SIGTERM])
  func interruptedAfterOneOutput(signal: Int32) throws {
    let kernel = try writeKernelInputs() + ["--save-kernel", path("k.npy"), "--save-neighbors", path("n.npz")]
    let before = try listing()
    var during: [String] = []
    // Paused once the first output is complete, waiting for the run's end to be renamed.
    let run = try runPaused(kernel, at: "committed", release: false) { pid in
      during = try listing()
      #expect(kill(pid, signal) == 0)
    }
    let extra = during.filter { !before.contains($0) }
    #expect(extra.count == 1 && extra[0].hasPrefix(".k.npy."))  // finished, not yet in place
    #expect(run.ending == .exited(128 + signal))
    #expect(try listing() == before)
  }

  @Test("outputs appear together when the run succeeds; a run that fails after writing some leaves none")
  func outputsTogether() throws {
    let kernel = try writeKernelInputs() + ["--save-kernel", path("k.npy"), "--save-neighbors", path("n.npz")]
    let before = try listing()
    let run = try runPaused(kernel, at: "committed") { _ in
      // Paused after the first output: it is not in place yet.
      let now = try listing()
      #expect(!now.contains("k.npy"))
    }
    #expect(run.ending == .exited(0))
    #expect(try listing() == (before + ["k.npy", "n.npz"]).sorted())
    // The demo draws the kernel figures first, then fails on the missing CKA and ESD data.
    let examples = path("partial"), output = path("demo-out")
    try FileManager.default.createDirectory(atPath: examples, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: packageRoot + "Examples/data/ensemble.npz", toPath: examples + "/ensemble.npz")
    let demo = try runPaused(["demo", "--examples", examples, "--output", output], at: "committed") { _ in }
    #expect(demo.ending == .exited(1))
    #expect(demo.err.hasPrefix("Error: "))
    // Nor the output folder it created (and its parent) for them.
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test("an interrupted --plot run removes the plot folder it created, parents too; a folder that existed stays")
  func interruptedPlotFolder() throws {
    let model = packageRoot + "Examples/data/weights_mlp.safetensors"
    let before = try listing()
    let run = try runPaused(["esd", model, "--plot", path("new/plots")], at: "committed", release: false) { pid in
      #expect(FileManager.default.fileExists(atPath: path("new/plots")))
      #expect(kill(pid, SIGTERM) == 0)
    }
    #expect(run.ending == .exited(128 + SIGTERM))
    #expect(try listing() == before)
    // Control: a folder that was there before is left, empty as it was.
    try FileManager.default.createDirectory(atPath: path("kept"), withIntermediateDirectories: false)
    _ = try runPaused(["esd", model, "--plot", path("kept")], at: "committed", release: false) { pid in
      #expect(kill(pid, SIGINT) == 0)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: path("kept")).isEmpty)
  }

  // MARK: - Running the binary

  enum Ending: Equatable {
    case exited(Int32)
    case signaled(Int32)
  }

  /// The `compare` executable of this build, beside the test bundle.
  static func binary() throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    try #require(n > 0)
    var directory = String(nulTerminated: buffer)
    while !directory.isEmpty, directory.removeLast() != "/" {}
    // The test runner is `<build>/<Package>PackageTests.xctest` (or inside a bundle of that name).
    for candidate in [directory + "/compare", directory + "/../compare"]
    where FileManager.default.isExecutableFile(atPath: candidate) {
      return candidate
    }
    Issue.record("no compare binary beside \(directory); run `swift build` first")
    throw CancellationError()
  }

  /// Runs `compare words` with the pause hook at `point`; once it is paused runs `whilePaused`
  /// with its process id, then (when `release`) lets it go on. Returns how it ended and its
  /// streams.
  func runPaused(_ words: [String], at point: String, release: Bool = true,
                 whilePaused: (pid_t) throws -> Void) throws -> (ending: Ending, out: String, err: String) {
    let fifo = scratch + "/pause"
    unlink(fifo)
    #expect(mkfifo(fifo, 0o600) == 0)
    let outPath = scratch + "/out", errPath = scratch + "/err"
    let binary = try Self.binary()
    var environment = ProcessInfo.processInfo.environment
    environment["COMPARE_TEST_PAUSE"] = "\(point):\(fifo)"
    let pid = try spawn(binary, words, environment: environment, out: outPath, err: errPath)

    // A waiter reaps the child. If the child ends without ever pausing, the waiter opens the
    // FIFO itself, which releases the blocking open below instead of hanging the test.
    let state = WaiterState()
    let thread = Thread {
      var status: Int32 = 0
      while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
      state.finish(status)
      let fd = open(fifo, O_RDONLY | O_NONBLOCK)
      state.opened.wait()
      if fd >= 0 { close(fd) }
      state.done.signal()
    }
    thread.start()
    let writer = open(fifo, O_WRONLY)
    state.opened.signal()
    if state.status == nil {
      try whilePaused(pid)
      if release {
        var byte: UInt8 = 1
        #expect(Glibc.write(writer, &byte, 1) == 1)
      }
    } else {
      Issue.record("compare ended before pausing at '\(point)'")
    }
    if writer >= 0 { close(writer) }
    state.done.wait()
    let status = state.status ?? 0
    let ending: Ending = (status & 0x7F) == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
    let out = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
    let err = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
    return (ending, out, err)
  }

  /// Starts `binary` with default signal dispositions and an empty signal mask (whatever the
  /// test runner inherited), standard output and error to files.
  func spawn(_ binary: String, _ words: [String], environment: [String: String], out: String,
             err: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t(), empty = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGINT, SIGTERM, SIGHUP, SIGBUS, SIGPIPE] { sigaddset(&defaults, signal) }
    sigemptyset(&empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    let argv = ([binary] + words).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, binary, &actions, &attributes, argv, envp)
    try #require(status == 0, "posix_spawn failed: \(String(cString: strerror(status)))")
    return pid
  }
}

/// What the waiter thread learns, shared with the test.
private final class WaiterState: Sendable {
  private let exit = Mutex<Int32?>(nil)
  /// Signalled by the test once its open of the FIFO has returned.
  let opened = DispatchSemaphore(value: 0)
  /// Signalled by the waiter when it is done.
  let done = DispatchSemaphore(value: 0)

  func finish(_ status: Int32) { exit.withLock { $0 = status } }
  var status: Int32? { exit.withLock { $0 } }
}
