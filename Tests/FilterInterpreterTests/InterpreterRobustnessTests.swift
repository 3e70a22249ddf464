import FilterInterpreter
import FilterLang
import Foundation
import Testing

/// Random, mostly ill-typed typed programs: the interpreter must return or throw, never trap.
/// (A trap would kill the test process, so this test passing means no input crashed it.)
@Suite struct InterpreterRobustnessTests {
    struct Fuzzer {
        var random: SeededGenerator
        let types: [ValueType] = [.int, .float, .bool, .floatArray, .intArray]
        let slotCount = 6
        let functionCount = 3

        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
        mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }
        mutating func slot() -> Int { Int.random(in: -1...slotCount, using: &random) }

        mutating func expression(_ depth: Int) -> TExpr {
            let type = pick(types)
            let range = SourceRange(depth, depth + 1)
            if depth <= 0 || chance(0.25) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0: return TExpr(.intConstant(pick([0, 1, -1, 3, .max, .min, 1_048_577])), .int, range)
                case 1: return TExpr(.floatConstant(pick([0.0, -0.0, 1.5, .nan, .infinity, -.infinity, 1e300, 9.3e18])), .float, range)
                case 2: return TExpr(.boolConstant(chance(0.5)), .bool, range)
                default: return TExpr(.local(slot()), type, range)
                }
            }
            let a = expression(depth - 1), b = expression(depth - 1)
            switch Int.random(in: 0..<12, using: &random) {
            case 0: return TExpr(.convert(pick([.toFloat, .toInt, .truth]), a), type, range)
            case 1: return TExpr(.negate(a), type, range)
            case 2: return TExpr(.not(a), .bool, range)
            case 3: return TExpr(.arithmetic(pick([.add, .subtract, .multiply, .trueDivide, .floorDivide, .modulo, .power]), a, b),
                                 pick([.int, .float]), range)
            case 4:
                let count = Int.random(in: 0...3, using: &random)
                return TExpr(.compare(operands: (0...count).map { _ in expression(depth - 1) },
                                      ops: (0..<count).map { _ in pick(CompareOperator.allCases) },
                                      compareTypes: (0..<Int.random(in: 0...3, using: &random)).map { _ in pick(types) }), .bool, range)
            case 5: return TExpr(.logical(pick([.and, .or]), a, b), type, range)
            case 6: return TExpr(.conditional(condition: a, then: b, orElse: expression(depth - 1)), type, range)
            case 7: return TExpr(.element(array: a, index: b), type, range)
            case 8: return TExpr(.length(a), .int, range)
            case 9: return TExpr(.call(function: Int.random(in: -1...functionCount, using: &random),
                                       arguments: (0..<Int.random(in: 0...3, using: &random)).map { _ in expression(depth - 1) }), type, range)
            default:
                return TExpr(.builtin(pick(Builtin.allCases), (0..<Int.random(in: 0...3, using: &random)).map { _ in expression(depth - 1) }),
                             type, range)
            }
        }

        mutating func statements(_ depth: Int) -> [TStmt] {
            (0..<Int.random(in: 0...4, using: &random)).map { _ in statement(depth) }
        }

        mutating func statement(_ depth: Int) -> TStmt {
            let range = SourceRange(100 + depth, 101 + depth)
            let nested = depth > 0
            switch Int.random(in: 0..<(nested ? 10 : 5), using: &random) {
            case 0: return TStmt(.expression(expression(3)), range)
            case 1:
                let count = Int.random(in: 1...2, using: &random)
                let targets: [TTarget] = (0..<count).map { _ in
                    chance(0.5) ? .local(slot()) : .element(array: expression(1), index: expression(1))
                }
                return TStmt(.assign(targets: targets, values: (0..<Int.random(in: 1...2, using: &random)).map { _ in expression(3) }), range)
            case 2: return TStmt(pick([.breakLoop, .continueLoop]), range)
            case 3: return TStmt(.returnValue(chance(0.7) ? expression(2) : nil), range)
            case 4: return TStmt(.expression(expression(2)), range)
            case 5: return TStmt(.ifStatement(condition: expression(2), then: statements(depth - 1), orElse: statements(depth - 1)), range)
            case 6: return TStmt(.whileLoop(condition: expression(2), body: statements(depth - 1)), range)
            case 7: return TStmt(.forRange(slot: slot(), start: expression(1), stop: expression(1), step: expression(1),
                                           body: statements(depth - 1)), range)
            default: return TStmt(.forEach(slot: slot(), array: expression(1), body: statements(depth - 1)), range)
            }
        }

        mutating func program() -> TypedProgram {
            let kind = pick([KernelKind.filter, .lineFilter, .transform])
            var functions = (0..<functionCount).map { index in
                TypedFunction(name: "f\(index)",
                              locals: (0..<Int.random(in: 0...slotCount, using: &random)).map { i in
                                  LocalVariable(name: "v\(i)", type: pick(types), isWritable: chance(0.5))
                              },
                              parameterCount: Int.random(in: 0...3, using: &random),
                              returnType: chance(0.7) ? pick(types) : nil,
                              body: statements(3), range: SourceRange(0, 1))
            }
            // Mostly a well-formed kernel interface, so the bodies get to run.
            let kernelIndex = chance(0.9) ? 0 : Int.random(in: -1...functionCount, using: &random)
            if chance(0.9) {
                let arrays: [LocalVariable] = switch kind {
                case .filter: [LocalVariable(name: "values", type: .floatArray)]
                case .lineFilter: [LocalVariable(name: "line", type: .floatArray), LocalVariable(name: "out", type: .floatArray, isWritable: true)]
                case .transform: [LocalVariable(name: "out_coords", type: .intArray), LocalVariable(name: "in_coords", type: .floatArray, isWritable: true)]
                case .arrayFunction: []
                }
                functions[0].locals = arrays + (0..<slotCount).map { i in LocalVariable(name: "v\(i)", type: pick([.int, .float, .bool])) }
                functions[0].returnType = kind == .filter ? .float : nil
            }
            let parameters = (0..<Int.random(in: 0...2, using: &random)).map { i in
                KernelParameter(name: "p\(i)", type: pick([.int, .float]), defaultValue: pick([0.0, 2.5, .nan, 1e19]),
                                slot: chance(0.9) ? 3 + i : slot())
            }
            return TypedProgram(functions: functions, kernelIndex: kernelIndex, kind: kind, parameters: parameters)
        }
    }

    @Test func randomMalformedProgramsNeverTrap() {
        // Reproduce or vary with FILTERJIT_FUZZ_SEED=<seed>.
        let seed = ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xF17E_0001
        print("randomMalformedProgramsNeverTrap seed \(seed)")
        var fuzzer = Fuzzer(random: SeededGenerator(seed: seed))
        var outcomes = (returned: 0, threw: 0)
        for _ in 0..<3000 {
            let program = fuzzer.program()
            let interpreter = Interpreter(program: program, stepBudget: 500)
            let parameters: [Double]? = fuzzer.chance(0.2) ? nil : [fuzzer.pick([0.0, 3.0, .nan, -1e30, 2.0]), 1.0]
            do {
                switch program.kind {
                case .filter: _ = try interpreter.runFilter(values: [1, .nan, -2], parameters: parameters)
                case .lineFilter: _ = try interpreter.runLineFilter(line: [1, 2, 3], outputLength: 2, parameters: parameters)
                case .transform: _ = try interpreter.runTransform(outputCoordinates: [Int.max, -1], inputRank: 2, parameters: parameters)
                case .arrayFunction: _ = try interpreter.runArrayFunction([])
                }
                outcomes.returned += 1
            } catch {
                outcomes.threw += 1
            }
        }
        // Most random programs are ill-typed and fail, but the generator must also produce some that run.
        print("randomMalformedProgramsNeverTrap outcomes \(outcomes)")
        #expect(outcomes.returned > 0 && outcomes.threw > 0, "\(outcomes)")
    }
}

