// Exact box sums of float data (docs/window-strategies.md, "Exact box sums"). NumPy's pairwise order
// cannot be shared between neighbouring windows, but the order only matters when an addition rounds.
// When every value of a window is a multiple of 2^low and below 2^top in magnitude, every sum of at
// most `taps` of them is a multiple of 2^low below taps x 2^top: an integer of at most 53 bits times
// 2^low when ceil(log2 taps) + top - low <= 53, so exact in doubles, and then every order of the
// additions gives the same bits as the pairwise order. Such data are common: float32 images (24-bit
// mantissas, summed in doubles), integer-valued floats, fixed-point values. For them the O(1)-per-pixel
// box sums of `FastBoxSums.swift` give the literal kernel's bits: those passes never subtract, and
// each window's sum is a tree of additions over exactly its own values (each partial sum is a sum of
// some of the window's values), so every partial sum is exact too. The mean is then the literal
// kernel's `(sum + 0.0) / taps`, a true division (not the fast-math product with 1 / taps).
//
// The check runs per output row, before the sums: one pass over the input rows the chunk reads gives
// each row's range (`filterjit_float_row_range`: the largest top, the least low; NaN and infinities make
// a row fail), combined over the rows of each output row's window through the mode (and cval, in
// constant mode). Written directly, the box sums then write the whole chunk, and the output rows
// whose windows failed are written again by the pairwise sums (2-D: only their outputs whose windows
// touch failing column blocks, `RejectedColumns`); as planes for a compiled tail
// (`np.mean(values) > t`, another output type), runs of accepted rows come from the box sums and the
// others from the pairwise sums, in row order. When more than half fail (or three probe rows checked
// first: the chunk's first, middle and last), the chunk runs the pairwise sums alone. The bits never
// depend on which path computed a row.

import Foundation
import RankKernelsC

/// Switches and counters of the exact box sums (for tests and measurements).
public enum ExactBoxSums {
    /// Whether exact float box sums and means may run as box sums where the data make every sum exact
    /// (`FILTERJIT_EXACT_BOX_SUMS=0` turns them off: the pairwise sums run everywhere).
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["FILTERJIT_EXACT_BOX_SUMS"] != "0"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var rowCounts = (box: 0, pairwise: 0)

    /// Output rows written by the box sums and rows (re)written by the pairwise sums since the process started.
    public static var rows: (box: Int, pairwise: Int) {
        lock.lock()
        defer { lock.unlock() }
        return rowCounts
    }

    nonisolated(unsafe) private static var columnPatchCount = 0

    /// Rejected 2-D output rows written again only in part (`RejectedColumns`) since the process started.
    public static var columnPatches: Int {
        lock.lock()
        defer { lock.unlock() }
        return columnPatchCount
    }

    static func countColumnPatch() {
        lock.lock()
        columnPatchCount += 1
        lock.unlock()
    }

    static func count(box: Int, pairwise: Int) {
        lock.lock()
        rowCounts.box += box
        rowCounts.pairwise += pairwise
        lock.unlock()
    }

    /// Whether a sum of at most `taps` values of a window with this range is exact in doubles.
    static func isExact(top: Int32, low: Int32, taps: Int) -> Bool {
        if top == Int32.min { return true }   // only zeros
        guard top != Int32.max else { return false }   // NaN or an infinity
        let bits = taps <= 1 ? 0 : Int.bitWidth - (taps - 1).leadingZeroBitCount   // ceil(log2 taps)
        return bits + Int(top) - Int(low) <= 53 && Int(top) + bits <= 1023
    }

    /// The range of `count` contiguous values (`filterjit_float_row_range`; `portable`: its loop for
    /// CPUs without AVX-512 or AVX2, for tests).
    static func range<T: BinaryFloatingPoint>(_: T.Type, _ values: UnsafePointer<T>, count: Int,
                                              portable: Bool = false) -> (top: Int32, low: Int32) {
        var range: (Int32, Int32) = (0, 0)
        withUnsafeMutablePointer(to: &range) { pair in
            pair.withMemoryRebound(to: Int32.self, capacity: 2) { out in
                if portable {
                    filterjit_float_row_range_portable(T.self == Float.self ? 1 : 0, UnsafeRawPointer(values), count, out)
                } else {
                    filterjit_float_row_range(T.self == Float.self ? 1 : 0, UnsafeRawPointer(values), count, out)
                }
            }
        }
        return (range.0, range.1)
    }
}

extension WindowReductionJob {
    /// The box of the box sums this job runs: fast-math, or exact where the data allow.
    var sumBox: SeparableBox? { fastBoxSum ?? exactBoxSum }

