import CompareCore
import TensorIO

/// The `compare` command line: finds the subcommand, parses its options, runs it, and turns
/// errors into messages and exit statuses (0 success, 1 data error, 64 usage error).
public enum CompareCommandLine {
  /// The version `compare --version` prints.
  public static let version = "0.1.0"

  /// Every subcommand, in the order `compare --help` lists them.
  static let commands: [any Command.Type] = [
    DemoCommand.self,
    InspectCommand.self,
    KernelCommand.self,
    KernelPairsCommand.self,
    KernelMergeCommand.self,
    EnsembleCommand.self,
    CKACommand.self,
    SimilarityCommand.self,
    ESDCommand.self,
    ESDMergeCommand.self,
    BenchCommand.self,
  ]

  static let overview = "Compare neural networks by the numbers: ensemble correlation kernels, CKA and spectral (ESD) metrics."

  /// Runs `compare` with `words` (the arguments after the program name) and returns the exit
  /// status. With `choosingKernels`, once the command's options are parsed and before it runs,
  /// OpenBLAS's kernels are chosen for its work (`BLASKernels.prefer(for:)`): only for a whole
  /// process (`main`), since the switch is unsafe while other threads are inside BLAS.
  ///
  /// With `deferringOutputs` (also only for a whole process), the command's output files appear
  /// together once it has succeeded, or none of them (`FileGuard.deferCommits`).
  public static func run(_ words: [String], console: Console, choosingKernels: Bool = false,
                         deferringOutputs: Bool = false) -> Int32 {
    let status = status(words, console: console, choosingKernels: choosingKernels, deferringOutputs: deferringOutputs)
    guard deferringOutputs else { return status }
    guard status == 0 else {
      FileGuard.discardPending()
      return status
    }
    do {
      try FileGuard.commitPending()
      return 0
    } catch {
      console.warn("Error: \(error)")
      return 1
    }
  }

  static func status(_ words: [String], console: Console, choosingKernels: Bool, deferringOutputs: Bool) -> Int32 {
    do {
      try dispatch(words, console: console, choosingKernels: choosingKernels, deferringOutputs: deferringOutputs)
      // Results that did not reach standard output (a full disk, a closed file) are a failure.
      if let problem = console.outputError {
        console.warn("Error: cannot write the results to standard output: \(problem)")
        return 1
      }
      return 0
    } catch let error as UsageError {
      console.warn("Error: \(error.message)")
      if let name = error.command, let command = command(named: name) {
        console.warn("Usage: \(HelpFormatter.usage(command.spec))")
        console.warn("  See '\(HelpFormatter.tool) \(name) --help' for more information.")
      } else {
        console.warn("Usage: \(HelpFormatter.tool) <subcommand>")
        console.warn("  See '\(HelpFormatter.tool) --help' for more information.")
      }
      return 64
    } catch let error as any CompareError {
      console.warn("Error: \(error.description)")
      return 1
    } catch {
      console.warn("Error: \(error)")
      return 1
    }
  }

  /// Runs with the process's arguments and exits. A file that shrinks while it is read, or an
  /// interrupt, ends the run cleanly (see `FileGuard`), and its output files appear only when it
  /// succeeds. First, while no BLAS call is in
  /// flight, OpenBLAS's idle threads are told to sleep (`BLASThreads.sleepWhenIdle`), its threads
  /// fitted to an address-space limit (`BLASThreads.fitAddressSpaceLimit`) and its kernels
  /// chosen for the command's work (`BLASKernels`).
  public static func main() -> Never {
    FileGuard.install()
    BLASThreads.sleepWhenIdle()
    let status = run(Array(CommandLine.arguments.dropFirst()), console: .standard(), choosingKernels: true,
                     deferringOutputs: true)
    exit(status)
  }

  static func command(named name: String) -> (any Command.Type)? {
    commands.first { $0.spec.name == name }
  }

  /// The command whose name is the longest prefix of `words`, and the words after it.
  static func resolve(_ words: [String]) -> (any Command.Type, [String])? {
    var best: (any Command.Type, Int)?
    for command in commands {
      let name = command.spec.name.split(separator: " ").map(String.init)
      if words.count >= name.count, Array(words.prefix(name.count)) == name,
         name.count > (best?.1 ?? 0) {
        best = (command, name.count)
      }
    }
    return best.map { ($0.0, Array(words.dropFirst($0.1))) }
  }

  static func subcommands(of name: String) -> [CommandSpec] {
    commands.map { $0.spec }.filter { $0.name.hasPrefix(name + " ") }
  }

  static func dispatch(_ words: [String], console: Console, choosingKernels: Bool = false,
                       deferringOutputs: Bool = false) throws {
    guard let first = words.first else {
      console.print(topLevelHelp)
      return
    }
    switch first {
    case "-h", "--help":
      console.write(topLevelHelp)
      return
    case "--version":
      console.print(version)
      return
    case "help":
      let rest = Array(words.dropFirst())
      if rest.isEmpty {
        console.write(topLevelHelp)
        return
      }
      guard let (command, extra) = resolve(rest), extra.isEmpty else {
        throw UsageError("unknown subcommand '\(rest.joined(separator: " "))'")
      }
      console.write(HelpFormatter.help(command.spec, subcommands: subcommands(of: command.spec.name)))
      return
    default:
      break
    }
    guard let (command, rest) = resolve(words) else {
      if first.hasPrefix("-") { throw UsageError("unknown option '\(first)'") }
      throw UsageError("unknown subcommand '\(first)'")
    }
    let arguments = try ParsedArguments(rest, spec: command.spec)
    if arguments.flag("--help") {
      console.write(HelpFormatter.help(command.spec, subcommands: subcommands(of: command.spec.name)))
      return
    }
    if choosingKernels {
      if let lowered = try BLASThreads.fitAddressSpaceLimit() { console.warn("warning: " + lowered) }
      BLASKernels.prefer(for: command.blasWork(arguments))
    }
    if deferringOutputs && command.defersOutputs { FileGuard.deferCommits() }
    try command.run(arguments, console: console)
  }

  static var topLevelHelp: String {
    var out = "OVERVIEW: \(overview)\n\nUSAGE: \(HelpFormatter.tool) <subcommand>\n\nOPTIONS:\n"
    out += HelpFormatter.row("--version", "Show the version.")
    out += HelpFormatter.row("-h, --help", "Show help information.")
    out += "\nSUBCOMMANDS:\n"
    for command in commands {
      out += HelpFormatter.row(command.spec.name, command.spec.overview)
    }
    out += "\n  See '\(HelpFormatter.tool) help <subcommand>' for detailed help.\n"
    return out
  }
}
