import FilterLang
import FilterParser

/// The front end in one call: parse, resolve, type-check. (Contract stub: the front-end work replaces the body.)
public enum FrontEnd {
    /// Checks `file` and returns the typed program of the kernel `function` (default: the last `def`),
    /// or every diagnostic.
    public static func check(_ file: SourceFile, function: String? = nil) -> Result<TypedProgram, CompileError> {
        .failure(CompileError(file: file, diagnostics: [.error("front end not implemented yet", at: .none)]))
    }
}
