import FilterCodegen
import FilterLang
import NDImage

/// A kernel failed while filtering an image: which kernel, which output element, and why.
public struct KernelFailure: Error, CustomStringConvertible, Sendable {
    /// The kernel's name.
    public var kernelName: String
    /// The failing output element's index per axis (for a line filter: the line's first element).
    public var element: [Int]
    /// What the kernel reported, with its source location when known.
    public var reason: String

    public var description: String {
        "kernel '\(kernelName)' failed at element (\(element.map(String.init).joined(separator: ", "))): \(reason)"
    }
}

extension Kernel {
    /// The run-time error of this kernel's last failed call on the current thread, described with
    /// its source location.
    public func lastFailureDescription() -> String {
        guard let failure = RuntimeFailureRecord.last else { return "the kernel returned its error status" }
        return describe(KernelRuntimeError(failure.message(program: program), at: failure.range))
    }

    /// Runs `scipy.ndimage.generic_filter` with this `@filter` kernel.
    ///
    /// `parameters` sets run-time parameters by name (the others keep their defaults); an unknown
    /// name is an error. A failing kernel stops the run with a `KernelFailure` naming the element
    /// (the first in C order). `engine` chooses a fused whole-image kernel (the default; compiled
    /// once per element types, footprint and mode, and cached) or the SciPy callback ABI; both give
    /// the same bits. The fused engine splits rows across `threads` threads (nil: as many cores as the work keeps busy,
    /// `RowThreads.count`: a small image runs on the calling thread) and
    /// falls back to the callback engine for 0-d inputs and strides that are not a multiple of the
    /// element size; an output overlapping the input makes it read a private copy of the input. On the
    /// fused engine, `strategy: .auto` runs recognised whole-window reductions with NDImage's window strategies (same bits;
    /// docs/window-strategies.md), `.literal` evaluates every tap of every window, and `.fastMath` is
    /// `.auto` with float box sums and means in O(1) per pixel (the last bits may differ from the
    /// literal kernel's, within the bound docs/window-strategies.md states).
    public func genericFilter(_ input: NDArray, options: FilterOptions, output: FilterOutput = .sameAsInput,
                              parameters: [String: Double] = [:], engine: ExecutionEngine = .fused,
                              strategy: WindowStrategyChoice = .auto, threads: Int? = nil) throws -> NDArray {
        guard kind == .filter else { throw KernelCallError.wrongKind(expected: .filter, actual: kind) }
        var userData = try parameterValues(parameters)
        var output = output
        if engine == .fused {
            // Validate in the callback driver's order: geometry first, then the output.
            let geometry = try FilterGeometry(inputShape: input.shape, options: options)
            let result = try makeFilterOutput(output, shape: input.shape, inputType: input.elementType)
            if let fused = try fusedGenericFilter(input, options: options, result: result, userData: userData,
                                                  strategy: strategy, threads: threads, geometry: geometry) {
                return fused
            }
            output = .array(result)
        }
        // The callback driver: the fused engine's fallback, or the engine asked for.
        guard let callback = try filterCallback else { throw KernelCallError.wrongKind(expected: .filter, actual: kind) }
        return try runningCallbackDriver(userData: &userData, shape: input.shape) { data throws(NDImageError) in
            try NDImage.genericFilter(input: input, callback: callback, userData: data, options: options, output: output)
        }
    }

