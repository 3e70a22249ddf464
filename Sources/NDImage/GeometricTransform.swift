import KernelABI

// The driver behind `geometricTransform` and `mapCoordinates`, in scipy.ndimage's three layers:
// validate the arguments; plan (prefilter the input into spline coefficients, padded for
// `nearest` and `grid-constant` as SciPy pads); run output rows, split across threads. Every
// output point is computed on its own, so the bits do not depend on the thread count. The mapping
// is either called per point (a SciPy callback, a closure, a coordinate array) or, for FilterJIT's
// fused transforms, asked for a run of points at once (`fj_transform_row_kernel`); both feed the
// same interpolation, so the fused and callback forms give the same bits.


/// SciPy's LowLevelCallable ABI for geometric_transform: output coordinates (`output_rank`
/// integers), input coordinates to fill (`input_rank` doubles), output_rank, input_rank,
/// user_data; 1 = success.
/// (KernelABI's `fj_transform_callback`.)
public typealias TransformCallback = fj_transform_callback

/// What the row loop calls per output point to learn where to sample the input.
protocol CoordinateMapping {
    /// Fills `inputCoordinates` for the output point at `outputIndex` (flat C-order index `flat`);
    /// false when the mapping failed (then `failure(at:)`, on the same thread, says why).
    func map(_ outputIndex: UnsafeMutablePointer<Int>, _ inputCoordinates: UnsafeMutablePointer<Double>, _ flat: Int) -> Bool
    /// The error for the failed mapping of element `flat`.
    func failure(at flat: Int) -> NDImageError
}

/// A C callback with SciPy's ABI, called directly.
struct CCallbackMapping: CoordinateMapping {
    let callback: TransformCallback
    let userData: UnsafeMutableRawPointer?
    let outputRank: Int32
    let inputRank: Int32
    /// Describes the failure of the last call on the calling thread (a JIT kernel's thread-local record).
    let failureReason: (@Sendable () -> String)?

    @inline(__always)
    func map(_ outputIndex: UnsafeMutablePointer<Int>, _ inputCoordinates: UnsafeMutablePointer<Double>, _ flat: Int) -> Bool {
        callback(outputIndex, inputCoordinates, outputRank, inputRank, userData) != 0
    }

    func failure(at flat: Int) -> NDImageError {
        if let failureReason { return .callbackThrew(elementIndex: flat, message: failureReason()) }
        return .callbackFailed(elementIndex: flat)
    }
}

/// A Swift closure given the output index and the input coordinates to fill.
struct ClosureMapping: CoordinateMapping {
    final class ErrorSlot { var message: String? }
    let function: (UnsafeBufferPointer<Int>, UnsafeMutableBufferPointer<Double>) throws -> Void
    let outputRank: Int
    let inputRank: Int
    let slot = ErrorSlot()

    func map(_ outputIndex: UnsafeMutablePointer<Int>, _ inputCoordinates: UnsafeMutablePointer<Double>, _ flat: Int) -> Bool {
        do {
            try function(UnsafeBufferPointer(start: outputIndex, count: outputRank),
                         UnsafeMutableBufferPointer(start: inputCoordinates, count: inputRank))
            return true
        } catch {
            slot.message = "\(error)"
            return false
        }
    }

    func failure(at flat: Int) -> NDImageError {
        .callbackThrew(elementIndex: flat, message: slot.message ?? "mapping failed")
    }
}

/// map_coordinates: the coordinates of output point i are `coordinates[:, i...]`, read as doubles.
struct ArrayMapping: CoordinateMapping {
    let coordinates: NDArray
    /// Byte offset of `coordinates[0, i...]` from its first element, per output axis.
    let outputStrides: [Int]
    let axisStride: Int
    let inputRank: Int