    /// Stores the exact float sums (or means) of output rows `rows` by the box sums where every window's
    /// sums are exact, and by the pairwise sums elsewhere; false (nothing written) when more than half of
    /// the rows fail the check, or the box sums are off.
    ///
    /// `pairwiseColumns` (2-D): the pairwise sums of only some output columns of each row of a run (one
    /// list of column ranges per row, in order). With it, a rejected row is written again only where its
    /// windows may round (`RejectedColumns`): one small value sends every output row whose window reads
    /// its input row to the pairwise sums, but only the outputs whose windows touch its column block.
    func runExactBoxSumDirect(rows: Range<Int>, output: NDArray, mean: Bool,
                              pairwise: (Range<Int>) throws -> Void,
                              pairwiseColumns: ((Range<Int>, [[Range<Int>]]) throws -> Void)? = nil) throws -> Bool {
        guard exactBoxSum != nil, ExactBoxSums.enabled, !rows.isEmpty, let rejected = exactBoxSumRejects(rows: rows) else {
            return false
        }
        try runFastSumDirect(rows: rows, output: output, mean: mean, exact: true)
        var again = 0
        let columns = pairwiseColumns != nil && input.rank == 2 && !rejected.isEmpty ? RejectedColumns(self) : nil
        for run in rejected {
            if let pairwiseColumns, let columns {
                // Rows with more than half their outputs to patch are patched whole (one segment).
                let segments = run.map { row -> [Range<Int>] in
                    let found = columns.segments(row: row)
                    if found.reduce(0, { $0 + $1.count }) * 2 > rowLength { return [0..<rowLength] }
                    ExactBoxSums.countColumnPatch()
                    return found
                }
                try pairwiseColumns(run, segments)
            } else {
                try pairwise(run)
            }
            again += run.count
        }
        ExactBoxSums.count(box: rows.count - again, pairwise: again)
        return true
    }

    /// Delivers the exact float sums of output rows `rows` as planes for a compiled tail (`run`), in row
    /// order: runs of rows whose windows' sums are all exact by the box sums (`runFastBoxSumPlanes`: the
    /// sum + 0.0, as the pairwise planes hold 0.0 + pairwise), the others by `pairwise`; false (nothing
    /// delivered) as `runExactBoxSumDirect`.
    func runExactBoxSumPlanes(rows: Range<Int>, deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void,
                              pairwise: (Range<Int>) throws -> Void) throws -> Bool {
        guard exactBoxSum != nil, ExactBoxSums.enabled, !rows.isEmpty, let rejected = exactBoxSumRejects(rows: rows) else {
            return false
        }
        var start = rows.lowerBound, again = 0
        for run in rejected + [rows.upperBound..<rows.upperBound] {
            if start < run.lowerBound { try runFastBoxSumPlanes(rows: start..<run.lowerBound, deliver: deliver) }
            if !run.isEmpty {
                try pairwise(run)
                again += run.count
            }
            start = run.upperBound
        }
        ExactBoxSums.count(box: rows.count - again, pairwise: again)
        return true
    }

    /// The runs of output rows in `rows` whose windows hold values whose sums might round (in order),
    /// or nil when they are more than half of the rows, when three probe rows all fail (the chunk's
    /// first, middle and last), or when the job has no exact box sums.
    func exactBoxSumRejects(rows: Range<Int>) -> [Range<Int>]? {
        guard exactBoxSum != nil, !rows.isEmpty else { return nil }
        switch input.elementType {
        case .float32: return exactBoxSumRejects(Float.self, rows: rows)
        case .float64: return exactBoxSumRejects(Double.self, rows: rows)
        default: return nil
        }
    }

