import Compare

/// `compare bench io`: opening a ≥ 1 GB float16 `.npy` (memory-mapped: should cost nothing) and
/// widening it to Float, against `memcpy` over the same bytes measured in the same run.
///
/// The file is `$TMPDIR/compare-bench-io/f16.npy` (written once, reused when present with the
/// right size). Times are for a warm page cache (the first full pass is reported apart as "first
/// touch"): the lower bound for the conversion is memory bandwidth, not the disk.
public enum IOBenchmark {
  public static func run(log: BenchmarkLog, json: Bool, quick: Bool) throws -> JSONValue {
    let columns = 1024
    let rows = quick ? 32 * 1024 : 512 * 1024  // 64 MiB or 1 GiB of float16
    let path = try BenchmarkFiles.cacheFolder("io") + (quick ? "/f16-quick.npy" : "/f16.npy")
    let dataBytes = rows * columns * 2
    let written = try ensureFile(path, rows: rows, columns: columns, log: log)

    // Open: parse the header and map the file.
    var start = ContinuousClock.now
    let file = try TensorFile.open(path)
    let openSeconds = secondsSince(start)
    let tensor = file.tensors[0]
    guard tensor.dtype == .float16, tensor.shape == [rows, columns] else {
      throw InputError("\(path) is not the benchmark's float16 [\(rows), \(columns)] file; delete it")
    }

    // Stream in chunks of rows through one reused buffer (64 MiB of Float).
    let chunkRows = 16 * 1024
    let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunkRows * columns)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 0)
    let source = tensor.storage.bytes.baseAddress! + tensor.byteOffset

    func convertAll() throws -> Double {
      let start = ContinuousClock.now
      var row = 0
      while row < rows {
        let end = min(rows, row + chunkRows)
        try tensor.floats(rows: row..<end, into: buffer)
        row = end
      }
      return secondsSince(start)
    }
    func copyAll(bytesPerChunk: Int) -> Double {
      let start = ContinuousClock.now
      var offset = 0
      while offset < dataBytes {
        let n = min(bytesPerChunk, dataBytes - offset)
        memcpy(buffer.baseAddress!, source + offset, n)
        offset += n
      }
      return secondsSince(start)
    }

    log.progress("io: first touch")
    let firstTouch = try convertAll()
    var convert = Double.infinity, copySame = Double.infinity, copyOut = Double.infinity
    let repeats = 3
    for i in 0..<repeats {
      log.progress("io: pass \(i + 1)/\(repeats)")
      // memcpy reading the same float16 bytes (writes half the bytes the conversion writes).
      copySame = min(copySame, copyAll(bytesPerChunk: chunkRows * columns * 2))
      convert = min(convert, try convertAll())
      // memcpy moving as many bytes as the conversion: 2 GiB read+write for the 1 GiB read/2 GiB write.
      copyOut = min(copyOut, copyAll(bytesPerChunk: chunkRows * columns * 4) * 1.5)
    }
    // The whole tensor at once through the everyday API (allocates the Float array).
    log.progress("io: floats()")
    start = ContinuousClock.now
    let all = try tensor.floats()
    let wholeSeconds = secondsSince(start)
    let checksum = Double(all[0]) + Double(all[all.count - 1])
    // The floor under any call that returns a fresh array: first-touch page faults of its memory.
    log.progress("io: fresh memory")
    start = ContinuousClock.now
    let fresh = UnsafeMutableRawPointer.allocate(byteCount: rows * columns * 4, alignment: 64)
    memset(fresh, 0, rows * columns * 4)
    let freshSeconds = secondsSince(start)
    fresh.deallocate()
    log.endProgress()

    let gib = Double(dataBytes) / Double(1 << 30)
    let values = Double(rows * columns)
    let rate = { (seconds: Double) in values / seconds / 1e9 }
    let bandwidth = { (seconds: Double, bytes: Double) in bytes / seconds / 1e9 }
    if !json {
      log.print("Tensor I/O: \(path), float16 [\(rows), \(columns)] = \(Format.fixed(gib, 2)) GiB\(written ? " (written now)" : " (reused)")")
      let table: [[String]] = [
        ["open (header + mmap)", Format.fixed(openSeconds * 1e3, 3) + " ms", "", ""],
        ["f16→f32 first touch", Format.fixed(firstTouch, 3) + " s", Format.fixed(rate(firstTouch), 2) + " G/s", ""],
        ["f16→f32 into buffer", Format.fixed(convert, 3) + " s", Format.fixed(rate(convert), 2) + " G/s",
         Format.fixed(bandwidth(convert, 6 * values), 1) + " GB/s"],
        ["memcpy same input", Format.fixed(copySame, 3) + " s", "", Format.fixed(bandwidth(copySame, 4 * values), 1) + " GB/s"],
        ["memcpy same traffic", Format.fixed(copyOut, 3) + " s", "", Format.fixed(bandwidth(copyOut, 6 * values), 1) + " GB/s"],
        ["floats() whole tensor", Format.fixed(wholeSeconds, 3) + " s", Format.fixed(rate(wholeSeconds), 2) + " G/s", ""],
        ["malloc+memset output", Format.fixed(freshSeconds, 3) + " s", "", Format.fixed(bandwidth(freshSeconds, 4 * values), 1) + " GB/s"],
      ]
      log.write(Format.table(header: ["step", "time", "values", "traffic"], rows: table, rightAligned: [1, 2, 3]))
      log.print("conversion / memcpy of the same traffic: \(Format.fixed(convert / copyOut, 2))×; "
                    + "floats() / (malloc+memset of its output + conversion): \(Format.fixed(wholeSeconds / (freshSeconds + convert), 2))×")
      if checksum.isNaN { log.warn("warning: the benchmark file holds NaN") }
    }
    return .object([
      ("file", .string(path)), ("bytes", .int(dataBytes)), ("open_seconds", .double(openSeconds)),
      ("first_touch_seconds", .double(firstTouch)), ("convert_seconds", .double(convert)),
      ("memcpy_same_input_seconds", .double(copySame)), ("memcpy_same_traffic_seconds", .double(copyOut)),
      ("floats_whole_seconds", .double(wholeSeconds)), ("fresh_memory_seconds", .double(freshSeconds)), ("ratio_to_memcpy", .double(convert / copyOut)),
    ])
  }

  /// Writes the benchmark's float16 `.npy` unless a file of the right size exists. Returns `true`
  /// when it wrote one. The values repeat a 1 Mi-element block of Gaussian float16 bit patterns.
  static func ensureFile(_ path: String, rows: Int, columns: Int, log: BenchmarkLog) throws -> Bool {
    let shape = "(\(rows), \(columns))"
    var header = "{'descr': '<f2', 'fortran_order': False, 'shape': \(shape), }"
    header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    var prefix: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0,
                           UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
    prefix += Array(header.utf8)
    let total = prefix.count + rows * columns * 2
    var info = stat()
    if stat(path, &info) == 0, Int(info.st_size) == total { return false }
    log.progress("io: writing \(path)")
    var rng = SplitMix64(seed: 3)
    let block = (0..<(1 << 20)).map { _ in Float16(Float(rng.nextGaussian())).bitPattern }
    try AtomicFile.write(to: path) { fd in
      try prefix.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
      var remaining = rows * columns
      while remaining > 0 {
        let n = min(remaining, block.count)
        try block.withUnsafeBytes { try AtomicFile.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<(2 * n)]), path: path) }
        remaining -= n
      }
    }
    return true
  }
}
