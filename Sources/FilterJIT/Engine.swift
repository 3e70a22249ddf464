// Engine: one LLVM JIT session, the kernel cache and the disk cache. `compile` runs the front end of
// the compile pipeline (CompilePipeline.swift); each kernel's code is compiled by its back end on first use.

import Foundation
import FilterLang
import FilterParser
import FilterSema
import FilterCodegen

/// Compiles filter programs to native kernels through LLVM's ORC JIT. Thread-safe: many threads
/// may compile and call at once (IR building and optimisation run in parallel; only adding to the
/// JIT and looking up the symbol are serialised).
public final class Engine: @unchecked Sendable {
    /// Milliseconds this engine took to start (target initialisation, LLJIT, runtime symbols).
    public let startMilliseconds: Double
    /// The kernel cache.
    public let cache: KernelCache
    /// The optimisation pipeline used for new kernels.
    public var optimization: OptimizationLevel { generator.optimization }
    /// The on-disk cache of compiled kernels, if any.
    public var diskCache: DiskKernelCache? { generator.diskCache }

    /// Receives warnings, e.g. a damaged disk-cache entry that was rebuilt (default: `warning: ...` on stderr).
    public var warningHandler: @Sendable (String) -> Void {
        get { generator.warningHandler }
        set { generator.warningHandler = newValue }
    }

    /// The back end's session, disk cache and target machines; kernels hold it too, so that their
    /// code can still be compiled (in this engine's JIT) after the engine itself is gone.
    let generator: CodeGenerator
    let cancellation = CancellationFlag()

    /// Starts an engine holding at most `cacheCapacity` kernels in memory, reading and writing
    /// compiled kernels in `diskCache` when given (e.g. `DiskKernelCache(directory: DiskKernelCache.defaultDirectory)`).
    public init(cacheCapacity: Int = 256, optimization: OptimizationLevel = .standard,
                diskCache: DiskKernelCache? = nil) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        self.cache = KernelCache(capacity: cacheCapacity)
        let flag = UnsafeRawPointer(cancellation.pointer)
        let symbols = Runtime.symbols.map { (name: $0.name, address: $0.address) }
            + [(name: "filterjit_cancel_flag", address: flag)]
        generator = try CodeGenerator(session: try JITSession(symbols: symbols), diskCache: diskCache,
                                      optimization: optimization)
        startMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    // MARK: Cancellation

    /// Makes every running and future `while` loop of this engine's kernels fail with "cancelled".
    public func cancel() { cancellation.set(1) }

    /// Clears the cancellation flag.
    public func resetCancellation() { cancellation.set(0) }

    // MARK: Compiling

    /// Checks `source` (a file's text or a one-line expression); the kernel is `function` or the
    /// last `def`. A compile error is thrown as the front end's `CompileError`. The machine code of
    /// each variant (the SciPy callback, fused kernels) is compiled when first needed (`Kernel.prepareCode`).
    /// `undecoratedKind` is what an undecorated kernel def is (nil or `.filter`: a filter; `.lineFilter` and
    /// `.transform` for text given to generic_filter1d / geometric_transform, as SciPy takes a plain
    /// function there); a decorator or the one-line form decides by itself.
    public func compile(_ source: String, function: String? = nil, fileName: String = "<expr>",
                        undecoratedKind: KernelKind? = nil) throws -> Kernel {
        // Array functions are checked per call signature (compileFunction); here an undecorated def is a filter.
        let requested = undecoratedKind == .lineFilter || undecoratedKind == .transform ? undecoratedKind : nil
        let signature = KernelSignature(source: source, function: function, kind: requested)
        return try cache.kernel(for: signature) {
            let file = SourceFile(name: fileName, text: source)
            let (program, timings) = try CompilePipeline.frontEnd(file, function: function, undecoratedKind: requested)
            return makeKernel(program, source: file, signature: signature, frontEndTimings: timings, code: nil)
        }
    }

    /// Compiles the file at `url`.
    public func compile(contentsOf url: URL, function: String? = nil) throws -> Kernel {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try compile(text, function: function, fileName: url.path)
    }

    /// Compiles an already checked program (tests, tools, strategy tails); cached by a digest of its
    /// dump. The program is verified first.
    public func compile(program: TypedProgram) throws -> Kernel {
        let signature = KernelSignature(source: String(reflecting: program), kind: program.kind, fromTypedProgram: true)
        return try cache.kernel(for: signature) {
            var timings = CompileTimings()
            try CompilePipeline.verify(program, timings: &timings)
            return makeKernel(program, source: nil, signature: signature, frontEndTimings: timings, code: nil)
        }
    }

    /// The kernel of `base`'s program compiled for `variant`, from the cache or compiled now.
    func kernel(_ base: Kernel, variant: KernelVariant) throws -> Kernel {
        try kernelReportingCompile(base, variant: variant).kernel
    }

