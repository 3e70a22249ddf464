// Separable sums of 2-D (and 3-D) box windows over integer data (docs/window-strategies.md), in narrow
// integer lanes: per output row, one row of column sums (kept from the previous output row: the
// entering input row added, the leaving one subtracted, in one pass), extended through the mode
// along the row, then slid horizontally by doubling (windows of 1, 2, 4, ... columns, each pass one
// vectorised add over the row) and the window's width assembled from the binary digits of its
// length. Every sum is exact: the accumulators are integers wide enough for any window sum
// (UInt16 for uint8 windows of up to 257 taps, else Int32), and wrapping arithmetic is exact modulo
// 2^bits, so subtracting the leaving row never drifts. The sums equal NumPy's (every order gives the
// same exact value below 2^53), and a mean's `float64(sum) / float64(n)` truncated to an integer
// output equals the integer quotient trunc(sum / n) (shown in `BoxSumPlan.divide`), computed by a
// multiply and a shift in integer lanes.
//
// 3-D boxes (`BoxPlaneSums`): the rows of each output plane summed over the window's k0 planes (the
// plane sums, carried from plane to plane by + entering - leaving), then the 2-D passes over them.
//
// Scratch per thread: one row of input-typed cval, one extended row of column sums, up to
// log2(columns) doubling rows and one result row, all of the accumulator type; 3-D: one plane of
// plane sums.
//
// uint8 means written into a contiguous uint8 row take AVX-512 C kernels when the CPU has them, or AVX2 ones
// (`runBoxMeansU8`, RankKernelsC/box_means.c, box_means_avx2.c): UInt16 column sums (any window of up to 257 rows),
// then one pass per row that sums up to 8 columns in registers, or two passes through the row's
// prefix sums for longer windows, and divides and stores in the same pass.

import RankKernelsC

/// Whether uint8 box means, and the fast-math float box sums (`runFastSumDirect`: the fused passes and the
/// store), may take the C kernels (AVX-512 or AVX2; tests turn this off to run the portable passes on any machine; both
/// give the same bits).
public enum BoxMeanKernels {
    nonisolated(unsafe) public static var enabled = true
    /// Whether the fast-math float box sums written directly take the fused C passes
    /// (`filterjit_fast_box_sum`) when `enabled` and the CPU allows; off, the Swift passes and the C
    /// store run (tests compare the two: the same bits).
    nonisolated(unsafe) public static var fusedFastSums = true
    /// Whether the fast-math float box sums stream their output (non-temporal stores) whatever its size
    /// (true), never (false), or as `NonTemporalStores` decides (nil, the default). For tests: a switch of
    /// their own, so that this suite does not move the threshold other suites' kernels read meanwhile.
    nonisolated(unsafe) public static var forceStream: Bool? = nil
    /// Whether fast-math float box sums of an output of `bytes` bytes stream it.
    static func stream(outputBytes bytes: Int) -> Int32 {
        (forceStream ?? NonTemporalStores.stream(outputBytes: bytes)) ? 1 : 0
    }

    /// The multiply-high for 16-bit sums of `taps` uint8 taps: m = ceil(2^sh / taps) for the plan's
    /// sh (255 taps^2 < 2^sh) raised to at least 16, when m < 2^17 (and sh >= 17 from 2^16 on); else
    /// (0, 0), the kernel's corrected float estimate.
    static func multiplier(taps: Int, shift planShift: UInt64) -> (multiplier: UInt32, shift: UInt16) {
        let sh = Swift.max(planShift, 16)
        let m = ((UInt64(1) << sh) + UInt64(taps) - 1) / UInt64(taps)
        guard m < (1 << 17) && (m < (1 << 16) || sh >= 17) else { return (0, 0) }
        return (UInt32(m), UInt16(sh))
    }

    /// One row of `filterjit_box_mean_u8_row` (for tests): trunc of each window's sum of `length`
    /// consecutive `ext` values by `taps`, with the multiplier `BoxSumPlan` gives uint8 windows of
    /// `taps` taps (`estimate`: the corrected float estimate instead), or nil without AVX-512.
    public static func meanRow(_ ext: [UInt16], length: Int, taps: Int, estimate: Bool = false) -> [UInt8]? {
        let count = ext.count - length + 1
        guard count >= 1, let plan = BoxSumPlan.make(box: SeparableBox(rows: 1, first: 0, start: 0, length: 1),
                                                     unsigned8: true, bound: 255, taps: taps) else { return nil }
        let sums16 = taps * 255 <= Int(UInt16.max)
        let (m, sh) = sums16 && !estimate ? multiplier(taps: taps, shift: plan.shift) : (0, 0)
        var out = [UInt8](repeating: 0, count: count)
        var scratch = [UInt32](repeating: 0, count: count + length + 1)
        let ran = ext.withUnsafeBufferPointer { e in
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    filterjit_box_mean_u8_row(e.baseAddress!, length, count, UInt32(taps), sums16 ? 1 : 0, m, sh,
                                              o.baseAddress!, s.baseAddress!)
                }
            }
        }
        return ran != 0 ? out : nil
    }
}

/// The integer lanes a box sum accumulates in.
enum BoxSumAccumulator: Sendable {
    case uint16
    case int32
}