    /// Runs `scipy.ndimage.generic_filter1d` with this `@line_filter` kernel; `engine` and `threads`
    /// as for `genericFilter` (lines are split across threads).
    public func genericFilter1D(_ input: NDArray, options: LineFilterOptions, output: FilterOutput = .sameAsInput,
                                parameters: [String: Double] = [:], engine: ExecutionEngine = .fused,
                                threads: Int? = nil) throws -> NDArray {
        guard kind == .lineFilter else { throw KernelCallError.wrongKind(expected: .lineFilter, actual: kind) }
        var userData = try parameterValues(parameters)
        var output = output
        if engine == .fused {
            _ = try validatedLineFilterAxis(options, rank: input.rank)
            let result = try makeFilterOutput(output, shape: input.shape, inputType: input.elementType)
            if let fused = try fusedGenericFilter1D(input, options: options, result: result, userData: userData,
                                                    threads: threads) {
                return fused
            }
            output = .array(result)
        }
        guard let callback = try lineFilterCallback else { throw KernelCallError.wrongKind(expected: .lineFilter, actual: kind) }
        return try runningCallbackDriver(userData: &userData, shape: input.shape) { data throws(NDImageError) in
            try NDImage.genericFilter1D(input: input, callback: callback, userData: data, options: options, output: output)
        }
    }

    /// Runs a callback driver with `userData` as the ABI's parameter block, keeping this kernel's code
    /// alive, and turns a failing element into a `KernelFailure` naming it and the kernel's reason.
    private func runningCallbackDriver(userData: inout [Double], shape: [Int],
                                       _ driver: (UnsafeMutableRawPointer?) throws(NDImageError) -> NDArray) throws -> NDArray {
        try userData.withUnsafeMutableBytes { data in
            try withExtendedLifetime(self) {
                do {
                    return try driver(data.baseAddress)
                } catch NDImageError.callbackFailed(let flatIndex) {
                    throw KernelFailure(kernelName: name, element: Self.multiIndex(flatIndex, shape: shape),
                                        reason: lastFailureDescription())
                }
            }
        }
    }

    /// The C-order multi-index of a flat element index.
    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var remainder = max(flat, 0)
        var index = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = remainder % shape[axis]
            remainder /= shape[axis]
        }
        return index
    }
}

/// The code a run needs, compiled or loaded before the run (`Kernel.prepareRun`), with what it cost.
public struct PreparedRun: Sendable {
    /// The back end's stages spent by this call: zero when every piece was already compiled.
    public let timings: CompileTimings
    /// The variants this call compiled or loaded (empty: all cached, or nothing to compile).
    public let compiled: [KernelVariant]
    /// Whether every piece this call made came from the on-disk cache (false when it made none).
    public let loadedFromDiskCache: Bool
}

