@testable import CompareCLI
import Testing

/// The package's root folder, found from this file's path (`Tests/CompareCLITests/…`), ending in `/`.
let packageRoot: String = {
  var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
  parts.removeLast(3)
  return parts.joined(separator: "/") + "/"
}()

/// Runs `compare` with `words` and returns the exit status and both streams.
func runCompare(_ words: [String]) -> (status: Int32, out: String, err: String) {
  let console = Console.capturing()
  let status = CompareCommandLine.run(words, console: console)
  return (status, console.standardOutput, console.standardError)
}

@Suite("Command line")
struct CommandLineTests {
  @Test("--version prints only the version")
  func version() {
    let result = runCompare(["--version"])
    #expect(result.status == 0)
    #expect(result.out == CompareCommandLine.version + "\n")
    #expect(result.err.isEmpty)
  }

  @Test("--help lists every subcommand; help SUB and SUB -h print the same text")
  func help() {
    let top = runCompare(["--help"])
    #expect(top.status == 0)
    for name in ["demo", "inspect", "kernel", "cka", "esd", "bench"] {
      #expect(top.out.contains("\n  \(name) "))
    }
    let a = runCompare(["help", "bench"]), b = runCompare(["bench", "-h"]), c = runCompare(["bench", "--help"])
    #expect(a.out == b.out && b.out == c.out)
    #expect(a.out.hasPrefix("OVERVIEW: "))
    #expect(a.out.contains("USAGE: compare bench [--threads <n>] [--quick] [--json] <module>"))
    #expect(a.out.contains("--threads <n>           BLAS threads (0 keeps OpenBLAS's default). (default: 0)"))
  }

  @Test("an unknown subcommand is a usage error with exit status 64")
  func unknownSubcommand() {
    let result = runCompare(["frobnicate"])
    #expect(result.status == 64)
    #expect(result.out.isEmpty)
    #expect(result.err == """
      Error: unknown subcommand 'frobnicate'
      Usage: compare <subcommand>
        See 'compare --help' for more information.

      """)
  }

  @Test("an unknown option names the option and prints the command's usage")
  func unknownOption() {
    let result = runCompare(["bench", "core", "--fast"])
    #expect(result.status == 64)
    #expect(result.err == """
      Error: unknown option '--fast'
      Usage: compare bench [--threads <n>] [--quick] [--json] <module>
        See 'compare bench --help' for more information.

      """)
  }

  @Test("a bad number, a missing value and a missing argument are usage errors")
  func badValues() {
    let bad = runCompare(["bench", "core", "--threads", "two"])
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("Error: --threads expects an integer in 0...1024, got 'two'\n"))
    let missing = runCompare(["bench", "core", "--threads"])
    #expect(missing.status == 64)
    #expect(missing.err.hasPrefix("Error: missing value for '--threads <n>'\n"))
    let noArgument = runCompare(["bench"])
    #expect(noArgument.status == 64)
    #expect(noArgument.err.hasPrefix("Error: missing expected argument '<module>'\n"))
    let extra = runCompare(["bench", "core", "io"])
    #expect(extra.err.hasPrefix("Error: unexpected argument 'io'\n"))
  }

  @Test("an empty option value is a usage error (an empty --plot or --output folder would write at /)",
        arguments: [["esd", "Examples/data/weights_mlp.safetensors", "--plot", ""], ["demo", "--output", ""],
                    ["esd", "Examples/data/weights_mlp.safetensors", "--plot="]])
  func emptyValues(words: [String]) {
    let result = runCompare(words)
    #expect(result.status == 64)
    let option = words.first { $0.hasPrefix("--") }!.replacingOccurrences(of: "=", with: "")
    #expect(result.err.hasPrefix("Error: '\(option) <dir>' needs a value, got an empty one\n"))
  }

  @Test("a missing example folder is a data error with exit status 1, naming the folder")
  func missingFolder() {
    let result = runCompare(["demo", "--examples", "/nonexistent/examples", "--output", "/tmp/compare-demo-test"])
    #expect(result.status == 1)
    #expect(result.err == "Error: /nonexistent/examples: example data folder does not exist\n")
  }
}

@Suite("Argument parser")
struct ParsedArgumentsTests {
  static let spec = CommandSpec(
    name: "test", overview: "A test.",
    arguments: [ArgumentSpec("files", help: "Inputs.", repeated: true)],
    options: [
      OptionSpec("-k", value: "k", help: "Neighbours.", default: 3),
      OptionSpec("--mode", value: "mode", help: "Mode.", values: ["a", "b"]),
      OptionSpec("--test", value: "ref", help: "Repeatable.", repeatable: true),
      OptionSpec("--shift", value: "x", help: "A number.", default: 0.5),
    ])

  @Test("parses flags, values, =values, repeats, negative numbers and positionals")
  func parses() throws {
    let args = try ParsedArguments(
      ["x.npy", "-k", "5", "--mode=b", "--test", "a", "--test", "b", "--shift", "-2.5", "--json", "y.npy"],
      spec: Self.spec)
    #expect(try args.int("-k") as Int == 5)
    #expect(args.string("--mode") == "b")
    #expect(args.strings("--test") == ["a", "b"])
    #expect(try args.double("--shift") == -2.5)
    #expect(args.flag("--json"))
    #expect(args.positionals == ["x.npy", "y.npy"])
  }

  @Test("reads an option's declared default back typed when it is not given")
  func defaults() throws {
    let args = try ParsedArguments(["x.npy"], spec: Self.spec)
    #expect(try args.int("-k") as Int == 3)
    #expect(try args.double("--shift") == 0.5)
    #expect(!args.given("-k"))
    #expect(args.string("--mode") == nil)
    #expect(HelpFormatter.help(Self.spec, subcommands: []).contains("(default: 3)"))
  }

  @Test("rejects values outside the allowed set and repeated single options")
  func rejects() {
    #expect(throws: UsageError.self) { try ParsedArguments(["x", "--mode", "c"], spec: Self.spec) }
    #expect(throws: UsageError.self) { try ParsedArguments(["x", "-k", "1", "-k", "2"], spec: Self.spec) }
    #expect(throws: UsageError.self) { try ParsedArguments(["x", "--json=1"], spec: Self.spec) }
  }

  @Test("reports a non-positive k with the expected wording")
  func positiveInteger() throws {
    let args = try ParsedArguments(["x", "-k", "three"], spec: Self.spec)
    #expect(throws: UsageError.self) { try args.int("-k", in: 1...Int.max) as Int }
    do {
      _ = try args.int("-k", in: 1...Int.max) as Int
    } catch let error as UsageError {
      #expect(error.message == "-k expects a positive integer, got 'three'")
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}
