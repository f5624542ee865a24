import CHalf
import CompareCore

extension Tensor {
  /// Elements as `Float`, row-major, optionally only the slices `rows` of the first axis.
  /// float16 and bfloat16 are widened by a vectorised kernel; float64 and integers rounded.
  ///
  /// - Throws: `ReadError` if `rows` is outside the first axis.
  public func floats(rows: Range<Int>? = nil) throws -> [Float] {
    try converted(rows: rows, as: Float.self)
  }

  /// Writes the elements of the slices `rows` of the first axis (all when `nil`) as `Float`,
  /// row-major, into `buffer`: streaming a large file through one reused buffer without
  /// allocating. Returns the number of elements written.
  ///
  /// - Throws: `ReadError` if `rows` is outside the first axis or `buffer` is too small.
  @discardableResult
  public func floats(rows: Range<Int>? = nil, into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
    try convert(rows: rows, into: buffer)
  }

  /// The elements of the slices `rows` of the first axis where they are stored, when no
  /// conversion is needed: the tensor is C-contiguous, little-endian, of `Scalar`'s own dtype
  /// (float32 for `Float`, float64 for `Double`) and suitably aligned in its file; else `nil`.
  /// Reading large inputs without a copy (minibatch CKA reads each batch straight from the
  /// mapped file). The pointer lives as long as this tensor's `storage`; a file that shrinks
  /// meanwhile raises SIGBUS on access, which `FileGuard` turns into a clean error.
  ///
  /// - Throws: `ReadError` if `rows` is outside the first axis.
  public func storedRows<Scalar: BLASScalar>(_ rows: Range<Int>, as: Scalar.Type) throws -> UnsafeBufferPointer<Scalar>? {
    let total = try elementCount(rows: rows)
    let native = (Scalar.self == Float.self && dtype == .float32) || (Scalar.self == Double.self && dtype == .float64)
    guard native, isContiguous, !shape.isEmpty, let base = storage.bytes.baseAddress else { return nil }
    let start = base + byteOffset + rows.lowerBound * strides[0] * dtype.size
    guard Int(bitPattern: start) % MemoryLayout<Scalar>.alignment == 0 else { return nil }
    return UnsafeBufferPointer(start: start.assumingMemoryBound(to: Scalar.self), count: total)
  }

  /// Writes the elements of the slices `rows` of the first axis (all when `nil`), converted to
  /// `Scalar`, row-major, into `buffer`. Returns the number of elements written.
  ///
  /// - Throws: `ReadError` if `rows` is outside the first axis or `buffer` is too small.
  @discardableResult
  public func convert<Scalar: BLASScalar>(rows: Range<Int>? = nil,
                                          into buffer: UnsafeMutableBufferPointer<Scalar>) throws -> Int {
    // Called from another module this function is not specialised: hand the work to a body
    // compiled for the concrete type, or each element would go through generic dispatch.
    if Scalar.self == Float.self {
      return try buffer.withMemoryRebound(to: Float.self) { try fill(rows: rows, into: $0) }
    }
    if Scalar.self == Double.self {
      return try buffer.withMemoryRebound(to: Double.self) { try fill(rows: rows, into: $0) }
    }
    return try fill(rows: rows, into: buffer)
  }

  func fill<Scalar: BLASScalar>(rows: Range<Int>?, into buffer: UnsafeMutableBufferPointer<Scalar>) throws -> Int {
    let total = try elementCount(rows: rows)
    guard buffer.count >= total, let out = buffer.baseAddress else {
      if total == 0 { return 0 }
      throw ReadError(file: file, "tensor '\(key)': a buffer of \(buffer.count) elements cannot hold \(total)")
    }
    var index = 0
    forEachRun(rows: rows) { pointer, length, byteStride in
      Tensor.decode(pointer, count: length, byteStride: byteStride, dtype: dtype,
                    byteOrder: byteOrder, into: out + index)
      index += length
    }
    return total
  }

  /// The number of elements in the slices `rows` of the first axis (all when `nil`).
  func elementCount(rows: Range<Int>?) throws -> Int {
    guard let rows else { return count }
    guard let first = shape.first, rows.lowerBound >= 0, rows.upperBound <= first else {
      throw ReadError(file: file, "tensor '\(key)' has no rows \(rows.lowerBound)..<\(rows.upperBound) (shape \(shape))")
    }
    return rows.count * shape.dropFirst().reduce(1, *)
  }

