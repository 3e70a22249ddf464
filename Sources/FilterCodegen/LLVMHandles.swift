// Owning Swift wrappers over the LLVM C handles FilterJIT uses.
//
// Every wrapper disposes its handle in `deinit` unless ownership was handed to
// LLVM; the comment at each transfer says who owns what afterwards. Every
// `LLVMErrorRef` becomes a thrown `LLVMError` carrying LLVM's message.

import Foundation
internal import CLLVM

/// An error reported by LLVM, with its message.
/// A kernel whose LLVM IR, before optimisation, exceeds the instruction bound: LLVM's optimiser is
/// superlinear in function size (2,000 statements took 27 s to compile, 4,000 would take minutes), so
/// such a kernel is refused with this message instead.
public struct KernelTooLargeError: Error, CustomStringConvertible, Sendable {
    /// The kernel's name.
    public let kernelName: String
    /// The instructions its module has before optimisation.
    public let instructions: Int
    /// The bound it exceeded.
    public let limit: Int

    /// `$FILTERJIT_MAX_IR_INSTRUCTIONS` when set, else 40,000 (the examples need under 600; a fused
    /// 5x5 median about 1,200).
    public static var maximumInstructions: Int {
        if let text = getenv("FILTERJIT_MAX_IR_INSTRUCTIONS"), let value = Int(String(cString: text)), value > 0 {
            return value
        }
        return 40_000
    }

    public var description: String {
        "kernel '\(kernelName)' is too large to compile: its LLVM IR has \(instructions) instructions, more than the limit of \(limit) (FILTERJIT_MAX_IR_INSTRUCTIONS); use loops instead of repeated statements"
    }
}

public struct LLVMError: Error, CustomStringConvertible, Sendable {
    /// LLVM's message.
    public let message: String

    /// Creates an error with a message.
    public init(_ message: String) { self.message = message }

    public var description: String { "LLVM error: \(message)" }
}

/// Throws the message of `error` if it is not nil; consumes the error either way.
func throwIfError(_ error: LLVMErrorRef?) throws {
    guard let error else { return }
    // LLVMGetErrorMessage consumes the error; the string is ours to dispose.
    let cMessage = LLVMGetErrorMessage(error)
    let message = cMessage.map { String(cString: $0) } ?? "unknown LLVM error"
    LLVMDisposeErrorMessage(cMessage)
    throw LLVMError(message)
}

/// Copies an LLVM-allocated C string and disposes it.
func takeMessage(_ message: UnsafeMutablePointer<CChar>?) -> String {
    guard let message else { return "" }
    defer { LLVMDisposeMessage(message) }
    return String(cString: message)
}

/// One-time initialisation of the native target (thread-safe through `static let`).
public enum NativeTarget {
    private static let initialized: Bool = {
        // These return non-zero on failure; the native target is always linked into libLLVM.
        let failed = LLVMInitializeNativeTarget() != 0 || LLVMInitializeNativeAsmPrinter() != 0
            || LLVMInitializeNativeAsmParser() != 0
        return !failed
    }()

    /// Initialises the native target, asm printer and parser once per process.
    public static func initialize() throws {
        if !initialized { throw LLVMError("cannot initialise the native LLVM target") }
    }

    /// The LLVM version the package was built against (`major.minor.patch`).
    public static var llvmVersion: String {
        "\(LLVM_VERSION_MAJOR).\(LLVM_VERSION_MINOR).\(LLVM_VERSION_PATCH)"
    }
}

/// A host target machine (CPU name and features of this machine). Not thread-safe: one per thread.
public final class TargetMachine {
    let handle: LLVMTargetMachineRef
    /// The target triple.
    public let triple: String
    /// The host CPU name, e.g. `znver3`.
    public let cpuName: String
    /// The host CPU feature string.
    public let cpuFeatures: String
    /// The data layout string of this machine.
    let dataLayout: String

