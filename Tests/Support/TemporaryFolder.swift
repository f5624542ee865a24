import Foundation

/// A fresh, empty folder under `$TMPDIR` for one test, removed with everything in it when the
/// last reference goes (a suite holds one per test instance, so each test cleans up after
/// itself even when an expectation fails or an error is thrown).
///
/// `make test` runs the suite with a `TMPDIR` of its own and fails if anything is left in it.
public final class TemporaryFolder: Sendable {
  /// The folder's absolute path.
  public let path: String

  /// Creates `$TMPDIR/compare-LABEL-XXXXXX` with a unique suffix (`mkdtemp`).
  public init(_ label: String) {
    var template = Array((NSTemporaryDirectory() + "compare-\(label)-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "cannot create a temporary folder under \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
    path = String(cString: made!)
  }

  /// The path of `name` inside the folder (not created).
  public func file(_ name: String) -> String { path + "/" + name }

  /// The names in the folder, hidden files included, sorted.
  public func listing() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}
