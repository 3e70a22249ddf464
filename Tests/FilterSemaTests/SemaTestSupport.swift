import FilterLang
import FilterParser
import FilterSema
import Foundation
import Testing

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Checks `text` and returns the program, or nil with the rendered diagnostics.
func compile(_ text: String, function: String? = nil, name: String = "<test>") -> (TypedProgram?, String) {
    let file = SourceFile(name: name, text: text)
    switch FrontEnd.check(file, function: function) {
    case .success(let program):
        // Every program Sema accepts must keep the typed IR's promises.
        let problems = TypedIRVerifier.verify(program)
        if !problems.isEmpty {
            Issue.record("typed IR of \(text.debugDescription) breaks the contract:\n\(problems.joined(separator: "\n"))")
        }
        return (program, "")
    case .failure(let error): return (nil, error.description)
    }
}

/// The diagnostics of `text` as `line:col: severity: message` lines.
func diagnosticLines(_ text: String, function: String? = nil) -> [String] {
    let file = SourceFile(name: "<test>", text: text)
    switch FrontEnd.check(file, function: function) {
    case .success: return []
    case .failure(let error):
        return error.diagnostics.map { diagnostic in
            let location = file.location(of: diagnostic.range.start)
            return "\(location.line):\(location.column): \(diagnostic.severity.rawValue): \(diagnostic.message)"
        }
    }
}

/// A compact S-expression of a typed expression, for shape checks.
func dump(_ expression: TExpr) -> String { TypedIRPrinter.print(expression) }

/// A compact text of typed statements, one per line, indented by nesting.
func dump(_ statements: [TStmt], indent: String = "") -> String { TypedIRPrinter.print(statements, indent: indent) }
