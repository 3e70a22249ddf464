// Spline interpolation as scipy.ndimage's geometric_transform and map_coordinates do it
// (scipy/ndimage/src/ni_interpolation.c, SciPy 1.17.1), followed operation by operation so the
// results are the same bits: the coordinate remapping per mode, the tap positions and their
// remapping, the spline weights, the order of the sum, and the rounding store of integer outputs.
// docs/interpolation-semantics.md describes every rule and edge case.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the interpolation functions extend the input beyond its edges.
///
/// Unlike the filter modes, the grid-* names are not aliases here (except `grid-mirror`, which is
/// `reflect`): `wrap` has period n-1, `grid-wrap` period n; `constant` gives `cval` for a whole
/// output point outside `[0, n-1]`, `grid-constant` blends taps outside the input with `cval`.
public enum InterpolationMode: String, CaseIterable, Sendable, Hashable {
    case constant
    case nearest
    case reflect
    case mirror
    case wrap
    case gridConstant = "grid-constant"
    case gridWrap = "grid-wrap"
    case gridMirror = "grid-mirror"

    /// Parses one of SciPy's eight mode names.
    public static func parse(_ text: String) throws(NDImageError) -> InterpolationMode {
        guard let mode = InterpolationMode(rawValue: text.trimmingCharactersInWhitespace()) else {
            let names = InterpolationMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidArgument("boundary mode not supported: '\(text)' (expected one of: \(names))")
        }
        return mode
    }

    /// The mode the C code sees: `grid-mirror` is `reflect` (SciPy gives both code 2).
    var canonical: InterpolationMode { self == .gridMirror ? .reflect : self }

    /// The rule for spline taps beyond the edge (`_get_spline_boundary_mode`): modes without an
    /// exact prefilter boundary use mirror.
    var splineTapMode: InterpolationMode {
        switch canonical {
        case .constant, .wrap: return .mirror
        default: return canonical
        }
    }
}

/// The arguments shared by `geometricTransform` and `mapCoordinates` besides the input and the mapping.
public struct InterpolationOptions: Sendable, Equatable {
    /// The spline order, 0 to 5.
    public var order: Int
    /// How the input is extended beyond its edges.
    public var mode: InterpolationMode
    /// The value outside the input for `constant` and `grid-constant` (a double, not cast).
    public var cval: Double
    /// Whether the input is first converted to spline coefficients (only matters for order > 1).
    public var prefilter: Bool

    /// Options with SciPy's defaults (`order=3`, `mode='constant'`, `cval=0`, `prefilter=True`).
    public init(order: Int = 3, mode: InterpolationMode = .constant, cval: Double = 0, prefilter: Bool = true) {
        self.order = order
        self.mode = mode
        self.cval = cval
        self.prefilter = prefilter
    }

    /// SciPy's check: `RuntimeError('spline order not supported')` outside 0...5.
    func validate() throws(NDImageError) {
        guard (0...5).contains(order) else {
            throw .invalidArgument("spline order not supported: \(order) (expected 0 to 5)")
        }
    }
}

// MARK: - The C casts SciPy's arithmetic relies on

/// `(npy_intp)value` as x86-64 computes it (truncation; `Int64.min` for NaN and out of range).
@inline(__always)
func cIntp(_ value: Double) -> Int { Int(truncatingToInt64LikeX86(value)) }

/// `map_coordinate` of ni_interpolation.c: a coordinate outside `[0, n-1]` mapped by `mode`
/// (constant gives -1). Its integer products wrap as the C code's do on x86-64, so even absurd
/// coordinates give SciPy's value.
@inline(__always)
func mapInterpolationCoordinate(_ coordinate: Double, length: Int, mode: InterpolationMode) -> Double {
    var x = coordinate
    if x < 0 {
        switch mode {
        case .mirror:
            if length <= 1 { x = 0 } else {
                let period = 2 &* length &- 2
                x = Double(period &* cIntp(-x / Double(period))) + x
                x = x <= Double(1 &- length) ? x + Double(period) : -x
            }
        case .reflect, .gridMirror:
            if length <= 1 { x = 0 } else {
                let period = 2 &* length
                if x < -Double(period) { x = Double(period &* cIntp(-x / Double(period))) + x }
                // SciPy: -1e-15 check to avoid (-in - 1) == -1.
                x = x < -Double(length) ? x + Double(period) : (x > -1e-15 ? 1e-15 : -x) - 1
            }
        case .wrap:
            if length <= 1 { x = 0 } else {
                let period = length &- 1
                x += Double(period &* (cIntp(-x / Double(period)) &+ 1))
            }
        case .gridWrap:
            if length <= 1 { x = 0 } else {
                x += Double(length &* (cIntp((-1 - x) / Double(length)) &+ 1))
            }
        case .nearest:
            x = 0
        case .constant, .gridConstant:
            x = -1
        }
    } else if x > Double(length &- 1) {
        switch mode {
        case .mirror:
            if length <= 1 { x = 0 } else {
                let period = 2 &* length &- 2
                x -= Double(period &* cIntp(x / Double(period)))
                if x >= Double(length) { x = Double(period) - x }
            }
        case .reflect, .gridMirror:
            if length <= 1 { x = 0 } else {
                let period = 2 &* length
                x -= Double(period &* cIntp(x / Double(period)))
                if x >= Double(length) { x = Double(period) - x - 1 }
            }
        case .wrap:
            if length <= 1 { x = 0 } else {
                let period = length &- 1
                x -= Double(period &* cIntp(x / Double(period)))
            }
        case .gridWrap:
            if length <= 1 { x = 0 } else {
                x -= Double(length &* cIntp(x / Double(length)))
            }
        case .nearest:
            x = Double(length &- 1)
        case .constant, .gridConstant:
            x = -1
        }
    }
    return x
}

