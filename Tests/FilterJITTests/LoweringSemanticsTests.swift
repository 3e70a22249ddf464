// Statement and expression semantics of the lowering on hand-built typed programs;
// expectations come from the Python rules the typed IR documents, computed in Swift.

import Testing
import Foundation
import FilterLang
import FilterCodegen
@testable import FilterJIT

private let values = E.local(0, .floatArray)

private func run(_ program: TypedProgram, _ window: [Double] = [], _ parameters: [String: Double] = [:]) throws -> Double {
    try sharedEngine.compile(program: program).callFilter(values: window, parameters: parameters)
}

private func failureKind(_ program: TypedProgram, _ window: [Double] = [], _ parameters: [String: Double] = [:]) throws -> RuntimeFailureKind? {
    do {
        _ = try run(program, window, parameters)
        return nil
    } catch is KernelRuntimeError {
        return RuntimeFailureRecord.last?.kind
    }
}

@Suite struct LoweringSemanticsTests {
    @Test func comparisonChainShortCircuitsAndTreatsNaNAsUnordered() throws {
        let x = E.local(1, .float)
        let program = P.filter("between", parameters: [("x", .float, 0)], [
            S.ret(E.toFloat(E.chain([E.float(0), x, E.int(1)], [.less, .lessEqual], [.float, .float]))),
        ])
        for value in [-1.0, 0.0, 0.5, 1.0, 1.5, .nan, -0.0] {
            #expect(try run(program, [], ["x": value]) == ((0 < value && value <= 1) ? 1 : 0), "x = \(value)")
        }
        // The third operand is not evaluated when the first comparison is false: values[5] would fail.
        let lazy = P.filter("lazy", [S.ret(E.toFloat(E.chain([E.int(1), E.int(0), E.element(values, E.int(5))],
                                                             [.less, .less], [.int, .float])))])
        #expect(try run(lazy, [1]) == 0)
        let notEqualNaN = P.filter("ne", parameters: [("x", .float, .nan)], [S.ret(E.toFloat(E.compare(.notEqual, E.local(1, .float), E.local(1, .float))))])
        #expect(try run(notEqualNaN) == 1)
    }

    @Test func andOrReturnTheDecidingOperand() throws {
        let a = E.local(1, .float), b = E.local(2, .float)
        let orProgram = P.filter("or", parameters: [("a", .float, 0), ("b", .float, 0)], [S.ret(E.logical(.or, a, b))])
        let andProgram = P.filter("and", parameters: [("a", .float, 0), ("b", .float, 0)], [S.ret(E.logical(.and, a, b))])
        for (x, y) in [(0.0, 5.0), (-0.0, 2.0), (Double.nan, 3.0), (4.0, 7.0), (0.0, -0.0)] {
            let orExpected = (x != 0 || x.isNaN) ? x : y
            let andExpected = (x != 0 || x.isNaN) ? y : x
            #expect(sameBits(try run(orProgram, [], ["a": x, "b": y]), orExpected))
            #expect(sameBits(try run(andProgram, [], ["a": x, "b": y]), andExpected))
        }
        // Short circuit: the right operand (an out-of-range index) is not evaluated.
        let lazy = P.filter("lazy_or", [S.ret(E.logical(.or, E.float(1), E.element(values, E.int(99))))])
        #expect(try run(lazy, [0]) == 1)
    }

    @Test func conditionalEvaluatesOnlyTheChosenBranch() throws {
        let program = P.filter("pick", parameters: [("c", .int, 1)], [
            S.ret(E.conditional(E.truth(E.local(1, .int)), E.element(values, E.int(0)), E.element(values, E.int(10)))),
        ])
        #expect(try run(program, [6]) == 6)
        #expect(try failureKind(program, [6], ["c": 0]) == .indexOutOfRange)
    }

