@testable import FilterInterpreter
import Foundation
import Testing

/// `Numerics` against NumPy, bit for bit, on the generated Tests/Fixtures/programs/numerics/numpy-reductions.txt.
@Suite struct NumericsFixtureTests {
    struct Line: Sendable, CustomStringConvertible {
        var function: String
        var q: Double
        var elements: [Double]
        var expected: Double
        var lineNumber: Int
        var description: String { "numpy-reductions.txt:\(lineNumber) \(function)(n=\(elements.count), q=\(q))" }
    }

    static let lines: [Line] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/programs/numerics/numpy-reductions.txt")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        func double(_ hex: Substring) -> Double? { UInt64(hex, radix: 16).map(Double.init(bitPattern:)) }
        var result: [Line] = []
        for (index, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("#") {
            let parts = line.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 3, let arrow = parts[2].range(of: " -> ") else { continue }
            let elementText = parts[2][..<arrow.lowerBound].trimmingCharacters(in: .whitespaces)
            let elements = elementText.isEmpty ? [] : elementText.split(separator: ",").compactMap { double($0) }
            guard let q = double(Substring(parts[1].trimmingCharacters(in: .whitespaces))),
                  let expected = double(Substring(parts[2][arrow.upperBound...].trimmingCharacters(in: .whitespaces)))
            else { continue }
            result.append(Line(function: parts[0].trimmingCharacters(in: .whitespaces), q: q, elements: elements,
                               expected: expected, lineNumber: index + 1))
        }
        return result
    }()

    /// Order statistics may pick either zero when both occur (NumPy's partition order is unspecified).
    static let eitherZeroFunctions: Set<String> = ["npMin", "npMax", "median", "nanmin", "nanmax", "nanmedian", "percentile", "quantile"]

    static func compute(_ line: Line) -> Double? {
        line.elements.withUnsafeBufferPointer { buffer -> Double? in
            let a = buffer.baseAddress, n = buffer.count
            switch line.function {
            case "npSum": return Numerics.npSum(a, n)
            case "mean": return Numerics.mean(a, n)
            case "variance": return Numerics.variance(a, n)
            case "std": return Numerics.std(a, n)
            case "median": return Numerics.median(a, n)
            case "prod": return Numerics.prod(a, n)
            case "nansum": return Numerics.nansum(a, n)
            case "nanmean": return Numerics.nanmean(a, n)
            case "nanmedian": return Numerics.nanmedian(a, n)
            case "npMin": return Numerics.npMin(a, n)
            case "npMax": return Numerics.npMax(a, n)
            case "argmin": return Double(Numerics.argmin(a, n))
            case "argmax": return Double(Numerics.argmax(a, n))
            case "nanmin": return Numerics.nanmin(a, n)
            case "nanmax": return Numerics.nanmax(a, n)
            case "percentile": return Numerics.percentile(a, n, line.q)
            case "quantile": return Numerics.quantile(a, n, line.q)
            case "floorDivide": return Numerics.floorDivide(line.elements[0], line.elements[1])
            case "remainder": return Numerics.remainder(line.elements[0], line.elements[1])
            default: return nil
            }
        }
    }

    @Test func fixtureIsPresentAndCoversEveryRoutine() {
        #expect(Self.lines.count > 5000)
        let functions = Set(Self.lines.map(\.function))
        #expect(functions.count == 19, "functions: \(functions.sorted())")
    }

    @Test func everyRoutineMatchesNumPyBitForBit() {
        var failures = 0
        for line in Self.lines {
            guard let actual = Self.compute(line) else {
                Issue.record("unknown function in \(line)")
                continue
            }
            let either = Self.eitherZeroFunctions.contains(line.function)
            let ok = (actual.isNaN && line.expected.isNaN) || actual.bitPattern == line.expected.bitPattern
                || (either && actual == 0 && line.expected == 0)
            if !ok {
                failures += 1
                if failures <= 20 {
                    Issue.record("\(line): got \(actual), NumPy \(line.expected)")
                }
            }
        }
        #expect(failures == 0, "\(failures) mismatches")
    }
}

