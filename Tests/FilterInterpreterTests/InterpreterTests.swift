import FilterInterpreter
import FilterSema
import FilterLang
import Testing

// Hand-built typed programs, so the interpreter is tested independently of the front end.

private let here = SourceRange(10, 20)

private func int(_ v: Int64) -> TExpr { TExpr(.intConstant(v), .int, here) }
private func float(_ v: Double) -> TExpr { TExpr(.floatConstant(v), .float, here) }
private func bool(_ v: Bool) -> TExpr { TExpr(.boolConstant(v), .bool, here) }
private func local(_ slot: Int, _ type: ValueType) -> TExpr { TExpr(.local(slot), type, here) }
private func element(_ array: TExpr, _ index: TExpr) -> TExpr { TExpr(.element(array: array, index: index), .float, here) }
private func arith(_ op: TArithmetic, _ a: TExpr, _ b: TExpr) -> TExpr { TExpr(.arithmetic(op, a, b), a.type, here) }
private func compare(_ operands: [TExpr], _ ops: [CompareOperator], _ type: ValueType) -> TExpr {
    TExpr(.compare(operands: operands, ops: ops, compareTypes: Array(repeating: type, count: ops.count)), .bool, here)
}
private func builtin(_ b: Builtin, _ args: [TExpr], _ type: ValueType) -> TExpr { TExpr(.builtin(b, args), type, here) }
private func stmt(_ kind: TStmtKind, _ range: SourceRange = here) -> TStmt { TStmt(kind, range) }
private func assign(_ slot: Int, _ value: TExpr) -> TStmt { stmt(.assign(targets: [.local(slot)], values: [value])) }
private func store(_ array: TExpr, _ index: TExpr, _ value: TExpr) -> TStmt {
    stmt(.assign(targets: [.element(array: array, index: index)], values: [value]))
}

private func filterProgram(locals: [LocalVariable], body: [TStmt], parameters: [KernelParameter] = [],
                           helpers: [TypedFunction] = []) -> TypedProgram {
    let kernel = TypedFunction(name: "f", locals: locals, parameterCount: 1 + parameters.count, returnType: .float,
                               body: body, range: here)
    return TypedProgram(functions: helpers + [kernel], kernelIndex: helpers.count, kind: .filter, parameters: parameters)
}

private let values = LocalVariable(name: "values", type: .floatArray)

@Suite struct InterpreterTests {
    /// The Numba `fmin` example: `result = inf; for v in values: if v < result: result = v`.
    @Test func fminLoopAgreesWithNpMinOnRandomWindows() throws {
        let program = filterProgram(
            locals: [values, LocalVariable(name: "result", type: .float), LocalVariable(name: "v", type: .float)],
            body: [
                assign(1, float(.infinity)),
                stmt(.forEach(slot: 2, array: local(0, .floatArray), body: [
                    stmt(.ifStatement(condition: compare([local(2, .float), local(1, .float)], [.less], .float),
                                      then: [assign(1, local(2, .float))], orElse: [])),
                ])),
                stmt(.returnValue(local(1, .float))),
            ])
        let interpreter = Interpreter(program: program)
        var generator = SeededGenerator(seed: 2026)
        print("fminLoopAgreesWithNpMinOnRandomWindows seed 2026")
        for _ in 0..<500 {
            let window = (0..<Int.random(in: 1...30, using: &generator)).map { _ in Double.random(in: -1e6...1e6, using: &generator) }
            let expected = window.withUnsafeBufferPointer { Numerics.npMin($0.baseAddress, $0.count) }
            #expect(try interpreter.runFilter(values: window) == expected)
        }
        #expect(try interpreter.runFilter(values: []) == .infinity)
    }

