// The row plan of generic_filter for compiled row kernels (KernelABI's `fj_row_kernel`):
//
//   plan (FilterGeometry: shape, footprint, mode, origins) -> footprint rows and tap places
//     -> per output row: each footprint row's input row, extended along the last axis through the
//        mode into a per-thread cache (cval rows too) -> per-tap pointers -> one kernel call per row
//     -> rows split across threads (RowThreads)
//
// The compiled code sees only unit-stride rows of the input type: boundary modes, cval, origins,
// strides and the image's shape stay here, so one compiled kernel serves every mode and shape.

import Foundation
import KernelABI

/// A generic_filter run of a row kernel over one input: planned once, then run on any number of threads.
public struct RowKernelRun: @unchecked Sendable {
    private let input: NDArray
    private let output: NDArray
    private let geometry: FilterGeometry
    /// Per footprint row (taps sharing every coordinate but the last), its position on each outer axis.
    private let footprintRows: [[Int]]
    /// Per tap: its footprint row and its position along the last axis of the extended row.
    private let tapRows: [Int]
    private let tapPositions: [Int]
    /// Outer axes' index maps as byte offsets into the input (nil: cval), and the last axis's over the extended row.
    private let outerMaps: [[Int?]]
    private let lastMap: [Int?]
    /// The element type of the extended rows: the input's, or float64 for `runWindows`.
    private let rowType: ElementType
    /// The cval as one row element (checked to convert back to the same double bits).
    private let cvalElement: [UInt8]

    /// Plans the run; nil when a row kernel cannot compute this run with the bits of the callback
    /// driver: a 0-d or empty input, an empty footprint, strides that are not whole elements, or, in a
    /// constant mode, a cval the input type cannot hold exactly (the kernel would read a converted one).
    /// With `rowsAsDoubles` (the callback engine, `runWindows`) rows are extended as float64, so any
    /// cval and any byte strides are fine.
    public init?(input: NDArray, geometry: FilterGeometry, output: NDArray, rowsAsDoubles: Bool = false) {
        let rank = input.rank
        let inSize = input.elementType.itemSize, outSize = output.elementType.itemSize
        guard rank >= 1, !input.isEmpty, !geometry.tapPositions.isEmpty, output.shape == input.shape else { return nil }
        if !rowsAsDoubles {
            guard input.strides.allSatisfy({ $0 % inSize == 0 }), output.strides.allSatisfy({ $0 % outSize == 0 }),
                  Self.canRun(elementType: input.elementType, geometry: geometry) else { return nil }
        }
        let rowType = rowsAsDoubles ? ElementType.float64 : input.elementType
        var cval = [UInt8](repeating: 0, count: rowType.itemSize)
        cval.withUnsafeMutableBytes { rowType.storeDouble(geometry.cval, to: $0.baseAddress!) }
        let last = rank - 1
        guard let outer = try? (0..<last).map({ axis in
                  try geometry.indexMap(axis: axis).map { $0.map { $0 * input.strides[axis] } }
              }),
              let lastAxis = try? geometry.indexMap(axis: last).map({ $0.map { $0 * input.strides[last] } })
        else { return nil }
        var rows: [[Int]] = []
        var rowOfOuter: [[Int]: Int] = [:]
        var tapRows: [Int] = [], positions: [Int] = []
        for tap in geometry.tapPositions {
            let outerPosition = Array(tap[..<last])
            let row: Int
            if let known = rowOfOuter[outerPosition] { row = known } else {
                row = rows.count
                rowOfOuter[outerPosition] = row
                rows.append(outerPosition)
            }
            tapRows.append(row)
            positions.append(tap[last])
        }
        self.input = input
        self.output = output
        self.geometry = geometry
        self.footprintRows = rows
        self.tapRows = tapRows
        self.tapPositions = positions
        self.outerMaps = outer
        self.lastMap = lastAxis
        self.rowType = rowType
        self.cvalElement = cval
    }

    /// Whether a run with `geometry` over `elementType` can use a row kernel as far as the plan
    /// alone says (the initialiser also checks the arrays' shapes and strides).
    public static func canRun(elementType: ElementType, geometry: FilterGeometry) -> Bool {
        guard !geometry.tapPositions.isEmpty else { return false }
        return geometry.mode.canonicalForFilters != .constant || cvalRoundTrips(geometry.cval, elementType)
    }

