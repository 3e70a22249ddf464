// Sema: the AST of a filter source to the typed IR of `FilterLang/TypedIR.swift`.
//
// The passes, in order (ProgramChecker.run):
//   1. imports: module aliases (`np`, `math`) and names imported bare (`from numpy import min`);
//   2. functions: the defs (or the one-line form as a function `expression`), the kernel and its kind;
//   3. recursion: cycles in the call graph are errors;
//   4. facts: fixed types of the kernel's parameters, helper defaults, uncalled helpers' parameters;
//   5. inference: every function is walked (FunctionChecker, inference mode) until the joined types
//      of variables, helper parameters and helper results stop changing;
//   6. emission: every function is walked again (FunctionChecker, emitting mode) to report errors
//      and build the typed IR with explicit conversions.
// Errors are values (diagnostics), one per mistake: an expression whose check failed yields nil and
// its parents stay silent, and statements lost to syntax errors silence the checks they would feed.

import FilterLang
import FilterParser

/// The front end in one call: parse, resolve, type-check.
public enum FrontEnd {
    /// Checks `file` and returns the typed program of the kernel `function` (default: the last `def`),
    /// or every diagnostic (syntax and semantic) in source order.
    public static func check(_ file: SourceFile, function: String? = nil) -> Result<TypedProgram, CompileError> {
        check(parsed: Parser.parse(file), in: file, function: function)
    }

    /// Checks the array function `function` (default: the last `def`) of `file` for one call signature;
    /// an undecorated def is taken as an array function.
    public static func checkArrayFunction(parsed: ParseResult, in file: SourceFile, function: String?,
                                          signature: ArrayFunctionSignature) -> Result<TypedProgram, CompileError> {
        check(parsed: parsed, in: file, function: function, arraySignature: signature)
    }

    /// The same for a file the caller has parsed (the compile pipeline parses once and times each stage).
    /// `undecoratedKind` is the kind of an undecorated kernel def (default: a filter); decorators win.
    public static func check(parsed: ParseResult, in file: SourceFile, function: String? = nil,
                             undecoratedKind: KernelKind? = nil) -> Result<TypedProgram, CompileError> {
        check(parsed: parsed, in: file, function: function, arraySignature: nil, requestedKind: undecoratedKind)
    }

    private static func check(parsed: ParseResult, in file: SourceFile, function: String?,
                              arraySignature: ArrayFunctionSignature?, requestedKind: KernelKind? = nil) -> Result<TypedProgram, CompileError> {
        let checker = ProgramChecker(file: file, module: parsed.module, kernelName: function,
                                     syntaxErrorOffsets: parsed.diagnostics.map(\.range.start),
                                     arraySignature: arraySignature, requestedKind: arraySignature == nil ? requestedKind : .arrayFunction)
        let program = checker.run()
        var all = parsed.diagnostics
        // A line with a syntax error gets no further errors: they would follow from the same mistake.
        let brokenLines = Set(parsed.diagnostics.map { file.lineIndex(of: $0.range.start) })
        all += checker.diagnostics.filter { !brokenLines.contains(file.lineIndex(of: $0.range.start)) }
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
