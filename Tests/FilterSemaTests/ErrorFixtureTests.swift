import FilterLang
import FilterSema
import Foundation
import Testing

/// The must-fail fixtures: every `Tests/Fixtures/errors/*.filter` holds its expected diagnostics as
/// `# expect: LINE:COL: error: MESSAGE` comments; the front end must report exactly those, in order.
/// An optional `# function: NAME` line names the kernel.
enum ErrorFixtures {
    static let directory = repositoryRoot.appendingPathComponent("Tests/Fixtures/errors")

    static func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".filter") }.sorted()
    }
}

@Test func errorFixturesExistInNumber() {
    #expect(ErrorFixtures.names().count >= 40)
}

@Test(arguments: ErrorFixtures.names())
func errorFixtureReportsExactlyItsExpectedDiagnostics(_ name: String) throws {
    let text = try String(contentsOf: ErrorFixtures.directory.appendingPathComponent(name), encoding: .utf8)
    var expected: [String] = []
    var function: String?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if let range = line.range(of: "# expect: ") {
            expected.append(String(line[range.upperBound...]))
        }
        if let range = line.range(of: "# function: ") {
            function = String(line[range.upperBound...])
        }
    }
    #expect(!expected.isEmpty, "\(name) has no '# expect:' lines")
    let actual = diagnosticLines(text, function: function)
    if ProcessInfo.processInfo.environment["FILTERJIT_SHOW_ACTUAL"] != nil {
        print("\(name):\n" + actual.map { "# expect: " + $0 }.joined(separator: "\n"))
    }
    #expect(actual == expected, "\(name)")
}

/// The rendered diagnostics of every fixture (file:line:col, message, source line, caret and
/// underline), compared with a golden snapshot. `FILTERJIT_RECORD_SNAPSHOTS=1` re-records it.
@Test func renderedFixtureDiagnosticsMatchTheSnapshot() throws {
    var rendered = ""
    for name in ErrorFixtures.names() {
        let text = try String(contentsOf: ErrorFixtures.directory.appendingPathComponent(name), encoding: .utf8)
        let function = text.split(separator: "\n").first { $0.hasPrefix("# function: ") }.map { String($0.dropFirst("# function: ".count)) }
        let file = SourceFile(name: name, text: text)
        if case .failure(let error) = FrontEnd.check(file, function: function) {
            rendered += error.description
        } else {
            rendered += "\(name): no diagnostics\n"
        }
    }
    let snapshot = ErrorFixtures.directory.appendingPathComponent("rendered.snapshot")
    if ProcessInfo.processInfo.environment["FILTERJIT_RECORD_SNAPSHOTS"] != nil {
        try rendered.write(to: snapshot, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: snapshot, encoding: .utf8)
    if rendered != expected {
        let actualLines = rendered.split(separator: "\n", omittingEmptySubsequences: false)
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }
        Issue.record("rendered diagnostics differ from rendered.snapshot at line \((first?.offset ?? min(actualLines.count, expectedLines.count)) + 1): \(first.map { "got \($0.element.0.debugDescription), expected \($0.element.1.debugDescription)" } ?? "different length") (re-record with FILTERJIT_RECORD_SNAPSHOTS=1)")
    }
}