/// Scalar routines: properties that must hold for every input (seeded fuzz) and the spec's examples.
@Suite struct NumericsScalarTests {
    /// `sortNaNLast` (insertion runs and merges, no allocation) puts every element where the standard
    /// library's stable `sort(by: precedesNaNLast)` does, bit for bit: ties of -0.0 and 0.0, NaNs of
    /// several payloads and signs, repeated values, at every length through several merge levels.
    @Test func sortNaNLastGivesTheStandardLibrarysStableOrder() {
        let seed: UInt64 = 0x5047_2026
        var generator = SeededGenerator(seed: seed)
        print("sortNaNLastGivesTheStandardLibrarysStableOrder seed \(seed)")
        let specials: [Double] = [-0.0, 0.0, .nan, -.nan, Double(bitPattern: 0x7ff8_0000_0000_0123), .infinity, -.infinity, 1, -1]
        var mismatches = 0
        for round in 0..<600 {
            let n = round < 300 ? round % 70 : Int.random(in: 0...1100, using: &generator)
            let values = (0..<n).map { _ -> Double in
                Double.random(in: 0..<1, using: &generator) < 0.4 ? specials.randomElement(using: &generator)!
                    : Double(Int.random(in: -5...5, using: &generator))
            }
            let expected = values.sorted(by: Numerics.precedesNaNLast)
            var sorted = values
            sorted.withUnsafeMutableBufferPointer { Numerics.sortNaNLast($0.baseAddress, n) }
            if sorted.map(\.bitPattern) != expected.map(\.bitPattern) { mismatches += 1 }
        }
        #expect(mismatches == 0, "seed \(seed): \(mismatches) orders differ from the standard library's")
    }

    @Test func intFloorDivisionAndModuloFollowPythonOnRandomInts() {
        var generator = SeededGenerator(seed: 0x5eed_2026)
        print("intFloorDivisionAndModuloFollowPythonOnRandomInts seed 0x5eed2026")
        for _ in 0..<20_000 {
            let a = Int64.random(in: -1_000_000...1_000_000, using: &generator)
            var b = Int64.random(in: -1000...1000, using: &generator)
            if b == 0 { b = 7 }
            guard let q = Numerics.floorDivide(a, b), let r = Numerics.modulo(a, b) else {
                Issue.record("nil for non-zero divisor \(a) // \(b)"); return
            }
            // Python's identity a == q*b + r with r of b's sign and |r| < |b|, and q the floor of the exact quotient.
            #expect(q * b + r == a)
            #expect(r == 0 || (r < 0) == (b < 0))
            #expect(Swift.abs(r) < Swift.abs(b))
            #expect(Double(q) == (Double(a) / Double(b)).rounded(.down))
        }
    }

    @Test func intDivisionEdgeCasesWrapOrFail() {
        #expect(Numerics.floorDivide(Int64.min, -1) == Int64.min)
        #expect(Numerics.modulo(Int64.min, -1) == 0)
        #expect(Numerics.floorDivide(5, 0) == nil)
        #expect(Numerics.modulo(5, 0) == nil)
        #expect(Numerics.floorDivide(-7, 2) == -4)
        #expect(Numerics.modulo(-7, 3) == 2)
    }

    @Test func intPowerWrapsLikeRepeatedMultiplication() {
        var generator = SeededGenerator(seed: 42)
        print("intPowerWrapsLikeRepeatedMultiplication seed 42")
        for _ in 0..<2000 {
            let base = Int64.random(in: -50...50, using: &generator)
            let exponent = Int64.random(in: 0...80, using: &generator)
            var expected: Int64 = 1
            for _ in 0..<exponent { expected = expected &* base }
            #expect(Numerics.power(base, exponent) == expected)
        }
        #expect(Numerics.abs(Int64.min) == Int64.min)
    }

