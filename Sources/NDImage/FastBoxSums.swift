// Fast-math sums of 2-D and 3-D box windows over float data (docs/window-strategies.md, "Fast-math float
// sums"): for arbitrary data only under the caller's explicit opt-in (`WindowStrategyChoice.fastMath`,
// `--fast-math`, `fast_math=True`), because the additions happen in another order than NumPy's pairwise
// sum, so the last bits may differ from the literal kernel's. Without it they run only on output rows
// whose windows' sums are all exact (`ExactBoxSums.swift`), where every order gives the same bits.
//
// O(1) work per pixel whatever the window, in doubles (float32 rows are widened as they are read,
// as OpenCV's box filter sums float32 in doubles), vectorised across pixels, and with no
// subtraction anywhere: running sums (`+ entering - leaving`) would carry rounding errors of values
// that left the window long ago, and cancel catastrophically next to large values. Instead:
//   - vertical, van Herk / Gil-Werman for sums: output rows go in blocks of k (the window's rows),
//     at fixed rows (multiples of k, whatever the thread split, so the bits do not depend on the
//     thread count). For block B, the suffix sums of its k input rows (suffix(i) = row(B+i) + ... +
//     row(B+k-1), built bottom-up, one pass per row) and a running prefix over the next block's rows
//     (prefix(i) = row(B+k) + ... + row(B+k+i-1)); output row B+i's column sums are suffix(i) +
//     prefix(i). About two passes per output row whatever k.
//   - horizontal: the column sums extended through the mode, then, in chunks of 512 columns (so
//     that the passes' rows stay in L1), up to 8 columns in one pass of shifted loads, 9 to 31 columns
//     in two passes (windows of a columns, then b of them side by side and the r = L - ab columns left
//     over: 15 = 3 x 5, 31 = 5 x 6 + 1), longer windows by van Herk / Gil-Werman along the row: window
//     starts in blocks of L from the row's first, each window a suffix of its block plus a prefix of
//     the next (three additions per window whatever L).
//   - `+ 0.0` last, as the literal kernel's `0.0 + pairwise(...)`: a window of -0.0 sums to +0.0.
// Every window's sum is then a tree of additions over exactly the window's elements (each element
// goes through at most (k - 1) + (L - 1) additions), so |fast - exact| <= (k + L - 2) u sum|x|
// (u = 2^-53), relative to the window's own absolute values; NaN and +-inf propagate as in any order
// of additions (NaN in the window or +inf with -inf: NaN; else an infinity: that infinity), so only
// overflow (|partial sums| beyond the largest double) can make the two differ in kind.
//
// 3-D boxes (`runFastBoxSum3D`): the same van Herk tree along axis 0 gives each output plane's plane
// sums (every row summed over the window's k0 planes), and the 2-D passes run over those.
//
// Scratch per thread: k suffix rows and one prefix row of the image's width (doubles), one extended
// row, a row of cval, one level row (9-31 columns) or L suffix sums (van Herk) and one result row; 3-D: k0
// suffix planes, a prefix plane and the plane sums too.

import Foundation
import RankKernelsC

/// Blocks of doubles kept between calls for the 3-D fast-math scratch and a compiled tail's rows of sums (up to
/// 4 blocks of 8 MiB): a fresh mapping per call cost its page zeroing (`clear_page_erms`, 11% of a 128^3
/// float64 5x5x5 mean).
final class FastBoxScratchPool: @unchecked Sendable {
    static let shared = FastBoxScratchPool()
    private let lock = NSLock()
    private var kept: [(pointer: UnsafeMutablePointer<Double>, count: Int)] = []
    private static let keptDoubles = 1 << 20, keptBlocks = 4

    /// A block of at least `count` doubles (contents undefined).
    func take(_ count: Int) -> (pointer: UnsafeMutablePointer<Double>, count: Int) {
        lock.lock()
        if let i = kept.firstIndex(where: { $0.count >= count }) {
            let block = kept.remove(at: i)
            lock.unlock()
            return block
        }
        lock.unlock()
        return (UnsafeMutablePointer<Double>.allocate(capacity: max(1, count)), max(1, count))
    }

    /// Returns a block from `take`: kept when small enough and fewer than 4 are kept, else freed.
    func give(_ block: (pointer: UnsafeMutablePointer<Double>, count: Int)) {
        lock.lock()
        if block.count <= Self.keptDoubles && kept.count < Self.keptBlocks {
            kept.append(block)
            lock.unlock()
            return
        }
        lock.unlock()
        block.pointer.deallocate()
    }
}

/// Where the fused C passes of the fast-math box sums run.
enum FastBoxSums {
    /// Whether `filterjit_fast_box_sum` runs on this CPU: AVX-512, or AVX2 with its switch on
    /// (`filterjit_fast_box_sum_set_avx2`, FILTERJIT_NO_AVX2).
    static var fusedPassesRun: Bool { filterjit_rank_kernels_avx512() != 0 || filterjit_fast_box_sum_avx2() != 0 }
}