    /// `kernel(_:variant:)`, saying whether this call made it (compiled or loaded it from disk).
    func kernelReportingCompile(_ base: Kernel, variant: KernelVariant) throws -> (kernel: Kernel, made: Bool) {
        let signature = base.signature.with(variant: variant)
        var made = false
        let kernel = try cache.kernel(for: signature) {
            made = true
            let symbol = Self.symbol(for: signature, name: base.name + Self.symbolSuffix(variant))
            let code = try CompilePipeline.backEnd(base.program, variant: variant, signature: signature,
                                                   symbol: symbol, generator: generator)
            return makeKernel(base.program, source: base.source, signature: signature, frontEndTimings: CompileTimings(),
                              code: code)
        }
        return (kernel, made)
    }

    /// `_fused` for fused variants (so `cache --list` tells them from callbacks), nothing for callbacks.
    static func symbolSuffix(_ variant: KernelVariant) -> String {
        switch variant {
        case .callback: return ""
        case .arrayFunction: return "_array"
        case .filterRow, .lineFilter, .lineLanes, .transform: return "_fused"
        }
    }

    func makeKernel(_ program: TypedProgram, source: SourceFile?, signature: KernelSignature,
                    frontEndTimings: CompileTimings, code: LinkedCode?) -> Kernel {
        Kernel(program: program, source: source, signature: signature,
               symbolName: Self.symbol(for: signature, name: program.kernel.name + Self.symbolSuffix(signature.variant)), code: code,
               frontEndTimings: frontEndTimings, cancellation: cancellation, generator: generator, engine: self)
    }

    /// `name` with every character outside [A-Za-z0-9_] replaced by `_`.
    static func cleanedName(_ name: String) -> String {
        String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_") ? Character(scalar) : "_"
        })
    }

    /// `filterjit_<signature key>_<name>`: a function of the signature alone, so that object files
    /// from the disk cache link under the same name in any process; unique within a session
    /// because the cache holds at most one live kernel per signature.
    static func symbol(for signature: KernelSignature, name: String) -> String {
        "filterjit_\(signature.stableKey.prefix(20))_\(cleanedName(name))"
    }
}

/// What compiling machine code needs: the JIT session, the disk cache, the optimisation level and a
/// pool of target machines (not thread-safe: each compile borrows one).
final class CodeGenerator: @unchecked Sendable {
    let session: JITSession
    let diskCache: DiskKernelCache?
    let optimization: OptimizationLevel
    private let lock = NSLock()
    private var machines: [TargetMachine] = []
    private var handler: @Sendable (String) -> Void = { message in
        // write(2), not FileHandle: FileHandle traps when stderr is closed and SIGPIPE is ignored.
        let text = Array("warning: \(message)\n".utf8)
        _ = text.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    init(session: JITSession, diskCache: DiskKernelCache?, optimization: OptimizationLevel) throws {
        self.session = session
        self.diskCache = diskCache
        self.optimization = optimization
        let machine = try TargetMachine()
        try machine.warmUp()
        machines = [machine]
    }

    /// Receives warnings (see `Engine.warningHandler`).
    var warningHandler: @Sendable (String) -> Void {
        get { lock.lock(); defer { lock.unlock() }; return handler }
        set { lock.lock(); handler = newValue; lock.unlock() }
    }

    /// Links `symbol` from the on-disk cache when it holds a verified entry for `signature`; returns
    /// the linked code and the milliseconds the load took, or nil (a damaged entry is reported to
    /// `warningHandler` and removed, and the caller compiles).
    func loadFromDiskCache(signature: KernelSignature, symbol: String, machine: TargetMachine)
        -> (linked: (address: UInt, resource: JITResource), milliseconds: Double)?
    {
        guard let diskCache else { return nil }
        let key = DiskKernelCache.key(for: signature, machine: machine, optimization: optimization)
        switch diskCache.load(key: key) {
        case .hit(let objectCode, let storedSymbol) where storedSymbol == symbol:
            let loadStart = DispatchTime.now().uptimeNanoseconds
            // A verified file LLVM still refuses falls through to a normal compile (which overwrites it).
            guard let linked = try? session.add(objectCode: objectCode, lookingUp: symbol) else { return nil }
            return (linked, Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6)
        case .corrupt(let problem):
            warningHandler(problem)
            return nil
        case .hit, .miss:
            return nil
        }
    }

    /// Emits the prepared module's object code with `machine` (the target machine that optimised it, so
    /// its subtarget is built once per process rather than once more inside ORC's compile layer: about a
    /// third of a first callback compile), stores it in the on-disk cache when there is one, and links it.
    func link(_ prepared: PreparedModule, signature: KernelSignature, symbol: String, machine: TargetMachine,
              name: String) throws -> (address: UInt, resource: JITResource) {
        let objectCode = try prepared.module.objectCode(machine: machine)
        if let diskCache {
            let key = DiskKernelCache.key(for: signature, machine: machine, optimization: optimization)
            diskCache.store(key: key, objectCode: objectCode, symbol: symbol, kernelName: name)
        }
        return try session.add(objectCode: objectCode, lookingUp: symbol)
    }

    func borrowMachine() throws -> TargetMachine {
        lock.lock()
        if let machine = machines.popLast() {
            lock.unlock()
            return machine
        }
        lock.unlock()
        return try TargetMachine()
    }

    func returnMachine(_ machine: TargetMachine) {
        lock.lock()
        machines.append(machine)
        lock.unlock()
    }
}