/// How a box sum slides along the row: up to 8 columns in one pass; a length a * b (a, b <= 8) in two
/// passes; otherwise by doubling (log2 length passes) and the length's binary digits.
private enum BoxSumHorizontal {
    case direct
    case factored(Int, Int)
    case binary
}

/// How a 2-D box of integer data is summed separably (`WindowReductionJob.boxSum`).
struct BoxSumPlan: Sendable {
    var box: SeparableBox
    var accumulator: BoxSumAccumulator
    /// The taps (the mean's divisor).
    var taps: Int
    /// trunc(s / taps) = sign(s) * ((|s| * multiplier) >> shift) for every |s| <= bound * taps.
    var multiplier: UInt64
    var shift: UInt64
    /// Whether |s| * multiplier stays below 2^32 (then the products take 32-bit lanes; else the
    /// quotient is estimated in floating point and corrected: `boxMeansEstimated`).
    var narrowProduct: Bool
    /// Whether every |s| is below 2^22 (the estimate then takes Float lanes, else Double).
    var singleEstimate: Bool
    /// UInt16 sums: trunc(s / taps) = ((s * multiplier16) >> 16) >> shift16 (a 16-bit multiply-high,
    /// 16 lanes), or nil when the multiplier needs more than 16 bits.
    var multiplier16: UInt16?
    var shift16: UInt16 = 0

    /// The plan for `taps` taps of elements of magnitude at most `bound`, or nil when the sums do not
    /// fit the accumulators.
    static func make(box: SeparableBox, unsigned8: Bool, bound: Int64, taps: Int) -> BoxSumPlan? {
        let n = Int64(taps)
        guard n >= 1, bound >= 1, bound <= Int64(Int32.max) / n else { return nil }
        let accumulator: BoxSumAccumulator = unsigned8 && bound * n <= Int64(UInt16.max) ? .uint16 : .int32
        // Division by n as a multiply and a shift (Granlund and Montgomery): with m = ceil(2^sh / n)
        // = 2^sh / n + e (0 <= e < 1), s * m / 2^sh = s / n + s * e / 2^sh, and for s = q n + f
        // (0 <= f < n) the floor stays q while s * e / 2^sh < 1 / n, which holds for every
        // s <= bound * n when bound * n^2 < 2^sh.
        let limit = bound * n * n
        var shift: UInt64 = 0
        while (Int64(1) << shift) <= limit { shift += 1 }
        guard shift <= 62 else { return nil }
        let power = UInt64(1) << shift
        let multiplier = (power + UInt64(n) - 1) / UInt64(n)
        // The largest product: bound * n * m (needs 64-bit lanes beyond 2^32; m < 2^32 always
        // since m <= 2 bound n + 1 < 2^32).
        guard multiplier < (1 << 32) else { return nil }
        let (largest, overflow) = UInt64(bound * n).multipliedReportingOverflow(by: multiplier)
        // The same rule with a shift of at least 16, for a multiply-high in UInt16 lanes.
        var multiplier16: UInt16?
        if accumulator == .uint16 {
            let shift16 = Swift.max(shift, 16)
            let m16 = ((UInt64(1) << shift16) + UInt64(n) - 1) / UInt64(n)
            if m16 < (1 << 16) { multiplier16 = UInt16(m16) }
            var plan = BoxSumPlan(box: box, accumulator: accumulator, taps: taps, multiplier: multiplier, shift: shift,
                                  narrowProduct: !overflow && largest < (1 << 32), singleEstimate: bound * n < (1 << 22))
            plan.multiplier16 = multiplier16
            plan.shift16 = UInt16(shift16 - 16)
            return plan
        }
        return BoxSumPlan(box: box, accumulator: accumulator, taps: taps, multiplier: multiplier, shift: shift,
                          narrowProduct: !overflow && largest < (1 << 32), singleEstimate: bound * n < (1 << 22))
    }

    /// trunc(s / taps) by the plan's multiply and shift (the reference the vectorised loops follow).
    func divide(_ s: Int64) -> Int64 {
        let magnitude = UInt64(s.magnitude)
        let q = Int64((magnitude &* multiplier) >> shift)
        return s < 0 ? -q : q
    }
}