    /// Creates a target machine for the host, optimising aggressively, PIC, JIT code model.
    public init() throws {
        try NativeTarget.initialize()
        triple = takeMessage(LLVMGetDefaultTargetTriple())
        // The CPU name is only safe together with the matching feature string (an unknown CPU with
        // empty features is a fatal error in LLVM 14).
        cpuName = takeMessage(LLVMGetHostCPUName())
        cpuFeatures = takeMessage(LLVMGetHostCPUFeatures())
        var target: LLVMTargetRef?
        var errorMessage: UnsafeMutablePointer<CChar>?
        if LLVMGetTargetFromTriple(triple, &target, &errorMessage) != 0 || target == nil {
            throw LLVMError(takeMessage(errorMessage))
        }
        guard let machine = LLVMCreateTargetMachine(target, triple, cpuName, cpuFeatures,
                                                    LLVMCodeGenLevelAggressive, LLVMRelocPIC,
                                                    LLVMCodeModelJITDefault) else {
            throw LLVMError("cannot create a target machine for \(triple)")
        }
        handle = machine
        let layout = LLVMCreateTargetDataLayout(machine)
        dataLayout = takeMessage(LLVMCopyStringRepOfTargetData(layout))
        LLVMDisposeTargetData(layout)
    }

    /// Builds what LLVM creates lazily on a machine's first compile (the subtarget with its lowering
    /// and cost tables, the code generator's pass setup) by optimising and emitting an empty function.
    /// An engine does this when it starts, so that its first kernel compiles as fast as later ones.
    public func warmUp() throws {
        let context = ThreadSafeContext()
        guard let handle = LLVMModuleCreateWithNameInContext("filterjit_warm_up", context.context) else {
            throw LLVMError("cannot create a module")
        }
        let module = Module(handle: handle, context: context)
        module.adopt(self)
        let llvmContext = context.context
        let type = LLVMFunctionType(LLVMVoidTypeInContext(llvmContext), nil, 0, 0)
        let function = LLVMAddFunction(handle, "filterjit_warm_up", type)
        let builder = LLVMCreateBuilderInContext(llvmContext)
        defer { LLVMDisposeBuilder(builder) }
        LLVMPositionBuilderAtEnd(builder, LLVMAppendBasicBlockInContext(llvmContext, function, "entry"))
        LLVMBuildRetVoid(builder)
        try module.optimize(pipeline: "function(instcombine,simplifycfg)", machine: self)
        _ = try module.objectCode(machine: self)
    }

    deinit { LLVMDisposeTargetMachine(handle) }
}

/// An ORC thread-safe context: an `LLVMContext` that ORC may share with the JIT once a module is added.
public final class ThreadSafeContext {
    let handle: LLVMOrcThreadSafeContextRef
    /// The first error diagnostic LLVM reported in this context (a compile must then fail).
    let diagnostics = DiagnosticLog()

    /// Creates a fresh context.
    public init() {
        handle = LLVMOrcCreateNewThreadSafeContext()
        // LLVM's default handler prints remarks such as "loop not vectorized" (the pixel loop's width hint
        // counts as a request) to the user's stderr, and ends the process on an error diagnostic. Here
        // remarks, warnings and notes are dropped and the first error is kept, so that the compile fails
        // with it (`Module.throwIfDiagnosed`).
        LLVMContextSetDiagnosticHandler(context, { info, log in
            guard let info, let log, LLVMGetDiagInfoSeverity(info) == LLVMDSError else { return }
            let diagnostics = Unmanaged<DiagnosticLog>.fromOpaque(log).takeUnretainedValue()
            let message = takeMessage(LLVMGetDiagInfoDescription(info))
            if diagnostics.firstError == nil { diagnostics.firstError = message }
        }, Unmanaged.passUnretained(diagnostics).toOpaque())
    }

    /// The underlying context; valid while this object (or a module added to the JIT from it) lives.
    var context: LLVMContextRef { LLVMOrcThreadSafeContextGetContext(handle) }

    // The context is reference-counted by ORC: disposing our reference after a module from it was
    // added to the JIT is fine, the JIT keeps its own. The handler's log dies with this object, so the
    // context gets a handler without it first.
    deinit {
        LLVMContextSetDiagnosticHandler(context, { _, _ in }, nil)
        LLVMOrcDisposeThreadSafeContext(handle)
    }
}

