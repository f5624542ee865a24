import CompareCore
import EnsembleKernel
import Figures
import TensorIO

/// The figures of `compare kernel` and `compare kernel pairs`.
public enum KernelFigures {
  /// Accuracy against ensemble size: single model, ensemble and kernel k-NN, in percent.
  public static func sizes(_ table: [KernelEvaluation], k: Int, to path: String) throws {
    let format = FigureFormat(path: path) ?? .png
    let sorted = table.sorted { $0.models < $1.models }
    let x = sorted.map { Double($0.models) }
    let logarithmic = (x.last ?? 1) / max(x.first ?? 1, 1) >= 8
    var plot = Plot(title: "Accuracy against ensemble size", xLabel: "models", yLabel: "test accuracy (%)",
                    xScale: logarithmic ? .log10 : .linear)
    plot.addLine(x: x, y: sorted.map { 100 * $0.accuracy.singleModel }, label: "average single model", markers: true)
    plot.addLine(x: x, y: sorted.map { 100 * $0.accuracy.ensemble }, label: "ensemble (mean logits)", markers: true)
    plot.addLine(x: x, y: sorted.map { 100 * $0.kernelAccuracy }, label: "kernel k-NN, k = \(k)", markers: true)
    try AtomicFile.write(plot.encoded(as: format), to: path)
  }

  /// Images of a tensor, one `RGBImage` per example, enlarged so small images stay visible.
  public struct Images: Sendable {
    let tensor: Tensor
    let reference: String
    let height: Int, width: Int, channels: Int
    let channelsFirst: Bool

    /// - Throws: `InputError` unless the tensor is [N,H,W], [N,H,W,C] or [N,C,H,W] with C 1 or 3
    ///   and `count` images.
    public init(_ reference: String, count: Int) throws {
      let tensor = try TensorReference(reference).tensor()
      let s = tensor.shape
      guard s.first == count else {
        throw InputError("\(reference): images have shape \(tensor.shapeDescription); expected \(count) images")
      }
      switch s.count {
      case 3: (height, width, channels, channelsFirst) = (s[1], s[2], 1, false)
      case 4 where s[3] == 1 || s[3] == 3: (height, width, channels, channelsFirst) = (s[1], s[2], s[3], false)
      case 4 where s[1] == 1 || s[1] == 3: (height, width, channels, channelsFirst) = (s[2], s[3], s[1], true)
      default:
        throw InputError("\(reference): images have shape \(tensor.shapeDescription); expected [N,H,W], [N,H,W,C] or [N,C,H,W] with C 1 or 3")
      }
      guard height > 0, width > 0 else {
        throw InputError("\(reference): images have shape \(tensor.shapeDescription); height and width must be positive")
      }
      self.tensor = tensor
      self.reference = reference
    }

    public func image(_ index: Int) throws -> RGBImage {
      let values = try tensor.doubles(rows: index..<(index + 1))
      let pixels = height * width
      let image: RGBImage
      if channels == 1 {
        // Grey images are min-max normalised: digits stored as 0–16 stay visible.
        image = RGBImage(grayscale: values, width: width, height: height)
      } else {
        let lo = values.filter(\.isFinite).min() ?? 0, hi = values.filter(\.isFinite).max() ?? 1
        let byteRange = tensor.dtype == .uint8
        var bytes = [UInt8](repeating: 0, count: pixels * 3)
        for p in 0..<pixels {
          for c in 0..<3 {
            let v = channelsFirst ? values[c * pixels + p] : values[p * 3 + c]
            let scaled = byteRange ? v : (hi > lo ? (v - lo) / (hi - lo) * 255 : 0)
            bytes[3 * p + c] = v.isFinite ? UInt8(max(0, min(255, scaled.rounded()))) : 0
          }
        }
        image = RGBImage(width: width, height: height, pixels: bytes)
      }
      return image.scaled(by: max(1, 64 / max(height, width, 1)))
    }
  }

  /// Each listed test example beside its nearest training examples, one row per example.
  public static func pairsGrid(rows: [(label: String, test: Int, neighbors: [(index: Int, value: Float)])],
                        testImages: Images, trainImages: Images, testLabels: [Int], trainLabels: [Int],
                        title: String, to path: String) throws {
    var grid = ImageGrid(title: title)
    for row in rows {
      var cells = [(image: try testImages.image(row.test), caption: "test \(row.test) (\(testLabels[row.test]))")]
      for n in row.neighbors {
        cells.append((image: try trainImages.image(n.index),
                      caption: "\(n.index) (\(trainLabels[n.index])) \(Format.fixed(Double(n.value), 3))"))
      }
      grid.addRow(cells, label: row.label)
    }
    try AtomicFile.write(grid.encoded(as: FigureFormat(path: path) ?? .png), to: path)
  }
}
