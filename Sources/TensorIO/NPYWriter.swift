/// Writes numpy `.npy` files (format 1.0, little-endian, C order), atomically.
public enum NPYWriter {
  /// The bytes of a `.npy` file holding `values` with `shape`.
  /// - Precondition: `values.count` is the product of `shape`.
  public static func encode<T: NPYElement>(_ values: [T], shape: [Int]) -> [UInt8] {
    precondition(values.count == shape.reduce(1, *), "NPY shape \(shape) does not match \(values.count) values")
    var bytes = header(descr: T.npyDescr, shape: shape)
    values.withUnsafeBytes { bytes += $0 }
    return bytes
  }

  /// The header of a `.npy` file (format 1.0) whose data, of numpy type `descr` (`<f4`) and
  /// `shape`, follows it: padded with spaces so that the data starts at a multiple of 64 bytes.
  /// Streaming writers (`compare kernel --save-kernel`) write it, then the data.
  public static func header(descr: String, shape: [Int]) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let length = header.utf8.count
    return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
  }

  /// Writes `values` with `shape` to `path` as `.npy`, atomically.
  public static func write<T: NPYElement>(_ values: [T], shape: [Int], to path: String) throws {
    try AtomicFile.write(encode(values, shape: shape), to: path)
  }
}

/// An element type the `.npy` writer stores natively.
public protocol NPYElement: BitwiseCopyable {
  /// numpy's type string, e.g. `<f4`.
  static var npyDescr: String { get }
}

extension Float: NPYElement { public static var npyDescr: String { "<f4" } }
extension Double: NPYElement { public static var npyDescr: String { "<f8" } }
extension Int64: NPYElement { public static var npyDescr: String { "<i8" } }
extension Int32: NPYElement { public static var npyDescr: String { "<i4" } }
extension UInt8: NPYElement { public static var npyDescr: String { "|u1" } }
