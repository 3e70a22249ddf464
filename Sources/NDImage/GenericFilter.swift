/// SciPy's LowLevelCallable ABI for generic_filter: buffer, filter_size, result, user_data; 1 = success.
public typealias FilterCallback = @convention(c) (
    UnsafeMutablePointer<Double>?, Int, UnsafeMutablePointer<Double>?, UnsafeMutableRawPointer?
) -> Int32

/// Normalises `axes` as SciPy does (negative from the end) and checks range and uniqueness.
func normalizedAxes(_ axes: [Int]?, rank: Int) throws(NDImageError) -> [Int] {
    guard let axes else { return Array(0..<rank) }
    var result: [Int] = []
    for axis in axes {
        let normal = axis < 0 ? axis + rank : axis
        guard normal >= 0, normal < rank else {
            throw .invalidArgument("axis \(axis) is out of bounds for array of dimension \(rank)")
        }
        guard !result.contains(normal) else { throw .invalidArgument("axes must be unique") }
        result.append(normal)
    }
    return result
}

/// Checks one origin against a window length: `-(s/2) <= origin <= (s-1) - s/2`.
func checkOrigin(_ origin: Int, windowLength: Int) throws(NDImageError) {
    guard origin >= -(windowLength / 2), origin <= (windowLength - 1) - windowLength / 2 else {
        throw .invalidArgument("invalid origin \(origin) for a window of length \(windowLength) "
            + "(allowed: \(-(windowLength / 2))...\((windowLength - 1) - windowLength / 2))")
    }
}

/// A validated generic_filter configuration over the full rank of the input.
///
/// The footprint dimension i and origin i belong to `axes[i]` in the order given (FilterJIT's
/// intended meaning; SciPy 1.17 ignores the order of unsorted axes, gh-22576), and a negative
/// scalar axis is normalised.
struct FilterPlan {
    /// Window length per input axis (1 on axes not filtered).
    var windowShape: [Int]
    /// Centre per input axis: `windowShape / 2 + origin`.
    var centre: [Int]
    /// Per tap (true footprint entry, C order of the full-rank footprint), its position per axis.
    var tapPositions: [[Int]]
    var mode: BoundaryMode
    var cval: Double

    init(inputShape: [Int], options: FilterOptions) throws(NDImageError) {
        let rank = inputShape.count
        let axes = try normalizedAxes(options.axes, rank: rank)
        let footprint: Footprint
        if let given = options.footprint {
            let nonZero = given.shape.filter { $0 > 0 }
            guard nonZero.count == axes.count else {
                throw .invalidArgument("footprint.ndim (\(nonZero.count)) must match len(axes) (\(axes.count))")
            }
            guard given.rank == axes.count else {
                throw .invalidArgument("footprint shape \(given.shape) has a zero-length dimension")
            }
            footprint = given
        } else if let size = options.size {
            let sizes: [Int]
            if size.count == 1 { sizes = Array(repeating: size[0], count: axes.count) }
            else if size.count == axes.count { sizes = size }
            else { throw .invalidArgument("sequence argument must have length equal to input rank") }
            // SciPy rejects a size of 0 too, with a misleading footprint.ndim message; name the size instead.
            if let bad = sizes.first(where: { $0 < 1 }) {
                throw .invalidArgument("invalid filter size \(bad): sizes must be positive")
            }
            footprint = try Footprint(size: sizes)
        } else {
            throw .invalidArgument("no footprint or filter size provided")
        }

        let origins: [Int]
        if options.origin.isEmpty { origins = Array(repeating: 0, count: axes.count) }
        else if options.origin.count == 1 { origins = Array(repeating: options.origin[0], count: axes.count) }
        else if options.origin.count == axes.count { origins = options.origin }
        else { throw .invalidArgument("sequence argument must have length equal to input rank") }

        var windowShape = Array(repeating: 1, count: rank)
        var fullOrigin = Array(repeating: 0, count: rank)
        for (i, axis) in axes.enumerated() {
            windowShape[axis] = footprint.shape[i]
            fullOrigin[axis] = origins[i]
            try checkOrigin(origins[i], windowLength: footprint.shape[i])
        }
        centre = (0..<rank).map { windowShape[$0] / 2 + fullOrigin[$0] }
        self.windowShape = windowShape

        // Taps in C order of the full-rank footprint: walk the full-rank positions in C order and
        // look each one up in the given footprint (whose axis i is input axis axes[i]).
        let fullCount = try NDArray.checkedElementCount(shape: windowShape, itemSize: 8)
        var footprintStrides = Array(repeating: 0, count: axes.count)
        var step = 1
        for i in stride(from: axes.count - 1, through: 0, by: -1) {
            footprintStrides[i] = step
            step *= footprint.shape[i]
        }
        var taps: [[Int]] = []
        var position = Array(repeating: 0, count: rank)
        for _ in 0..<fullCount {
            var flat = 0
            for (i, axis) in axes.enumerated() { flat += position[axis] * footprintStrides[i] }
            if footprint.mask[flat] { taps.append(position) }
            var axis = rank - 1
            while axis >= 0 {
                position[axis] += 1
                if position[axis] < windowShape[axis] { break }
                position[axis] = 0
                axis -= 1
            }
        }
        tapPositions = taps
        mode = options.mode
        cval = options.cval
    }
}

