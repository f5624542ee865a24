// Fuzz targets for the tensor-file readers, one per reader (npy, zip, safetensors, pickle),
// chosen by the environment variable FUZZ_TARGET.
//
// Built with libFuzzer (Linux toolchain):
//   swift build -c release --product FuzzTensorIO -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
//   FUZZ_TARGET=pickle .build/release/FuzzTensorIO -max_total_time=60 Tests/Fixtures/tensor-io/torch
// Built normally it is a small program that runs every reader on the files named on its command
// line (to replay a crash input): swift run FuzzTensorIO crash-1234
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorIO

#if FUZZING
/// The reader chosen by FUZZ_TARGET, read once.
let fuzzTarget: TensorFuzzing.Target = {
  guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }),
        let target = TensorFuzzing.Target(rawValue: name) else {
    let names = TensorFuzzing.Target.allCases.map(\.rawValue).joined(separator: ", ")
    fputs("set FUZZ_TARGET to one of: \(names)\n", stderr)
    exit(2)
  }
  return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  TensorFuzzing.run(fuzzTarget, UnsafeRawBufferPointer(start: data, count: size))
  return 0
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
