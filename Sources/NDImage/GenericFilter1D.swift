import KernelABI

/// SciPy's LowLevelCallable ABI for generic_filter1d: input_line, input_length, output_line,
/// output_length, user_data; 1 = success.
/// (KernelABI's `fj_line_filter_callback`.)
public typealias LineFilterCallback = fj_line_filter_callback

/// The arguments of `generic_filter1d` other than the input and the function.
public struct LineFilterOptions: Sendable, Equatable {
    /// The window length (`filter_size`, >= 1).
    public var filterSize: Int
    /// The axis the lines run along; negative counts from the end.
    public var axis: Int
    /// How each line is extended beyond its ends.
    public var mode: BoundaryMode
    /// The value outside the line for constant modes (a double, not cast).
    public var cval: Double
    /// The window shift, with generic_filter's sign convention.
    public var origin: Int

    /// Options with SciPy's defaults (`axis=-1`, `mode='reflect'`, `cval=0`, `origin=0`).
    public init(filterSize: Int, axis: Int = -1, mode: BoundaryMode = .reflect, cval: Double = 0, origin: Int = 0) {
        self.filterSize = filterSize
        self.axis = axis
        self.mode = mode
        self.cval = cval
        self.origin = origin
    }
}

/// Runs SciPy's `generic_filter1d` with a C callback (section 4 of the semantics).
///
/// Each line along the axis (n elements) is extended to `n + filterSize - 1` values, with
/// `filterSize / 2 + origin` before it, so `inputLine[i ..< i + filterSize]` is generic_filter's
/// window for output i. Lines are visited in C order of the other axes. The output line is
/// zero-filled before each call (SciPy leaves stale data). A callback returning 0 stops the run
/// with `NDImageError.callbackFailed` naming the line's first element (C-order flat index).
public func genericFilter1D(input: NDArray, callback: LineFilterCallback, userData: UnsafeMutableRawPointer? = nil,
                            options: LineFilterOptions, output: FilterOutput = .sameAsInput) throws(NDImageError) -> NDArray {
    try genericFilter1D(input: input, options: options, output: output) { line, lineLength, out, outLength throws(NDImageError) in
        guard callback(line, lineLength, out, outLength, userData) != 0 else { throw .callbackFailed(elementIndex: -1) }
    }
}

/// Runs SciPy's `generic_filter1d` with a Swift closure that fills the output line from the extended input line.
public func genericFilter1D(input: NDArray, options: LineFilterOptions, output: FilterOutput = .sameAsInput,
                            _ function: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> Void)
    throws(NDImageError) -> NDArray
{
    try genericFilter1D(input: input, options: options, output: output) { line, lineLength, out, outLength throws(NDImageError) in
        do {
            try function(UnsafeBufferPointer(start: line, count: lineLength),
                         UnsafeMutableBufferPointer(start: out, count: outLength))
        } catch {
            throw .callbackThrew(elementIndex: -1, message: "\(error)")
        }
    }
}

/// The line driver behind both entry points.
func genericFilter1D(input: NDArray, options: LineFilterOptions, output: FilterOutput,
                     kernel: (UnsafeMutablePointer<Double>, Int, UnsafeMutablePointer<Double>, Int) throws(NDImageError) -> Void)
    throws(NDImageError) -> NDArray
{
    // The one validation of generic_filter1d's options, shared with the fused line driver.
    let rank = input.rank
    let axis = try validatedLineFilterAxis(options, rank: rank)
    let result = try makeOutput(output, shape: input.shape, inputType: input.elementType)
    if input.isEmpty { return result }

    let source = try DoubleImage(input)
    let n = input.shape[axis]
    let before = options.filterSize / 2 + options.origin
    let (extendedLength, overflow) = n.addingReportingOverflow(options.filterSize - 1)
    guard !overflow, let lineMemory = allocateDoubles(extendedLength), let outMemory = allocateDoubles(n) else {
        throw .sizeTooLarge("cannot allocate a line of \(n) + \(options.filterSize - 1) elements")
    }
    defer { freeMemory(lineMemory); freeMemory(outMemory) }
    let line = lineMemory.assumingMemoryBound(to: Double.self)
    let outLine = outMemory.assumingMemoryBound(to: Double.self)
    // Where each extended position reads from along the line (-1: cval), computed once.
    var map = Array(repeating: -1, count: extendedLength)
    for j in 0..<extendedLength { map[j] = options.mode.mapIndex(j - before, length: n) ?? -1 }

    // Element strides of the C-ordered source.
    var sourceStrides = Array(repeating: 1, count: rank)
    for d in stride(from: rank - 2, through: 0, by: -1) { sourceStrides[d] = sourceStrides[d + 1] * input.shape[d + 1] }
    let lineStride = sourceStrides[axis]
    let outType = result.elementType
    let outBase = result.firstElementPointer
    let outLineStride = result.strides[axis]
    let otherAxes = (0..<rank).filter { $0 != axis }
    let lineCount = otherAxes.reduce(1) { $0 * input.shape[$1] }
    var index = Array(repeating: 0, count: rank)
    for lineNumber in 0..<lineCount {
        var rest = lineNumber
        for d in otherAxes.reversed() {
            index[d] = rest % input.shape[d]
            rest /= input.shape[d]
        }
        var start = 0, outStart = 0
        for d in otherAxes {
            start += index[d] * sourceStrides[d]
            outStart += index[d] * result.strides[d]
        }
        for j in 0..<extendedLength {
            let mapped = map[j]
            line[j] = mapped < 0 ? options.cval : source.values[start + mapped * lineStride]
        }
        outLine.update(repeating: 0, count: n)
        do { try kernel(line, extendedLength, outLine, n) }
        catch .callbackFailed { throw .callbackFailed(elementIndex: start) }
        catch .callbackThrew(_, let message) { throw .callbackThrew(elementIndex: start, message: message) }
        catch { throw error }
        // generic_filter1d stores with a plain C cast; on x86-64 that equals the generic_filter rule.
        for i in 0..<n { outType.storeDouble(outLine[i], to: outBase + outStart + i * outLineStride) }
    }
    return result
}
