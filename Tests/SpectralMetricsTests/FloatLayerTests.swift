import CompareCore
import Testing
@testable import SpectralMetrics

/// A float32 layer is analysed from a float32 copy, its Gram matrices formed from float64
/// panels: the same rows as the float64 route, to the Gram matrices' round-off.
@Suite("ESD of float32 layers without a float64 copy")
struct FloatLayerTests {
  /// float32 elements in memory of their own, as a mapped file's would be.
  final class Stored: @unchecked Sendable {
    let memory: UnsafeMutableBufferPointer<Float>
    init(_ values: [Float]) {
      memory = .allocate(capacity: values.count)
      _ = memory.initialize(from: values)
    }
    deinit { memory.deallocate() }
  }

  /// A dense layer of float32 values, readable both ways (or, with `floats` false, as float64
  /// only); with `stored`, its float32 elements are also readable in place.
  static func layer(rows: Int, columns: Int, seed: UInt64, floats: Bool = true, stored: Bool = false,
                    edit: (inout [Float]) -> Void = { _ in }) -> WeightLayer {
    var rng = SplitMix64(seed: seed)
    var values = (0..<(rows * columns)).map { _ in Float(rng.nextGaussian() * 0.02) }
    edit(&values)
    let w32 = values, w = values.map { Double($0) }
    var layer = WeightLayer(name: "layer\(seed)", kind: .dense, shape: [rows, columns], load: { w })
    layer.loadInto = { buffer in
      WorkBuffer.resize(&buffer, to: w.count)
      for i in w.indices { buffer[i] = w[i] }
    }
    if floats {
      layer.loadFloatsInto = { buffer in
        WorkBuffer.resize(&buffer, to: w32.count)
        for i in w32.indices { buffer[i] = w32[i] }
      }
    }
    if stored {
      let memory = Stored(w32)
      layer.storedFloats = { StoredFloats(UnsafeBufferPointer(memory.memory), owner: memory) }
    }
    return layer
  }

  static func close(_ x: [Double]?, _ y: [Double]?, _ tolerance: Double) -> Bool {
    guard let x, let y, x.count == y.count, let top = y.last else { return false }
    return zip(x, y).allSatisfy { abs($0 - $1) <= tolerance * abs(top) }
  }