    @Test func floatToIntConversionsRejectNaNInfinityAndOutOfRange() {
        #expect(Numerics.truncatedInt(.nan) == nil)
        #expect(Numerics.truncatedInt(.infinity) == nil)
        #expect(Numerics.truncatedInt(9_223_372_036_854_775_808.0) == nil)
        #expect(Numerics.truncatedInt(-9_223_372_036_854_775_808.0) == Int64.min)
        #expect(Numerics.truncatedInt(-2.9) == -2)
        #expect(Numerics.roundedInt(2.5) == 2)
        #expect(Numerics.roundedInt(-3.5) == -4)
        #expect(Numerics.floorInt(-0.5) == -1)
        #expect(Numerics.ceilInt(-0.5) == 0)
        #expect(Numerics.ceilInt(9.3e18) == nil)
    }

    @Test func floatFloorDivisionExamplesFromTheSpec() {
        #expect(Numerics.floorDivide(1.0, 0.1) == 9.0)
        #expect(Numerics.remainder(-7.0, 3.0) == 2.0)
        #expect(Numerics.floorDivide(1.0, 0.0) == .infinity)
        #expect(Numerics.remainder(1.0, 0.0).isNaN)
    }

    @Test func scalarMinMaxRulesForNaN() {
        #expect(Numerics.minimum(.nan, 1).isNaN && Numerics.maximum(1, .nan).isNaN)
        #expect(Numerics.fmin(.nan, 1) == 1 && Numerics.fmax(2, .nan) == 2)
        #expect(Numerics.clip(5, 0, 3) == 3 && Numerics.clip(.nan, 0, 3).isNaN)
    }

    @Test func sortPutsNaNLast() {
        var values: [Double] = [3, .nan, -1, .infinity, .nan, -.infinity, 0]
        values.withUnsafeMutableBufferPointer { Numerics.sortNaNLast($0.baseAddress, $0.count) }
        #expect(Array(values.prefix(5)) == [-.infinity, -1, 0, 3, .infinity])
        #expect(values[5].isNaN && values[6].isNaN)
    }
}

/// A small deterministic generator (SplitMix64) so fuzz tests are reproducible from their printed seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Adversarial review: signed zeros in NumPy's pairwise sum (checked against NumPy 2.4.6:
/// `np.sum(np.array([-0.0] * n))` is `0.0` for every n, also `np.mean`, `np.nansum`, `np.nanmean`).
@Suite struct NumericsSignedZeroTests {
    @Test func allNegativeZeroSumsToPositiveZeroAtEveryLength() {
        for n in [1, 7, 8, 9, 16, 127, 128, 129, 200, 1000] {
            let zeros = [Double](repeating: -0.0, count: n)
            zeros.withUnsafeBufferPointer { buffer in
                let a = buffer.baseAddress
                for (name, value) in [("npSum", Numerics.npSum(a, n)), ("mean", Numerics.mean(a, n)),
                                      ("nansum", Numerics.nansum(a, n)), ("nanmean", Numerics.nanmean(a, n))] {
                    #expect(value.bitPattern == (0.0).bitPattern, "\(name) of \(n) x -0.0 gave \(value)")
                }
            }
        }
    }
}

/// `Numerics.hypot` against CPython's `math.hypot` on Tests/Fixtures/programs/numerics/cpython-hypot.txt
/// (scripts/make_hypot_fixture.py: among them every sampled input where libm's hypot differs).
@Suite struct HypotFixtureTests {
    @Test func hypotMatchesCPythonBitForBit() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/programs/numerics/cpython-hypot.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        func double(_ hex: Substring) -> Double? { UInt64(hex, radix: 16).map(Double.init(bitPattern:)) }
        var checked = 0, differFromLibm = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 4, let x = double(parts[0]), let y = double(parts[1]), let expected = double(parts[3]) else {
                Issue.record("malformed line \(line)")
                continue
            }
            let actual = Numerics.hypot(x, y)
            let same = actual.bitPattern == expected.bitPattern || (actual.isNaN && expected.isNaN)
            #expect(same, "hypot(\(x), \(y)) = \(actual), CPython \(expected)")
            if Foundation.hypot(x, y).bitPattern != expected.bitPattern && !expected.isNaN { differFromLibm += 1 }
            checked += 1
        }
        #expect(checked > 2000)
        #expect(differFromLibm > 1000)  // the fixture does tell CPython's algorithm from libm's
    }
}
