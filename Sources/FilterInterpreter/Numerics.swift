#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exact numeric routines of the language, bit for bit as NumPy 2.4 / CPython 3.11 compute them.
///
/// The array routines take `(pointer, count)` so the LLVM JIT can call the same code through the
/// `@_cdecl` entry points at the end of this file. A nil pointer is accepted when the count is 0.
/// Routines whose empty or invalid input is a run-time error (`pyMin`, `npMin`, `argmin`,
/// `percentile` ...) return NaN (or -1) there: callers check first and report the error.
public enum Numerics {
    // MARK: - Sums and products

    /// `np.sum` of a contiguous float64 array: NumPy's pairwise summation (ndimage-semantics.md section 7).
    public static func npSum(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return 0.0 }
        // NumPy's add.reduce starts from its identity +0.0, so an all -0.0 array sums to +0.0 at every
        // length (the n < 8 branch already starts from 0.0; the 8-accumulator branch alone would give -0.0).
        return 0.0 + pairwiseSum(a, n)
    }

    /// The recursive pairwise sum, `n >= 1`.
    private static func pairwiseSum(_ a: UnsafePointer<Double>, _ n: Int) -> Double {
        if n < 8 {
            // NumPy starts from 0.0 here, so a lone -0.0 sums to +0.0.
            var result = 0.0
            for i in 0..<n { result += a[i] }
            return result
        }
        if n <= 128 {
            var r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3]
            var r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7]
            let blockEnd = n - n % 8
            var i = 8
            while i < blockEnd {
                r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3]
                r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7]
                i += 8
            }
            var result = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < n {
                result += a[i]
                i += 1
            }
            return result
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(a, half) + pairwiseSum(a + half, n - half)
    }

    /// CPython 3.11 `sum(a)`: `0 + a[0] + a[1] + ...` in order (no compensation).
    public static func pySum(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a else { return 0.0 }
        var result = 0.0
        for i in 0..<max(n, 0) { result += a[i] }
        return result
    }

    /// `np.prod`: product from first to last (NumPy multiplies sequentially).
    public static func prod(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a else { return 1.0 }
        var result = 1.0
        for i in 0..<max(n, 0) { result *= a[i] }
        return result
    }

    /// `np.mean`: the pairwise sum divided by the count; NaN when empty.
    public static func mean(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard n > 0 else { return .nan }
        return npSum(a, n) / Double(n)
    }

    /// `np.var` (ddof 0): the pairwise sum of squared deviations from the pairwise mean, over n.
    public static func variance(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return .nan }
        let m = npSum(a, n) / Double(n)
        let squares = [Double](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n {
                let d = a[i] - m
                buffer[i] = d * d
            }
            count = n
        }
        return squares.withUnsafeBufferPointer { npSum($0.baseAddress, n) } / Double(n)
    }

    /// `np.std`: the square root of `variance`.
    public static func std(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        variance(a, n).squareRoot()
    }

    // MARK: - Order statistics

    /// The NaN-last ascending order used by every sort (`np.sort`, `sorted`, `a.sort()`).
    public static func precedesNaNLast(_ x: Double, _ y: Double) -> Bool {
        x < y || (!x.isNaN && y.isNaN)
    }

    /// Sorts in place, ascending, NaN last, stably: the order `sort(by: precedesNaNLast)` gives (the standard
    /// library guarantees its sort stable, and a stable sort by a strict weak order has one result: equal
    /// elements, -0.0 and 0.0 or NaNs of any payload, keep their order), without its allocations.
    public static func sortNaNLast(_ a: UnsafeMutablePointer<Double>?, _ n: Int) {
        guard let a, n > 1 else { return }
        if n <= stableSortRun {
            insertionSortNaNLast(a, n)
            return
        }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { scratch in
            mergeSortNaNLast(a, n, scratch: scratch.baseAddress!)
        }
    }

    /// Elements sorted by insertion before the merges.
    static let stableSortRun = 16

    /// Stable insertion sort: each element moves below only the elements it strictly precedes.
    static func insertionSortNaNLast(_ a: UnsafeMutablePointer<Double>, _ n: Int) {
        var i = 1
        while i < n {
            let x = a[i]
            var j = i
            while j > 0 && precedesNaNLast(x, a[j - 1]) {
                a[j] = a[j - 1]
                j -= 1
            }
            a[j] = x
            i += 1
        }
    }

    /// Stable bottom-up merge sort of n > `stableSortRun` elements (runs sorted by insertion, then merged
    /// through `scratch` of n elements, taking the right run's element only when it strictly precedes).
    static func mergeSortNaNLast(_ a: UnsafeMutablePointer<Double>, _ n: Int, scratch: UnsafeMutablePointer<Double>) {
        var start = 0
        while start < n {
            insertionSortNaNLast(a + start, min(stableSortRun, n - start))
            start += stableSortRun
        }
        var from = a, to = scratch
        var width = stableSortRun
        while width < n {
            var lo = 0
            while lo < n {
                let mid = min(lo + width, n), hi = min(lo + 2 * width, n)
                var i = lo, j = mid, k = lo
                while i < mid && j < hi {
                    if precedesNaNLast(from[j], from[i]) {
                        to[k] = from[j]
                        j += 1
                    } else {
                        to[k] = from[i]
                        i += 1
                    }
                    k += 1
                }
                while i < mid { to[k] = from[i]; i += 1; k += 1 }
                while j < hi { to[k] = from[j]; j += 1; k += 1 }
                lo = hi
            }
            swap(&from, &to)
            width *= 2
        }
        if from != a { a.update(from: from, count: n) }
    }

    /// `body` over a sorted (NaN-last, `sortNaNLast`) copy of `n` > 0 elements, in temporary memory.
    static func withSortedCopy<R>(_ a: UnsafePointer<Double>, _ n: Int, _ body: (UnsafePointer<Double>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { copy in
            let sorted = copy.baseAddress!
            sorted.initialize(from: a, count: n)
            sortNaNLast(sorted, n)
            return body(sorted)
        }
    }

    /// Whether any of the `n` elements is NaN.
    public static func containsNaN(_ a: UnsafePointer<Double>?, _ n: Int) -> Bool {
        guard let a else { return false }
        for i in 0..<max(n, 0) where a[i].isNaN { return true }
        return false
    }

    /// `np.median`: the middle element, or the mean of the two middle ones; NaN if any NaN or empty.
    public static func median(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0, !containsNaN(a, n) else { return .nan }
        return withSortedCopy(a, n) { sorted in
            if n % 2 == 1 { return sorted[n / 2] }
            // np.median takes np.mean of the two middle values: (0.0 + lo + hi) / 2.
            return (0.0 + sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        }
    }

    /// Whether `q` is a valid quantile, in [0, 1] (NaN is not).
    public static func isValidQuantile(_ q: Double) -> Bool { 0.0 <= q && q <= 1.0 }

    /// `np.percentile(a, q)`, linear method: `quantile(a, q / 100)`. NaN when q/100 is outside [0, 1] or empty.
    public static func percentile(_ a: UnsafePointer<Double>?, _ n: Int, _ q: Double) -> Double {
        quantile(a, n, q / 100.0)
    }

    /// `np.quantile(a, q)` with NumPy's default 'linear' method, reproducing `_quantile` and `_lerp`.
    public static func quantile(_ a: UnsafePointer<Double>?, _ n: Int, _ q: Double) -> Double {
        guard let a, n > 0, isValidQuantile(q) else { return .nan }
        return withSortedCopy(a, n) { sorted in
            if sorted[n - 1].isNaN { return .nan }
            let (previousIndex, nextIndex, gamma) = quantileIndexes(count: n, q: q)
            return lerp(sorted[previousIndex], sorted[nextIndex], gamma)
        }
    }

    /// NumPy's `_get_indexes` and gamma for the linear method: `quantile` is
    /// `lerp(sorted[previous], sorted[next], gamma)` (n > 0, q in [0, 1]).
    public static func quantileIndexes(count n: Int, q: Double) -> (previous: Int, next: Int, gamma: Double) {
        let virtualIndex = Double(n - 1) * q
        // _get_indexes: at or beyond the last index both neighbours become -1 (the last element),
        // and gamma is still computed against that -1.
        var previousRaw = virtualIndex.rounded(.down)
        var previousIndex = Int(previousRaw)
        var nextIndex = previousIndex + 1
        if virtualIndex >= Double(n - 1) {
            previousRaw = -1
            previousIndex = n - 1
            nextIndex = n - 1
        }
        return (previousIndex, nextIndex, virtualIndex - previousRaw)
    }

    /// NumPy's `_lerp(a, b, t)`: `a + (b - a) * t`, or `b - (b - a) * (1 - t)` when `t >= 0.5`.
    public static func lerp(_ a: Double, _ b: Double, _ t: Double) -> Double {
        let difference = b - a
        if t >= 0.5 { return b - difference * (1.0 - t) }
        return a + difference * t
    }

    /// CPython `min(a)`: the first element, replaced by each later strictly smaller one.
    public static func pyMin(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return .nan }
        var result = a[0]
        for i in 1..<n where a[i] < result { result = a[i] }
        return result
    }

    /// CPython `max(a)`: the first element, replaced by each later strictly greater one.
    public static func pyMax(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return .nan }
        var result = a[0]
        for i in 1..<n where a[i] > result { result = a[i] }
        return result
    }

    /// `np.min`: NaN if any element is NaN, else the least.
    public static func npMin(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return .nan }
        var result = a[0]
        for i in 0..<n {
            if a[i].isNaN { return .nan }
            if a[i] < result { result = a[i] }
        }
        return result
    }

    /// `np.max`: NaN if any element is NaN, else the greatest.
    public static func npMax(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return .nan }
        var result = a[0]
        for i in 0..<n {
            if a[i].isNaN { return .nan }
            if a[i] > result { result = a[i] }
        }
        return result
    }

    /// `np.nanmin`: the least non-NaN element; NaN when all are NaN or empty.
    public static func nanmin(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a else { return .nan }
        var result = Double.nan
        for i in 0..<max(n, 0) where !a[i].isNaN {
            if result.isNaN || a[i] < result { result = a[i] }
        }
        return result
    }

    /// `np.nanmax`: the greatest non-NaN element; NaN when all are NaN or empty.
    public static func nanmax(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a else { return .nan }
        var result = Double.nan
        for i in 0..<max(n, 0) where !a[i].isNaN {
            if result.isNaN || a[i] > result { result = a[i] }
        }
        return result
    }

    /// The elements with NaN replaced by `replacement`, and how many were not NaN.
    private static func replacingNaN(_ a: UnsafePointer<Double>?, _ n: Int, by replacement: Double) -> ([Double], Int) {
        guard let a, n > 0 else { return ([], 0) }
        var count = 0
        let copy = (0..<n).map { i -> Double in
            if a[i].isNaN { return replacement }
            count += 1
            return a[i]
        }
        return (copy, count)
    }

    /// `np.nansum`: NaN replaced by 0, then the pairwise sum (as `_nanfunctions_impl` does).
    public static func nansum(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        let (replaced, _) = replacingNaN(a, n, by: 0.0)
        return replaced.withUnsafeBufferPointer { npSum($0.baseAddress, $0.count) }
    }

    /// `np.nanmean`: `nansum / count of non-NaN` (NaN when none).
    public static func nanmean(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        let (replaced, count) = replacingNaN(a, n, by: 0.0)
        let total = replaced.withUnsafeBufferPointer { npSum($0.baseAddress, $0.count) }
        return total / Double(count)
    }

    /// `np.nanmedian` of a 1-D array: `np.median` of the non-NaN elements (NaN when none).
    public static func nanmedian(_ a: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, n > 0 else { return .nan }
        let kept = UnsafeBufferPointer(start: a, count: n).filter { !$0.isNaN }
        return kept.withUnsafeBufferPointer { median($0.baseAddress, $0.count) }
    }

    /// `np.argmin`: the index of the first NaN if any, else of the first least element; -1 when empty.
    public static func argmin(_ a: UnsafePointer<Double>?, _ n: Int) -> Int {
        guard let a, n > 0 else { return -1 }
        var best = 0
        for i in 0..<n {
            if a[i].isNaN { return i }
            if a[i] < a[best] { best = i }
        }
        return best
    }

    /// `np.argmax`: the index of the first NaN if any, else of the first greatest element; -1 when empty.
    public static func argmax(_ a: UnsafePointer<Double>?, _ n: Int) -> Int {
        guard let a, n > 0 else { return -1 }
        var best = 0
        for i in 0..<n {
            if a[i].isNaN { return i }
            if a[i] > a[best] { best = i }
        }
        return best
    }

    /// `np.any`: some element is non-zero (NaN is true).
    public static func any(_ a: UnsafePointer<Double>?, _ n: Int) -> Bool {
        guard let a else { return false }
        for i in 0..<max(n, 0) where a[i] != 0 { return true }
        return false
    }

    /// `np.all`: every element is non-zero.
    public static func all(_ a: UnsafePointer<Double>?, _ n: Int) -> Bool {
        guard let a else { return true }
        for i in 0..<max(n, 0) where a[i] == 0 { return false }
        return true
    }

    // MARK: - Float division (NumPy npy_divmod, npy_floor_divide, npy_remainder)

    /// The CPython / NumPy `divmod` of two floats with a non-zero divisor: (floor quotient, modulo).
    private static func divmod(_ a: Double, _ b: Double) -> (quotient: Double, modulo: Double) {
        var mod = fmod(a, b)
        var div = (a - mod) / b
        if mod != 0 {
            if (b < 0) != (mod < 0) {
                mod += b
                div -= 1.0
            }
        } else {
            mod = copysign(0.0, b)
        }
        var floorDiv: Double
        if div != 0 {
            floorDiv = floor(div)
            if div - floorDiv > 0.5 { floorDiv += 1.0 }
        } else {
            floorDiv = copysign(0.0, a / b)
        }
        return (floorDiv, mod)
    }

    /// Float `a // b` as NumPy's `npy_floor_divide`: a zero divisor gives `a / b`.
    public static func floorDivide(_ a: Double, _ b: Double) -> Double {
        if b == 0 { return a / b }
        return divmod(a, b).quotient
    }

    /// Float `a % b` as NumPy's `npy_remainder`: sign of the divisor; a zero divisor gives `fmod(a, b)` (NaN).
    public static func remainder(_ a: Double, _ b: Double) -> Double {
        if b == 0 { return fmod(a, b) }
        return divmod(a, b).modulo
    }

    // MARK: - Integer arithmetic (64-bit, wrapping)

    /// Python `a // b` on 64-bit ints; nil for a zero divisor; `Int64.min // -1` wraps to `Int64.min`.
    public static func floorDivide(_ a: Int64, _ b: Int64) -> Int64? {
        if b == 0 { return nil }
        if b == -1 { return 0 &- a }
        let q = a / b
        let r = a % b
        return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q
    }

    /// Python `a % b` on 64-bit ints (sign of the divisor); nil for a zero divisor; `Int64.min % -1 == 0`.
    public static func modulo(_ a: Int64, _ b: Int64) -> Int64? {
        if b == 0 { return nil }
        if b == -1 { return 0 }
        let r = a % b
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
    }

    /// `a ** b` for a non-negative int exponent: repeated multiplication, wrapping (by squaring; same bits).
    public static func power(_ base: Int64, _ exponent: Int64) -> Int64 {
        var result: Int64 = 1
        var factor = base
        var e = exponent
        while e > 0 {
            if e & 1 == 1 { result = result &* factor }
            factor = factor &* factor
            e >>= 1
        }
        return result
    }

    /// `abs` on an int, wrapping: `abs(Int64.min) == Int64.min`.
    public static func abs(_ x: Int64) -> Int64 { x < 0 ? 0 &- x : x }

    // MARK: - Float to int

    /// The double truncated toward zero as an `Int64`, or nil for NaN, ±inf or outside [-2^63, 2^63).
    public static func truncatedInt(_ x: Double) -> Int64? {
        guard x.isFinite, x >= -9_223_372_036_854_775_808.0, x < 9_223_372_036_854_775_808.0 else { return nil }
        return Int64(x)
    }

    /// Python `round(x)` (half to even) as an int; nil where `truncatedInt` fails.
    public static func roundedInt(_ x: Double) -> Int64? { truncatedInt(x.rounded(.toNearestOrEven)) }

    /// `math.floor(x)` as an int; nil where `truncatedInt` fails.
    public static func floorInt(_ x: Double) -> Int64? { truncatedInt(x.rounded(.down)) }

    /// `math.ceil(x)` as an int; nil where `truncatedInt` fails.
    public static func ceilInt(_ x: Double) -> Int64? { truncatedInt(x.rounded(.up)) }

    // MARK: - Scalar float helpers

    /// `np.minimum`: NaN if either is NaN. As NumPy's loop, `(x <= y || isnan(x)) ? x : y`, so a NaN
    /// result is the NaN operand itself (its sign bit survives into `copysign`).
    public static func minimum(_ x: Double, _ y: Double) -> Double {
        x <= y || x.isNaN ? x : y
    }

    /// `np.maximum`: NaN if either is NaN, `(x >= y || isnan(x)) ? x : y`.
    public static func maximum(_ x: Double, _ y: Double) -> Double {
        x >= y || x.isNaN ? x : y
    }

    /// `np.fmin`: the non-NaN one when one is NaN.
    public static func fmin(_ x: Double, _ y: Double) -> Double {
        if x.isNaN { return y }
        if y.isNaN { return x }
        return y < x ? y : x
    }

    /// `np.fmax`: the non-NaN one when one is NaN.
    public static func fmax(_ x: Double, _ y: Double) -> Double {
        if x.isNaN { return y }
        if y.isNaN { return x }
        return y > x ? y : x
    }

    /// `np.clip(x, lo, hi)` = `minimum(maximum(x, lo), hi)`.
    public static func clip(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
        minimum(maximum(x, lo), hi)
    }

    /// `np.round` / `np.rint`: half to even, as a float.
    public static func roundHalfEven(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }
}

