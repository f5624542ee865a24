import CBLAS
import COpenBLAS
import Synchronization

/// Which of OpenBLAS's kernel sets runs the BLAS and LAPACK calls.
///
/// A `DYNAMIC_ARCH` OpenBLAS (Debian's, numpy's) picks one kernel set per process when it
/// loads. On AMD Zen 4 (family 19h with AVX-512), OpenBLAS 0.3.21 picks its Cooper Lake
/// AVX-512 kernels. Zen 4 runs a 512-bit instruction as two 256-bit halves, and there the AVX2
/// `Zen` kernels run float32 products faster: `ssyrk` 512 × 4096 at 99–100 against 88 GFLOP/s,
/// `sgemm` at 107–109 against 99–100 on one core. Float64 goes the other way: `dsyrk` and
/// `dgemm` are 6 % slower with them, and `compare esd` 7–10 % (BENCHMARKS.md).
///
/// So `prefer(for:)` runs float32 Gram work (CKA) on the `Zen` kernels on a Zen 4 whose
/// OpenBLAS picked `Cooperlake` or `SkylakeX`, and everything else on OpenBLAS's own pick. The
/// ensemble kernel's blocked GEMMs measured no faster on `Zen` (10.22 against 10.29 s at one
/// thread, 5.73 against 5.66 s at two), so the kernel keeps OpenBLAS's pick. Setting
/// `OPENBLAS_CORETYPE` keeps the user's choice. A static or single-architecture OpenBLAS
/// cannot switch and keeps its kernels.
public enum BLASKernels {
  /// The work a program is about to do, for `prefer(for:)`.
  public enum Work: Sendable {
    /// Mostly float32 Gram matrices (`ssyrk`): CKA.
    case float32
    /// Anything else: the ESD's float64 decompositions, the similarity measures, the ensemble
    /// kernel's GEMM blocks.
    case float64
  }

  /// What `prefer(for:)` did to OpenBLAS's kernel set.
  public enum Choice: Sendable, Equatable {
    /// Switched from OpenBLAS's own pick (`from`) to another set.
    case switched(from: String)
    /// The user chose with `OPENBLAS_CORETYPE`.
    case userChoice
    /// OpenBLAS's own pick kept.
    case kept

    /// `switched`, `user` or `kept`: the value of the benchmarks' `blas_kernels_choice`.
    public var key: String {
      switch self {
      case .switched: "switched"
      case .userChoice: "user"
      case .kept: "kept"
      }
    }
  }

  /// The kernel set OpenBLAS runs now (`Cooperlake`, `Zen`, `Haswell`, ...).
  public static var name: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
  }

  /// The kernel set OpenBLAS picked when it loaded.
  public static var loadedName: String { String(cString: compare_kernels_loaded_name()) }

  /// What the last `prefer(for:)` did (`kept` before any).
  public static var choice: Choice { state.withLock { $0 } }

  /// One line for reports, e.g.
  /// `OpenBLAS Zen kernels (Compare's choice for float32 work on Zen 4; OpenBLAS picked Cooperlake)`.
  public static var summary: String {
    switch choice {
    case .switched(let from): "OpenBLAS \(name) kernels (Compare's choice for float32 work on Zen 4; OpenBLAS picked \(from))"
    case .userChoice: "OpenBLAS \(name) kernels (set by OPENBLAS_CORETYPE)"
    case .kept: "OpenBLAS \(name) kernels"
    }
  }

  /// Switches OpenBLAS to the kernel set that runs `work` fastest on this CPU (see the type's
  /// summary) and says what it did.
  ///
  /// Call it when no other thread is inside BLAS or LAPACK, before starting the work: the
  /// switch replaces OpenBLAS's table of kernels. `compare` calls it once per process, before
  /// its command does any arithmetic; in-process callers of `CompareCommandLine.run` do not.
  @discardableResult
  public static func prefer(for work: Work) -> Choice {
    state.withLock { state in
      if let set = getenv("OPENBLAS_CORETYPE"), set.pointee != 0 {
        state = .userChoice
        return state
      }
      // (Empty only if the recording constructor did not run: then the set running now.)
      let loaded = loadedName.isEmpty ? name : loadedName
      let fastest = fastest(for: work, loaded: loaded, zen4: thisCPUIsZen4)
      if name != fastest { compare_use_kernels(fastest) }
      state = name == loaded ? .kept : .switched(from: loaded)
      return state
    }
  }

  /// The kernel set that runs `work` fastest, given the set OpenBLAS picked at load and
  /// whether the processor is a Zen 4: `Zen` for float32 work where OpenBLAS picked an AVX-512
  /// set on a Zen 4, OpenBLAS's pick otherwise.
  public static func fastest(for work: Work, loaded: String, zen4: Bool) -> String {
    work == .float32 && zen4 && avx512KernelSets.contains(loaded) ? "Zen" : loaded
  }

  /// Whether a processor is a Zen 4, the one where float32 work runs faster on the `Zen`
  /// kernels: vendor `AuthenticAMD`, family 19h (25), AVX-512 Foundation. (Zen 3 shares the
  /// family without AVX-512; Zen 5, family 1Ah, runs 512-bit instructions at full width.)
  public static func isZen4(vendor: String, family: Int, hasAVX512: Bool) -> Bool {
    compare_is_zen4(vendor, Int32(family), hasAVX512 ? 1 : 0) != 0
  }

  /// Whether this machine's processor is a Zen 4, from CPUID.
  public static var thisCPUIsZen4: Bool { compare_this_cpu_is_zen4() != 0 }

  /// OpenBLAS's AVX-512 kernel sets, which 0.3.21 picks on a Zen 4.
  static let avx512KernelSets: Set<String> = ["Cooperlake", "SkylakeX"]

  private static let state = Mutex<Choice>(.kept)
}
