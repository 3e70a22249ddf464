// The driver behind `genericFilter`. It gathers each
// window straight from the input through its byte strides and element type (converting taps
// while gathering, as SciPy does), so there is no whole-image Double copy (32 MiB at 2048x2048);
// it calls a C callback directly, with no closure layer per pixel; and the element-type switches
// are resolved once per run by specialisation, not once per pixel. When the output may overlap the
// input, the same loop reads a private float64 copy instead (`runFilter(readingACopy:)`).

/// Reads one input element as a Double; a specialisation per common element type keeps the
/// conversion's `switch` out of the hot loop.
protocol TapLoader {
    func load(_ pointer: UnsafeRawPointer) -> Double
}

/// Stores one result into an output element with generic_filter's casting rules.
protocol ResultStorer {
    func store(_ value: Double, _ pointer: UnsafeMutableRawPointer)
}

/// What the hot loop calls per window: the C function pointer, or a Swift closure.
///
/// The requirement does not throw: a typed-throws requirement was called through its witness
/// thunk (not inlined) in the release library, which cost about 20% on a 5-tap kernel.
protocol WindowKernel {
    /// Writes the filter's value for the window `buffer[0..<count]` (output element `flatIndex`,
    /// C order) to `result`; false when the kernel failed (then `failure(at:)` says why).
    func evaluate(_ buffer: UnsafeMutablePointer<Double>, _ count: Int, _ flatIndex: Int,
                  _ result: UnsafeMutablePointer<Double>) -> Bool
    /// The error for the failed evaluation of element `flatIndex`.
    func failure(at flatIndex: Int) -> NDImageError
}

/// SciPy's LowLevelCallable ABI, called directly (no closure layer); 0 from the callback is a failure.
struct CCallbackKernel: WindowKernel {
    let callback: FilterCallback
    let userData: UnsafeMutableRawPointer?
    @inline(__always)
    func evaluate(_ buffer: UnsafeMutablePointer<Double>, _ count: Int, _ flatIndex: Int,
                  _ result: UnsafeMutablePointer<Double>) -> Bool {
        callback(buffer, count, result, userData) != 0
    }
    func failure(at flatIndex: Int) -> NDImageError { .callbackFailed(elementIndex: flatIndex) }
}

/// A Swift closure given (window, count, flat index); a `callbackFailed` it throws is renamed to the element.
struct ClosureKernel: WindowKernel {
    /// Where a thrown error waits for `failure(at:)`.
    final class ErrorSlot { var error: NDImageError? }
    let function: (UnsafeMutablePointer<Double>, Int, Int) throws(NDImageError) -> Double
    let slot = ErrorSlot()
    @inline(__always)
    func evaluate(_ buffer: UnsafeMutablePointer<Double>, _ count: Int, _ flatIndex: Int,
                  _ result: UnsafeMutablePointer<Double>) -> Bool {
        do { result.pointee = try function(buffer, count, flatIndex); return true }
        catch { slot.error = error; return false }
    }
    func failure(at flatIndex: Int) -> NDImageError {
        switch slot.error {
        case .callbackFailed?, nil: return .callbackFailed(elementIndex: flatIndex)
        case let error?: return error
        }
    }
}

/// float64 taps: a plain (possibly unaligned) load.
struct Float64Loader: TapLoader {
    @inline(__always) func load(_ pointer: UnsafeRawPointer) -> Double { pointer.loadUnaligned(as: Double.self) }
}

/// float32 taps.
struct Float32Loader: TapLoader {
    @inline(__always) func load(_ pointer: UnsafeRawPointer) -> Double { Double(pointer.loadUnaligned(as: Float.self)) }
}

/// uint8 and bool taps.
struct UInt8Loader: TapLoader {
    @inline(__always) func load(_ pointer: UnsafeRawPointer) -> Double { Double(pointer.load(as: UInt8.self)) }
}

/// Any other element type, through `ElementType.loadDouble` (the same conversion, switched per tap).
struct AnyTypeLoader: TapLoader {
    let type: ElementType
    @inline(__always) func load(_ pointer: UnsafeRawPointer) -> Double { type.loadDouble(from: pointer) }
}