// MARK: - C entry points for the JIT

/// C entry point of `Numerics.npSum`.
@_cdecl("filterjit_np_sum") public func filterjitNpSum(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.npSum(a, n) }
/// C entry point of `Numerics.pySum`.
@_cdecl("filterjit_py_sum") public func filterjitPySum(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.pySum(a, n) }
/// C entry point of `Numerics.prod`.
@_cdecl("filterjit_prod") public func filterjitProd(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.prod(a, n) }
/// C entry point of `Numerics.mean`.
@_cdecl("filterjit_mean") public func filterjitMean(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.mean(a, n) }
/// C entry point of `Numerics.variance`.
@_cdecl("filterjit_variance") public func filterjitVariance(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.variance(a, n) }
/// C entry point of `Numerics.std`.
@_cdecl("filterjit_std") public func filterjitStd(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.std(a, n) }
/// C entry point of `Numerics.median`.
@_cdecl("filterjit_median") public func filterjitMedian(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.median(a, n) }
/// C entry point of `Numerics.percentile` (caller checks q/100 in [0, 1] and n > 0 first).
@_cdecl("filterjit_percentile") public func filterjitPercentile(_ a: UnsafePointer<Double>?, _ n: Int, _ q: Double) -> Double { Numerics.percentile(a, n, q) }
/// C entry point of `Numerics.quantile` (caller checks q in [0, 1] and n > 0 first).
@_cdecl("filterjit_quantile") public func filterjitQuantile(_ a: UnsafePointer<Double>?, _ n: Int, _ q: Double) -> Double { Numerics.quantile(a, n, q) }
/// C entry point of `Numerics.nansum`.
@_cdecl("filterjit_nansum") public func filterjitNansum(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.nansum(a, n) }
/// C entry point of `Numerics.nanmean`.
@_cdecl("filterjit_nanmean") public func filterjitNanmean(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.nanmean(a, n) }
/// C entry point of `Numerics.nanmedian`.
@_cdecl("filterjit_nanmedian") public func filterjitNanmedian(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.nanmedian(a, n) }
/// C entry point of `Numerics.nanmin`.
@_cdecl("filterjit_nanmin") public func filterjitNanmin(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.nanmin(a, n) }
/// C entry point of `Numerics.nanmax`.
@_cdecl("filterjit_nanmax") public func filterjitNanmax(_ a: UnsafePointer<Double>?, _ n: Int) -> Double { Numerics.nanmax(a, n) }
/// C entry point of `Numerics.sortNaNLast` (sorts in place).
@_cdecl("filterjit_sort") public func filterjitSort(_ a: UnsafeMutablePointer<Double>?, _ n: Int) { Numerics.sortNaNLast(a, n) }
/// C entry point of float floor division (`npy_floor_divide`).
@_cdecl("filterjit_floor_divide") public func filterjitFloorDivide(_ a: Double, _ b: Double) -> Double { Numerics.floorDivide(a, b) }
/// C entry point of float modulo (`npy_remainder`).
@_cdecl("filterjit_remainder") public func filterjitRemainder(_ a: Double, _ b: Double) -> Double { Numerics.remainder(a, b) }

