// The compile pipeline: every kernel FilterJIT runs is made by these stages, in this order.
//
//   front end (once per source text and function; cached as a `Kernel`)
//     parse ──► AST ── check ──► typed IR ── verify ──► Kernel (the checked program)
//   back end (once per variant; cached by `KernelSignature`, in memory and on disk)
//     choose variant ──► lower ──► LLVM IR ── optimise ──► optimised IR ── machine code ──► object ── link ──► address
//
// Variants (`KernelVariant`): the SciPy callback ABI of the kernel's kind; a fused `@filter` row
// kernel (input and output element types, tap count); a fused `@line_filter` (element types, filter
// size); a fused `@transform` row (output and input ranks: the coordinate code inlined into one
// point loop, the interpolation in NDImage's driver). The window strategies (WindowStrategy.swift)
// compile their point-wise tails as row kernels of a derived program. Everything else a run needs (mode, cval, origins, offsets, shape, strides,
// parameters) is a run-time argument of the one NDImage driver, so it is not in the signature.
// Each stage is timed into one `CompileTimings` that the caller gets back with the code, and each
// stage's output can be printed on its own (`CompileStage`, `filterjit show --stage`).

import Foundation
import FilterLang
import FilterParser
import FilterSema
import FilterCodegen

/// What a kernel's machine code is compiled for: exactly what changes the generated code.
public enum KernelVariant: Hashable, Sendable, CustomStringConvertible {
    /// The SciPy `LowLevelCallable` ABI of the kernel's kind.
    case callback
    /// A fused `@filter` row kernel (`fj_row_kernel`) for these element types and tap count.
    case filterRow(FusedLayout)
    /// A fused `@line_filter` for these element types and filter size.
    case lineFilter(FusedLayout)
    /// The same, over `LineLanes.count` lines at once, one per SIMD lane (FilterCodegen/LineLanes.swift):
    /// the line ABI over lines (and outputs) lying one after another.
    case lineLanes(FusedLayout)
    /// An array function (issue 15) specialised for these argument dtypes, ranks and scalar types; its
    /// program is checked for the signature too (`CompilePipeline.frontEnd(_:function:arraySignature:)`).
    case arrayFunction(ArrayFunctionSignature)
    /// A fused `@transform` row kernel (`fj_transform_row_kernel`) for these output and input ranks.
    case transform(TransformLayout)

    /// Whether this is an array function's signature.
    public var isArrayFunction: Bool {
        if case .arrayFunction = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .callback: return "callback"
        case .arrayFunction(let signature): return "array-function\(signature)"
        case .filterRow(let layout):
            return "filter-row;in=\(layout.inputType.rawValue);out=\(layout.outputType.rawValue);taps=\(layout.tapCount)"
        case .lineFilter(let layout):
            return "line;in=\(layout.inputType.rawValue);out=\(layout.outputType.rawValue);size=\(layout.tapCount)"
        case .lineLanes(let layout):
            return "line-lanes\(LineLanes.count);in=\(layout.inputType.rawValue);out=\(layout.outputType.rawValue);size=\(layout.tapCount)"
        case .transform(let layout):
            return "transform-row;out-rank=\(layout.outputRank);in-rank=\(layout.inputRank)"
        }
    }
}

/// A stage whose output `filterjit show --stage` prints.
public enum CompileStage: String, CaseIterable, Sendable {
    /// The parsed syntax tree.
    case ast
    /// The checked, typed program.
    case typed
    /// LLVM IR as lowered.
    case ir
    /// LLVM IR after optimisation.
    case opt
    /// Host assembly.
    case asm
}

/// A typed program that breaks the typed IR's promises: a bug in the front end, never the user's.
public struct InvalidTypedProgram: Error, CustomStringConvertible, Sendable {
    /// The verifier's findings.
    public let problems: [String]

    public var description: String {
        "internal error: the checked program is malformed (\(problems.prefix(3).joined(separator: "; ")))"
    }
}

/// Machine code linked into an engine's JIT: the address of one variant and what it cost.
final class LinkedCode: @unchecked Sendable {
    let address: UInt
    let resource: JITResource
    /// The back end's stages (lower, optimise, machine code; for a disk-cache hit, the load and link).
    let timings: CompileTimings
    let loadedFromDiskCache: Bool

    init(address: UInt, resource: JITResource, timings: CompileTimings, loadedFromDiskCache: Bool) {
        self.address = address
        self.resource = resource
        self.timings = timings
        self.loadedFromDiskCache = loadedFromDiskCache
    }
}

/// The stages, in order.
enum CompilePipeline {
    /// parse -> check -> verify: the checked program of `function` (default: the last `def`) and the
    /// time of each stage. Diagnostics are thrown as the front end's `CompileError`.
    /// `undecoratedKind` is the kind of an undecorated kernel def (nil: a filter).
    static func frontEnd(_ file: SourceFile, function: String?, undecoratedKind: KernelKind? = nil) throws -> (TypedProgram, CompileTimings) {
        try frontEnd(file) { parsed in
            FrontEnd.check(parsed: parsed, in: file, function: function, undecoratedKind: undecoratedKind)
        }
    }