  @Test("the float32 route gives the float64 route's rows, tall and wide, with the bucketed shuffle",
        arguments: [(400, 300), (280, 420)])
  func sameRows(shape: (Int, Int)) throws {
    var options = ESDOptions()
    options.randRepeats = 2
    let analyzer = ESDAnalyzer(options: options)
    let floats = Self.layer(rows: shape.0, columns: shape.1, seed: 7)
    let doubles = Self.layer(rows: shape.0, columns: shape.1, seed: 7, floats: false)
    let scratch32 = ESDScratch(), scratch64 = ESDScratch()
    let ours = try analyzer.analyze(floats, id: 1, scratch: scratch32)[0]
    let theirs = try analyzer.analyze(doubles, id: 1, scratch: scratch64)[0]
    // The routes taken: a float32 copy and no float64 one, and the other way round.
    #expect(scratch32.floats.count == shape.0 * shape.1 && scratch32.elements.isEmpty)
    #expect(scratch64.floats.isEmpty && scratch64.elements.count == shape.0 * shape.1)
    #expect(Self.close(ours.spectrum?.eigenvalues, theirs.spectrum?.eigenvalues, 1e-12))
    #expect(Self.close(ours.randomEigenvalues, theirs.randomEigenvalues, 1e-12))
    #expect(ours.randDistances.count == 2
            && zip(ours.randDistances, theirs.randDistances).allSatisfy { abs($0 - $1) <= 1e-9 * abs($1) },
            "\(ours.randDistances) \(theirs.randDistances)")
    #expect(abs(ours.powerLaw!.alpha - theirs.powerLaw!.alpha) <= 1e-9 * theirs.powerLaw!.alpha)
    // Control: another seed shuffles otherwise, which the comparison above would see.
    var other = options
    other.seed = 99
    let reseeded = try ESDAnalyzer(options: other).analyze(floats, id: 1, scratch: ESDScratch())[0]
    #expect(!Self.close(reseeded.randomEigenvalues, theirs.randomEigenvalues, 1e-6))
  }

  @Test("float32 elements read in place give the rows of the float32 copy, and no copy is made")
  func inPlace() throws {
    var options = ESDOptions()
    options.randRepeats = 2
    let analyzer = ESDAnalyzer(options: options)
    let stored = Self.layer(rows: 400, columns: 300, seed: 11, stored: true)
    let copied = Self.layer(rows: 400, columns: 300, seed: 11)
    let scratchStored = ESDScratch(), scratchCopied = ESDScratch()
    let ours = try analyzer.analyze(stored, id: 1, scratch: scratchStored)[0]
    let theirs = try analyzer.analyze(copied, id: 1, scratch: scratchCopied)[0]
    #expect(scratchStored.floats.isEmpty && scratchStored.elements.isEmpty)
    // Control: the copying route fills the scratch's float32 buffer.
    #expect(scratchCopied.floats.count == 400 * 300)
    #expect(Self.close(ours.spectrum?.eigenvalues, theirs.spectrum?.eigenvalues, 1e-13))
    #expect(ours.randDistances == theirs.randDistances || zip(ours.randDistances, theirs.randDistances).allSatisfy { abs($0 - $1) <= 1e-10 * abs($1) })
  }

  @Test("a layer over a float32 matrix in memory takes the float32 route, a float64 one does not")
  func matrices() throws {
    var rng = SplitMix64(seed: 21)
    let values = (0..<(260 * 330)).map { _ in Float(rng.nextGaussian()) }
    let floats = WeightLayer(name: "w", matrix: Matrix(rows: 260, columns: 330, elements: values))
    let doubles = WeightLayer(name: "w", matrix: Matrix(rows: 260, columns: 330, elements: values.map { Double($0) }))
    let scratch32 = ESDScratch(), scratch64 = ESDScratch()
    let ours = try ESDAnalyzer().analyze(floats, id: 1, scratch: scratch32)[0]
    let theirs = try ESDAnalyzer().analyze(doubles, id: 1, scratch: scratch64)[0]
    #expect(scratch32.floats.count == values.count)
    // Control: the float64 matrix has no float32 reader.
    #expect(scratch64.floats.isEmpty && doubles.loadFloatsInto == nil)
    #expect(Self.close(ours.spectrum?.eigenvalues, theirs.spectrum?.eigenvalues, 1e-12))
    #expect(ours.randDistances.count == 1 && abs(ours.randDistances[0] - theirs.randDistances[0]) <= 1e-9 * theirs.randDistances[0])
  }

  @Test("a rank-deficient float32 W falls back to gesdd as the float64 route does")
  func fallback() throws {
    let (rows, columns) = (300, 200)
    // Column 1 repeats column 0: λmin is 0, below the Gram route's limit.
    let w = Self.layer(rows: rows, columns: columns, seed: 3) { w in
      for r in 0..<rows { w[r * columns + 1] = w[r * columns] }
    }
    var floats: [Float] = []
    try w.loadFloatsInto!(&floats)
    let solver = EigenvalueSolver()
    let ours = try floats.withUnsafeBufferPointer {
      try solver.eigenvalues(ofWidening: $0, rows: rows, columns: columns, scratch: ESDScratch())
    }
    let theirs = try w.load().withUnsafeBufferPointer { try solver.eigenvalues(of: $0, rows: rows, columns: columns) }
    #expect(Self.close(ours, theirs, 1e-13))
    // gesdd's smallest value is at round-off; the Gram route's would be ~n·ε·λmax or negative.
    #expect(ours[0] < 1e-20 * ours.last!)
    // Control: the Gram route alone gives a smallest eigenvalue far from gesdd's.
    let gram = try floats.withUnsafeBufferPointer {
      try EigenvalueSolver.widenedGramEigenvalues($0, rows: rows, columns: columns, scratch: ESDScratch())
    }
    #expect(abs(gram[0]) > 1e-20 * gram.last!)
  }

  @Test("a NaN in a float32 layer is reported as the float64 route reports it")
  func nonFinite() throws {
    let bad = Self.layer(rows: 300, columns: 250, seed: 5, stored: true) { $0[2 * 250 + 3] = .nan }
    let plain = Self.layer(rows: 300, columns: 250, seed: 5, floats: false) { $0[2 * 250 + 3] = .nan }
    func message(_ layer: WeightLayer) -> String {
      do { _ = try ESDAnalyzer().analyze(layer, id: 1, scratch: ESDScratch()); return "no error" } catch { return "\(error)" }
    }
    #expect(message(bad) == message(plain))
    #expect(message(bad).contains("[2, 3]"))
  }
}