extension Numerics {
    /// The positions `a[start:stop:step]` reads in an array of `count` elements, by Python's slice
    /// rules (`PySlice_AdjustIndices`): absent bounds default by the step's sign, negative ones count
    /// from the end, out-of-range ones clamp. `step` must not be 0.
    public static func slicePositions(count: Int64, start: Int64?, stop: Int64?, step: Int64) -> [Int] {
        let bounds = sliceBounds(count: count, start: start, stop: stop, step: step)
        // Only k = 0 exists when |step| exceeds the array, so the products stay in range.
        return (0..<Int(bounds.length)).map { Int(bounds.start &+ Int64($0) &* step) }
    }

    /// The first position and the length of `a[start:stop:step]` (see `slicePositions`).
    public static func sliceBounds(count: Int64, start: Int64?, stop: Int64?, step: Int64) -> (start: Int64, length: Int64) {
        func adjust(_ value: Int64?, default defaultValue: Int64) -> Int64 {
            guard var value else { return defaultValue }
            if value < 0 {
                value = value &+ count
                if value < 0 { value = step < 0 ? -1 : 0 }
            } else if value >= count {
                value = step < 0 ? count - 1 : count
            }
            return value
        }
        let first = adjust(start, default: step < 0 ? count - 1 : 0)
        let last = adjust(stop, default: step < 0 ? -1 : count)
        // In magnitudes, so that a step of Int64.min does not overflow; first and last lie in -1...count.
        let span: UInt64 = step < 0 ? (last < first ? UInt64(first - last - 1) : UInt64.max)
                                    : (first < last ? UInt64(last - first - 1) : UInt64.max)
        let length: Int64 = span == UInt64.max ? 0 : Int64(span / step.magnitude) + 1
        return (first, length)
    }
}