/// The destination of a filter: a new array of some type, or an array the caller owns.
public enum FilterOutput {
    /// A new array of the input's element type (SciPy's default).
    case sameAsInput
    /// A new array of this element type.
    case elementType(ElementType)
    /// Write into this array, which must have the input's shape. It may alias the input: unlike
    /// SciPy, the result is then still correct, because the input is then read into a private copy first.
    case array(NDArray)
}

/// Makes (or checks) the output array for an input of `shape` and `type`.
func makeOutput(_ output: FilterOutput, shape: [Int], inputType: ElementType) throws(NDImageError) -> NDArray {
    switch output {
    case .sameAsInput: return try NDArray(shape: shape, elementType: inputType)
    case .elementType(let type): return try NDArray(shape: shape, elementType: type)
    case .array(let array):
        guard array.shape == shape else {
            throw .invalidArgument("output shape not correct: \(array.shape) given, \(shape) needed")
        }
        return array
    }
}

/// A private C-ordered Double copy of an input, made only when the output may alias the input,
/// so that writing results cannot disturb the reads.
final class DoubleImage {
    let values: UnsafeMutablePointer<Double>
    let count: Int
    init(_ array: NDArray) throws(NDImageError) {
        _ = try NDArray.checkedElementCount(shape: array.shape, itemSize: MemoryLayout<Double>.stride)
        count = array.count
        guard let memory = allocateDoubles(max(count, 1)) else {
            throw .sizeTooLarge("cannot allocate a \(count)-element work copy of the input")
        }
        values = memory.assumingMemoryBound(to: Double.self)
        array.copyDoubles(into: values)
    }
    deinit { freeMemory(UnsafeMutableRawPointer(values)) }
}

/// Runs SciPy's `generic_filter` with a C callback (the LowLevelCallable ABI).
///
/// Matches scipy.ndimage.generic_filter 1.17.1 bit for bit (window position, origin sign, even
/// sizes, holed footprints, boundary modes at any distance, cval as a double, output casting),
/// with three deliberate improvements: an output aliasing the input gives the correct result;
/// very wide reflect windows use the correct periodic rule (SciPy section 2.4 bug); `axes` in any
/// order and negative scalar axes mean what they say. A callback returning 0 stops the run with
/// `NDImageError.callbackFailed` naming the output element (C-order flat index).
public func genericFilter(input: NDArray, callback: FilterCallback, userData: UnsafeMutableRawPointer? = nil,
                          options: FilterOptions, output: FilterOutput = .sameAsInput) throws(NDImageError) -> NDArray {
    try genericFilter(input: input, options: options, output: output,
                      kernel: CCallbackKernel(callback: callback, userData: userData))
}

/// Runs SciPy's `generic_filter` with a Swift closure given each window (in SciPy's buffer order).
public func genericFilter(input: NDArray, options: FilterOptions, output: FilterOutput = .sameAsInput,
                          _ function: (UnsafeBufferPointer<Double>) throws -> Double) throws(NDImageError) -> NDArray {
    try genericFilter(input: input, options: options, output: output) { buffer, count, index throws(NDImageError) in
        do { return try function(UnsafeBufferPointer(start: buffer, count: count)) }
        catch { throw .callbackThrew(elementIndex: index, message: "\(error)") }
    }
}

/// The driver behind the closure entry point, for callers inside the module.
func genericFilter(input: NDArray, options: FilterOptions, output: FilterOutput,
                   kernel: (UnsafeMutablePointer<Double>, Int, Int) throws(NDImageError) -> Double)
    throws(NDImageError) -> NDArray
{
    try withoutActuallyEscaping(kernel) { (kernel) throws(NDImageError) -> NDArray in
        try genericFilter(input: input, options: options, output: output, kernel: ClosureKernel(function: kernel))
    }
}

/// The driver behind both entry points: validate, plan the index maps, run the rows.
///
/// The input is read in place through its strides and element type, except when the output may
/// overlap it: then a private C-ordered Double copy is read instead, so no result overwrites a
/// value still to be read.
func genericFilter<Kernel: WindowKernel>(input: NDArray, options: FilterOptions, output: FilterOutput,
                                         kernel: Kernel) throws(NDImageError) -> NDArray {
    let plan = try FilterPlan(inputShape: input.shape, options: options)
    let result = try makeOutput(output, shape: input.shape, inputType: input.elementType)
    if input.isEmpty { return result }
    let runner = try FilterRunner(plan: plan, shape: input.shape)
    if input.rank > 0 && !result.mayShareMemory(with: input) {
        let inPlace = InPlaceFilterRunner(plan: plan, runner: runner, inputStrides: input.strides)
        try inPlace.run(rows: 0..<inPlace.rowCount, input: input, output: result, kernel: kernel)
    } else {
        let source = try DoubleImage(input)
        var value = 0.0
        try runner.run(rows: 0..<runner.rowCount, source: source.values, output: result) {
            buffer, count, index throws(NDImageError) in
            guard kernel.evaluate(buffer, count, index, &value) else { throw kernel.failure(at: index) }
            return value
        }
    }
    return result
}

