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
