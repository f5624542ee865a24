import CompareCore

/// One tensor of a file: its key, element type and shape, and a view of its bytes, which are
/// read (from the mapped file) only when converted.
///
/// Elements may be stored C-ordered, Fortran-ordered or strided (torch views); every accessor
/// returns them in row-major (C) order, as numpy's `ravel()` would.
public struct Tensor: Sendable {
  /// The file it came from, for messages.
  public let file: String
  /// Its name in the file (`.npz` member without `.npy`, safetensors name, torch key path
  /// joined with `.`); the file name for a lone `.npy`.
  public let key: String
  /// Element type.
  public let dtype: DType
  /// Shape, outermost first; `[]` for a scalar.
  public let shape: [Int]
  /// Element strides, in elements, outermost first.
  public let strides: [Int]
  /// Byte order of the stored elements.
  public let byteOrder: ByteOrder
  /// Offset, in bytes, of element [0, 0, …] in `storage`.
  public let byteOffset: Int
  /// Where the bytes live.
  public let storage: TensorStorage

  /// A tensor view. Validates that every addressed element lies inside `storage`, and that the
  /// shape is bounded by the stored bytes (at most 64 × their size + 1 MiB of converted
  /// elements, zero-length axes counted as 1), so that no loop over rows or elements runs
  /// longer than the file's size allows.
  public init(file: String, key: String, dtype: DType, shape: [Int], strides: [Int]? = nil,
              byteOrder: ByteOrder = .little, byteOffset: Int, storage: TensorStorage) throws {
    self.file = file
    self.key = key
    self.dtype = dtype
    self.shape = shape
    self.strides = strides ?? Tensor.contiguousStrides(shape)
    self.byteOrder = byteOrder
    self.byteOffset = byteOffset
    self.storage = storage
    guard shape.allSatisfy({ $0 >= 0 }), self.strides.count == shape.count else {
      throw ReadError(file: file, "tensor '\(key)' has an invalid shape \(shape)")
    }
    guard let count = Tensor.checkedCount(shape) else {
      throw ReadError(file: file, "tensor '\(key)' shape \(shape) overflows")
    }
    // Overlapping views (stride 0, as `expand` makes) may address few bytes but many elements:
    // bound what a conversion would allocate by the bytes actually stored.
    let limit = 64 * storage.bytes.count + (1 << 20)
    if count == 0 {
      // No elements, but the other axes still drive loops over rows (statistics, batches,
      // examples): `(600003488427387903, 0)` is 144 bytes of .npy. Hold them to the bound a
      // tensor with elements has, with the zero axes counted as 1.
      var span = 1
      for n in shape where n > 0 {
        let (p, overflow) = span.multipliedReportingOverflow(by: n)
        span = overflow ? Int.max : p
      }
      let (spanBytes, overflow) = span.multipliedReportingOverflow(by: dtype.size)
      guard !overflow, spanBytes <= limit else {
        throw ReadError(file: file, "tensor '\(key)' has no elements, but its shape \(shape) claims more rows and columns than \(storage.bytes.count) bytes could ever hold")
      }
      return
    }
    let (elementBytes, tooMany) = count.multipliedReportingOverflow(by: dtype.size)
    guard !tooMany, elementBytes <= limit else {
      // A contiguous layout addresses each element once: its shape simply needs more bytes
      // than the file holds (a header claiming too much). Only a view can repeat bytes.
      if self.strides == Tensor.contiguousStrides(shape) {
        throw ReadError(file: file, "tensor '\(key)' is truncated (shape \(shape) needs \(tooMany ? "an overflowing number of" : String(elementBytes)) bytes, found \(storage.bytes.count))")
      }
      throw ReadError(file: file, "tensor '\(key)' shape \(shape) with strides \(self.strides) repeats its stored bytes too often (a stride-0 view?); save it with .contiguous()")
    }
    // The lowest and highest element addressed, in elements from the start. Every step is
    // checked: shapes and strides come from the file and may be hostile.
    let overflowed = ReadError(file: file, "tensor '\(key)' shape \(shape) with strides \(self.strides) overflows")
    var low = 0, high = 0
    for (n, s) in zip(shape, self.strides) {
      let (span, overflow) = (n - 1).multipliedReportingOverflow(by: s)
      guard !overflow else { throw overflowed }
      let (sum, o) = span < 0 ? low.addingReportingOverflow(span) : high.addingReportingOverflow(span)
      guard !o else { throw overflowed }
      if span < 0 { low = sum } else { high = sum }
    }
    let (lowBytes, o0) = low.multipliedReportingOverflow(by: dtype.size)
    let (endElements, o1) = high.addingReportingOverflow(1)
    let (endBytes, o2) = endElements.multipliedReportingOverflow(by: dtype.size)
    let (end, o3) = byteOffset.addingReportingOverflow(endBytes)
    guard !o0, !o1, !o2, !o3 else {
      throw ReadError(file: file, "tensor '\(key)' is truncated (needs an overflowing number of bytes, found \(storage.bytes.count))")
    }
    guard byteOffset + lowBytes >= 0 else {
      throw ReadError(file: file, "tensor '\(key)' reaches \(-(byteOffset + lowBytes)) bytes before the start of its data (negative strides)")
    }
    guard end <= storage.bytes.count else {
      throw ReadError(file: file, "tensor '\(key)' is truncated (needs \(end) bytes, found \(storage.bytes.count))")
    }
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }

  /// Bytes of the elements (count × element size).
  public var byteCount: Int { count * dtype.size }

  /// `true` when stored C-contiguous in native (little-endian) order: conversion is a copy.
  public var isContiguous: Bool {
    strides == Tensor.contiguousStrides(shape) && byteOrder == .little
  }

  /// Row-major strides of a shape.
  public static func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[i] = s
      s = s &* max(shape[i], 1)
    }
    return strides
  }

  /// The product of a shape, or `nil` when it overflows `Int`.
  public static func checkedCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
      let (p, overflow) = n.multipliedReportingOverflow(by: d)
      if overflow { return nil }
      n = p
    }
    return n
  }

  /// The shape as numpy prints it, e.g. `(3, 4)`.
  public var shapeDescription: String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }
}