    @inline(__always)
    func map(_ outputIndex: UnsafeMutablePointer<Int>, _ inputCoordinates: UnsafeMutablePointer<Double>, _ flat: Int) -> Bool {
        var offset = 0
        for axis in 0..<outputStrides.count { offset &+= outputIndex[axis] &* outputStrides[axis] }
        let base = UnsafeRawPointer(coordinates.firstElementPointer) + offset
        let type = coordinates.elementType
        for axis in 0..<inputRank { inputCoordinates[axis] = type.loadDouble(from: base + axis &* axisStride) }
        return true
    }

    func failure(at flat: Int) -> NDImageError { .callbackFailed(elementIndex: flat) }
}

/// Runs SciPy's `geometric_transform` with a C callback (the LowLevelCallable ABI).
///
/// Equal to scipy.ndimage.geometric_transform 1.17.1 bit for bit (docs/interpolation-semantics.md):
/// spline orders 0 to 5, the prefilter, all eight modes, `cval`, any output shape and rank, and
/// SciPy's rounding and clamping store for integer outputs. `threads` splits the output rows
/// (the callback must then be safe to call from several threads at once, as FilterJIT's kernels
/// are); the result does not depend on it. A callback returning 0 stops the run with
/// `callbackFailed` (or `callbackThrew` with `failureReason()`'s text, asked on the failing
/// thread) naming the first failing element in C order.
public func geometricTransform(input: NDArray, callback: TransformCallback, userData: UnsafeMutableRawPointer? = nil,
                               outputShape: [Int]? = nil, output: FilterOutput = .sameAsInput,
                               options: InterpolationOptions = InterpolationOptions(), threads: Int = 1,
                               failureReason: (@Sendable () -> String)? = nil) throws(NDImageError) -> NDArray {
    let shape = outputShape ?? input.shape
    try validateTransform(input: input, outputShape: shape, options: options)
    guard let outputRank = Int32(exactly: shape.count), let inputRank = Int32(exactly: input.rank) else {
        throw .invalidArgument("rank does not fit the callback ABI")
    }
    let mapping = CCallbackMapping(callback: callback, userData: userData, outputRank: outputRank,
                                   inputRank: inputRank, failureReason: failureReason)
    return try transform(input: input, outputShape: shape, output: output, options: options, mapping: mapping,
                         threads: threads)
}

/// Runs SciPy's `geometric_transform` with a Swift closure that fills the input coordinates of
/// each output index (one thread; a thrown error stops the run as `callbackThrew`).
public func geometricTransform(input: NDArray, outputShape: [Int]? = nil, output: FilterOutput = .sameAsInput,
                               options: InterpolationOptions = InterpolationOptions(),
                               _ mapping: (_ outputIndex: UnsafeBufferPointer<Int>,
                                           _ inputCoordinates: UnsafeMutableBufferPointer<Double>) throws -> Void)
    throws(NDImageError) -> NDArray
{
    let shape = outputShape ?? input.shape
    try validateTransform(input: input, outputShape: shape, options: options)
    return try withoutActuallyEscaping(mapping) { (mapping) throws(NDImageError) -> NDArray in
        try transform(input: input, outputShape: shape, output: output, options: options,
                      mapping: ClosureMapping(function: mapping, outputRank: shape.count, inputRank: input.rank),
                      threads: 1)
    }
}

/// Runs SciPy's `map_coordinates`: output point i is the input interpolated at `coordinates[:, i...]`
/// (any element type, read as doubles); the output shape is `coordinates.shape[1...]`.
public func mapCoordinates(input: NDArray, coordinates: NDArray, output: FilterOutput = .sameAsInput,
                           options: InterpolationOptions = InterpolationOptions(), threads: Int = 1) throws(NDImageError) -> NDArray {
    guard coordinates.rank >= 1 else {
        throw .invalidArgument("input and output rank must be > 0 (the coordinate array is 0-d)")
    }
    let shape = Array(coordinates.shape.dropFirst())
    try validateTransform(input: input, outputShape: shape, options: options)
    guard coordinates.shape[0] == input.rank else {
        throw .invalidArgument("invalid shape for coordinate array: its first axis has \(coordinates.shape[0]) entries "
            + "for a rank-\(input.rank) input")
    }
    let mapping = ArrayMapping(coordinates: coordinates, outputStrides: Array(coordinates.strides.dropFirst()),
                               axisStride: coordinates.strides[0], inputRank: input.rank)
    return try transform(input: input, outputShape: shape, output: output, options: options, mapping: mapping,
                         threads: threads)
}