extension WindowReductionJob {
    /// The box-sum plan for a job whose only reduction is a sum over a 2-D or 3-D box of integer data
    /// of up to 16 bits (sums then fit Int32), or nil. `outer` holds each footprint row's position on
    /// the axes before the last. 3-D boxes need one plane of accumulators per thread (the plane sums:
    /// `BoxPlaneSums`); beyond `planeRingBytes` they keep the row spans.
    static func boxSumPlan(input: NDArray, reductions: [WindowReduction], outer: [[Int]],
                           span: (start: Int, length: Int)?, taps: Int) -> BoxSumPlan? {
        let rank = input.rank
        guard rank == 2 || rank == 3, input.strides[rank - 1] == input.elementType.itemSize, let span,
              reductions == [.sum] else { return nil }
        let bound: Int64
        switch input.elementType {
        case .bool, .uint8: bound = 255
        case .int8: bound = 128
        case .uint16: bound = 65535
        case .int16: bound = 32768
        default: return nil
        }
        func consecutive(_ positions: [Int]) -> (first: Int, count: Int)? {
            let sorted = Set(positions).sorted()
            guard let first = sorted.first, sorted == Array(first..<(first + sorted.count)) else { return nil }
            return (first, sorted.count)
        }
        guard let rows = consecutive(outer.map { $0[rank - 2] }), Set(outer).count == outer.count else { return nil }
        var box = SeparableBox(rows: rows.count, first: rows.first, start: span.start, length: span.length)
        if rank == 2 {
            guard rows.count == outer.count else { return nil }
        } else {
            // Every (plane, row) pair once (a full grid), and one plane of Int32 sums within bounds.
            let (planeElements, o1) = input.shape[1].multipliedReportingOverflow(by: input.shape[2])
            guard let planes = consecutive(outer.map { $0[0] }), planes.count * rows.count == outer.count,
                  !o1, planeElements <= planeRingBytes / 4 else { return nil }
            box.planes = planes.count
            box.firstPlane = planes.first
        }
        return BoxSumPlan.make(box: box, unsigned8: input.elementType == .uint8 || input.elementType == .bool,
                               bound: bound, taps: taps)
    }

    /// The element offset of output row `y` (C order over the axes before the last) in an array of
    /// this job's shape with element strides `strides`.
    func rowOffset(_ y: Int, strides: [Int]) -> Int {
        if input.rank == 2 { return y * strides[0] }
        var rest = y, offset = 0
        for axis in stride(from: input.rank - 2, through: 0, by: -1) {
            offset += (rest % input.shape[axis]) * strides[axis]
            rest /= input.shape[axis]
        }
        return offset
    }

    /// Whether `runSumDirect` can write this job's box sum (or mean) into `output`: the output has the
    /// input's integer type (not bool) and shape.
    public func canRunSumDirect(into output: NDArray) -> Bool {
        guard boxSum != nil || fastBoxSum != nil, output.elementType == input.elementType, input.elementType != .bool,
              output.shape == input.shape else { return false }
        let size = output.elementType.itemSize
        return output.strides.allSatisfy { $0 % size == 0 }
    }

    /// Stores the box sum of every window of output rows `rows` into `output` (`mean`: the window's
    /// mean), as the literal kernel stores `sum(values)` or `np.mean(values)` into an integer output
    /// of the input's type: the exact sum wrapped to the type, or the quotient truncated toward zero.
    public func runSumDirect(rows: Range<Int>, output: NDArray, mean: Bool) throws {
        precondition(canRunSumDirect(into: output))
        if fastBoxSum != nil {
            try runFastSumDirect(rows: rows, output: output, mean: mean)
            return
        }
        switch input.elementType {
        case .uint8: try runSumDirect(UInt8.self, rows: rows, output: output, mean: mean)
        case .int8: try runSumDirect(Int8.self, rows: rows, output: output, mean: mean)
        case .uint16: try runSumDirect(UInt16.self, rows: rows, output: output, mean: mean)
        case .int16: try runSumDirect(Int16.self, rows: rows, output: output, mean: mean)
        default: preconditionFailure("no box sum for \(input.elementType)")
        }
    }

    private func runSumDirect<T: ReducibleElement & FixedWidthInteger>(_: T.Type, rows: Range<Int>, output: NDArray,
                                                                      mean: Bool) throws {
        let plan = boxSum!
        let outStrides = output.strides.map { $0 / MemoryLayout<T>.stride }
        let outBase = UnsafeMutablePointer<T>(OpaquePointer(output.firstElementPointer))
        let n = rowLength
        let step = outStrides[input.rank - 1]
        if mean, T.self == UInt8.self, step == 1, try runBoxMeansU8(rows: rows, output: output) { return }
        let staging = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        defer { staging.deallocate() }
        func emit<A: FixedWidthInteger>(_ y: Int, _ sums: UnsafeMutablePointer<A>) {
            let destination = outBase + rowOffset(y, strides: outStrides)
            let target = step == 1 ? destination : staging
            if mean {
                if let multiplier16 = plan.multiplier16 {
                    boxMeansHigh16(sums, multiplier16, plan.shift16, target, n)
                } else if plan.narrowProduct {
                    boxMeansNarrow(sums, UInt32(plan.multiplier), UInt32(plan.shift), target, n)
                } else {
                    boxMeansEstimated(sums, Int32(plan.taps), single: plan.singleEstimate, signed: T.isSigned, target, n)
                }
            } else {
                boxSumsStore(sums, target, n)
            }
            if step != 1 { for x in 0..<n { destination[x * step] = staging[x] } }
        }
        switch plan.accumulator {
        case .uint16: try runBoxSum(T.self, UInt16.self, plan: plan, rows: rows) { y, sums in emit(y, sums) }
        case .int32: try runBoxSum(T.self, Int32.self, plan: plan, rows: rows) { y, sums in emit(y, sums) }
        }
    }