extension Kernel {
    /// Compiles (or loads) now the code that `genericFilter` / `genericFilter1D` / `geometricTransform`
    /// would compile for an input of `shape` and `elementType` (output `outputType`, nil: the same)
    /// with these options, engine and strategy, so that a caller can time the compile apart from the
    /// run (the REPL and `bench` do). For a `@transform`, `outputRank` is the output's rank (nil:
    /// the input's). The run then finds everything in the cache.
    public func prepareRun(shape: [Int], elementType: ElementType, outputType: ElementType? = nil,
                           outputRank: Int? = nil,
                           options: FilterOptions? = nil, lineOptions: LineFilterOptions? = nil,
                           engine: ExecutionEngine = .fused, strategy: WindowStrategyChoice = .auto) throws -> PreparedRun {
        var timings = CompileTimings()
        var compiled: [KernelVariant] = []
        var allFromDisk = true
        func record(_ kernel: Kernel, made: Bool) {
            guard made else { return }
            timings = timings + kernel.timings
            compiled.append(kernel.variant)
            allFromDisk = allFromDisk && kernel.loadedFromDiskCache
        }
        func callback() throws {
            let before = timings
            let spent = try prepareCode()
            timings = before + spent
            if spent != CompileTimings() {
                compiled.append(.callback)
                allFromDisk = allFromDisk && loadedFromDiskCache
            }
        }
        let output = outputType ?? elementType
        switch (kind, engine) {
        case (.filter, .fused) where !shape.isEmpty && !shape.contains(0):
            let geometry = try FilterGeometry(inputShape: shape, options: options ?? FilterOptions(size: [3]))
            if strategy != .literal, let recognized = chosenReductions(taps: geometry.taps, elementType: elementType,
                                                                        fastMath: strategy == .fastMath, outputType: output),
               strategy == .fastMath || !Self.exactBoxSumsCannotRun(geometry: geometry, shape: shape, elementType: elementType,
                                                                    recognized: recognized, outputType: output,
                                                                    rowsContiguous: true) {
                let fastSumDirect = strategy == .fastMath && elementType.isFloatingPoint && recognized.tailSum != nil
                    && output == elementType && Self.fastBoxSumApplies(taps: geometry.taps,
                                                                        reductions: recognized.reductions)
                if !(recognized.tailIsIdentity && WindowReductionJob.writesDirectly(recognized.reductions)) && !fastSumDirect {
                    let tail = try fusionEngine.compile(program: recognized.tail)
                    let made = try fusionEngine.kernelReportingCompile(tail, variant: .filterRow(FusedLayout(
                        inputType: .float64, outputType: FusedElementType(output), tapCount: recognized.reductions.count)))
                    record(made.kernel, made: made.made)
                }
            } else if RowKernelRun.canRun(elementType: elementType, geometry: geometry) {
                let layout = FusedLayout(inputType: FusedElementType(elementType), outputType: FusedElementType(output),
                                         tapCount: geometry.tapPositions.count)
                let made = try fusionEngine.kernelReportingCompile(self, variant: .filterRow(layout))
                record(made.kernel, made: made.made)
            } else {
                try callback()
            }
        case (.lineFilter, .fused) where !shape.isEmpty && !shape.contains(0):
            let line = lineOptions ?? LineFilterOptions(filterSize: 3)
            let axis = try validatedLineFilterAxis(line, rank: shape.count)
            let layout = FusedLayout(inputType: FusedElementType(elementType), outputType: FusedElementType(output),
                                     tapCount: line.filterSize)
            let made = try fusionEngine.kernelReportingCompile(self, variant: .lineFilter(layout))
            record(made.kernel, made: made.made)
            // The lanes kernel too, where a C-ordered run would take it (`LineRun.lanesCanRun`, for one thread).
            let lineCount = shape.reduce(1, *) / shape[axis]
            if runsLinesInLanes && Self.lineLanesEnabled && lineCount >= LineLanes.count
                && (axis == shape.count - 1 || shape[shape.count - 1] >= LineLanes.count) {
                let lanes = try fusionEngine.kernelReportingCompile(self, variant: .lineLanes(layout))
                record(lanes.kernel, made: lanes.made)
            }
        case (.transform, .fused) where !shape.isEmpty && (outputRank ?? shape.count) >= 1:
            let layout = TransformLayout(outputRank: outputRank ?? shape.count, inputRank: shape.count)
            let made = try fusionEngine.kernelReportingCompile(self, variant: .transform(layout))
            record(made.kernel, made: made.made)
        default:
            try callback()
        }
        return PreparedRun(timings: timings, compiled: compiled, loadedFromDiskCache: !compiled.isEmpty && allFromDisk)
    }
}

/// The input and output layouts (element types, shape, strides) a prepared call was planned for.
struct ArrayLayouts: Sendable {
    let inputType: ElementType
    let shape: [Int]
    let inputStrides: [Int]
    let outputType: ElementType
    let outputStrides: [Int]

    init(input: NDArray, output: NDArray) {
        inputType = input.elementType
        shape = input.shape
        inputStrides = input.strides
        outputType = output.elementType
        outputStrides = output.strides
    }

    /// Whether `input` and `output` are laid out as planned (their addresses may differ).
    func fit(_ input: NDArray, _ output: NDArray) -> Bool {
        input.elementType == inputType && input.shape == shape && input.strides == inputStrides
            && output.elementType == outputType && output.shape == shape && output.strides == outputStrides
    }
}

