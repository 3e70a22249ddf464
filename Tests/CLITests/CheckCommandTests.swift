import Foundation
import Testing

@Suite struct CheckCommandTests {
    @Test func everyExampleChecksSilently() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".filter") }.sorted().map { "examples/" + $0 }
        #expect(examples.count >= 10)
        let result = try runCLI(["check"] + examples)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.isEmpty)
    }

    @Test func threeMistakesOnThreeLinesGiveThreeDiagnostics() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filterjit-check-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Line 2: a syntax error (an operator with no right operand); line 3: a misspelt name;
        // line 4: `continue` outside a loop.
        let program = """
            def f(values):
                x = 1 +
                y = vlaues[0]
                continue
                return y

            """
        let file = directory.appendingPathComponent("bad.filter")
        try program.write(to: file, atomically: true, encoding: .utf8)
        let result = try runCLI(["check", file.path])
        #expect(result.status == 1)
        let headers = result.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(headers.count == 3, "\(result.stderr)")
        #expect(headers.count == 3 && headers[0].hasPrefix("\(file.path):2:12: error: "))
        #expect(headers.count == 3 && headers[1].hasPrefix("\(file.path):3:9: error: unknown name 'vlaues'"))
        #expect(headers.count == 3 && headers[1].contains("did you mean 'values'"))
        #expect(headers.count == 3 && headers[2].hasPrefix("\(file.path):4:5: error: "))
        #expect(result.stdout.isEmpty)
    }

    @Test func missingFileIsAnErrorWithStatusOne() throws {
        let result = try runCLI(["check", "no/such/file.filter"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: cannot read 'no/such/file.filter'"))
    }

    @Test func noSourceIsAUsageError() throws {
        let result = try runCLI(["check"])
        #expect(result.status == 64)
    }

    @Test func inlineExpressionIsNamedExpr() throws {
        let result = try runCLI(["check", "-e", "min(valuez)"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("<expr>:1:5: error: unknown name 'valuez'"))
    }
}
