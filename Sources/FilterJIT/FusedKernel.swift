// The fused engine: row kernels compiled for the element types and window length (line kernels for
// the filter size), cached by variant, and run by NDImage's one row driver (RowKernelRun) or line
// driver (LineRun), which own validation, boundary modes, strides and threads. This file only chooses
// the variant and hands the compiled address to the driver (see FilterCodegen/FusedLowering.swift).

import Foundation
import FilterCodegen
import FilterLang
import KernelABI
import NDImage

/// How `genericFilter` and `genericFilter1D` run a kernel.
public enum ExecutionEngine: String, Sendable, CaseIterable {
    /// A whole-image kernel compiled for the element types, footprint and mode (the default); for a
    /// `@transform`, the coordinate code compiled into a loop over a row's points.
    /// Inputs it cannot handle (0-d arrays, strides that are not a multiple of the element size) run
    /// on the callback engine instead, with the same result; an output overlapping the input makes it
    /// read a private copy of the input.
    case fused
    /// The SciPy callback ABI driven by the NDImage driver: the baseline the fused engine equals.
    case callback
}

/// The code of a fused kernel (`Kernel.fusedCode`), for `filterjit show`.
public struct FusedCode: Sendable {
    /// The LLVM IR as lowered.
    public let ir: String
    /// The LLVM IR after optimisation.
    public let optimizedIR: String
    /// The host assembly.
    public let assembly: String
}


extension Engine {
    /// An engine for kernels whose own engine is gone (variants need one to compile in).
    static let fallbackForFusion: Engine? = try? Engine()
}

extension FusedElementType {
    /// The code generator's name for an NDImage element type (both are KernelABI codes underneath).
    init(_ type: ElementType) {
        self.init(abiCode: type.abiCode)
    }
}

/// Strides in elements, or nil when some stride is not a multiple of the element size.
func elementStrides(_ array: NDArray) -> [Int]? {
    let size = array.elementType.itemSize
    guard array.strides.allSatisfy({ $0 % size == 0 }) else { return nil }
    return array.strides.map { $0 / size }
}

/// `count` items in at most `threads` contiguous ranges (the drivers' one splitter, `RowThreads`).
func chunks(_ count: Int, threads: Int) -> [Range<Int>] { RowThreads.chunks(count, threads: threads) }

/// Runs `body(0..<count)` on worker threads (`RowThreads.forEach`).
func parallelFor(_ count: Int, _ body: (Int) -> Void) { RowThreads.forEach(count, body) }

/// `threads` checked, or every core when nil (the filters then choose by work: `RowThreads.count`).
func resolvedThreads(_ threads: Int?) throws -> Int { try RowThreads.resolved(threads) }

/// The first failing element (flat index) of a threaded run and the kernel's reason.
typealias FailureBox = FirstFailure<(element: Int, reason: String)>

extension Kernel {
    /// The engine to compile fused specialisations in.
    var fusionEngine: Engine {
        get throws {
            if let engine { return engine }
            if let engine = Engine.fallbackForFusion { return engine }
            throw LLVMError("cannot start an engine for fused kernels")
        }
    }

    /// The fused row kernel for `geometry` and these element types (cached by variant). The code
    /// depends on the element types and the tap count only: mode, cval, origin, the window's shape
    /// and the tap offsets are run-time arguments, so one compile serves them all.
    func fusedFilterKernel(_ geometry: FilterGeometry, input: ElementType, output: ElementType) throws -> Kernel {
        let layout = FusedLayout(inputType: FusedElementType(input), outputType: FusedElementType(output),
                                 tapCount: geometry.tapPositions.count)
        return try fusionEngine.kernel(self, variant: .filterRow(layout))
    }

    /// The fused line kernel for `options` and these element types (cached by variant; the mode,
    /// cval and origin are run-time arguments).
    func fusedLineKernel(_ options: LineFilterOptions, input: ElementType, output: ElementType) throws -> Kernel {
        let layout = FusedLayout(inputType: FusedElementType(input), outputType: FusedElementType(output),
                                 tapCount: options.filterSize)
        return try fusionEngine.kernel(self, variant: .lineFilter(layout))
    }

    /// Whether lanes kernels run at all (`FILTERJIT_LINE_LANES=0` turns them off: every line one at a time, for
    /// comparisons).
    static let lineLanesEnabled = ProcessInfo.processInfo.environment["FILTERJIT_LINE_LANES"] != "0"

    /// The fused line kernel over `LineLanes.count` lines at once (FilterCodegen/LineLanes.swift) for
    /// `options` and these element types, or nil when this kernel's lines do not run in lanes. (A run takes
    /// it only where `LineRun.lanesCanRun`: compile it only then.)
    func fusedLineLanesKernel(_ options: LineFilterOptions, input: ElementType, output: ElementType) throws -> Kernel? {
        guard runsLinesInLanes, Self.lineLanesEnabled else { return nil }
        let layout = FusedLayout(inputType: FusedElementType(input), outputType: FusedElementType(output),
                                 tapCount: options.filterSize)
        return try fusionEngine.kernel(self, variant: .lineLanes(layout))
    }

