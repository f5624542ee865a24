import Testing
@testable import TensorIO

@Suite("Bad tensor files: a clear error naming the file and the problem, never a crash")
struct BadFileTests {
  static let cases: [(String, String)] = [
    ("truncated.npy", "tensor 'truncated' is truncated (needs 152 bytes, found 147)"),
    ("header_past_end.npy", "'header_past_end' .npy header length 60000 points past the end (152 bytes)"),
    ("shape_overflow.npy", "tensor 'shape_overflow' shape [4611686018427387904, 4] overflows"),
    ("complex.npy", "'complex' has unsupported dtype '<c8' (numbers and bool only)"),
    ("empty.npy", "is empty"),
    ("not_a_tensor.txt", "is not a .npy, .npz, .safetensors or torch.save file"),
    ("truncated.safetensors", "tensor 'w' is truncated (data_offsets end at 16, the data holds 10 bytes)"),
    ("header_past_end.safetensors", "safetensors header length 5000 points past the end (17 bytes)"),
    ("overlap.safetensors", "tensors 'a' and 'b' overlap (bytes 0..<16 and 8..<16)"),
    ("shape_overflow.safetensors", "tensor 'w' shape [4611686018427387904, 4] overflows"),
    ("wrong_length.safetensors", "tensor 'w' holds 16 bytes, but shape [3] of F32 needs 12"),
    ("unsupported_dtype.safetensors", "tensor 'w' has unsupported dtype 'F8_E4M3' (supported: F16, BF16, F32, F64, I8-I64, U8-U64, BOOL)"),
    ("not_json.safetensors", "safetensors header is not valid JSON (expected a string key at byte 9)"),
    ("corrupt_member.npz", "member 'logits.npy' is corrupt (invalid distance too far back)"),
    ("claimed_size.npz", "member 'x.npy' claims 2147483647 bytes from 72 compressed bytes (corrupt)"),
    ("truncated.npz", "is not a readable zip archive (no end of central directory; the file may be truncated)"),
    ("forbidden_global.pt", "pickle: refusing global 'posix.system' (only tensors, storages, containers, strings and numbers are loaded; nothing is executed)"),
    ("custom_class.pt", "pickle: refusing global '__main__.Custom' (only tensors, storages, containers, strings and numbers are loaded; nothing is executed)"),
    ("missing_storage.pt", "tensor 'missing_storage' refers to storage '0', which is not in the archive"),
    ("view_past_storage.pt", "tensor 'view_past_storage' is truncated (needs 240 bytes, found 24)"),
    ("legacy.pt", "is a legacy (non-zip) torch.save file; re-save it with a current PyTorch (torch.save uses zip since 1.6)"),
    ("truncated_pickle.pt", "pickle: ends early (no STOP)"),
    // Fuzzing findings: each cost time or memory growing with a number in the file.
    ("zero_rows.npy", "tensor 'zero_rows' has no elements, but its shape [600003488427387903, 0] claims more rows and columns than 144 bytes could ever hold"),
    ("overlapping_members.npz", "is not a readable zip archive (members 'x0.npy' and 'x1.npy' overlap at bytes 0..<4202 and 0..<4202)"),
    ("long_key_paths.pt", "pickle: key paths total more than 1136448 bytes (long names repeated along deep paths) at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…'"),
    ("ordered_dict_copies.pt", "pickle: copies more than 1289280 items out of shared containers (a memoized list reused over and over?)"),
    ("many_axes.pt", "pickle: its tensors have more than 161972 axes in all (one tensor listed under many keys?) at '80'"),
    ("listed_view.pt", "pickle: its tensors address more than 1574976 bytes, 64 times what the file stores (one tensor listed under many keys?) at '1'"),
  ]

  @Test("each bad file throws ReadError with the expected one-line message", arguments: cases)
  func rejects(name: String, problem: String) {
    let path = fixtureFolder + "bad/" + name
    #expect(throws: ReadError(file: path, problem)) { try TensorFile.open(path) }
  }
}

@Suite("Hostile pickles: bounded depth, cycles and blow-ups end in a ReadError")
struct HostilePickleTests {
  func problem(_ pickle: [UInt8]) -> String? {
    do {
      _ = try pickle.withUnsafeBytes { bytes in
        try TorchReader.read(pickle: bytes, path: "p", byteOrder: .little) { _ in nil }
      }
      return nil
    } catch let error as ReadError {
      return error.problem
    } catch {
      return "\(error)"
    }
  }

  @Test("a hundred thousand nested tuples is refused by depth and released without recursion")
  func deepNesting() {
    let pickle: [UInt8] = [0x80, 2, UInt8(ascii: ")")] + [UInt8](repeating: 0x85, count: 100_000) + [UInt8(ascii: ".")]
    #expect(problem(pickle) == "pickle: containers nested deeper than 100 levels at '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.…'")
  }

  @Test("a list that contains itself is walked once")
  func cycle() {
    // ] q0 h0 a . : a list, memoized, appended to itself.
    let pickle: [UInt8] = [0x80, 2, UInt8(ascii: "]"), UInt8(ascii: "q"), 0, UInt8(ascii: "h"), 0, UInt8(ascii: "a"), UInt8(ascii: ".")]
    #expect(problem(pickle) == nil)
  }

  @Test("a DAG of shared references that doubles per level is walked in linear time")
  func blowUp() {
    // Each level: a tuple of the previous level twice; 60 levels are 2^60 paths, walked once each.
    var pickle: [UInt8] = [0x80, 2, UInt8(ascii: "N")]
    for _ in 0..<60 { pickle += [UInt8(ascii: "2"), 0x86] }
    pickle.append(UInt8(ascii: "."))
    let start = ContinuousClock.now
    #expect(problem(pickle) == nil)
    #expect(ContinuousClock.now - start < .seconds(2))
    // Negative control: 101 levels exceed the depth limit.
    var deep: [UInt8] = [0x80, 2, UInt8(ascii: "N")]
    for _ in 0..<101 { deep += [UInt8(ascii: "2"), 0x86] }
    deep.append(UInt8(ascii: "."))
    #expect(problem(deep)?.hasPrefix("pickle: containers nested deeper than 100 levels") == true)
  }

  @Test("NEWOBJ, INST and unknown opcodes are refused")
  func opcodes() {
    #expect(problem([0x80, 2, 0x81, UInt8(ascii: ".")]) == "pickle: NEWOBJ (creating an object of an arbitrary class) is not allowed")
    #expect(problem([0x80, 2, 0xFF]) == "pickle: unsupported opcode 0xff at byte 2")
    #expect(problem([0x80, 2, UInt8(ascii: "R")]) == "pickle: stack underflow at byte 2")
  }
}
