// Running recognised window reductions with NDImage's strategies (docs/window-strategies.md):
// the strategy computes one plane per reduction for each output row, and the kernel's tail,
// compiled by the fused engine over the planes, turns them into the output row. A tail that
// returns a single min, max or order statistic unchanged is skipped: the strategy writes the output itself.

import Foundation
import FilterCodegen
import KernelABI
import NDImage

/// How `genericFilter` evaluates the window of a `@filter` kernel on the fused engine.
public enum WindowStrategyChoice: String, Sendable, CaseIterable {
    /// Recognised reductions (min, max, sum, mean, median, percentile, rank and point-wise
    /// combinations) run with the fastest exact strategy for their size and type (the default).
    case auto
    /// Every window is evaluated literally, tap by tap: the oracle the strategies are tested against.
    case literal
    /// `auto`, and float sums and means (`np.sum`, `np.mean`) of 2-D and 3-D box windows take O(1)-per-pixel
    /// box sums in another order of additions than NumPy's: the last bits may differ from the literal
    /// kernel's, within the bound docs/window-strategies.md states (`--fast-math`, `fast_math=True`).
    /// Nothing else changes: every other kernel runs as under `auto`.
    case fastMath = "fast-math"
}

/// The strategy a kernel runs with for one input, as `filterjit show` and `bench` report it.
public struct WindowStrategyReport: Sendable, CustomStringConvertible {
    /// `literal`, or the reductions computed by window strategies (`min`, `sum`, `rank 40`, ...).
    public let name: String
    /// Whether the kernel's tail is compiled over the reduction planes (false: written directly).
    public let compiledTail: Bool

    /// Whether results may differ from the literal kernel's in the last bits (`--fast-math`).
    public var isFastMath: Bool { name.hasSuffix("(fast-math)") }

    public var description: String {
        name == "literal" ? "literal (every tap of every window)"
            : "window reductions [\(name)]" + (compiledTail ? " + compiled tail" : ", written directly")
    }
}

extension Kernel {
    /// The fewest taps for which float sums over `tapPositions` take the vectorised pairwise strategy. With
    /// AVX-512 (`filterjit_pairwise_sum_f64`, accumulators in registers): beyond 5x5 (CPU time at 2048x2048,
    /// one thread, 2026-12-05: float64 3x3 7.0 ms against 5.8 literally, 5x5 9.9 against 9.6, 7x7 15.6
    /// against 16.4, 9x9 20.0 against 35.7). With AVX2 only (`pairwise_sums_avx2.c`; Zen 3, twelfth
    /// session): the same for the square-box and cube kernels (float64 6x6 11.3-15.6 against 13.6-13.8 ms,
    /// 7x7 13.9 against 18.4), but the general kernel, which reads a pointer per tap, only from 49 taps
    /// (float64 disk of 37 taps 19.0-19.3 against 14.6-15.6 literally, 6x7 less its corners (38) 25.9-26.7
    /// against 15.7-20.1; disk of 49 21.9-22.5 against 25.6, of 69 28.2-28.5 against 36.1-36.5; float32 disk
    /// of 49 21.5-21.9 against 21.8-23.0). Without either, beyond the literal kernel's unrolled windows
    /// (FilterCodegen's `maximumUnrolledWindow`, 128), whose register-held sums beat the Swift program
    /// (9x9 and 11x11 1.0x-1.6x faster literally; 15x15 6x-8x slower literally, its per-pixel fallback).
    static func pairwiseSumThreshold(tapPositions: [[Int]]) -> Int {
        pairwiseSumThreshold(taps: TapLayout(tapPositions))
    }