    /// Whether `cval` stored as `type` loads back as the same double bits.
    static func cvalRoundTrips(_ cval: Double, _ type: ElementType) -> Bool {
        var bytes = [UInt8](repeating: 0, count: type.itemSize)
        bytes.withUnsafeMutableBytes { type.storeDouble(cval, to: $0.baseAddress!) }
        return bytes.withUnsafeBytes { type.loadDouble(from: $0.baseAddress!) }.bitPattern == cval.bitPattern
    }

    /// The number of taps (the compiled kernel's window length).
    public var tapCount: Int { tapRows.count }

    /// Runs `kernel` on every output row with `parameters`, on `threads` threads. Returns nil, or the
    /// first failing element in C order (flat index) with `reason()` as evaluated on the failing
    /// thread right after the failure (the kernel's failure record is thread-local).
    public func run(kernel: fj_row_kernel, parameters: [Double], threads: Int,
                    reason: () -> String) -> (element: Int, reason: String)? {
        let rank = input.rank, last = rank - 1
        let n = input.shape[last]
        let rowCount = input.count / n
        let parts = RowThreads.chunks(rowCount, threads: threads)
        let failures = FirstFailure<(element: Int, reason: String)>()
        parameters.withUnsafeBufferPointer { parameters in
            withoutActuallyEscaping(reason) { reason in
                RowThreads.forEach(parts.count) { chunk in
                    let state = RowState(run: self)
                    defer { state.release() }
                    let caller = RowKernelCaller(tapCount: tapCount, inputType: input.elementType,
                                                 outputType: output.elementType, parameters: parameters.baseAddress)
                    let failure = state.runFused(parts[chunk], kernel: kernel, caller: caller)
                    if let failure { failures.record(chunk: chunk, (failure, reason())) }
                }
            }
        }
        return failures.first
    }