    /// The code of the fused kernel this `@filter` (with `options`), `@line_filter` (with
    /// `lineOptions`) or `@transform` (output rank `outputRank`, nil: the input's) kernel runs on
    /// images of `shape` and `elementType` (output `outputType`, nil: the same): LLVM IR before and
    /// after optimisation, and the host assembly.
    public func fusedCode(shape: [Int], elementType: ElementType, outputType: ElementType? = nil,
                          options: FilterOptions? = nil, lineOptions: LineFilterOptions? = nil,
                          outputRank: Int? = nil) throws -> FusedCode {
        let fused: Kernel
        let output = outputType ?? elementType
        switch kind {
        case .filter:
            let geometry = try FilterGeometry(inputShape: shape, options: options ?? FilterOptions(size: [3]))
            fused = try fusedFilterKernel(geometry, input: elementType, output: output)
        case .lineFilter:
            let line = lineOptions ?? LineFilterOptions(filterSize: 3)
            _ = try validatedLineFilterAxis(line, rank: shape.count)
            fused = try fusedLineKernel(line, input: elementType, output: output)
        case .transform:
            guard let transform = try fusedTransformKernel(outputRank: outputRank ?? shape.count, inputRank: shape.count) else {
                throw KernelCallError.sizeOutOfRange(shape.count)
            }
            fused = transform
        case .arrayFunction:
            throw KernelCallError.wrongKind(expected: .filter, actual: kind)
        }
        // A fused kernel knows its layout, so its texts come from the fused pipeline even after a disk-cache load.
        return FusedCode(ir: fused.ir, optimizedIR: fused.optimizedIR, assembly: try fused.assembly)
    }

    /// The code of the lanes kernel (`LineLanes.count` lines per call, FilterCodegen/LineLanes.swift) this
    /// `@line_filter` runs with `lineOptions` on images of `shape` and `elementType` (output `outputType`,
    /// nil: the same), or nil where a run takes none (the kernel's lines cannot run in lanes, or too few lines).
    public func fusedLanesCode(shape: [Int], elementType: ElementType, outputType: ElementType? = nil,
                               lineOptions: LineFilterOptions) throws -> FusedCode? {
        guard kind == .lineFilter else { return nil }
        let axis = try validatedLineFilterAxis(lineOptions, rank: shape.count)
        let lineCount = shape[axis] == 0 ? 0 : shape.reduce(1, *) / shape[axis]
        // As a C-ordered run on one thread (`LineRun.lanesCanRun`): lines along another axis go in groups of at
        // most the last axis's length.
        guard lineCount >= LineLanes.count, axis == shape.count - 1 || shape[shape.count - 1] >= LineLanes.count,
              let lanes = try fusedLineLanesKernel(lineOptions, input: elementType, output: outputType ?? elementType) else { return nil }
        return FusedCode(ir: lanes.ir, optimizedIR: lanes.optimizedIR, assembly: try lanes.assembly)
    }

    /// generic_filter on the fused engine; nil when this input cannot be fused (the caller falls back).
    /// `planned`: the geometry and strategy plan of a `PreparedGenericFilter` for this input's layout;
    /// `geometry`: the geometry of `options` over this input's shape, when the caller made it already.
    func fusedGenericFilter(_ input: NDArray, options: FilterOptions, result: NDArray,
                            userData: [Double], strategy: WindowStrategyChoice = .auto, threads: Int?,
                            planned: PreparedWindowPlan? = nil, geometry given: FilterGeometry? = nil) throws -> NDArray? {
        _ = try resolvedThreads(threads)
        guard input.rank >= 1 else { return nil }
        // An output that may overlap the input: read a private copy of the input, as the callback driver
        // does; no result then overwrites a value still to be read. The copy is C-contiguous: a plan made
        // for another layout is made again for it, one made for this layout still fits (an in-place pass
        // of filterjit.ndimage's uniform_filter on a 16x16 image: 17 -> 4 us).
        let overlaps = result.mayShareMemory(with: input)
        let original = input
        let input = overlaps ? try input.cContiguousCopy() : input
        let planned = overlaps && input.strides != original.strides ? nil : planned
        let geometry = try planned?.geometry ?? given ?? FilterGeometry(inputShape: input.shape, options: options)
        if input.isEmpty { return result }
        if strategy != .literal,
           try strategyGenericFilter(input, geometry: geometry, result: result, userData: userData, threads: threads,
                                     fastMath: strategy == .fastMath, plan: planned?.strategy ?? .unknown) {
            return result
        }
        guard let run = RowKernelRun(input: input, geometry: geometry, output: result) else { return nil }
        let fused = try fusedFilterKernel(geometry, input: input.elementType, output: result.elementType)
        let row = unsafeBitCast(UnsafeRawPointer(bitPattern: try fused.address), to: fj_row_kernel.self)
        let threadCount = RowThreads.count(threads, work: Double(input.count) * Self.literalNanosecondsPerOutput(taps: run.tapCount))
        let failure = withExtendedLifetime((self, fused)) {
            run.run(kernel: row, parameters: userData, threads: threadCount, reason: lastFailureDescription)
        }
        if let failure {
            throw KernelFailure(kernelName: name, element: Self.multiIndex(failure.element, shape: input.shape),
                                reason: failure.reason)
        }
        return result
    }