    private func exactBoxSumRejects<T: ReducibleElement & BinaryFloatingPoint>(_: T.Type, rows: Range<Int>) -> [Range<Int>]? {
        let box = exactBoxSum!
        let rank = input.rank, n = rowLength
        let planesAxis = rank == 3
        let rowsPerPlane = planesAxis ? input.shape[1] : input.shape[0]
        guard let rowIndex = try? geometry.indexMap(axis: rank - 2),
              let planeIndex = planesAxis ? try? geometry.indexMap(axis: 0) : [0] else { return nil }
        let k0 = planesAxis ? box.planes : 1, front = planesAxis ? box.firstPlane : 0
        let base = UnsafePointer<T>(OpaquePointer(input.firstElementPointer))
        let planeStride = planesAxis ? inStrides[0] : 0, rowStride = inStrides[rank - 2]
        let empty: (top: Int32, low: Int32) = (Int32.min, Int32.max)
        func merge(_ a: (top: Int32, low: Int32), _ b: (top: Int32, low: Int32)) -> (top: Int32, low: Int32) {
            (Swift.max(a.top, b.top), Swift.min(a.low, b.low))
        }
        // cval joins every window in constant mode (rows, planes or columns outside the input).
        var cvalRange = empty
        if geometry.mode.canonicalForFilters == .constant {
            var cval = T(exactlyOrdered: geometry.cval) ?? 0
            cvalRange = withUnsafePointer(to: &cval) { ExactBoxSums.range(T.self, $0, count: 1) }
        }
        let taps = box.planes * box.rows * box.length
        // Three probes first (the chunk's first, middle and last rows, each ranging its window's rows afresh):
        // when all fail, most rows would, and the chunk goes to the pairwise sums before the check has read the
        // input (full-precision float64 data fail everywhere; the whole check cost them 2 ms of a 128^3
        // cube-3 mean's 8).
        func probeIsExact(_ row: Int) -> Bool {
            let z = row / rowsPerPlane, y = row % rowsPerPlane
            var combined = merge(empty, cvalRange)
            for i in 0..<k0 {
                guard let p = planeIndex[z + front + i] else { continue }
                for j in 0..<box.rows {
                    guard let r = rowIndex[y + box.first + j] else { continue }
                    combined = merge(combined, ExactBoxSums.range(T.self, base + p * planeStride + r * rowStride, count: n))
                }
            }
            return ExactBoxSums.isExact(top: combined.top, low: combined.low, taps: taps)
        }
        if rows.count >= 3 && [rows.lowerBound, rows.lowerBound + rows.count / 2, rows.upperBound - 1].allSatisfy({ !probeIsExact($0) }) {
            return nil
        }
        // Output planes of the chunk and, per input plane they read, the ranges of its rows and of each output
        // row position's window rows (`PlaneRanges`), each computed when first needed: only the rows the
        // chunk's output rows read are ranged (a thread with part of a plane, or of a 2-D image, reads no more).
        let firstPlane = rows.lowerBound / rowsPerPlane, lastPlane = (rows.upperBound - 1) / rowsPerPlane
        var planes: [Int: PlaneRanges] = [:]
        var rejected: [Range<Int>] = []
        var rejectedCount = 0
        for z in firstPlane...lastPlane {
            let planeStart = z * rowsPerPlane
            let local = (Swift.max(rows.lowerBound, planeStart) - planeStart)..<(Swift.min(rows.upperBound, planeStart + rowsPerPlane) - planeStart)
            var combined = [(top: Int32, low: Int32)](repeating: merge(empty, cvalRange), count: local.count)
            for i in 0..<k0 {
                guard let p = planeIndex[z + front + i] else { continue }   // a plane of cval: in cvalRange
                let plane: PlaneRanges
                if let known = planes[p] {
                    plane = known
                } else {
                    plane = PlaneRanges(count: rowsPerPlane)
                    planes[p] = plane
                }
                for (index, y) in local.enumerated() {
                    if plane.windows[y] == nil {
                        var range = empty
                        for j in 0..<box.rows {
                            guard let r = rowIndex[y + box.first + j] else { continue }
                            if plane.rows[r] == nil {
                                plane.rows[r] = ExactBoxSums.range(T.self, base + p * planeStride + r * rowStride, count: n)
                            }
                            range = merge(range, plane.rows[r]!)
                        }
                        plane.windows[y] = range
                    }
                    combined[index] = merge(combined[index], plane.windows[y]!)
                }
            }
            for (index, y) in local.enumerated() where !ExactBoxSums.isExact(top: combined[index].top, low: combined[index].low, taps: taps) {
                let row = planeStart + y
                if let last = rejected.last, last.upperBound == row {
                    rejected[rejected.count - 1] = last.lowerBound..<(row + 1)
                } else {
                    rejected.append(row..<(row + 1))
                }
                rejectedCount += 1
            }
            if 2 * rejectedCount > rows.count { return nil }
            // Planes the next output planes no longer read.
            if planesAxis && z < lastPlane {
                planes = planes.filter { entry in (0..<k0).contains { planeIndex[z + 1 + front + $0] == entry.key } }
            }
        }
        return 2 * rejectedCount > rows.count ? nil : rejected
    }
}

