import Compare

/// One run of a command as a user runs it, as a separate process: its wall, user and system
/// time and peak memory (`wait4`'s resource usage), and what it printed.
struct CommandTiming {
  var wall: Double
  var user: Double
  var system: Double
  /// Peak resident memory of the process (`ru_maxrss`).
  var peakBytes: Int
  var status: Int32
  var output: String
  /// Wall times of all the runs this timing is the median of (just `wall` for one run).
  var runs: [Double] = []
  /// Minor page faults of the process (`ru_minflt`): a fresh anonymous page is one, a mapped
  /// file's pages are up to 16 per fault (the kernel maps them around the one touched).
  var pageFaults = 0
  /// How fast this machine faulted in fresh memory just after the run (`freshMemoryRate`), in
  /// GB/s: on a virtual machine whose host takes freed memory back it moves between runs, and
  /// with it every command's system time.
  var freshMemoryRate: Double?
  /// Page faults per GB of mapping the warmed input files and reading every page, just
  /// before the run: about 500 when the page cache holds them in 2 MiB folios (one fault maps a
  /// whole folio), about 15,000 when it holds 4 KiB pages (one fault maps 16). The command's
  /// own mappings meet the same, and the second kind costs it 0.07 s of system time per GB.
  var inputFaultsPerGB: Double?

  /// Runs this executable (`/proc/self/exe`, i.e. `compare`) with `arguments` at the
  /// benchmark's BLAS thread count, standard output into a temporary file, standard error
  /// inherited. `warming` files are read once first (untimed), so the command finds them in the
  /// page cache as a second run would, whatever ran since they were written.
  /// - Throws: `InputError` when it cannot start or exits with a non-zero status.
  static func compare(_ arguments: [String], warming files: [String] = []) throws -> CommandTiming {
    setenv("OPENBLAS_NUM_THREADS", String(BLASThreads.count), 1)
    var faults = 0, bytes = 0
    for file in files {
      let warmed = try warm(file)
      faults += warmed.faults
      bytes += warmed.bytes
    }
    var timing = try run("/proc/self/exe", ["compare"] + arguments)
    timing.freshMemoryRate = freshMemoryRate()
    if bytes >= 1 << 20 { timing.inputFaultsPerGB = Double(faults) / (Double(bytes) / 1e9) }
    return timing
  }

  /// The run with the median wall time of `count` runs of `compare arguments`, with `runs`
  /// holding all their wall times: on a shared machine one run can take 10 % longer than the
  /// next for the same work (user time too), and a seconds-long command is timed more
  /// fairly by its median than by one draw.
  static func compare(_ arguments: [String], warming files: [String] = [], median count: Int) throws -> CommandTiming {
    var timings: [CommandTiming] = []
    for _ in 0..<max(1, count) { timings.append(try compare(arguments, warming: files)) }
    timings.sort { $0.wall < $1.wall }
    var median = timings[timings.count / 2]
    median.runs = timings.map(\.wall)
    return median
  }

  /// GB/s at which this process faults in `bytes` of fresh anonymous memory, one write per 4 KiB
  /// page, then gives it back: the rate the commands' own work buffers met at about that time.
  static func freshMemoryRate(bytes: Int = 256 << 20) -> Double? {
    guard let memory = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
          memory != MAP_FAILED else { return nil }
    defer { munmap(memory, bytes) }
    let start = ContinuousClock.now
    for offset in stride(from: 0, to: bytes, by: 4096) { memory.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
    return Double(bytes) / 1e9 / max(secondsSince(start), 1e-9)
  }

  /// Reads `path` through its mapping, one byte per page: the page cache then holds it.
  /// Returns the file's size and the page faults this thread took to map and read it.
  @discardableResult
  static func warm(_ path: String) throws -> (bytes: Int, faults: Int) {
    let before = threadPageFaults()
    let file = try MappedFile(path: path)
    var sum: UInt8 = 0
    for offset in stride(from: 0, to: file.bytes.count, by: 4096) { sum &+= file.bytes[offset] }
    sink = sum
    return (file.bytes.count, threadPageFaults() - before)
  }

  /// Where `warm` stores what it read: a release build drops a loop whose result is not stored
  /// (with `withExtendedLifetime`, or passed to an empty function, it read nothing).
  nonisolated(unsafe) static var sink: UInt8 = 0

  /// Page faults taken so far by the calling thread (`RUSAGE_THREAD`), minor and major (a page
  /// read from disk is a major fault and maps its pages the same way).
  static func threadPageFaults() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD
    return Int(usage.ru_minflt) + Int(usage.ru_majflt)
  }

