import CompareCore
import Testing
@testable import SpectralMetrics

/// Large layers share one `ESDScratch`: the same rows as without it, bit for bit, and its
/// buffers are reused, not reallocated, once they have grown to the largest layer.
@Suite("ESD work buffers reused across large layers")
struct ScratchTests {
  static func layer(_ name: String, rows: Int, columns: Int, seed: UInt64) -> WeightLayer {
    var rng = SplitMix64(seed: seed)
    let w = (0..<(rows * columns)).map { _ in rng.nextGaussian() * (1 + 3 * Double(seed % 2)) }
    var layer = WeightLayer(name: name, kind: .dense, shape: [rows, columns], load: { w })
    layer.loadInto = { buffer in
      WorkBuffer.resize(&buffer, to: w.count)
      buffer.withUnsafeMutableBufferPointer { out in w.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: w.count) } }
    }
    return layer
  }

  @Test("with and without the scratch the rows are the same (float64 and float32), over layers of several sizes",
        arguments: [EigenvalueSolver.Precision.float64, .float32])
  func identical(precision: EigenvalueSolver.Precision) throws {
    var options = ESDOptions()
    options.solver = EigenvalueSolver(precision: precision)
    options.randRepeats = 2
    let analyzer = ESDAnalyzer(options: options)
    // More than 2¹⁶ elements: the bucketed shuffle, whose buffers the scratch keeps.
    let layers = [Self.layer("big", rows: 400, columns: 300, seed: 1), Self.layer("small", rows: 300, columns: 250, seed: 2),
                  Self.layer("wide", rows: 280, columns: 420, seed: 3)]
    let scratch = ESDScratch()
    for layer in layers {
      let plain = try analyzer.analyze(layer, id: 1)
      let reused = try analyzer.analyze(layer, id: 1, scratch: scratch)
      // Equal to rounding: the solver's last bits follow OpenBLAS's process-wide thread count,
      // which tests running in parallel change (float32 rounds at ~1e-7).
      let tolerance = precision == .float32 ? 1e-5 : 1e-11
      // With several BLAS threads the scratch path decomposes W and its draws at once, one
      // thread each (`concurrentSpectra`). rand_distance, a difference of entropies, carries
      // those last bits amplified (1e-11 relative seen), like alpha below.
      func close(_ x: [Double]?, _ y: [Double]?, _ scale: Double = 1) -> Bool {
        guard let x, let y, x.count == y.count, let top = y.last else { return false }
        return zip(x, y).allSatisfy { abs($0 - $1) <= scale * tolerance * abs(top) }
      }
      #expect(close(plain[0].spectrum?.eigenvalues, reused[0].spectrum?.eigenvalues))
      #expect(close(plain[0].randDistances, reused[0].randDistances, 1e3) && plain[0].randDistances.count == 2,
              "\(plain[0].randDistances) \(reused[0].randDistances)")
      #expect(close(plain[0].randomEigenvalues, reused[0].randomEigenvalues))
      #expect(abs(plain[0].powerLaw!.alpha - reused[0].powerLaw!.alpha) <= 1e3 * tolerance * plain[0].powerLaw!.alpha)
    }
    // Control: another seed changes the shuffled columns, so the comparison above can fail.
    var other = options
    other.seed = 1
    let changed = try ESDAnalyzer(options: other).analyze(layers[0], id: 1, scratch: scratch)
    #expect(changed[0].randDistances != (try analyzer.analyze(layers[0], id: 1))[0].randDistances)
  }

  @Test("the buffers keep their storage once grown: a smaller layer after a larger one allocates none")
  func reused() throws {
    let analyzer = ESDAnalyzer()
    let scratch = ESDScratch()
    _ = try analyzer.analyze(Self.layer("big", rows: 400, columns: 300, seed: 1), id: 1, scratch: scratch)
    func addresses() -> [UnsafeRawPointer?] {
      [scratch.elements.withUnsafeBytes { $0.baseAddress }, scratch.shuffled[0].withUnsafeBytes { $0.baseAddress },
       scratch.shuffleOutput.withUnsafeBytes { $0.baseAddress }, scratch.shuffleBuckets.withUnsafeBytes { $0.baseAddress },
       scratch.gram.withUnsafeBytes { $0.baseAddress }]
    }
    let before = addresses()
    _ = try analyzer.analyze(Self.layer("smaller", rows: 350, columns: 280, seed: 2), id: 1, scratch: scratch)
    #expect(Set(addresses()) == Set(before) && Set(before).count == before.count)
    #expect(scratch.elements.count == 350 * 280)
    // One draw scatters straight from the layer into the shuffled buffer: no second W-sized
    // buffer. A second draw needs the scatter's output buffer, which then trades storage with
    // the shuffled copy.
    #expect(scratch.shuffleOutput.isEmpty)
    var twice = ESDOptions()
    twice.randRepeats = 2
    _ = try ESDAnalyzer(options: twice).analyze(Self.layer("again", rows: 350, columns: 280, seed: 3), id: 1,
                                                scratch: scratch)
    #expect(scratch.shuffleOutput.count == 350 * 280)
  }

  @Test("large layers run as many at once as BLAS threads, layers and half the memory allow")
  func workers() {
    let gib = 1 << 30
    #expect(ESDAnalyzer.largeLayerWorkers(threads: 1, layers: [10, 10, 10], memory: 64 * gib) == 1)
    #expect(ESDAnalyzer.largeLayerWorkers(threads: 2, layers: [10], memory: 64 * gib) == 1)
    #expect(ESDAnalyzer.largeLayerWorkers(threads: 2, layers: [10, 10, 10], memory: 64 * gib) == 2)
    #expect(ESDAnalyzer.largeLayerWorkers(threads: 8, layers: [10, 10, 10], memory: 64 * gib) == 3)
    // A 7B model's 131 M-element embedding on 24 GiB: two fit (4.2 GB each), on 12 GiB one.
    #expect(ESDAnalyzer.largeLayerWorkers(threads: 2, layers: [131_072_000, 16_777_216], memory: 24 * gib) == 2)
    #expect(ESDAnalyzer.largeLayerWorkers(threads: 2, layers: [131_072_000, 16_777_216], memory: 12 * gib) == 1)
  }

  @Test("large layers analysed two at a time give each layer's own rows")
  func parallelLarge() throws {
    // Read once: tests running in parallel set OpenBLAS's process-wide thread count to 1 for
    // their concurrent sections, so a second read may see 1.
    let threads = BLASThreads.count
    guard threads > 1 else { return }  // one BLAS thread: the large layers run one by one
    var options = ESDOptions()
    options.parallelLimit = 1000  // every layer here counts as large
    let analyzer = ESDAnalyzer(options: options)
    let layers = [Self.layer("a", rows: 120, columns: 90, seed: 1), Self.layer("b", rows: 100, columns: 80, seed: 2),
                  Self.layer("c", rows: 90, columns: 130, seed: 3)]
    #expect(ESDAnalyzer.largeLayerWorkers(threads: threads, layers: layers.map(\.count)) >= 2)
    let together = try analyzer.analyze(layers)
    for (k, layer) in layers.enumerated() {
      let alone = try analyzer.analyze(layer, id: k + 1)
      let x = try #require(together[k][0].spectrum?.eigenvalues), y = try #require(alone[0].spectrum?.eigenvalues)
      #expect(zip(x, y).allSatisfy { abs($0 - $1) <= 1e-10 * max(abs($1), 1e-6 * y.last!) })
      #expect(abs(together[k][0].randDistance! - alone[0].randDistance!) < 1e-9)
      #expect(together[k][0].name == layer.name)
    }
  }

  @Test("W and its first draw decomposed at once (one BLAS thread each), the later draws after, give the sequential route's spectra; another seed does not (control)")
  func concurrent() throws {
    var options = ESDOptions()
    options.randRepeats = 3
    let analyzer = ESDAnalyzer(options: options)
    var rng = SplitMix64(seed: 9)
    let slices = [(0..<(300 * 200)).map { _ in rng.nextGaussian() * (1 + rng.nextUniform()) }]
    let shape = (rows: 300, columns: 200)
    let scratch = ESDScratch()
    let sequential = try analyzer.spectra(of: slices, shape: shape, n: 300, scale: 1, seed: 5, shuffles: 3)
    let together = try analyzer.concurrentSpectra(of: slices, shape: shape, n: 300, scale: 1, seed: 5,
                                                  shuffles: 3, scratch: scratch)
    func close(_ x: [Double], _ y: [Double]) -> Bool {
      x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-11 * (y.last ?? 0) }
    }
    #expect(close(together.eigenvalues, sequential.eigenvalues))
    #expect(together.shuffles.count == 3)
    #expect(zip(together.shuffles, sequential.shuffles).allSatisfy { close($0, $1) })
    #expect(!scratch.companion.gram.isEmpty)  // W went through the second set of buffers
    let other = try analyzer.concurrentSpectra(of: slices, shape: shape, n: 300, scale: 1, seed: 6,
                                               shuffles: 2, scratch: scratch)
    #expect(!close(other.shuffles[0], sequential.shuffles[0]))
    #expect(close(other.eigenvalues, sequential.eigenvalues))
  }
}
