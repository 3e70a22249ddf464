// JIT results against NumPy / CPython, bit for bit, from Tests/Fixtures/jit/numeric.json
// (written by Tests/Fixtures/jit/make_numeric_fixtures.py, which records its seed).

import Testing
import Foundation
import FilterLang
@testable import FilterJIT

// Read-only after initialisation.
nonisolated(unsafe) private let fixture: [String: Any] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/jit/numeric.json")
    guard let data = try? Data(contentsOf: url),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
    return object
}()

private func double(_ any: Any?) -> Double? {
    guard let number = any as? NSNumber else { return nil }
    return Double(bitPattern: UInt64(bitPattern: number.int64Value))
}

/// Equal bits, any NaN equal to any NaN; `-0.0 == 0.0` only when `zerosEqual`.
func sameBits(_ a: Double, _ b: Double, zerosEqual: Bool = false) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if zerosEqual && a == 0 && b == 0 { return true }
    return a.bitPattern == b.bitPattern
}

/// A filter kernel returning `builtin(values[, q])` as a float.
private func reductionKernel(_ builtin: Builtin) throws -> Kernel {
    let values = E.local(0, .floatArray)
    let q = E.local(1, .float)
    let resultType: ValueType = [.argmin, .argmax].contains(builtin) ? .int : [.any, .all].contains(builtin) ? .bool : .float
    let arguments = [.percentile, .quantile].contains(builtin) ? [values, q] : [values]
    var result = E.builtin(builtin, arguments, resultType)
    if resultType != .float { result = E.toFloat(result) }
    return try sharedEngine.compile(program: P.filter("reduce_\(builtin.rawValue)", parameters: [("q", .float, 50)], [S.ret(result)]))
}

@Suite struct NumericFixtureTests {
    @Test func fixtureIsPresent() {
        #expect(fixture["seed"] != nil, "missing Tests/Fixtures/jit/numeric.json")
    }

