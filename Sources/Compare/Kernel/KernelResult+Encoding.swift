import CompareCore
import EnsembleKernel

extension KernelResult {
  /// `compare kernel --json`: fractions, not percent.
  public func json() -> JSONValue {
    let options = request.options
    var pairs: [(String, JSONValue)] = [
      ("models", .int(main.models)),
      ("test_examples", .int(main.neighbors.rows.count)),
      ("train_examples", .int(trainExamples)),
      ("classes", .int(classes)),
      ("k", .int(request.k)),
      ("single_model_accuracy", .double(main.accuracy.singleModel)),
      ("ensemble_accuracy", .double(main.accuracy.ensemble)),
      ("kernel_accuracy", .double(main.kernelAccuracy)),
      ("weighting", .string(request.weighting.description)),
      ("ties", .string(request.ties.rawValue)),
      ("log_softmax", .bool(options.logSoftmax)),
    ]
    if !accuracyByK.isEmpty {
      pairs.append(("kernel_accuracy_by_k", .object(accuracyByK.map { (String($0.k), .double($0.accuracy)) })))
    }
    if let c = options.classIndex { pairs.append(("class", .int(c))) }
    if request.rows != nil {
      let rows = main.neighbors.rows
      pairs.append(("rows", .array([.int(rows.lowerBound), .int(rows.upperBound)])))
    }
    if !sizes.isEmpty {
      pairs.append(("sizes", .array(sizes.map { o in
        .object([("models", .int(o.models)), ("single_model_accuracy", .double(o.accuracy.singleModel)),
                 ("ensemble_accuracy", .double(o.accuracy.ensemble)), ("kernel_accuracy", .double(o.kernelAccuracy))])
      })))
    }
    return .object(pairs)
  }

  /// The reference's three lines (percent), for the main kernel.
  public var lines: [String] { Self.lines(main, request: request) }

  /// The three lines of one evaluation: average single-model, ensemble and kernel accuracy.
  public static func lines(_ o: KernelEvaluation, request: KernelRequest) -> [String] {
    var method = "k-NN w/ k=\(request.k)"
    if request.weighting != .none { method += ", \(request.weighting)" }
    if request.ties != .smallestLabel { method += ", ties \(request.ties.rawValue)" }
    if let classIndex = request.options.classIndex { method += ", class \(classIndex)" }
    if !request.options.logSoftmax { method += ", no log-softmax" }
    let rows = [
      ("average single-model accuracy", o.accuracy.singleModel),
      ("ensemble accuracy (\(o.models) models)", o.accuracy.ensemble),
      ("kernel accuracy (\(method))", o.kernelAccuracy),
    ]
    let width = max(32, rows.map(\.0.count).max()! + 1)
    return rows.map { Format.left($0.0, width) + ": " + Format.fixed(100 * $0.1, 2) }
  }

  /// The accuracy-against-size table (percent).
  public var sizesTable: String {
    Format.table(header: ["models", "single model %", "ensemble %", "kernel %"],
                 rows: sizes.map { o in
                   [String(o.models), Format.fixed(100 * o.accuracy.singleModel, 2),
                    Format.fixed(100 * o.accuracy.ensemble, 2), Format.fixed(100 * o.kernelAccuracy, 2)]
                 }, rightAligned: [0, 1, 2, 3])
  }

  /// What `compare kernel` prints: the row range of a shard, the three lines, the sizes table.
  public var text: String {
    var out = ""
    if request.rows != nil {
      let rows = main.neighbors.rows
      out += "test examples \(rows.lowerBound)..<\(rows.upperBound) of \(testExamples)\n"
    }
    out += lines.map { $0 + "\n" }.joined()
    if !accuracyByK.isEmpty {
      out += "\nk-NN accuracy by k (one neighbour pass):\n"
      out += Format.table(header: ["k"] + accuracyByK.map { String($0.k) },
                          rows: [["%"] + accuracyByK.map { Format.fixed(100 * $0.accuracy, 2) }],
                          rightAligned: Set(1...accuracyByK.count))
    }
    if !sizes.isEmpty { out += "\n" + sizesTable + "\n" }
    return out
  }
}