/// How a fast-math box sum slides along the row: up to 8 columns in one pass; 9 to 31 columns as windows of
/// a columns, then b of them side by side and the r = L mod a columns left over (`factored(a, b, r)`, b + r
/// <= 8, a + b + r smallest: 9 = 3 x 3, 15 = 3 x 5, 31 = 5 x 6 + 1), in two passes; longer windows by van
/// Herk / Gil-Werman along the row (`fastBoxSumVanHerk`: three additions per window whatever L). The AVX2 C
/// passes run the factored plans with their fold lengths as constants, faster than van Herk's transposes
/// up to 31 columns and as fast or slower from 33 (2048x2048 float32 means, Zen 3, the whole passes: 11
/// columns 4.3 against 5.2 ms, 29 5.0 against 5.5, 33 5.6 against 5.6, 40 5.8 against 5.5); until the
/// twenty-first session windows over 31 columns took factored plans of run-time lengths (up to 64) and
/// doubling (beyond, in Swift only), both slower (fast_box_sums_van_herk.h).
enum FastBoxSumHorizontal: Sendable, Equatable {
    case direct
    case factored(Int, Int, Int)
    case vanHerk

    init(length: Int) {
        guard length > 8 else {
            self = .direct
            return
        }
        guard length <= 31 else {
            self = .vanHerk
            return
        }
        var best: (a: Int, b: Int, r: Int)?
        for a in 2...8 {
            let b = length / a, r = length % a
            guard b + r <= 8, best.map({ a + b + r < $0.a + $0.b + $0.r }) ?? true else { continue }
            best = (a, b, r)
        }
        if let best {
            self = .factored(best.a, best.b, best.r)
        } else {
            self = .vanHerk  // (not reached: every length from 9 to 31 has a plan)
        }
    }

    /// The plan as `filterjit_fast_box_sum` takes it: (a, b, r).
    static func fusedPlan(length: Int) -> (a: Int, b: Int, r: Int) {
        switch FastBoxSumHorizontal(length: length) {
        case .direct: return (length, 0, 0)
        case .factored(let a, let b, let r): return (a, b, r)
        case .vanHerk: return (length, -1, 0)
        }
    }

    /// The most additions an element of the row goes through in the horizontal pass (for the bound).
    static func depth(length: Int) -> Int {
        switch FastBoxSumHorizontal(length: length) {
        case .direct: return length - 1
        case .factored(let a, let b, let r): return (a - 1) + (b + r - 1)
        // A window at block position t >= 1: its block's columns through up to L - 1 - t additions of the
        // suffix and the last, the next block's through up to t - 1 of the prefix and the last.
        case .vanHerk: return length - 1
        }
    }
}

extension WindowReductionJob {
    /// The most suffix-row bytes a fast box sum keeps per thread (beyond, the exact strategy runs).
    static let fastBoxSumScratchBytes = 64 << 20

    /// The fast-math box of a job whose only reduction is a sum over a 2-D or 3-D box of float32/float64
    /// data with contiguous rows, or nil. `outer` holds each footprint row's position on the axes
    /// before the last.
    static func fastBoxSumPlan(input: NDArray, reductions: [WindowReduction], outer: [[Int]],
                               span: (start: Int, length: Int)?) -> SeparableBox? {
        let rank = input.rank
        guard input.elementType == .float32 || input.elementType == .float64, let span, reductions == [.sum],
              rank == 2 || rank == 3, Set(outer).count == outer.count else { return nil }
        func consecutive(_ positions: [Int]) -> (first: Int, count: Int)? {
            let sorted = Set(positions).sorted()
            guard let first = sorted.first, sorted == Array(first..<(first + sorted.count)) else { return nil }
            return (first, sorted.count)
        }
        guard let rows = consecutive(outer.map { $0[rank - 2] }) else { return nil }
        let planes = rank == 3 ? consecutive(outer.map { $0[0] }) : (0, 1)
        guard let planes, planes.count * rows.count == outer.count,
              fastBoxSumFits(shape: input.shape, boxRows: rows.count,
                             rowsContiguous: input.strides[rank - 1] == input.elementType.itemSize, boxPlanes: planes.count)
        else { return nil }
        return SeparableBox(rows: rows.count, first: rows.first, start: span.start, length: span.length,
                            planes: planes.count, firstPlane: planes.first)
    }

    /// Whether the fast-math box sums run over an input of `shape` with a box of `boxRows` rows (and
    /// `boxPlanes` planes, 3-D): a 2-D or 3-D input whose rows are contiguous, and scratch within its
    /// bound (2-D: `boxRows` rows of doubles; 3-D: `boxPlanes` + 2 planes of doubles and `boxRows` rows).
    /// The same rule decides the run and the strategy `filterjit show` / `bench` report.
    public static func fastBoxSumFits(shape: [Int], boxRows: Int, rowsContiguous: Bool, boxPlanes: Int = 1) -> Bool {
        guard shape.count == 2 || shape.count == 3, rowsContiguous else { return false }
        let (rowBytes, rowOverflow) = shape[shape.count - 1].multipliedReportingOverflow(by: 8)
        let (bytes, overflow) = boxRows.multipliedReportingOverflow(by: rowBytes)
        guard !rowOverflow, !overflow, bytes <= fastBoxSumScratchBytes else { return false }
        guard shape.count == 3 else { return true }
        let (planeBytes, planeOverflow) = shape[1].multipliedReportingOverflow(by: rowBytes)
        let (planesBytes, planesOverflow) = (boxPlanes + 2).multipliedReportingOverflow(by: planeBytes)
        return !planeOverflow && !planesOverflow && planesBytes <= fastBoxSumScratchBytes - bytes
    }

