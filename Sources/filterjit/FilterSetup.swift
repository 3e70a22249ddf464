import FilterJIT
import FilterLang
import Foundation
import NDImage

/// Turns the command line's filter options into the driver's options for an input of some rank.
extension FilterOptionArguments {
    /// The generic_filter options; also SciPy's warning when both size and footprint are given.
    func filterOptions(rank: Int) throws -> (options: FilterOptions, warning: String?) {
        let axisList = try axes.map { try OptionParsing.integerList($0, name: "--axes") }
        let filteredRank = axisList?.count ?? rank
        var options = FilterOptions(mode: try BoundaryMode.parse(mode),
                                    cval: try OptionParsing.double(cval, name: "--cval"),
                                    origin: try OptionParsing.integerList(origin, name: "--origin"),
                                    axes: axisList)
        if let size {
            options.size = try OptionParsing.integerList(size, name: "--size")
        }
        if let footprint {
            options.footprint = try Footprint.named(footprint, rank: filteredRank)
        } else if size == nil {
            options.footprint = try Footprint.cross(rank: filteredRank)
        }
        return (options, options.ignoredSizeWarning)
    }

    /// The generic_filter1d options (`--line-size` is required).
    func lineFilterOptions() throws -> LineFilterOptions {
        guard let lineSize else {
            throw UserError("a @line_filter kernel needs --line-size N (the filter_size of generic_filter1d)")
        }
        let origins = try OptionParsing.integerList(origin, name: "--origin")
        guard origins.count == 1 else { throw UserError("--origin takes one integer for a @line_filter") }
        return LineFilterOptions(filterSize: lineSize, axis: axis, mode: try BoundaryMode.parse(mode),
                                 cval: try OptionParsing.double(cval, name: "--cval"), origin: origins[0])
    }

    /// Where the result goes: a new array of the input's type or of `--output-dtype`.
    func filterOutput() throws -> FilterOutput {
        guard let outputDType else { return .sameAsInput }
        return .elementType(try ElementType.parse(outputDType))
    }

    /// The engine to run with: `fused` (the default) or `callback`.
    func checkedEngine() throws -> String {
        try executionEngine().rawValue
    }

    /// The engine to run with, as the API names it.
    func executionEngine() throws -> ExecutionEngine {
        let name = engine ?? ExecutionEngine.fused.rawValue
        guard let chosen = ExecutionEngine(rawValue: name) else {
            throw UserError("--engine must be fused or callback, got '\(name)'")
        }
        return chosen
    }

    /// Rejects a thread count below one.
    func checkedThreads() throws -> Int {
        let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard count >= 1 else { throw UserError("--threads must be at least 1, got \(count)") }
        return count
    }
}

/// Runs a compiled kernel of kind `@filter` or `@line_filter` over `input` with the command line's options.
/// With `into`, the result is written into that preallocated array instead of a new one. With
/// `ignoringUndeclaredParameters` (the REPL's session-wide `:param`s), parameters the kernel does not
/// declare are skipped instead of being an error.
func applyKernel(_ kernel: Kernel, to input: NDArray, arguments: FilterOptionArguments,
                 into preallocated: NDArray? = nil, ignoringUndeclaredParameters: Bool = false) throws -> NDArray {
    let engine = try arguments.executionEngine()
    let threads = try arguments.checkedThreads()
    var parameters = try arguments.parameterValues()
    if ignoringUndeclaredParameters {
        parameters = parameters.filter { entry in kernel.parameters.contains { $0.name == entry.key } }
    }
    let output = try preallocated.map { FilterOutput.array($0) } ?? arguments.filterOutput()
    return try withProgress("running \(kernel.name)") {
        try dispatchKernel(kernel, to: input, arguments: arguments, output: output, parameters: parameters,
                           preallocated: preallocated, engine: engine, threads: threads)
    }
}

/// Calls the driver entry point for the kernel's kind.
private func dispatchKernel(_ kernel: Kernel, to input: NDArray, arguments: FilterOptionArguments, output: FilterOutput,
                            parameters: [String: Double], preallocated: NDArray?, engine: ExecutionEngine,
                            threads: Int) throws -> NDArray {
    switch kernel.kind {
    case .filter:
        let (options, warning) = try arguments.filterOptions(rank: input.rank)
        if let warning, preallocated == nil { printError("warning: \(warning)\n") }
        return try kernel.genericFilter(input, options: options, output: output, parameters: parameters,
                                        engine: engine, threads: threads)
    case .lineFilter:
        return try kernel.genericFilter1D(input, options: try arguments.lineFilterOptions(), output: output,
                                          parameters: parameters, engine: engine, threads: threads)
    case .transform:
        throw UserError("'\(kernel.name)' is a @transform kernel (for geometric_transform); run applies @filter and @line_filter kernels")
    }
}

/// Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP end the process with status 128 + signal (130 for Ctrl-C),
/// removing any half-written temporary first (the output's and the disk cache's), so an interrupted run
/// keeps a previous output intact and leaves nothing behind. Also sets the write-error policy.
func exitOnInterrupt() {
    exitOnSignals([SIGINT, SIGTERM, SIGHUP])
}

/// Makes each of `signals` remove the pending temporaries and end the process with 128 + signal.
func exitOnSignals(_ signals: [Int32]) {
    for signalNumber in signals {
        signal(signalNumber) { received in
            TemporaryFiles.removeAllForSignal()
            _exit(128 + received)
        }
    }
    ignoreFileSizeLimitSignal()
}

/// A write past `ulimit -f` then fails with EFBIG (a clear "cannot write" error, temporary removed)
/// instead of killing the process with SIGXFSZ and leaving the temporary behind.
func ignoreFileSizeLimitSignal() {
    signal(SIGXFSZ, SIG_IGN)
}

/// Writes an image file atomically: to a temporary file in the same directory, then renamed,
/// so a failed or interrupted run keeps the previous output and leaves no temporary behind.
func writeAtomically(_ array: NDArray, to path: String) throws {
    do {
        try ImageFile.write(array, path: path)
    } catch {
        throw UserError(error.description)
    }
}

/// Runs `body`, cancelling `engine`'s kernels once `seconds` have passed (every loop of a kernel polls
/// the flag); a run stopped that way is reported as a timeout rather than as "kernel cancelled".
func withTimeout<T>(_ seconds: Double?, cancelling engine: Engine, _ body: () throws -> T) throws -> T {
    guard let seconds else { return try body() }
    let expired = NSLock()
    nonisolated(unsafe) var didExpire = false
    let timer = DispatchSource.makeTimerSource(queue: .global())
    timer.schedule(deadline: .now() + seconds)
    timer.setEventHandler {
        expired.lock()
        didExpire = true
        expired.unlock()
        engine.cancel()
    }
    timer.resume()
    defer { timer.cancel() }
    do {
        return try body()
    } catch {
        expired.lock()
        let timedOut = didExpire
        expired.unlock()
        if timedOut { throw UserError("the kernel ran longer than --timeout \(seconds) s and was stopped") }
        throw error
    }
}