    @Test func whileTrueExhaustsTheStepBudget() {
        let program = filterProgram(locals: [values], body: [
            stmt(.whileLoop(condition: bool(true), body: []), SourceRange(3, 9)),
            stmt(.returnValue(float(0))),
        ])
        #expect {
            try Interpreter(program: program, stepBudget: 1000).runFilter(values: [1])
        } throws: { error in
            guard let error = error as? KernelRuntimeError else { return false }
            return error.message.contains("step budget") && error.range == SourceRange(3, 9)
        }
    }

    /// A reduction over a large local array inside a loop is one step per iteration, unless the budget
    /// charges the arrays built-ins take (`chargesArrayElements`, the differential tests' oracle).
    @Test func chargedArrayElementsCountAgainstTheStepBudget() throws {
        let text = """
        def f(values):
            a = np.zeros(1000)
            s = 0.0
            for i in range(100):
                s += np.std(a)
            return s
        """
        let program = try FrontEnd.check(SourceFile(name: "<budget>", text: text), function: "f").get()
        #expect(try Interpreter(program: program, stepBudget: 1000).runFilter(values: [1]) == 0)
        #expect {
            try Interpreter(program: program, stepBudget: 1000, chargesArrayElements: true).runFilter(values: [1])
        } throws: { error in
            (error as? KernelRuntimeError)?.message.hasPrefix("step budget of 1000 steps") == true
        }
        #expect(try Interpreter(program: program, stepBudget: 200_000, chargesArrayElements: true).runFilter(values: [1]) == 0)
    }

    @Test func indexOutOfRangeIsAnErrorAtTheIndexExpression() throws {
        let index = TExpr(.intConstant(3), .int, SourceRange(40, 41))
        let program = filterProgram(locals: [values], body: [stmt(.returnValue(element(local(0, .floatArray), index)))])
        let interpreter = Interpreter(program: program)
        #expect(throws: KernelRuntimeError("index 3 is out of range for an array of length 3", at: SourceRange(40, 41))) {
            try interpreter.runFilter(values: [1, 2, 3])
        }
        #expect(try interpreter.runFilter(values: [1, 2, 3, 4]) == 4)
    }

    @Test func negativeIndexCountsFromTheEnd() throws {
        let program = filterProgram(locals: [values], body: [stmt(.returnValue(element(local(0, .floatArray), int(-1))))])
        #expect(try Interpreter(program: program).runFilter(values: [5, 6, 7]) == 7)
        #expect(throws: KernelRuntimeError.self) { try Interpreter(program: program).runFilter(values: []) }
    }

    @Test func intParameterIsTruncatedAndRejectsNaN() throws {
        let k = KernelParameter(name: "k", type: .int, defaultValue: 3, slot: 1)
        let program = filterProgram(
            locals: [values, LocalVariable(name: "k", type: .int)],
            body: [stmt(.returnValue(TExpr(.convert(.toFloat, arith(.floorDivide, int(7), local(1, .int))), .float, here)))],
            parameters: [k])
        let interpreter = Interpreter(program: program)
        #expect(try interpreter.runFilter(values: []) == 2)              // default 3: 7 // 3
        #expect(try interpreter.runFilter(values: [], parameters: [-2.9]) == -4)  // -2.9 -> -2: 7 // -2
        #expect(throws: KernelRuntimeError.self) { try interpreter.runFilter(values: [], parameters: [.nan]) }
        #expect(throws: KernelRuntimeError.self) { try interpreter.runFilter(values: [], parameters: [0.5]) } // 7 // 0
        #expect(throws: KernelRuntimeError.self) { try interpreter.runFilter(values: [], parameters: []) }
    }

    @Test func comparisonChainStopsAtFirstFalseAndEvaluatesOperandsOnce() throws {
        // tick(a): a[0] += 1; return a[0]
        let tick = TypedFunction(
            name: "tick", locals: [LocalVariable(name: "a", type: .floatArray, isWritable: true)], parameterCount: 1,
            returnType: .float,
            body: [store(local(0, .floatArray), int(0), arith(.add, element(local(0, .floatArray), int(0)), float(1))),
                   stmt(.returnValue(element(local(0, .floatArray), int(0))))],
            range: here)
        let counter = local(1, .floatArray)
        let callTick = TExpr(.call(function: 0, arguments: [counter]), .float, here)
        // 0 < tick(c) < 0.5 < tick(c): the second call must not happen.
        let chain = compare([float(0), callTick, float(0.5), callTick], [.less, .less, .less], .float)
        let program = filterProgram(
            locals: [values, LocalVariable(name: "c", type: .floatArray, isWritable: true)],
            body: [assign(1, builtin(.zeros, [int(1)], .floatArray)),
                   stmt(.expression(chain)),
                   stmt(.returnValue(element(counter, int(0))))],
            helpers: [tick])
        #expect(try Interpreter(program: program).runFilter(values: []) == 1)
    }

    @Test func orReturnsTheDecidingOperand() throws {
        let program = filterProgram(locals: [values], body: [
            stmt(.returnValue(TExpr(.logical(.or, element(local(0, .floatArray), int(0)), float(2.5)), .float, here))),
        ])
        let interpreter = Interpreter(program: program)
        #expect(try interpreter.runFilter(values: [0]) == 2.5)
        #expect(try interpreter.runFilter(values: [-3]) == -3)
        #expect(try interpreter.runFilter(values: [.nan]).isNaN)
    }

    @Test func forRangeIgnoresAssignmentsToItsVariable() throws {
        // for i in range(0, 10, 3): n += 1; i = 100   -> 4 iterations
        let program = filterProgram(
            locals: [values, LocalVariable(name: "n", type: .int), LocalVariable(name: "i", type: .int)],
            body: [assign(1, int(0)),
                   stmt(.forRange(slot: 2, start: int(0), stop: int(10), step: int(3), body: [
                       assign(1, arith(.add, local(1, .int), int(1))), assign(2, int(100)),
                   ])),
                   stmt(.returnValue(TExpr(.convert(.toFloat, local(1, .int)), .float, here)))])
        #expect(try Interpreter(program: program).runFilter(values: []) == 4)
    }

    @Test func rangeStepZeroAndHugeLocalArrayAreErrors() {
        let zeroStep = filterProgram(locals: [values, LocalVariable(name: "i", type: .int)], body: [
            stmt(.forRange(slot: 1, start: int(0), stop: int(3), step: int(0), body: [])),
            stmt(.returnValue(float(0))),
        ])
        #expect(throws: KernelRuntimeError.self) { try Interpreter(program: zeroStep).runFilter(values: []) }
        let huge = filterProgram(locals: [values, LocalVariable(name: "a", type: .floatArray, isWritable: true)], body: [
            assign(1, builtin(.zeros, [int(Int64(maximumLocalArrayLength) + 1)], .floatArray)),
            stmt(.returnValue(float(0))),
        ])
        #expect(throws: KernelRuntimeError.self) { try Interpreter(program: huge).runFilter(values: []) }
    }

    @Test func intArithmeticWrapsInsteadOfTrapping() throws {
        let program = filterProgram(locals: [values], body: [
            stmt(.returnValue(TExpr(.convert(.toFloat, arith(.add, int(.max), int(1))), .float, here))),
        ])
        #expect(try Interpreter(program: program).runFilter(values: []) == -9_223_372_036_854_775_808.0)
    }

    @Test func readingAnUnassignedSlotIsAnErrorNotACrash() {
        let program = filterProgram(locals: [values, LocalVariable(name: "x", type: .float)],
                                    body: [stmt(.returnValue(local(1, .float)))])
        #expect(throws: KernelRuntimeError.self) { try Interpreter(program: program).runFilter(values: []) }
    }

    @Test func lineFilterWritesOutAndStartsFromZeros() throws {
        // for i in range(len(out)): if i % 2 == 0: out[i] = line[i] + line[i + 1]
        let line = local(0, .floatArray), out = local(1, .floatArray), i = local(2, .int)
        let kernel = TypedFunction(
            name: "f",
            locals: [LocalVariable(name: "line", type: .floatArray), LocalVariable(name: "out", type: .floatArray, isWritable: true),
                     LocalVariable(name: "i", type: .int)],
            parameterCount: 2, returnType: nil,
            body: [stmt(.forRange(slot: 2, start: int(0), stop: TExpr(.length(out), .int, here), step: int(1), body: [
                stmt(.ifStatement(condition: compare([arith(.modulo, i, int(2)), int(0)], [.equal], .int),
                                  then: [store(out, i, arith(.add, element(line, i), element(line, arith(.add, i, int(1)))))],
                                  orElse: [])),
            ]))],
            range: here)
        let program = TypedProgram(functions: [kernel], kernelIndex: 0, kind: .lineFilter, parameters: [])
        let interpreter = Interpreter(program: program)
        #expect(try interpreter.runLineFilter(line: [1, 2, 3, 4, 5], outputLength: 3) == [3, 0, 7])
        #expect(throws: KernelRuntimeError.self) { try interpreter.runFilter(values: []) }
    }

    @Test func transformReadsIntCoordinates() throws {
        // in_coords[0] = out_coords[-1] / 2
        let outCoords = local(0, .intArray), inCoords = local(1, .floatArray)
        let read = TExpr(.element(array: outCoords, index: int(-1)), .int, here)
        let kernel = TypedFunction(
            name: "f",
            locals: [LocalVariable(name: "out_coords", type: .intArray),
                     LocalVariable(name: "in_coords", type: .floatArray, isWritable: true)],
            parameterCount: 2, returnType: nil,
            body: [store(inCoords, int(0), arith(.trueDivide, TExpr(.convert(.toFloat, read), .float, here), float(2)))],
            range: here)
        let program = TypedProgram(functions: [kernel], kernelIndex: 0, kind: .transform, parameters: [])
        #expect(try Interpreter(program: program).runTransform(outputCoordinates: [4, 7], inputRank: 2) == [3.5, 0])
    }

    @Test func tupleAssignmentEvaluatesValuesBeforeStoring() throws {
        // a, b = b, a  on locals 1 and 2
        let program = filterProgram(
            locals: [values, LocalVariable(name: "a", type: .float), LocalVariable(name: "b", type: .float)],
            body: [assign(1, float(1)), assign(2, float(2)),
                   stmt(.assign(targets: [.local(1), .local(2)], values: [local(2, .float), local(1, .float)])),
                   stmt(.returnValue(arith(.subtract, arith(.multiply, local(1, .float), float(10)), local(2, .float))))])
        #expect(try Interpreter(program: program).runFilter(values: []) == 19)
    }

    @Test func emptyWindowReducersErrorOrGiveIdentities() throws {
        func run(_ b: Builtin) throws -> Double {
            let program = filterProgram(locals: [values], body: [stmt(.returnValue(builtin(b, [local(0, .floatArray)], .float)))])
            return try Interpreter(program: program).runFilter(values: [])
        }
        #expect(try run(.pySum) == 0 && run(.npSum) == 0 && run(.prod) == 1)
        #expect(try run(.mean).isNaN && run(.median).isNaN && run(.variance).isNaN && run(.std).isNaN)
        for b in [Builtin.pyMin, .pyMax, .npMin, .npMax, .nanmin, .nanmax] {
            #expect(throws: KernelRuntimeError.self) { try run(b) }
        }
    }

    /// The language allows nesting up to 100 levels; the recursive evaluator runs that comfortably.
    @Test func deeplyNestedExpressionsAndStatementsRun() throws {
        var expression = float(1)
        for _ in 0..<90 { expression = arith(.add, TExpr(.negate(expression), .float, here), float(1)) }
        var body = [stmt(.returnValue(expression))]
        for _ in 0..<100 { body = [stmt(.ifStatement(condition: bool(true), then: body, orElse: []))] }
        body.append(stmt(.returnValue(float(-1))))
        let program = filterProgram(locals: [values], body: body)
        // x -> 1 - x applied 90 times to 1 gives 1.
        #expect(try Interpreter(program: program).runFilter(values: []) == 1)
    }
}