  /// Elements as `Double`, row-major, optionally only the slices `rows` of the first axis.
  public func doubles(rows: Range<Int>? = nil) throws -> [Double] {
    try converted(rows: rows, as: Double.self)
  }

  /// Elements as `Int64`, row-major. Throws `ReadError` for a floating-point tensor whose
  /// values are not all integers, or a uint64 value past `Int64.max`.
  public func integers() throws -> [Int64] {
    if dtype.isFloatingPoint {
      let values = try doubles()
      guard let bad = values.firstIndex(where: { $0 != $0.rounded() || abs($0) > 9.0e15 }) else {
        return values.map { Int64($0) }
      }
      throw ReadError(file: file, "tensor '\(key)' should hold integers, found \(values[bad]) at index \(bad)")
    }
    var result = [Int64](repeating: 0, count: count)
    if result.isEmpty { return result }
    result.withUnsafeMutableBufferPointer { out in
      var index = 0
      forEachRun(rows: nil) { pointer, length, byteStride in
        for e in 0..<length {
          out[index + e] = Tensor.integer(at: pointer + e * byteStride, dtype, byteOrder)
        }
        index += length
      }
    }
    if dtype == .uint64, let bad = result.firstIndex(where: { $0 < 0 }) {
      throw ReadError(file: file, "tensor '\(key)' holds \(UInt64(bitPattern: result[bad])) at index \(bad), which does not fit in int64")
    }
    return result
  }

  /// The tensor as a `rows × columns` matrix: the first axis is the rows, the others are
  /// flattened into columns (a vector is one column; a scalar is 1×1).
  public func matrix<Scalar: BLASScalar>(_ type: Scalar.Type = Scalar.self) throws -> Matrix<Scalar> {
    let rows = shape.first ?? 1
    let columns = shape.count <= 1 ? 1 : shape.dropFirst().reduce(1, *)
    return Matrix(rows: rows, columns: columns, elements: try converted(rows: nil, as: Scalar.self))
  }

  /// Elements of the slices `rows` of the first axis (all when `nil`), converted to `Scalar`.
  public func converted<Scalar: BLASScalar>(rows: Range<Int>?, as: Scalar.Type) throws -> [Scalar] {
    let total = try elementCount(rows: rows)
    return try [Scalar](unsafeUninitializedCapacity: total) { out, initialized in
      // Fault a large fresh buffer in before converting into it (`MADV_POPULATE_WRITE`): on the
      // development VM a 2 GiB floats() took 9-20 s with the page faults taken inside the
      // conversion loop, 3.6-4.1 s with a memset first.
      WorkBuffer.prefault(UnsafeMutableRawBufferPointer(out))
      initialized = try convert(rows: rows, into: out)
    }
  }

  /// Calls `body` for each innermost run of elements in row-major order, with its first
  /// element's address, length and byte stride.
  func forEachRun(rows: Range<Int>?,
                  _ body: (UnsafeRawPointer, _ length: Int, _ byteStride: Int) -> Void) {
    guard count > 0, let base = storage.bytes.baseAddress else { return }
    let size = dtype.size
    var origin = base + byteOffset
    var shape = self.shape
    if let rows, !shape.isEmpty {
      origin += rows.lowerBound * strides[0] * size
      shape[0] = rows.count
      if rows.isEmpty { return }
    }
    if shape.isEmpty {
      body(origin, 1, size)
      return
    }
    // Merge the whole tensor into one run when it is contiguous from the first axis kept.
    let contiguous = strides == Tensor.contiguousStrides(self.shape)
    if contiguous {
      body(origin, shape.reduce(1, *), size)
      return
    }
    // Axes of length 1 move nothing: drop them, so that a header listing thousands of them
    // does not multiply the cost of every run.
    let kept = shape.indices.filter { shape[$0] != 1 }
    guard !kept.isEmpty else {
      body(origin, 1, size)
      return
    }
    let keptStrides = kept.map { strides[$0] }
    shape = kept.map { shape[$0] }
    let inner = shape.count - 1
    let runLength = shape[inner], runStride = keptStrides[inner] * size
    var index = [Int](repeating: 0, count: inner)
    let outer = shape[0..<inner].reduce(1, *)
    for _ in 0..<outer {
      var offset = 0
      for d in 0..<inner { offset += index[d] * keptStrides[d] * size }
      body(origin + offset, runLength, runStride)
      var d = inner - 1
      while d >= 0 {
        index[d] += 1
        if index[d] < shape[d] { break }
        index[d] = 0
        d -= 1
      }
    }
  }

