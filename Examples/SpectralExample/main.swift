// Spectral (ESD) metrics of weight matrices you already have in memory, without any file:
// a random matrix, the same matrix with planted structure, and a trained-like heavy tail.
// Run: swift run SpectralExample
import Compare

func main() throws {
  var rng = SplitMix64(seed: 42)
  let random = Matrix<Float>.gaussian(rows: 512, columns: 256, using: &rng).scaled(by: 1 / 16)

  // Plant four strong directions (a low-rank signal) on top of the noise.
  let u = Matrix<Float>.gaussian(rows: 512, columns: 4, using: &rng)
  let v = Matrix<Float>.gaussian(rows: 4, columns: 256, using: &rng)
  let structured = random.adding(u.multiplied(by: v), scaledBy: 0.05)

  // Heavy-tailed: every element cubed keeps the scale but fattens the tail of the ESD.
  var heavy = random
  for i in heavy.elements.indices { heavy.elements[i] = 16 * heavy.elements[i] * heavy.elements[i] * heavy.elements[i] }

  print("matrix       alpha   entropy  stable_rank  rand_distance  num_spikes  mp_softrank")
  for (name, w) in [("random", random), ("structured", structured), ("heavy-tail", heavy)] {
    // The ESD: eigenvalues of WᵀW (squared singular values), no 1/N.
    let spectrum = try Spectrum(of: w)
    // The tail exponent of the reference tool's power-law fit.
    let fit = try PowerLawFit(eigenvalues: spectrum.eigenvalues)
    // The Marchenko–Pastur bulk and the spikes outside it.
    let mp = try MarchenkoPasturFit(eigenvalues: spectrum.eigenvalues, n: spectrum.n, m: spectrum.m)
    // Distance of the ESD from that of W with its elements shuffled (seeded).
    let rand = try randDistance(of: w, seed: 7)
    let cells = [
      Format.left(name, 11), Format.right(Format.fixed(fit.alpha, 2), 6),
      Format.right(Format.fixed(spectrum.entropy, 3), 9), Format.right(Format.fixed(spectrum.stableRank, 1), 12),
      Format.right(Format.fixed(rand, 3), 14), Format.right(String(mp.spikeCount), 11),
      Format.right(Format.fixed(mp.softRank, 3), 12),
    ]
    print(cells.joined(separator: " "))
  }

  // The whole table row, as `compare esd` prints it, for one layer and its initialisation.
  let report = try ESDAnalyzer().analyze(WeightLayer(name: "fc", matrix: structured, initial: random))[0]
  for key in ["alpha", "rand_distance", "distance_from_init", "cka_from_init", "status"] {
    print(key, report.value(key))
  }
}

do { try main() } catch { print("Error: \(error)") }
