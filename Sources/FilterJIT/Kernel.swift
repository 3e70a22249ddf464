// A compiled kernel: its interface, its SciPy-ABI function pointer, a safe Swift call,
// its IR and assembly, and how long each compile stage took.

import Foundation
import FilterLang
import FilterCodegen
import NDImage

// The callback types (FilterCallback, LineFilterCallback, TransformCallback) are NDImage's, which are
// KernelABI's `fj_*_callback`.

/// Milliseconds spent in each compile stage (CompilePipeline.swift); zero for stages that did not run.
public struct CompileTimings: Hashable, Sendable, CustomStringConvertible {
    /// Parsing.
    public var parse: Double = 0
    /// Name resolution and type checking.
    public var check: Double = 0
    /// Verifying the typed IR.
    public var verify: Double = 0
    /// Lowering to LLVM IR and verifying it.
    public var ir: Double = 0
    /// The LLVM optimisation pipeline.
    public var optimize: Double = 0
    /// Machine code generation and linking in the JIT (for a disk-cache hit: the load and link).
    public var machineCode: Double = 0

    /// The sum of the stages.
    public var total: Double { parse + check + verify + ir + optimize + machineCode }

    /// Creates timings.
    public init(parse: Double = 0, check: Double = 0, verify: Double = 0, ir: Double = 0, optimize: Double = 0,
                machineCode: Double = 0) {
        self.parse = parse
        self.check = check
        self.verify = verify
        self.ir = ir
        self.optimize = optimize
        self.machineCode = machineCode
    }

    /// The stages of both, added.
    public static func + (a: CompileTimings, b: CompileTimings) -> CompileTimings {
        CompileTimings(parse: a.parse + b.parse, check: a.check + b.check, verify: a.verify + b.verify,
                       ir: a.ir + b.ir, optimize: a.optimize + b.optimize, machineCode: a.machineCode + b.machineCode)
    }

    public var description: String {
        func ms(_ value: Double) -> String { String(format: "%.2f", value) }
        return "parse \(ms(parse)) ms, check \(ms(check)) ms, verify \(ms(verify)) ms, IR \(ms(ir)) ms, "
            + "optimise \(ms(optimize)) ms, machine code \(ms(machineCode)) ms, total \(ms(total)) ms"
    }
}

/// Errors of the safe Swift calls (run-time failures of the kernel itself are `KernelRuntimeError`).
public enum KernelCallError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A parameter name the kernel does not declare.
    case unknownParameter(String)
    /// The call does not match the kernel's kind.
    case wrongKind(expected: KernelKind, actual: KernelKind)
    /// A length that does not fit the ABI (`Int32` ranks).
    case sizeOutOfRange(Int)
    /// A run-time parameter declared without a default was given no value.
    case missingParameter(kernel: String, name: String)

    public var description: String {
        switch self {
        case .unknownParameter(let name): return "unknown parameter '\(name)'"
        case .wrongKind(let expected, let actual): return "kernel is a \(actual.rawValue), not a \(expected.rawValue)"
        case .sizeOutOfRange(let size): return "size \(size) does not fit the callback ABI"
        case .missingParameter(let kernel, let name):
            return "kernel '\(kernel)' needs a value for parameter '\(name)' (it has no default; e.g. --param \(name)=VALUE)"
        }
    }
}

/// Keeps the engine's cancellation flag alive as long as any kernel that reads it.
final class CancellationFlag: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
    }

    // A plain aligned 32-bit store: generated code reads it with a monotonic atomic load.
    func set(_ value: Int32) { pointer.pointee = value }

    deinit { pointer.deallocate() }
}

/// A checked kernel and its machine code. The code of the SciPy callback ABI is compiled on first
/// use (a fused run never needs it); fused variants are kernels of their own whose code is linked
/// when they are made. The code lives as long as this object.
public final class Kernel: @unchecked Sendable {
    /// The kernel function's name.
    public let name: String
    /// Its kind (the SciPy ABI of `address`).
    public let kind: KernelKind
    /// Its run-time parameters in declaration order (names, types, defaults).
    public let parameters: [KernelParameter]
    /// The checked program.
    public let program: TypedProgram
    /// The source, when compiled from text.
    public let source: SourceFile?
    /// The cache key.
    public let signature: KernelSignature
    /// The exported symbol name in the JIT.
    public let symbolName: String
    /// The front end's stages (parse, check, verify); zero for a variant or a typed program.
    public let frontEndTimings: CompileTimings
    /// Whether this `@line_filter`'s lines run `LineLanes.count` at once, one per SIMD lane
    /// (FilterCodegen/LineLanes.swift): its control flow does not depend on the data and a loop carries
    /// data from one iteration to the next (`LineLanes.carriesData`). The fused engine then compiles a
    /// lanes kernel too (unless `FILTERJIT_LINE_LANES=0`).
    public let runsLinesInLanes: Bool

