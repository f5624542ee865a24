import CompareCore
import Synchronization

/// Where a command writes: results to standard output, warnings and progress to standard
/// error. Progress is shown only when standard error is a terminal. Tests capture both streams.
public final class Console: Sendable {
  enum Sink {
    case standard
    case captured
  }

  private let sink: Sink
  private let captured = Mutex<(out: String, err: String)>(("", ""))
  /// The `errno` of the first write to standard output that failed, or 0.
  private let outputFailure = Atomic<Int32>(0)
  /// `true` when progress lines are drawn (standard error is a terminal, not captured).
  public let showsProgress: Bool

  /// Writes to the process's standard output and error.
  public static func standard() -> Console { Console(sink: .standard) }

  /// Collects everything written, for tests.
  public static func capturing() -> Console { Console(sink: .captured) }

  init(sink: Sink) {
    self.sink = sink
    showsProgress = sink == .standard && isatty(2) == 1
  }

  /// Everything written to standard output so far (captured consoles only).
  public var standardOutput: String { captured.withLock { $0.out } }
  /// Everything written to standard error so far (captured consoles only).
  public var standardError: String { captured.withLock { $0.err } }

  /// Writes `text` to standard output (no newline added). A failed write (a full disk, a
  /// closed file) is remembered: see `outputError`.
  public func write(_ text: String) {
    switch sink {
    case .standard:
      guard outputFailure.load(ordering: .relaxed) == 0 else { return }
      let code = Console.put(text, to: 1)
      if code != 0 { outputFailure.store(code, ordering: .relaxed) }
    case .captured: captured.withLock { $0.out += text }
    }
  }

  /// Why standard output could not be written (`strerror` of the first failed write), or `nil`.
  public var outputError: String? {
    let code = outputFailure.load(ordering: .relaxed)
    return code == 0 ? nil : String(cString: strerror(code))
  }

  /// Writes a line to standard output.
  public func print(_ line: String = "") { write(line + "\n") }

  /// Writes a line to standard error, clearing any progress line first. Control characters in
  /// it (a newline or an escape sequence inside a file's tensor name, say) are shown escaped,
  /// so that a message stays one line and cannot drive the terminal (`Format.visible`).
  public func warn(_ line: String) {
    let line = Format.visible(line)
    switch sink {
    case .standard:
      if showsProgress { Console.put("\r\u{1B}[K", to: 2) }
      Console.put(line + "\n", to: 2)
    case .captured: captured.withLock { $0.err += line + "\n" }
    }
  }

  /// Redraws the progress line on standard error (only on a terminal).
  public func progress(_ text: String) {
    guard showsProgress else { return }
    Console.put("\r\u{1B}[K" + text, to: 2)
  }

  /// Clears the progress line.
  public func endProgress() {
    guard showsProgress else { return }
    Console.put("\r\u{1B}[K", to: 2)
  }

  /// Writes to a file descriptor unbuffered, so stdout and stderr interleave in the order written.
  @discardableResult
  static func put(_ text: String, to fd: Int32) -> Int32 { writeAll(text, to: fd) }
}

/// Progress over a known number of steps, drawn at most ~10 times a second.
public struct ProgressMeter {
  let console: Console
  let label: String
  var total: Int
  let start = ContinuousClock.now
  var lastDrawn = ContinuousClock.now - .seconds(1)

  public init(console: Console, label: String, total: Int) {
    self.console = console
    self.label = label
    self.total = total
  }

  /// Reports that `done` of `total` steps are finished.
  public mutating func update(_ done: Int, detail: String = "") {
    guard console.showsProgress else { return }
    let now = ContinuousClock.now
    guard done >= total || now - lastDrawn > .milliseconds(100) else { return }
    lastDrawn = now
    let elapsed = secondsSince(start)
    let percent = total > 0 ? 100 * done / total : 100
    let suffix = detail.isEmpty ? "" : " \(detail)"
    // The remaining time at the rate so far, once a little of the work is done.
    let remaining = done > 0 && done < total && elapsed > 2
      ? ", about \(Format.fixed(elapsed * Double(total - done) / Double(done), 0)) s left" : ""
    console.progress("\(label) \(done)/\(total) (\(percent)%) \(Format.fixed(elapsed, 1)) s\(remaining)\(suffix)")
  }

  /// Reports that `done` of `total` steps are finished, for work whose total is known only
  /// once it starts.
  public mutating func update(_ done: Int, of total: Int, detail: String = "") {
    self.total = total
    update(done, detail: detail)
  }

  /// Clears the progress line.
  public func finish() { console.endProgress() }
}