/// Error diagnostics of one LLVM context (one compile runs in a context at a time).
final class DiagnosticLog {
    var firstError: String?
}

/// An LLVM module owned by Swift until it is handed to the JIT.
public final class Module {
    /// The module; nil once ownership moved to a thread-safe module.
    private(set) var handle: LLVMModuleRef?
    /// Keeps the context alive as long as the module is ours.
    let context: ThreadSafeContext

    init(handle: LLVMModuleRef, context: ThreadSafeContext) {
        self.handle = handle
        self.context = context
    }

    /// The textual IR.
    public var text: String {
        guard let handle else { return "" }
        return takeMessage(LLVMPrintModuleToString(handle))
    }

    /// The number of instructions in every function defined here.
    public var instructionCount: Int {
        guard let handle else { return 0 }
        var count = 0
        var function = LLVMGetFirstFunction(handle)
        while let current = function {
            var block = LLVMGetFirstBasicBlock(current)
            while let currentBlock = block {
                var instruction = LLVMGetFirstInstruction(currentBlock)
                while let currentInstruction = instruction {
                    count += 1
                    instruction = LLVMGetNextInstruction(currentInstruction)
                }
                block = LLVMGetNextBasicBlock(currentBlock)
            }
            function = LLVMGetNextFunction(current)
        }
        return count
    }

    /// Refuses a module too large to optimise in reasonable time (see `KernelTooLargeError`).
    public func checkSize(kernelName: String) throws {
        let count = instructionCount, limit = KernelTooLargeError.maximumInstructions
        if count > limit { throw KernelTooLargeError(kernelName: kernelName, instructions: count, limit: limit) }
    }

    /// Runs the verifier; throws its report.
    public func verify() throws {
        guard let handle else { throw LLVMError("module already handed over") }
        var message: UnsafeMutablePointer<CChar>?
        // LLVMReturnStatusAction: report through `message` instead of aborting.
        let broken = LLVMVerifyModule(handle, LLVMReturnStatusAction, &message)
        let report = takeMessage(message)
        if broken != 0 { throw LLVMError("invalid IR: \(report)") }
    }

    /// Sets the triple and data layout of `machine`, which the optimiser needs to vectorise.
    public func adopt(_ machine: TargetMachine) {
        guard let handle else { return }
        LLVMSetTarget(handle, machine.triple)
        LLVMSetDataLayout(handle, machine.dataLayout)
    }

    /// Runs a new-pass-manager pipeline (`default<O2>`) with knobs.
    public func optimize(pipeline: String, machine: TargetMachine, vectorize: Bool = true,
                         unrollAndInterleave: Bool = false) throws {
        guard let handle else { throw LLVMError("module already handed over") }
        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        LLVMPassBuilderOptionsSetLoopVectorization(options, vectorize ? 1 : 0)
        LLVMPassBuilderOptionsSetSLPVectorization(options, vectorize ? 1 : 0)
        LLVMPassBuilderOptionsSetLoopUnrolling(options, unrollAndInterleave ? 1 : 0)
        LLVMPassBuilderOptionsSetLoopInterleaving(options, unrollAndInterleave ? 1 : 0)
        try throwIfError(LLVMRunPasses(handle, pipeline, machine.handle, options))
        try throwIfDiagnosed()
    }

    /// Throws the first error diagnostic LLVM reported in this module's context.
    func throwIfDiagnosed() throws {
        if let error = context.diagnostics.firstError { throw LLVMError(error) }
    }

