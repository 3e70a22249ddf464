// The SciPy callback ABIs, called through the raw function pointers.

import Testing
import Foundation
import FilterLang
import FilterCodegen
@testable import FilterJIT

/// One engine shared by the tests that do not cancel (kernels batched into one JIT).
let sharedEngine: Engine = {
    do { return try Engine(cacheCapacity: 4096) } catch { fatalError("cannot start the engine: \(error)") }
}()

@Suite struct ABITests {
    /// values[0] * t + k, with t = 0.5 (float) and k = 3 (int).
    static let weighted = P.filter("weighted", parameters: [("t", .float, 0.5), ("k", .int, 3)], [
        S.ret(E.arithmetic(.add, E.arithmetic(.multiply, E.element(E.local(0, .floatArray), E.int(0)), E.local(1, .float)),
                           E.toFloat(E.local(2, .int)))),
    ])

    @Test func filterCallbackUsesDefaultsWhenUserDataIsNull() throws {
        let kernel = try sharedEngine.compile(program: Self.weighted)
        let callback = try #require(try kernel.filterCallback)
        var values: [Double] = [4, 1, 2]
        var result = -1.0
        let status = callback(&values, values.count, &result, nil)
        #expect(status == 1)
        #expect(result == 4 * 0.5 + 3)
    }

    @Test func filterCallbackReadsUserDataInDeclarationOrderAndTruncatesInts() throws {
        let kernel = try sharedEngine.compile(program: Self.weighted)
        let callback = try #require(try kernel.filterCallback)
        var values: [Double] = [4, 1, 2]
        for (t, k, expected) in [(2.0, 2.7, 4 * 2.0 + 2), (1.0, -2.7, 4 - 2.0), (0.25, 0.0, 1.0)] {
            var userData = [t, k]
            var result = -1.0
            let status = userData.withUnsafeMutableBytes { callback(&values, values.count, &result, $0.baseAddress) }
            #expect(status == 1)
            #expect(result == expected)
        }
    }

    @Test func invalidIntParameterFailsWithoutWritingTheResult() throws {
        let kernel = try sharedEngine.compile(program: Self.weighted)
        let callback = try #require(try kernel.filterCallback)
        var values: [Double] = [4]
        for bad in [Double.nan, .infinity, -.infinity, 9.3e18, -9.3e18] {
            var userData = [1.0, bad]
            var result = -123.0
            let status = userData.withUnsafeMutableBytes { callback(&values, values.count, &result, $0.baseAddress) }
            #expect(status == 0)
            #expect(result == -123.0)
            #expect(RuntimeFailureRecord.last?.kind == .invalidParameter)
        }
    }

    @Test func indexOutOfRangeReturnsZeroAndLeavesMemoryUntouched() throws {
        let range = SourceRange(3, 12)
        let program = P.filter("reach", [S.ret(E.element(E.local(0, .floatArray), E.int(9), at: range))])
        let kernel = try sharedEngine.compile(program: program)
        let callback = try #require(try kernel.filterCallback)
        var values = [Double](repeating: 1, count: 9)
        var result = -7.0
        #expect(callback(&values, 9, &result, nil) == 0)
        #expect(result == -7.0)
        let failure = try #require(RuntimeFailureRecord.last)
        #expect(failure.kind == .indexOutOfRange)
        #expect(failure.range == range)
        #expect(failure.message(program: program) == "index 9 is out of range for an array of length 9")
        // Ten elements: index 9 is the last one.
        values.append(42)
        #expect(callback(&values, 10, &result, nil) == 1)
        #expect(result == 42)
    }

    @Test func negativeIndicesCountFromTheEnd() throws {
        let program = P.filter("last", [S.ret(E.element(E.local(0, .floatArray), E.int(-1)))])
        let kernel = try sharedEngine.compile(program: program)
        #expect(try kernel.callFilter(values: [1, 2, 3]) == 3)
        #expect(throws: KernelRuntimeError.self) { try kernel.callFilter(values: []) }
        let tooNegative = P.filter("before", [S.ret(E.element(E.local(0, .floatArray), E.int(-4)))])
        #expect(throws: KernelRuntimeError.self) { try sharedEngine.compile(program: tooNegative).callFilter(values: [1, 2, 3]) }
    }

    @Test func negativeFilterSizeIsTreatedAsEmpty() throws {
        let program = P.filter("first", [S.ret(E.element(E.local(0, .floatArray), E.int(0)))])
        let callback = try #require(try sharedEngine.compile(program: program).filterCallback)
        var values: [Double] = [5]
        var result = 0.0
        #expect(callback(&values, -3, &result, nil) == 0)
    }

