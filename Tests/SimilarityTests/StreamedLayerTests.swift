import CompareCore
import Testing
@testable import Similarity

/// Model B's layers made one per worker, compared with every layer of A and dropped, their rsa
/// ranks and dcor triangles kept in the worker's Gram buffers (`transient`), which the next layer
/// reuses.
@Suite("Similarity: B's layers streamed through recycled buffers")
struct StreamedLayerTests {
  static let quadratic: LayerNeeds = [.dissimilarities, .distances]
  /// What a transient layer keeps in recycled buffers.
  static let recycled: LayerNeeds = [.dissimilarities, .distances, .spectrum]

  /// The base address of an array's storage.
  static func address(_ a: [Double]) -> UnsafeRawPointer? { a.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }

  static func addresses(_ r: LayerRepresentation) -> Set<UnsafeRawPointer?> {
    [address(r.dissimilarities!.storage), address(r.distances!.storage),
     address(r.spectrum!.leftVectorsTransposed.elements), address(r.spectrum!.projections.elements)]
  }

  @Test("every measure's values and warnings are the same whether B's layers are kept or streamed")
  func streamedEqualsKept() throws {
    func layer(_ n: Int, _ p: Int, _ seed: UInt64, _ levels: Double?) -> Matrix<Double> {
      WorkBufferReuseTests.layer(n, p, seed: seed, levels: levels)
    }
    let a = [layer(40, 12, 1, nil), layer(40, 30, 2, 1)]
    // A ReLU layer with ties, a plain one, a constant one and one of another width.
    let b = [layer(40, 8, 3, 1), layer(40, 16, 4, nil), Matrix(rows: 40, columns: 5) { _, j in Double(j) },
             layer(40, 50, 5, nil)]
    let measures = MeasureName.allCases.map { $0.measure(MeasureSettings(svccaVariance: 0.9)) }
    func run(_ streaming: Bool, _ layersB: [Matrix<Double>]) throws -> RepresentationComparison.Result {
      try RepresentationComparison(measures: measures)
        .compare(inputsA: a.map(LayerInput.init), namesA: ["a0", "a1"], inputsB: layersB.map(LayerInput.init),
                 namesB: ["b0", "b1", "b2", "b3"], modelA: "A", modelB: "B", settings: MeasureSettings(),
                 streamingB: streaming, progress: { _, _ in })
    }
    let kept = try run(false, b), streamed = try run(true, b)
    #expect(kept.warnings == streamed.warnings)
    #expect(streamed.warnings.contains { $0.contains("layer 'b2' of B is constant") })
    for (k, measure) in measures.enumerated() {
      #expect(SharedDecompositionTests.close(kept.tables[k], streamed.tables[k]), "\(measure.name)")
    }
    // Control: B's layers in another order give other columns.
    let swapped = try run(true, [b[1], b[0], b[2], b[3]])
    #expect(!SharedDecompositionTests.close(kept.tables[0], swapped.tables[0]))
  }

  @Test("a dropped transient layer's buffers hold the next layer's values, reused in place")
  func recycled() throws {
    func layer(_ seed: UInt64, _ levels: Double?) -> Matrix<Double> {
      WorkBufferReuseTests.layer(60, 20, seed: seed, levels: levels)
    }
    let scratch = LayerScratch()
    var first: LayerRepresentation? = try LayerRepresentation(of: layer(1, 1), needs: Self.recycled,
                                                              neighbours: 5, scratch: scratch, transient: true)
    let lent = Self.addresses(first!)
    #expect(lent.count == 4)
    scratch.recycle(&first)
    #expect(first == nil)
    let x = layer(2, nil)
    let second = try LayerRepresentation(of: x, needs: Self.recycled, neighbours: 5, scratch: scratch, transient: true)
    let fresh = try LayerRepresentation(of: x, needs: Self.recycled, neighbours: 5)
    #expect(Self.addresses(second) == lent)
    #expect(WorkBufferReuseTests.close(second.dissimilarities!.ranks, fresh.dissimilarities!.ranks))
    #expect(WorkBufferReuseTests.close(second.distances!.upperTriangle, fresh.distances!.upperTriangle))
    #expect(second.distances!.selfProduct == fresh.distances!.selfProduct)
    #expect(WorkBufferReuseTests.close(second.spectrum!.leftVectorsTransposed.elements, fresh.spectrum!.leftVectorsTransposed.elements))
    #expect(WorkBufferReuseTests.close(second.spectrum!.projections.elements, fresh.spectrum!.projections.elements))
    // Control: while a transient layer lives, the next one gets buffers of its own.
    let third = try LayerRepresentation(of: x, needs: Self.recycled, neighbours: 5, scratch: scratch, transient: true)
    #expect(Self.addresses(third).isDisjoint(with: Self.addresses(second)))
    #expect(WorkBufferReuseTests.close(second.distances!.upperTriangle, fresh.distances!.upperTriangle))
  }

  @Test("a wide transient layer (fewer examples than features) recycles its Uᵀ and UᵀX̃ too")
  func recycledWide() throws {
    let scratch = LayerScratch()
    var first: LayerRepresentation? = try LayerRepresentation(
      of: WorkBufferReuseTests.layer(30, 50, seed: 3), needs: .spectrum, neighbours: 5, scratch: scratch, transient: true)
    let lent: Set = [Self.address(first!.spectrum!.leftVectorsTransposed.elements), Self.address(first!.spectrum!.projections.elements)]
    scratch.recycle(&first)
    let x = WorkBufferReuseTests.layer(30, 50, seed: 4)
    let second = try LayerRepresentation(of: x, needs: .spectrum, neighbours: 5, scratch: scratch, transient: true)
    let fresh = try LayerDecomposition(of: x)
    #expect([Self.address(second.spectrum!.leftVectorsTransposed.elements), Self.address(second.spectrum!.projections.elements)] == lent)
    #expect(WorkBufferReuseTests.close(second.spectrum!.leftVectorsTransposed.elements, fresh.leftVectorsTransposed.elements))
    #expect(WorkBufferReuseTests.close(second.spectrum!.projections.elements, fresh.projections.elements))
  }

  @Test("the memory check counts A's layers and one of B's per worker when B is streamed")
  func memoryPlan() throws {
    let needs = Self.quadratic, budget = 80 << 20
    // 1,000 examples: 2 MB of rsa ranks and 4 MB of dcor distances per layer kept, 8 MB per Gram
    // buffer: 6 × 6 + 2 × 2 × 8 = 68 MB streamed, 12 × 6 + 2 × 8 = 88 MB kept.
    try RepresentationComparison.checkMemory(
      needs: needs, examples: 1000, plan: .init(kept: 6, workers: 2, streamed: true), budget: budget)
    #expect(throws: InputError.self) {
      try RepresentationComparison.checkMemory(
        needs: needs, examples: 1000, plan: .init(kept: 12, workers: 2, streamed: false), budget: budget)
    }
    #expect(RepresentationComparison.MemoryPlan(layersA: 6, layersB: 6, streaming: true).kept == 6)
    #expect(RepresentationComparison.MemoryPlan(layersA: 6, layersB: 6, streaming: false).kept == 12)
  }
}
