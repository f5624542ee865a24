import CompareCore
import Testing

@Suite("OpenBLAS kernel set")
struct BLASKernelsTests {
  @Test("Zen 4 is AMD family 19h with AVX-512; Zen 3, Zen 5 and Intel are not")
  func recognisesZen4() {
    #expect(BLASKernels.isZen4(vendor: "AuthenticAMD", family: 25, hasAVX512: true))
    #expect(!BLASKernels.isZen4(vendor: "AuthenticAMD", family: 25, hasAVX512: false))
    #expect(!BLASKernels.isZen4(vendor: "AuthenticAMD", family: 26, hasAVX512: true))
    #expect(!BLASKernels.isZen4(vendor: "GenuineIntel", family: 25, hasAVX512: true))
    #expect(!BLASKernels.isZen4(vendor: "GenuineIntel", family: 6, hasAVX512: true))
  }

  /// Switching is for a process's start (`compare` does it in `main`); the tests, which run
  /// BLAS in parallel, never switch, so OpenBLAS runs the set it picked at load.
  @Test("a program that does not ask keeps OpenBLAS's pick, recorded when it loaded")
  func keptWithoutAsking() {
    #expect(!BLASKernels.loadedName.isEmpty)
    #expect(BLASKernels.name == BLASKernels.loadedName)
    #expect(BLASKernels.choice == .kept)
    #expect(BLASKernels.summary == "OpenBLAS \(BLASKernels.name) kernels")
  }
}

@Suite("OpenBLAS kernel set: the choice")
struct BLASKernelsChoiceTests {
  @Test("float32 work on a Zen 4 runs the Zen kernels where OpenBLAS picked AVX-512 ones, and nothing else changes")
  func fastest() {
    #expect(BLASKernels.fastest(for: .float32, loaded: "Cooperlake", zen4: true) == "Zen")
    #expect(BLASKernels.fastest(for: .float32, loaded: "SkylakeX", zen4: true) == "Zen")
    // Controls: float64 work, another processor, or OpenBLAS already on AVX2 kernels.
    #expect(BLASKernels.fastest(for: .float64, loaded: "Cooperlake", zen4: true) == "Cooperlake")
    #expect(BLASKernels.fastest(for: .float32, loaded: "Cooperlake", zen4: false) == "Cooperlake")
    #expect(BLASKernels.fastest(for: .float32, loaded: "Haswell", zen4: true) == "Haswell")
  }
}
