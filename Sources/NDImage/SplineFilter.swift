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

/// Filters one line of `n` (> 1) coefficients in place: the gain, then per pole a causal and an
/// anti-causal pass with the boundary's initial values (`apply_filter`).
func applySplineFilter(_ c: UnsafeMutablePointer<Double>, count n: Int, poles: [Double], mode: InterpolationMode) {
    let boundary = SplineBoundary(mode)
    var gain = 1.0
    for z in poles { gain *= (1.0 - z) * (1.0 - 1.0 / z) }
    for i in 0..<n { c[i] *= gain }
    for z in poles {
        switch boundary {
        case .mirror: initCausalMirror(c, n, z)
        case .wrap: initCausalWrap(c, n, z)
        case .reflect: initCausalReflect(c, n, z)
        }
        for i in 1..<n { c[i] += z * c[i - 1] }
        switch boundary {
        case .mirror: c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1)
        case .wrap: initAnticausalWrap(c, n, z)
        case .reflect: c[n - 1] *= z / (z - 1)
        }
        var i = n - 2
        while i >= 0 {
            c[i] = z * (c[i + 1] - c[i])
            i -= 1
        }
    }
}

private func initCausalMirror(_ c: UnsafeMutablePointer<Double>, _ n: Int, _ z: Double) {
    var zi = z
    let zn1 = pow(z, Double(n - 1))
    c[0] = c[0] + zn1 * c[n - 1]
    var i = 1
    while i < n - 1 {
        c[0] += zi * (c[i] + zn1 * c[n - 1 - i])
        zi *= z
        i += 1
    }
    c[0] /= 1 - zn1 * zn1
}

private func initCausalWrap(_ c: UnsafeMutablePointer<Double>, _ n: Int, _ z: Double) {
    var zi = z
    for i in 1..<n {
        c[0] += zi * c[n - i]
        zi *= z
    }
    c[0] /= 1 - zi
}

private func initAnticausalWrap(_ c: UnsafeMutablePointer<Double>, _ n: Int, _ z: Double) {
    var zi = z
    for i in 0..<(n - 1) {
        c[n - 1] += zi * c[i]
        zi *= z
    }
    c[n - 1] *= z / (zi - 1)
}

/// SciPy 1.17.1's version, which updates c[0] while the loop still reads it (at i = n-1) and
/// rounds in this order; SciPy's main branch (PR #24615) changed both, so its results will move.
private func initCausalReflect(_ c: UnsafeMutablePointer<Double>, _ n: Int, _ z: Double) {
    var zi = z
    let zn = pow(z, Double(n))
    let c0 = c[0]
    c[0] = c[0] + zn * c[n - 1]
    for i in 1..<n {
        c[0] += zi * (c[i] + zn * c[n - 1 - i])
        zi *= z
    }
    c[0] *= z / (1 - zn * zn)
    c[0] += c0
}

/// `scipy.ndimage.spline_filter1d(input, order, axis, output=np.float64, mode)`: a new C-ordered
/// float64 array. Orders 0 and 1 copy the input; lines of length 1 are copied unchanged.
public func splineFilter1D(_ input: NDArray, order: Int = 3, axis: Int = -1,
                           mode: InterpolationMode = .mirror) throws(NDImageError) -> NDArray {
    guard (0...5).contains(order) else { throw .invalidArgument("spline order not supported: \(order) (expected 0 to 5)") }
    let result = try float64Copy(of: input)
    if order < 2 || input.rank == 0 { return result }
    let normal = axis < 0 ? axis + input.rank : axis
    guard normal >= 0, normal < input.rank else {
        throw .invalidArgument("axis \(axis) is out of bounds for array of dimension \(input.rank)")
    }
    try filterLinesInPlace(result, order: order, axis: normal, mode: mode)
    return result
}

/// `scipy.ndimage.spline_filter(input, order, output=np.float64, mode)`: `spline_filter1d` along
/// every axis in turn, into a new C-ordered float64 array.
public func splineFilter(_ input: NDArray, order: Int = 3, mode: InterpolationMode = .mirror) throws(NDImageError) -> NDArray {
    guard (2...5).contains(order) else { throw .invalidArgument("spline order not supported: \(order) (expected 2 to 5)") }
    let result = try float64Copy(of: input)
    for axis in 0..<input.rank { try filterLinesInPlace(result, order: order, axis: axis, mode: mode) }
    return result
}

/// A new C-ordered float64 copy of `input` (one block copy when it already is one).
private func float64Copy(of input: NDArray) throws(NDImageError) -> NDArray {
    guard input.elementType == .float64, input.isCContiguous, input.count > 0 else { return try input.converted(to: .float64) }
    let copy = try NDArray(shape: input.shape, elementType: .float64)
    copy.firstElementPointer.copyMemory(from: input.firstElementPointer, byteCount: input.count * MemoryLayout<Double>.stride)
    return copy
}

/// Filters every line along `axis` of the C-ordered float64 `array` in place. Lines along an outer
/// axis are strided, so they are gathered a block of neighbouring lanes at a time (each row of the
/// block is one contiguous read), filtered one by one in the buffer, and scattered back; the
/// arithmetic per line is unchanged.
private func filterLinesInPlace(_ array: NDArray, order: Int, axis: Int, mode: InterpolationMode) throws(NDImageError) {
    let n = array.shape[axis]
    guard n > 1, array.count > 0 else { return }
    let poles = splineFilterPoles(order: order)
    let inner = array.strides[axis] / MemoryLayout<Double>.stride   // elements after the axis (its step)
    let outerCount = array.count / (n * inner)
    let blockWidth = min(inner, 64)
    let (bufferCount, overflow) = n.multipliedReportingOverflow(by: blockWidth)
    guard !overflow, let memory = allocateDoubles(bufferCount) else {
        throw .sizeTooLarge("cannot allocate a \(blockWidth)-line buffer of \(n) doubles")
    }
    defer { freeMemory(memory) }
    let buffer = memory.assumingMemoryBound(to: Double.self)
    let base = array.firstElementPointer.assumingMemoryBound(to: Double.self)
    for outer in 0..<outerCount {
        var lane = 0
        while lane < inner {
            let width = min(blockWidth, inner - lane)
            let start = base + outer * n * inner + lane
            // Gather: buffer line l holds lane `lane + l`.
            for i in 0..<n {
                let row = start + i * inner
                for l in 0..<width { buffer[l * n + i] = row[l] }
            }
            for l in 0..<width { applySplineFilter(buffer + l * n, count: n, poles: poles, mode: mode) }
            for i in 0..<n {
                let row = start + i * inner
                for l in 0..<width { row[l] = buffer[l * n + i] }
            }
            lane += width
        }
    }
}
