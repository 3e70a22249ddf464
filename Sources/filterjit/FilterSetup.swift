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
        var options = FilterOptions(mode: try BoundaryMode.parse(mode ?? "reflect"),
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
        return LineFilterOptions(filterSize: lineSize, axis: axis, mode: try BoundaryMode.parse(mode ?? "reflect"),
                                 cval: try OptionParsing.double(cval, name: "--cval"), origin: origins[0])
    }

    /// The geometric_transform options (`mode` defaults to constant, as in SciPy).
    func interpolationOptions() throws -> InterpolationOptions {
        guard (0...5).contains(order) else { throw UserError("--order must be 0 to 5 (the spline order), got \(order)") }
        return InterpolationOptions(order: order, mode: try InterpolationMode.parse(mode ?? "constant"),
                                    cval: try OptionParsing.double(cval, name: "--cval"), prefilter: prefilter)
    }

    /// The `--output-shape` of a transform, nil when not given.
    func transformOutputShape() throws -> [Int]? {
        try outputShape.map { try OptionParsing.shape($0) }
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

    /// The window strategy (`--strategy`, default auto; `--fast-math` makes auto fast-math).
    func windowStrategy() throws -> WindowStrategyChoice {
        let name = strategy ?? WindowStrategyChoice.auto.rawValue
        guard let chosen = WindowStrategyChoice(rawValue: name) else {
            throw UserError("--strategy must be auto, literal or fast-math, got '\(name)'")
        }
        if fastMath {
            guard chosen != .literal else { throw UserError("--fast-math cannot be combined with --strategy literal") }
            return .fastMath
        }
        return chosen
    }

    /// Rejects a thread count below one.
    func checkedThreads() throws -> Int {
        let count = threads ?? RowThreads.processorCount
        guard count >= 1 else { throw UserError("--threads must be at least 1, got \(count)") }
        return count
    }
}

/// Runs a compiled kernel (`@filter`, `@line_filter`, or `@transform` through geometric_transform) over
/// `input` with the command line's options.
/// With `into`, the result is written into that preallocated array instead of a new one. With
/// `ignoringUndeclaredParameters` (the REPL's session-wide `:param`s), parameters the kernel does not
/// declare are skipped instead of being an error.
func applyKernel(_ kernel: Kernel, to input: NDArray, arguments: FilterOptionArguments,
                 into preallocated: NDArray? = nil, ignoringUndeclaredParameters: Bool = false,
                 threads threadOverride: Int? = nil, quiet: Bool = false) throws -> NDArray {
    let engine = try arguments.executionEngine()
    let threads = try threadOverride ?? arguments.checkedThreads()
    var parameters = try arguments.parameterValues()
    if ignoringUndeclaredParameters {
        parameters = parameters.filter { entry in kernel.parameters.contains { $0.name == entry.key } }
    }
    let output = try preallocated.map { FilterOutput.array($0) } ?? arguments.filterOutput()
    // A batch shows one progress line over files instead (and prints the size/footprint warning once).
    guard !quiet else {
        return try dispatchKernel(kernel, to: input, arguments: arguments, output: output, parameters: parameters,
                                  preallocated: preallocated, warn: false, engine: engine, threads: threads)
    }
    return try withProgress("running \(kernel.name)") {
        try dispatchKernel(kernel, to: input, arguments: arguments, output: output, parameters: parameters,
                           preallocated: preallocated, warn: preallocated == nil, engine: engine, threads: threads)
    }
}

/// Calls the driver entry point for the kernel's kind.
private func dispatchKernel(_ kernel: Kernel, to input: NDArray, arguments: FilterOptionArguments, output: FilterOutput,
                            parameters: [String: Double], preallocated: NDArray?, warn: Bool,
                            engine: ExecutionEngine, threads: Int) throws -> NDArray {
    switch kernel.kind {
    case .filter:
        let (options, warning) = try arguments.filterOptions(rank: input.rank)
        if let warning, warn { printError("warning: \(warning)\n") }
        return try kernel.genericFilter(input, options: options, output: output, parameters: parameters,
                                        engine: engine, strategy: try arguments.windowStrategy(), threads: threads)
    case .lineFilter:
        return try kernel.genericFilter1D(input, options: try arguments.lineFilterOptions(), output: output,
                                          parameters: parameters, engine: engine, threads: threads)
    case .transform:
        // Transforms run on FilterJIT's interpolating driver: the fused engine (default) runs the
        // kernel's coordinate code compiled into a row loop, the callback engine calls it per point.
        let shape = try preallocated?.shape ?? arguments.transformOutputShape()
        return try kernel.geometricTransform(input, outputShape: shape, output: output,
                                             options: try arguments.interpolationOptions(),
                                             parameters: parameters, engine: engine, threads: threads)
    case .arrayFunction:
        throw KernelCallError.wrongKind(expected: .filter, actual: kernel.kind)
    }
}

/// Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP end the process with status 128 + signal (130 for Ctrl-C),
/// removing any half-written temporary first (outputs, a batch's several outputs, the disk cache's
/// entry), so an interrupted run keeps previous outputs intact and leaves nothing behind. Also sets
/// the write-error policy.
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

/// Writes an image file atomically: to a registered temporary file in the same directory, then
/// renamed, so a failed or interrupted run keeps the previous output and leaves no temporary behind.
func writeAtomically(_ array: NDArray, to path: String, tiffTags: TIFFFile.Tags? = nil) throws {
    do {
        try ImageFile.write(array, path: path, tiffTags: tiffTags)
    } catch {
        throw UserError(error.description)
    }
}

/// The window strategy a `@filter` kernel runs with on `image` under these options (nil for
/// other kinds and for the callback engine, which always evaluates windows literally).
func windowStrategyReport(_ kernel: Kernel, image: NDArray, arguments: FilterOptionArguments) throws -> WindowStrategyReport? {
    guard kernel.kind == .filter, try arguments.executionEngine() == .fused else { return nil }
    let (options, _) = try arguments.filterOptions(rank: image.rank)
    var outputType: ElementType?
    if case .elementType(let type) = try arguments.filterOutput() { outputType = type }
    return try kernel.windowStrategy(shape: image.shape, elementType: image.elementType, options: options,
                                     strategy: try arguments.windowStrategy(), outputType: outputType,
                                     rowsContiguous: image.strides.last == image.elementType.itemSize)
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

/// Compiles (or loads) the code that running `kernel` on `image` with these options needs, and
/// returns what that cost; the run that follows then compiles nothing.
func prepareKernel(_ kernel: Kernel, for image: NDArray, arguments: FilterOptionArguments) throws -> PreparedRun {
    let outputType: ElementType?
    switch try arguments.filterOutput() {
    case .elementType(let type): outputType = type
    default: outputType = nil
    }
    switch kernel.kind {
    case .filter:
        let (options, _) = try arguments.filterOptions(rank: image.rank)
        return try kernel.prepareRun(shape: image.shape, elementType: image.elementType, outputType: outputType,
                                     options: options, engine: try arguments.executionEngine(),
                                     strategy: try arguments.windowStrategy())
    case .lineFilter:
        return try kernel.prepareRun(shape: image.shape, elementType: image.elementType, outputType: outputType,
                                     lineOptions: try arguments.lineFilterOptions(), engine: try arguments.executionEngine())
    case .transform:
        return try kernel.prepareRun(shape: image.shape, elementType: image.elementType,
                                     outputRank: try arguments.transformOutputShape()?.count,
                                     engine: try arguments.executionEngine())
    case .arrayFunction:
        throw KernelCallError.wrongKind(expected: .filter, actual: kernel.kind)
    }
}
