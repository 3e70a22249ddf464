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

    let session: JITSession
    let cancellation = CancellationFlag()
    private let lock = NSLock()
    /// The timings of the last fused compile (FusedKernel.swift), guarded by `fusedLogLock`.
    var lastFusedTimings: CompileTimings?
    let fusedLogLock = NSLock()
    private var nextKernelNumber = 0
    // Target machines are not thread-safe; each compile borrows one from this pool.
    private var machines: [TargetMachine] = []

    /// Starts an engine holding at most `cacheCapacity` kernels in its cache.
    public init(cacheCapacity: Int = 256, optimization: OptimizationLevel = .standard) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        self.cache = KernelCache(capacity: cacheCapacity)
        self.optimization = optimization
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

    /// Lowers, optimises and JIT-compiles one checked program.
    private func build(_ program: TypedProgram, source: SourceFile?, signature: KernelSignature,
                       timings: CompileTimings) throws -> Kernel {
        var timings = timings
        let symbol = uniqueSymbol(for: program.kernel.name)
        let machine = try borrowMachine()
        defer { returnMachine(machine) }
        let prepared = try Codegen.prepare(program, options: CodegenOptions(exportName: symbol),
                                           level: optimization, machine: machine)
        timings.ir = prepared.lowerMilliseconds
        timings.optimize = prepared.optimizeMilliseconds
        let emitStart = DispatchTime.now().uptimeNanoseconds
        let (address, resource) = try session.add(prepared.module, lookingUp: symbol)
        timings.machineCode = Double(DispatchTime.now().uptimeNanoseconds - emitStart) / 1e6
        let kernel = Kernel(program: program, source: source, signature: signature, symbolName: symbol,
                            address: address, ir: prepared.ir, optimizedIR: prepared.optimizedIR, timings: timings,
                            resource: resource, cancellation: cancellation, optimization: optimization)
        // Fused specialisations of this kernel are compiled by (and cached in) this engine.
        kernel.engine = self
        return kernel
    }

    /// `filterjit_k<N>_<name>`: unique in the session, readable in assembly and profiles.
    func uniqueSymbol(for name: String) -> String {
        lock.lock()
        nextKernelNumber += 1
        let number = nextKernelNumber
        lock.unlock()
        let cleaned = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_") ? Character(scalar) : "_"
        })
        return "filterjit_k\(number)_\(cleaned)"
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