    /// Runs the SciPy callback driver's per-window evaluation (`kernel` per output element, in C
    /// order, on this thread) over rows extended as float64 (`rowsAsDoubles`): the window of each
    /// element is gathered into a double buffer in SciPy's buffer order, and the result is stored with
    /// generic_filter's casting rules. Throws the kernel's failure naming the first failing element.
    func runWindows<Kernel: WindowKernel>(_ kernel: Kernel) throws(NDImageError) {
        precondition(rowType == .float64, "runWindows reads rows extended as float64")
        let last = input.rank - 1, n = input.shape[last], taps = tapCount
        let state = RowState(run: self)
        defer { state.release() }
        let window = UnsafeMutablePointer<Double>.allocate(capacity: max(taps, 1))
        let rows = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: max(taps, 1))
        defer { window.deallocate(); rows.deallocate() }
        var value = 0.0
        let outStride = output.strides[last], outType = output.elementType
        // float64 output is stored directly; other types through generic_filter's casting rules.
        let storesDoubles = outType == .float64
        let failure = state.forEachRow(0..<(input.count / n)) { row, tapPointers, outputRow in
            for t in 0..<taps { rows[t] = tapPointers[t]!.assumingMemoryBound(to: Double.self) }
            for x in 0..<n {
                for t in 0..<taps { window[t] = rows[t][x] }
                guard kernel.evaluate(window, taps, row &* n &+ x, &value) else { return row &* n &+ x }
                if storesDoubles {
                    (outputRow + x &* outStride).storeBytes(of: value, as: Double.self)
                } else {
                    outType.storeDouble(value, to: outputRow + x &* outStride)
                }
            }
            return nil
        }
        if let failure { throw kernel.failure(at: failure) }
    }

    /// One thread's scratch: cached extended rows, tap pointers, the kernel caller.
    private final class RowState {
        let run: RowKernelRun
        let inSize: Int, outSize: Int
        let n: Int
        let extendedLength: Int
        let cache: ExtendedRowCache
        let loaded: UnsafeMutablePointer<UnsafeMutableRawPointer>
        let taps: UnsafeMutablePointer<UnsafeRawPointer?>
        /// Per footprint row, room for one edge strip of an in-place row (`runFused`): a group of pixels
        /// and a window.
        let strips: [UnsafeMutableRawPointer]

        init(run: RowKernelRun) {
            self.run = run
            inSize = run.rowType.itemSize
            outSize = run.output.elementType.itemSize
            n = run.input.shape[run.input.rank - 1]
            extendedLength = run.lastMap.count
            cache = ExtendedRowCache(capacity: run.footprintRows.count + 2, rowBytes: max(1, extendedLength) * inSize)
            loaded = .allocate(capacity: run.footprintRows.count)
            loaded.initialize(repeating: cache.anyRow, count: run.footprintRows.count)
            let window = run.lastMap.count - run.input.shape[run.input.rank - 1] + 1
            let stripBytes = max(1, 2 * window + 2 * Int(FJ_ROW_GROUP)) * run.rowType.itemSize
            strips = run.footprintRows.map { _ in .allocate(byteCount: stripBytes, alignment: 64) }
            taps = .allocate(capacity: run.tapCount)
            taps.initialize(repeating: nil, count: run.tapCount)
        }

        func release() {
            loaded.deallocate()
            taps.deallocate()
            for strip in strips { strip.deallocate() }
        }

        /// Runs the fused row kernel on output rows `rows` in order. A row whose footprint rows are all
        /// input rows (no cval row) of a contiguous input is read in place between its edges, and only the
        /// edge pixels read short strips extended through the mode; other rows read whole extended rows.
        /// Returns the flat index of the first failing element, or nil.
        func runFused(_ rows: Range<Int>, kernel: fj_row_kernel, caller: RowKernelCaller) -> Int? {
            let input = run.input
            let last = input.rank - 1
            let outStride = run.output.strides[last]
            let centre = run.geometry.centre[last]
            let window = extendedLength - n + 1
            // Pixels centre..<(n - window + 1 + centre) read only positions inside the row, whatever the
            // tap. The edges are computed as whole groups (lo, n - hi >= FJ_ROW_GROUP), so that no call pads a
            // short count to a group; below 512 pixels the cached whole extended rows cost less than strips.
            let group = Int(FJ_ROW_GROUP)
            let lo = max(centre, group), hi = min(n - window + 1 + centre, n - group)
            let inPlace = run.rowType == input.elementType && input.strides[last] == inSize && n >= 512 && hi - lo >= group
            let inBase = UnsafeRawPointer(input.firstElementPointer)
            return forEachRow(rows, extending: !inPlace) { row, keys, taps, outputRow in
                guard inPlace, let keys else {
                    return caller.call(kernel, taps: taps, count: n, output: outputRow, outputStride: outStride).map { row * n + $0 }
                }
                // Left edge, interior in place, right edge: in C order, so the first failure is the first.
                func edge(_ start: Int, _ end: Int) -> Int? {
                    for (r, key) in keys.enumerated() { fillStrip(strips[r], key: key, from: start, to: end + window - 1) }
                    for t in 0..<run.tapCount {
                        taps[t] = UnsafeRawPointer(strips[run.tapRows[t]] + run.tapPositions[t] * inSize)
                    }
                    return caller.call(kernel, taps: taps, count: end - start, output: outputRow + start * outStride,
                                       outputStride: outStride).map { row * n + start + $0 }
                }
                if lo > 0, let failed = edge(0, lo) { return failed }
                for t in 0..<run.tapCount {
                    taps[t] = inBase + keys[run.tapRows[t]] + (lo + run.tapPositions[t] - centre) * inSize
                }
                if let failed = caller.call(kernel, taps: taps, count: hi - lo, output: outputRow + lo * outStride,
                                            outputStride: outStride) {
                    return row * n + lo + failed
                }
                if hi < n, let failed = edge(hi, n) { return failed }
                return nil
            }
        }

        /// Fills `strip[0..<(to - from)]` with positions `from..<to` of the extended row of input row `key`
        /// (a contiguous row: the part inside it is one copy, the rest goes through the mode).
        private func fillStrip(_ strip: UnsafeMutableRawPointer, key: Int, from: Int, to: Int) {
            let input = run.input
            let centre = run.geometry.centre[input.rank - 1]
            let base = UnsafeRawPointer(input.firstElementPointer) + key
            let insideFrom = max(from, centre), insideTo = min(to, centre + n)
            if insideFrom < insideTo {
                (strip + (insideFrom - from) * inSize).copyMemory(from: base + (insideFrom - centre) * inSize,
                                                                   byteCount: (insideTo - insideFrom) * inSize)
            }
            run.cvalElement.withUnsafeBytes { cval in
                func extend(_ j: Int) {
                    let source = run.lastMap[j].map { base + $0 } ?? cval.baseAddress!
                    (strip + (j - from) * inSize).copyMemory(from: source, byteCount: inSize)
                }
                for j in stride(from: from, to: min(to, centre), by: 1) { extend(j) }
                for j in max(from, centre + n)..<max(to, centre + n) { extend(j) }
            }
        }

        /// Calls `body(row, taps, outputRow)` for output rows `rows` in order, with the taps pointing at
        /// pixel 0's element of each tap's extended row and `outputRow` at the row's first output
        /// element; stops at the first non-nil result (a failing element) and returns it.
        func forEachRow(_ rows: Range<Int>,
                        _ body: (Int, UnsafeMutablePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Int?) -> Int? {
            forEachRow(rows, extending: true) { row, _, taps, outputRow in body(row, taps, outputRow) }
        }

        /// `forEachRow`, also giving each footprint row's input row (byte offsets; nil when some footprint
        /// row reads the cval row). Without `extending`, rows whose footprint rows are all input rows are
        /// not extended (the taps are then unset: the body reads the input itself).
        func forEachRow(_ rows: Range<Int>, extending: Bool,
                        _ body: (Int, [Int]?, UnsafeMutablePointer<UnsafeRawPointer?>, UnsafeMutableRawPointer) -> Int?) -> Int? {
            guard !rows.isEmpty else { return nil }
            let input = run.input, output = run.output
            let last = input.rank - 1
            let outerShape = Array(input.shape[..<last])
            // The first row's outer index; later rows advance it like an odometer.
            var index = [Int](repeating: 0, count: last)
            var rest = rows.lowerBound
            for axis in stride(from: last - 1, through: 0, by: -1) {
                index[axis] = rest % outerShape[axis]
                rest /= outerShape[axis]
            }
            let outBase = output.firstElementPointer
            var keys = [Int](repeating: 0, count: run.footprintRows.count)
            var rowKeys = [Int?](repeating: nil, count: run.footprintRows.count)
            for row in rows {
                cache.tick()
                var allInput = true
                for (r, position) in run.footprintRows.enumerated() {
                    rowKeys[r] = key(outer: index, position: position)
                    if let key = rowKeys[r] { keys[r] = key } else { allInput = false }
                }
                if extending || !allInput {
                    for r in 0..<rowKeys.count { loaded[r] = cachedRow(rowKeys[r]) }
                    for t in 0..<run.tapCount {
                        taps[t] = UnsafeRawPointer(loaded[run.tapRows[t]] + run.tapPositions[t] * inSize)
                    }
                }
                var outOffset = 0
                for axis in 0..<last { outOffset += index[axis] * output.strides[axis] }
                if let failed = body(row, allInput ? keys : nil, taps, outBase + outOffset) { return failed }
                advanceInCOrder(&index, within: outerShape)
            }
            return nil
        }

        /// The input row (byte offset; nil: the cval row) that the footprint row at `position`
        /// reads for the output row at outer index `outer`.
        private func key(outer: [Int], position: [Int]) -> Int? {
            var key = 0
            for axis in 0..<outer.count {
                guard let mapped = run.outerMaps[axis][outer[axis] + position[axis]] else { return nil }
                key += mapped
            }
            return key
        }

        /// The extended row for `key`, from the cache or built now.
        private func cachedRow(_ key: Int?) -> UnsafeMutableRawPointer {
            cache.row(key) { build($0, key: key) }
        }

        /// Fills `row` with the input row at byte offset `key` extended along the last axis through the
        /// mode (nil: every element cval), converted to the row type when it is not the input's.
        private func build(_ row: UnsafeMutableRawPointer, key: Int?) {
            let size = inSize
            run.cvalElement.withUnsafeBytes { cval in
                guard let key else {
                    for j in 0..<extendedLength { (row + j * size).copyMemory(from: cval.baseAddress!, byteCount: size) }
                    return
                }
                let input = run.input
                let base = UnsafeRawPointer(input.firstElementPointer) + key
                let last = input.rank - 1
                let centre = run.geometry.centre[last]
                let stride = input.strides[last]
                let type = input.elementType
                let converts = run.rowType != type
                @inline(__always) func copy(_ j: Int, from source: UnsafeRawPointer) {
                    if converts {
                        (row + j * size).storeBytes(of: type.loadDouble(from: source), as: Double.self)
                    } else {
                        (row + j * size).copyMemory(from: source, byteCount: size)
                    }
                }
                // Positions centre..<centre+n read the row itself, in order; the rest go through the map.
                if stride == size && !converts {
                    (row + centre * size).copyMemory(from: base, byteCount: n * size)
                } else {
                    for x in 0..<n { copy(centre + x, from: base + x * stride) }
                }
                // (centre < window, so centre + n <= extendedLength.)
                for j in 0..<centre { extend(j) }
                for j in (centre + n)..<extendedLength { extend(j) }
                func extend(_ j: Int) {
                    if let offset = run.lastMap[j] {
                        copy(j, from: base + offset)
                    } else {
                        (row + j * size).copyMemory(from: cval.baseAddress!, byteCount: size)
                    }
                }
            }
        }
    }
}

