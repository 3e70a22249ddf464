import FilterLang
import FilterSema
import Testing

@Test func everythingPythonRejectsIsRejected() {
    // Cases generated from CPython 3.11 by scripts/python_syntax_errors.py. The language is a
    // subset of Python, so each must give at least one diagnostic (and must not crash).
    #expect(pythonSyntaxErrorCases.count >= 1000)
    var accepted: [String] = []
    for text in pythonSyntaxErrorCases where diagnosticLines(text).isEmpty {
        accepted.append(text)
    }
    #expect(accepted.isEmpty, "\(accepted.count) accepted:\n\(accepted.prefix(15).map(\.debugDescription).joined(separator: "\n"))")
}
