// The public entry point of code generation: a typed program in, a verified
// (optionally optimised) LLVM module with one exported SciPy-ABI wrapper out.

import Foundation
internal import CLLVM
import FilterLang

/// How to name and optimise generated code.
public struct CodegenOptions: Hashable, Sendable {
    /// The exported symbol of the ABI wrapper (unique within one JIT session).
    public var exportName: String
    /// Prefix of the internal function names.
    public var internalPrefix: String

    /// Creates options.
    public init(exportName: String, internalPrefix: String = "filterjit") {
        self.exportName = exportName
        self.internalPrefix = internalPrefix
    }
}

/// The optimisation pipelines chosen by measurement (see the compile benchmark and docs/status.md):
/// for fused kernels, O2 without loop unrolling and interleaving, which on LLVM 14 costs a fraction
/// of O3; for SciPy callbacks, a short function pipeline (inline, SROA, CSE, instcombine, LICM, GVN),
/// because O2's ~200 pass runs cost 2 ms on a callback of a few blocks and bought no speed there.
public struct OptimizationLevel: Hashable, Sendable {
    /// The new-pass-manager pipeline text of fused kernels, e.g. `default<O2>`.
    public var pipeline: String
    /// The pipeline text of SciPy-ABI callbacks.
    public var callbackPipeline: String
    /// The pipeline text of array functions (issue 15) with a loop to vectorise (the others use `callbackPipeline`,
    /// `Codegen.arrayFunctionPipeline(_:_:)`).
    public var arrayFunctionPipeline: String
    /// Loop and SLP vectorisation.
    public var vectorize: Bool
    /// Loop unrolling and interleaving.
    public var unrollAndInterleave: Bool

    /// Creates a level; callbacks use `callbackPipeline` when given, else `pipeline`.
    public init(pipeline: String, callbackPipeline: String? = nil, arrayFunctionPipeline: String? = nil, vectorize: Bool = true,
                unrollAndInterleave: Bool = false) {
        self.pipeline = pipeline
        self.callbackPipeline = callbackPipeline ?? pipeline
        self.arrayFunctionPipeline = arrayFunctionPipeline ?? pipeline
        self.vectorize = vectorize
        self.unrollAndInterleave = unrollAndInterleave
    }

    /// The callback pipeline of `standard`. Measured against `default<O2>` before LICM and the
    /// MemorySSA form of early CSE were added (for loops over `values`; 2048x2048 callback runs, one
    /// thread): `min(values)` 14.0 -> 14.3 ms, a loop with branches 31.1 -> 29.0 ms, a median
    /// 415 -> 420 ms; the first compile of a process 8-11 -> 6-7 ms (6.4 ms with this pipeline).
    public static let quickCallbackPipeline =
        "cgscc(inline),function(sroa,early-cse<memssa>,instcombine,simplifycfg,loop-mssa(licm),gvn,instcombine,simplifycfg)"

    /// The pipeline of array functions in `standard`: the callbacks' short pipeline plus what their loops need to
    /// vectorise (rotation, induction-variable simplification, the loop vectoriser). Measured against
    /// `default<O2>` (w15c, docs/status.md): optimisation of `addarr` 7.2 -> 3.8 ms, the same machine code speed
    /// for `addarr` (float64 and uint8, vectorised). Functions with no straight-line innermost loop (skan's
    /// `build_graph`) take `quickCallbackPipeline`, which made `build_graph` faster still (4.8 -> 3.9 ms).
    public static let arrayFunctionPipeline =
        "cgscc(inline),function(sroa,early-cse<memssa>,instcombine,simplifycfg,loop-mssa(licm),gvn,instcombine,simplifycfg,"
        + "loop(loop-rotate,indvars),loop-vectorize,instcombine,simplifycfg)"

    /// The default: `default<O2>` for fused kernels (vectorising, no unrolling or interleaving), the quick pipeline for
    /// callbacks, `arrayFunctionPipeline` for array functions.
    public static let standard = OptimizationLevel(pipeline: "default<O2>", callbackPipeline: quickCallbackPipeline,
                                                   arrayFunctionPipeline: arrayFunctionPipeline)
    /// No optimisation (the IR as lowered).
    public static let none = OptimizationLevel(pipeline: "")
}

