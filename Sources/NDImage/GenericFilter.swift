import KernelABI

/// SciPy's LowLevelCallable ABI for generic_filter: buffer, filter_size, result, user_data; 1 = success
/// (KernelABI's `fj_filter_callback`).
public typealias FilterCallback = fj_filter_callback

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
    /// The taps (true footprint entries, C order of the full-rank footprint), their positions per axis.
    var taps: TapLayout
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

        // Taps in C order of the full-rank footprint (footprint axis i is input axis axes[i]), walked once per
        // footprint (`TapLayout`); the count is checked first, as before the walk.
        _ = try NDArray.checkedElementCount(shape: windowShape, itemSize: 8)
        taps = TapLayout.of(windowShape: windowShape, axes: axes, footprint: footprint)
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

/// A private C-ordered Double copy of an input (the line driver of `genericFilter1D` reads lines from it).
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

/// The driver behind both entry points: validate and plan (`FilterGeometry`), then the one row driver
/// (`RowKernelRun`) with rows extended as float64 and `kernel` evaluated per window.
func genericFilter<Kernel: WindowKernel>(input: NDArray, options: FilterOptions, output: FilterOutput,
                                         kernel: Kernel) throws(NDImageError) -> NDArray {
    let geometry = try FilterGeometry(inputShape: input.shape, options: options)
    let result = try makeOutput(output, shape: input.shape, inputType: input.elementType)
    if input.isEmpty { return result }
    try runFilter(geometry: geometry, input: input, result: result, kernel: kernel,
                  readingACopy: result.mayShareMemory(with: input))
    return result
}

/// Filters `input` into `result`. With `readingACopy` (required when the output may overlap the
/// input, so that no result overwrites a value still to be read) a private float64 copy is read
/// instead, which gives the same bits because taps are converted to double either way.
func runFilter<Kernel: WindowKernel>(geometry: FilterGeometry, input: NDArray, result: NDArray, kernel: Kernel,
                                     readingACopy: Bool) throws(NDImageError) {
    let source = readingACopy ? try input.converted(to: .float64) : input
    if source.rank == 0 || geometry.tapPositions.isEmpty {
        // One element and one window per output element: the element itself, or nothing for an
        // all-False footprint (SciPy calls the function with an empty buffer).
        var window = source.rank == 0 ? source.elementType.loadDouble(from: source.firstElementPointer) : 0
        var value = 0.0
        var flat = 0
        var failure: NDImageError?
        result.forEachElementOffset { offset in
            guard failure == nil else { return }
            if kernel.evaluate(&window, geometry.tapPositions.count, flat, &value) {
                result.elementType.storeDouble(value, to: result.firstElementPointer + offset)
            } else {
                failure = kernel.failure(at: flat)
            }
            flat += 1
        }
        if let failure { throw failure }
        return
    }
    guard let run = RowKernelRun(input: source, geometry: geometry, output: result, rowsAsDoubles: true) else {
        throw .invalidArgument("internal error: the row driver refused a valid generic_filter run")
    }
    try run.runWindows(kernel)
}