    /// The most additions any element goes through in a fast box sum over `planes` x `rows` x
    /// `length` (the bound's depth; 2-D: one plane).
    public static func fastBoxSumDepth(rows: Int, length: Int, planes: Int = 1) -> Int {
        (planes - 1) + (rows - 1) + FastBoxSumHorizontal.depth(length: length)
    }

    /// The fast-math box sums of output rows `rows` as doubles (the one plane), for a compiled tail.
    func runFastBoxSumPlanes(rows: Range<Int>, deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void) throws {
        if try runFastBoxSumPlanesC(rows: rows, deliver: deliver) { return }
        let n = rowLength
        let planes = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, n))
        defer { planes.deallocate() }
        let plane = planes.baseAddress!
        let body: (Int, Int, UnsafeMutablePointer<Double>, Int) throws -> Void = { y, x0, sums, width in
            fastBoxSumFinish(sums, plane + x0, width)
            if x0 + width == n { try deliver(y, planes) }
        }
        switch input.elementType {
        case .float32: try runFastBoxSum(Float.self, rows: rows, body: body)
        case .float64: try runFastBoxSum(Double.self, rows: rows, body: body)
        default: preconditionFailure("no fast box sum for \(input.elementType)")
        }
    }

    /// `runFastBoxSumPlanes` by the fused C passes (2-D), a batch of rows at a time into rows of doubles: the
    /// same additions as the Swift passes, and `(s + 0.0) * 1` is `s + 0.0`. False (nothing delivered) where
    /// they do not run: another rank, neither AVX-512 nor AVX2, or float32 data on an AVX-512 CPU (its passes do
    /// not write float32 rows' sums as doubles).
    private func runFastBoxSumPlanesC(rows: Range<Int>, deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void) throws -> Bool {
        guard input.rank == 2, BoxMeanKernels.enabled, BoxMeanKernels.fusedFastSums, FastBoxSums.fusedPassesRun,
              let box = sumBox else { return false }
        guard !rows.isEmpty else { return true }
        let n = rowLength
        // Batches of whole blocks of k rows (a call starting inside a block rebuilds the block's suffix rows).
        let batch = box.rows * max(1, 16 / box.rows)
        // (From the pool: a fresh block of this size is a fresh mapping per call, whose page zeroing took a
        // tenth of a 2048x2048 float32 9x9 `np.mean(values) > 0.5`.)
        let block = FastBoxScratchPool.shared.take(batch * n)
        defer { FastBoxScratchPool.shared.give(block) }
        let sums = block.pointer
        func batches(_ call: FusedBoxSumCall) throws -> Bool {
            var y0 = rows.lowerBound
            while y0 < rows.upperBound {
                let y1 = min(rows.upperBound, (y0 / batch + 1) * batch)
                // Row y of the batch at sums + (y - y0) n: the output base is that minus y0 rows (a pointer before
                // the block, never dereferenced: the C passes only ever add back at least y0 rows).
                guard call(y0..<y1, false, 1, 0, UnsafeMutableRawPointer(sums - y0 * n), n, false) else {
                    if y0 == rows.lowerBound { return false }
                    // (A later call ran out of scratch, or a test switched the passes off meanwhile.)
                    throw WindowStrategyDeclined(reason: "no scratch for the fused passes")
                }
                for y in y0..<y1 { try deliver(y, UnsafeMutableBufferPointer(start: sums + (y - y0) * n, count: n)) }
                y0 = y1
            }
            return true
        }
        switch input.elementType {
        case .float32:
            // (The AVX-512 passes do not write float32 rows' sums as doubles: the Swift passes give them there.)
            guard filterjit_rank_kernels_avx512() == 0 else { return false }
            return try withFusedRows(Float.self, rows: rows, batches) ?? false
        case .float64: return try withFusedRows(Double.self, rows: rows, batches) ?? false
        default: return false
        }
    }

    /// One `filterjit_fast_box_sum` call over the rows `withFusedRows` prepared: output rows `y`, float32 output
    /// rows or float64, factor, divisor, the output (row y at out + y x outRowStride elements), outRowStride and
    /// whether to stream; whether it ran.
    typealias FusedBoxSumCall = (_ y: Range<Int>, _ out32: Bool, _ factor: Double, _ divisor: Double,
                                 _ out: UnsafeMutableRawPointer, _ outRowStride: Int, _ stream: Bool) -> Bool

    /// The input rows of output rows `rows` (2-D) through the mode, a row of cvals where it gives cval, for
    /// `filterjit_fast_box_sum`, and `body` given the call over them; nil when the rows are not all there.
    private func withFusedRows<T: ReducibleElement & BinaryFloatingPoint, R>(_: T.Type, rows: Range<Int>,
                                                                           _ body: (FusedBoxSumCall) throws -> R) rethrows -> R? {
        let box = sumBox!
        let n = rowLength, k = box.rows
        let plan = FastBoxSumHorizontal.fusedPlan(length: box.length)
        let outerMap = outerMaps[0]
        // The input rows read: virtual rows lowerBound + first ... upperBound + k - 2 + first.
        let rowBase = rows.lowerBound + box.first, rowCount = rows.count + k - 1
        guard rowBase >= 0, rowBase + rowCount <= outerMap.count else { return nil }
        let cval = T(exactlyOrdered: geometry.cval) ?? 0
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: max(1, n))
        defer { cvalRow.deallocate() }
        let base = UnsafeRawPointer(input.firstElementPointer)
        let pointers: [UnsafeRawPointer?] = (rowBase..<(rowBase + rowCount)).map { p in
            outerMap[p].map { base + $0 * MemoryLayout<T>.stride } ?? UnsafeRawPointer(cvalRow)
        }
        let map = lastColumns
        let f32: Int32 = T.self == Float.self ? 1 : 0
        return try body { y, out32, factor, divisor, out, outRowStride, stream in
            filterjit_fast_box_sum(f32, out32 ? 1 : 0, pointers, rowBase, rowCount, y.lowerBound, y.upperBound,
                                   n, k, box.first, map, map.count, geometry.centre[1], box.start, box.length,
                                   plan.a, plan.b, plan.r, Double(k) * cval.doubleValue, factor, divisor,
                                   out, outRowStride, stream ? 1 : 0) == 1
        }
    }

    /// Stores the fast-math box sum (or mean) of every window of output rows `rows` into `output`, a
    /// float array of the input's type: `(sum + 0.0)` or `(sum + 0.0) * (1 / taps)`, rounded to the type.
    /// `exact` (the exact box sums, `ExactBoxSums.swift`: rows whose sums are all exact): a mean is
    /// `(sum + 0.0) / taps`, the literal kernel's true division, instead.
    func runFastSumDirect(rows: Range<Int>, output: NDArray, mean: Bool, exact: Bool = false) throws {
        switch input.elementType {
        case .float32: try runFastSumDirect(Float.self, rows: rows, output: output, mean: mean, exact: exact)
        case .float64: try runFastSumDirect(Double.self, rows: rows, output: output, mean: mean, exact: exact)
        default: preconditionFailure("no fast box sum for \(input.elementType)")
        }
    }

    private func runFastSumDirect<T: ReducibleElement & BinaryFloatingPoint>(_: T.Type, rows: Range<Int>, output: NDArray,
                                                                            mean: Bool, exact: Bool) throws {
        let box = sumBox!
        let outStrides = output.strides.map { $0 / MemoryLayout<T>.stride }
        let outBase = UnsafeMutablePointer<T>(OpaquePointer(output.firstElementPointer))
        let n = rowLength
        let step = outStrides[input.rank - 1]
        let staging = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        defer { staging.deallocate() }
        let taps = Double(box.planes * box.rows * box.length)
        let factor = mean && !exact ? 1 / taps : 1
        let divisor = mean && exact ? taps : 0
        // Contiguous output rows take the C passes (the same additions in the same order, the same bits)
        // when the CPU has AVX-512 or AVX2; else the C store after the Swift passes. Both write outputs bigger
        // than the last-level cache with non-temporal stores (`NonTemporalStores`).
        let streaming = step == 1 && BoxMeanKernels.enabled
        let stream = BoxMeanKernels.stream(outputBytes: output.count * MemoryLayout<T>.stride)
        if streaming && BoxMeanKernels.fusedFastSums
            && runFastSumDirectC(T.self, rows: rows, output: output, factor: factor, divisor: divisor) {
            return
        }
        // 3-D: the plane sums are rows of doubles, and the fused C passes take them as the input rows (for
        // float32 data with float32 output rows).
        if streaming && BoxMeanKernels.fusedFastSums && input.rank == 3 && FastBoxSums.fusedPassesRun {
            try runFastBoxSum3D(T.self, rows: rows, direct: (output, factor, divisor)) { _, _, _, _ in }
            return
        }
        try runFastBoxSum(T.self, rows: rows) { y, x0, sums, width in
            let destination = outBase + rowOffset(y, strides: outStrides)
            let raw = UnsafeMutableRawPointer((step == 1 ? destination : staging) + x0)
            if T.self == Float.self {
                let out = raw.assumingMemoryBound(to: Float.self)
                if !streaming || filterjit_box_store_f32(sums, factor, divisor, out, width, stream) == 0 {
                    fastBoxSumStore(sums, factor, divisor, out, width)
                }
            } else {
                let out = raw.assumingMemoryBound(to: Double.self)
                if !streaming || filterjit_box_store_f64(sums, factor, divisor, out, width, stream) == 0 {
                    fastBoxSumStore(sums, factor, divisor, out, width)
                }
            }
            if step != 1 && x0 + width == n { for x in 0..<n { destination[x * step] = staging[x] } }
        }
    }

    /// `runFastSumDirect` by the fused AVX-512 (or AVX2) passes of `filterjit_fast_box_sum` (RankKernelsC,
    /// fast_box_sums.c, fast_box_sums_avx2.c): the vertical and horizontal passes of `runFastBoxSum` and the
    /// store of `fastBoxSumStore`, the same additions in the same order. False (nothing written) when they do
    /// not run: neither AVX-512 nor AVX2, or a strided output.
    private func runFastSumDirectC<T: ReducibleElement & BinaryFloatingPoint>(_: T.Type, rows: Range<Int>, output: NDArray,
                                                                             factor: Double, divisor: Double) -> Bool {
        guard input.rank == 2, FastBoxSums.fusedPassesRun, output.strides[1] == MemoryLayout<T>.stride else { return false }
        guard !rows.isEmpty else { return true }
        return withFusedRows(T.self, rows: rows) { call in
            call(rows, T.self == Float.self, factor, divisor, output.firstElementPointer, output.strides[0] / MemoryLayout<T>.stride,
                 BoxMeanKernels.stream(outputBytes: output.count * MemoryLayout<T>.stride) != 0)
        } ?? false
    }

    /// The separable passes: `body(row, x0, sums, width)` receives the window sums (before the final
    /// `+ 0.0`) of pixels x0 ..< x0 + width of each output row, chunk by chunk in order (the
    /// horizontal passes run on chunks of `fastBoxSumChunk` columns, so that their rows stay in L1).
    private func runFastBoxSum<T: ReducibleElement & BinaryFloatingPoint>(
        _: T.Type, rows: Range<Int>, body: (Int, Int, UnsafeMutablePointer<Double>, Int) throws -> Void) throws {
        let box = sumBox!
        if input.rank == 3 {
            try runFastBoxSum3D(T.self, rows: rows, body: body)
            return
        }
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? 0
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, rowLength))
        cvalRow.initialize(repeating: cval, count: rowLength)
        defer { cvalRow.deallocate() }
        let outerMap = outerMaps[0]
        try runFastBoxSumRows(T.self, box: box, rows: rows, cvalColumn: Double(box.rows) * cval.doubleValue, row: { p in
            guard let offset = outerMap[p] else { return UnsafePointer(cvalRow) }
            return UnsafePointer(base + offset)
        }, body: body)
    }

    /// 3-D boxes (k0 planes x k rows x L columns): per output plane z, the plane sums Q (each input row
    /// summed over the window's k0 planes) by van Herk / Gil-Werman along axis 0, as the 2-D vertical
    /// pass does along the rows: planes in blocks of k0 at fixed planes (multiples of k0), the suffix
    /// sums of the block's planes built bottom-up and a running prefix over the next block's, Q =
    /// suffix(i) + prefix(i); then the 2-D passes (`runFastBoxSumRows`) over Q's rows with the k x L
    /// box. No subtraction; each element goes through at most (k0 - 1) more additions than in 2-D. A
    /// thread whose rows start inside a block builds that block down to its plane and the prefix up
    /// to it in the same order, so the bits do not depend on the thread count. Rows of Q outside
    /// the plane (constant modes) are k0 x cval, planes outside are planes of cval.
    /// Scratch: k0 suffix planes, one prefix plane and Q (doubles of the plane's size), as bounded
    /// by `fastBoxSumFits`.
    /// `direct` (contiguous output rows of T, a plan the C passes take): each plane's rows go through
    /// `filterjit_fast_box_sum` over the plane sums (float64 rows, T's output rows: the same additions as
    /// the Swift passes, the same bits), stored into the output with `factor`; `body` is then not called.
    private func runFastBoxSum3D<T: ReducibleElement & BinaryFloatingPoint>(
        _: T.Type, rows: Range<Int>, direct: (output: NDArray, factor: Double, divisor: Double)? = nil,
        body: (Int, Int, UnsafeMutablePointer<Double>, Int) throws -> Void) throws {
        guard !rows.isEmpty else { return }
        let box = sumBox!
        let n = rowLength, rowsPerPlane = input.shape[1], planeSize = rowsPerPlane * n
        let k0 = box.planes, front = box.firstPlane
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? 0
        let planeMap = outerMaps[0], rowStride = inStrides[1]
        let rowIndex = try geometry.indexMap(axis: 1)
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: n)
        let cvalSums = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n))
        cvalSums.initialize(repeating: Double(k0) * cval.doubleValue, count: n)
        let scratch = FastBoxScratchPool.shared.take((k0 + 2) * planeSize)
        let suffix = scratch.pointer, prefix = suffix + k0 * planeSize, sums = prefix + planeSize
        defer { cvalRow.deallocate(); cvalSums.deallocate(); FastBoxScratchPool.shared.give(scratch) }
        /// Row r of the input plane at virtual position p along axis 0 (a row of cval outside).
        func row(_ p: Int, _ r: Int) -> UnsafePointer<T> {
            guard let offset = planeMap[p] else { return UnsafePointer(cvalRow) }
            return UnsafePointer(base + offset + r * rowStride)
        }
        func suffixPlane(_ i: Int) -> UnsafeMutablePointer<Double> { suffix + i * planeSize }
        var block = -1
        let lastMapColumns = lastColumns
        let firstPlane = rows.lowerBound / rowsPerPlane, lastPlane = (rows.upperBound - 1) / rowsPerPlane
        // The input rows whose plane sums this thread's output rows read (all of them once it covers a whole
        // plane): with more threads than planes, each thread's share of a plane would otherwise sum the whole
        // plane (measured 11 -> 218 ms for a 2-plane float32 volume at 16 threads).
        var isNeeded = [Bool](repeating: false, count: rowsPerPlane)
        for z in firstPlane...lastPlane {
            let planeStart = z * rowsPerPlane
            let first = max(rows.lowerBound, planeStart) - planeStart, last = min(rows.upperBound, planeStart + rowsPerPlane) - planeStart
            for p in (first + box.first)..<(last + box.first + box.rows - 1) {
                if let r = rowIndex[p] { isNeeded[r] = true }
            }
        }
        let neededRows = (0..<rowsPerPlane).filter { isNeeded[$0] }
        for z in firstPlane...lastPlane {
            let blockStart = (z / k0) * k0, i = z - blockStart
            if blockStart != block {
                block = blockStart
                for r in neededRows { fastBoxSumWiden(row(blockStart + k0 - 1 + front, r), suffixPlane(k0 - 1) + r * n, n) }
                var j = k0 - 2
                while j >= i {
                    for r in neededRows {
                        fastBoxSumAddWidened(row(blockStart + j + front, r), UnsafePointer(suffixPlane(j + 1) + r * n),
                                             suffixPlane(j) + r * n, n)
                    }
                    j -= 1
                }
                if i >= 2 {
                    for r in neededRows {
                        fastBoxSumWiden(row(blockStart + k0 + front, r), prefix + r * n, n)
                        for j in 2..<i { fastBoxSumAccumulateWidened(row(blockStart + j + k0 - 1 + front, r), prefix + r * n, n) }
                    }
                }
            }
            let plane: UnsafePointer<Double>
            if i == 0 {
                plane = UnsafePointer(suffixPlane(0))
            } else {
                for r in neededRows {
                    let source = row(blockStart + i + k0 - 1 + front, r)
                    if i == 1 {
                        fastBoxSumStartPrefix(source, UnsafePointer(suffixPlane(1) + r * n), prefix + r * n, sums + r * n, n)
                    } else {
                        fastBoxSumContinuePrefix(source, UnsafePointer(suffixPlane(i) + r * n), prefix + r * n, sums + r * n, n)
                    }
                }
                plane = UnsafePointer(sums)
            }
            let planeStart = z * rowsPerPlane
            let local = (max(rows.lowerBound, planeStart) - planeStart)..<(min(rows.upperBound, planeStart + rowsPerPlane) - planeStart)
            if let direct {
                let plan = FastBoxSumHorizontal.fusedPlan(length: box.length)
                let rowBase = local.lowerBound + box.first, rowCount = local.count + box.rows - 1
                let pointers: [UnsafeRawPointer?] = (rowBase..<(rowBase + rowCount)).map { p in
                    rowIndex[p].map { UnsafeRawPointer(plane + $0 * n) } ?? UnsafeRawPointer(cvalSums)
                }
                let outStrides = direct.output.strides.map { $0 / MemoryLayout<T>.stride }
                let out = direct.output.firstElementPointer + z * outStrides[0] * MemoryLayout<T>.stride
                let ran = filterjit_fast_box_sum(0, T.self == Float.self ? 1 : 0, pointers, rowBase, rowCount,
                                                 local.lowerBound, local.upperBound,
                                                 n, box.rows, box.first, lastMapColumns, lastMapColumns.count,
                                                 geometry.centre[2], box.start, box.length, plan.a, plan.b, plan.r,
                                                 Double(box.rows) * (Double(k0) * cval.doubleValue), direct.factor,
                                                 direct.divisor, out, outStrides[1],
                                                 BoxMeanKernels.stream(outputBytes: direct.output.count * MemoryLayout<T>.stride))
                // (0 when its scratch could not be allocated, or when a test switched the C passes off since the
                // guard above: the caller recomputes everything exactly.)
                guard ran == 1 else { throw WindowStrategyDeclined(reason: "no scratch for the fused passes") }
                continue
            }
            try runFastBoxSumRows(Double.self, box: box, rows: local,
                                  cvalColumn: Double(box.rows) * (Double(k0) * cval.doubleValue), row: { p in
                guard let r = rowIndex[p] else { return UnsafePointer(cvalSums) }
                return plane + r * n
            }) { y, x0, sums, width in try body(planeStart + y, x0, sums, width) }
        }
    }

    /// The 2-D passes over rows given by `row` (virtual positions along the second-to-last axis, a row
    /// of cval sums where the mode gives cval) for rows `rows` of the plane; `cvalColumn` is the sum of
    /// a column of cvals outside the row.
    private func runFastBoxSumRows<T: ReducibleElement & BinaryFloatingPoint>(
        _: T.Type, box: SeparableBox, rows: Range<Int>, cvalColumn: Double, row: (Int) -> UnsafePointer<T>,
        body: (Int, Int, UnsafeMutablePointer<Double>, Int) throws -> Void) throws {
        let n = rowLength
        let k = box.rows
        let extendedLength = lastMap.count
        let centre = geometry.centre[input.rank - 1]
        let length = box.length
        let horizontal = FastBoxSumHorizontal(length: length)
        let chunk = fastBoxSumChunk
        let levelCount: Int
        switch horizontal {
        case .direct: levelCount = 0
        case .factored: levelCount = chunk + length
        case .vanHerk: levelCount = length
        }
        let suffix = UnsafeMutablePointer<Double>.allocate(capacity: max(1, k * n))
        let prefix = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n))
        let extended = UnsafeMutablePointer<Double>.allocate(capacity: max(1, extendedLength))
        let levels = UnsafeMutablePointer<Double>.allocate(capacity: max(1, levelCount))
        let result = UnsafeMutablePointer<Double>.allocate(capacity: chunk)
        defer {
            suffix.deallocate(); prefix.deallocate(); extended.deallocate()
            levels.deallocate(); result.deallocate()
        }
        func suffixRow(_ i: Int) -> UnsafeMutablePointer<Double> { suffix + i * n }
        // A column outside the row is a mapped column's sum, or k cvals (`cvalColumn`).
        var leftEdge: [(Int, Int?)] = [], rightEdge: [(Int, Int?)] = []
        for j in 0..<min(centre, extendedLength) { leftEdge.append((j, lastMap[j])) }
        for j in min(centre + n, extendedLength)..<extendedLength { rightEdge.append((j, lastMap[j])) }
        let columns = extended + centre
        let top = box.first
        var block = -1
        for y in rows {
            // Output row y = B + i reads input rows (virtual, before the mode) y + first ... y + first + k - 1.
            let blockStart = (y / k) * k, i = y - blockStart
            if blockStart != block {
                block = blockStart
                // Suffix sums of the block's k rows, bottom-up, down to this chunk's first row of the block.
                fastBoxSumWiden(row(blockStart + k - 1 + top), suffixRow(k - 1), n)
                var j = k - 2
                while j >= i {
                    fastBoxSumAddWidened(row(blockStart + j + top), UnsafePointer(suffixRow(j + 1)), suffixRow(j), n)
                    j -= 1
                }
                // The prefix over the next block's rows up to i - 1 (a chunk starting inside the block).
                if i >= 2 {
                    fastBoxSumWiden(row(blockStart + k + top), prefix, n)
                    for j in 2..<i { fastBoxSumAccumulateWidened(row(blockStart + j + k - 1 + top), prefix, n) }
                }
            }
            if i == 0 {
                columns.update(from: suffixRow(0), count: n)
            } else if i == 1 {
                fastBoxSumStartPrefix(row(blockStart + k + top), UnsafePointer(suffixRow(1)), prefix, columns, n)
            } else {
                fastBoxSumContinuePrefix(row(blockStart + i + k - 1 + top), UnsafePointer(suffixRow(i)), prefix, columns, n)
            }
            for (j, mapped) in leftEdge { extended[j] = mapped.map { columns[$0] } ?? cvalColumn }
            for (j, mapped) in rightEdge { extended[j] = mapped.map { columns[$0] } ?? cvalColumn }
            var x0 = 0
            while x0 < n {
                let width = min(chunk, n - x0)
                let source = UnsafePointer(extended + box.start + x0)
                var sums = result
                switch horizontal {
                case .direct:
                    if length == 1 {
                        sums = UnsafeMutablePointer(mutating: source)
                    } else {
                        pairwiseFold((0..<length).map { source + $0 }, result, width)
                    }
                case .factored(let a, let b, let r):
                    // Windows of a columns at chunk positions < width + (b - 1) a, then b of them and
                    // the r columns after them.
                    pairwiseFold((0..<a).map { source + $0 }, levels, width + (b - 1) * a)
                    pairwiseFold((0..<b).map { UnsafePointer(levels) + $0 * a } + (0..<r).map { source + b * a + $0 },
                                 result, width)
                case .vanHerk:
                    fastBoxSumVanHerk(UnsafePointer(extended + box.start), x0, width, length, levels, result)
                }
                try body(y, x0, sums, width)
                x0 += width
            }
        }
    }
}

