import FilterLang

/// The result of parsing: the module (statements that did not parse are left out) and every diagnostic.
public struct ParseResult: Sendable {
    /// The parsed module.
    public var module: SourceModule
    /// Syntax errors, in source order.
    public var diagnostics: [Diagnostic]

    /// Creates a parse result.
    public init(module: SourceModule, diagnostics: [Diagnostic]) {
        self.module = module
        self.diagnostics = diagnostics
    }
}

/// Filter text to AST. (Contract stub: the front-end work replaces the body.)
public enum Parser {
    /// Parses a whole source file, recovering at statement boundaries.
    public static func parse(_ file: SourceFile) -> ParseResult {
        ParseResult(module: SourceModule(items: []), diagnostics: [.error("parser not implemented yet", at: .none)])
    }
}