/// Lowers typed programs to LLVM IR.
public enum Codegen {
    /// Builds and verifies the module of `program` in `context`.
    public static func lower(_ program: TypedProgram, options: CodegenOptions, in context: ThreadSafeContext) throws -> Module {
        let llvmContext = context.context
        guard let module = LLVMModuleCreateWithNameInContext(options.exportName, llvmContext) else {
            throw LLVMError("cannot create a module")
        }
        // From here `owned` disposes the module on any error.
        let owned = Module(handle: module, context: context)
        try validateShape(program)
        let emitter = Emitter(context: llvmContext, module: module)
        let lowering = ProgramLowering(program: program, emitter: emitter, prefix: options.internalPrefix)
        try lowering.lowerFunctions()
        if program.kind == .arrayFunction {
            try emitArrayFunctionWrapper(program, lowering: lowering, name: options.exportName)
        } else {
            try emitWrapper(program, lowering: lowering, name: options.exportName)
        }
        try owned.verify()
        return owned
    }

    /// Rejects programs whose kernel does not have the array parameters of its kind (a Sema bug).
    static func validateShape(_ program: TypedProgram) throws {
        guard program.functions.indices.contains(program.kernelIndex) else { throw LLVMError("kernel index out of range") }
        let kernel = program.kernel
        let expected: [ValueType]
        switch program.kind {
        case .filter: expected = [.floatArray]
        case .lineFilter: expected = [.floatArray, .floatArray]
        case .transform: expected = [.intArray, .floatArray]
        case .arrayFunction: return  // its parameters are its signature's (checked by the wrapper)
        }
        guard kernel.parameterCount >= expected.count, kernel.locals.count >= kernel.parameterCount,
              Array(kernel.locals.prefix(expected.count).map(\.type)) == expected else {
            throw LLVMError("kernel \(kernel.name) does not have the array parameters of a \(program.kind.rawValue)")
        }
        if program.kind == .filter && kernel.returnType != .float && kernel.returnType != .int && kernel.returnType != .bool {
            throw LLVMError("a filter kernel must return a number")
        }
        for parameter in program.parameters where !(expected.count..<kernel.parameterCount).contains(parameter.slot) {
            throw LLVMError("parameter \(parameter.name) has slot \(parameter.slot) outside the kernel's parameters")
        }
    }