extension Numerics {
    /// `math.hypot(x, y)` as CPython 3.11 computes it (`math_hypot` and `vector_norm` in
    /// Modules/mathmodule.c: power-of-two scaling, Veltkamp-Dekker squares, compensated summation and
    /// a differential correction of the square root; below 2^-1024 a division by the largest), which is more accurate than libm's `hypot` and
    /// differs from it in the last bit for some inputs. Shared by the interpreter and the JIT.
    public static func hypot(_ a: Double, _ b: Double) -> Double {
        let x = Swift.abs(a), y = Swift.abs(b)
        var largest = 0.0
        if x > largest { largest = x }
        if y > largest { largest = y }
        return vectorNorm(x, y, largest, foundNaN: x.isNaN || y.isNaN)
    }

    /// CPython 3.11's `vector_norm` for two coordinates (|x| and |y|, `largest` the greater).
    private static func vectorNorm(_ x0: Double, _ x1: Double, _ largest: Double, foundNaN: Bool) -> Double {
        if largest.isInfinite { return largest }
        if foundNaN { return .nan }
        if largest == 0.0 { return largest }
        var exponent: Int32 = 0
        _ = frexp(largest, &exponent)
        guard exponent >= -1023 else {
            // ldexp(1.0, -exponent) would overflow: divide by the largest instead.
            var csum = 1.0, frac = 0.0
            for value in [x0, x1] {
                var x = value / largest
                x = x * x
                let old = csum
                csum += x
                frac += (old - csum) + x
            }
            return largest * sqrt(csum - 1.0 + frac)
        }
        let t27 = 134217729.0  // 2^27 + 1, Veltkamp-Dekker splitting
        let scale = ldexp(1.0, -exponent)
        var csum = 1.0, frac1 = 0.0, frac2 = 0.0, frac3 = 0.0
        func accumulate(_ term: Double, into frac: inout Double) {
            let old = csum
            csum += term
            frac += (old - csum) + term
        }
        for value in [x0, x1] {
            let x = value * scale
            let t = x * t27
            let hi = t - (t - x), lo = x - hi
            accumulate(hi * hi, into: &frac1)
            accumulate(2.0 * hi * lo, into: &frac2)
            frac3 += lo * lo
        }
        let h = sqrt(csum - 1.0 + (frac1 + frac2 + frac3))
        let t = h * t27
        let hi = t - (t - h), lo = h - hi
        accumulate(-hi * hi, into: &frac1)
        accumulate(-2.0 * hi * lo, into: &frac2)
        accumulate(-lo * lo, into: &frac3)
        let x = csum - 1.0 + (frac1 + frac2 + frac3)
        return (h + x / (2.0 * h)) / scale
    }
}