/// One thread's way of calling a row kernel on a row of any length and output stride: the kernel
/// writes `count >= FJ_ROW_GROUP` unit-stride results, so a shorter row is copied into padded tap
/// rows (zeros after the real elements) and any strided or short row's results go through a buffer.
public final class RowKernelCaller {
    private let tapCount: Int
    private let inSize: Int, outSize: Int
    private let group = Int(FJ_ROW_GROUP)
    private let paddedTaps: UnsafeMutablePointer<UnsafeRawPointer?>
    private let padded: UnsafeMutableRawPointer
    private let outputRow: UnsafeMutableRawPointer
    private var outputCapacity: Int
    private var arguments: fj_row_arguments
    private let scratch: UnsafeMutablePointer<Double>

    /// A caller for kernels of `tapCount` taps over `inputType` writing `outputType`.
    public init(tapCount: Int, inputType: ElementType, outputType: ElementType, parameters: UnsafePointer<Double>?) {
        self.tapCount = tapCount
        inSize = inputType.itemSize
        outSize = outputType.itemSize
        paddedTaps = .allocate(capacity: max(tapCount, 1))
        padded = .allocate(byteCount: max(tapCount, 1) * Int(FJ_ROW_GROUP) * inSize, alignment: 64)
        padded.initializeMemory(as: UInt8.self, repeating: 0, count: max(tapCount, 1) * Int(FJ_ROW_GROUP) * inSize)
        for t in 0..<tapCount { paddedTaps[t] = UnsafeRawPointer(padded + t * Int(FJ_ROW_GROUP) * inSize) }
        outputCapacity = Int(FJ_ROW_GROUP)
        outputRow = .allocate(byteCount: Int(FJ_ROW_GROUP) * outSize, alignment: 64)
        scratch = .allocate(capacity: 2 * max(tapCount, 1))
        scratch.initialize(repeating: 0, count: 2 * max(tapCount, 1))
        arguments = fj_row_arguments(taps: nil, output: nil, count: 0, parameters: parameters, scratch: scratch)
        outputBuffer = nil
    }