    @Test func forRangeHandlesNegativeStepsZeroStepAndTheInt64Edge() throws {
        func sumRange(_ start: Int64, _ stop: Int64, _ step: Int64) -> TypedProgram {
            P.filter("range_sum", locals: [LocalVariable(name: "i", type: .int), LocalVariable(name: "s", type: .float)], [
                S.assign(2, E.float(0)),
                S.range(1, E.int(start), E.int(stop), E.int(step), [S.assign(2, E.arithmetic(.add, E.local(2, .float), E.toFloat(E.local(1, .int))))]),
                S.ret(E.local(2, .float)),
            ])
        }
        for (start, stop, step) in [(Int64(10), Int64(0), Int64(-3)), (0, 10, 3), (5, 5, 1), (5, 0, 1), (-3, 3, 2)] {
            let expected = stride(from: start, to: stop, by: Int(step)).reduce(0.0) { $0 + Double($1) }
            #expect(try run(sumRange(start, stop, step)) == expected, "range(\(start), \(stop), \(step))")
        }
        #expect(try failureKind(sumRange(0, 10, 0)) == .zeroRangeStep)
        // Stepping past Int64.max ends the loop after one iteration instead of wrapping around.
        #expect(try run(sumRange(Int64.max - 2, Int64.max, 5)) == Double(Int64.max - 2))
        #expect(try run(sumRange(Int64.min + 2, Int64.min, -5)) == Double(Int64.min + 2))
    }

    @Test func forEachWithBreakAndContinue() throws {
        // s = 0; for v in values: if v < 0: continue; if isnan(v): break; s += v
        let v = E.local(1, .float), s = E.local(2, .float)
        let program = P.filter("positive_prefix", locals: [LocalVariable(name: "v", type: .float), LocalVariable(name: "s", type: .float)], [
            S.assign(2, E.float(0)),
            S.each(1, values, [
                S.when(E.compare(.less, v, E.float(0)), [S.continueLoop]),
                S.when(E.builtin(.isnan, [v], .bool), [S.breakLoop]),
                S.assign(2, E.arithmetic(.add, s, v)),
            ]),
            S.ret(s),
        ])
        let window: [Double] = [1, -2, 3, .nan, 5]
        var expected = 0.0
        for x in window { if x < 0 { continue }; if x.isNaN { break }; expected += x }
        #expect(try run(program, window) == expected)
    }

    @Test func whileLoopWithBreak() throws {
        // i = 0; while True: i += 1; if i >= 7: break
        let i = E.local(1, .int)
        let program = P.filter("count", locals: [LocalVariable(name: "i", type: .int)], [
            S.assign(1, E.int(0)),
            S.loop(while: E.bool(true), [
                S.assign(1, E.arithmetic(.add, i, E.int(1))),
                S.when(E.compare(.greaterEqual, i, E.int(7)), [S.breakLoop]),
            ]),
            S.ret(E.toFloat(i)),
        ])
        #expect(try run(program) == 7)
    }

    @Test func localArraysAreAllocatedSortedCopiedAndChecked() throws {
        // a = np.zeros(n); for i in range(n): a[i] = values[i] * -1; b = np.sort(a); c = a.copy(); c.sort()
        // return b[0] * 1000 + c[n-1] + a[0] / 1000 + sum(np.ones(3))
        let a = E.local(1, .floatArray), b = E.local(2, .floatArray), c = E.local(3, .floatArray), i = E.local(4, .int)
        let n = E.length(values)
        let program = P.filter("arrays", locals: [
            LocalVariable(name: "a", type: .floatArray, isWritable: true), LocalVariable(name: "b", type: .floatArray, isWritable: true),
            LocalVariable(name: "c", type: .floatArray, isWritable: true), LocalVariable(name: "i", type: .int),
        ], [
            S.assign(1, E.builtin(.zeros, [n], .floatArray)),
            S.range(4, E.int(0), n, E.int(1), [S.store(a, i, E.negate(E.element(values, i)))]),
            S.assign(2, E.builtin(.sorted, [a], .floatArray)),
            S.assign(3, E.builtin(.copy, [a], .floatArray)),
            S.expression(E.builtin(.sortInPlace, [c], .floatArray)),
            S.ret(E.arithmetic(.add, E.arithmetic(.add, E.arithmetic(.add,
                E.arithmetic(.multiply, E.element(b, E.int(0)), E.float(1000)), E.element(c, E.int(-1))),
                E.arithmetic(.trueDivide, E.element(a, E.int(0)), E.float(1000))),
                E.builtin(.pySum, [E.builtin(.ones, [E.int(3)], .floatArray)], .float))),
        ])
        let window: [Double] = [3, -1, 7, .nan, 2]
        let negated = window.map { -$0 }
        let sorted = negated.sorted { x, y in !x.isNaN && (y.isNaN || x < y) }
        let expected = sorted[0] * 1000 + sorted[sorted.count - 1] + negated[0] / 1000 + 3
        #expect(sameBits(try run(program, window), expected))

        let sized = P.filter("sized", parameters: [("n", .int, 0)], [
            S.ret(E.builtin(.pySum, [E.builtin(.ones, [E.local(1, .int)], .floatArray)], .float)),
        ])
        #expect(try run(sized, [], ["n": 1_048_576]) == 1_048_576)
        #expect(try run(sized, [], ["n": 0]) == 0)
        #expect(try failureKind(sized, [], ["n": 1_048_577]) == .arraySize)
        #expect(try failureKind(sized, [], ["n": -1]) == .arraySize)
    }

