// The language's `math` functions against CPython on hard cases, through every back end: the
// interpreter, the JIT's SciPy callback and the fused engine (Tests/Fixtures/jit/math-hard-cases.json,
// written by scripts/make_math_fixture.py; where CPython raises, the expectation is the IEEE result).

import Testing
import Foundation
import FilterInterpreter
import NDImage
@testable import FilterJIT

/// One fixture case: `math.function(arguments...)` and the expected bits.
private struct MathCase {
    let function: String
    let arguments: [Double]
    let expected: Double
    let cpythonRaises: String?
}

private let mathCases: [MathCase] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/jit/math-hard-cases.json")
    guard let data = try? Data(contentsOf: url),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let cases = object["cases"] as? [[String: Any]] else { return [] }
    func double(_ hex: Any?) -> Double? { (hex as? String).flatMap { UInt64($0, radix: 16) }.map(Double.init(bitPattern:)) }
    return cases.compactMap { item in
        guard let function = item["function"] as? String, let arguments = item["arguments"] as? [Any],
              let expected = double(item["result"]) else { return nil }
        let values = arguments.compactMap(double)
        guard values.count == arguments.count else { return nil }
        return MathCase(function: function, arguments: values, expected: expected, cpythonRaises: item["cpython_raises"] as? String)
    }
}()

@Suite struct MathFixtureTests {
    static let functions = ["exp", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                            "tanh", "sqrt", "fabs", "atan2", "copysign", "pow", "hypot"]

    @Test func fixtureHoldsEveryFunctionAndTheCasesWhereCPythonRaises() {
        #expect(Set(mathCases.map(\.function)) == Set(Self.functions))
        #expect(mathCases.count > 2000)
        #expect(mathCases.contains { $0.cpythonRaises == "ValueError" } && mathCases.contains { $0.cpythonRaises == "OverflowError" })
    }

    @Test(arguments: functions)
    func mathFunctionEqualsCPythonInTheInterpreterTheCallbackAndTheFusedEngine(_ function: String) throws {
        let cases = mathCases.filter { $0.function == function }
        try #require(!cases.isEmpty)
        let arity = cases[0].arguments.count
        let call = arity == 1 ? "math.\(function)(values[0])" : "math.\(function)(values[0], values[1])"
        let kernel = try sharedEngine.compile("import math\ndef f(values):\n    return \(call)\n")
        let interpreter = Interpreter(program: kernel.program)

        // The fused engine over all cases at once: a row of first arguments (and one of second arguments
        // below it, read as values[0], values[1] by a 2x1 window at row 1).
        let count = cases.count
        let rows = (0..<arity).flatMap { axis in cases.map { $0.arguments[axis] } }
        let input = try NDArray.make(shape: arity == 1 ? [count] : [2, count], elementType: .float64, values: rows)
        let fused = try kernel.genericFilter(input, options: FilterOptions(size: arity == 1 ? [1] : [2, 1]),
                                             engine: .fused, strategy: .literal, threads: 1).doubleValues()
        let fusedResults = Array(fused.suffix(count))

        var mismatches = 0
        for (index, testCase) in cases.enumerated() {
            let results: [(String, Double)] = [
                ("interpreter", try interpreter.runFilter(values: testCase.arguments)),
                ("callback", try kernel.callFilter(values: testCase.arguments)),
                ("fused", fusedResults[index]),
            ]
            for (backEnd, actual) in results where !sameBits(actual, testCase.expected) {
                mismatches += 1
                if mismatches <= 5 {
                    let note = testCase.cpythonRaises.map { " (CPython raises \($0); IEEE result expected)" } ?? ""
                    Issue.record("\(backEnd): math.\(function)\(testCase.arguments) = \(actual), CPython \(testCase.expected)\(note)")
                }
            }
        }
        #expect(mismatches == 0, "math.\(function): \(mismatches) mismatches over \(cases.count) cases x 3 back ends")
    }
}