    /// The uint8 means of output rows `rows` by the AVX-512 kernels (or AVX2: box_means_avx2.c), into rows of `output`
    /// (uint8, unit column stride); false when they do not run: neither, `BoxMeanKernels` off, more than 257
    /// rows (the column sums would pass 2^16) or sums from 2^24 on (the 32-bit quotient's float
    /// estimate needs them exact); nothing is written then, except when the kernels are switched off
    /// during the run (a test toggle), when some rows may be written and the caller rewrites them all.
    private func runBoxMeansU8(rows: Range<Int>, output: NDArray) throws -> Bool {
        let plan = boxSum!
        let box = plan.box
        let k = box.rows, length = box.length, n = rowLength
        // (3-D: the column sums cover k0 x k rows.)
        guard BoxMeanKernels.enabled, filterjit_rank_kernels_avx512() != 0 || filterjit_box_means_avx2() != 0, k * box.planes <= 257,
              plan.taps * 255 < (1 << 24) else { return false }
        let outStrides = output.strides
        let outBase = UnsafeMutablePointer<UInt8>(OpaquePointer(output.firstElementPointer))
        let base = UnsafeMutablePointer<UInt8>(OpaquePointer(input.firstElementPointer))
        let cval = UInt8(exactlyOrdered: geometry.cval) ?? 0
        let rank = input.rank
        let outerMap = outerMaps[rank - 2]
        let extendedLength = lastMap.count
        let centre = geometry.centre[rank - 1]
        let planeSums = rank == 3 ? BoxPlaneSums<UInt8, UInt16>(self, box: box, rows: rows) : nil
        defer { planeSums?.release() }
        let cvalRow = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: n)
        let extended = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, extendedLength))
        let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: n + length + 1)
        defer { cvalRow.deallocate(); extended.deallocate(); scratch.deallocate() }
        func row(_ p: Int) -> UnsafePointer<UInt8> {
            guard let offset = outerMap[p] else { return UnsafePointer(cvalRow) }
            return UnsafePointer(base + offset)
        }
        let cvalColumn = UInt16(truncatingIfNeeded: k &* box.planes &* Int(cval))
        var leftEdge: [(Int, Int?)] = [], rightEdge: [(Int, Int?)] = []
        for j in 0..<min(centre, extendedLength) { leftEdge.append((j, lastMap[j])) }
        for j in min(centre + n, extendedLength)..<extendedLength { rightEdge.append((j, lastMap[j])) }
        let columns = extended + centre
        // 16-bit sums: the quotient by a multiply-high (`BoxMeanKernels.multiplier`), else the C
        // kernel's corrected estimate.
        let sums16 = plan.taps * 255 <= Int(UInt16.max)
        let (multiplier, shift) = sums16 ? BoxMeanKernels.multiplier(taps: plan.taps, shift: plan.shift) : (0, 0)
        for y in rows {
            if let planeSums {
                planeSums.columnSums(y, first: y == rows.lowerBound, into: columns)
            } else {
                let top = y + box.first
                if y == rows.lowerBound {
                    columns.update(repeating: 0, count: n)
                    for i in 0..<k { boxSumAdd(columns, row(top + i), n) }
                } else {
                    guard filterjit_box_slide_u8_u16(columns, row(top + k - 1), row(top - 1), n) != 0 else { return false }
                }
            }
            for (j, mapped) in leftEdge { extended[j] = mapped.map { columns[$0] } ?? cvalColumn }
            for (j, mapped) in rightEdge { extended[j] = mapped.map { columns[$0] } ?? cvalColumn }
            guard filterjit_box_mean_u8_row(extended + box.start, length, n, UInt32(plan.taps), sums16 ? 1 : 0, multiplier, shift,
                                            outBase + rowOffset(y, strides: outStrides), scratch) != 0 else { return false }
        }
        return true
    }

    /// The box sums of output rows `rows` as doubles (the one plane), for a compiled tail.
    func runBoxSumPlanes(rows: Range<Int>, deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void) throws {
        switch input.elementType {
        case .bool, .uint8: try runBoxSumPlanes(UInt8.self, rows: rows, deliver: deliver)
        case .int8: try runBoxSumPlanes(Int8.self, rows: rows, deliver: deliver)
        case .uint16: try runBoxSumPlanes(UInt16.self, rows: rows, deliver: deliver)
        case .int16: try runBoxSumPlanes(Int16.self, rows: rows, deliver: deliver)
        default: preconditionFailure("no box sum for \(input.elementType)")
        }
    }

    private func runBoxSumPlanes<T: ReducibleElement & FixedWidthInteger>(
        _: T.Type, rows: Range<Int>, deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void) throws {
        let plan = boxSum!
        let n = rowLength
        let planes = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, n))
        defer { planes.deallocate() }
        let plane = planes.baseAddress!
        func body(_ y: Int, _: UnsafeMutablePointer<Double>) throws { try deliver(y, planes) }
        switch plan.accumulator {
        case .uint16:
            try runBoxSum(T.self, UInt16.self, plan: plan, rows: rows) { y, sums in
                boxSumsToDoubles(sums, plane, n)
                try body(y, plane)
            }
        case .int32:
            try runBoxSum(T.self, Int32.self, plan: plan, rows: rows) { y, sums in
                boxSumsToDoubles(sums, plane, n)
                try body(y, plane)
            }
        }
    }

    /// The separable passes: `body(row, sums)` receives each output row's window sums.
    private func runBoxSum<T: ReducibleElement & FixedWidthInteger, A: FixedWidthInteger>(
        _: T.Type, _: A.Type, plan: BoxSumPlan, rows: Range<Int>, body: (Int, UnsafeMutablePointer<A>) throws -> Void) throws {
        let box = plan.box
        let n = rowLength
        let k = box.rows
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? 0
        let rank = input.rank
        let outerMap = outerMaps[rank - 2]
        let extendedLength = lastMap.count
        let centre = geometry.centre[rank - 1]
        let length = box.length
        let planeSums = rank == 3 ? BoxPlaneSums<T, A>(self, box: box, rows: rows) : nil
        defer { planeSums?.release() }
        var levelsNeeded = 0
        while (2 << levelsNeeded) <= length { levelsNeeded += 1 }
        let horizontal: BoxSumHorizontal = {
            if length <= 8 { return .direct }
            if let a = (2...8).first(where: { length % $0 == 0 && length / $0 <= 8 }) { return .factored(a, length / a) }
            return .binary
        }()
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: n)
        let extended = UnsafeMutablePointer<A>.allocate(capacity: max(1, extendedLength))
        let levels = UnsafeMutablePointer<A>.allocate(capacity: max(1, levelsNeeded * extendedLength))
        let result = UnsafeMutablePointer<A>.allocate(capacity: max(1, n))
        defer { cvalRow.deallocate(); extended.deallocate(); levels.deallocate(); result.deallocate() }
        func row(_ p: Int) -> UnsafePointer<T> {
            guard let offset = outerMap[p] else { return UnsafePointer(cvalRow) }
            return UnsafePointer(base + offset)
        }
        // Along the row: positions < centre and >= centre + n read a column through the mode, or are
        // k cvals (wrapping: the true value fits the accumulator whenever a window's sum does).
        let cvalColumn = A(truncatingIfNeeded: Int64(k * box.planes) &* cval.integerValue)
        var leftEdge: [(Int, Int?)] = [], rightEdge: [(Int, Int?)] = []
        for j in 0..<min(centre, extendedLength) { leftEdge.append((j, lastMap[j])) }
        for j in min(centre + n, extendedLength)..<extendedLength { rightEdge.append((j, lastMap[j])) }
        let columns = extended + centre
        // Windows of 2^b columns at every position, b = 1 ... levelsNeeded (level 0 is the row itself).
        func level(_ b: Int) -> UnsafeMutablePointer<A> { b == 0 ? extended + box.start : levels + (b - 1) * extendedLength }
        // The window's length in binary: a term of 2^b columns at each set bit, widest first.
        var terms: [(level: Int, offset: Int)] = []
        var offset = 0
        for b in stride(from: levelsNeeded, through: 0, by: -1) where length & (1 << b) != 0 {
            terms.append((b, offset))
            offset += 1 << b
        }
        // The rows each pass reads are the same buffers for every output row: listed once (a list per row cost a
        // malloc each, a fifth of a 16x16 image's library time).
        let source = UnsafePointer(extended + box.start)
        let directSources: [UnsafePointer<A>], factoredSources: [UnsafePointer<A>], levelSources: [UnsafePointer<A>]
        switch horizontal {
        case .direct:
            (directSources, factoredSources, levelSources) = ((0..<length).map { source + $0 }, [], [])
        case .factored(let a, let b):
            (directSources, factoredSources, levelSources) = ((0..<a).map { source + $0 },
                                                              (0..<b).map { UnsafePointer(levels) + $0 * a }, [])
        case .binary:
            let sources = terms.map { UnsafePointer(level($0.level)) + $0.offset }
            (directSources, factoredSources, levelSources) = (Array(sources.prefix(8)), [], sources)
        }
        for y in rows {
            if let planeSums {
                planeSums.columnSums(y, first: y == rows.lowerBound, into: columns)
            } else {
                let top = y + box.first
                if y == rows.lowerBound {
                    columns.update(repeating: 0, count: n)
                    for i in 0..<k { boxSumAdd(columns, row(top + i), n) }
                } else {
                    boxSumSlide(columns, row(top + k - 1), row(top - 1), n)
                }
            }
            for (j, mapped) in leftEdge { extended[j] = mapped.map { columns[$0] } ?? cvalColumn }
            for (j, mapped) in rightEdge { extended[j] = mapped.map { columns[$0] } ?? cvalColumn }
            switch horizontal {
            case .direct:
                // Up to 8 columns: one pass of `length` loads.
                boxSumRows(directSources, result, n)
            case .factored(let a, _):
                // length = a * b (both at most 8): windows of a columns, then b of them side by side.
                boxSumRows(directSources, levels, n + length - a)
                boxSumRows(factoredSources, result, n)
            case .binary:
                // Level b (windows of 2^b columns) is valid at positions < n + length - 2^b (every
                // window the terms read).
                for b in stride(from: 1, through: levelsNeeded, by: 1) {
                    let half = 1 << (b - 1)
                    boxSumPair(level(b - 1), level(b - 1) + half, level(b), n + length - (1 << b))
                }
                // The first 8 terms in one pass, any others added in place (no pass reads the row it
                // writes at another index: LLVM's overlap check would keep the loop scalar).
                boxSumRows(directSources, result, n)
                var t = 8
                while t < levelSources.count {
                    boxSumAccumulate2(result, levelSources[t], t + 1 < levelSources.count ? levelSources[t + 1] : nil, n)
                    t += 2
                }
            }
            try body(y, result)
        }
    }
}