/// Nesting far beyond the evaluator's limit, in each recursive shape (so each kind of stack frame is
/// stacked up to the limit): an error, never a stack overflow, even on a test thread's small stack.
@Suite struct InterpreterNestingLimitTests {
    static let r = SourceRange(1, 2)
    static func f(_ v: Double) -> TExpr { TExpr(.floatConstant(v), .float, r) }
    static let values = LocalVariable(name: "values", type: .floatArray)

    static func kernel(_ body: [TStmt], helpers: [TypedFunction] = []) -> TypedProgram {
        let kernel = TypedFunction(name: "k", locals: [values, LocalVariable(name: "x", type: .float)], parameterCount: 1,
                                   returnType: .float, body: body, range: r)
        return TypedProgram(functions: helpers + [kernel], kernelIndex: helpers.count, kind: .filter, parameters: [])
    }

    static func nestedExpression(_ shape: String, depth: Int) -> TExpr {
        var e = f(0.5)
        for _ in 0..<depth {
            switch shape {
            case "clip": e = TExpr(.builtin(.clip, [e, f(-1), f(1)]), .float, r)
            case "sqrt": e = TExpr(.builtin(.sqrt, [e]), .float, r)
            case "minOf": e = TExpr(.builtin(.pyMinOf, [f(1), e, f(2)]), .float, r)
            case "conditional": e = TExpr(.conditional(condition: TExpr(.boolConstant(true), .bool, r), then: e, orElse: f(0)), .float, r)
            case "logical": e = TExpr(.logical(.or, f(0), e), .float, r)
            case "compare":
                let c = TExpr(.compare(operands: [f(0), e, f(2)], ops: [.less, .less], compareTypes: [.float, .float]), .bool, r)
                e = TExpr(.convert(.toFloat, c), .float, r)
            default: e = TExpr(.arithmetic(.add, f(0), e), .float, r)
            }
        }
        return e
    }

