import Testing
@testable import TensorIO

@Suite("Tensor files: every good fixture reads as numpy and torch read it")
struct TensorFileTests {
  @Test("the generator's golden file lists every fixture")
  func goldenFileIsThere() {
    #expect(expectedFiles.count == 46)
  }

  @Test("format, keys in file order, dtypes, shapes and row-major values match the goldens",
        arguments: expectedFiles)
  func matchesGolden(expected: ExpectedFile) throws {
    let file = try TensorFile.open(fixtureFolder + expected.file)
    #expect(file.format.rawValue == expected.format)
    #expect(file.keys == expected.tensors.map(\.key))
    for (tensor, golden) in zip(file.tensors, expected.tensors) {
      #expect(tensor.dtype.numpyName == golden.dtype, "\(golden.key)")
      #expect(tensor.shape == golden.shape, "\(golden.key)")
      let doubles = try tensor.doubles()
      #expect(doubles.count == golden.values.count)
      #expect(zip(doubles, golden.values).allSatisfy { same($0, $1) }, "\(golden.key): \(doubles.prefix(8)) vs \(golden.values.prefix(8))")
      let floats = try tensor.floats()
      #expect(zip(floats, golden.values).allSatisfy { same(Double($0), Double(Float($1))) }, "\(golden.key)")
      if !tensor.dtype.isFloatingPoint {
        #expect(try tensor.integers() == golden.values.map { Int64($0) }, "\(golden.key)")
      }
    }
    if let metadata = expected.metadata { #expect(file.metadata == metadata) }
  }

  @Test("a row slice of a strided, Fortran-ordered or big-endian tensor is the same rows of the whole",
        arguments: ["npy/fortran_3d.npy", "npy/fortran_be.npy", "torch/views.pt", "npz/deflated.npz"])
  func rowSlices(name: String) throws {
    for tensor in try TensorFile.open(fixtureFolder + name).tensors where (tensor.shape.first ?? 0) >= 2 {
      let all = try tensor.doubles()
      let per = all.count / tensor.shape[0]
      let rows = try tensor.doubles(rows: 1..<tensor.shape[0])
      #expect(zip(rows, all[per...]).allSatisfy { same($0, $1) }, "\(tensor.key)")
    }
  }

  @Test("views of one torch storage share its bytes, and stored members stay in the mapped file")
  func sharedStorage() throws {
    let file = try TensorFile.open(fixtureFolder + "torch/views.pt")
    let storages = file.tensors.map { ObjectIdentifier($0.storage) }
    #expect(Set(storages).count == 1)
    #expect(file.tensors.map(\.byteOffset) == [0, 0, 32, 4, 0])
    #expect(try file.tensor("transposed").strides == [1, 6])
    // A stored .npz member is a view of the file; a deflated one is a buffer of its own.
    let stored = try TensorFile.open(fixtureFolder + "npz/stored.npz").tensors
    let deflated = try TensorFile.open(fixtureFolder + "npz/deflated.npz").tensors
    #expect(stored[0].byteOffset > 0 && stored[0].byteOffset % 16 == 0)
    #expect(Set(deflated.map { ObjectIdentifier($0.storage) }).count == deflated.count)
  }

  @Test("FILE:KEY selects one tensor, a key prefix all tensors under it, and a missing key names the keys")
  func references() throws {
    let path = fixtureFolder + "torch/checkpoint.pt"
    let under = try TensorReference(path + ":state_dict").tensors()
    #expect(under.map(\.key) == ["state_dict.0.weight", "state_dict.0.bias", "state_dict.2.weight", "state_dict.2.bias"])
    #expect(try TensorReference(path + ":state_dict.2.bias").tensor().shape == [2])
    #expect(throws: ReadError(file: path, "has no tensor 'state_dict.9' (available: state_dict.0.weight, state_dict.0.bias, state_dict.2.weight, state_dict.2.bias)")) {
      try TensorReference(path + ":state_dict.9").tensors()
    }
    #expect(throws: ReadError(file: path, "holds 4 tensors; name one as \(path):KEY (available: state_dict.0.weight, state_dict.0.bias, state_dict.2.weight, state_dict.2.bias)")) {
      try TensorReference(path).tensor()
    }
    let log = try TensorReference(fixtureFolder + "torch/log.pt:logits").tensor()
    #expect(log.dtype == .float16 && log.shape == [3, 8, 10])
  }
}
