// Fuzz targets for the tensor-file readers, one per reader (npy, zip, safetensors, pickle,
// unpickler, json), chosen by the environment variable FUZZ_TARGET.
//
// Built with libFuzzer (Linux toolchain):
//   swift build -c release --product FuzzTensorIO --build-path .build-fuzz \
//     -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
//   FUZZ_TARGET=pickle .build-fuzz/release/FuzzTensorIO -timeout=5 -max_total_time=60 /tmp/fuzz-pkl Tests/Fixtures/tensor-io/pickle
// Built normally it is a small program that runs every reader on the files named on its command
// line (to replay a crash input): swift run FuzzTensorIO crash-1234
import CompareCore
import TensorIO

#if FUZZING
/// The reader chosen by FUZZ_TARGET, read once.
let fuzzTarget: TensorFuzzing.Target = {
  guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }),
        let target = TensorFuzzing.Target(rawValue: name) else {
    let names = TensorFuzzing.Target.allCases.map(\.rawValue).joined(separator: ", ")
    print("set FUZZ_TARGET to one of: \(names)")
    exit(2)
  }
  return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  TensorFuzzing.run(fuzzTarget, UnsafeRawBufferPointer(start: data, count: size))
  return 0
}

/// libFuzzer's driver (`int LLVMFuzzerRunDriver(int *argc, char ***argv,
/// int (*)(const uint8_t *, size_t))`), linked by `-sanitize=fuzzer`.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
  _ argc: UnsafeMutablePointer<Int32>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// SwiftPM links an executable's entry point as `<module>_main`: hand control to libFuzzer's
/// driver from there.
@_cdecl("FuzzTensorIO_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var argc = argc
  var argv = argv
  return runFuzzerDriver(&argc, &argv, fuzzTestOneInput)
}
#else
@main
struct FuzzTensorIO {
  static func main() {
    let paths = CommandLine.arguments.dropFirst()
    guard !paths.isEmpty else {
      print("usage: FuzzTensorIO FILE... (runs every reader on each file)")
      exit(64)
    }
    for path in paths {
      guard let file = try? MappedFile(path: path) else {
        print("\(path): cannot be read")
        continue
      }
      for target in TensorFuzzing.Target.allCases {
        let elements = TensorFuzzing.run(target, file.bytes)
        print("\(path) [\(target.rawValue)]: \(elements) elements")
      }
    }
  }
}
#endif