/// 3-D boxes (k0 planes x k rows x L columns): per input row r of a plane, the sum of row r over the
/// window's k0 planes (the plane sums), for the output plane z whose rows run now; the next output
/// plane's come from these by one pass per row (+ the entering plane's row - the leaving one's,
/// wrapping as the column sums do: exact modulo 2^bits, and every true window sum fits). A plane
/// outside the image (constant modes) contributes a row of cval. Each output row's column sums over
/// the k rows of plane sums are then carried down the plane as in 2-D; so every voxel costs about
/// two passes more than a 2-D box, whatever k0. A thread's first row, and each new plane, start
/// afresh (k0 planes added, k rows of plane sums added), so the bits do not depend on the threads.
/// Memory: one plane of accumulators (rows x columns of the input) per thread.
final class BoxPlaneSums<T: ReducibleElement & FixedWidthInteger, A: FixedWidthInteger> {
    let n: Int, rowsPerPlane: Int, k0: Int, k: Int, firstPlane: Int, firstRow: Int
    let base: UnsafeMutablePointer<T>
    let planeMap: [Int?]
    /// Per extended position along axis 1: the input row's index (nil: a row of cval).
    let rowIndex: [Int?]
    let rowStride: Int
    let sums: UnsafeMutablePointer<A>
    let cvalRow: UnsafeMutablePointer<T>
    let cvalSums: UnsafeMutablePointer<A>
    /// The output plane whose plane sums `sums` holds, and which of its rows they hold.
    private var plane: Int?
    private var have: [Bool]
    /// The output rows this thread runs: only the plane-sum rows they read are computed (with more
    /// threads than planes, each thread's share of a plane would otherwise sum the whole plane).
    let outputRows: Range<Int>

