import FilterInterpreter
import FilterLang
import FilterSema
import Foundation
import Testing

/// Runs every language fixture (Tests/Fixtures/programs/*.filter) through the front end and the interpreter.
@Suite struct LanguageFixtureTests {
    @Test func fixtureDirectoryHasAtLeastTwoHundredCases() throws {
        let fixtures = try FixtureLoader.loadAll()
        let cases = fixtures.reduce(0) { $0 + $1.cases.count }
        #expect(fixtures.count >= 50)
        #expect(cases >= 200)
    }

    @Test(arguments: FixtureLoader.fixtureNames())
    func fixtureMatchesCPythonExpectations(name: String) throws {
        let fixture = try FixtureLoader.load(name)
        let file = SourceFile(name: name + ".filter", text: fixture.source)
        let program: TypedProgram
        switch FrontEnd.check(file, function: fixture.function) {
        case .success(let checked): program = checked
        case .failure(let error):
            Issue.record("\(name) does not compile:\n\(error)")
            return
        }
        #expect(program.kind == fixture.kind, "\(name): kind \(program.kind) instead of \(fixture.kind)")
        // A small budget: no fixture loops long, and a runaway loop should fail fast.
        let interpreter = Interpreter(program: program, stepBudget: 1_000_000)
        for testCase in fixture.cases {
            let outcome = Self.run(interpreter, testCase)
            #expect(FixtureLoader.matches(outcome, testCase.expected),
                    "\(name).filter \(testCase): got \(Self.describe(outcome))")
        }
    }

    static func run(_ interpreter: Interpreter, _ testCase: FixtureCase) -> Result<[Double], KernelRuntimeError> {
        do throws(KernelRuntimeError) {
            switch testCase.input {
            case .filter(let values):
                return .success([try interpreter.runFilter(values: values, parameters: testCase.parameters)])
            case .lineFilter(let line, let outputLength):
                return .success(try interpreter.runLineFilter(line: line, outputLength: outputLength, parameters: testCase.parameters))
            case .transform(let coordinates, let rank):
                return .success(try interpreter.runTransform(outputCoordinates: coordinates, inputRank: rank, parameters: testCase.parameters))
            }
        } catch {
            return .failure(error)
        }
    }

    static func describe(_ outcome: Result<[Double], KernelRuntimeError>) -> String {
        switch outcome {
        case .success(let values): return values.map { "\($0) (0x\(String($0.bitPattern, radix: 16)))" }.joined(separator: ", ")
        case .failure(let error): return "error: \(error.message)"
        }
    }
}

/// The fixture format round-trips the awkward tokens.
@Suite struct FixtureLoaderTests {
    @Test func parsesSpecialFloatsHandReasonsAndEitherZero() throws {
        let text = """
        # kind: filter
        # case: values=[nan, inf, -inf, -0.0, 5e-324] params=[1.0] -> ~0.0
        # case (by hand: sorted() puts NaN last (CPython: in place)): values=[] -> error
        min(values)
        """
        let fixture = try FixtureLoader.parse(text, name: "inline")
        #expect(fixture.cases.count == 2)
        guard case .filter(let values) = fixture.cases[0].input else { Issue.record("not a filter case"); return }
        #expect(values[0].isNaN && values[1] == .infinity && values[2] == -.infinity)
        #expect(values[3].bitPattern == (-0.0 as Double).bitPattern && values[4] == .leastNonzeroMagnitude)
        #expect(fixture.cases[0].parameters == [1.0])
        #expect(fixture.cases[0].expected == .value(0.0, eitherZero: true))
        #expect(fixture.cases[1].handReason == "sorted() puts NaN last (CPython: in place)")
        #expect(fixture.cases[1].expected == .error)
        #expect(fixture.cases[1].parameters == nil)
    }

    @Test func zeroSignMattersUnlessEitherZero() {
        #expect(!FixtureLoader.matches(-0.0, 0.0, eitherZero: false))
        #expect(FixtureLoader.matches(-0.0, 0.0, eitherZero: true))
        #expect(FixtureLoader.matches(.nan, -.nan, eitherZero: false))
        #expect(!FixtureLoader.matches(1.0, .nan, eitherZero: true))
    }

    @Test func parsesLineFilterAndTransformCases() throws {
        let text = """
        # kind: line_filter
        # case: line=[1.0, 2.0] out=1 params=[0.5, 2.0] -> [3.0]
        """
        let fixture = try FixtureLoader.parse(text, name: "inline")
        #expect(fixture.cases[0].input == .lineFilter(line: [1.0, 2.0], outputLength: 1))
        #expect(fixture.cases[0].expected == .array([3.0], eitherZero: false))
        let transform = try FixtureLoader.parse("# kind: transform\n# case: out_coords=[1, -2] in_rank=3 -> error\n", name: "t")
        #expect(transform.cases[0].input == .transform(outputCoordinates: [1, -2], inputRank: 3))
    }
}