/// Adversarial review: run-time messages name built-ins as the source spells them, not by their IR case.
@Suite struct RuntimeMessageSpellingTests {
    @Test func emptyReductionAndQuantileMessagesUseSourceSpelling() throws {
        let cases: [(Builtin, [TExpr], String)] = [
            (.pyMin, [local(0, .floatArray)], "min of an empty array"),
            (.npMax, [local(0, .floatArray)], "np.max of an empty array"),
            (.nanmin, [local(0, .floatArray)], "np.nanmin of an empty array"),
            (.percentile, [local(0, .floatArray), float(150)], "np.percentile q = 150.0 is outside [0, 100]"),
        ]
        for (b, arguments, expected) in cases {
            let type: ValueType = .float
            let program = filterProgram(locals: [values], body: [stmt(.returnValue(builtin(b, arguments, type)))])
            let interpreter = Interpreter(program: program, stepBudget: 1000)
            do {
                _ = try interpreter.runFilter(values: [])
                Issue.record("\(b) of an empty window did not fail")
            } catch {
                #expect(error.message == expected, "\(b)")
            }
        }
        #expect(Builtin.allCases.allSatisfy { !$0.sourceSpelling.isEmpty })
        #expect(Builtin.roundToInt.sourceSpelling == "round" && Builtin.variance.sourceSpelling == "var")
    }
}
