import CompareCore
import TensorIO

/// The eigenvalues behind an ESD table, by row: what `compare esd --save-esd FILE` writes and
/// what a Swift user reads back to plot or fit them another way.
///
/// Each row's eigenvalues of WᵀW, ascending, float64, are stored under its label (`layer`,
/// `layer[slice]` for a conv slice with pooling off, `layer.expert.E` for an expert); with
/// randomisation the first shuffle's eigenvalues (the shuffled ESD behind `ww_softrank`, the
/// `_rand` figure and the first `rand_distance`) under `label/rand`. The file is an `.npz`
/// (`np.load(FILE)["fc1"]`) or a `.safetensors` (`safetensors.numpy.load_file`).
///
/// ```swift
/// let result = try ModelWeights(path: "model.safetensors").esd()
/// try result.spectra.write(to: "esd.npz")
/// let fc1 = try ESDSpectra(contentsOf: "esd.npz").eigenvalues(of: "fc1")
/// ```
public struct ESDSpectra: Sendable {
  /// The suffix of a shuffled ESD's key.
  public static let shuffledSuffix = "/rand"

  /// (key, eigenvalues ascending), in table order.
  public let entries: [(key: String, values: [Double])]

  public init(_ entries: [(String, [Double])]) {
    self.entries = entries.map { (key: $0.0, values: $0.1) }
  }

  /// The keys, in order.
  public var keys: [String] { entries.map(\.key) }

  /// A row's eigenvalues, ascending (`nil` when absent).
  public func eigenvalues(of label: String) -> [Double]? {
    entries.first { $0.key == label }?.values
  }

  /// A row's shuffled eigenvalues, ascending (`nil` without randomisation).
  public func shuffledEigenvalues(of label: String) -> [Double]? {
    eigenvalues(of: label + Self.shuffledSuffix)
  }

  /// The file formats `write(to:)` chooses from by the path's extension.
  public static let extensions = [".npz", ".safetensors"]

  /// Whether `write(to:)` can write `path` (by its extension).
  public static func canWrite(_ path: String) -> Bool {
    extensions.contains { path.lowercased().hasSuffix($0) }
  }

  /// Writes every entry as a 1-D float64 tensor: an `.npz` (stored members `KEY.npy`) or a
  /// `.safetensors`, chosen by the extension, atomically.
  /// - Throws: `InputError` for another extension or two entries with one key; the writer's
  ///   `ReadError` (file, problem).
  public func write(to path: String) throws {
    // A layer named `fc1/rand` beside the shuffled ESD of `fc1` (or a file that names two
    // tensors alike) would give two entries one key, and a reader only one of them.
    if let key = TensorFile.firstRepeated(keys) {
      let shuffled = key.hasSuffix(Self.shuffledSuffix) ? " (a layer of that name and the shuffled ESD of '\(key.dropLast(Self.shuffledSuffix.count))')" : ""
      throw InputError("\(path): two rows' eigenvalues would be saved as '\(key)'\(shuffled); rename the layer, or save with --no-randomize")
    }
    if path.lowercased().hasSuffix(".npz") {
      let members = entries.map { ($0.key + ".npy", NPYWriter.encode($0.values, shape: [$0.values.count])) }
      try AtomicFile.write(NPZWriter.archive(members), to: path)
    } else if path.lowercased().hasSuffix(".safetensors") {
      try SafetensorsWriter.write(entries.map { .init(key: $0.key, shape: [$0.values.count], values: $0.values) },
                                  metadata: ["format": "compare-esd"], to: path)
    } else {
      throw InputError("\(path): eigenvalues are saved as .npz or .safetensors (by the extension)")
    }
  }

  /// Reads a file written by `write(to:)` (or any file of 1-D tensors), keys in file order.
  /// - Throws: `ReadError` for an unreadable file; `InputError` for a tensor that is not 1-D.
  public init(contentsOf path: String) throws {
    let file = try TensorFile.open(path)
    var entries: [(String, [Double])] = []
    for tensor in file.tensors {
      guard tensor.shape.count == 1 else {
        throw InputError("\(path): '\(tensor.key)' has shape \(tensor.shapeDescription), not a list of eigenvalues")
      }
      entries.append((tensor.key, try tensor.doubles()))
    }
    self.init(entries)
  }
}