    /// `pairwiseSumThreshold(tapPositions:)` of a footprint's layout.
    static func pairwiseSumThreshold(taps: TapLayout) -> Int {
        guard WindowReductionJob.pairwiseSumsVectorised else { return 129 }
        if RankKernels.avx512 { return 26 }
        return taps.pairwiseBoxKernelTakes ? 26 : 49
    }
    /// The fewest taps for which fast-math float box sums replace the literal kernel (2048x2048
    /// float64 and float32 means, one thread: see docs/status.md, branches w12d and w12j): from 3x3
    /// the fused AVX-512 passes beat it. The same on every CPU, so that the bits of a fast-math run
    /// do not depend on the machine (without AVX-512 the Swift passes run 3x3 to 15 taps somewhat
    /// slower than the literal kernel would).
    static let fastBoxSumThreshold = 9

    /// The recognised reductions of this kernel for windows of `windowLength` taps (memoised).
    func recognizedReductions(windowLength: Int) -> RecognizedWindowReductions? {
        recognitionLock.lock()
        defer { recognitionLock.unlock() }
        if let known = recognitions[windowLength] { return known }
        let found = WindowReductionRecognizer.recognize(program, windowLength: windowLength)
        recognitions[windowLength] = .some(found)
        return found
    }

    /// The reductions to run with a strategy for this input type and window, or nil when the
    /// literal kernel is as fast (small windows) or no strategy is exact for the type.
    /// `boxNetwork`: the footprint is a box that NDImage's precompiled selection networks handle
    /// (`WindowReductionJob.rankNetworkApplies`); they beat the literal kernel's networks and compile nothing.
    /// `fastMath`: float sums of 2-D and 3-D boxes may take the fast-math box sums (`WindowStrategyChoice.fastMath`).
    /// `outputType` (nil: the input's): whether a sum or mean can be written directly (`takesExactBoxSumsOnly`).
    /// The footprint's analyses come from its layout (`TapLayout`: once per footprint, not per call).
    func chosenReductions(taps: TapLayout, elementType: ElementType, fastMath: Bool = false,
                          outputType: ElementType? = nil) -> RecognizedWindowReductions? {
        let windowLength = taps.positions.count
        let boxNetwork = taps.rankNetworkApplies
        let box = taps.isBox
        guard let recognized = recognizedReductions(windowLength: windowLength) else { return nil }
        for reduction in recognized.reductions {
            switch reduction {
            case .orderStatistic(let k):
                // Up to 5x5 the literal kernel's median is a selection network: only the precompiled
                // networks of box windows beat it. Beyond, and for any other rank (percentile,
                // sorted(values)[k]), the literal kernel sorts per pixel.
                let medianRanks = windowLength % 2 == 1 ? [windowLength / 2] : [windowLength / 2 - 1, windowLength / 2]
                guard windowLength > 25 || boxNetwork || !medianRanks.contains(k) else { return nil }
            case .sum where elementType.isFloatingPoint:
                // Fast-math: O(1) box sums of a lone np.sum/np.mean over a 2-D or 3-D box. Otherwise NumPy's
                // pairwise order vectorised across pixels (still O(taps) per pixel): where the literal
                // kernel stops unrolling and its per-pixel sums get slower.
                guard recognized.pairwiseSums else { return nil }
                if fastMath, Self.fastBoxSumApplies(taps: taps, reductions: recognized.reductions),
                   windowLength >= Self.fastBoxSumThreshold {
                    continue
                }
                if Self.takesExactBoxSumsOnly(taps: taps, elementType: elementType, recognized: recognized,
                                              outputType: outputType) {
                    continue
                }
                guard windowLength >= Self.pairwiseSumThreshold(taps: taps) else { return nil }
            case .sum:
                // Integer box sums against the literal kernel (2048x2048, one thread, Zen 3, twenty-second
                // session): a mean of 8- or 16-bit data into the input's type wins from the smallest box (the
                // literal kernel's division and store: uint8 3x1 0.59 against 6.9 ms, uint16 1.8 against 6.6,
                // int16 3x1 2.1 against 3.8; into float64 the literal kernel stays faster up to 4 taps, 2.5 against
                // 3.4); a plain sum only from 9 taps (uint8 1x4 0.71 against 0.50); int32 windows sum in Int64
                // lanes and win only from 25 taps (3x3 8.6 against 4.6, 1x16 7.5 against 6.6, 5x5 8.4 against
                // 10.3); uint32 ones too, but its literal kernel is slower (3x3 13.5 against 14.1, 3x1 literal
                // 10.9), so 9 taps stay.
                guard elementType != .int64, elementType != .uint64 else { return nil }
                let smallMean = box && elementType.itemSize <= 2 && recognized.tailSum == .mean
                    && (outputType ?? elementType) == elementType
                guard windowLength >= (elementType == .int32 ? 25 : smallMean ? 2 : 9) else { return nil }
            case .minimum, .maximum:
                // Boxes (any rank) run the separable passes, faster than the literal kernel's selects from
                // 3x3 on. Other footprints take row spans, which beat the literal kernel only beyond
                // about 32 taps for float data and 9 for integers (2048x2048, one thread, 2026-12-05:
                // float64 cross 8.9 vs 5.1 ms literal, disk r3 13.4 vs 11.3; uint8 cross 0.62 vs 0.58,
                // 5x5 cross 0.86 vs 0.95, disk r2 1.0 vs 1.8).
                guard windowLength >= (box ? 5 : elementType.isFloatingPoint ? 37 : 9) else { return nil }
            case .tap:
                break
            }
        }
        return recognized
    }

