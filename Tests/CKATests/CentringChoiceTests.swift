@testable import CKA
import CompareCore
import Testing

/// Minibatch CKA skips the centring pass for a layer whose mean carries at most a quarter of its
/// squared norm (decided on its first batch, checked on every later one).
@Suite("Minibatch CKA: centring only where it matters")
struct CentringChoiceTests {
  /// Zero-mean Gaussian features (ρ ≈ 0): the layers the centring pass is skipped for.
  static func centred(_ n: Int, _ p: Int, seed: UInt64) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    return Matrix<Double>.gaussian(rows: n, columns: p, using: &rng)
  }

  static func float(_ m: Matrix<Double>) -> Matrix<Float> {
    Matrix<Float>(rows: m.rows, columns: m.columns) { Float(m[$0, $1]) }
  }

  @Test("zero-mean layers skip it after their first batch and keep float32's accuracy; post-ReLU ones keep it")
  func skipped() throws {
    let x = Self.centred(256, 48, seed: 1)
    let y = Matrix(rows: 256, columns: 32) { i, j in x[i, j] + 0.8 * x[i, j + 16] }
    // Post-ReLU activations: their mean carries about a third of their squared norm.
    let relu = activations(examples: 256, features: 40, seed: 3)
    var cka = try MinibatchCKA(layersA: ["x", "relu"], layersB: ["y"])
    for start in stride(from: 0, to: 256, by: 64) {
      let rows = start..<start + 64
      try cka.accumulate(batchA: [Self.float(x).rows(rows), Self.float(relu).rows(rows)], batchB: [Self.float(y).rows(rows)])
      // Centred on the first batch, which decides: the zero-mean layers skip it from then on.
      #expect(cka.grams.centring == [0, 1, 0])
    }
    let exact = try minibatchCKA([x, relu], [y], batch: 64)
    let result = try cka.result()
    for i in 0..<2 {
      #expect(result[i, 0].isClose(to: exact[i, 0], tolerance: 1e-6), "\(i)")
      #expect(result.hsicA[i].isClose(to: exact.hsicA[i], tolerance: 1e-5), "\(i)")
    }
  }

  @Test("a layer with an offset stays centred; one that gains an offset is centred again at once")
  func offsets() throws {
    let x = Self.centred(256, 48, seed: 2)
    let y = Matrix(rows: 256, columns: 32) { i, j in x[i, j] - 0.5 * x[i, j + 16] }
    // Layer a1: zero-mean for two batches, then offset by 300 (ρ near 1).
    let shifted = Matrix(rows: 256, columns: 48) { i, j in x[i, j] + (i >= 128 ? 300 : 0) }
    let offset = Matrix(rows: 256, columns: 32) { i, j in y[i, j] + 50 }
    var cka = try MinibatchCKA(layersA: ["a0", "a1"], layersB: ["b0"])
    var flags: [[UInt8]] = []
    for start in stride(from: 0, to: 256, by: 64) {
      let rows = start..<start + 64
      try cka.accumulate(batchA: [Self.float(x).rows(rows), Self.float(shifted).rows(rows)],
                         batchB: [Self.float(offset).rows(rows)])
      flags.append(cka.grams.centring)
    }
    // a0 skips from the first batch on; a1 skips until its offset appears in the third batch,
    // which its check catches; b0 (offset 50) is centred throughout.
    #expect(flags == [[0, 0, 1], [0, 0, 1], [0, 1, 1], [0, 1, 1]])
    let exact = try minibatchCKA([x, shifted], [offset], batch: 64)
    let result = try cka.result()
    for i in 0..<2 {
      #expect(result[i, 0].isClose(to: exact[i, 0], tolerance: 1e-5), "\(i)")
      #expect(result.hsicA[i].isClose(to: exact.hsicA[i], tolerance: 1e-4), "\(i)")
    }
    // Negative control: the offset batch's raw float32 Gram, U-centred without the centring
    // pass, is far from the exact one; the check above is what kept it out.
    let batch = Self.float(shifted).rows(128..<192)
    var raw = [Float](repeating: 0, count: 64 * 64), centredGram = [Float](repeating: 0, count: 64 * 64)
    var panel = [Float](repeating: 0, count: 64 * 48)
    batch.elements.withUnsafeBufferPointer { b in
      GramKernel.upperGram(b.baseAddress!, rows: 64, columns: 48, into: &raw)
      GramKernel.centredUpperGram(b.baseAddress!, rows: 64, columns: 48, panel: &panel, into: &centredGram)
    }
    var fromRaw = [Double](repeating: 0, count: GramKernel.packedCount(64))
    var fromCentred = fromRaw
    GramKernel.packUCentred(raw, size: 64, into: &fromRaw)
    GramKernel.packUCentred(centredGram, size: 64, into: &fromCentred)
    let error = zip(fromRaw, fromCentred).map { abs($0 - $1) }.max()!
    let scale = fromCentred.map { abs($0) }.max()!
    #expect(error > 1e-3 * scale)
  }
}