    /// The exported wrapper with the SciPy ABI of the program's kind.
    private static func emitWrapper(_ program: TypedProgram, lowering: ProgramLowering, name: String) throws {
        let emitter = lowering.emitter
        let types = emitter.types
        let kernel = program.kernel
        let parameterTypes: [LLVMTypeRef]
        switch program.kind {
        case .filter: parameterTypes = [types.doublePointer, types.int64, types.doublePointer, types.bytePointer]
        case .lineFilter: parameterTypes = [types.doublePointer, types.int64, types.doublePointer, types.int64, types.bytePointer]
        case .transform: parameterTypes = [types.int64Pointer, types.doublePointer, types.int32, types.int32, types.bytePointer]
        case .arrayFunction: throw LLVMError("array functions have their own wrapper")
        }
        var parameters: [LLVMTypeRef?] = parameterTypes
        let type = parameters.withUnsafeMutableBufferPointer {
            LLVMFunctionType(types.int32, $0.baseAddress, UInt32($0.count), 0)
        }!
        let wrapper = LLVMAddFunction(emitter.module, name, type)!
        func parameter(_ index: UInt32) -> LLVMValueRef { LLVMGetParam(wrapper, index)! }
        let entry = LLVMAppendBasicBlockInContext(emitter.context, wrapper, "entry")!
        emitter.position(at: entry)
        let builder = emitter.builder

        // The arena: [first block, total elements], released on every exit below.
        let arenaType = LLVMArrayType(types.int64, 2)!
        let arenaStorage = LLVMBuildAlloca(builder, arenaType, "arena")!
        emitter.store(LLVMConstNull(arenaType), arenaStorage)
        let arena = LLVMBuildBitCast(builder, arenaStorage, types.bytePointer, "")!

        /// Negative lengths from a foreign caller would defeat the bounds checks: clamp to 0.
        func clamped(_ length: LLVMValueRef) -> LLVMValueRef {
            emitter.select(emitter.icmp(LLVMIntSLT, length, emitter.int64(0)), emitter.int64(0), length)
        }
        func zeroFill(_ pointer: LLVMValueRef, _ length: LLVMValueRef) {
            _ = emitter.loop(from: emitter.int64(0), to: length, carrying: []) { index, _ in
                emitter.store(emitter.double(0), emitter.elementAddress(types.double, pointer, index))
                return []
            }
        }

        var arguments: [LLVMValueRef] = [arena]
        var resultStorage: LLVMValueRef?
        let userData: LLVMValueRef
        switch program.kind {
        case .filter:
            let storage = LLVMBuildAlloca(builder, lowering.scalarType(kernel.returnType ?? .float), "result")!
            resultStorage = storage
            arguments += [storage, parameter(0), clamped(parameter(1))]
            userData = parameter(3)
        case .lineFilter:
            let outputLength = clamped(parameter(3))
            zeroFill(parameter(2), outputLength)
            arguments += [parameter(0), clamped(parameter(1)), parameter(2), outputLength]
            userData = parameter(4)
        case .transform:
            let outputRank = clamped(LLVMBuildSExt(builder, parameter(2), types.int64, "")!)
            let inputRank = clamped(LLVMBuildSExt(builder, parameter(3), types.int64, "")!)
            zeroFill(parameter(1), inputRank)
            arguments += [parameter(0), outputRank, parameter(1), inputRank]
            userData = parameter(4)
        case .arrayFunction:
            throw LLVMError("array functions have their own wrapper")
        }

        // Run-time parameters: user_data[k] in declaration order, or the defaults when it is NULL.
        let failure = LLVMAppendBasicBlockInContext(emitter.context, wrapper, "fail")!
        let values = LLVMBuildBitCast(builder, userData, types.doublePointer, "")!
        let isNull = LLVMBuildIsNull(builder, userData, "")!
        let arrayCount = program.kind.arrayParameterCount
        for slot in arrayCount..<kernel.parameterCount {
            let slotType = kernel.locals[slot].type
            guard let index = program.parameters.firstIndex(where: { $0.slot == slot }) else {
                throw LLVMError("kernel parameter slot \(slot) has no run-time parameter")
            }
            let declared = program.parameters[index]
            let fromCaller = emitter.block("param.load")
            let useDefault = emitter.block("param.default")
            let merge = emitter.block("param.merge")
            // A NULL user_data is never dereferenced: the load sits in its own block.
            emitter.branch(if: isNull, then: useDefault, else: fromCaller)
            emitter.position(at: fromCaller)
            let loaded = emitter.load(types.double, emitter.elementAddress(types.double, values, emitter.int64(Int64(index))))
            emitter.branch(to: merge)
            emitter.position(at: useDefault)
            if declared.isRequired {
                // No default to fall back on: fail, naming the parameter.
                let fail = emitter.declare("filterjit_fail", returning: types.void,
                                           [types.int32, types.int64, types.int64, types.int64, types.int64])
                emitter.call(fail, [emitter.int32(RuntimeFailureKind.missingParameter.rawValue),
                                    emitter.int64(Int64(kernel.range.start)), emitter.int64(Int64(kernel.range.end)),
                                    emitter.int64(Int64(index)), emitter.int64(0)])
                emitter.branch(to: failure)
            } else {
                emitter.branch(to: merge)
            }
            emitter.position(at: merge)
            var value = declared.isRequired
                ? emitter.phi(types.double, [(loaded, fromCaller)])
                : emitter.phi(types.double, [(loaded, fromCaller), (emitter.double(declared.defaultValue), useDefault)])
            var valueType = ValueType.float
            if declared.type == .int || declared.type == .bool {
                value = emitter.intParameter(value, index: index, kernel: kernel, failure: failure)
                valueType = .int
            }
            arguments.append(convert(value, from: valueType, to: slotType, emitter: emitter))
        }

        let ok = emitter.call(lowering.functions[program.kernelIndex], arguments)
        // Only kernels that allocate local arrays pay for releasing the arena.
        let release = lowering.usesArena
            ? emitter.declare("filterjit_release", returning: types.void, [types.bytePointer]) : nil
        if let release { emitter.call(release, [arena]) }
        let success = LLVMAppendBasicBlockInContext(emitter.context, wrapper, "success")!
        emitter.branch(if: ok, then: success, else: failure)
        emitter.position(at: success)
        if let resultStorage, let returnType = kernel.returnType {
            // SciPy always passes return_value; a NULL one is skipped rather than written.
            let returnValue = parameter(2)
            let result = convert(emitter.load(lowering.scalarType(returnType), resultStorage),
                                 from: returnType, to: .float, emitter: emitter)
            let store = emitter.block("store")
            let done = emitter.block("done")
            emitter.branch(if: LLVMBuildIsNull(builder, returnValue, "")!, then: done, else: store)
            emitter.position(at: store)
            emitter.store(result, returnValue)
            emitter.branch(to: done)
            emitter.position(at: done)
        }
        LLVMBuildRet(builder, emitter.int32(1))
        emitter.position(at: failure)
        // Releasing twice is harmless (the arena is emptied by the first release).
        if let release { emitter.call(release, [arena]) }
        LLVMBuildRet(builder, emitter.int32(0))
    }

