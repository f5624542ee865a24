import Foundation
import Testing
import TestSupport
@testable import TensorIO

@Suite("Output paths")
struct OutputPathsTests {
  let scratch = TemporaryFolder("output-paths")
  var folder: String { scratch.path }

  init() throws {
    try NPYWriter.write([Float](repeating: 1, count: 4), shape: [4], to: scratch.file("in.npy"))
    try NPYWriter.write([Float](repeating: 2, count: 4), shape: [4], to: scratch.file("other.npy"))
    try FileManager.default.createDirectory(atPath: scratch.file("sub"), withIntermediateDirectories: false)
  }

  /// The conflict's message, or `nil` when the paths pass.
  func conflict(_ outputs: [(String, String)], _ inputs: [(String, String)]) -> String? {
    do {
      try OutputPaths.check(outputs: outputs, inputs: inputs)
      return nil
    } catch {
      return (error as? OutputPaths.Conflict)?.message ?? "unexpected \(error)"
    }
  }

  @Test("an output that is an input is refused however the input is spelt; another file passes")
  func outputIsInput() throws {
    let input = scratch.file("in.npy")
    try FileManager.default.createSymbolicLink(atPath: scratch.file("link.npy"), withDestinationPath: input)
    for spelling in [input, folder + "/./in.npy", folder + "/sub/../in.npy", folder + "//in.npy", scratch.file("link.npy")] {
      #expect(conflict([("--save", spelling)], [("--test", input)])
              == "--save \(spelling) is also an input (--test); choose another output path")
    }
    // FILE:KEY compares the file; the output's own key-like colon is part of its name.
    #expect(conflict([("--save", input)], [("--labels", scratch.file("other.npy")), ("--test", input + ":logits")])
            == "--save \(input) is also an input (--test); choose another output path")
    // Negative controls: another existing file, a new file, a file that only shares the name.
    #expect(conflict([("--save", scratch.file("other.npy"))], [("--test", input)]) == nil)
    #expect(conflict([("--save", scratch.file("new.npy"))], [("--test", input)]) == nil)
    #expect(conflict([("--save", scratch.file("sub/in.npy"))], [("--test", input)]) == nil)
  }

  @Test("a relative spelling matches the absolute one, through the working folder")
  func relativeSpelling() throws {
    // `folder` relative to the working folder (not changed: tests run in parallel).
    let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
    let relative = String(repeating: "../", count: depth) + folder.dropFirst()
    #expect(conflict([("-o", relative + "/in.npy")], [("--test", scratch.file("in.npy"))]) != nil)
    #expect(conflict([("-o", relative + "/new.npy"), ("--figure", scratch.file("sub/../new.npy"))], [])
            == "-o and --figure both write \(relative)/new.npy")
    #expect(conflict([("-o", relative + "/new.npy"), ("--figure", scratch.file("sub/new.npy"))], []) == nil)
  }

  @Test("two outputs on one file are refused, whether it exists or not; two files pass")
  func twoOutputs() {
    let new = scratch.file("same.npy"), old = scratch.file("other.npy")
    #expect(conflict([("--save-kernel", new), ("--save-neighbors", new)], [])
            == "--save-kernel and --save-neighbors both write \(new)")
    #expect(conflict([("--save-kernel", old), ("--save-neighbors", folder + "/sub/../other.npy")], [])
            == "--save-kernel and --save-neighbors both write \(old)")
    // A new file in a missing folder is compared by its spelling made absolute.
    #expect(conflict([("-a", folder + "/none/x.npy"), ("-b", folder + "/none/./x.npy")], []) != nil)
    #expect(conflict([("--save-kernel", new), ("--save-neighbors", old)], []) == nil)
    // An input conflict is reported first.
    #expect(conflict([("-a", old), ("-b", old)], [("--test", old)])?.hasSuffix("is also an input (--test); choose another output path") == true)
  }

  @Test("a folder input counts as its files: an existing file or a model-file name in it is refused, other new files pass")
  func folderInput() {
    let sub = scratch.file("sub")
    func check(_ output: String) -> String? {
      do {
        try OutputPaths.check(outputs: [("-o", output)], inputs: [("model", sub)])
        return nil
      } catch { return (error as? OutputPaths.Conflict)?.message ?? "unexpected \(error)" }
    }
    #expect(check(sub + "/layer.npy") == "-o \(sub)/layer.npy is in the input folder \(sub) (model) and would be read as part of it; choose another output path")
    #expect(check(sub + "/../sub/model.safetensors") != nil)
    #expect(check(sub + "/model.safetensors.index.json") != nil)
    #expect(check(sub + "/esd.json") == nil)  // control: a report beside the model files
    #expect(check(scratch.file("layer.npy")) == nil)  // control: outside the folder
  }

  @Test("a folder output may not be another output's path or hold one")
  func folderOutputs() throws {
    func check(_ outputs: [(String, String)], _ folders: [(String, String)]) -> String? {
      do {
        try OutputPaths.check(outputs: outputs, inputs: [], folders: folders)
        return nil
      } catch { return (error as? OutputPaths.Conflict)?.message ?? "unexpected \(error)" }
    }
    let plots = scratch.file("plots")
    #expect(check([("-o", plots)], [("--plot", plots)]) == "-o and --plot both write \(plots)")
    #expect(check([("-o", plots + "/esd_fc1.png")], [("--plot", plots)])
            == "-o \(plots)/esd_fc1.png is in the folder --plot writes (\(plots)); choose another output path")
    #expect(check([("-o", scratch.file("esd.json"))], [("--plot", plots)]) == nil)  // control
  }

  @Test("normalising removes ., .. and repeated slashes, and keeps the root")
  func lexical() {
    #expect(OutputPaths.lexical("/a/./b//c/../d") == "/a/b/d")
    #expect(OutputPaths.lexical("/../..") == "/")
    #expect(OutputPaths.lexical("/a/b/") == "/a/b")
  }
}