    @Test func helperFunctionsTakeArraysAndPropagateFailures() throws {
        // def twice(a, k): return a[k] * 2.0      def fill(out_array, x): out_array[0] = x
        let twice = TypedFunction(name: "twice", locals: [LocalVariable(name: "a", type: .floatArray), LocalVariable(name: "k", type: .int)],
                                  parameterCount: 2, returnType: .float,
                                  body: [S.ret(E.arithmetic(.multiply, E.element(E.local(0, .floatArray), E.local(1, .int)), E.float(2)))],
                                  range: SourceRange(0, 5))
        let fill = TypedFunction(name: "fill", locals: [LocalVariable(name: "a", type: .floatArray, isWritable: true), LocalVariable(name: "x", type: .float)],
                                 parameterCount: 2, returnType: nil,
                                 body: [S.store(E.local(0, .floatArray), E.int(0), E.local(1, .float))], range: SourceRange(0, 5))
        let program = P.filter("caller", parameters: [("k", .int, 1)], locals: [LocalVariable(name: "t", type: .floatArray, isWritable: true)],
                               helpers: [twice, fill], [
            S.assign(2, E.builtin(.zeros, [E.int(2)], .floatArray)),
            S.expression(E.call(1, [E.local(2, .floatArray), E.float(0.25)], returning: .float)),
            S.ret(E.arithmetic(.add, E.call(0, [values, E.local(1, .int)], returning: .float), E.element(E.local(2, .floatArray), E.int(0)))),
        ])
        #expect(try run(program, [1, 5]) == 10.25)
        #expect(try failureKind(program, [1, 5], ["k": 2]) == .indexOutOfRange)
    }

    @Test func tupleAssignmentEvaluatesAllValuesFirst() throws {
        // a, b = b, a
        let program = P.filter("swap", locals: [LocalVariable(name: "a", type: .float), LocalVariable(name: "b", type: .float)], [
            S.assign(1, E.float(1)), S.assign(2, E.float(2)),
            TStmt(.assign(targets: [.local(1), .local(2)], values: [E.local(2, .float), E.local(1, .float)]), S.here),
            S.ret(E.arithmetic(.add, E.arithmetic(.multiply, E.local(1, .float), E.float(10)), E.local(2, .float))),
        ])
        #expect(try run(program) == 21)
    }

    @Test func integerEdgeCasesWrapOrFailAsDocumented() throws {
        func intResult(_ expression: TExpr) -> TypedProgram {
            P.filter("int_edge", [S.ret(E.toFloat(E.compare(.equal, expression, E.int(Int64.min))))])
        }
        let minimum = E.int(Int64.min)
        #expect(try run(intResult(E.arithmetic(.floorDivide, minimum, E.int(-1)))) == 1)
        #expect(try run(intResult(E.builtin(.abs, [minimum], .int))) == 1)
        #expect(try run(intResult(E.negate(minimum))) == 1)
        #expect(try run(intResult(E.arithmetic(.add, E.int(Int64.max), E.int(1)))) == 1)
        let modulo = P.filter("mod_edge", [S.ret(E.toFloat(E.arithmetic(.modulo, minimum, E.int(-1))))])
        #expect(try run(modulo) == 0)
        let a = E.local(1, .int), b = E.local(2, .int)
        let divide = P.filter("div", parameters: [("a", .int, 7), ("b", .int, 0)], [S.ret(E.toFloat(E.arithmetic(.floorDivide, a, b)))])
        #expect(try failureKind(divide) == .divisionByZero)
        let remainder = P.filter("rem", parameters: [("a", .int, 7), ("b", .int, 0)], [S.ret(E.toFloat(E.arithmetic(.modulo, a, b)))])
        #expect(try failureKind(remainder) == .moduloByZero)
        // int / int is true division, also by zero.
        // As Sema emits it: true division converts its int operands to float first.
        let trueDivide = P.filter("tdiv", parameters: [("a", .int, 7), ("b", .int, 0)],
                                  [S.ret(E.arithmetic(.trueDivide, E.toFloat(a), E.toFloat(b)))])
        #expect(try run(trueDivide) == .infinity)
        #expect(try run(trueDivide, [], ["a": -7, "b": 2]) == -3.5)
        let power = P.filter("ipow", parameters: [("a", .int, 3)], [S.ret(E.toFloat(E.arithmetic(.power, a, E.int(4))))])
        #expect(try run(power) == 81)
        var wrapped: Int64 = 1
        for _ in 0..<41 { wrapped = wrapped &* 3 }
        let bigPower = P.filter("ipow_wrap", [S.ret(E.toFloat(E.compare(.equal, E.arithmetic(.power, E.int(3), E.int(41)), E.int(wrapped))))])
        #expect(try run(bigPower) == 1)
    }