    /// The engine that compiled this kernel, which also compiles and caches its variants.
    weak var engine: Engine?
    /// Window reductions recognised per window length (WindowStrategy.swift), guarded by `recognitionLock`.
    var recognitions: [Int: RecognizedWindowReductions?] = [:]
    /// The compiled tails of those reductions per window length and output type (`tailRowKernel`), guarded
    /// by `recognitionLock` too.
    var tailRowKernels: [TailRowKernelKey: Kernel] = [:]
    let recognitionLock = NSLock()
    /// The back end of the engine that checked this kernel: its code is compiled there.
    let generator: CodeGenerator
    var optimization: OptimizationLevel { generator.optimization }
    private let cancellation: CancellationFlag
    private let codeLock = NSLock()
    private var linked: LinkedCode?
    private let textLock = NSLock()
    private var assemblyText: String?
    private var irText: String?
    private var optimizedIRText: String?

    init(program: TypedProgram, source: SourceFile?, signature: KernelSignature, symbolName: String,
         code: LinkedCode?, frontEndTimings: CompileTimings, cancellation: CancellationFlag,
         generator: CodeGenerator, engine: Engine?) {
        self.name = program.kernel.name
        self.kind = program.kind
        self.parameters = program.parameters
        self.program = program
        self.source = source
        self.signature = signature
        self.symbolName = symbolName
        self.linked = code
        self.frontEndTimings = frontEndTimings
        self.runsLinesInLanes = LineLanes.analyse(program)?.carriesData(program.kernel.body) ?? false
        self.cancellation = cancellation
        self.generator = generator
        self.engine = engine
    }

    /// The variant this kernel's code is compiled for.
    public var variant: KernelVariant { signature.variant }

    /// The machine code, compiled (or loaded from the disk cache) now if it is not yet.
    func code() throws -> LinkedCode {
        codeLock.lock()
        defer { codeLock.unlock() }
        if let linked { return linked }
        let compiled = try CompilePipeline.backEnd(program, variant: variant, signature: signature, symbol: symbolName,
                                                   generator: generator)
        linked = compiled
        return compiled
    }

    /// Compiles the code now if it is not yet (so that compile errors surface here); returns the
    /// back end's timings of this call (zero when the code was already there).
    @discardableResult
    public func prepareCode() throws -> CompileTimings {
        codeLock.lock()
        let had = linked != nil
        codeLock.unlock()
        let code = try code()
        return had ? CompileTimings() : code.timings
    }

    /// The raw address of the function of this kernel's variant (the SciPy-ABI callback for a
    /// source's kernel), compiled on first use.
    public var address: UInt {
        get throws { try code().address }
    }

    /// The stages run so far: the front end's, plus the back end's once the code is compiled (for a
    /// disk-cache hit, `machineCode` is the load and link).
    public var timings: CompileTimings {
        codeLock.lock()
        defer { codeLock.unlock() }
        return frontEndTimings + (linked?.timings ?? CompileTimings())
    }

    /// Whether the machine code, once compiled, came from the on-disk cache (no optimisation or codegen ran).
    public var loadedFromDiskCache: Bool {
        codeLock.lock()
        defer { codeLock.unlock() }
        return linked?.loadedFromDiskCache ?? false
    }

    /// Re-runs the deterministic pipeline this kernel was compiled with, in a fresh context.
    private func prepareAgain(machine: TargetMachine, keepText: Bool = true) throws -> PreparedModule {
        try CompilePipeline.prepare(program, variant: variant, symbol: symbolName, level: optimization,
                                    machine: machine, keepText: keepText)
    }

    private var rawPointer: UnsafeRawPointer {
        get throws {
            // The JIT never returns address 0 (JITSession.add checks).
            guard let pointer = UnsafeRawPointer(bitPattern: try address) else { throw LLVMError("kernel at address 0") }
            return pointer
        }
    }

    /// The `@filter` callback, or nil for another kind. Valid while this kernel lives.
    public var filterCallback: FilterCallback? {
        get throws { kind == .filter && variant == .callback ? unsafeBitCast(try rawPointer, to: FilterCallback.self) : nil }
    }

    /// The `@line_filter` callback, or nil for another kind.
    public var lineFilterCallback: LineFilterCallback? {
        get throws { kind == .lineFilter && variant == .callback ? unsafeBitCast(try rawPointer, to: LineFilterCallback.self) : nil }
    }

    /// The `@transform` callback, or nil for another kind.
    public var transformCallback: TransformCallback? {
        get throws { kind == .transform && variant == .callback ? unsafeBitCast(try rawPointer, to: TransformCallback.self) : nil }
    }

    /// The IR as lowered (regenerated on first use for a disk-cache hit).
    public var ir: String {
        textLock.lock()
        defer { textLock.unlock() }
        if irText == nil { regenerateTexts() }
        return irText ?? ""
    }

    /// The IR after optimisation (regenerated on first use for a disk-cache hit).
    public var optimizedIR: String {
        textLock.lock()
        defer { textLock.unlock() }
        if optimizedIRText == nil { regenerateTexts() }
        return optimizedIRText ?? ""
    }