/// Columns per chunk of the horizontal passes (4 KiB of doubles per row).
let fastBoxSumChunk = 512

/// The van Herk plan's window sums at row positions x0 ..< x0 + count: `out[x - x0]` = the sum of `row[x ..< x
/// + length]` (`row`: the extended row from the windows' first column). Window starts go in blocks of `length`
/// from position 0, whatever the chunk: the window at B + t is S(t) for t = 0, else S(t) + P(t), with S(t) =
/// row[B + t] + S(t + 1) (S(L - 1) = row[B + L - 1]) and P(1) = row[B + L], P(t) = P(t - 1) + row[B + L + t - 1].
/// fast_box_sums_van_herk.h does the same additions, four segments of the row at a time. `suffix`: `length` doubles.
@inline(never)
func fastBoxSumVanHerk(_ row: UnsafePointer<Double>, _ x0: Int, _ count: Int, _ length: Int,
                       _ suffix: UnsafeMutablePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
    let end = x0 + count
    var block = x0 / length * length
    while block < end {
        let low = max(block, x0), high = min(block + length, end)
        // The block's suffixes down to its first window in the chunk.
        var s = row[block + length - 1]
        suffix[length - 1] = s
        var q = block + length - 2
        while q >= low {
            s = row[q] + s
            suffix[q - block] = s
            q -= 1
        }
        var x = low
        if x == block {
            out[x - x0] = suffix[0]
            x += 1
        }
        if x < high {
            // The next block's first t = x - block columns, in order.
            var p = row[block + length]
            var t = 1
            while t < x - block {
                p = p + row[block + length + t]
                t += 1
            }
            while true {
                out[x - x0] = suffix[x - block] + p
                x += 1
                if x == high { break }
                p = p + row[block + length + t]
                t += 1
            }
        }
        block += length
    }
}

