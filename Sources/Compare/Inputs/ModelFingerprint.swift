import CompareCore
import TensorIO

/// A cheap fingerprint of a model's content: each weight file's size and CRC-32 of sampled
/// blocks (`FileFingerprint`), so that two runs can tell whether they read the same model
/// whatever its path (`../in/model.pt` and `/data/in/model.pt`, or one folder mounted at two
/// paths on two cluster nodes), and that two models at one path are not the same.
///
/// `compare esd --shard I/N` records it in each part; `ESDReport.merging` compares them.
public struct ModelFingerprint: Sendable, Equatable {
  /// One weight file: its name in the model's folder (its own name for a single file).
  public struct File: Sendable, Equatable {
    public var name: String
    public var fingerprint: FileFingerprint

    public init(name: String, fingerprint: FileFingerprint) {
      self.name = name
      self.fingerprint = fingerprint
    }
  }

  /// How the files were fingerprinted (`FileFingerprint.method`).
  public var method: String
  /// The files whose tensors the model reads, in natural order of their names.
  public var files: [File]

  public init(method: String = FileFingerprint.method, files: [File]) {
    self.method = method
    self.files = files
  }

  /// The fingerprint of an opened model: each file its tensors come from (a shard index's
  /// shards, a folder's `.npy` files, the file itself).
  /// - Throws: `ReadError` naming a file that can no longer be read.
  /// - Complexity: O(files): at most 192 KiB read from each, whatever the model's size.
  public init(of model: ModelWeights) throws {
    var seen = Set<String>()
    let paths = model.tensors.map(\.file).filter { seen.insert($0).inserted }
      .sorted { NaturalOrder.precedes($0, $1) }
    self.init(files: try paths.map { File(name: FileSystem.baseName($0), fingerprint: try FileFingerprint(of: $0)) })
  }

  /// How the model differs from `reference`, for a message (`model.pt differs: 1200 bytes, not
  /// 4096`), or `nil` when the two fingerprints agree. File names are not compared: the same
  /// content under another name is the same model.
  public func difference(from reference: ModelFingerprint) -> String? {
    guard files.count == reference.files.count else {
      return "\(files.count) weight file\(files.count == 1 ? "" : "s"), not \(reference.files.count)"
    }
    for (file, other) in zip(files, reference.files) where file.fingerprint != other.fingerprint {
      let size = file.fingerprint.bytes, otherSize = other.fingerprint.bytes
      return size != otherSize ? "\(file.name) differs: \(size) bytes, not \(otherSize)"
        : "\(file.name) differs: sampled CRC-32 \(file.fingerprint.crc32Hex), not \(other.fingerprint.crc32Hex)"
    }
    return nil
  }

  /// As a part's `--json` writes it: `{"method": …, "files": [{"name", "bytes", "crc32"}]}`,
  /// the CRC as 8 hex digits.
  public var json: JSONValue {
    .object([
      ("method", .string(method)),
      ("files", .array(files.map { file in
        .object([("name", .string(file.name)), ("bytes", .int(file.fingerprint.bytes)),
                 ("crc32", .string(file.fingerprint.crc32Hex))])
      })),
    ])
  }

  /// Reads `json`'s form back; `nil` when `value` is not of that form.
  public init?(json value: JSONValue) {
    guard case .string(let method)? = value["method"], case .array(let entries)? = value["files"] else { return nil }
    var files: [File] = []
    for entry in entries {
      guard case .string(let name)? = entry["name"], case .int(let bytes)? = entry["bytes"], bytes >= 0,
            case .string(let hex)? = entry["crc32"], hex.count == 8, let crc = UInt32(hex, radix: 16) else { return nil }
      files.append(File(name: name, fingerprint: FileFingerprint(bytes: bytes, crc32: crc)))
    }
    self.init(method: method, files: files)
  }
}