    /// Re-runs the deterministic pipeline in a fresh context for the texts. Holds `textLock`.
    private func regenerateTexts() {
        do {
            let prepared = try prepareAgain(machine: try TargetMachine())
            irText = prepared.ir
            optimizedIRText = prepared.optimizedIR
        } catch {
            irText = "; cannot regenerate the IR: \(error)"
            optimizedIRText = irText
        }
    }

    /// The host assembly of the optimised module (generated on first use by re-running the
    /// deterministic pipeline in a fresh context, so compiles do not pay for it).
    public var assembly: String {
        get throws {
            textLock.lock()
            defer { textLock.unlock() }
            if let assemblyText { return assemblyText }
            let machine = try TargetMachine()
            let text = try prepareAgain(machine: machine, keepText: false).module.assembly(machine: machine)
            assemblyText = text
            return text
        }
    }

    /// The `user_data` array: defaults overridden by name; an unknown name, or no value for a
    /// parameter declared without a default, is an error.
    public func parameterValues(_ overrides: [String: Double]) throws -> [Double] {
        for name in overrides.keys where !parameters.contains(where: { $0.name == name }) {
            throw KernelCallError.unknownParameter(name)
        }
        if let missing = parameters.first(where: { $0.isRequired && overrides[$0.name] == nil }) {
            throw KernelCallError.missingParameter(kernel: name, name: missing.name)
        }
        return parameters.map { overrides[$0.name] ?? $0.defaultValue }
    }

    /// The run-time error of the last failed call on this thread.
    func lastError() -> KernelRuntimeError {
        guard let failure = RuntimeFailureRecord.last else {
            return KernelRuntimeError("kernel \(name) failed", at: program.kernel.range)
        }
        return KernelRuntimeError(failure.message(program: program), at: failure.range)
    }

    /// "index 9 is out of range ... at line 3, column 12" for an error of this kernel.
    public func describe(_ error: KernelRuntimeError) -> String {
        guard let source else { return error.message }
        let location = source.location(of: error.range.start)
        return "\(error.message) at line \(location.line), column \(location.column)"
    }

    /// Calls a `@filter` kernel on one window.
    public func callFilter(values: [Double], parameters overrides: [String: Double] = [:]) throws -> Double {
        guard let callback = try filterCallback else { throw KernelCallError.wrongKind(expected: .filter, actual: kind) }
        var userData = try parameterValues(overrides)
        var buffer = values
        var result = 0.0
        let status = buffer.withUnsafeMutableBufferPointer { window in
            userData.withUnsafeMutableBytes { data in
                withExtendedLifetime(self) { callback(window.baseAddress, window.count, &result, data.baseAddress) }
            }
        }
        if status != 1 { throw lastError() }
        return result
    }

    /// Calls a `@line_filter` kernel: returns `out` (zeroed first, `outputLength` long).
    public func callLineFilter(line: [Double], outputLength: Int, parameters overrides: [String: Double] = [:]) throws -> [Double] {
        guard let callback = try lineFilterCallback else { throw KernelCallError.wrongKind(expected: .lineFilter, actual: kind) }
        guard outputLength >= 0 else { throw KernelCallError.sizeOutOfRange(outputLength) }
        var userData = try parameterValues(overrides)
        var input = line
        var output = [Double](repeating: .nan, count: outputLength)
        let status = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                userData.withUnsafeMutableBytes { data in
                    withExtendedLifetime(self) {
                        callback(inputBuffer.baseAddress, inputBuffer.count, outputBuffer.baseAddress,
                                 outputBuffer.count, data.baseAddress)
                    }
                }
            }
        }
        if status != 1 { throw lastError() }
        return output
    }

    /// Calls a `@transform` kernel: returns `in_coords` (zeroed first, `inputRank` long).
    public func callTransform(outputCoordinates: [Int], inputRank: Int, parameters overrides: [String: Double] = [:]) throws -> [Double] {
        guard let callback = try transformCallback else { throw KernelCallError.wrongKind(expected: .transform, actual: kind) }
        guard let outputRank = Int32(exactly: outputCoordinates.count) else {
            throw KernelCallError.sizeOutOfRange(outputCoordinates.count)
        }
        guard let rank = Int32(exactly: inputRank), rank >= 0 else { throw KernelCallError.sizeOutOfRange(inputRank) }
        var userData = try parameterValues(overrides)
        var coordinates = outputCoordinates
        var output = [Double](repeating: .nan, count: inputRank)
        let status = coordinates.withUnsafeMutableBufferPointer { coordinateBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                userData.withUnsafeMutableBytes { data in
                    withExtendedLifetime(self) {
                        callback(coordinateBuffer.baseAddress, outputBuffer.baseAddress, outputRank, rank, data.baseAddress)
                    }
                }
            }
        }
        if status != 1 { throw lastError() }
        return output
    }
}