// The row passes (vectorised by LLVM: no row written is read at another index).

@inline(never)
func fastBoxSumWiden<T: ReducibleElement>(_ source: UnsafePointer<T>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = source[t].doubleValue
        t &+= 1
    }
}

/// `d = source + below` (a suffix sum one row up).
@inline(never)
func fastBoxSumAddWidened<T: ReducibleElement>(_ source: UnsafePointer<T>, _ below: UnsafePointer<Double>,
                                                  _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = source[t].doubleValue + below[t]
        t &+= 1
    }
}

@inline(never)
func fastBoxSumAccumulateWidened<T: ReducibleElement>(_ source: UnsafePointer<T>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = d[t] + source[t].doubleValue
        t &+= 1
    }
}

/// prefix = source; columns = suffix + prefix.
@inline(never)
func fastBoxSumStartPrefix<T: ReducibleElement>(_ source: UnsafePointer<T>, _ suffix: UnsafePointer<Double>,
                                                   _ prefix: UnsafeMutablePointer<Double>, _ columns: UnsafeMutablePointer<Double>,
                                                   _ count: Int) {
    var t = 0
    while t < count {
        let p = source[t].doubleValue
        prefix[t] = p
        columns[t] = suffix[t] + p
        t &+= 1
    }
}

/// prefix += source; columns = suffix + prefix.
@inline(never)
func fastBoxSumContinuePrefix<T: ReducibleElement>(_ source: UnsafePointer<T>, _ suffix: UnsafePointer<Double>,
                                                      _ prefix: UnsafeMutablePointer<Double>, _ columns: UnsafeMutablePointer<Double>,
                                                      _ count: Int) {
    var t = 0
    while t < count {
        let p = prefix[t] + source[t].doubleValue
        prefix[t] = p
        columns[t] = suffix[t] + p
        t &+= 1
    }
}