/// `get_spline_interpolation_weights` of ni_splines.c: the `order + 1` weights of the taps at
/// `x` (already remapped), in its exact operation order; the last is 1 minus the others.
@inline(__always)
func splineWeights(_ coordinate: Double, order: Int, into weights: UnsafeMutablePointer<Double>) {
    var x = coordinate
    x -= floor(order & 1 == 1 ? x : x + 0.5)
    var y = x
    var z = 1.0 - x
    var t: Double
    switch order {
    case 1:
        weights[0] = 1.0 - x
    case 2:
        weights[1] = 0.75 - x * x
        y = 0.5 - x
        weights[0] = 0.5 * y * y
    case 3:
        weights[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0
        weights[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
        weights[0] = z * z * z / 6.0
    case 4:
        t = x * x
        weights[2] = t * (t * 0.25 - 0.625) + 115.0 / 192.0
        y = 1.0 + x
        weights[1] = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        weights[3] = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
        y = 0.5 - x
        t = y * y
        weights[0] = t * t / 24.0
    case 5:
        t = y * y
        weights[2] = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55
        t = z * z
        weights[3] = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55
        y += 1.0
        weights[1] = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        z += 1.0
        weights[4] = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
        y = 1.0 - x
        t = y * y
        weights[0] = y * t * t / 120.0
    default:
        return
    }
    var last = 1.0
    for i in 0..<order { last -= weights[i] }
    weights[order] = last
}

/// Stores an interpolated value as NI_GeometricTransform does: floats and bool by C cast; integers
/// rounded half away from zero, then clamped to the type's range (unsigned: negatives and NaN give
/// 0), then converted with x86-64's C cast (uint64: a value clamped to 2^64 as a double gives 0, as in SciPy;
/// int64: 2^63 gives Int64.max).
@inline(__always)
func storeInterpolated(_ value: Double, as type: ElementType, to pointer: UnsafeMutableRawPointer) {
    @inline(__always) func unsigned(_ t: Double, max: Double) -> Double {
        var v = t > 0 ? t + 0.5 : 0
        v = v > max ? max : v
        return v < 0 ? 0 : v
    }
    @inline(__always) func signed(_ t: Double, min: Double, max: Double) -> Double {
        var v = t > 0 ? t + 0.5 : t - 0.5
        v = v > max ? max : v
        return v < min ? min : v
    }
    switch type {
    case .float64: pointer.storeBytes(of: value, as: Double.self)
    case .float32: pointer.storeBytes(of: Float(value), as: Float.self)
    case .bool: pointer.storeBytes(of: UInt8(truncatingIfNeeded: truncatingToInt32LikeX86(value)), as: UInt8.self)
    case .uint8:
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: truncatingToInt32LikeX86(unsigned(value, max: 255))), as: UInt8.self)
    case .uint16:
        pointer.storeBytes(of: UInt16(truncatingIfNeeded: truncatingToInt32LikeX86(unsigned(value, max: 65535))),
                           as: UInt16.self)
    case .uint32:
        pointer.storeBytes(of: UInt32(truncatingIfNeeded: truncatingToInt64LikeX86(unsigned(value, max: 4294967295))),
                           as: UInt32.self)
    case .uint64:
        pointer.storeBytes(of: truncatingToUInt64LikeX86(unsigned(value, max: 18446744073709551615.0)), as: UInt64.self)
    case .int8:
        pointer.storeBytes(of: Int8(truncatingIfNeeded: truncatingToInt32LikeX86(signed(value, min: -128, max: 127))),
                           as: Int8.self)
    case .int16:
        pointer.storeBytes(of: Int16(truncatingIfNeeded: truncatingToInt32LikeX86(signed(value, min: -32768, max: 32767))),
                           as: Int16.self)
    case .int32:
        pointer.storeBytes(of: truncatingToInt32LikeX86(signed(value, min: -2147483648, max: 2147483647)), as: Int32.self)
    case .int64:
        // The clamp bound 2^63 - 1 is 2^63 as a double; SciPy's build stores Int64.max for it (measured).
        let v = signed(value, min: -9223372036854775808.0, max: 9223372036854775807.0)
        pointer.storeBytes(of: v >= 9223372036854775808.0 ? Int64.max : truncatingToInt64LikeX86(v), as: Int64.self)
    }
}