    /// A buffer for strided rows longer than a group, made on first use.
    private var outputBuffer: UnsafeMutableRawPointer?

    deinit {
        paddedTaps.deallocate()
        padded.deallocate()
        outputRow.deallocate()
        outputBuffer?.deallocate()
        scratch.deallocate()
    }

    /// Computes `count` pixels whose windows are `taps[t][0..<count]`, storing pixel x at
    /// `output + x * outputStride` (bytes). Returns nil, or the index of the first failing pixel
    /// (pixels before it are stored).
    public func call(_ kernel: fj_row_kernel, taps: UnsafePointer<UnsafeRawPointer?>, count: Int,
                     output: UnsafeMutableRawPointer, outputStride: Int) -> Int? {
        guard count > 0 else { return nil }
        var destination = output
        var kernelCount = count
        arguments.taps = taps
        if count < group {
            // Short row: the first `count` elements of every tap, then zeros up to a group.
            for t in 0..<tapCount {
                (padded + t * group * inSize).copyMemory(from: taps[t]!, byteCount: count * inSize)
            }
            arguments.taps = UnsafePointer(paddedTaps)
            kernelCount = group
            destination = outputRow
        } else if outputStride != outSize {
            if outputBuffer == nil || outputCapacity < count {
                outputBuffer?.deallocate()
                outputBuffer = .allocate(byteCount: count * outSize, alignment: 64)
                outputCapacity = count
            }
            destination = outputBuffer!
        }
        arguments.output = destination
        arguments.count = Int64(kernelCount)
        let result = kernel(&arguments)
        // Padding pixels come after the real ones: a failure there means every real pixel succeeded.
        let failed = result >= 0 && Int(result) < count ? Int(result) : nil
        if destination != output {
            for x in 0..<(failed ?? count) {
                (output + x * outputStride).copyMemory(from: destination + x * outSize, byteCount: outSize)
            }
        }
        return failed
    }
}