/// float64 results: a plain store (what `storeDouble` does for float64).
struct Float64Storer: ResultStorer {
    @inline(__always) func store(_ value: Double, _ pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: value, as: Double.self)
    }
}

/// Any other output type, through `ElementType.storeDouble`.
struct AnyTypeStorer: ResultStorer {
    let type: ElementType
    @inline(__always) func store(_ value: Double, _ pointer: UnsafeMutableRawPointer) {
        type.storeDouble(value, to: pointer)
    }
}

/// The planned hot loop of generic_filter, reading the input in place through its byte strides.
///
/// Rows are the lines along the last axis, numbered in C order; `run(rows:)` takes any range of
/// them, so the outer loop can be split across threads.
struct FilterRunner {
    let shape: [Int]
    let rank: Int
    let tapCount: Int
    let inputStrides: [Int]
    /// Per tap, its byte offset from the centre element (used where the whole window is inside).
    let interiorOffsets: [Int]
    /// Per axis, `indexMaps[axis][i + k]` = the source index read by tap position k at output
    /// index i along that axis (the wanted index `i + k - centre` through the mode), or -1 for
    /// cval. Mode arithmetic is done once here, not per tap; the table has `n + window - 1` entries.
    let indexMaps: [[Int]]
    /// Per axis, the output indices whose window lies entirely inside the input.
    let interior: [Range<Int>]
    let tapPositions: [[Int]]
    let cval: Double
    let rowCount: Int

    /// Plans the loop for an input of `shape` (rank at least 1) and byte `inputStrides`.
    init(plan: FilterPlan, shape: [Int], inputStrides: [Int]) throws(NDImageError) {
        self.shape = shape
        rank = shape.count
        tapCount = plan.tapPositions.count
        tapPositions = plan.tapPositions
        cval = plan.cval
        self.inputStrides = inputStrides
        interiorOffsets = plan.tapPositions.map { position in
            // Wrapping arithmetic: the offsets are used only where the whole window is inside the
            // input (then they stay within its validated byte extent); otherwise they are ignored.
            (0..<position.count).reduce(0) { $0 &+ (position[$1] &- plan.centre[$1]) &* inputStrides[$1] }
        }
        var maps: [[Int]] = []
        var inside: [Range<Int>] = []
        for axis in 0..<rank {
            let n = shape[axis], window = plan.windowShape[axis], c = plan.centre[axis]
            let (tableLength, overflow) = n.addingReportingOverflow(window - 1)
            guard !overflow else { throw .sizeTooLarge("window of \(window) on an axis of \(n)") }
            var map = Array(repeating: -1, count: tableLength)
            for t in 0..<tableLength { map[t] = plan.mode.mapIndex(t - c, length: n) ?? -1 }
            maps.append(map)
            let low = c, high = n - window + c + 1
            inside.append(low < high ? low..<high : 0..<0)
        }
        indexMaps = maps
        interior = inside
        rowCount = shape.dropLast().reduce(1, *)
    }

    /// Filters `rows` of `input` into `output`; the two must not overlap.
    func run<Loader: TapLoader, Storer: ResultStorer, Kernel: WindowKernel>(
        rows: Range<Int>, input: NDArray, loader: Loader, output: NDArray, storer: Storer, kernel: Kernel
    ) throws(NDImageError) {
        let taps = max(tapCount, 1)
        // One allocation for the window and the per-tap tables, so the loop runs on raw pointers.
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: taps)
        let result = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        result.initialize(to: 0)
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        let outerOffsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        let outerIsCval = UnsafeMutablePointer<Bool>.allocate(capacity: taps)
        let lastPositions = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        let last = rank - 1
        let length = shape[last]
        // The last axis's index map as a raw copy, so the loop needs no closure (closures here have
        // kept the kernel call from being inlined in the release library).
        let lastMapSource = indexMaps[last]
        let lastMap = UnsafeMutablePointer<Int>.allocate(capacity: max(lastMapSource.count, 1))
        defer {
            buffer.deallocate(); result.deallocate(); offsets.deallocate(); outerOffsets.deallocate()
            outerIsCval.deallocate(); lastPositions.deallocate(); lastMap.deallocate()
        }
        for (k, mapped) in lastMapSource.enumerated() { lastMap[k] = mapped }
        for t in 0..<tapCount {
            offsets[t] = interiorOffsets[t]
            lastPositions[t] = tapPositions[t][last]
        }
        let lastInterior = interior[last]
        let inStride = inputStrides[last]
        let outStride = output.strides[last]
        let inBase = UnsafeRawPointer(input.firstElementPointer)
        let outBase = output.firstElementPointer
        let tapCount = self.tapCount, cval = self.cval
        var index = Array(repeating: 0, count: rank)