  /// Runs `path` with `argv` (its first element the program's name); `quietErrors` sends its
  /// standard error to /dev/null (a probe whose failure is an answer, not a message).
  static func run(_ path: String, _ argv: [String], quietErrors: Bool = false) throws -> CommandTiming {
    let outputPath = (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/compare-bench-output.\(getpid())"
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if quietErrors { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
    var cArguments = argv.map { strdup($0) } + [nil]
    defer { for p in cArguments { free(p) } }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    let spawned = posix_spawn(&pid, path, &actions, nil, &cArguments, environ)
    guard spawned == 0 else {
      throw InputError("\(path): cannot start (\(String(cString: strerror(spawned))))")
    }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let wall = secondsSince(start)
    let output = (try? MappedFile(path: outputPath)).map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
    let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    guard exitStatus == 0 else {
      throw InputError("\(argv.joined(separator: " ")): exited with status \(exitStatus)")
    }
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return CommandTiming(wall: wall, user: seconds(usage.ru_utime), system: seconds(usage.ru_stime),
                         peakBytes: Int(usage.ru_maxrss) * 1024, status: exitStatus, output: output,
                         pageFaults: Int(usage.ru_minflt))
  }

  /// `12.34 s (user 11.9 s, system 0.31 s = 2.5 % of wall; 28.9k page faults, fresh memory at
  /// 0.81 GB/s just after, inputs mapped at 0.6k faults per GB)`, and for a median `, median of
  /// 3 runs: 12.10–12.90 s`.
  var summary: String {
    let fresh = (freshMemoryRate.map { ", fresh memory at \(Format.fixed($0, 2)) GB/s just after" } ?? "")
      + (inputFaultsPerGB.map { ", inputs mapped at \(Format.fixed($0 / 1000, 1))k faults per GB" } ?? "")
    let single = "\(Format.fixed(wall, 2)) s (user \(Format.fixed(user, 2)) s, system \(Format.fixed(system, 2)) s = "
      + "\(Format.fixed(100 * system / max(wall, 1e-9), 1)) % of wall; \(Format.fixed(Double(pageFaults) / 1000, 1))k page faults\(fresh))"
    guard runs.count > 1, let low = runs.first, let high = runs.last else { return single }
    return single + ", median of \(runs.count) runs: \(Format.fixed(low, 2))–\(Format.fixed(high, 2)) s"
  }

  /// The figures as JSON: `wall_seconds`, `user_seconds`, `system_seconds`, `peak_bytes`,
  /// `minor_page_faults`, `fresh_memory_gb_per_s`, `input_page_faults_per_gb` (when inputs were
  /// warmed), and for a median `wall_seconds_runs` (every run's wall time, fastest first).
  var json: [(String, JSONValue)] {
    [("wall_seconds", .double(wall)), ("user_seconds", .double(user)), ("system_seconds", .double(system)),
     ("peak_bytes", .int(peakBytes)), ("minor_page_faults", .int(pageFaults))]
      + (runs.count > 1 ? [("wall_seconds_runs", .array(runs.map(JSONValue.double)))] : [])
      + (freshMemoryRate.map { [("fresh_memory_gb_per_s", JSONValue.double($0))] } ?? [])
      + (inputFaultsPerGB.map { [("input_page_faults_per_gb", JSONValue.double($0))] } ?? [])
  }
}

/// The same BLAS operation timed with numpy/scipy's own bundled OpenBLAS, when a Python with
/// them is on the PATH: the best rate any BLAS on this machine reaches for the shape, so the gap
/// between the linked OpenBLAS and the machine is visible.
enum PythonBLAS {
  /// Best-of-3 seconds of `scipy.linalg.blas.ssyrk` on an n×k float32 matrix (the upper
  /// triangle of x·xᵀ), or `nil` without Python, numpy or scipy.
  static func syrkSeconds(n: Int, k: Int, threads: Int) -> Double? {
    seconds("""
      import numpy as np, time
      from scipy.linalg.blas import ssyrk
      x = np.asfortranarray(np.random.default_rng(0).standard_normal((\(n), \(k)), dtype=np.float32))
      best = 1e9
      for _ in range(3):
          t = time.perf_counter(); ssyrk(1.0, x); best = min(best, time.perf_counter() - t)
      print(best)
      """, threads: threads)
  }

  /// Best-of-2 seconds of `scipy.linalg.blas.dsyrk` on an n×k float64 matrix at one thread (the
  /// full-data CKA's per-layer Gram matrix), or `nil` without Python, numpy or scipy.
  static func syrk64Seconds(n: Int, k: Int) -> Double? {
    seconds("""
      import numpy as np, time
      from scipy.linalg.blas import dsyrk
      x = np.asfortranarray(np.random.default_rng(0).standard_normal((\(n), \(k))))
      best = 1e9
      for _ in range(2):
          t = time.perf_counter(); dsyrk(1.0, x); best = min(best, time.perf_counter() - t)
      print(best)
      """, threads: 1)
  }

  /// Best-of-3 seconds of numpy's float32 `a @ b`, a m×k, b k×n, or `nil` without numpy.
  static func gemmSeconds(m: Int, n: Int, k: Int, threads: Int) -> Double? {
    seconds("""
      import numpy as np, time
      g = np.random.default_rng(0)
      a = g.standard_normal((\(m), \(k)), dtype=np.float32); b = g.standard_normal((\(k), \(n)), dtype=np.float32)
      best = 1e9
      for _ in range(3):
          t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)
      print(best)
      """, threads: threads)
  }

  /// Best-of-3 seconds of numpy's float64 `a @ b.T`, a m×k, b n×k (a GEMM, not numpy's `syrk`
  /// route for `x @ x.T`), or `nil` without numpy.
  static func gemm64Seconds(m: Int, n: Int, k: Int) -> Double? {
    seconds("""
      import numpy as np, time
      g = np.random.default_rng(0)
      a = g.standard_normal((\(m), \(k))); b = g.standard_normal((\(n), \(k)))
      best = 1e9
      for _ in range(3):
          t = time.perf_counter(); a @ b.T; best = min(best, time.perf_counter() - t)
      print(best)
      """, threads: 1)
  }

  /// Best-of-3 seconds of a similarity layer's decomposition in numpy (float64, one thread):
  /// `np.linalg.qr` (LAPACK `geqrf`/`orgqr`) of the max(n, p) × min(n, p) matrix, then
  /// `np.linalg.svd` (`gesdd` with vectors) of its R; or `nil` without numpy.
  static func decompositionSeconds(rows n: Int, columns p: Int) -> Double? {
    seconds("""
      import numpy as np, time
      x = np.random.default_rng(0).standard_normal((\(max(n, p)), \(min(n, p))))
      best = 1e9
      for _ in range(3):
          t = time.perf_counter(); q, r = np.linalg.qr(x); np.linalg.svd(r); best = min(best, time.perf_counter() - t)
      print(best)
      """, threads: 1)
  }

  /// Best-of-2 seconds of numpy's faster float64 route to the eigenvalues of WᵀW for a
  /// rows×columns W (values-only SVD, or the Gram and `eigvalsh`), or `nil` without numpy.
  static func eigenvalueSeconds(rows: Int, columns: Int, threads: Int) -> Double? {
    seconds("""
      import numpy as np, time
      w = np.random.default_rng(0).standard_normal((\(rows), \(columns)))
      best = 1e9
      for _ in range(2):
          t = time.perf_counter(); np.linalg.svd(w, compute_uv=False); best = min(best, time.perf_counter() - t)
          t = time.perf_counter(); g = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w; np.linalg.eigvalsh(g); best = min(best, time.perf_counter() - t)
      print(best)
      """, threads: threads)
  }

  /// Seconds of torch_cka 0.21's `CKA(...).compare(loader)` on `layers` × `layers` layers of
  /// `features` float32 features, `examples` examples in batches of `batch` (`drop_last`), at
  /// `threads` torch threads: the reference tool on the CKA benchmark's workload, in the same
  /// run. Activations come from modules that look rows up in fixed tables, so only CKA is timed
  /// (as `Benchmarks/cka_reference.py time`). Runs `$COMPARE_BENCH_PYTHON` (default `python3`);
  /// `nil` when it lacks torch or torch_cka.
  static func torchCKASeconds(layers: Int, features: Int, examples: Int, batch: Int, threads: Int) -> Double? {
    let python = getenv("COMPARE_BENCH_PYTHON").map { String(cString: $0) } ?? "python3"
    return seconds("""
      import contextlib, io, time, warnings
      warnings.filterwarnings("ignore")
      import numpy as np, torch
      from torch import nn
      from torch.utils.data import DataLoader, TensorDataset
      from torch_cka import CKA
      if \(threads) > 0: torch.set_num_threads(\(threads))
      class Lookup(nn.Module):
          def __init__(self, table):
              super().__init__(); self.table = table
          def forward(self, index):
              return self.table[index % self.table.shape[0]]
      class Tables(nn.Module):
          def __init__(self, tables):
              super().__init__(); self.layers = nn.ModuleList([Lookup(t) for t in tables])
          def forward(self, index):
              for layer in self.layers: layer(index)
              return index
      rng = np.random.default_rng(6)
      z = rng.standard_normal((\(batch), 64)).astype(np.float32)
      tables = [torch.from_numpy(z @ rng.standard_normal((64, \(features))).astype(np.float32)
                + rng.standard_normal((\(batch), \(features))).astype(np.float32)) for _ in range(\(2 * layers))]
      names = [f"layers.{i}" for i in range(\(layers))]
      cka = CKA(Tables(tables[:\(layers)]), Tables(tables[\(layers):]), model1_name="A", model2_name="B",
                model1_layers=names, model2_layers=names, device="cpu")
      loader = DataLoader(TensorDataset(torch.arange(\(examples))), batch_size=\(batch), shuffle=False, drop_last=True)
      start = time.perf_counter()
      with contextlib.redirect_stderr(io.StringIO()):
          cka.compare(loader)
      print(time.perf_counter() - start)
      """, threads: threads, python: python)
  }

  /// Runs a Python snippet that prints seconds, at `threads` BLAS threads (0: its default);
  /// `nil`, silently, when it fails (a Python without numpy, scipy or torch_cka).
  static func seconds(_ script: String, threads: Int, python: String = "python3") -> Double? {
    let limit = threads > 0 ? "import os\nos.environ['OPENBLAS_NUM_THREADS'] = '\(threads)'\n" : ""
    guard let result = try? CommandTiming.run("/usr/bin/env", ["env", python, "-c", limit + script], quietErrors: true) else { return nil }
    return Double(result.output.filter { !$0.isWhitespace })
  }
}