extension Numerics {
    /// `np.dot(a, b)` of contiguous float64 vectors, with the bits NumPy 2.4's x86-64 wheels give: NumPy calls
    /// OpenBLAS's `ddot`; with AVX-512 its SkylakeX kernel (one thread
    /// below 10,000 elements) sums the first `n & ~15` products in vector accumulators and the rest
    /// one by one, every step a fused multiply-add:
    /// - blocks of 32: four 8-lane accumulators, `z[k][l] = fma(a, b, z[k][l])` for element 32i + 8k + l;
    ///   then each folds to 4 lanes, `z[k][l] + z[k][l + 4]`;
    /// - a remaining block of 16: four 4-lane accumulators, element 16i + 4k + l;
    /// - `((acc0 + acc1) + acc2) + acc3` lane by lane, then `(s0 + s2) + (s1 + s3)`;
    /// - the last `n % 16` products: `dot = fma(a[i], b[i], dot)` in order.
    /// Checked against `np.dot` on random vectors of every length up to 300 (python/tests).
    /// On a CPU without AVX-512, OpenBLAS runs its Haswell kernel instead (`dotHaswellOrder`).
    public static func dot(_ a: UnsafePointer<Double>?, _ b: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, let b, n > 0 else { return 0.0 }
        if !openBLASRunsSkylakeXKernels { return dotHaswellOrder(a, b, n) }
        var dot = 0.0
        let blocked = n & ~15
        if blocked > 0 {
            var accumulators = [SIMD4<Double>](repeating: .zero, count: 4)
            var i = 0
            let wide = blocked & ~31
            if wide > 0 {
                var low = [SIMD4<Double>](repeating: .zero, count: 4), high = low
                while i < wide {
                    for k in 0..<4 {
                        for l in 0..<4 {
                            let j = i + 8 * k + l
                            low[k][l] = low[k][l].addingProduct(a[j], b[j])
                            high[k][l] = high[k][l].addingProduct(a[j + 4], b[j + 4])
                        }
                    }
                    i += 32
                }
                for k in 0..<4 { accumulators[k] = low[k] + high[k] }
            }
            while i < blocked {
                for k in 0..<4 {
                    for l in 0..<4 {
                        let j = i + 4 * k + l
                        accumulators[k][l] = accumulators[k][l].addingProduct(a[j], b[j])
                    }
                }
                i += 16
            }
            let s = ((accumulators[0] + accumulators[1]) + accumulators[2]) + accumulators[3]
            dot = (s[0] + s[2]) + (s[1] + s[3])
        }
        for i in blocked..<n { dot = dot.addingProduct(a[i], b[i]) }
        return dot
    }