  /// Converts `count` elements spaced `byteStride` apart into `Scalar`.
  static func decode<Scalar: BLASScalar>(
    _ source: UnsafeRawPointer, count: Int, byteStride: Int, dtype: DType, byteOrder: ByteOrder,
    into out: UnsafeMutablePointer<Scalar>
  ) {
    let packed = byteStride == dtype.size && byteOrder == .little
    if packed, Scalar.self == Float.self {
      let outFloat = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self)
      switch dtype {
      case .float16: chalf_f16_to_f32(source, outFloat, count); return
      case .bfloat16: chalf_bf16_to_f32(source, outFloat, count); return
      case .float32: UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 4); return
      default: break
      }
    }
    if packed, Scalar.self == Double.self, dtype == .float64 {
      UnsafeMutableRawPointer(out).copyMemory(from: source, byteCount: count * 8)
      return
    }
    if packed, dtype == .float16 || dtype == .bfloat16 {
      // Widen through a Float buffer in chunks, then to Double.
      let chunk = 4096
      withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { tmp in
        var i = 0
        while i < count {
          let n = min(chunk, count - i)
          if dtype == .float16 {
            chalf_f16_to_f32(source + 2 * i, tmp.baseAddress!, n)
          } else {
            chalf_bf16_to_f32(source + 2 * i, tmp.baseAddress!, n)
          }
          for j in 0..<n { out[i + j] = Scalar(tmp[j]) }
          i += n
        }
      }
      return
    }
    for e in 0..<count {
      out[e] = Scalar(Tensor.real(at: source + e * byteStride, dtype, byteOrder))
    }
  }

  @inline(__always)
  static func load<T: FixedWidthInteger>(_ p: UnsafeRawPointer, _ order: ByteOrder, as: T.Type) -> T {
    let raw = p.loadUnaligned(as: T.self)
    return order == .little ? T(littleEndian: raw) : T(bigEndian: raw)
  }

  /// One element as a Double, from any dtype and byte order, unaligned.
  static func real(at p: UnsafeRawPointer, _ dtype: DType, _ order: ByteOrder) -> Double {
    switch dtype {
    case .float16:
      var bits = load(p, order, as: UInt16.self)
      var value: Float = 0
      chalf_f16_to_f32(&bits, &value, 1)
      return Double(value)
    case .bfloat16:
      return Double(Float(bitPattern: UInt32(load(p, order, as: UInt16.self)) << 16))
    case .float32: return Double(Float(bitPattern: load(p, order, as: UInt32.self)))
    case .float64: return Double(bitPattern: load(p, order, as: UInt64.self))
    case .uint64: return Double(load(p, order, as: UInt64.self))
    default: return Double(integer(at: p, dtype, order))
    }
  }

  /// One integer element as Int64 (uint64 above Int64.max wraps; floats truncate).
  static func integer(at p: UnsafeRawPointer, _ dtype: DType, _ order: ByteOrder) -> Int64 {
    switch dtype {
    case .bool: return p.load(as: UInt8.self) != 0 ? 1 : 0
    case .int8: return Int64(p.load(as: Int8.self))
    case .uint8: return Int64(p.load(as: UInt8.self))
    case .int16: return Int64(load(p, order, as: Int16.self))
    case .uint16: return Int64(load(p, order, as: UInt16.self))
    case .int32: return Int64(load(p, order, as: Int32.self))
    case .uint32: return Int64(load(p, order, as: UInt32.self))
    case .int64: return load(p, order, as: Int64.self)
    case .uint64: return Int64(truncatingIfNeeded: load(p, order, as: UInt64.self))
    case .float16, .bfloat16, .float32, .float64:
      return Int64(real(at: p, dtype, order))
    }
  }
}
