import Compare

/// The input files benchmarks write once and reuse.
enum BenchmarkFiles {
  /// `$TMPDIR/compare-bench-NAME` (created): inputs there are reused by later runs.
  static func cacheFolder(_ name: String) throws -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    let folder = base + "/compare-bench-" + name
    try Folders.create(folder)
    return folder
  }

  /// The size of a regular file, or `nil`.
  static func size(_ path: String) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int(info.st_size)
  }
}
