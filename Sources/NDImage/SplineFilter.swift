// The B-spline prefilter of scipy.ndimage (`spline_filter1d`, `spline_filter`; src/ni_splines.c of
// SciPy 1.17.1), in its exact operation order, so interpolation of orders 2 to 5 gives SciPy's bits.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The poles of the order's recursive filter (`get_filter_poles`), as SciPy writes them.
func splineFilterPoles(order: Int) -> [Double] {
    switch order {
    case 2: return [-0.171572875253809902396622551580603843]
    case 3: return [-0.267949192431122706472553658494127633]
    case 4: return [-0.361341225900220177092212841325675255, -0.013725429297339121360331226939128204]
    case 5: return [-0.430575347099973791851434783493520110, -0.043096288203264653822712376822550182]
    default: return []
    }
}

/// The boundary rule of the recursive filter's initial values, chosen by mode as `apply_filter` does.
private enum SplineBoundary {
    case mirror, wrap, reflect

    init(_ mode: InterpolationMode) {
        switch mode.canonical {
        case .gridWrap: self = .wrap
        case .nearest, .reflect, .gridMirror: self = .reflect
        case .constant, .gridConstant, .mirror, .wrap: self = .mirror
        }
    }
}

/// Filters `lanes` lines of `n` (> 1) coefficients at once, in place (`apply_filter` of ni_splines.c
/// per line): line l's element i is `c[i * lanes + l]`. Each line gets `apply_filter`'s operations in
/// its order (the gain, then per pole the boundary's causal initial value, the causal pass, the
/// anti-causal initial value and pass), so the bits are SciPy's; the lanes are independent
/// recursions the CPU runs side by side (one line's recursion waits for each multiply-add).
/// `saved` holds `lanes` doubles of scratch.
func applySplineFilter(_ c: UnsafeMutablePointer<Double>, count n: Int, lanes w: Int, poles: [Double],
                       mode: InterpolationMode, saved: UnsafeMutablePointer<Double>) {
    let boundary = SplineBoundary(mode)
    var gain = 1.0
    for z in poles { gain *= (1.0 - z) * (1.0 - 1.0 / z) }
    for k in 0..<(n * w) { c[k] *= gain }
    let last = c + (n - 1) * w
    for z in poles {
        switch boundary {
        case .mirror:
            var zi = z
            let zn1 = pow(z, Double(n - 1))
            for l in 0..<w { c[l] = c[l] + zn1 * last[l] }
            var i = 1
            while i < n - 1 {
                let row = c + i * w, mirrored = c + (n - 1 - i) * w
                for l in 0..<w { c[l] += zi * (row[l] + zn1 * mirrored[l]) }
                zi *= z
                i += 1
            }
            for l in 0..<w { c[l] /= 1 - zn1 * zn1 }
        case .wrap:
            var zi = z
            for i in 1..<n {
                let row = c + (n - i) * w
                for l in 0..<w { c[l] += zi * row[l] }
                zi *= z
            }
            for l in 0..<w { c[l] /= 1 - zi }
        case .reflect:
            // SciPy 1.17.1's version, which updates c[0] while the loop still reads it (at i = n-1)
            // and rounds in this order; SciPy's main branch (PR #24615) changed both, so its results will move.
            var zi = z
            let zn = pow(z, Double(n))
            for l in 0..<w { saved[l] = c[l] }
            for l in 0..<w { c[l] = c[l] + zn * last[l] }
            for i in 1..<n {
                let row = c + i * w, mirrored = c + (n - 1 - i) * w
                for l in 0..<w { c[l] += zi * (row[l] + zn * mirrored[l]) }
                zi *= z
            }
            for l in 0..<w { c[l] *= z / (1 - zn * zn) }
            for l in 0..<w { c[l] += saved[l] }
        }
        for i in 1..<n {
            let row = c + i * w, previous = row - w
            for l in 0..<w { row[l] += z * previous[l] }
        }
        switch boundary {
        case .mirror:
            let beforeLast = last - w
            for l in 0..<w { last[l] = (z * beforeLast[l] + last[l]) * z / (z * z - 1) }
        case .wrap:
            var zi = z
            for i in 0..<(n - 1) {
                let row = c + i * w
                for l in 0..<w { last[l] += zi * row[l] }
                zi *= z
            }
            for l in 0..<w { last[l] *= z / (zi - 1) }
        case .reflect:
            for l in 0..<w { last[l] *= z / (z - 1) }
        }
        var i = n - 2
        while i >= 0 {
            let row = c + i * w, next = row + w
            for l in 0..<w { row[l] = z * (next[l] - row[l]) }
            i -= 1
        }
    }
}

/// `scipy.ndimage.spline_filter1d(input, order, axis, output=np.float64, mode)`: a new C-ordered
/// float64 array. Orders 0 and 1 copy the input; lines of length 1 are copied unchanged.
public func splineFilter1D(_ input: NDArray, order: Int = 3, axis: Int = -1,
                           mode: InterpolationMode = .mirror, threads: Int = 1) throws(NDImageError) -> NDArray {
    guard (0...5).contains(order) else { throw .invalidArgument("spline order not supported: \(order) (expected 0 to 5)") }
    let result = try float64Copy(of: input, threads: threads)
    if order < 2 || input.rank == 0 { return result }
    let normal = axis < 0 ? axis + input.rank : axis
    guard normal >= 0, normal < input.rank else {
        throw .invalidArgument("axis \(axis) is out of bounds for array of dimension \(input.rank)")
    }
    try filterLinesInPlace(result, order: order, axis: normal, mode: mode, threads: threads)
    return result
}