/// SciPy's argument checks, in its order.
func validateTransform(input: NDArray, outputShape: [Int], options: InterpolationOptions) throws(NDImageError) {
    try options.validate()
    guard input.rank >= 1, outputShape.count >= 1 else { throw .invalidArgument("input and output rank must be > 0") }
    _ = try NDArray.checkedElementCount(shape: outputShape, itemSize: 8)
}

/// The coefficients SciPy interpolates: the input itself, or (prefilter, order > 1) its spline
/// coefficients, of the input padded by 12 samples per side for `nearest` and `grid-constant`.
/// Returns them and the padding added to every coordinate. `threads` splits the prefilter's lines.
func splineCoefficients(of input: NDArray, options: InterpolationOptions,
                        threads: Int = 1) throws(NDImageError) -> (NDArray, Int) {
    guard options.prefilter, options.order > 1 else { return (input, 0) }
    switch options.mode.canonical {
    case .nearest, .gridConstant:
        let padded = try paddedForSplineFilter(input, width: 12, mode: options.mode, cval: options.cval, threads: threads)
        return (try splineFilter(padded, order: options.order, mode: options.mode, threads: threads), 12)
    default:
        return (try splineFilter(input, order: options.order, mode: options.mode, threads: threads), 0)
    }
}

/// `np.pad(input, width, mode='edge')` for `nearest`, else `mode='constant', constant_values=cval`
/// (cval cast to the input's type first, as NumPy does), as a float64 array. Built a row at a time
/// (rows split across `threads`): each padded row reads one input row, clamped for `edge`.
func paddedForSplineFilter(_ input: NDArray, width: Int, mode: InterpolationMode, cval: Double,
                           threads: Int = 1) throws(NDImageError) -> NDArray {
    let shape = input.shape.map { $0 + 2 * width }
    let padded = try NDArray(shape: shape, elementType: .float64)
    if padded.count == 0 { return padded }
    // Only grid-constant pads with cval; NumPy casts it to the input's type first.
    let padValue = mode.canonical == .gridConstant ? try numpyPadValue(cval, as: input.elementType) : 0
    let edge = mode.canonical == .nearest
    let rank = input.rank
    let last = rank - 1
    let rowLength = shape[last], inputLength = input.shape[last], inputStride = input.strides[last]
    let rowCount = padded.count / rowLength
    let destination = padded.firstElementPointer.assumingMemoryBound(to: Double.self)
    let source = UnsafeRawPointer(input.firstElementPointer)
    let type = input.elementType
    let chunks = RowThreads.chunks(rowCount, threads: min(threads, max(1, padded.count / 65_536)))
    RowThreads.forEach(chunks.count) { part in
        for row in chunks[part] {
            // The input row this padded row reads (clamped), and whether it lies inside the input.
            var rest = row, rowInside = true, offset = 0
            for axis in stride(from: last - 1, through: 0, by: -1) {
                let i = rest % shape[axis] - width, n = input.shape[axis]
                rest /= shape[axis]
                if i < 0 || i >= n { rowInside = false }
                offset &+= min(max(i, 0), n - 1) &* input.strides[axis]
            }
            let target = destination + row * rowLength
            let inputRow = source + offset
            for j in 0..<rowLength {
                let i = j - width
                let inside = rowInside && i >= 0 && i < inputLength
                target[j] = (inside || edge)
                    ? type.loadDouble(from: inputRow + min(max(i, 0), inputLength - 1) &* inputStride) : padValue
            }
        }
    }
    return padded
}