/// The planned hot loop of generic_filter over a C-ordered Double copy of the input.
///
/// Rows are the lines along the last axis, numbered in C order; `run(rows:)` takes any range of
/// them, so the outer loop can later be split across threads.
struct FilterRunner {
    let shape: [Int]
    let rank: Int
    let tapCount: Int
    /// Element strides of the C-ordered source.
    let sourceStrides: [Int]
    /// Per tap, its linear offset from the centre element (used where the whole window is inside).
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

    init(plan: FilterPlan, shape: [Int]) throws(NDImageError) {
        self.shape = shape
        rank = shape.count
        tapCount = plan.tapPositions.count
        tapPositions = plan.tapPositions
        cval = plan.cval
        var strides = Array(repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        sourceStrides = strides
        interiorOffsets = plan.tapPositions.map { position in
            (0..<position.count).reduce(0) { $0 + (position[$1] - plan.centre[$1]) * strides[$1] }
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
        rowCount = rank == 0 ? 1 : shape.dropLast().reduce(1, *)
    }

    /// Filters the given rows into `output` (any strides, any element type).
    func run(rows: Range<Int>, source: UnsafeMutablePointer<Double>, output: NDArray,
             kernel: (UnsafeMutablePointer<Double>, Int, Int) throws(NDImageError) -> Double) throws(NDImageError)
    {
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: max(tapCount, 1))
        defer { buffer.deallocate() }
        let outType = output.elementType
        let outBase = output.firstElementPointer
        if rank == 0 {
            if tapCount > 0 { buffer[0] = source[0] }
            let value = try call(kernel, buffer, 0)
            outType.storeDouble(value, to: outBase)
            return
        }
        let last = rank - 1
        let length = shape[last]
        let lastMap = indexMaps[last]
        let lastInterior = interior[last]
        let lastStride = output.strides[last]
        // Per tap: source offset of the outer axes (or -1 when some outer axis reads cval).
        var outerOffsets = Array(repeating: 0, count: tapCount)
        let lastPositions = tapPositions.map { $0[last] }
        var index = Array(repeating: 0, count: rank)
        for row in rows {
            // The outer index of this row (C order over axes 0..<last).
            var rest = row
            for axis in stride(from: last - 1, through: 0, by: -1) {
                index[axis] = rest % shape[axis]
                rest /= shape[axis]
            }
            var outerInterior = true
            var rowSource = 0, rowOutput = 0
            for axis in 0..<last {
                if !interior[axis].contains(index[axis]) { outerInterior = false }
                rowSource += index[axis] * sourceStrides[axis]
                rowOutput += index[axis] * output.strides[axis]
            }
            for t in 0..<tapCount {
                var offset = 0
                for axis in 0..<last {
                    let mapped = indexMaps[axis][index[axis] + tapPositions[t][axis]]
                    if mapped < 0 { offset = -1; break }
                    offset += mapped * sourceStrides[axis]
                }
                outerOffsets[t] = offset
            }
            try interiorOffsets.withUnsafeBufferPointer { offsets throws(NDImageError) in
                try lastMap.withUnsafeBufferPointer { lastMap throws(NDImageError) in
                    try lastPositions.withUnsafeBufferPointer { positions throws(NDImageError) in
                        try outerOffsets.withUnsafeBufferPointer { outer throws(NDImageError) in
                            for i in 0..<length {
                                if outerInterior && lastInterior.contains(i) {
                                    // Whole window inside: one precomputed offset per tap.
                                    let centre = source + rowSource + i
                                    for t in 0..<tapCount { buffer[t] = centre[offsets[t]] }
                                } else {
                                    // Border: per-axis index maps, already through the mode.
                                    for t in 0..<tapCount {
                                        let mapped = lastMap[i + positions[t]]
                                        buffer[t] = (outer[t] < 0 || mapped < 0) ? cval : source[outer[t] + mapped]
                                    }
                                }
                                let value = try call(kernel, buffer, row * length + i)
                                outType.storeDouble(value, to: outBase + rowOutput + i * lastStride)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func call(_ kernel: (UnsafeMutablePointer<Double>, Int, Int) throws(NDImageError) -> Double,
                      _ buffer: UnsafeMutablePointer<Double>, _ flatIndex: Int) throws(NDImageError) -> Double {
        do { return try kernel(buffer, tapCount, flatIndex) }
        catch .callbackFailed { throw .callbackFailed(elementIndex: flatIndex) }
    }
}
