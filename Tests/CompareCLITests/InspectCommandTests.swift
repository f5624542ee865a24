@testable import CompareCLI
import Compare
import Testing
import TestSupport

/// `Tests/Fixtures/tensor-io/`, found from this file's path.
private let fixtures = packageRoot + "Tests/Fixtures/tensor-io/"

@Suite("compare inspect")
struct InspectCommandTests {
  @Test("uint64 past 2^63 and int64 past 2^53 show exactly as stored (not negative, not rounded)")
  func wideIntegers() throws {
    let scratch = TemporaryFolder("inspect-integers")
    let path = scratch.file("wide.safetensors")
    let unsigned: [UInt64] = [1 << 63, (1 << 63) + 5, 10]
    let signed: [Int64] = [(1 << 53) + 1, -((1 << 62) + 3)]
    try SafetensorsWriter.write([
      .init(key: "u", dtype: .uint64, shape: [3], bytes: unsigned.withUnsafeBytes { Array($0) }),
      .init(key: "i", shape: [2], values: signed),
    ], to: path)
    let text = runCompare(["inspect", path, "--stats", "--head", "3"])
    #expect(text.status == 0)
    #expect(text.out.contains("u: [9223372036854775808, 9223372036854775813, 10]"))
    #expect(text.out.contains("i: [9007199254740993, -4611686018427387907]"))
    // The statistics are float64, positive for the unsigned tensor.
    #expect(text.out.contains("u    uint64  (3,)      24            10  9.22337e+18   6.14891e+18"))
    let json = runCompare(["inspect", path, "--head", "3", "--json"])
    #expect(json.out.contains(#""head": [9007199254740993, -4611686018427387907]"#))
    #expect(json.out.contains(#""head": [9.223372036854776e+18, 9.223372036854776e+18, 10]"#))
  }

  @Test("a key holding a newline or an escape sequence is shown escaped: each tensor stays one row")
  func controlCharactersInKeys() throws {
    let scratch = TemporaryFolder("inspect-keys")
    let path = scratch.file("evil.safetensors")
    try SafetensorsWriter.write([.init(key: "evil\nname\u{1B}[31m", shape: [2], values: [Float(1), 2])], to: path)
    let result = runCompare(["inspect", path, "--head", "2"])
    #expect(result.status == 0)
    #expect(result.out.contains("evil\\nname\\u{1B}[31m  float32  (2,)"))
    #expect(result.out.contains("evil\\nname\\u{1B}[31m: [1.0, 2.0]") || result.out.contains("evil\\nname\\u{1B}[31m: [1, 2]"))
    #expect(!result.out.contains("\u{1B}"))
    // Control: --json keeps the key as it is (JSON escapes it).
    #expect(runCompare(["inspect", path, "--json"]).out.contains(#""key": "evil\nname\u001b[31m""#))
  }

  @Test("lists key, dtype, shape and bytes in file order")
  func table() {
    let path = fixtures + "cli/small.npz"
    let result = runCompare(["inspect", path])
    #expect(result.status == 0)
    #expect(result.err.isEmpty)
    #expect(result.out == """
      \(path): npz, 2 tensors, 48 B
      key  dtype    shape   bytes
      x    float32  (2, 3)     24
      ids  int64    (3,)       24

      """)
  }

  @Test("--stats and --head add float64 statistics of the finite values, NaN/∞ counts and row-major elements")
  func statsAndHead() {
    let path = fixtures + "cli/small.npz"
    let result = runCompare(["inspect", path, "--stats", "--head", "4"])
    #expect(result.status == 0)
    #expect(result.out == """
      \(path): npz, 2 tensors, 48 B
      key  dtype    shape   bytes  min  max   mean       std  nan  inf
      x    float32  (2, 3)     24   -2    4  0.875   2.13234    1    1
      ids  int64    (3,)       24    1    3      2  0.816497    0    0

      first 4 elements (row-major):
      x: [1, -2, 0.5, nan]
      ids: [3, 1, 2]

      """)
  }

  @Test("--json has the documented keys; a key selects one tensor")
  func json() {
    let path = fixtures + "cli/small.npz"
    let result = runCompare(["inspect", path + ":x", "--stats", "--head", "5", "--json"])
    #expect(result.status == 0)
    // numpy: x[isfinite(x)] = [1, -2, 0.5, 4]: mean 0.875, std (ddof=0) 2.1323402636539974.
    #expect(result.out == """
      {
        "file": "\(path)",
        "format": "npz",
        "tensors": [
          {
            "key": "x",
            "dtype": "float32",
            "shape": [2, 3],
            "bytes": 24,
            "min": -2.0,
            "max": 4.0,
            "mean": 0.875,
            "std": 2.1323402636539974,
            "nan": 1,
            "inf": 1,
            "head": [1.0, -2.0, 0.5, null, null]
          }
        ]
      }

      """)
  }

  @Test("--head reads a Fortran-ordered file in row-major order, as numpy does")
  func fortranHead() {
    let path = fixtures + "cli/fortran.npy"
    let result = runCompare(["inspect", path, "--head", "6", "--json"])
    #expect(result.out.contains(#""head": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]"#))
  }

  @Test("a missing key names the available ones; a bad file is a data error (exit 1)")
  func errors() {
    let path = fixtures + "cli/small.npz"
    let missing = runCompare(["inspect", path + ":y"])
    #expect(missing.status == 1)
    #expect(missing.out.isEmpty)
    #expect(missing.err == "Error: \(path): has no tensor 'y' (available: x, ids)\n")
    let bad = fixtures + "bad/forbidden_global.pt"
    let refused = runCompare(["inspect", bad])
    #expect(refused.status == 1)
    #expect(refused.err == "Error: \(bad): pickle: refusing global 'posix.system' (only tensors, storages, containers, strings and numbers are loaded; nothing is executed)\n")
    let absent = runCompare(["inspect", "/nonexistent/file.npz"])
    #expect(absent.status == 1)
    #expect(absent.err == "Error: /nonexistent/file.npz: no such file\n")
  }

  @Test("usage mistakes exit 64 with the usage line")
  func usage() {
    let none = runCompare(["inspect"])
    #expect(none.status == 64)
    #expect(none.err == """
      Error: missing expected argument '<ref>'
      Usage: compare inspect [--stats] [--head <n>] [--json] <ref>
        See 'compare inspect --help' for more information.

      """)
    let negative = runCompare(["inspect", fixtures + "cli/small.npz", "--head", "-1"])
    #expect(negative.status == 64)
    #expect(negative.err.hasPrefix("Error: --head expects a non-negative integer, got '-1'\n"))
  }
}