    @Test func emptyReductionsFailWhereNumPyRaises() throws {
        for builtin in [Builtin.pyMin, .pyMax, .npMin, .npMax, .argmin, .argmax, .nanmin, .nanmax] {
            let type: ValueType = [.argmin, .argmax].contains(builtin) ? .int : .float
            var result = E.builtin(builtin, [values], type)
            if type == .int { result = E.toFloat(result) }
            #expect(try failureKind(P.filter("empty_\(builtin.rawValue)", [S.ret(result)]), []) == .emptyReduction, "\(builtin)")
        }
        let percentile = P.filter("pct", parameters: [("q", .float, 50)], [S.ret(E.builtin(.percentile, [values, E.local(1, .float)], .float))])
        #expect(try failureKind(percentile, [1, 2], ["q": 101]) == .quantileRange)
        #expect(try failureKind(percentile, [1, 2], ["q": .nan]) == .quantileRange)
        #expect(try failureKind(percentile, [], ["q": 50]) == .emptyReduction)
        #expect(try run(percentile, [1, 2], ["q": 50]) == 1.5)
    }

    @Test func malformedTypedProgramsAreRejectedWithAnErrorNotATrap() throws {
        // An implicit float -> int conversion (Sema never emits one).
        let badConversion = P.filter("bad_convert", [S.ret(E.toFloat(TExpr(.convert(.toInt, E.float(1.5)), .int, S.here)))])
        // An array where a scalar is required.
        let arrayAsScalar = P.filter("bad_scalar", [S.ret(TExpr(.negate(values), .float, S.here))])
        // A filter kernel without its array parameter.
        let noArray = TypedProgram(functions: [TypedFunction(name: "f", locals: [], parameterCount: 0, returnType: .float,
                                                             body: [S.ret(E.float(1))], range: S.here)],
                                   kernelIndex: 0, kind: .filter, parameters: [])
        for program in [badConversion, arrayAsScalar, noArray] {
            // The pipeline's verify stage refuses them before lowering...
            #expect(throws: InvalidTypedProgram.self) { try sharedEngine.compile(program: program) }
            // ...and lowering on its own refuses them too, rather than trapping.
            #expect(throws: LLVMError.self) {
                try Codegen.prepare(program, options: CodegenOptions(exportName: "malformed"), level: .standard,
                                    machine: try TargetMachine())
            }
        }
    }

    @Test func constantExponentsStillCallLibmPowAfterOptimisation() throws {
        // LLVM would turn pow(x, 2.0) into x * x and pow(x, 0.5) into sqrt(x); glibc's pow differs
        // from both in about 0.1% of inputs, so a few thousand inputs catch the rewrite.
        let engine = try Engine(optimization: .standard)
        let x = E.element(values, E.int(0))
        let square = try engine.compile(program: P.filter("pow_two", [S.ret(E.arithmetic(.power, x, E.float(2)))]))
        let root = try engine.compile(program: P.filter("pow_half", [S.ret(E.builtin(.pow, [x, E.float(0.5)], .float))]))
        #expect(!square.optimizedIR.contains("fmul"))
        #expect(!root.optimizedIR.contains("sqrt"))
        var random = SplitMix64(seed: 7)
        var mismatches = 0
        for _ in 0..<5000 {
            let value = random.unit() * 1000
            if try square.callFilter(values: [value]).bitPattern != Foundation.pow(value, 2.0).bitPattern { mismatches += 1 }
            if try root.callFilter(values: [value]).bitPattern != Foundation.pow(value, 0.5).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