    /// The fused row kernel of `recognized`'s tail (the reductions of windows of `windowLength` taps) over
    /// its planes of doubles, storing `output`: found once per window length and output type, since finding
    /// it in the engine's cache keys the tail's program by its whole printed form (about 150 us a call, most
    /// of a small image's run). Kept as long as the kernel, outside the engine's LRU bound: one small
    /// compiled tail per window length and output type the kernel has run with.
    func tailRowKernel(_ recognized: RecognizedWindowReductions, windowLength: Int, output: ElementType) throws -> Kernel {
        let key = TailRowKernelKey(windowLength: windowLength, output: FusedElementType(output))
        recognitionLock.lock()
        let known = tailRowKernels[key]
        recognitionLock.unlock()
        if let known { return known }
        let tailKernel = try fusionEngine.compile(program: recognized.tail)
        let tail = try fusionEngine.kernel(tailKernel, variant: .filterRow(
            FusedLayout(inputType: .float64, outputType: key.output, tapCount: recognized.reductions.count)))
        recognitionLock.lock()
        tailRowKernels[key] = tail
        recognitionLock.unlock()
        return tail
    }

    /// Whether these reductions take the strategy only for the exact box sums (`ExactBoxSums.swift`): one
    /// float32 sum over a 2-D or 3-D box of 9 taps or more (3x3) but fewer than `pairwiseSumThreshold`, where
    /// the pairwise sums alone would not beat the literal kernel. Float32 data almost always make every
    /// window sum exact in doubles (24-bit mantissas), and the box sums then win from 3x3 (2048x2048, Zen 3,
    /// twentieth session: 5x5 mean 9.8 -> 4.5 ms; rows the check rejects take the pairwise sums, which on
    /// AVX2 are no slower than the literal kernel there). Only where the pairwise sums are vectorised, and
    /// the strategy applies only where the box sums can run (`WindowReductionJob.hasExactBoxSums`).
    /// (Up to 25 taps: with AVX2 alone the pairwise threshold of boxes other than squares and cubes is 49,
    /// and the general kernel their rejected rows would take loses to the literal kernel below that.
    /// `ExactBoxSums.enabled` off turns the rule off.)
    /// From 15 taps, not 9, for a box of one row (1 x L, 1 x 1 x L: the literal kernel's row of loads is
    /// cheap; 2048x2048, Zen 3, twenty-first session: 1x9 / 1x11 / 1x13 mean 4.7 / 6.1 / 5.8 ms against the
    /// literal 3.7 / 4.5 / 5.2, 1x15 5.1 against 6.2) and for a compiled tail other than the sum or the mean
    /// (the sums then go to the tail as rows of doubles: `np.mean(values) > 0.5` 3x3 5.8 against 4.2, 4x4 6.4
    /// against 6.5, 3x5 `np.sum(values) * 2.0 - 1.0` 5.4 against 6.3), which a sum or mean into another output
    /// type (`outputType`, nil: the input's) takes too.
    static func takesExactBoxSumsOnly(taps layout: TapLayout, elementType: ElementType,
                                      recognized: RecognizedWindowReductions, outputType: ElementType? = nil) -> Bool {
        let taps = layout.positions.count
        let writtenDirectly = recognized.tailSum != nil && (outputType ?? elementType) == elementType
        let least = layout.isOneRow || !writtenDirectly ? 15 : fastBoxSumThreshold
        return elementType == .float32 && ExactBoxSums.enabled && WindowReductionJob.pairwiseSumsVectorised
            && taps >= least && taps < 26
            && taps < pairwiseSumThreshold(taps: layout)
            && fastBoxSumApplies(taps: layout, reductions: recognized.reductions)
    }