/// `d = s + 0.0` (the literal kernel's `0.0 + pairwise(...)`: -0.0 becomes +0.0).
@inline(never)
func fastBoxSumFinish(_ s: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = s[t] + 0.0
        t &+= 1
    }
}

/// `out = (s + 0.0) * factor`, or `(s + 0.0) / divisor` when `divisor` is not 0, rounded to the output's type.
@inline(never)
func fastBoxSumStore(_ s: UnsafePointer<Double>, _ factor: Double, _ divisor: Double, _ out: UnsafeMutablePointer<Double>,
                     _ count: Int) {
    var t = 0
    if divisor != 0 {
        while t < count {
            out[t] = (s[t] + 0.0) / divisor
            t &+= 1
        }
        return
    }
    while t < count {
        out[t] = (s[t] + 0.0) * factor
        t &+= 1
    }
}

@inline(never)
func fastBoxSumStore(_ s: UnsafePointer<Double>, _ factor: Double, _ divisor: Double, _ out: UnsafeMutablePointer<Float>,
                     _ count: Int) {
    var t = 0
    if divisor != 0 {
        while t < count {
            out[t] = Float((s[t] + 0.0) / divisor)
            t &+= 1
        }
        return
    }
    while t < count {
        out[t] = Float((s[t] + 0.0) * factor)
        t &+= 1
    }
}