    @Test(arguments: ["clip", "sqrt", "minOf", "conditional", "logical", "compare", "add"])
    func deepExpressionsFailCleanly(shape: String) {
        let program = Self.kernel([TStmt(.returnValue(Self.nestedExpression(shape, depth: 5000)), Self.r)])
        #expect(throws: KernelRuntimeError.self) { try Interpreter(program: program).runFilter(values: [1]) }
        let shallow = Self.kernel([TStmt(.returnValue(Self.nestedExpression(shape, depth: 100)), Self.r)])
        #expect(throws: Never.self) { try Interpreter(program: shallow).runFilter(values: [1]) }
    }

    @Test(arguments: ["if", "while", "forRange", "forEach"])
    func deepStatementsFailCleanly(shape: String) {
        var body = [TStmt(.returnValue(Self.f(1)), Self.r)]
        let one = TExpr(.intConstant(1), .int, Self.r)
        for _ in 0..<5000 {
            switch shape {
            case "if": body = [TStmt(.ifStatement(condition: TExpr(.boolConstant(true), .bool, Self.r), then: body, orElse: []), Self.r)]
            case "while": body = [TStmt(.whileLoop(condition: TExpr(.boolConstant(true), .bool, Self.r), body: body), Self.r)]
            case "forRange": body = [TStmt(.forRange(slot: 1, start: TExpr(.intConstant(0), .int, Self.r), stop: one, step: one, body: body), Self.r)]
            default: body = [TStmt(.forEach(slot: 1, array: TExpr(.local(0), .floatArray, Self.r), body: body), Self.r)]
            }
        }
        body.append(TStmt(.returnValue(Self.f(0)), Self.r))
        #expect(throws: KernelRuntimeError.self) { try Interpreter(program: Self.kernel(body)).runFilter(values: [1]) }
    }

    @Test func longHelperChainsFailCleanly() {
        // helper i returns helper i+1 (a chain, not recursion), each with a nested expression.
        let count = 2000
        let helpers = (0..<count).map { i -> TypedFunction in
            let next: TExpr = i + 1 < count ? TExpr(.call(function: i + 1, arguments: [Self.f(1)]), .float, Self.r) : Self.f(1)
            let body = TExpr(.arithmetic(.add, TExpr(.builtin(.sqrt, [next]), .float, Self.r), Self.f(0)), .float, Self.r)
            return TypedFunction(name: "h\(i)", locals: [LocalVariable(name: "a", type: .float)], parameterCount: 1,
                                 returnType: .float, body: [TStmt(.returnValue(body), Self.r)], range: Self.r)
        }
        let program = Self.kernel([TStmt(.returnValue(TExpr(.call(function: 0, arguments: [Self.f(1)]), .float, Self.r)), Self.r)],
                                  helpers: helpers)
        #expect(throws: KernelRuntimeError.self) { try Interpreter(program: program).runFilter(values: [1]) }
    }
}