    /// Whether the strategy rests on the exact box sums alone (`takesExactBoxSumsOnly`) and they cannot run on
    /// this layout (strided rows, rows or planes beyond the scratch bound): then the literal kernel runs, and the
    /// report, the plan and `prepareRun` say so alike.
    static func exactBoxSumsCannotRun(geometry: FilterGeometry, shape: [Int], elementType: ElementType,
                                      recognized: RecognizedWindowReductions, outputType: ElementType?,
                                      rowsContiguous: Bool) -> Bool {
        takesExactBoxSumsOnly(taps: geometry.taps, elementType: elementType, recognized: recognized,
                              outputType: outputType)
            && !fastBoxSumFits(geometry: geometry, shape: shape, rowsContiguous: rowsContiguous)
    }

    /// `WindowReductionJob.fastBoxSumFits` for the box of `geometry` over an input of `shape` (2-D or 3-D).
    static func fastBoxSumFits(geometry: FilterGeometry, shape: [Int], rowsContiguous: Bool) -> Bool {
        let distinct = geometry.taps.distinctPositions
        guard shape.count >= 2, distinct.count == shape.count else { return false }  // (no taps: no positions)
        return WindowReductionJob.fastBoxSumFits(shape: shape, boxRows: distinct[shape.count - 2],
                                                 rowsContiguous: rowsContiguous,
                                                 boxPlanes: shape.count == 3 ? distinct[0] : 1)
    }

    /// Whether a fast-math box sum can compute these reductions: one sum over a 2-D or 3-D box.
    static func fastBoxSumApplies(taps: TapLayout, reductions: [WindowReduction]) -> Bool {
        guard let rank = taps.positions.first?.count else { return false }
        return reductions == [.sum] && (rank == 2 || rank == 3) && taps.isBox
    }

    /// The strategy `genericFilter` chooses for an input of `shape` and `elementType` with `options`
    /// (before looking at the data: float data holding NaN or -0.0 then runs literally). `outputType`
    /// (nil: the input's) decides whether a box sum or mean is written directly. `rowsContiguous`: whether
    /// the input's last axis has unit stride (the fast-math box sums need it; strided rows sum exactly).
    public func windowStrategy(shape: [Int], elementType: ElementType, options: FilterOptions,
                               strategy: WindowStrategyChoice = .auto, outputType: ElementType? = nil,
                               rowsContiguous: Bool = true) throws -> WindowStrategyReport {
        let geometry = try FilterGeometry(inputShape: shape, options: options)
        guard kind == .filter, strategy != .literal,
              let chosen = chosenReductions(taps: geometry.taps, elementType: elementType,
                                            fastMath: strategy == .fastMath, outputType: outputType) else {
            return WindowStrategyReport(name: "literal", compiledTail: false)
        }
        let output = outputType ?? elementType
        if strategy == .fastMath, elementType.isFloatingPoint,
           Self.fastBoxSumApplies(taps: geometry.taps, reductions: chosen.reductions),
           Self.fastBoxSumFits(geometry: geometry, shape: shape, rowsContiguous: rowsContiguous) {
            // Written directly when the tail is the sum or the mean and the output has the input's type.
            return WindowStrategyReport(name: "box sums (fast-math)",
                                        compiledTail: !(chosen.tailSum != nil && output == elementType))
        }
        // What only the exact box sums justify needs them to run on this layout (as `strategyPlan` asks).
        if strategy != .fastMath, Self.exactBoxSumsCannotRun(geometry: geometry, shape: shape, elementType: elementType,
                                                             recognized: chosen, outputType: outputType,
                                                             rowsContiguous: rowsContiguous) {
            return WindowStrategyReport(name: "literal", compiledTail: false)
        }
        return WindowStrategyReport(name: chosen.reductions.map(\.description).joined(separator: ", "),
                                    compiledTail: !chosen.tailIsIdentity)
    }