    init(_ job: WindowReductionJob, box: SeparableBox, rows: Range<Int>) {
        outputRows = rows
        n = job.rowLength
        rowsPerPlane = job.input.shape[1]
        k0 = box.planes
        k = box.rows
        firstPlane = box.firstPlane
        firstRow = box.first
        base = UnsafeMutablePointer<T>(OpaquePointer(job.input.firstElementPointer))
        planeMap = job.outerMaps[0]
        rowStride = job.inStrides[1]
        rowIndex = (try? job.geometry.indexMap(axis: 1)) ?? []
        let cval = T(exactlyOrdered: job.geometry.cval) ?? 0
        sums = UnsafeMutablePointer<A>.allocate(capacity: max(1, rowsPerPlane * n))
        cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: n)
        cvalSums = UnsafeMutablePointer<A>.allocate(capacity: max(1, n))
        cvalSums.initialize(repeating: A(truncatingIfNeeded: Int64(k0) &* cval.integerValue), count: n)
        have = [Bool](repeating: false, count: rowsPerPlane)
    }

    /// The input rows whose plane sums output plane z's rows in `outputRows` read.
    private func neededRows(_ z: Int) -> [Bool] {
        var needed = [Bool](repeating: false, count: rowsPerPlane)
        let firstT = max(outputRows.lowerBound, z * rowsPerPlane), lastT = min(outputRows.upperBound, (z + 1) * rowsPerPlane) - 1
        guard firstT <= lastT else { return needed }
        for p in (firstT - z * rowsPerPlane + firstRow)...(lastT - z * rowsPerPlane + firstRow + k - 1) {
            if let r = rowIndex[p] { needed[r] = true }
        }
        return needed
    }

    func release() {
        sums.deallocate(); cvalRow.deallocate(); cvalSums.deallocate()
    }

    /// Input row r of the plane at extended position p along axis 0 (a row of cval outside).
    @inline(__always) private func row(_ p: Int, _ r: Int) -> UnsafePointer<T> {
        guard let offset = planeMap[p] else { return UnsafePointer(cvalRow) }
        return UnsafePointer(base + offset + r * rowStride)
    }

    /// The plane sums' row at extended position p along axis 1.
    @inline(__always) private func sumsRow(_ p: Int) -> UnsafePointer<A> {
        guard let r = rowIndex[p] else { return UnsafePointer(cvalSums) }
        return UnsafePointer(sums + r * n)
    }

    /// The column sums of output row t (plane t / rows, row t % rows) into `columns`: carried from
    /// row t - 1's unless `first` or t starts another plane.
    func columnSums(_ t: Int, first: Bool, into columns: UnsafeMutablePointer<A>) {
        let (z, y) = t.quotientAndRemainder(dividingBy: rowsPerPlane)
        var fresh = first
        if plane != z {
            let front = z + firstPlane
            let needed = neededRows(z)
            let carried = plane == z - 1
            for r in 0..<rowsPerPlane where needed[r] {
                if carried && have[r] {
                    boxSumSlide(sums + r * n, row(front + k0 - 1, r), row(front - 1, r), n)
                } else {
                    (sums + r * n).update(repeating: 0, count: n)
                    for i in 0..<k0 { boxSumAdd(sums + r * n, row(front + i, r), n) }
                }
            }
            have = needed
            plane = z
            fresh = true
        }
        let top = y + firstRow
        if fresh {
            columns.update(repeating: 0, count: n)
            for i in 0..<k { boxSumAdd(columns, sumsRow(top + i), n) }
        } else {
            boxSumSlide(columns, sumsRow(top + k - 1), sumsRow(top - 1), n)
        }
    }
}