/// The output columns of a rejected 2-D output row whose windows' sums may round (`segments`): the row's
/// window rows ranged in blocks of `block` columns (each input row once, when first needed), an output
/// accepted when the blocks its window's columns touch, over all its rows, pass `ExactBoxSums.isExact`;
/// outputs whose windows leave the row (they read columns through the mode) are always in the segments.
/// Conservative: a block's range covers more values than a window reads, never fewer.
final class RejectedColumns {
    let job: WindowReductionJob
    static let block = 64
    private var rowBlocks: [Int: [(top: Int32, low: Int32)]] = [:]
    private let rowIndex: [Int?]
    private var cvalRange: (top: Int32, low: Int32) = (Int32.min, Int32.max)

    init?(_ job: WindowReductionJob) {
        guard job.input.rank == 2, let index = try? job.geometry.indexMap(axis: 0) else { return nil }
        self.job = job
        rowIndex = index
        if job.geometry.mode.canonicalForFilters == .constant {
            switch job.input.elementType {
            case .float32:
                var cval = Float(exactlyOrdered: job.geometry.cval) ?? 0
                cvalRange = withUnsafePointer(to: &cval) { ExactBoxSums.range(Float.self, $0, count: 1) }
            default:
                var cval = Double(exactlyOrdered: job.geometry.cval) ?? 0
                cvalRange = withUnsafePointer(to: &cval) { ExactBoxSums.range(Double.self, $0, count: 1) }
            }
        }
    }

    private static func merge(_ a: (top: Int32, low: Int32), _ b: (top: Int32, low: Int32)) -> (top: Int32, low: Int32) {
        (Swift.max(a.top, b.top), Swift.min(a.low, b.low))
    }

    private func blocks(ofInputRow r: Int) -> [(top: Int32, low: Int32)] {
        if let known = rowBlocks[r] { return known }
        let n = job.rowLength, block = Self.block, rowStride = job.inStrides[0]
        var ranges: [(top: Int32, low: Int32)] = []
        ranges.reserveCapacity((n + block - 1) / block)
        var c = 0
        while c < n {
            let count = Swift.min(block, n - c)
            switch job.input.elementType {
            case .float32:
                let base = UnsafePointer<Float>(OpaquePointer(job.input.firstElementPointer))
                ranges.append(ExactBoxSums.range(Float.self, base + r * rowStride + c, count: count))
            default:
                let base = UnsafePointer<Double>(OpaquePointer(job.input.firstElementPointer))
                ranges.append(ExactBoxSums.range(Double.self, base + r * rowStride + c, count: count))
            }
            c += count
        }
        rowBlocks[r] = ranges
        return ranges
    }

    /// The runs of output columns of output row `row` to write again by the pairwise sums, in order.
    func segments(row y: Int) -> [Range<Int>] {
        let box = job.exactBoxSum!, n = job.rowLength, block = Self.block
        let taps = box.rows * box.length
        let blockCount = (n + block - 1) / block
        var combined = [(top: Int32, low: Int32)](repeating: Self.merge((Int32.min, Int32.max), cvalRange), count: blockCount)
        for j in 0..<box.rows {
            guard let r = rowIndex[y + box.first + j] else { continue }   // a row of cval: in cvalRange
            let ranges = blocks(ofInputRow: r)
            for b in 0..<blockCount { combined[b] = Self.merge(combined[b], ranges[b]) }
        }
        // Output x reads columns x + shift ..< x + shift + length, through the mode outside 0 ..< n.
        let shift = box.start - job.geometry.centre[1]
        var segments: [Range<Int>] = []
        var x = 0
        while x < n {
            let first = x + shift, last = x + shift + box.length - 1
            var rejected = first < 0 || last >= n
            if !rejected {
                var range = combined[first / block]
                for b in (first / block + 1)..<(last / block + 1) { range = Self.merge(range, combined[b]) }
                rejected = !ExactBoxSums.isExact(top: range.top, low: range.low, taps: taps)
            }
            if rejected {
                if let previous = segments.last, previous.upperBound == x {
                    segments[segments.count - 1] = previous.lowerBound..<(x + 1)
                } else {
                    segments.append(x..<(x + 1))
                }
            }
            x += 1
        }
        return segments
    }
}

/// The ranges of one input plane's rows (2-D: the image's rows) and of each output row position's window
/// rows in it, filled as `exactBoxSumRejects` needs them.
private final class PlaneRanges {
    var rows: [(top: Int32, low: Int32)?]
    var windows: [(top: Int32, low: Int32)?]
    init(count: Int) {
        rows = Array(repeating: nil, count: count)
        windows = Array(repeating: nil, count: count)
    }
}