    /// The assembly `machine` emits for this module (emits from a clone, leaving this module untouched).
    public func assembly(machine: TargetMachine) throws -> String {
        guard let handle else { throw LLVMError("module already handed over") }
        // The clone is ours; dispose it after emission.
        guard let clone = LLVMCloneModule(handle) else { throw LLVMError("cannot clone module") }
        defer { LLVMDisposeModule(clone) }
        var message: UnsafeMutablePointer<CChar>?
        var buffer: LLVMMemoryBufferRef?
        if LLVMTargetMachineEmitToMemoryBuffer(machine.handle, clone, LLVMAssemblyFile, &message, &buffer) != 0 {
            throw LLVMError(takeMessage(message))
        }
        guard let buffer else { return "" }
        // The buffer is ours to dispose.
        defer { LLVMDisposeMemoryBuffer(buffer) }
        guard let start = LLVMGetBufferStart(buffer) else { return "" }
        let bytes = UnsafeRawBufferPointer(start: start, count: LLVMGetBufferSize(buffer))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The relocatable object code `machine` emits for this module (for the JIT and the disk cache).
    /// Emission runs codegen passes over the module, so call this last.
    public func objectCode(machine: TargetMachine) throws -> [UInt8] {
        guard let handle else { throw LLVMError("module already handed over") }
        var message: UnsafeMutablePointer<CChar>?
        var buffer: LLVMMemoryBufferRef?
        if LLVMTargetMachineEmitToMemoryBuffer(machine.handle, handle, LLVMObjectFile, &message, &buffer) != 0 {
            throw LLVMError(takeMessage(message))
        }
        guard let buffer else { throw LLVMError("no object code emitted") }
        if let error = context.diagnostics.firstError {
            LLVMDisposeMemoryBuffer(buffer)
            throw LLVMError(error)
        }
        // The buffer is ours to dispose; the bytes are copied out.
        defer { LLVMDisposeMemoryBuffer(buffer) }
        guard let start = LLVMGetBufferStart(buffer) else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: LLVMGetBufferSize(buffer)))
    }

    /// Hands the module to ORC; afterwards this object owns nothing.
    func takeThreadSafeModule() throws -> LLVMOrcThreadSafeModuleRef {
        guard let module = handle else { throw LLVMError("module already handed over") }
        handle = nil
        // Consumes `module`; the thread-safe module shares the context's reference count.
        return LLVMOrcCreateNewThreadSafeModule(module, context.handle)
    }

    deinit { if let handle { LLVMDisposeModule(handle) } }
}

/// One JIT resource (an ORC resource tracker): the code of one kernel, freed when this object dies.
public final class JITResource: @unchecked Sendable {
    private let tracker: LLVMOrcResourceTrackerRef
    /// Keeps the session (and so the LLJIT) alive while code it owns may run.
    private let session: JITSession

    init(tracker: LLVMOrcResourceTrackerRef, session: JITSession) {
        self.tracker = tracker
        self.session = session
    }

    deinit {
        // Frees the kernel's code; the session lock serialises this with other JIT work.
        let tracker = self.tracker
        session.withLock {
            if let error = LLVMOrcResourceTrackerRemove(tracker) { LLVMConsumeError(error) }
            LLVMOrcReleaseResourceTracker(tracker)
        }
    }
}

#if FILTERJIT_LLVM_14 || FILTERJIT_LLVM_15 || FILTERJIT_LLVM_16 || FILTERJIT_LLVM_17
/// LLVM renamed the symbol-map pair in 18.
typealias SymbolMapPair = LLVMJITCSymbolMapPair
#else
typealias SymbolMapPair = LLVMOrcCSymbolMapPair
#endif

/// An ORC LLJIT with runtime symbols registered; add and lookup are serialised by one lock,
/// because LLJIT's single compile thread is not safe for concurrent use from the C API.
public final class JITSession: @unchecked Sendable {
    private let jit: LLVMOrcLLJITRef
    // Recursive so that a resource released while the lock is held cannot deadlock.
    private let lock = NSRecursiveLock()

    /// Creates an LLJIT for the host, resolving libm and other process symbols, and defines
    /// `symbols` (name, address) as absolute symbols in its main library.
    public init(symbols: [(name: String, address: UnsafeRawPointer)]) throws {
        try NativeTarget.initialize()
        // The builder is consumed by LLVMOrcCreateLLJIT, even on error. The default builder detects
        // the host CPU and features, as our TargetMachine does.
        let builder = LLVMOrcCreateLLJITBuilder()
        var created: LLVMOrcLLJITRef?
        try throwIfError(LLVMOrcCreateLLJIT(&created, builder))
        guard let created else { throw LLVMError("LLJIT creation returned nothing") }
        jit = created
        let mainLibrary = LLVMOrcLLJITGetMainJITDylib(jit)

        // libm (exp, sin, ...) and the C library come from the process.
        var generator: LLVMOrcDefinitionGeneratorRef?
        try throwIfError(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
            &generator, LLVMOrcLLJITGetGlobalPrefix(jit), nil, nil))
        // The JITDylib takes ownership of the generator.
        if let generator { LLVMOrcJITDylibAddGenerator(mainLibrary, generator) }

