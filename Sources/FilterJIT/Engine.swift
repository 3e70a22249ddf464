// Engine.compile: the compile driver. It reads like the pipeline it runs:
// parse, check, lower, verify, optimise, emit machine code; each stage timed.

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
    public let optimization: OptimizationLevel
    /// The on-disk cache of compiled kernels, if any.
    public let diskCache: DiskKernelCache?

    /// Receives warnings, e.g. a damaged disk-cache entry that was rebuilt (default: `warning: ...` on stderr).
    public var warningHandler: @Sendable (String) -> Void = { message in
        // write(2), not FileHandle: FileHandle traps when stderr is closed and SIGPIPE is ignored.
        let text = Array("warning: \(message)\n".utf8)
        _ = text.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    let session: JITSession
    let cancellation = CancellationFlag()
    private let lock = NSLock()
    /// The timings of the last fused compile (FusedKernel.swift), guarded by `fusedLogLock`.
    var lastFusedTimings: CompileTimings?
    var fusedCompiles = 0
    let fusedLogLock = NSLock()
    private var nextUniqueNumber = 0
    // Target machines are not thread-safe; each compile borrows one from this pool.
    private var machines: [TargetMachine] = []

    /// Starts an engine holding at most `cacheCapacity` kernels in memory, reading and writing
    /// compiled kernels in `diskCache` when given (e.g. `DiskKernelCache(directory: DiskKernelCache.defaultDirectory)`).
    public init(cacheCapacity: Int = 256, optimization: OptimizationLevel = .standard,
                diskCache: DiskKernelCache? = nil) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        self.cache = KernelCache(capacity: cacheCapacity)
        self.optimization = optimization
        self.diskCache = diskCache
        let flag = UnsafeRawPointer(cancellation.pointer)
        let symbols = Runtime.symbols.map { (name: $0.name, address: $0.address) }
            + [(name: "filterjit_cancel_flag", address: flag)]
        session = try JITSession(symbols: symbols)
        machines = [try TargetMachine()]
        startMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    // MARK: Cancellation

    /// Makes every running and future `while` loop of this engine's kernels fail with "cancelled".
    public func cancel() { cancellation.set(1) }

    /// Clears the cancellation flag.
    public func resetCancellation() { cancellation.set(0) }

    // MARK: Compiling

    /// Compiles `source` (a file's text or a one-line expression); the kernel is `function` or the
    /// last `def`. A compile error is thrown as the front end's `CompileError`.
    public func compile(_ source: String, function: String? = nil, fileName: String = "<expr>") throws -> Kernel {
        let signature = KernelSignature(source: source, function: function)
        return try cache.kernel(for: signature) {
            var timings = CompileTimings()
            let file = SourceFile(name: fileName, text: source)
            let parseStart = DispatchTime.now().uptimeNanoseconds
            _ = Parser.parse(file)
            let checkStart = DispatchTime.now().uptimeNanoseconds
            let checked = FrontEnd.check(file, function: function)
            let checkEnd = DispatchTime.now().uptimeNanoseconds
            timings.parse = Double(checkStart - parseStart) / 1e6
            // The front end parses again inside `check`; subtract our measurement of that.
            timings.check = max(0, Double(checkEnd - checkStart) / 1e6 - timings.parse)
            let program: TypedProgram
            switch checked {
            case .success(let typed): program = typed
            case .failure(let error): throw error
            }
            return try build(program, source: file, signature: signature, timings: timings)
        }
    }

    /// Compiles the file at `url`.
    public func compile(contentsOf url: URL, function: String? = nil) throws -> Kernel {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try compile(text, function: function, fileName: url.path)
    }

    /// Compiles an already checked program (tests, tools); cached by a digest of its dump.
    public func compile(program: TypedProgram) throws -> Kernel {
        let signature = KernelSignature(source: String(reflecting: program), kind: program.kind,
                                        specialization: "typed-program")
        return try cache.kernel(for: signature) {
            try build(program, source: nil, signature: signature, timings: CompileTimings())
        }
    }

    /// Lowers, optimises and JIT-compiles one checked program (or loads it from the disk cache).
    private func build(_ program: TypedProgram, source: SourceFile?, signature: KernelSignature,
                       timings: CompileTimings) throws -> Kernel {
        var timings = timings
        let symbol = Self.symbol(for: signature, name: program.kernel.name)
        let machine = try borrowMachine()
        defer { returnMachine(machine) }
        func kernel(_ linked: (address: UInt, resource: JITResource), ir: String?, optimizedIR: String?, fromDisk: Bool) -> Kernel {
            let made = Kernel(program: program, source: source, signature: signature, symbolName: symbol,
                              address: linked.address, ir: ir, optimizedIR: optimizedIR, timings: timings,
                              resource: linked.resource, cancellation: cancellation, optimization: optimization,
                              loadedFromDiskCache: fromDisk)
            // Fused specialisations of this kernel are compiled by (and cached in) this engine.
            made.engine = self
            return made
        }

        if let (linked, loadMilliseconds) = loadFromDiskCache(signature: signature, symbol: symbol, machine: machine) {
            timings.machineCode = loadMilliseconds
            return kernel(linked, ir: nil, optimizedIR: nil, fromDisk: true)
        }
        let prepared = try Codegen.prepare(program, options: CodegenOptions(exportName: symbol),
                                           level: optimization, machine: machine)
        timings.ir = prepared.lowerMilliseconds
        timings.optimize = prepared.optimizeMilliseconds
        let emitStart = DispatchTime.now().uptimeNanoseconds
        let linked = try link(prepared, signature: signature, symbol: symbol, machine: machine, name: program.kernel.name)
        timings.machineCode = Double(DispatchTime.now().uptimeNanoseconds - emitStart) / 1e6
        return kernel(linked, ir: prepared.ir, optimizedIR: prepared.optimizedIR, fromDisk: false)
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

    /// Emits and links a prepared module; with an on-disk cache, the object code is emitted once with
    /// our target machine, stored under `signature`, and that same object is linked.
    func link(_ prepared: PreparedModule, signature: KernelSignature, symbol: String, machine: TargetMachine,
              name: String) throws -> (address: UInt, resource: JITResource) {
        guard let diskCache else { return try session.add(prepared.module, lookingUp: symbol) }
        let objectCode = try prepared.module.objectCode(machine: machine)
        let key = DiskKernelCache.key(for: signature, machine: machine, optimization: optimization)
        diskCache.store(key: key, objectCode: objectCode, symbol: symbol, kernelName: name)
        return try session.add(objectCode: objectCode, lookingUp: symbol)
    }

    /// `filterjit_u<N>_<name>`: a session-unique name for code that has no signature of its own.
    func uniqueSymbol(for name: String) -> String {
        lock.lock()
        nextUniqueNumber += 1
        let number = nextUniqueNumber
        lock.unlock()
        return "filterjit_u\(number)_\(Self.cleanedName(name))"
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
