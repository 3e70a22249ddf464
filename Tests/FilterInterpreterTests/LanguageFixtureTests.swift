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