// The row passes, written so that LLVM vectorises them (wrapping arithmetic, no overlap between the
// row written and the rows read other than the same index).

@inline(never)
func boxSumAdd<T: FixedWidthInteger, A: FixedWidthInteger>(_ columns: UnsafeMutablePointer<A>, _ row: UnsafePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        columns[t] = columns[t] &+ A(truncatingIfNeeded: row[t])
        t &+= 1
    }
}

@inline(never)
func boxSumSlide<T: FixedWidthInteger, A: FixedWidthInteger>(_ columns: UnsafeMutablePointer<A>, _ entering: UnsafePointer<T>,
                                                            _ leaving: UnsafePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        columns[t] = columns[t] &+ A(truncatingIfNeeded: entering[t]) &- A(truncatingIfNeeded: leaving[t])
        t &+= 1
    }
}

@inline(never)
func boxSumPair<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t]
        t &+= 1
    }
}

@inline(never)
func boxSumAccumulate2<A: FixedWidthInteger>(_ d: UnsafeMutablePointer<A>, _ a: UnsafePointer<A>, _ b: UnsafePointer<A>?, _ count: Int) {
    var t = 0
    if let b {
        while t < count {
            d[t] = d[t] &+ a[t] &+ b[t]
            t &+= 1
        }
    } else {
        while t < count {
            d[t] = d[t] &+ a[t]
            t &+= 1
        }
    }
}

/// The sums stored into an integer output of the input's type (wrapped, as the literal kernel's
/// `(int)sum` store: the sum fits Int32).
@inline(never)
func boxSumsStore<A: FixedWidthInteger, O: FixedWidthInteger>(_ sums: UnsafePointer<A>, _ out: UnsafeMutablePointer<O>, _ count: Int) {
    var t = 0
    while t < count {
        out[t] = O(truncatingIfNeeded: sums[t])
        t &+= 1
    }
}

/// trunc(s / n) of non-negative 16-bit sums by a 16-bit multiply-high and a shift (`BoxSumPlan.multiplier16`).
@inline(never)
func boxMeansHigh16<A: FixedWidthInteger, O: FixedWidthInteger>(_ sums: UnsafePointer<A>, _ multiplier: UInt16, _ shift: UInt16,
                                                                _ out: UnsafeMutablePointer<O>, _ count: Int) {
    var t = 0
    while t < count {
        let s = UInt32(truncatingIfNeeded: UInt16(truncatingIfNeeded: sums[t]))
        let high = UInt16(truncatingIfNeeded: (s &* UInt32(multiplier)) &>> 16)
        out[t] = O(truncatingIfNeeded: high &>> shift)
        t &+= 1
    }
}

/// trunc(s / n) by a multiply and a shift in 32-bit lanes (`BoxSumPlan.divide`).
@inline(never)
func boxMeansNarrow<A: FixedWidthInteger, O: FixedWidthInteger>(_ sums: UnsafePointer<A>, _ multiplier: UInt32, _ shift: UInt32,
                                                                _ out: UnsafeMutablePointer<O>, _ count: Int) {
    var t = 0
    if A.isSigned {
        while t < count {
            let s = Int32(truncatingIfNeeded: sums[t])
            let sign = s &>> 31  // 0 or -1: |s| and the sign by masks (as in `boxMeansEstimated`)
            let magnitude = UInt32(bitPattern: (s ^ sign) &- sign)
            let q = Int32(bitPattern: (magnitude &* multiplier) &>> shift)
            out[t] = O(truncatingIfNeeded: (q ^ sign) &- sign)
            t &+= 1
        }
    } else {
        while t < count {
            let s = UInt32(truncatingIfNeeded: sums[t])
            out[t] = O(truncatingIfNeeded: (s &* multiplier) &>> shift)
            t &+= 1
        }
    }
}

/// trunc(s / n) when no 32-bit multiply and shift is exact: q, the nearest integer to |s| * (1 / n)
/// in floating point (Float when |s| < 2^22, else Double), is within one of trunc(|s| / n) (the
/// estimate's error is below 1/2), and the remainder |s| - q n (exact in Int32) corrects it.
@inline(never)
func boxMeansEstimated<A: FixedWidthInteger, O: FixedWidthInteger>(_ sums: UnsafePointer<A>, _ divisor: Int32, single: Bool,
                                                                   signed: Bool = true,
                                                                   _ out: UnsafeMutablePointer<O>, _ count: Int) {
    switch (single, signed) {
    case (true, true): boxMeansEstimated(sums, divisor, Float.self, signed: true, out, count)
    case (true, false): boxMeansEstimated(sums, divisor, Float.self, signed: false, out, count)
    case (false, true): boxMeansEstimated(sums, divisor, Double.self, signed: true, out, count)
    case (false, false): boxMeansEstimated(sums, divisor, Double.self, signed: false, out, count)
    }
}

/// Float or Double, for the quotient's estimate.
protocol BoxSumEstimate: BinaryFloatingPoint {
    /// The bit pattern as a 64-bit integer.
    var lowBits: Int64 { get }
}