// MARK: - One output point

/// The planned interpolation of one coefficient array: per-point work is `value(at:)`.
///
/// Owns scratch tables sized for one point (weights, tap byte offsets and cval flags per axis), so
/// each worker thread makes its own.
final class SplineInterpolator {
    let order: Int
    let mode: InterpolationMode
    let tapMode: InterpolationMode
    let cval: Double
    /// Added to every coordinate (12 when the prefilter padded the input, else 0).
    let padding: Double
    let rank: Int
    let shape: [Int]
    let strides: [Int]
    let base: UnsafeRawPointer
    let elementType: ElementType
    let tapsPerAxis: Int
    let filterSize: Int
    private let weights: UnsafeMutablePointer<Double>
    private let tapOffsets: UnsafeMutablePointer<Int>
    private let tapIsCval: UnsafeMutablePointer<Bool>
    private let counters: UnsafeMutablePointer<Int>
    private let shapePointer: UnsafeMutablePointer<Int>
    private let stridePointer: UnsafeMutablePointer<Int>

    /// Interpolates `coefficients` (read in place through its strides) with `options`.
    init(coefficients: NDArray, options: InterpolationOptions, padding: Int) {
        order = options.order
        mode = options.mode.canonical
        tapMode = options.mode.splineTapMode
        cval = options.cval
        self.padding = Double(padding)
        rank = coefficients.rank
        shape = coefficients.shape
        strides = coefficients.strides
        base = UnsafeRawPointer(coefficients.firstElementPointer)
        elementType = coefficients.elementType
        tapsPerAxis = order + 1
        var size = 1
        for _ in 0..<rank { size &*= tapsPerAxis }
        filterSize = size
        weights = .allocate(capacity: rank * tapsPerAxis)
        weights.initialize(repeating: 0, count: rank * tapsPerAxis)
        tapOffsets = .allocate(capacity: rank * tapsPerAxis)
        tapOffsets.initialize(repeating: 0, count: rank * tapsPerAxis)
        tapIsCval = .allocate(capacity: rank * tapsPerAxis)
        tapIsCval.initialize(repeating: false, count: rank * tapsPerAxis)
        counters = .allocate(capacity: max(rank, 1))
        shapePointer = .allocate(capacity: max(rank, 1))
        stridePointer = .allocate(capacity: max(rank, 1))
        for axis in 0..<rank {
            shapePointer[axis] = shape[axis]
            stridePointer[axis] = strides[axis]
        }
    }

    deinit {
        weights.deallocate(); tapOffsets.deallocate(); tapIsCval.deallocate()
        counters.deallocate(); shapePointer.deallocate(); stridePointer.deallocate()
    }

    /// The interpolated value at `coordinates` (`rank` of them), as NI_GeometricTransform computes it.
    @inline(__always)
    func value(at coordinates: UnsafePointer<Double>) -> Double {
        let order = self.order, taps = tapsPerAxis
        let gridConstant = mode == .gridConstant
        let remaps = mode != .gridConstant && mode != .nearest
        for axis in 0..<rank {
            let n = shapePointer[axis], stride = stridePointer[axis]
            var c = coordinates[axis] + padding
            if remaps { c = mapInterpolationCoordinate(c, length: n, mode: mode) }
            // NaN fails this test too, so a NaN coordinate gives cval (except in the two modes below).
            guard c > -1.0 || !remaps else { return cval }
            let start = (order & 1 == 1 ? cIntp(floor(c)) : cIntp(floor(c + 0.5))) &- order / 2
            let row = axis * taps
            if gridConstant {
                for k in 0...order {
                    let index = start &+ k
                    let outside = index < 0 || index >= n
                    tapIsCval[row + k] = outside
                    tapOffsets[row + k] = outside ? 0 : index &* stride
                }
            } else if start < 0 || start > n &- 1 &- order {
                // (SciPy tests `start + order >= n`, which wraps for a NaN coordinate in `nearest`
                // mode and then reads outside the input; this form cannot wrap.)
                for k in 0...order {
                    var index = cIntp(mapInterpolationCoordinate(Double(start &+ k), length: n, mode: tapMode))
                    // SciPy's own arithmetic can leave the array only for coordinates beyond 2^52,
                    // where it reads outside its buffer; FilterJIT clamps such a tap instead.
                    if index < 0 { index = 0 } else if index >= n { index = n - 1 }
                    tapOffsets[row + k] = index &* stride
                }
            } else {
                for k in 0...order { tapOffsets[row + k] = (start &+ k) &* stride }
            }
            if order != 0 { splineWeights(c, order: order, into: weights + row) }
        }

        if !gridConstant && order > 0 && rank <= 3 { return separableSum() }
        for axis in 0..<rank { counters[axis] = 0 }
        var total = 0.0
        let last = rank - 1
        for _ in 0..<filterSize {
            var offset = 0
            var isCval = false
            for axis in 0..<rank {
                let slot = axis * taps + counters[axis]
                if gridConstant && tapIsCval[slot] { isCval = true }
                offset &+= tapOffsets[slot]
            }
            var coefficient = isCval ? cval : loadCoefficient(offset)
            if order > 0 {
                for axis in 0..<rank { coefficient *= weights[axis * taps + counters[axis]] }
            }
            total += coefficient
            // Next tap in C order.
            var axis = last
            while axis >= 0 {
                counters[axis] += 1
                if counters[axis] <= order { break }
                counters[axis] = 0
                axis -= 1
            }
        }
        return total
    }