    /// About one core's time per output of the literal fused kernel over `taps` taps, for the thread count
    /// (`RowThreads.count`): unrolled windows cost about 0.2 ns a tap (2048x2048, one thread, Zen 3:
    /// float64 5x5 `min(values)` 4.5 ns per pixel, 3-tap kernels over 3x3-9x9 windows 0.5-1.6), windows
    /// beyond `maximumUnrolledWindow` gathered per pixel about 0.4 (a 15x15 window 75-83, 31x31 317-363).
    static func literalNanosecondsPerOutput(taps: Int) -> Double {
        0.5 + Double(taps) * (taps > maximumUnrolledWindow ? 0.4 : 0.2)
    }

    /// About one core's time per output of a line kernel of `filterSize` taps (`RowThreads.count`).
    static func lineNanosecondsPerOutput(filterSize: Int) -> Double {
        1 + 0.3 * Double(filterSize)
    }

    /// The threads a generic_filter1d run over `input` takes (`threads`, or by its work when nil).
    static func lineThreadCount(_ threads: Int?, input: NDArray, options: LineFilterOptions) -> Int {
        RowThreads.count(threads, work: Double(input.count) * lineNanosecondsPerOutput(filterSize: options.filterSize))
    }

    /// generic_filter1d on the fused engine: the one line driver (`LineRun`) calling the line kernel
    /// compiled for this filter size. An output that may share memory with the input reads a private
    /// copy of the input, unless it is the input itself (the same C-contiguous elements): the driver
    /// reads each whole line into its buffer before the kernel writes that line, and lines are disjoint.
    /// Where the kernel's lines can run in lanes, `LineLanes.count` lines at a time take its lanes kernel.
    /// `prepared`: the line kernel compiled for these element types and filter size, its lanes kernel, and
    /// whether the driver zeroes `out` for them (a `PreparedGenericFilter1D`'s, found once).
    func fusedGenericFilter1D(_ input: NDArray, options: LineFilterOptions, result: NDArray,
                              userData: [Double], threads: Int?,
                              prepared: PreparedLineKernels? = nil) throws -> NDArray? {
        _ = try resolvedThreads(threads)
        let sameElements = result.elementType == input.elementType && result.strides == input.strides
            && result.firstElementPointer == input.firstElementPointer && input.isCContiguous
        let input = result.mayShareMemory(with: input) && !sameElements ? try input.cContiguousCopy() : input
        let run = try LineRun(input: input, options: options, output: result)
        if input.isEmpty { return result }
        let fused = try prepared?.lineKernel ?? fusedLineKernel(options, input: input.elementType, output: result.elementType)
        let threadCount = Self.lineThreadCount(threads, input: input, options: options)
        // The lanes kernel where this run calls it (a prepared one was found for this layout; a private copy
        // of an overlapping input may group its lines otherwise).
        let lanesKernel = !run.lanesCanRun(count: LineLanes.count, threads: threadCount) ? nil
            : try prepared.map(\.lanesKernel) ?? fusedLineLanesKernel(options, input: input.elementType, output: result.elementType)
        let zeroesOutput = prepared?.zeroesOutput ?? !Codegen.lineKernelStoresEveryOutputFirst(program)
        let line = unsafeBitCast(UnsafeRawPointer(bitPattern: try fused.address), to: LineFilterCallback.self)
        let lanes = try lanesKernel.map {
            LineLanesCallback(count: LineLanes.count,
                              callback: unsafeBitCast(UnsafeRawPointer(bitPattern: try $0.address), to: LineFilterCallback.self))
        }
        var parameters = userData
        let failure = withExtendedLifetime((self, fused, lanesKernel)) {
            parameters.withUnsafeMutableBytes { block in
                run.run(threads: threadCount, callback: line, lanes: lanes, userData: block.baseAddress,
                        zeroesOutput: zeroesOutput, reason: lastFailureDescription)
            }
        }
        if let failure {
            throw KernelFailure(kernelName: name, element: Self.multiIndex(failure.element, shape: input.shape),
                                reason: failure.reason)
        }
        return result
    }
}