/// `scipy.ndimage.spline_filter(input, order, output=np.float64, mode)`: `spline_filter1d` along
/// every axis in turn, into a new C-ordered float64 array. `threads` splits each axis's lines
/// (the bits do not depend on it).
public func splineFilter(_ input: NDArray, order: Int = 3, mode: InterpolationMode = .mirror,
                         threads: Int = 1) throws(NDImageError) -> NDArray {
    guard (2...5).contains(order) else { throw .invalidArgument("spline order not supported: \(order) (expected 2 to 5)") }
    let result = try float64Copy(of: input, threads: threads)
    for axis in 0..<input.rank { try filterLinesInPlace(result, order: order, axis: axis, mode: mode, threads: threads) }
    return result
}

/// A new C-ordered float64 copy of `input` (block copies when it already is one, split across
/// `threads`, so that the copy and the first touch of the new pages are not serial work).
private func float64Copy(of input: NDArray, threads: Int = 1) throws(NDImageError) -> NDArray {
    guard input.elementType == .float64, input.isCContiguous, input.count > 0 else { return try input.converted(to: .float64) }
    let copy = try NDArray(shape: input.shape, elementType: .float64)
    let source = input.firstElementPointer, destination = copy.firstElementPointer
    let stride = MemoryLayout<Double>.stride
    // Split only when each part has at least 1 MiB to copy.
    let chunks = RowThreads.chunks(input.count, threads: min(threads, max(1, input.count / 131_072)))
    RowThreads.forEach(chunks.count) { part in
        let range = chunks[part]
        (destination + range.lowerBound * stride).copyMemory(from: source + range.lowerBound * stride,
                                                             byteCount: range.count * stride)
    }
    return copy
}

/// Lines filtered side by side: 16 lanes are 4 AVX2 registers of independent recursions, and a
/// block of 16 lines of 2048 doubles (256 KiB) stays in L2.
private let splineFilterLanes = 16

/// Filters every line along `axis` of the C-ordered float64 `array` in place. Lines are taken a
/// block of `splineFilterLanes` neighbours at a time (neighbouring lanes of an outer axis, or
/// neighbouring rows for the last axis), gathered into a buffer with the lanes interleaved,
/// filtered side by side and scattered back; blocks are split across `threads`. The arithmetic per
/// line is unchanged.
private func filterLinesInPlace(_ array: NDArray, order: Int, axis: Int, mode: InterpolationMode,
                                threads: Int) throws(NDImageError) {
    let n = array.shape[axis]
    guard n > 1, array.count > 0 else { return }
    let poles = splineFilterPoles(order: order)
    let inner = array.strides[axis] / MemoryLayout<Double>.stride   // elements after the axis (its step)
    let outerCount = array.count / (n * inner)
    let lanes = splineFilterLanes
    // Blocks: for inner > 1, (outer, first lane) with lanes along the inner elements; for the last
    // axis, consecutive lines.
    let blocksPerOuter = inner > 1 ? (inner + lanes - 1) / lanes : 0
    let blockCount = inner > 1 ? outerCount * blocksPerOuter : (outerCount + lanes - 1) / lanes
    // The lanes, then one saved value per lane (the reflect boundary's c[0]).
    let (lineCount, overflow) = n.multipliedReportingOverflow(by: lanes)
    let bufferCount = lineCount &+ lanes
    guard !overflow, bufferCount > lineCount else { throw .sizeTooLarge("cannot allocate a \(lanes)-line buffer of \(n) doubles") }
    let chunks = RowThreads.chunks(blockCount, threads: threads)
    let base = array.firstElementPointer.assumingMemoryBound(to: Double.self)
    let failures = FirstFailure<NDImageError>()
    RowThreads.forEach(chunks.count) { chunk in
        guard let memory = allocateDoubles(bufferCount) else {
            failures.record(chunk: chunk, .sizeTooLarge("cannot allocate a \(lanes)-line buffer of \(n) doubles"))
            return
        }
        defer { freeMemory(memory) }
        let buffer = memory.assumingMemoryBound(to: Double.self)
        let saved = buffer + n * lanes
        for block in chunks[chunk] {
            if inner > 1 {
                let outer = block / blocksPerOuter, lane = (block % blocksPerOuter) * lanes
                let width = min(lanes, inner - lane)
                let start = base + outer * n * inner + lane
                for i in 0..<n {
                    let row = start + i * inner, slot = buffer + i * width
                    for l in 0..<width { slot[l] = row[l] }
                }
                applySplineFilter(buffer, count: n, lanes: width, poles: poles, mode: mode, saved: saved)
                for i in 0..<n {
                    let row = start + i * inner, slot = buffer + i * width
                    for l in 0..<width { row[l] = slot[l] }
                }
            } else {
                let first = block * lanes
                let width = min(lanes, outerCount - first)
                let start = base + first * n
                for l in 0..<width {
                    let line = start + l * n
                    for i in 0..<n { buffer[i * width + l] = line[i] }
                }
                applySplineFilter(buffer, count: n, lanes: width, poles: poles, mode: mode, saved: saved)
                for l in 0..<width {
                    let line = start + l * n
                    for i in 0..<n { line[i] = buffer[i * width + l] }
                }
            }
        }
    }
    if let failure = failures.first { throw failure }
}