    /// The tap sum of ranks 1 to 3 without cval taps, as plain nested loops in the same order and
    /// with the same multiplications as the general loop (`((c * w0) * w1) * w2`, C order).
    @inline(__always)
    private func separableSum() -> Double {
        let order = self.order, taps = tapsPerAxis
        var total = 0.0
        switch rank {
        case 1:
            for i in 0...order { total += loadCoefficient(tapOffsets[i]) * weights[i] }
        case 2:
            let offsets1 = tapOffsets + taps, weights1 = weights + taps
            for i in 0...order {
                let row = tapOffsets[i], w0 = weights[i]
                for j in 0...order { total += loadCoefficient(row &+ offsets1[j]) * w0 * weights1[j] }
            }
        default:
            let offsets1 = tapOffsets + taps, weights1 = weights + taps
            let offsets2 = tapOffsets + 2 * taps, weights2 = weights + 2 * taps
            for i in 0...order {
                for j in 0...order {
                    let plane = tapOffsets[i] &+ offsets1[j]
                    for k in 0...order {
                        total += loadCoefficient(plane &+ offsets2[k]) * weights[i] * weights1[j] * weights2[k]
                    }
                }
            }
        }
        return total
    }

    @inline(__always)
    private func loadCoefficient(_ offset: Int) -> Double {
        let pointer = base + offset
        if elementType == .float64 { return pointer.loadUnaligned(as: Double.self) }
        return elementType.loadDouble(from: pointer)
    }
}

// MARK: - A run of output points

/// A spline order known at compile time, so that the specialised loops below unroll over the taps.
protocol StaticSplineOrder { static var order: Int { get } }
enum SplineOrder0: StaticSplineOrder { static var order: Int { 0 } }
enum SplineOrder1: StaticSplineOrder { static var order: Int { 1 } }
enum SplineOrder2: StaticSplineOrder { static var order: Int { 2 } }
enum SplineOrder3: StaticSplineOrder { static var order: Int { 3 } }
enum SplineOrder4: StaticSplineOrder { static var order: Int { 4 } }
enum SplineOrder5: StaticSplineOrder { static var order: Int { 5 } }

/// A rank known at compile time (1 to 3), for the specialised run loops below.
protocol StaticRank { static var rank: Int { get } }
enum Rank1: StaticRank { static var rank: Int { 1 } }
enum Rank2: StaticRank { static var rank: Int { 2 } }
enum Rank3: StaticRank { static var rank: Int { 3 } }

extension SplineInterpolator {
    /// Interpolates `count` points (their coordinates `rank` apart in `coordinates`) and stores the
    /// values `outputStride` bytes apart from `target` as `outputType`.
    ///
    /// Coefficients of rank 1 to 3 and of float64 (every prefiltered input), float32, uint8 or
    /// uint16 take a copy of `value(at:)` specialised for the rank, the element type and the order,
    /// with the same operations in the same order (so the same bits); everything else calls
    /// `value(at:)`.
    func interpolateRun(_ coordinates: UnsafePointer<Double>, count: Int, to target: UnsafeMutableRawPointer,
                        outputStride: Int, as outputType: ElementType) {
        if (1...3).contains(rank) {
            switch elementType {
            case .float64: return interpolateRun(Double.self, coordinates, count, target, outputStride, outputType)
            case .float32: return interpolateRun(Float.self, coordinates, count, target, outputStride, outputType)
            case .uint8: return interpolateRun(UInt8.self, coordinates, count, target, outputStride, outputType)
            case .uint16: return interpolateRun(UInt16.self, coordinates, count, target, outputStride, outputType)
            default: break
            }
        }
        var point = coordinates, destination = target
        for _ in 0..<count {
            storeInterpolated(value(at: point), as: outputType, to: destination)
            point += rank
            destination += outputStride
        }
    }