/// `np.pad(..., constant_values=value)` for an array of `type`, as NumPy 2 stores it: signed
/// integers go through a Python int (NaN, infinities and values out of the type's range raise),
/// unsigned integers through a C cast (x86-64, wrapping), bool is `value != 0`, floats a C cast.
func numpyPadValue(_ value: Double, as type: ElementType) throws(NDImageError) -> Double {
    switch type {
    case .float64: return value
    case .float32: return Double(Float(value))
    case .bool: return value != 0 ? 1 : 0
    case .int8, .int16, .int32, .int64:
        guard value.isFinite else {
            throw .invalidArgument("cannot convert float \(value.isNaN ? "NaN" : "infinity") to integer "
                + "(cval \(value) for a \(type) input padded for 'grid-constant')")
        }
        let whole = value.rounded(.towardZero)
        let limits: (Double, Double) = switch type {
        case .int8: (-128, 127)
        case .int16: (-32768, 32767)
        case .int32: (-2147483648, 2147483647)
        default: (-9223372036854775808.0, 9223372036854775807.0)
        }
        guard whole >= limits.0, whole <= limits.1, whole < 9223372036854775808.0 else {
            throw .invalidArgument("Python integer \(Int64(exactly: whole).map(String.init) ?? "\(whole)") out of bounds for \(type) "
                + "(cval \(value) for a \(type) input padded for 'grid-constant')")
        }
        return whole
    case .uint8: return Double(UInt8(truncatingIfNeeded: truncatingToInt32LikeX86(value)))
    case .uint16: return Double(UInt16(truncatingIfNeeded: truncatingToInt32LikeX86(value)))
    case .uint32: return Double(UInt32(truncatingIfNeeded: truncatingToInt64LikeX86(value)))
    case .uint64:
        if !(value >= 9223372036854775808.0) { return Double(UInt64(bitPattern: truncatingToInt64LikeX86(value))) }
        return Double(truncatingToUInt64LikeX86(value))
    }
}

/// Plans and runs the transform into a new (or the given) output, mapping point by point.
func transform<Mapping: CoordinateMapping>(input: NDArray, outputShape: [Int], output: FilterOutput,
                                           options: InterpolationOptions, mapping: Mapping,
                                           threads: Int) throws(NDImageError) -> NDArray {
    try transform(input: input, outputShape: outputShape, output: output, options: options,
                  rowMapping: PointByPoint(mapping: mapping), threads: threads)
}

/// Plans and runs the transform into a new (or the given) output.
func transform<Mapping: RowCoordinateMapping>(input: NDArray, outputShape: [Int], output: FilterOutput,
                                              options: InterpolationOptions, rowMapping mapping: Mapping,
                                              threads: Int) throws(NDImageError) -> NDArray {
    guard threads >= 1 else { throw .invalidArgument("the thread count must be at least 1, got \(threads)") }
    let result = try makeOutput(output, shape: outputShape, inputType: input.elementType)
    if result.isEmpty { return result }
    guard !input.isEmpty else {
        throw .invalidArgument("cannot interpolate an empty input of shape \(input.shape) into a non-empty output")
    }
    var (coefficients, padding) = try splineCoefficients(of: input, options: options, threads: threads)
    // Read a private copy when the output may overwrite values still to be read (SciPy would not).
    if coefficients === input && result.mayShareMemory(with: input) {
        coefficients = try input.converted(to: .float64)
    }
    let runner = TransformRunner(coefficients: coefficients, padding: padding, options: options, output: result)
    try runner.run(mapping: mapping, threads: threads)
    return result
}

