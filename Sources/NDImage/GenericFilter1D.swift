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

/// The line driver behind both entry points: validation and the lines are `LineRun`'s (the one line
/// driver, shared with the fused engine), on one thread. An output that may overlap the input reads a
/// private float64 copy first.
func genericFilter1D(input: NDArray, options: LineFilterOptions, output: FilterOutput,
                     kernel: (UnsafeMutablePointer<Double>, Int, UnsafeMutablePointer<Double>, Int) throws(NDImageError) -> Void)
    throws(NDImageError) -> NDArray
{
    _ = try validatedLineFilterAxis(options, rank: input.rank)
    let result = try makeOutput(output, shape: input.shape, inputType: input.elementType)
    if input.isEmpty { return result }
    let source = result.mayShareMemory(with: input) ? try input.converted(to: .float64) : input
    let run = try LineRun(input: source, options: options, output: result)
    var thrown: NDImageError?
    let failure = run.run(threads: 1, reason: { "" }) { line, lineLength, out, outLength in
        do throws(NDImageError) {
            try kernel(line, lineLength, out, outLength)
            return true
        } catch {
            thrown = error
            return false
        }
    }
    if let failure {
        switch thrown {
        case .callbackThrew(_, let message)?: throw .callbackThrew(elementIndex: failure.element, message: message)
        case .callbackFailed?, nil: throw .callbackFailed(elementIndex: failure.element)
        case let error?: throw error
        }
    }
    return result
}