    /// Whether OpenBLAS (as NumPy's wheels load it, DYNAMIC_ARCH) picks its SkylakeX kernels on this CPU: it
    /// has AVX-512 F and BW (as /proc/cpuinfo names them). Otherwise, on x86-64 with AVX2 (Haswell and later,
    /// AMD Zen 1-3), the Haswell kernels. (`OPENBLAS_CORETYPE`, which overrides OpenBLAS's choice, is not read.)
    static let openBLASRunsSkylakeXKernels: Bool = {
        guard let file = fopen("/proc/cpuinfo", "r") else { return true }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let text = line.map({ String(cString: $0) }) {
            guard text.hasPrefix("flags") else { continue }
            let names = Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
            return names.contains("avx512f") && names.contains("avx512bw")
        }
        return true
    }()

    /// `np.dot(a, b)` as OpenBLAS's Haswell `ddot` (`ddot_microk_haswell-2.c`, also AMD Zen's) computes it: the
    /// first `n & ~15` products in four 4-lane accumulators, `acc[k][l] = fma(a, b, acc[k][l])` for element
    /// 16i + 4k + l; each accumulator's halves added, `(l0 + l2, l1 + l3)`; `(h0 + h1) + (h2 + h3)`; the two
    /// lanes added; then the last `n % 16` elements one by one as `dot + a[i] * b[i]`, the product rounded
    /// first (that C loop is not contracted there: checked against `np.dot` on a Zen 3, python/tests).
    static func dotHaswellOrder(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var dot = 0.0
        let blocked = n & ~15
        if blocked > 0 {
            var accumulators = [SIMD4<Double>](repeating: .zero, count: 4)
            var i = 0
            while i < blocked {
                for k in 0..<4 {
                    for l in 0..<4 {
                        let j = i + 4 * k + l
                        accumulators[k][l] = accumulators[k][l].addingProduct(a[j], b[j])
                    }
                }
                i += 16
            }
            let halves = accumulators.map { SIMD2<Double>($0[0] + $0[2], $0[1] + $0[3]) }
            let t = (halves[0] + halves[1]) + (halves[2] + halves[3])
            dot = t[0] + t[1]
        }
        for i in blocked..<n {
            let product = a[i] * b[i]
            dot = dot + product
        }
        return dot
    }