    /// Chooses the rank's copy.
    @inline(__always)
    private func interpolateRun<Element: InterpolatedElement>(_: Element.Type, _ coordinates: UnsafePointer<Double>,
                                                              _ count: Int, _ target: UnsafeMutableRawPointer,
                                                              _ outputStride: Int, _ outputType: ElementType) {
        switch rank {
        case 1: interpolateRun(Element.self, Rank1.self, coordinates, count, target, outputStride, outputType)
        case 2: interpolateRun(Element.self, Rank2.self, coordinates, count, target, outputStride, outputType)
        default: interpolateRun(Element.self, Rank3.self, coordinates, count, target, outputStride, outputType)
        }
    }

    /// Chooses the order's copy.
    @inline(__always)
    private func interpolateRun<Element: InterpolatedElement, Rank: StaticRank>(
        _: Element.Type, _: Rank.Type, _ coordinates: UnsafePointer<Double>, _ count: Int,
        _ target: UnsafeMutableRawPointer, _ outputStride: Int, _ outputType: ElementType
    ) {
        if Rank.rank == 2 && mode != .gridConstant {
            // Rank 2 keeps its own copy, whose per-axis tables live in tuples (measured the fastest).
            switch order {
            case 0: return interpolateRun2D(Element.self, SplineOrder0.self, coordinates, count, target, outputStride, outputType)
            case 1: return interpolateRun2DLinear(Element.self, coordinates, count, target, outputStride, outputType)
            case 2: return interpolateRun2D(Element.self, SplineOrder2.self, coordinates, count, target, outputStride, outputType)
            case 3: return interpolateRun2D(Element.self, SplineOrder3.self, coordinates, count, target, outputStride, outputType)
            case 4: return interpolateRun2D(Element.self, SplineOrder4.self, coordinates, count, target, outputStride, outputType)
            default: return interpolateRun2D(Element.self, SplineOrder5.self, coordinates, count, target, outputStride, outputType)
            }
        }
        switch order {
        case 0: interpolateRun(Element.self, Rank.self, SplineOrder0.self, coordinates, count, target, outputStride, outputType)
        case 1: interpolateRun(Element.self, Rank.self, SplineOrder1.self, coordinates, count, target, outputStride, outputType)
        case 2: interpolateRun(Element.self, Rank.self, SplineOrder2.self, coordinates, count, target, outputStride, outputType)
        case 3: interpolateRun(Element.self, Rank.self, SplineOrder3.self, coordinates, count, target, outputStride, outputType)
        case 4: interpolateRun(Element.self, Rank.self, SplineOrder4.self, coordinates, count, target, outputStride, outputType)
        default: interpolateRun(Element.self, Rank.self, SplineOrder5.self, coordinates, count, target, outputStride, outputType)
        }
    }

    /// Order 1 in 2-D, four points at a time: a group whose points all lie inside the input on both
    /// axes (`0 <= c < n - 1`: no remapping, no edge taps) computes its weights and sums as vectors,
    /// lane by lane the scalar code's operations in its order (`x - floor(x)`, `1 - x`, `1 - w0`,
    /// `((0 + c00 w0 v0) + c01 w0 v1) + ...`), so the bits are the same; other groups and the tail
    /// take the scalar copy.
    @inline(never)
    private func interpolateRun2DLinear<Element: InterpolatedElement>(
        _: Element.Type, _ coordinates: UnsafePointer<Double>, _ count: Int, _ target: UnsafeMutableRawPointer,
        _ outputStride: Int, _ outputType: ElementType
    ) {
        let n0 = shape[0], n1 = shape[1], stride0 = strides[0], stride1 = strides[1]
        let limit0 = SIMD4<Double>(repeating: Double(n0 &- 1)), limit1 = SIMD4<Double>(repeating: Double(n1 &- 1))
        let padding = SIMD4<Double>(repeating: self.padding), zero = SIMD4<Double>(repeating: 0)
        let one = SIMD4<Double>(repeating: 1)
        let base = self.base
        let storesDoubles = outputType == .float64
        var point = coordinates, destination = target, done = 0
        while done + 4 <= count {
            let c0 = SIMD4(point[0], point[2], point[4], point[6]) + padding
            let c1 = SIMD4(point[1], point[3], point[5], point[7]) + padding
            // Inside on both axes (false for NaN): then every mode leaves the coordinate and the taps alone.
            let inside = (c0 .>= zero) .& (c0 .< limit0) .& (c1 .>= zero) .& (c1 .< limit1)
            guard all(inside) else {
                interpolateRun2D(Element.self, SplineOrder1.self, point, 4, destination, outputStride, outputType)
                point += 8
                destination += 4 &* outputStride
                done += 4
                continue
            }
            let floor0 = c0.rounded(.down), floor1 = c1.rounded(.down)
            let weight00 = one - (c0 - floor0), weight10 = one - (c1 - floor1)
            let weight01 = one - weight00, weight11 = one - weight10
            var v00 = SIMD4<Double>(), v01 = SIMD4<Double>(), v10 = SIMD4<Double>(), v11 = SIMD4<Double>()
            for lane in 0..<4 {
                let row = Int(floor0[lane]) &* stride0, column = Int(floor1[lane]) &* stride1
                let corner = base + (row &+ column)
                v00[lane] = Element.load(corner)
                v01[lane] = Element.load(corner + stride1)
                v10[lane] = Element.load(corner + stride0)
                v11[lane] = Element.load(corner + stride0 + stride1)
            }
            var total = zero + v00 * weight00 * weight10
            total += v01 * weight00 * weight11
            total += v10 * weight01 * weight10
            total += v11 * weight01 * weight11
            for lane in 0..<4 {
                let slot = destination + lane &* outputStride
                if storesDoubles { slot.storeBytes(of: total[lane], as: Double.self) } else {
                    storeInterpolated(total[lane], as: outputType, to: slot)
                }
            }
            point += 8
            destination += 4 &* outputStride
            done += 4
        }
        if done < count {
            interpolateRun2D(Element.self, SplineOrder1.self, point, count - done, destination, outputStride, outputType)
        }
    }

