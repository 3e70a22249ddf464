// Numeric routines the generated code calls, written to NumPy's models
// (ndimage-semantics.md section 7). Stand-ins until `FilterInterpreter.Numerics`
// lands on main: then these forward to it so that interpreter and JIT share the bits.

import Foundation

/// NumPy-exact numeric routines over contiguous float64 data.
enum RuntimeNumerics {
    /// NumPy's pairwise sum of a contiguous float64 array.
    static func pairwiseSum(_ a: UnsafeBufferPointer<Double>) -> Double {
        let n = a.count
        if n < 8 {
            var sum = 0.0
            for value in a { sum += value }
            return sum
        }
        if n <= 128 {
            var r = (0..<8).map { a[$0] }
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] += a[i + j] }
                i += 8
            }
            var sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n {
                sum += a[i]
                i += 1
            }
            return sum
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(UnsafeBufferPointer(rebasing: a[0..<half]))
            + pairwiseSum(UnsafeBufferPointer(rebasing: a[half..<n]))
    }

    /// `np.mean`: pairwise sum over n; NaN when empty.
    static func mean(_ a: UnsafeBufferPointer<Double>) -> Double {
        pairwiseSum(a) / Double(a.count)
    }

    /// `np.var` (population): mean of squared deviations, both sums pairwise.
    static func variance(_ a: UnsafeBufferPointer<Double>) -> Double {
        let m = mean(a)
        let deviations = a.map { ($0 - m) * ($0 - m) }
        return deviations.withUnsafeBufferPointer { pairwiseSum($0) } / Double(a.count)
    }

    /// Sorts ascending with NaN last (stable).
    static func sortNaNLast(_ a: UnsafeMutableBufferPointer<Double>) {
        var values = Array(a)
        values.sort { x, y in
            if x.isNaN { return false }
            if y.isNaN { return true }
            return x < y
        }
        for index in values.indices { a[index] = values[index] }
    }

    /// `np.median`: NaN if any NaN or empty; middle element or mean of the two middle ones.
    static func median(_ a: UnsafeBufferPointer<Double>) -> Double {
        if a.isEmpty || a.contains(where: { $0.isNaN }) { return .nan }
        var values = Array(a)
        values.withUnsafeMutableBufferPointer { sortNaNLast($0) }
        let n = values.count
        if n % 2 == 1 { return values[n / 2] }
        return (values[n / 2 - 1] + values[n / 2]) / 2
    }

    /// NumPy's default (linear) quantile for q in [0, 1]; NaN if any element is NaN.
    static func quantile(_ a: UnsafeBufferPointer<Double>, _ q: Double) -> Double {
        if a.isEmpty || a.contains(where: { $0.isNaN }) { return .nan }
        var values = Array(a)
        values.withUnsafeMutableBufferPointer { sortNaNLast($0) }
        let n = values.count
        let virtualIndex = Double(n - 1) * q
        let previousIndex = max(0, min(n - 1, Int(virtualIndex.rounded(.down))))
        let nextIndex = min(n - 1, previousIndex + 1)
        let gamma = virtualIndex - Double(previousIndex)
        let low = values[previousIndex], high = values[nextIndex]
        let difference = high - low
        return gamma >= 0.5 ? high - difference * (1 - gamma) : low + difference * gamma
    }

    /// `np.nanmin`: least non-NaN; NaN when all are NaN.
    static func nanMin(_ a: UnsafeBufferPointer<Double>) -> Double {
        var result = Double.nan
        for value in a where !value.isNaN && (result.isNaN || value < result) { result = value }
        return result
    }

    /// `np.nanmax`.
    static func nanMax(_ a: UnsafeBufferPointer<Double>) -> Double {
        var result = Double.nan
        for value in a where !value.isNaN && (result.isNaN || value > result) { result = value }
        return result
    }

    /// `np.nansum`: NaN replaced by 0, then the pairwise sum.
    static func nanSum(_ a: UnsafeBufferPointer<Double>) -> Double {
        let replaced = a.map { $0.isNaN ? 0.0 : $0 }
        return replaced.withUnsafeBufferPointer { pairwiseSum($0) }
    }

    /// `np.nanmean`: nansum over the count of non-NaN elements.
    static func nanMean(_ a: UnsafeBufferPointer<Double>) -> Double {
        let count = a.reduce(0) { $0 + ($1.isNaN ? 0 : 1) }
        return nanSum(a) / Double(count)
    }

    /// `np.nanmedian`: median of the non-NaN elements.
    static func nanMedian(_ a: UnsafeBufferPointer<Double>) -> Double {
        let kept = a.filter { !$0.isNaN }
        return kept.withUnsafeBufferPointer { median($0) }
    }

    /// NumPy's `npy_divmod` floor division.
    static func floorDivide(_ a: Double, _ b: Double) -> Double {
        divmod(a, b).quotient
    }

    /// NumPy's `npy_divmod` modulo.
    static func modulo(_ a: Double, _ b: Double) -> Double {
        divmod(a, b).remainder
    }

    static func divmod(_ a: Double, _ b: Double) -> (quotient: Double, remainder: Double) {
        var mod = fmod(a, b)
        if b == 0 { return (a / b, mod) }
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

    /// Wrapping `a ** b` for a non-negative exponent (negative exponents give 1; Sema never emits them).
    static func intPower(_ a: Int64, _ b: Int64) -> Int64 {
        var result: Int64 = 1
        var base = a
        var exponent = b
        // Squaring gives the same bits as repeated multiplication: multiplication mod 2^64 is associative.
        while exponent > 0 {
            if exponent & 1 == 1 { result = result &* base }
            base = base &* base
            exponent >>= 1
        }
        return result
    }
}