    /// out[i] = line[i] + line[i + 2] * scale for i < len(out) - 1; the last out element is not written.
    static let lineSum = P.lineFilter("line_sum", parameters: [("scale", .float, 1.0)],
                                      locals: [LocalVariable(name: "i", type: .int)], [
        S.range(3, E.int(0), E.arithmetic(.subtract, E.length(E.local(1, .floatArray)), E.int(1)), E.int(1), [
            S.store(E.local(1, .floatArray), E.local(3, .int),
                    E.arithmetic(.add, E.element(E.local(0, .floatArray), E.local(3, .int)),
                                 E.arithmetic(.multiply, E.element(E.local(0, .floatArray), E.arithmetic(.add, E.local(3, .int), E.int(2))),
                                              E.local(2, .float)))),
        ]),
    ])

    @Test func lineFilterZeroesOutputAndWritesIt() throws {
        let kernel = try sharedEngine.compile(program: Self.lineSum)
        let callback = try #require(try kernel.lineFilterCallback)
        var line: [Double] = [1, 2, 3, 4, 5, 6]
        var out = [Double](repeating: .nan, count: 4)
        #expect(callback(&line, line.count, &out, out.count, nil) == 1)
        let expected: [Double] = [1 + 3, 2 + 4, 3 + 5, 0]
        #expect(out == expected)
        var userData = [10.0]
        let status = userData.withUnsafeMutableBytes { callback(&line, line.count, &out, out.count, $0.baseAddress) }
        #expect(status == 1)
        #expect(out == [31, 42, 53, 0])
        #expect(try kernel.callLineFilter(line: line, outputLength: 4, parameters: ["scale": 2]) == [7, 10, 13, 0])
    }

    @Test func lineFilterOutOfRangeReadFails() throws {
        let kernel = try sharedEngine.compile(program: Self.lineSum)
        let callback = try #require(try kernel.lineFilterCallback)
        var line: [Double] = [1, 2, 3]
        var out = [Double](repeating: 0, count: 3)
        // i = 1 reads line[3], one past the end.
        #expect(callback(&line, line.count, &out, out.count, nil) == 0)
        #expect(RuntimeFailureRecord.last?.kind == .indexOutOfRange)
        #expect(RuntimeFailureRecord.last?.a == 3)
    }

    /// in_coords[j] = out_coords[j] * 0.5 + shift for the shared ranks; in_coords[1] untouched otherwise.
    static let halve = P.transform("halve", parameters: [("shift", .float, 0.25)], locals: [LocalVariable(name: "j", type: .int)], [
        S.range(3, E.int(0), E.length(E.local(0, .intArray)), E.int(1), [
            S.store(E.local(1, .floatArray), E.local(3, .int),
                    E.arithmetic(.add, E.arithmetic(.multiply, E.toFloat(E.element(E.local(0, .intArray), E.local(3, .int))), E.float(0.5)),
                                 E.local(2, .float))),
        ]),
    ])

    @Test func transformCallbackZeroesInputCoordinatesAndMaps() throws {
        let kernel = try sharedEngine.compile(program: Self.halve)
        let callback = try #require(try kernel.transformCallback)
        var outputCoordinates = [4, 7]
        var inputCoordinates: [Double] = [.nan, .nan, .nan]
        #expect(callback(&outputCoordinates, &inputCoordinates, 2, 3, nil) == 1)
        #expect(inputCoordinates == [2.25, 3.75, 0])
        var userData = [-1.0]
        let status = userData.withUnsafeMutableBytes {
            callback(&outputCoordinates, &inputCoordinates, 2, 3, $0.baseAddress)
        }
        #expect(status == 1)
        #expect(inputCoordinates == [1, 2.5, 0])
        // Output rank larger than input rank: the store to in_coords[2] is out of range.
        var three = [1, 2, 3]
        #expect(callback(&three, &inputCoordinates, 3, 2, nil) == 0)
        #expect(try kernel.callTransform(outputCoordinates: [2], inputRank: 1, parameters: ["shift": 1]) == [2])
    }

    @Test func safeCallRejectsUnknownParameterNames() throws {
        let kernel = try sharedEngine.compile(program: Self.weighted)
        #expect(throws: KernelCallError.unknownParameter("tt")) { try kernel.callFilter(values: [1], parameters: ["tt": 1]) }
        #expect(try kernel.callFilter(values: [2], parameters: ["k": 1]) == 2)
        #expect(kernel.parameters.map(\.name) == ["t", "k"])
        #expect(kernel.parameters.map(\.type) == [.float, .int])
    }
}