extension Float: BoxSumEstimate {
    var lowBits: Int64 { Int64(bitPattern.littleEndian) }
}

extension Double: BoxSumEstimate {
    var lowBits: Int64 { Int64(bitPattern: bitPattern) }
}

/// The estimate in `F`: adding 1.5 * 2^(significand bits) to x (0 <= x < 2^22) leaves round(x) in
/// the low bits of the sum's bit pattern.
@inline(__always)
private func boxMeansEstimated<A: FixedWidthInteger, O: FixedWidthInteger, F: BoxSumEstimate>(
    _ sums: UnsafePointer<A>, _ divisor: Int32, _: F.Type, signed: Bool, _ out: UnsafeMutablePointer<O>, _ count: Int) {
    let reciprocal = 1 / F(divisor)
    let magic = F(3) * F(sign: .plus, exponent: F.Exponent(F.significandBitCount - 1), significand: 1)
    let magicBits = magic.lowBits
    var t = 0
    if signed {
        while t < count {
            let s = Int32(truncatingIfNeeded: sums[t])
            // |s| and the quotient's sign by masks (0 or -1), not selects: the loop then vectorises.
            let sign = s &>> 31
            let a = (s ^ sign) &- sign
            let estimate = F(a) * reciprocal + magic
            var q = Int32(truncatingIfNeeded: estimate.lowBits &- magicBits)
            let r = a &- q &* divisor
            q = q &- (r < 0 ? 1 : 0) &+ (r >= divisor ? 1 : 0)
            out[t] = O(truncatingIfNeeded: (q ^ sign) &- sign)
            t &+= 1
        }
    } else {
        while t < count {
            let a = Int32(truncatingIfNeeded: sums[t])
            let estimate = F(a) * reciprocal + magic
            var q = Int32(truncatingIfNeeded: estimate.lowBits &- magicBits)
            let r = a &- q &* divisor
            q = q &- (r < 0 ? 1 : 0) &+ (r >= divisor ? 1 : 0)
            out[t] = O(truncatingIfNeeded: q)
            t &+= 1
        }
    }
}

@inline(never)
func boxSumsToDoubles<A: FixedWidthInteger>(_ sums: UnsafePointer<A>, _ out: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        out[t] = Double(Int32(truncatingIfNeeded: sums[t]))
        t &+= 1
    }
}

/// `d[t] = a0[t] + ... + a(N-1)[t]` for N = 2 ... 8 rows read in one pass (loads from L1 are cheaper
/// than another pass's store).
@inline(never)
func boxSumRows2<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t]
        t &+= 1
    }
}

@inline(never)
func boxSumRows3<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ c: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t] &+ c[t]
        t &+= 1
    }
}

@inline(never)
func boxSumRows4<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ c: UnsafePointer<A>, _ e: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t] &+ c[t] &+ e[t]
        t &+= 1
    }
}

@inline(never)
func boxSumRows5<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ c: UnsafePointer<A>, _ e: UnsafePointer<A>, _ f: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t] &+ c[t] &+ e[t] &+ f[t]
        t &+= 1
    }
}

@inline(never)
func boxSumRows6<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ c: UnsafePointer<A>, _ e: UnsafePointer<A>, _ f: UnsafePointer<A>, _ g: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t] &+ c[t] &+ e[t] &+ f[t] &+ g[t]
        t &+= 1
    }
}

@inline(never)
func boxSumRows7<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ c: UnsafePointer<A>, _ e: UnsafePointer<A>, _ f: UnsafePointer<A>, _ g: UnsafePointer<A>, _ h: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t] &+ c[t] &+ e[t] &+ f[t] &+ g[t] &+ h[t]
        t &+= 1
    }
}

@inline(never)
func boxSumRows8<A: FixedWidthInteger>(_ a: UnsafePointer<A>, _ b: UnsafePointer<A>, _ c: UnsafePointer<A>, _ e: UnsafePointer<A>, _ f: UnsafePointer<A>, _ g: UnsafePointer<A>, _ h: UnsafePointer<A>, _ i: UnsafePointer<A>, _ d: UnsafeMutablePointer<A>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] &+ b[t] &+ c[t] &+ e[t] &+ f[t] &+ g[t] &+ h[t] &+ i[t]
        t &+= 1
    }
}

/// `d[x] = sum of rows[i][x]` for the 1 ... 8 rows given, in one pass.
func boxSumRows<A: FixedWidthInteger>(_ r: [UnsafePointer<A>], _ d: UnsafeMutablePointer<A>, _ count: Int) {
    switch r.count {
    case 1: d.update(from: r[0], count: count)
    case 2: boxSumRows2(r[0], r[1], d, count)
    case 3: boxSumRows3(r[0], r[1], r[2], d, count)
    case 4: boxSumRows4(r[0], r[1], r[2], r[3], d, count)
    case 5: boxSumRows5(r[0], r[1], r[2], r[3], r[4], d, count)
    case 6: boxSumRows6(r[0], r[1], r[2], r[3], r[4], r[5], d, count)
    case 7: boxSumRows7(r[0], r[1], r[2], r[3], r[4], r[5], r[6], d, count)
    default: boxSumRows8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], d, count)
    }
}