/// The geometry and window-strategy plan of a `PreparedGenericFilter`, passed to each run by reference.
final class PreparedWindowPlan: @unchecked Sendable {
    let geometry: FilterGeometry
    let strategy: WindowStrategyPlan

    init(geometry: FilterGeometry, strategy: WindowStrategyPlan) {
        self.geometry = geometry
        self.strategy = strategy
    }
}

/// A `generic_filter` call planned once for one input and output layout (element types, shape and
/// strides), mode, cval, origins, footprint, parameters, engine, strategy and threads, and then run on
/// any arrays of that layout: the arguments are validated and the window strategy (geometry, recognised
/// reductions, the reduction job) is planned at preparation, so a run only binds the arrays' addresses.
/// A run gives exactly what `Kernel.genericFilter` gives with the same arguments (it is that call
/// whenever the plan does not fit: another layout, an output sharing the input's memory whose private copy
/// has another layout, data a strategy declines).
public final class PreparedGenericFilter: @unchecked Sendable {
    public let kernel: Kernel
    let options: FilterOptions
    let parameters: [String: Double]
    let userData: [Double]
    let engine: ExecutionEngine
    let strategy: WindowStrategyChoice
    let threads: Int?
    let layouts: ArrayLayouts
    /// The fused engine's geometry and window-strategy plan (nil: the callback engine).
    let planned: PreparedWindowPlan?

    init(kernel: Kernel, input: NDArray, options: FilterOptions, output: NDArray, parameters: [String: Double],
         engine: ExecutionEngine, strategy: WindowStrategyChoice, threads: Int?) throws {
        guard kernel.kind == .filter else { throw KernelCallError.wrongKind(expected: .filter, actual: kernel.kind) }
        self.kernel = kernel
        self.options = options
        self.parameters = parameters
        self.userData = try kernel.parameterValues(parameters)
        self.engine = engine
        self.strategy = strategy
        self.threads = threads
        layouts = ArrayLayouts(input: input, output: output)
        if engine == .fused {
            // The checks of `genericFilter`, in its order.
            let geometry = try FilterGeometry(inputShape: input.shape, options: options)
            _ = try makeFilterOutput(.array(output), shape: input.shape, inputType: input.elementType)
            let plan: WindowStrategyPlan
            if strategy != .literal, input.rank >= 1, !input.isEmpty {
                plan = kernel.strategyPlan(input, geometry: geometry, result: output, fastMath: strategy == .fastMath)
            } else {
                plan = .inapplicable
            }
            planned = PreparedWindowPlan(geometry: geometry, strategy: plan)
        } else {
            planned = nil
        }
    }

    /// Runs the filter from `input` into `output` (which must have the input's shape), as
    /// `kernel.genericFilter(input, options:, output: .array(output), ...)` with the prepared arguments.
    public func run(_ input: NDArray, output: NDArray) throws {
        if let planned, layouts.fit(input, output),
           try kernel.fusedGenericFilter(input, options: options, result: output, userData: userData,
                                         strategy: strategy, threads: threads, planned: planned) != nil {
            return
        }
        _ = try kernel.genericFilter(input, options: options, output: .array(output), parameters: parameters,
                                     engine: engine, strategy: strategy, threads: threads)
    }
}

/// The fused engine's kernels of a prepared `generic_filter1d` call.
struct PreparedLineKernels {
    /// The line kernel.
    let lineKernel: Kernel
    /// Its lanes kernel (FilterCodegen/LineLanes.swift), nil where a run would not take one.
    let lanesKernel: Kernel?
    /// Whether the driver zeroes `out` before calling them.
    let zeroesOutput: Bool
}

/// A `generic_filter1d` call prepared for one input and output layout (element types, shape, strides):
/// the arguments validated once and, on the fused engine, the line kernel found once. A run gives exactly
/// what `Kernel.genericFilter1D` gives with the same arguments (it is that call for another layout).
public final class PreparedGenericFilter1D: @unchecked Sendable {
    public let kernel: Kernel
    let options: LineFilterOptions
    let parameters: [String: Double]
    let userData: [Double]
    let engine: ExecutionEngine
    let threads: Int?
    let layouts: ArrayLayouts
    /// The fused engine's line kernels (nil: the callback engine).
    let fused: PreparedLineKernels?

