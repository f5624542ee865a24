import Testing
import Figures

@Suite("Ticks")
struct TicksTests {
  @Test("0...1 gives 0, 0.2, …, 1 as the doubles nearest those decimals")
  func unitInterval() {
    #expect(Ticks.linear(from: 0, to: 1, count: 6) == [0, 0.2, 0.4, 0.6, 0.8, 1])
    #expect(Ticks.labels(for: [0, 0.2, 0.4, 0.6, 0.8, 1], scale: .linear)
            == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
  }

  @Test("steps are 1, 2, 2.5 or 5 times a power of ten and ticks stay inside the interval",
        arguments: [(0.0, 10.0), (-3.7, 12.2), (0.76, 0.89), (1e-7, 3e-6), (-250.0, -20.0), (0, 4.5e6)])
  func niceSteps(lower: Double, upper: Double) throws {
    let ticks = Ticks.linear(from: lower, to: upper, count: 6)
    #expect(ticks.count >= 2 && ticks.count <= 6)
    #expect(ticks.allSatisfy { $0 >= lower && $0 <= upper })
    let step = ticks[1] - ticks[0]
    var mantissa = step
    while mantissa >= 10 { mantissa /= 10 }
    while mantissa < 1 { mantissa *= 10 }
    #expect([1, 2, 2.5, 5, 10].contains { abs($0 - mantissa) < 1e-6 })
    // A finer step would have put more than 6 ticks in the interval: the step is the smallest.
    #expect((upper - lower) / step >= 2)
  }

  @Test("0...10 gives even numbers; a short interval gets 2.5 steps")
  func examples() {
    #expect(Ticks.linear(from: 0, to: 10, count: 6) == [0, 2, 4, 6, 8, 10])
    #expect(Ticks.linear(from: 0.755, to: 0.895, count: 6) == [0.775, 0.8, 0.825, 0.85, 0.875])
  }

  @Test("log axes tick at 1-2-5 multiples when few enough fit, else at decades")
  func logarithmic() {
    #expect(Ticks.logarithmic(from: 0.008, to: 12) == [0.01, 0.1, 1, 10])
    #expect(Ticks.logarithmic(from: 0.8, to: 70) == [1, 2, 5, 10, 20, 50])
    #expect(Ticks.logarithmic(from: 0.9, to: 110, count: 8) == [1, 2, 5, 10, 20, 50, 100])
    #expect(Ticks.logarithmic(from: 0.9, to: 110, count: 6) == [1, 10, 100])
    #expect(Ticks.logarithmic(from: 1.1, to: 1.9) == [1.2, 1.4, 1.6, 1.8])
    #expect(Ticks.logarithmic(from: 1e-12, to: 1e12, count: 7) == [1e-12, 1e-8, 1e-4, 1, 1e4, 1e8, 1e12])
    // One notation per axis: exponents for all when some tick needs one.
    #expect(Ticks.labels(for: [1e-6, 0.001, 1, 1000, 1e6], scale: .log10)
            == ["1e-6", "1e-3", "1", "1e3", "1e6"])
    #expect(Ticks.labels(for: [0.001, 0.1, 10, 1000], scale: .log10) == ["0.001", "0.1", "10", "1000"])
    #expect(Ticks.labels(for: [0, 50000, 100000, 150000], scale: .linear) == ["0", "5e4", "1e5", "1.5e5"])
  }

  @Test("invalid intervals give no ticks instead of crashing")
  func degenerate() {
    #expect(Ticks.linear(from: .nan, to: 1).isEmpty)
    #expect(Ticks.linear(from: 2, to: 1).isEmpty)
    #expect(Ticks.linear(from: 3, to: 3) == [3])
    #expect(Ticks.logarithmic(from: 0, to: 10).isEmpty)
    #expect(Ticks.logarithmic(from: -1, to: 10).isEmpty)
    #expect(Ticks.labels(for: [], scale: .linear).isEmpty)
  }
}