/// The fixtures exercise the whole typed IR: every built-in, every arithmetic operator on ints and on
/// floats, every comparison operator and every statement kind.
@Suite struct FixtureCoverageTests {
    struct Coverage {
        var builtins: Set<Builtin> = []
        var arithmetic: Set<String> = []
        var comparisons: Set<CompareOperator> = []
        var statements: Set<String> = []

        mutating func visit(_ statements: [TStmt]) {
            for statement in statements {
                switch statement.kind {
                case .expression(let e): self.statements.insert("expression"); visit(e)
                case .assign(let targets, let values):
                    self.statements.insert(targets.count > 1 ? "tupleAssign" : "assign")
                    for target in targets {
                        if case .element(let a, let i) = target { self.statements.insert("elementStore"); visit(a); visit(i) }
                    }
                    values.forEach { visit($0) }
                case .ifStatement(let c, let t, let e): self.statements.insert("if"); visit(c); visit(t); visit(e)
                case .whileLoop(let c, let b): self.statements.insert("while"); visit(c); visit(b)
                case .forRange(_, let a, let b, let c, let body):
                    self.statements.insert("forRange"); visit(a); visit(b); visit(c); visit(body)
                case .forEach(_, let a, let body): self.statements.insert("forEach"); visit(a); visit(body)
                case .breakLoop: self.statements.insert("break")
                case .continueLoop: self.statements.insert("continue")
                case .callbackFailure: self.statements.insert("callbackFailure")
                case .returnValue(let e): self.statements.insert(e == nil ? "bareReturn" : "return"); e.map { visit($0) }
                }
            }
        }

        mutating func visit(_ expression: TExpr) {
            switch expression.kind {
            case .intConstant, .floatConstant, .boolConstant, .local: break
            case .convert(_, let e), .negate(let e), .not(let e), .length(let e): visit(e)
            case .arithmetic(let op, let a, let b):
                arithmetic.insert("\(op.rawValue):\(expression.type.rawValue)"); visit(a); visit(b)
            case .compare(let operands, let ops, _): comparisons.formUnion(ops); operands.forEach { visit($0) }
            case .logical(_, let a, let b): visit(a); visit(b)
            case .conditional(let c, let t, let e): visit(c); visit(t); visit(e)
            case .element(let a, let i): visit(a); visit(i)
            case .call(_, let arguments): arguments.forEach { visit($0) }
            case .builtin(let b, let arguments): builtins.insert(b); arguments.forEach { visit($0) }
            case .floatArrayConstant, .intArrayConstant: statements.insert("constantArray")
            case .gather(let a, let i): statements.insert("gather"); visit(a); visit(i)
            case .arrayOf(let elements): statements.insert("arrayOf"); elements.forEach { visit($0) }
            case .floatArrayOf(let a): statements.insert("floatArrayOf"); visit(a)
            case .lane: break
            case .map(let inputs, let body): statements.insert("map"); inputs.forEach { visit($0) }; visit(body)
            case .compress(let a, let b): statements.insert("compress"); visit(a); visit(b)
            case .slice(let a, let b, let c, let d): statements.insert("slice"); visit(a); [b, c, d].compactMap { $0 }.forEach { visit($0) }
            case .ndElement(_, let indices), .ndAllocate(_, let indices): indices.forEach { visit($0) }  // array functions: ArrayFunctionTests
            case .ndShape, .ndSize, .ndReduce: break
            }
        }
    }

    @Test func fixturesCoverEveryBuiltinOperatorAndStatement() throws {
        var coverage = Coverage()
        for fixture in try FixtureLoader.loadAll() {
            guard case .success(let program) = FrontEnd.check(SourceFile(name: fixture.name, text: fixture.source),
                                                              function: fixture.function) else { continue }
            for function in program.functions { coverage.visit(function.body) }
        }
        let missingBuiltins = Set(Builtin.allCases).subtracting(coverage.builtins)
        #expect(missingBuiltins.isEmpty, "built-ins no fixture uses: \(missingBuiltins.map(\.rawValue).sorted())")
        var operators: Set<String> = []
        for op in [TArithmetic.add, .subtract, .multiply, .floorDivide, .modulo, .power] {
            operators.insert("\(op.rawValue):int"); operators.insert("\(op.rawValue):float")
        }
        operators.insert("trueDivide:float")
        #expect(operators.subtracting(coverage.arithmetic).isEmpty,
                "operators no fixture uses: \(operators.subtracting(coverage.arithmetic).sorted())")
        #expect(Set(CompareOperator.allCases).subtracting(coverage.comparisons).isEmpty)
        let statements: Set<String> = ["expression", "assign", "tupleAssign", "elementStore", "if", "while", "forRange",
                                       "forEach", "break", "continue", "return", "bareReturn", "callbackFailure"]
        #expect(statements.subtracting(coverage.statements).isEmpty,
                "statements no fixture uses: \(statements.subtracting(coverage.statements).sorted())")
    }
}
