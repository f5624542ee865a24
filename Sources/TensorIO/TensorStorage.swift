/// Bytes a tensor reads from: a region of a mapped file, or a buffer Compare owns (an inflated
/// `.npz` member). Keeps its owner alive as long as any tensor refers to it.
public final class TensorStorage: @unchecked Sendable {
  /// The bytes; immutable once made.
  public let bytes: UnsafeRawBufferPointer
  private let owner: AnyObject?
  private let ownsBytes: Bool

  /// Bytes inside a mapped file (no copy).
  public init(mapped file: MappedFile) {
    bytes = file.bytes
    owner = file
    ownsBytes = false
  }

  /// The bytes `range` of `parent` (a zip member, a torch storage), no copy; keeps `parent`
  /// alive. Tensors over it are bounds-checked against this range, not the whole file.
  /// - Precondition: `range` lies inside `parent.bytes` (callers validate file offsets first).
  public init(_ parent: TensorStorage, range: Range<Int>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= parent.bytes.count, "storage range outside its parent")
    bytes = range.isEmpty ? UnsafeRawBufferPointer(start: nil, count: 0)
      : UnsafeRawBufferPointer(rebasing: parent.bytes[range])
    owner = parent
    ownsBytes = false
  }

  /// A fresh 64-byte-aligned buffer of `count` bytes, filled by `fill`.
  public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
    do {
      try fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
    } catch {
      buffer.deallocate()
      throw error
    }
    bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
    owner = nil
    ownsBytes = true
  }

  deinit {
    if ownsBytes, let base = bytes.baseAddress { UnsafeMutableRawPointer(mutating: base).deallocate() }
  }
}