    @Test(arguments: [Builtin.pyMin, .pyMax, .pySum, .npMin, .npMax, .npSum, .prod, .mean, .median, .variance, .std,
                      .any, .all, .argmin, .argmax, .percentile, .quantile, .nanmin, .nanmax, .nansum, .nanmean, .nanmedian])
    func reductionMatchesNumPy(_ builtin: Builtin) throws {
        let cases = try #require(fixture["reductions"] as? [[String: Any]])
        let kernel = try reductionKernel(builtin)
        let zerosEqual: Set<Builtin> = [.npMin, .npMax, .median, .nanmin, .nanmax, .nanmedian, .percentile, .quantile]
        var mismatches = 0
        for testCase in cases {
            let values = (testCase["values"] as? [NSNumber] ?? []).map { Double(bitPattern: UInt64(bitPattern: $0.int64Value)) }
            let q = double(testCase["q"]) ?? 50
            let results = testCase["results"] as? [String: Any] ?? [:]
            let expected = double(results[builtin.rawValue])
            do {
                let actual = try kernel.callFilter(values: values, parameters: ["q": builtin == .quantile ? q / 100 : q])
                if expected == nil || !sameBits(actual, expected ?? 0, zerosEqual: zerosEqual.contains(builtin)) {
                    mismatches += 1
                    if mismatches <= 3 { Issue.record("\(builtin)(\(values.prefix(8))… n=\(values.count)) = \(actual), NumPy \(String(describing: expected))") }
                }
            } catch {
                if expected != nil {
                    mismatches += 1
                    if mismatches <= 3 { Issue.record("\(builtin) failed (\(error)) where NumPy gives \(String(describing: expected))") }
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func binaryFloatOperationsMatchNumPyAndLibm() throws {
        let cases = try #require(fixture["binary"] as? [[String: Any]])
        let a = E.local(1, .float), b = E.local(2, .float)
        let operations: [(String, TExpr)] = [
            ("floorDivide", E.arithmetic(.floorDivide, a, b)), ("modulo", E.arithmetic(.modulo, a, b)),
            ("minimum", E.builtin(.minimum, [a, b], .float)), ("maximum", E.builtin(.maximum, [a, b], .float)),
            ("fmin", E.builtin(.fmin, [a, b], .float)), ("fmax", E.builtin(.fmax, [a, b], .float)),
            ("atan2", E.builtin(.atan2, [a, b], .float)), ("hypot", E.builtin(.hypot, [a, b], .float)),
            ("copysign", E.builtin(.copysign, [a, b], .float)), ("pow", E.builtin(.pow, [a, b], .float)),
        ]
        for (name, expression) in operations {
            let kernel = try sharedEngine.compile(program: P.filter("binary_\(name)", parameters: [("a", .float, 0), ("b", .float, 1)],
                                                                    [S.ret(expression)]))
            var mismatches = 0
            for testCase in cases {
                guard let x = double(testCase["a"]), let y = double(testCase["b"]),
                      let expected = double((testCase["results"] as? [String: Any])?[name]) else { continue }
                let actual = try kernel.callFilter(values: [], parameters: ["a": x, "b": y])
                // np.minimum/maximum on equal zeros may return either zero (ndimage-semantics, SIMD layout).
                if !sameBits(actual, expected, zerosEqual: ["minimum", "maximum", "fmin", "fmax"].contains(name)) {
                    mismatches += 1
                    if mismatches <= 3 { Issue.record("\(name)(\(x), \(y)) = \(actual), expected \(expected)") }
                }
            }
            #expect(mismatches == 0, "\(name)")
        }
    }

    @Test func unaryOperationsMatchCPythonAndNumPy() throws {
        let cases = try #require(fixture["unary"] as? [[String: Any]])
        let x = E.local(1, .float)
        let floatBuiltins: [Builtin] = [.exp, .log, .log2, .log10, .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .tanh,
                                        .sqrt, .npFloor, .npCeil, .npTrunc, .npRound, .abs]
        for builtin in floatBuiltins {
            let kernel = try sharedEngine.compile(program: P.filter("unary_\(builtin.rawValue)", parameters: [("x", .float, 0)],
                                                                    [S.ret(E.builtin(builtin, [x], .float))]))
            var mismatches = 0
            for testCase in cases {
                guard let value = double(testCase["x"]),
                      let expected = double((testCase["results"] as? [String: Any])?[builtin.rawValue]) else { continue }
                let actual = try kernel.callFilter(values: [], parameters: ["x": value])
                if !sameBits(actual, expected) {
                    mismatches += 1
                    if mismatches <= 3 { Issue.record("\(builtin)(\(value)) = \(actual), expected \(expected)") }
                }
            }
            #expect(mismatches == 0, "\(builtin)")
        }
        for builtin in [Builtin.floorToInt, .ceilToInt, .truncToInt, .roundToInt, .toInt] {
            // Returns (result == expected) so that ints beyond 2^53 compare exactly.
            let kernel = try sharedEngine.compile(program: P.filter("to_int_\(builtin.rawValue)", parameters: [("x", .float, 0)], [
                S.ret(E.toFloat(E.builtin(builtin, [x], .int))),
            ]))
            var mismatches = 0
            for testCase in cases {
                guard let value = double(testCase["x"]) else { continue }
                let expected = (testCase["results"] as? [String: Any])?[builtin.rawValue]
                let outcome = Result { try kernel.callFilter(values: [], parameters: ["x": value]) }
                switch (outcome, expected) {
                case (.failure, let marker as String) where marker == "error": continue
                case (.success(let actual), let pair as [String]) where pair.count == 2:
                    if let integer = Int64(pair[1]), Double(integer) == actual { continue }
                default: break
                }
                mismatches += 1
                if mismatches <= 3 { Issue.record("\(builtin)(\(value)) gave \(outcome), expected \(String(describing: expected))") }
            }
            #expect(mismatches == 0, "\(builtin)")
        }
    }

    @Test func integerArithmeticMatchesPythonWrappedTo64Bits() throws {
        let cases = try #require(fixture["ints"] as? [[String: Any]])
        let a = E.local(1, .int), b = E.local(2, .int)
        for operation in [TArithmetic.floorDivide, .modulo, .multiply, .add, .subtract] {
            // Returns 1.0 when the result equals the expected value passed as a third int parameter... which
            // cannot carry 64 bits through a double, so compare the low and high 32-bit halves instead.
            let kernel = try sharedEngine.compile(program: P.filter("int_\(operation.rawValue)", parameters: [("a", .int, 0), ("b", .int, 1)],
                                                                    locals: [LocalVariable(name: "r", type: .int)], [
                S.assign(3, E.arithmetic(operation, a, b)),
                // r // 2^32 and r % 2^32 are both exact in a double.
                S.ret(E.arithmetic(.add, E.arithmetic(.multiply, E.toFloat(E.arithmetic(.floorDivide, E.local(3, .int), E.int(1 << 32))), E.float(4294967296.0)),
                                   E.toFloat(E.arithmetic(.modulo, E.local(3, .int), E.int(1 << 32))))),
            ]))
            var mismatches = 0
            for testCase in cases {
                guard let x = Int64(testCase["a"] as? String ?? ""), let y = Int64(testCase["b"] as? String ?? "") else { continue }
                let expected = ((testCase["results"] as? [String: Any])?[operation.rawValue] as? String).flatMap { Int64($0) }
                let outcome = Result { try kernel.callFilter(values: [], parameters: ["a": Double(x), "b": Double(y)]) }
                switch (outcome, expected) {
                case (.failure, nil): continue
                case (.success(let actual), let value?):
                    // Reassemble exactly: high * 2^32 + low, as Python would (floor semantics).
                    let high = value >> 32, low = value & 0xFFFF_FFFF
                    if Double(high) * 4294967296.0 + Double(low) == actual { continue }
                default: break
                }
                mismatches += 1
                if mismatches <= 3 { Issue.record("\(x) \(operation) \(y) gave \(outcome), expected \(String(describing: expected))") }
            }
            #expect(mismatches == 0, "\(operation)")
        }
    }
}