        if !symbols.isEmpty {
            let flags = LLVMJITSymbolFlags(GenericFlags: UInt8(LLVMJITSymbolGenericFlagsExported.rawValue),
                                           TargetFlags: 0)
            var pairs = symbols.map { symbol in
                SymbolMapPair(
                    Name: LLVMOrcLLJITMangleAndIntern(created, symbol.name),
                    Sym: LLVMJITEvaluatedSymbol(Address: LLVMOrcExecutorAddress(UInt(bitPattern: symbol.address)),
                                                Flags: flags))
            }
            // The materialization unit takes over the interned names; JITDylibDefine consumes the unit.
            let unit = pairs.withUnsafeMutableBufferPointer {
                LLVMOrcAbsoluteSymbols($0.baseAddress, $0.count)
            }
            try throwIfError(LLVMOrcJITDylibDefine(mainLibrary, unit))
        }
    }

    deinit {
        if let error = LLVMOrcDisposeLLJIT(jit) { LLVMConsumeError(error) }
    }

    /// Runs `body` holding the session lock.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Adds `module` under a new resource tracker and looks up `symbol`; returns its address and
    /// the resource that owns the code. Machine code is generated here (at the lookup).
    public func add(_ module: Module, lookingUp symbol: String) throws -> (address: UInt, resource: JITResource) {
        let threadSafeModule = try module.takeThreadSafeModule()
        return try withLock {
            let mainLibrary = LLVMOrcLLJITGetMainJITDylib(jit)
            guard let tracker = LLVMOrcJITDylibCreateResourceTracker(mainLibrary) else {
                LLVMOrcDisposeThreadSafeModule(threadSafeModule)
                throw LLVMError("cannot create a resource tracker")
            }
            // The resource now owns the tracker: any failure below frees what was added.
            let resource = JITResource(tracker: tracker, session: self)
            // Consumes the thread-safe module, even on error.
            try throwIfError(LLVMOrcLLJITAddLLVMIRModuleWithRT(jit, tracker, threadSafeModule))
            var address: LLVMOrcExecutorAddress = 0
            try throwIfError(LLVMOrcLLJITLookup(jit, &address, symbol))
            if address == 0 { throw LLVMError("symbol \(symbol) resolved to address 0") }
            return (UInt(address), resource)
        }
    }

    /// Links relocatable object code (from `Module.objectCode`) under a new resource tracker and
    /// looks up `symbol`. Runtime and libm symbols resolve by name, as for IR modules.
    public func add(objectCode: [UInt8], lookingUp symbol: String) throws -> (address: UInt, resource: JITResource) {
        try withLock {
            let mainLibrary = LLVMOrcLLJITGetMainJITDylib(jit)
            guard let tracker = LLVMOrcJITDylibCreateResourceTracker(mainLibrary) else {
                throw LLVMError("cannot create a resource tracker")
            }
            let resource = JITResource(tracker: tracker, session: self)
            // The copy is owned by the buffer, which AddObjectFileWithRT consumes (even on error).
            let buffer = objectCode.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    LLVMCreateMemoryBufferWithMemoryRangeCopy($0.baseAddress, $0.count, "filterjit-object")
                }
            }
            try throwIfError(LLVMOrcLLJITAddObjectFileWithRT(jit, tracker, buffer))
            var address: LLVMOrcExecutorAddress = 0
            try throwIfError(LLVMOrcLLJITLookup(jit, &address, symbol))
            if address == 0 { throw LLVMError("symbol \(symbol) resolved to address 0") }
            return (UInt(address), resource)
        }
    }
}