    /// One axis of `value(at:)` for a point: the tap byte offsets and weights (`order + 1` each);
    /// false when the point is outside (the constant-like modes then give cval).
    @inline(__always)
    private func prepareAxis(_ coordinate: Double, order: Int, length n: Int, stride: Int,
                             offsets: UnsafeMutablePointer<Int>, weights: UnsafeMutablePointer<Double>) -> Bool {
        let remaps = mode != .nearest
        var c = coordinate + padding
        // (mapInterpolationCoordinate returns a coordinate inside [0, n-1], or NaN, unchanged:
        // testing first keeps the call off the common path.)
        if remaps && (c < 0 || c > Double(n &- 1)) { c = mapInterpolationCoordinate(c, length: n, mode: mode) }
        guard c > -1.0 || !remaps else { return false }
        let start = (order & 1 == 1 ? cIntp(floor(c)) : cIntp(floor(c + 0.5))) &- order / 2
        if start < 0 || start > n &- 1 &- order {
            for k in 0...order {
                var index = cIntp(mapInterpolationCoordinate(Double(start &+ k), length: n, mode: tapMode))
                if index < 0 { index = 0 } else if index >= n { index = n - 1 }
                offsets[k] = index &* stride
            }
        } else {
            for k in 0...order { offsets[k] = (start &+ k) &* stride }
        }
        if order != 0 { splineWeights(c, order: order, into: weights) }
        return true
    }

    /// One axis of `value(at:)` in `grid-constant` mode: no remapping, taps outside the input
    /// flagged (they read cval) and given offset 0.
    @inline(__always)
    private func prepareGridConstantAxis(_ coordinate: Double, order: Int, length n: Int, stride: Int,
                                         offsets: UnsafeMutablePointer<Int>, outside: UnsafeMutablePointer<Bool>,
                                         weights: UnsafeMutablePointer<Double>) {
        let c = coordinate + padding
        let start = (order & 1 == 1 ? cIntp(floor(c)) : cIntp(floor(c + 0.5))) &- order / 2
        for k in 0...order {
            let index = start &+ k
            let isOutside = index < 0 || index >= n
            outside[k] = isOutside
            offsets[k] = isOutside ? 0 : index &* stride
        }
        if order != 0 { splineWeights(c, order: order, into: weights) }
    }