    /// `np.sum(a * w)` for float64 arrays of length n: the products, then NumPy's pairwise sum.
    public static func weightedSum(_ a: UnsafePointer<Double>?, _ w: UnsafePointer<Double>?, _ n: Int) -> Double {
        guard let a, let w, n > 0 else { return 0.0 }
        let products = (0..<n).map { a[$0] * w[$0] }
        return products.withUnsafeBufferPointer { npSum($0.baseAddress, n) }
    }
}

extension Numerics {
    /// `np.unique(a)` and its counts: sorts a copy (NaN last), then keeps the first of each run of
    /// equal values, all NaNs as one run (NumPy's `equal_nan=True`). Writes the values and/or counts
    /// (either may be nil; each needs room for n) and returns how many there are.
    public static func unique(_ a: UnsafePointer<Double>?, _ n: Int, values: UnsafeMutablePointer<Double>?,
                              counts: UnsafeMutablePointer<Int64>?) -> Int {
        guard let a, n > 0 else { return 0 }
        var sorted = Array(UnsafeBufferPointer(start: a, count: n))
        sorted.withUnsafeMutableBufferPointer { sortNaNLast($0.baseAddress, n) }
        var count = 0
        for i in 0..<n {
            let startsRun = i == 0 || (sorted[i] != sorted[i - 1] && !(sorted[i].isNaN && sorted[i - 1].isNaN))
            if startsRun {
                values?[count] = sorted[i]
                counts?[count] = 1
                count += 1
            } else {
                counts?[count - 1] += 1
            }
        }
        return count
    }
}

