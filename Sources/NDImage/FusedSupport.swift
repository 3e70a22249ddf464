// The pieces of the generic_filter / generic_filter1d drivers that a fused driver (one that runs
// compiled whole-image kernels instead of callbacks) needs, so that both validate arguments and
// place windows the same way.

/// The validated window geometry of a generic_filter run: the same plan the callback driver uses.
public struct FilterGeometry: Sendable {
    /// The input's shape.
    public let shape: [Int]
    /// Window length per input axis (1 on axes not filtered).
    public let windowShape: [Int]
    /// Centre per input axis: `windowShape / 2 + origin`.
    public let centre: [Int]
    /// The taps (true footprint entries, in SciPy's buffer order) and what the strategies ask of them.
    public let taps: TapLayout
    /// Per tap (true footprint entry, in SciPy's buffer order), its position in the window per axis.
    public var tapPositions: [[Int]] { taps.positions }
    /// The boundary mode.
    public let mode: BoundaryMode
    /// The constant value for constant modes.
    public let cval: Double

    /// Validates `options` for an input of `inputShape` exactly as `genericFilter` does.
    public init(inputShape: [Int], options: FilterOptions) throws(NDImageError) {
        let plan = try FilterPlan(inputShape: inputShape, options: options)
        shape = inputShape
        windowShape = plan.windowShape
        centre = plan.centre
        taps = plan.taps
        mode = plan.mode
        cval = plan.cval
    }

    /// The output indices along `axis` whose whole window lies inside the input (maybe empty).
    public func interior(axis: Int) -> Range<Int> {
        let low = centre[axis], high = shape[axis] - windowShape[axis] + centre[axis] + 1
        return low < high ? low..<high : 0..<0
    }

    /// Per window position `j` along `axis` (output index + tap position, `0 ..< n + window - 1`),
    /// the input index it reads through the mode, or nil for cval.
    public func indexMap(axis: Int) throws(NDImageError) -> [Int?] {
        let n = shape[axis], window = windowShape[axis], c = centre[axis]
        let (length, overflow) = n.addingReportingOverflow(window - 1)
        guard !overflow else { throw .sizeTooLarge("window of \(window) on an axis of \(n)") }
        return (0..<length).map { mode.mapIndex($0 - c, length: n) }
    }
}

/// Makes (or checks) the output array of a filter as `genericFilter` and `genericFilter1D` do.
public func makeFilterOutput(_ output: FilterOutput, shape: [Int], inputType: ElementType) throws(NDImageError) -> NDArray {
    try makeOutput(output, shape: shape, inputType: inputType)
}

/// Validates generic_filter1d's options for an input of `rank` (every engine calls this one check);
/// returns the normalised axis.
public func validatedLineFilterAxis(_ options: LineFilterOptions, rank: Int) throws(NDImageError) -> Int {
    let axis = options.axis < 0 ? options.axis + rank : options.axis
    guard axis >= 0, axis < rank else {
        throw .invalidArgument("axis \(options.axis) is out of bounds for array of dimension \(rank)")
    }
    guard options.filterSize >= 1 else { throw .invalidArgument("invalid filter size \(options.filterSize)") }
    // The same bound as a footprint's: the extended line and its index map are allocated per run, and
    // a size that malloc grants lazily (overcommit) would otherwise be filled until the OOM killer ends us.
    guard options.filterSize <= Footprint.maximumEntryCount else {
        throw .sizeTooLarge("a line filter_size of \(options.filterSize) is too large; at most \(Footprint.maximumEntryCount) is supported")
    }
    try checkOrigin(options.origin, windowLength: options.filterSize)
    return axis
}