    /// `interpolateRun` for coefficients of `Element` and rank `Rank.rank`, order `Order.order`:
    /// `value(at:)` and `separableSum` with the loops unrolled (in `grid-constant` mode, the general
    /// loop's `((cval or c) * w0) * w1 ...` per tap).
    @inline(never)
    private func interpolateRun<Element: InterpolatedElement, Rank: StaticRank, Order: StaticSplineOrder>(
        _: Element.Type, _: Rank.Type, _: Order.Type, _ coordinates: UnsafePointer<Double>, _ count: Int,
        _ target: UnsafeMutableRawPointer, _ outputStride: Int, _ outputType: ElementType
    ) {
        let order = Order.order, rank = Rank.rank, taps = Order.order + 1
        let cval = self.cval, base = self.base
        let n0 = shape[0], n1 = rank >= 2 ? shape[1] : 0, n2 = rank >= 3 ? shape[2] : 0
        let stride0 = strides[0], stride1 = rank >= 2 ? strides[1] : 0, stride2 = rank >= 3 ? strides[2] : 0
        let gridConstant = mode == .gridConstant
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * 6) { offsetBuffer in
          withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * 6) { weightBuffer in
            withUnsafeTemporaryAllocation(of: Bool.self, capacity: 3 * 6) { outsideBuffer in
                let offsets0 = offsetBuffer.baseAddress!, weights0 = weightBuffer.baseAddress!
                let offsets1 = offsets0 + taps, weights1 = weights0 + taps
                let offsets2 = offsets1 + taps, weights2 = weights1 + taps
                let outside0 = outsideBuffer.baseAddress!, outside1 = outside0 + taps, outside2 = outside1 + taps
                var point = coordinates, destination = target
                for _ in 0..<count where gridConstant {
                    prepareGridConstantAxis(point[0], order: order, length: n0, stride: stride0,
                                            offsets: offsets0, outside: outside0, weights: weights0)
                    if rank >= 2 {
                        prepareGridConstantAxis(point[1], order: order, length: n1, stride: stride1,
                                                offsets: offsets1, outside: outside1, weights: weights1)
                    }
                    if rank >= 3 {
                        prepareGridConstantAxis(point[2], order: order, length: n2, stride: stride2,
                                                offsets: offsets2, outside: outside2, weights: weights2)
                    }
                    @inline(__always) func tap(_ isOutside: Bool, _ offset: Int) -> Double {
                        isOutside ? cval : Element.load(base + offset)
                    }
                    var total = 0.0
                    if order == 0 {
                        var offset = offsets0[0], isOutside = outside0[0]
                        if rank >= 2 { offset &+= offsets1[0]; isOutside = isOutside || outside1[0] }
                        if rank >= 3 { offset &+= offsets2[0]; isOutside = isOutside || outside2[0] }
                        total += tap(isOutside, offset)
                    } else if rank == 1 {
                        for i in 0...order { total += tap(outside0[i], offsets0[i]) * weights0[i] }
                    } else if rank == 2 {
                        for i in 0...order {
                            for j in 0...order {
                                total += tap(outside0[i] || outside1[j], offsets0[i] &+ offsets1[j]) * weights0[i] * weights1[j]
                            }
                        }
                    } else {
                        for i in 0...order {
                            for j in 0...order {
                                for k in 0...order {
                                    total += tap(outside0[i] || outside1[j] || outside2[k],
                                                 offsets0[i] &+ offsets1[j] &+ offsets2[k])
                                        * weights0[i] * weights1[j] * weights2[k]
                                }
                            }
                        }
                    }
                    if outputType == .float64 {
                        destination.storeBytes(of: total, as: Double.self)
                    } else {
                        storeInterpolated(total, as: outputType, to: destination)
                    }
                    point += rank
                    destination += outputStride
                }
                for _ in 0..<count where !gridConstant {
                    var inside = prepareAxis(point[0], order: order, length: n0, stride: stride0,
                                             offsets: offsets0, weights: weights0)
                    if inside && rank >= 2 {
                        inside = prepareAxis(point[1], order: order, length: n1, stride: stride1,
                                             offsets: offsets1, weights: weights1)
                    }
                    if inside && rank >= 3 {
                        inside = prepareAxis(point[2], order: order, length: n2, stride: stride2,
                                             offsets: offsets2, weights: weights2)
                    }
                    var total = 0.0
                    if !inside {
                        total = cval
                    } else if order == 0 {
                        // The general loop's `0.0 + coefficient` (so -0.0 becomes 0.0, as in SciPy).
                        var offset = offsets0[0]
                        if rank >= 2 { offset &+= offsets1[0] }
                        if rank >= 3 { offset &+= offsets2[0] }
                        total += Element.load(base + offset)
                    } else if rank == 1 {
                        for i in 0...order { total += Element.load(base + offsets0[i]) * weights0[i] }
                    } else if rank == 2 {
                        // separableSum's order: ((c * w0) * w1), the first axis outermost.
                        for i in 0...order {
                            let row = offsets0[i], w0 = weights0[i]
                            for j in 0...order { total += Element.load(base + (row &+ offsets1[j])) * w0 * weights1[j] }
                        }
                    } else {
                        for i in 0...order {
                            for j in 0...order {
                                let plane = offsets0[i] &+ offsets1[j]
                                for k in 0...order {
                                    total += Element.load(base + (plane &+ offsets2[k])) * weights0[i] * weights1[j] * weights2[k]
                                }
                            }
                        }
                    }
                    if outputType == .float64 {
                        destination.storeBytes(of: total, as: Double.self)
                    } else {
                        storeInterpolated(total, as: outputType, to: destination)
                    }
                    point += rank
                    destination += outputStride
                }
            }
          }
        }
    }

    /// `interpolateRun` for 2-D coefficients of `Element`, not `grid-constant`, order `Order.order`.
    @inline(never)
    private func interpolateRun2D<Element: InterpolatedElement, Order: StaticSplineOrder>(
        _: Element.Type, _: Order.Type, _ coordinates: UnsafePointer<Double>, _ count: Int,
        _ target: UnsafeMutableRawPointer, _ outputStride: Int, _ outputType: ElementType
    ) {
        let order = Order.order
        let n0 = shape[0], n1 = shape[1], stride0 = strides[0], stride1 = strides[1]
        let mode = self.mode, tapMode = self.tapMode, cval = self.cval, padding = self.padding
        let remaps = mode != .nearest
        let base = self.base
        // Per axis: tap byte offsets and weights (order + 1 each), on the stack.
        var offsets0 = (0, 0, 0, 0, 0, 0), offsets1 = (0, 0, 0, 0, 0, 0)
        var weights0 = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), weights1 = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

        /// One axis of `value(at:)`: false when the point is outside (constant-like modes give cval).
        @inline(__always)
        func prepareAxis(_ coordinate: Double, _ n: Int, _ stride: Int, _ offsets: UnsafeMutablePointer<Int>,
                         _ weights: UnsafeMutablePointer<Double>) -> Bool {
            var c = coordinate + padding
            // (mapInterpolationCoordinate returns a coordinate inside [0, n-1], or NaN, unchanged:
            // testing first keeps the call off the common path.)
            if remaps && (c < 0 || c > Double(n &- 1)) { c = mapInterpolationCoordinate(c, length: n, mode: mode) }
            guard c > -1.0 || !remaps else { return false }
            let start = (order & 1 == 1 ? cIntp(floor(c)) : cIntp(floor(c + 0.5))) &- order / 2
            if start < 0 || start > n &- 1 &- order {
                for k in 0...order {
                    var index = cIntp(mapInterpolationCoordinate(Double(start &+ k), length: n, mode: tapMode))
                    if index < 0 { index = 0 } else if index >= n { index = n - 1 }
                    offsets[k] = index &* stride
                }
            } else {
                for k in 0...order { offsets[k] = (start &+ k) &* stride }
            }
            if order != 0 { splineWeights(c, order: order, into: weights) }
            return true
        }

        var point = coordinates, destination = target
        for _ in 0..<count {
            let total: Double = withUnsafeMutableBytes(of: &offsets0) { o0 in
                withUnsafeMutableBytes(of: &offsets1) { o1 in
                    withUnsafeMutableBytes(of: &weights0) { w0 in
                        withUnsafeMutableBytes(of: &weights1) { w1 in
                            let offsetsA = o0.baseAddress!.assumingMemoryBound(to: Int.self)
                            let offsetsB = o1.baseAddress!.assumingMemoryBound(to: Int.self)
                            let weightsA = w0.baseAddress!.assumingMemoryBound(to: Double.self)
                            let weightsB = w1.baseAddress!.assumingMemoryBound(to: Double.self)
                            guard prepareAxis(point[0], n0, stride0, offsetsA, weightsA),
                                  prepareAxis(point[1], n1, stride1, offsetsB, weightsB) else { return cval }
                            var total = 0.0
                            if order == 0 {
                                // The general loop's `0.0 + coefficient` (so -0.0 becomes 0.0, as in SciPy).
                                return total + Element.load(base + (offsetsA[0] &+ offsetsB[0]))
                            }
                            // separableSum's order: ((c * w0) * w1), rows of the first axis outermost.
                            for i in 0...order {
                                let row = offsetsA[i], wi = weightsA[i]
                                for j in 0...order {
                                    total += Element.load(base + (row &+ offsetsB[j])) * wi * weightsB[j]
                                }
                            }
                            return total
                        }
                    }
                }
            }
            if outputType == .float64 {
                destination.storeBytes(of: total, as: Double.self)
            } else {
                storeInterpolated(total, as: outputType, to: destination)
            }
            point += 2
            destination += outputStride
        }
    }
}

/// An element type the specialised run interpolation reads, converted exactly to a double as
/// `ElementType.loadDouble` converts it.
protocol InterpolatedElement {
    /// The element at `pointer` (any alignment) as a double.
    static func load(_ pointer: UnsafeRawPointer) -> Double
}

extension Double: InterpolatedElement {
    @inline(__always) static func load(_ pointer: UnsafeRawPointer) -> Double { pointer.loadUnaligned(as: Double.self) }
}

extension Float: InterpolatedElement {
    @inline(__always) static func load(_ pointer: UnsafeRawPointer) -> Double { Double(pointer.loadUnaligned(as: Float.self)) }
}

extension UInt8: InterpolatedElement {
    @inline(__always) static func load(_ pointer: UnsafeRawPointer) -> Double { Double(pointer.load(as: UInt8.self)) }
}

extension UInt16: InterpolatedElement {
    @inline(__always) static func load(_ pointer: UnsafeRawPointer) -> Double { Double(pointer.loadUnaligned(as: UInt16.self)) }
}