    /// The window strategy `strategyGenericFilter` would take for this input layout and output, planned
    /// (`.inapplicable` when no strategy applies). Depends on the element types, shapes and strides, the
    /// geometry and `fastMath`, never on the data or the arrays' addresses.
    func strategyPlan(_ input: NDArray, geometry: FilterGeometry, result: NDArray, fastMath: Bool) -> WindowStrategyPlan {
        guard let recognized = chosenReductions(taps: geometry.taps, elementType: input.elementType,
                                                fastMath: fastMath, outputType: result.elementType),
              elementStrides(result) != nil,
              let job = try? WindowReductionJob(input: input, geometry: geometry, reductions: recognized.reductions,
                                                fastMath: fastMath) else {
            return .inapplicable
        }
        if !fastMath, !job.hasExactBoxSums,
           Self.takesExactBoxSumsOnly(taps: geometry.taps, elementType: input.elementType,
                                      recognized: recognized, outputType: result.elementType) {
            return .inapplicable
        }
        return .planned(PlannedWindowStrategy(recognized, job))
    }

    /// generic_filter with window strategies; false when they do not apply to this input (the
    /// caller then runs the literal fused kernel, which overwrites every output element). `threads`
    /// nil: as many as the estimated work keeps busy (`RowThreads.count`).
    func strategyGenericFilter(_ input: NDArray, geometry: FilterGeometry, result: NDArray,
                               userData: [Double], threads: Int?, fastMath: Bool = false,
                               plan: WindowStrategyPlan = .unknown) throws -> Bool {
        let recognized: RecognizedWindowReductions, job: WindowReductionJob
        switch plan {
        case .inapplicable:
            return false
        case .planned(let planned):
            // Planned for this layout (`PreparedGenericFilter`): only the input's address differs.
            guard let rebound = planned.job.rebound(to: input) else {
                return try strategyGenericFilter(input, geometry: geometry, result: result, userData: userData,
                                                 threads: threads, fastMath: fastMath)
            }
            recognized = planned.recognized
            job = rebound
        case .unknown:
            guard case .planned(let planned) = strategyPlan(input, geometry: geometry, result: result,
                                                            fastMath: fastMath) else {
                return false
            }
            recognized = planned.recognized
            job = planned.job
        }
        guard let outStrides = elementStrides(result) else { return false }
        // A compiled tail costs about a nanosecond per output more (`max(values) - min(values)`, uint8).
        let work = Double(job.rowCount * job.rowLength) * (job.estimatedNanosecondsPerOutput + (recognized.tailIsIdentity ? 0 : 1))
        let parts = chunks(job.rowCount, threads: RowThreads.count(threads, work: work))
        let declined = DeclinedFlag()

        if recognized.tailIsIdentity && job.canRunDirect(into: result) {
            parallelFor(parts.count) { chunk in
                do { try job.runDirect(rows: parts[chunk], output: result) } catch { declined.set() }
            }
            return !declined.isSet
        }
        // `sum(values)` / `np.mean(values)` of a 2-D integer box into the input's type: the box sum
        // writes the wrapped sum or the truncated quotient itself (no tail, no doubles); under
        // fast-math, a float box sum or mean into the input's type likewise.
        if let sumTail = recognized.tailSum, job.canRunSumDirect(into: result) {
            parallelFor(parts.count) { chunk in
                do { try job.runSumDirect(rows: parts[chunk], output: result, mean: sumTail == .mean) } catch { declined.set() }
            }
            return !declined.isSet
        }

        // `np.sum(values)` / `np.mean(values)` of float data into the input's type: the pairwise sums
        // are stored (divided by the window's length) directly, without the compiled tail's pass.
        if let sumTail = recognized.tailSum, job.canRunFloatSumDirect(into: result) {
            parallelFor(parts.count) { chunk in
                do { try job.runFloatSumDirect(rows: parts[chunk], output: result, mean: sumTail == .mean) } catch { declined.set() }
            }
            return !declined.isSet
        }

        let planeCount = recognized.reductions.count
        let tail = try tailRowKernel(recognized, windowLength: geometry.tapPositions.count, output: result.elementType)
        let row = unsafeBitCast(UnsafeRawPointer(bitPattern: try tail.address), to: fj_row_kernel.self)
        let n = job.rowLength
        let rank = input.rank, last = rank - 1
        let outerShape = Array(input.shape[..<last])
        let outBase = result.firstElementPointer
        let itemSize = result.elementType.itemSize
        let failures = FailureBox()
        struct TailFailed: Error {}

        try withExtendedLifetime((self, tail)) {
            userData.withUnsafeBufferPointer { parameters in
                parallelFor(parts.count) { chunk in
                    // The planes are the tail's window: plane t of pixel x at element t * n + x.
                    let taps = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: planeCount)
                    defer { taps.deallocate() }
                    let caller = RowKernelCaller(tapCount: planeCount, inputType: .float64, outputType: result.elementType,
                                                 parameters: parameters.baseAddress)
                    do {
                        try job.run(rows: parts[chunk]) { rowNumber, planes in
                            var rest = rowNumber, outOffset = 0
                            for axis in stride(from: last - 1, through: 0, by: -1) {
                                outOffset += (rest % outerShape[axis]) * outStrides[axis]
                                rest /= outerShape[axis]
                            }
                            for t in 0..<planeCount { taps[t] = UnsafeRawPointer(planes.baseAddress! + t * n) }
                            if let failed = caller.call(row, taps: taps, count: n, output: outBase + outOffset * itemSize,
                                                        outputStride: outStrides[last] * itemSize) {
                                failures.record(chunk: chunk, (rowNumber * n + failed, self.lastFailureDescription()))
                                throw TailFailed()
                            }
                        }
                    } catch is TailFailed {
                    } catch {
                        declined.set()
                    }
                }
            }
            if declined.isSet { return }
            if let failure = failures.first {
                throw KernelFailure(kernelName: name, element: Self.multiIndex(failure.element, shape: input.shape),
                                    reason: failure.reason)
            }
        }
        return !declined.isSet
    }
}

/// The key of a kernel's compiled tail: its window length (which fixes the recognised reductions) and output type.
struct TailRowKernelKey: Hashable {
    let windowLength: Int
    let output: FusedElementType
}

/// What a prepared run knows of the window strategy before it runs (`Kernel.strategyPlan`).
enum WindowStrategyPlan {
    /// Not planned yet: `strategyGenericFilter` plans it.
    case unknown
    /// No strategy applies to this layout: the literal kernel runs.
    case inapplicable
    /// The reductions and the job planned for this layout (rebound to each call's input).
    case planned(PlannedWindowStrategy)
}

/// The reductions and job of a `WindowStrategyPlan`, boxed: a prepared run passes the plan on by reference
/// (copying the two structs retained and released some forty references a run, a third of a 4x4 image's run).
final class PlannedWindowStrategy: @unchecked Sendable {
    let recognized: RecognizedWindowReductions
    let job: WindowReductionJob

    init(_ recognized: RecognizedWindowReductions, _ job: WindowReductionJob) {
        self.recognized = recognized
        self.job = job
    }
}

/// Set by any worker whose rows hold data a strategy cannot follow exactly (NaN, -0.0).
private final class DeclinedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