    init(kernel: Kernel, input: NDArray, options: LineFilterOptions, output: NDArray, parameters: [String: Double],
         engine: ExecutionEngine, threads: Int?) throws {
        guard kernel.kind == .lineFilter else { throw KernelCallError.wrongKind(expected: .lineFilter, actual: kernel.kind) }
        // The checks of `genericFilter1D`, in its order (on the callback engine its callback, compiled there).
        self.userData = try kernel.parameterValues(parameters)
        if engine == .callback, try kernel.lineFilterCallback == nil {
            throw KernelCallError.wrongKind(expected: .lineFilter, actual: kernel.kind)
        }
        _ = try validatedLineFilterAxis(options, rank: input.rank)
        _ = try makeFilterOutput(.array(output), shape: input.shape, inputType: input.elementType)
        if engine == .fused { _ = try resolvedThreads(threads) }
        let run = try LineRun(input: input, options: options, output: output)
        self.kernel = kernel
        self.options = options
        self.parameters = parameters
        self.engine = engine
        self.threads = threads
        layouts = ArrayLayouts(input: input, output: output)
        // (An empty input compiles nothing, as the call returns before its line kernel.)
        fused = engine == .fused && !input.isEmpty
            ? PreparedLineKernels(
                lineKernel: try kernel.fusedLineKernel(options, input: input.elementType, output: output.elementType),
                lanesKernel: run.lanesCanRun(count: LineLanes.count, threads: Kernel.lineThreadCount(threads, input: input, options: options))
                    ? try kernel.fusedLineLanesKernel(options, input: input.elementType, output: output.elementType) : nil,
                zeroesOutput: !Codegen.lineKernelStoresEveryOutputFirst(kernel.program))
            : nil
    }

    /// Runs the line filter from `input` into `output` (which must have the input's shape), as
    /// `kernel.genericFilter1D(input, options:, output: .array(output), ...)` with the prepared arguments.
    public func run(_ input: NDArray, output: NDArray) throws {
        if let fused, layouts.fit(input, output),
           try kernel.fusedGenericFilter1D(input, options: options, result: output, userData: userData,
                                           threads: threads, prepared: fused) != nil {
            return
        }
        _ = try kernel.genericFilter1D(input, options: options, output: .array(output), parameters: parameters,
                                       engine: engine, threads: threads)
    }
}

extension Kernel {
    /// Validates a `genericFilter1D` call (the same checks, the same errors) and prepares it for arrays laid
    /// out as `input` and `output` (see `PreparedGenericFilter1D`); the arrays' contents are not read.
    public func prepareGenericFilter1D(input: NDArray, options: LineFilterOptions, output: NDArray,
                                       parameters: [String: Double] = [:], engine: ExecutionEngine = .fused,
                                       threads: Int? = nil) throws -> PreparedGenericFilter1D {
        try PreparedGenericFilter1D(kernel: self, input: input, options: options, output: output, parameters: parameters,
                                    engine: engine, threads: threads)
    }

    /// Validates a `genericFilter` call (the same checks, the same errors) and plans it for arrays laid
    /// out as `input` and `output` (see `PreparedGenericFilter`); the arrays' contents are not read.
    public func prepareGenericFilter(input: NDArray, options: FilterOptions, output: NDArray,
                                     parameters: [String: Double] = [:], engine: ExecutionEngine = .fused,
                                     strategy: WindowStrategyChoice = .auto, threads: Int? = nil) throws -> PreparedGenericFilter {
        try PreparedGenericFilter(kernel: self, input: input, options: options, output: output, parameters: parameters,
                                  engine: engine, strategy: strategy, threads: threads)
    }
}