extension Numerics {
    /// `np.histogram(a, bins, range)` for equal bins as NumPy 2.x computes it (`_get_outer_edges`,
    /// `np.linspace` for the edges, then each kept value's bin from `(x - lo) / (hi - lo) * bins`
    /// corrected against the edges). Writes `bins` counts and/or `bins + 1` edges (either may be nil).
    /// Returns 0, or the error (`RuntimeMessages.histogram`): 1 bins < 1, 2 lo > hi, 3 a given range
    /// not finite, 4 the values' range not finite, 5 the range is wider than the largest double. `bins` must be at most 1,048,576 here (callers check).
    public static func histogram(_ a: UnsafePointer<Double>?, _ n: Int, bins: Int64, lo givenLow: Double, hi givenHigh: Double,
                                 autodetect: Bool, counts: UnsafeMutablePointer<Int64>?, edges: UnsafeMutablePointer<Double>?) -> Int64 {
        guard bins >= 1 else { return 1 }
        var low = givenLow, high = givenHigh
        if !autodetect {
            if low > high { return 2 }
            if !(low.isFinite && high.isFinite) { return 3 }
        } else if n == 0 || a == nil {
            (low, high) = (0.0, 1.0)
        } else if let a {
            (low, high) = (npMin(a, n), npMax(a, n))
            if !(low.isFinite && high.isFinite) { return 4 }
        }
        if low == high {
            low -= 0.5
            high += 0.5
        }
        // NumPy refuses edges that are not finite (a range wider than the largest double).
        if !(high - low).isFinite { return 5 }
        let count = Int(bins)
        // np.linspace(low, high, bins + 1): k * step + low, the last edge exactly `high`.
        var edgeValues = [Double](repeating: 0, count: count + 1)
        let delta = high - low
        let step = delta / Double(count)
        for k in 0...count {
            edgeValues[k] = (step == 0 ? (Double(k) / Double(count)) * delta : Double(k) * step) + low
        }
        edgeValues[count] = high
        if let edges { for k in 0...count { edges[k] = edgeValues[k] } }
        guard let counts else { return 0 }
        for k in 0..<count { counts[k] = 0 }
        guard let a else { return 0 }
        let denominator = high - low
        for i in 0..<n {
            let x = a[i]
            guard x >= low && x <= high else { continue }
            let scaled = (x - low) / denominator * Double(count)
            var index: Int
            if scaled.isFinite && scaled >= 0 && scaled <= Double(count) {
                index = Int(scaled)
            } else {
                // A range wider than the largest double (high - low overflows): NumPy's formula gives NaN
                // here; take the bin by searching the edges instead of trapping on the conversion.
                var lowerBound = 0, upperBound = count
                while upperBound - lowerBound > 1 {
                    let middle = (lowerBound + upperBound) / 2
                    if edgeValues[middle] <= x { lowerBound = middle } else { upperBound = middle }
                }
                index = lowerBound
            }
            if index == count { index -= 1 }
            if x < edgeValues[index] { index -= 1 }
            if x >= edgeValues[index + 1] && index != count - 1 { index += 1 }
            counts[index] += 1
        }
        return 0
    }
}

/// C entry point of `math.hypot` (CPython's algorithm).
@_cdecl("filterjit_hypot") public func filterjitHypot(_ a: Double, _ b: Double) -> Double { Numerics.hypot(a, b) }