    private static func convert(_ value: LLVMValueRef, from source: ValueType, to target: ValueType, emitter: Emitter) -> LLVMValueRef {
        let types = emitter.types
        switch (source, target) {
        case _ where source == target: return value
        case (.int, .float): return LLVMBuildSIToFP(emitter.builder, value, types.double, "")!
        case (.bool, .float): return LLVMBuildUIToFP(emitter.builder, value, types.double, "")!
        case (.bool, .int): return LLVMBuildZExt(emitter.builder, value, types.int64, "")!
        case (.int, .bool): return emitter.icmp(LLVMIntNE, value, emitter.int64(0))
        case (.float, .bool): return emitter.fcmp(LLVMRealUNE, value, emitter.double(0))
        default: return LLVMBuildFPToSI(emitter.builder, value, types.int64, "")!
        }
    }
}

/// The result of compiling a module to the point of being added to a JIT, with timings.
public struct PreparedModule {
    /// The module, verified and optimised.
    public let module: Module
    /// The IR as lowered.
    public let ir: String
    /// The IR after optimisation.
    public let optimizedIR: String
    /// Milliseconds spent lowering (and verifying).
    public let lowerMilliseconds: Double
    /// Milliseconds spent optimising.
    public let optimizeMilliseconds: Double
}

extension Codegen {
    /// Lowers, verifies and optimises `program` as a SciPy-ABI callback in a fresh context (safe to run on
    /// many threads at once), with the callbacks' pipeline.
    public static func prepare(_ program: TypedProgram, options: CodegenOptions, level: OptimizationLevel,
                               machine: TargetMachine, keepText: Bool = true) throws -> PreparedModule {
        try prepareStages(program, machine: machine, keepText: keepText,
                          lower: { try lower(program, options: options, in: $0) },
                          optimize: { try $0.optimize(pipeline: level.callbackPipeline, level: level, machine: machine) })
    }

    /// The stages every variant shares: lower into a fresh context (`lower`), check the size, adopt the
    /// target machine, optimise (`optimize`), each timed, with the texts when `keepText`.
    static func prepareStages(_ program: TypedProgram, machine: TargetMachine, keepText: Bool,
                              lower: (ThreadSafeContext) throws -> Module,
                              optimize: (Module) throws -> Void) throws -> PreparedModule {
        let context = ThreadSafeContext()
        let start = DispatchTime.now().uptimeNanoseconds
        let module = try lower(context)
        let ir = keepText ? module.text : ""
        let lowered = DispatchTime.now().uptimeNanoseconds
        try module.checkSize(kernelName: program.kernel.name)
        module.adopt(machine)
        try optimize(module)
        let optimizedIR = keepText ? module.text : ""
        let optimized = DispatchTime.now().uptimeNanoseconds
        return PreparedModule(module: module, ir: ir, optimizedIR: optimizedIR,
                              lowerMilliseconds: Double(lowered - start) / 1e6,
                              optimizeMilliseconds: Double(optimized - lowered) / 1e6)
    }
}

extension Module {
    /// Runs `pipeline` (none when empty) with `level`'s vectorisation and unrolling settings.
    func optimize(pipeline: String, level: OptimizationLevel, machine: TargetMachine) throws {
        guard !pipeline.isEmpty else { return }
        try optimize(pipeline: pipeline, machine: machine, vectorize: level.vectorize,
                     unrollAndInterleave: level.unrollAndInterleave)
    }
}

extension Emitter {
    /// A run-time parameter declared as an int, from its double in `user_data`: truncated toward zero;
    /// NaN, ±inf and values beyond the 64-bit range record `invalidParameter` and branch to `failure`
    /// (so `fptosi` only ever sees values it converts exactly). Shared by the ABI wrappers and fused kernels.
    func intParameter(_ value: LLVMValueRef, index: Int, kernel: TypedFunction, failure: LLVMBasicBlockRef) -> LLVMValueRef {
        let inRange = and(fcmp(LLVMRealOGE, value, double(-9.223372036854775808e18)),
                          fcmp(LLVMRealOLT, value, double(9.223372036854775808e18)))
        let ok = block("param.ok")
        let bad = block("param.bad")
        branch(if: inRange, then: ok, else: bad)
        position(at: bad)
        let fail = declare("filterjit_fail", returning: types.void,
                           [types.int32, types.int64, types.int64, types.int64, types.int64])
        call(fail, [int32(RuntimeFailureKind.invalidParameter.rawValue),
                    int64(Int64(kernel.range.start)), int64(Int64(kernel.range.end)),
                    int64(Int64(index)), LLVMBuildBitCast(builder, value, types.int64, "")!])
        branch(to: failure)
        position(at: ok)
        return LLVMBuildFPToSI(builder, value, types.int64, "")!
    }
}
