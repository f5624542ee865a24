/// The element types Compare reads, named as numpy names them.
public enum DType: String, Sendable, CaseIterable, Codable {
  case float16, bfloat16, float32, float64
  case int8, int16, int32, int64
  case uint8, uint16, uint32, uint64
  case bool

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .bool, .int8, .uint8: 1
    case .float16, .bfloat16, .int16, .uint16: 2
    case .float32, .int32, .uint32: 4
    case .float64, .int64, .uint64: 8
    }
  }

  /// numpy's name for the type (`float16`, `bfloat16`, `int64`, `bool`, …).
  public var numpyName: String { rawValue }

  /// `true` for the floating-point types.
  public var isFloatingPoint: Bool {
    switch self {
    case .float16, .bfloat16, .float32, .float64: true
    default: false
    }
  }
}

/// Byte order of stored elements.
public enum ByteOrder: Sendable {
  case little, big
}
