import FilterLang
import FilterParser
import Foundation

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Parses `text` as a file named `<test>`.
func parse(_ text: String) -> ParseResult {
    Parser.parse(SourceFile(name: "<test>", text: text))
}

/// The diagnostics of parsing `text`, as `line:col: message`.
func parseErrors(_ text: String) -> [String] {
    let file = SourceFile(name: "<test>", text: text)
    return Parser.parse(file).diagnostics.map { diagnostic in
        let location = file.location(of: diagnostic.range.start)
        return "\(location.line):\(location.column): \(diagnostic.message)"
    }
}

/// The single expression of a one-line source.
func parseExpression(_ text: String) -> Expr? {
    let result = parse(text)
    guard result.diagnostics.isEmpty, result.module.items.count == 1, case .expression(let expression) = result.module.items[0] else { return nil }
    return expression
}

/// Every `.filter` program under `examples/`.
func examplePrograms() -> [(name: String, text: String)] {
    var programs: [(String, String)] = []
    for folder in ["examples"] {
        let directory = repositoryRoot.appendingPathComponent(folder)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".filter") }.sorted()
        for name in names {
            if let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) {
                programs.append(("\(folder)/\(name)", text))
            }
        }
    }
    return programs
}