        for row in rows {
            var rest = row
            for axis in stride(from: last - 1, through: 0, by: -1) {
                index[axis] = rest % shape[axis]
                rest /= shape[axis]
            }
            var outerInterior = true
            var rowInput = 0, rowOutput = 0
            for axis in 0..<last {
                if !interior[axis].contains(index[axis]) { outerInterior = false }
                rowInput &+= index[axis] &* inputStrides[axis]
                rowOutput &+= index[axis] &* output.strides[axis]
            }
            for t in 0..<tapCount {
                var offset = 0, isCval = false
                for axis in 0..<last {
                    let mapped = indexMaps[axis][index[axis] + tapPositions[t][axis]]
                    if mapped < 0 { isCval = true; break }
                    offset &+= mapped &* inputStrides[axis]
                }
                outerOffsets[t] = offset
                outerIsCval[t] = isCval
            }
            let rowIn = inBase + rowInput
            let rowOut = outBase + rowOutput
            let flatRow = row &* length
            // Output indices low..<high have their whole window inside (none when an outer axis is at a border).
            let low = outerInterior ? min(lastInterior.lowerBound, length) : length
            let high = outerInterior ? max(lastInterior.upperBound, low) : length

            var i = 0
            while i < length {
                if i == low && low < high {
                    // Whole window inside: one precomputed byte offset per tap.
                    var centre = rowIn + low &* inStride
                    var target = rowOut + low &* outStride
                    for j in low..<high {
                        for t in 0..<tapCount { buffer[t] = loader.load(centre + offsets[t]) }
                        guard kernel.evaluate(buffer, tapCount, flatRow &+ j, result) else {
                            throw kernel.failure(at: flatRow &+ j)
                        }
                        storer.store(result.pointee, target)
                        centre += inStride
                        target += outStride
                    }
                    i = high
                    continue
                }
                // Window crosses the border: per-axis index maps, already through the mode.
                for t in 0..<tapCount {
                    let mapped = lastMap[i &+ lastPositions[t]]
                    buffer[t] = (outerIsCval[t] || mapped < 0)
                        ? cval : loader.load(inBase + (outerOffsets[t] &+ mapped &* inStride))
                }
                guard kernel.evaluate(buffer, tapCount, flatRow &+ i, result) else { throw kernel.failure(at: flatRow &+ i) }
                storer.store(result.pointee, rowOut + i &* outStride)
                i += 1
            }
        }
    }

    /// Runs `run` specialised for the input's and output's element types.
    func run<Kernel: WindowKernel>(rows: Range<Int>, input: NDArray, output: NDArray,
                                   kernel: Kernel) throws(NDImageError) {
        let outType = output.elementType
        switch input.elementType {
        case .float64:
            if outType == .float64 {
                try run(rows: rows, input: input, loader: Float64Loader(), output: output, storer: Float64Storer(),
                        kernel: kernel)
            } else {
                try run(rows: rows, input: input, loader: Float64Loader(), output: output,
                        storer: AnyTypeStorer(type: outType), kernel: kernel)
            }
        case .float32:
            try run(rows: rows, input: input, loader: Float32Loader(), output: output,
                    storer: AnyTypeStorer(type: outType), kernel: kernel)
        case .uint8, .bool:
            try run(rows: rows, input: input, loader: UInt8Loader(), output: output,
                    storer: AnyTypeStorer(type: outType), kernel: kernel)
        default:
            try run(rows: rows, input: input, loader: AnyTypeLoader(type: input.elementType), output: output,
                    storer: AnyTypeStorer(type: outType), kernel: kernel)
        }
    }
}
