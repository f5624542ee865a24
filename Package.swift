// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "Compare",
  products: [
    .library(name: "Compare", targets: ["Compare"]),
    .executable(name: "compare", targets: ["CompareTool"]),
  ],
  targets: [
    // System libraries: OpenBLAS (CBLAS), LAPACKE, zlib.
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                   providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke",
                   providers: [.apt(["liblapacke-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // float16 / bfloat16 conversion, F16C-vectorised with a portable fallback.
    .target(name: "CHalf"),
    // The signal handlers behind `FileGuard`, in C so that they stay async-signal-safe.
    .target(name: "CFileGuard"),
    // Run-time control of OpenBLAS: its kernel set (`BLASKernels`) and idle threads (`BLASThreads`).
    .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("openblas")]),

    .target(name: "CompareCore", dependencies: ["CBLAS", "CLAPACKE", "COpenBLAS"],
            linkerSettings: [.linkedLibrary("m")]),
    .target(name: "TensorIO", dependencies: ["CompareCore", "CZlib", "CHalf", "CFileGuard"]),
    .target(name: "EnsembleKernel", dependencies: ["CompareCore"]),
    .target(name: "CKA", dependencies: ["CompareCore"]),
    .target(name: "SpectralMetrics", dependencies: ["CompareCore"]),
    .target(name: "Similarity", dependencies: ["CompareCore"]),
    .target(name: "Figures", dependencies: ["CompareCore", "CZlib"]),
    .target(name: "Compare", dependencies: [
      "CompareCore", "TensorIO", "EnsembleKernel", "CKA", "SpectralMetrics", "Similarity", "Figures",
    ]),
    // `compare bench`: each module timed against this machine's BLAS/LAPACK bound.
    .target(name: "CompareBenchmarks", dependencies: ["Compare"]),
    .target(name: "CompareCLI", dependencies: ["Compare", "CompareBenchmarks"]),
    .executableTarget(name: "CompareTool", dependencies: ["CompareCLI"]),
    // Fuzz targets for the tensor readers; see the file for the libFuzzer build command.
    .executableTarget(name: "FuzzTensorIO", dependencies: ["CompareCore", "TensorIO"]),

    // Example programs that call the library API directly: `swift run KernelExample`.
    .executableTarget(name: "KernelExample", dependencies: ["Compare"], path: "Examples/KernelExample"),
    .executableTarget(name: "CKAExample", dependencies: ["Compare"], path: "Examples/CKAExample"),
    .executableTarget(name: "ESDExample", dependencies: ["Compare"], path: "Examples/ESDExample"),

    // Test helpers shared by the test targets (temporary folders that remove themselves).
    .target(name: "TestSupport", dependencies: ["TensorIO"], path: "Tests/Support"),
    .testTarget(name: "CompareCoreTests", dependencies: ["CompareCore"]),
    .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "TestSupport"]),
    .testTarget(name: "EnsembleKernelTests", dependencies: ["EnsembleKernel", "TensorIO"]),
    .testTarget(name: "CKATests", dependencies: ["CKA", "TensorIO"]),
    .testTarget(name: "SpectralMetricsTests", dependencies: ["SpectralMetrics", "TensorIO"]),
    .testTarget(name: "SimilarityTests", dependencies: ["Similarity"]),
    .testTarget(name: "FiguresTests", dependencies: ["Figures"]),
    .testTarget(name: "CompareTests", dependencies: ["Compare", "TestSupport"]),
    .testTarget(name: "CompareCLITests", dependencies: ["CompareCLI", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