/// What the row loop asks for the input coordinates of a run of consecutive output points of one row.
protocol RowCoordinateMapping {
    /// Fills the input coordinates of the `count` points `first..<first + count` along the last output
    /// axis (`index[lastAxis]`; the leading entries of `index` hold the row's indices): point i's go to
    /// `coordinates[i * inputRank...]`, whose first point holds the previous point's coordinates on
    /// entry (SciPy's `icoor` carries over between points). `flat` is point 0's C-order element index.
    /// Returns -1, or the index i of the first point whose mapping failed.
    func mapPoints(_ index: UnsafeMutablePointer<Int>, lastAxis: Int, first: Int, count: Int,
                   coordinates: UnsafeMutablePointer<Double>, inputRank: Int, flat: Int) -> Int
    /// The error for the failed mapping of element `flat` (asked on the failing thread).
    func failure(at flat: Int) -> NDImageError
}

/// A per-point mapping (a C callback, a closure, a coordinate array), called point by point.
struct PointByPoint<Mapping: CoordinateMapping>: RowCoordinateMapping {
    let mapping: Mapping

    @inline(__always)
    func mapPoints(_ index: UnsafeMutablePointer<Int>, lastAxis: Int, first: Int, count: Int,
                   coordinates: UnsafeMutablePointer<Double>, inputRank: Int, flat: Int) -> Int {
        var point = coordinates
        for i in 0..<count {
            // A callback that leaves a coordinate unwritten leaves the previous point's (as in SciPy).
            if i > 0 { point.update(from: point - inputRank, count: inputRank) }
            index[lastAxis] = first &+ i
            guard mapping.map(index, point, flat &+ i) else { return i }
            point += inputRank
        }
        return -1
    }

    func failure(at flat: Int) -> NDImageError { mapping.failure(at: flat) }
}

/// A fused transform row kernel (`fj_transform_row_kernel`): the kernel's coordinate code compiled
/// into one loop over the points of a run, so there is no call per point.
struct FusedRowMapping: RowCoordinateMapping {
    let kernel: fj_transform_row_kernel
    let parameters: UnsafePointer<Double>
    /// Describes the failure of the last call on the calling thread (the kernel's thread-local record).
    let failureReason: @Sendable () -> String

    @inline(__always)
    func mapPoints(_ index: UnsafeMutablePointer<Int>, lastAxis: Int, first: Int, count: Int,
                   coordinates: UnsafeMutablePointer<Double>, inputRank: Int, flat: Int) -> Int {
        var arguments = fj_transform_row_arguments(
            output_index: UnsafeMutableRawPointer(index).assumingMemoryBound(to: Int64.self),
            first: Int64(first), count: Int64(count), coordinates: coordinates, parameters: parameters)
        return Int(kernel(&arguments))
    }

    func failure(at flat: Int) -> NDImageError { .callbackThrew(elementIndex: flat, message: failureReason()) }
}

/// Runs SciPy's `geometric_transform` with a fused transform row kernel (FilterJIT's `.transform`
/// variant): the same driver, interpolation and bits as the callback form, without a call per point.
/// `parameters` is the kernel's run-time parameter array (it must outlive the call); a failing
/// point stops the run with `callbackThrew` naming the first failing element in C order and
/// `failureReason()`'s text (asked on the failing thread).
public func geometricTransform(input: NDArray, rowKernel: fj_transform_row_kernel, parameters: UnsafePointer<Double>,
                               outputShape: [Int]? = nil, output: FilterOutput = .sameAsInput,
                               options: InterpolationOptions = InterpolationOptions(), threads: Int = 1,
                               failureReason: @escaping @Sendable () -> String) throws(NDImageError) -> NDArray {
    let shape = outputShape ?? input.shape
    try validateTransform(input: input, outputShape: shape, options: options)
    let mapping = FusedRowMapping(kernel: rowKernel, parameters: parameters, failureReason: failureReason)
    return try transform(input: input, outputShape: shape, output: output, options: options, rowMapping: mapping,
                         threads: threads)
}

