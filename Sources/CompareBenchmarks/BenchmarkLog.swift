/// Where a benchmark writes its report: lines to standard output, warnings and progress to
/// standard error. The command line passes its console.
public struct BenchmarkLog: Sendable {
  public var write: @Sendable (String) -> Void
  public var warn: @Sendable (String) -> Void
  public var progress: @Sendable (String) -> Void
  public var endProgress: @Sendable () -> Void

  public init(write: @escaping @Sendable (String) -> Void, warn: @escaping @Sendable (String) -> Void,
              progress: @escaping @Sendable (String) -> Void, endProgress: @escaping @Sendable () -> Void) {
    self.write = write
    self.warn = warn
    self.progress = progress
    self.endProgress = endProgress
  }

  /// Writes a line.
  public func print(_ line: String = "") { write(line + "\n") }
}