    /// parse -> check -> verify of an array function for one call signature (issue 15): the types of its
    /// parameters come from the signature, so each signature has its own checked program.
    static func frontEnd(_ file: SourceFile, function: String?, arraySignature: ArrayFunctionSignature) throws -> (TypedProgram, CompileTimings) {
        try frontEnd(file) { parsed in
            FrontEnd.checkArrayFunction(parsed: parsed, in: file, function: function, signature: arraySignature)
        }
    }

    /// parse -> `check` -> verify, each stage timed.
    private static func frontEnd(_ file: SourceFile,
                                 check: (ParseResult) -> Result<TypedProgram, CompileError>) throws -> (TypedProgram, CompileTimings) {
        var timings = CompileTimings()
        let parsed = timed(&timings.parse) { Parser.parse(file) }
        let program = try timed(&timings.check) { check(parsed) }.get()
        try verify(program, timings: &timings)
        return (program, timings)
    }

    /// verify: the typed IR keeps its promises (cheap, so always run).
    static func verify(_ program: TypedProgram, timings: inout CompileTimings) throws {
        let problems = timed(&timings.verify) { TypedIRVerifier.verify(program) }
        if !problems.isEmpty { throw InvalidTypedProgram(problems: problems) }
    }

    /// choose variant -> lower -> optimise: the verified, optimised module of `variant`, in a fresh
    /// context (safe on any thread).
    static func prepare(_ program: TypedProgram, variant: KernelVariant, symbol: String, level: OptimizationLevel,
                        machine: TargetMachine, keepText: Bool) throws -> PreparedModule {
        let options = CodegenOptions(exportName: symbol)
        switch variant {
        case .callback:
            return try Codegen.prepare(program, options: options, level: level, machine: machine, keepText: keepText)
        case .arrayFunction:
            // Its own pipeline (`OptimizationLevel.arrayFunctionPipeline`: its loops vectorise).
            return try Codegen.prepareArrayFunction(program, options: options, level: level, machine: machine, keepText: keepText)
        case .filterRow(let layout), .lineFilter(let layout):
            return try Codegen.prepareFused(program, layout: layout, options: options, level: level,
                                            machine: machine, keepText: keepText)
        case .lineLanes(let layout):
            return try Codegen.prepareFused(program, layout: layout, options: options, lanes: true, level: level,
                                            machine: machine, keepText: keepText)
        case .transform(let layout):
            return try Codegen.prepareFusedTransform(program, layout: layout, options: options, level: level,
                                                     machine: machine, keepText: keepText)
        }
    }

    /// The whole back end in an engine's `generator`: the disk cache's object code when it holds this signature,
    /// else lower -> optimise -> machine code; then link. Texts are not kept (`Kernel` regenerates
    /// them on demand), so a compile pays only for what it runs.
    static func backEnd(_ program: TypedProgram, variant: KernelVariant, signature: KernelSignature,
                        symbol: String, generator engine: CodeGenerator) throws -> LinkedCode {
        let machine = try engine.borrowMachine()
        defer { engine.returnMachine(machine) }
        var timings = CompileTimings()
        if let (linked, loadMilliseconds) = engine.loadFromDiskCache(signature: signature, symbol: symbol, machine: machine) {
            timings.machineCode = loadMilliseconds
            return LinkedCode(address: linked.address, resource: linked.resource, timings: timings, loadedFromDiskCache: true)
        }
        let prepared = try prepare(program, variant: variant, symbol: symbol, level: engine.optimization,
                                   machine: machine, keepText: false)
        timings.ir = prepared.lowerMilliseconds
        timings.optimize = prepared.optimizeMilliseconds
        let linked = try timed(&timings.machineCode) {
            try engine.link(prepared, signature: signature, symbol: symbol, machine: machine,
                            name: program.kernel.name + Engine.symbolSuffix(variant))
        }
        return LinkedCode(address: linked.address, resource: linked.resource, timings: timings, loadedFromDiskCache: false)
    }

    /// The output of a front-end stage: the AST as the printer writes it, or the checked program.
    static func dump(_ stage: CompileStage, file: SourceFile, function: String?, undecoratedKind: KernelKind? = nil) throws -> String {
        switch stage {
        case .ast:
            let parsed = Parser.parse(file)
            if !parsed.diagnostics.isEmpty { throw CompileError(file: file, diagnostics: parsed.diagnostics) }
            return ASTPrinter.print(parsed.module)
        case .typed:
            return TypedIRPrinter.print(try frontEnd(file, function: function, undecoratedKind: undecoratedKind).0)
        case .ir, .opt, .asm:
            throw LLVMError("the \(stage.rawValue) stage is printed from a kernel (Kernel.ir, optimizedIR, assembly)")
        }
    }
}

/// Runs `body`, adding its wall-clock milliseconds to `total`.
func timed<T>(_ total: inout Double, _ body: () throws -> T) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    defer { total += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
    return try body()
}

extension Engine {
    /// The output of a front-end stage (`.ast`: the parsed syntax tree; `.typed`: the checked program)
    /// for `file`'s kernel `function`. The back-end stages are `Kernel.ir`, `optimizedIR`, `assembly`
    /// and `fusedCode`.
    public static func frontEndOutput(_ stage: CompileStage, file: SourceFile, function: String? = nil,
                                      undecoratedKind: KernelKind? = nil) throws -> String {
        precondition(stage == .ast || stage == .typed, "a front-end stage")
        return try CompilePipeline.dump(stage, file: file, function: function, undecoratedKind: undecoratedKind)
    }
}