/// The row loop: output rows (lines along the last output axis, C order) split across threads by
/// `RowThreads`; each row's points mapped a run at a time into a per-thread coordinate buffer, then
/// interpolated and stored. Every point is computed on its own, so the bits do not depend on the
/// thread count or the run length.
struct TransformRunner {
    let coefficients: NDArray
    let padding: Int
    let options: InterpolationOptions
    let output: NDArray

    /// Points mapped per call of the mapping: their coordinates stay in L1.
    static let pointsPerRun = 256

    /// Maps and interpolates every output point; the first failing element in C order is thrown.
    func run<Mapping: RowCoordinateMapping>(mapping: Mapping, threads: Int) throws(NDImageError) {
        let rowLength = output.shape[output.rank - 1]
        let rowCount = output.count / rowLength
        let chunks = RowThreads.chunks(rowCount, threads: threads)
        let failures = FirstFailure<NDImageError>()
        RowThreads.forEach(chunks.count) { chunk in
            if let error = runRows(chunks[chunk], mapping: mapping) { failures.record(chunk: chunk, error) }
        }
        if let first = failures.first { throw first }
    }

    /// Runs `rows` in C order; the error of the first failing point, or nil.
    ///
    /// (Visiting a rotation's points in tiles of 32 x 128 for locality was measured slower than whole
    /// rows, 65 ms against 38 ms for a 2048x2048 order-1 rotation: the diagonal read of a row is a
    /// steady stride the hardware prefetcher follows.)
    private func runRows<Mapping: RowCoordinateMapping>(_ rows: Range<Int>, mapping: Mapping) -> NDImageError? {
        let interpolator = SplineInterpolator(coefficients: coefficients, options: options, padding: padding)
        let outputRank = output.rank, inputRank = coefficients.rank
        let index = UnsafeMutablePointer<Int>.allocate(capacity: outputRank)
        index.initialize(repeating: 0, count: outputRank)
        let runLength = Self.pointsPerRun
        // Zeroed once, like SciPy's `icoor`: a callback that does not write a coordinate leaves the previous one.
        let coordinates = UnsafeMutablePointer<Double>.allocate(capacity: runLength * inputRank)
        coordinates.initialize(repeating: 0, count: runLength * inputRank)
        defer { index.deallocate(); coordinates.deallocate() }
        let last = outputRank - 1
        let rowLength = output.shape[last]
        let outStride = output.strides[last]
        let outBase = output.firstElementPointer
        let outType = output.elementType

        /// Points `columns` of `row`; the flat index of the first failing point, or nil.
        func runRow(_ row: Int, _ columns: Range<Int>) -> Int? {
            var rest = row
            var rowOffset = 0
            for axis in stride(from: last - 1, through: 0, by: -1) {
                index[axis] = rest % output.shape[axis]
                rest /= output.shape[axis]
                rowOffset &+= index[axis] &* output.strides[axis]
            }
            var target = outBase + rowOffset + columns.lowerBound &* outStride
            var first = columns.lowerBound
            while first < columns.upperBound {
                let count = min(runLength, columns.upperBound - first)
                let flat = row &* rowLength &+ first
                let failed = mapping.mapPoints(index, lastAxis: last, first: first, count: count,
                                               coordinates: coordinates, inputRank: inputRank, flat: flat)
                // The points before a failure are stored, as the point-by-point loop stored them.
                let mapped = failed < 0 ? count : failed
                interpolator.interpolateRun(coordinates, count: mapped, to: target, outputStride: outStride, as: outType)
                target += mapped &* outStride
                if failed >= 0 { return flat &+ failed }
                // The next run's first point starts from this run's last coordinates.
                if count > 1 { coordinates.update(from: coordinates + (count - 1) * inputRank, count: inputRank) }
                first += count
            }
            return nil
        }

        for row in rows {
            if let failed = runRow(row, 0..<rowLength) { return mapping.failure(at: failed) }
        }
        return nil
    }
}
