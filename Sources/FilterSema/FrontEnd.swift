import FilterLang
import FilterParser

/// The front end in one call: parse, resolve, type-check.
public enum FrontEnd {
    /// Checks `file` and returns the typed program of the kernel `function` (default: the last `def`),
    /// or every diagnostic (syntax and semantic) in source order.
    public static func check(_ file: SourceFile, function: String? = nil) -> Result<TypedProgram, CompileError> {
        let parsed = Parser.parse(file)
        let checker = ProgramChecker(file: file, module: parsed.module, kernelName: function,
                                     syntaxErrorOffsets: parsed.diagnostics.map(\.range.start))
        let program = checker.run()
        var all = parsed.diagnostics
        let syntaxErrors = Set(parsed.diagnostics)
        all += checker.diagnostics.filter { !syntaxErrors.contains($0) }
        all = all.enumerated()
            .sorted { ($0.element.range.start, $0.offset) < ($1.element.range.start, $1.offset) }
            .map(\.element)
        if !all.contains(where: { $0.severity == .error }), let program {
            return .success(program)
        }
        if all.isEmpty {
            // A checker that produced no program must have said why; this is the fallback for a bug.
            all = [.error("internal error: no program was produced", at: .none)]
        }
        return .failure(CompileError(file: file, diagnostics: all))
    }

    /// Checks an already parsed module (for tools that parse once); diagnostics are Sema's only.
    public static func check(_ module: SourceModule, in file: SourceFile, function: String? = nil) -> (TypedProgram?, [Diagnostic]) {
        let checker = ProgramChecker(file: file, module: module, kernelName: function)
        let program = checker.run()
        let diagnostics = checker.diagnostics.enumerated()
            .sorted { ($0.element.range.start, $0.offset) < ($1.element.range.start, $1.offset) }
            .map(\.element)
        return (diagnostics.contains { $0.severity == .error } ? nil : program, diagnostics)
    }
}
