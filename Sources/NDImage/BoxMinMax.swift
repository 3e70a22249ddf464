// Separable min/max of 2-D box windows (docs/window-strategies.md): per output row, a vertical pass
// over the input rows the window covers gives one row of column minima (maxima), which is extended
// through the mode along the row and slid horizontally. Vertically, up to 8 rows are combined
// directly in one pass; taller windows use van Herk / Gil-Werman: the output rows go in blocks of k, each block
// keeps the suffix minima of its k input rows (k - 1 passes per k rows) and a running prefix over the
// next block's rows, so that every output row costs about 3 passes over a row, whatever k.
// Horizontally, up to 8 windows are combined in one pass, after passes that grow them fourfold.
// Every pass is an element-wise min or max in the native element type over a contiguous row, which
// LLVM vectorises (32 lanes of uint8 with AVX2). The extension along the row commutes with the
// vertical min (both pick columns), so only the one row of minima is extended. Exact under the same
// conditions as the other strategies: float rows holding NaN or -0.0 make it decline.
//
// Scratch per thread: per reduction k suffix rows and two prefix rows of the input's width (van Herk
// only), one extended row, two sliding rows and one result row.

/// The shape of a 2-D or 3-D box that the separable min/max passes handle.
struct SeparableBox: Sendable {
    /// Footprint rows (consecutive along the second-to-last axis) and the first one's position.
    var rows: Int
    var first: Int
    /// The span along the row.
    var start: Int
    var length: Int
    /// 3-D: footprint planes (consecutive along axis 0) and the first one's position (2-D: 1 and 0).
    var planes: Int = 1
    var firstPlane: Int = 0
}

extension WindowReductionJob {
    /// The most memory the ring of 3-D planes may take (beyond it, 3-D boxes keep the row spans).
    static let planeRingBytes = 64 << 20

    /// Whether the job's reductions run as separable box passes (2-D or 3-D box, contiguous rows,
    /// min/max only). `outer` holds each footprint row's position on the axes before the last.
    static func separableBox(input: NDArray, reductions: [WindowReduction], outer: [[Int]], span: (start: Int, length: Int)?)
        -> SeparableBox? {
        let rank = input.rank
        guard rank == 2 || rank == 3, input.strides[rank - 1] == input.elementType.itemSize, let span,
              !reductions.isEmpty, reductions.allSatisfy({ $0 == .minimum || $0 == .maximum }) else { return nil }
        func consecutive(_ positions: [Int]) -> (first: Int, count: Int)? {
            let sorted = Set(positions).sorted()
            guard let first = sorted.first, sorted == Array(first..<(first + sorted.count)) else { return nil }
            return (first, sorted.count)
        }
        guard let rows = consecutive(outer.map { $0[rank - 2] }) else { return nil }
        if rank == 2 {
            guard rows.count == outer.count else { return nil }
            return SeparableBox(rows: rows.count, first: rows.first, start: span.start, length: span.length)
        }
        // Every (plane, row) pair once: a full grid.
        guard let planes = consecutive(outer.map { $0[0] }), planes.count * rows.count == outer.count,
              Set(outer).count == outer.count,
              planes.count * reductions.count * input.shape[1] * input.shape[2] * input.elementType.itemSize <= planeRingBytes
        else { return nil }
        return SeparableBox(rows: rows.count, first: rows.first, start: span.start, length: span.length,
                            planes: planes.count, firstPlane: planes.first)
    }

    /// Runs the separable passes over output rows `rows`; `body(row, result)` receives each output
    /// row's min (or max) for every reduction in turn (`reduction` index, row of n elements). With
    /// `destination`, a contiguous output row of the input's type takes the last pass itself.
    func runSeparable<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                           destination: ((Int) -> UnsafeMutablePointer<T>?)? = nil,
                                           body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws {
        // 2-D boxes of 8- and 16-bit integers up to 8 rows and 8 (16-bit: 12) columns, written straight into the
        // output: one pass per pair of output rows (per row off AMD: `BoxKernels.rowPairs`) in registers
        // (`runFusedBox`), where the CPU has the kernels (AVX-512; AVX2 up to 8 x 8 with the default centre, float32
        // too).
        if input.rank == 2, let destination, try runFusedBox(T.self, box: box, rows: rows, destination: destination, body: body) {
            return
        }
        // float32 (float64, uint16, int16: see `longWideMinRows`) 2-D boxes of 9 or more rows, one reduction, contiguous
        // output rows: the wide-lane long-box kernel (`runSeparableLongWide`, BoxMinMaxLong.swift), when it runs here.
        if reductions.count == 1, input.rank == 2, let minRows = Self.longWideMinRows(T.self), box.rows >= minRows,
           let destination, try runSeparableLongWide(T.self, box: box, rows: rows, destination: destination, body: body) {
            return
        }
        // Rows first: 3-D boxes, and 2-D boxes of float32 data up to 8 rows, where the NaN / -0.0 check
        // rides on the pass that reads the row (for integer and float64 data the columns-first passes
        // below measured as fast or faster); with the AVX-512 kernels (`BoxKernels`), float32 boxes up
        // to 9 rows and 16 columns, uint16 and int16 boxes of 5 to 9 rows (the fused step). Without row
        // pairs (Intel) up to 8 rows: nine ring rows of 2048 float32 (72 KiB) leave L1 (Emerald Rapids,
        // 2048x2048 float32 9x9 min: 0.90x cv2.erode through the ring), and the 9-row boxes take the wide
        // long-box kernel above (1.6x-1.75x, branch w12o).
        if input.rank == 3 || (T.self == Float.self && box.rows <= Self.ringMaxRows)
            || (BoxKernels.serve(T.self) && box.rows <= (BoxKernels.rowPairs ? Self.ringMaxRowsAVX512 : Self.ringMaxRows)
                && box.length <= 16
                && (T.self == Float.self || box.rows >= Self.ringMinRows16)) {
            try runSeparableRing(T.self, box: box, rows: rows, destination: destination, body: body)
            return
        }
        // 8-bit boxes of more than 8 rows or columns, one reduction, contiguous output rows: the AVX-512 VBMI
        // kernel, or the AVX2 one (`runSeparableLong`, BoxMinMaxLong.swift), when it runs here.
        if reductions.count == 1, input.rank == 2, MemoryLayout<T>.size == 1, box.rows > 8 || box.length > 8,
           let destination, try runSeparableLong(T.self, box: box, rows: rows, destination: destination, body: body) {
            return
        }
        // One reduction of 2 to 8 rows: output rows in pairs (`runSeparablePairs`), for 8-bit and float64 data,
        // where it measured faster (2048x2048, one thread: uint8 3x3 0.285 -> 0.24 ms, float64 3x3 5.1 -> 4.5
        // ms, Zen 4); uint16 3x3 measured 0.80 -> 0.83-0.88 ms, so 16-bit (and the unmeasured 32/64-bit integer)
        // boxes keep single rows. Only where `BoxKernels.rowPairs` (AMD): on Intel single rows measured faster.
        if reductions.count == 1, box.rows >= 2, box.rows <= 8, MemoryLayout<T>.size == 1 || T.self == Double.self,
           BoxKernels.rowPairs {
            try runSeparablePairs(T.self, box: box, rows: rows, destination: destination, body: body)
            return
        }
        let n = rowLength
        let k = box.rows
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let outerMap = outerMaps[0]
        let extendedLength = lastMap.count
        let centre = geometry.centre[1]
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: n)
        let extended = UnsafeMutablePointer<T>.allocate(capacity: max(1, extendedLength))
        let slideA = UnsafeMutablePointer<T>.allocate(capacity: max(1, extendedLength))
        let slideB = UnsafeMutablePointer<T>.allocate(capacity: max(1, extendedLength))
        let result = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        let vanHerk = k > 8
        let planes = reductions.count
        // Per reduction: k suffix rows and two prefix rows (van Herk). No pass writes over one of
        // its operands: LLVM's overlap check would then send the loop to its scalar version.
        let suffix = UnsafeMutablePointer<T>.allocate(capacity: vanHerk ? planes * k * n : 1)
        let prefix = UnsafeMutablePointer<T>.allocate(capacity: vanHerk ? planes * 2 * n : 1)
        defer {
            cvalRow.deallocate(); extended.deallocate(); slideA.deallocate(); slideB.deallocate()
            result.deallocate(); suffix.deallocate(); prefix.deallocate()
        }
        /// The input row at extended position p along axis 0 (the cval row outside, in constant modes).
        func row(_ p: Int) -> UnsafeMutablePointer<T> {
            guard let offset = outerMap[p] else { return cvalRow }
            return base + offset
        }
        // NaN and -0.0: each input row is checked (a read-only, vectorised pass) just before the first
        // window that reads it, so that the vertical pass finds it in cache.
        var nextToCheck = rows.lowerBound + box.first
        func checkRows(through last: Int) throws {
            guard T.mayHoldHazards else { return }
            while nextToCheck <= last {
                if let offset = outerMap[nextToCheck], hasOrderHazard(UnsafePointer(base + offset), n) {
                    throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0")
                }
                nextToCheck += 1
            }
        }
        // Along the row: positions < centre and >= centre + n read through the mode.
        var leftEdge: [(Int, Int?)] = [], rightEdge: [(Int, Int?)] = []
        for j in 0..<min(centre, extendedLength) { leftEdge.append((j, lastMap[j])) }
        for j in min(centre + n, extendedLength)..<extendedLength { rightEdge.append((j, lastMap[j])) }
        let columns = extended + centre
        for y in rows {
            let top = y + box.first
            let j = (y - rows.lowerBound) % k
            try checkRows(through: top + k - 1)   // the rows this window reads (van Herk's block included)
            for r in 0..<planes {
                if reductions[r] == .minimum {
                    try separableRow(BoxMinimum.self, y: y, r: r, top: top, j: j)
                } else {
                    try separableRow(BoxMaximum.self, y: y, r: r, top: top, j: j)
                }
            }
        }

        func separableRow<Op: BoxOperation>(_: Op.Type, y: Int, r: Int, top: Int, j: Int) throws {
            // Vertical: the column minima of input rows top ..< top + k, into `columns`.
            switch k {
            case 1: columns.update(from: row(top), count: n)
            case 2: combine2(Op.self, row(top), row(top + 1), columns, n)
            case 3: combine3(Op.self, row(top), row(top + 1), row(top + 2), columns, n)
            case 4: combine4(Op.self, row(top), row(top + 1), row(top + 2), row(top + 3), columns, n)
            case 5: combine5(Op.self, row(top), row(top + 1), row(top + 2), row(top + 3), row(top + 4), columns, n)
            case 6: combine6(Op.self, row(top), row(top + 1), row(top + 2), row(top + 3), row(top + 4), row(top + 5), columns, n)
            case 7:
                combine7(Op.self, row(top), row(top + 1), row(top + 2), row(top + 3), row(top + 4), row(top + 5), row(top + 6),
                         columns, n)
            case 8:
                combine8(Op.self, row(top), row(top + 1), row(top + 2), row(top + 3), row(top + 4), row(top + 5), row(top + 6),
                         row(top + 7), columns, n)
            default:
                let suffix = suffix + r * k * n
                let prefixes = prefix + r * 2 * n
                @inline(__always) func suffixRow(_ i: Int) -> UnsafeMutablePointer<T> { i == k - 1 ? row(top + k - 1 - j) : suffix + i * n }
                if j == 0 {
                    // Suffix minima of this block's k rows: suffix[i] = op(rows top + i ..< top + k)
                    // (the last is the input row itself; the first goes straight to `columns`).
                    for i in stride(from: k - 2, through: 1, by: -1) {
                        combine2(Op.self, row(top + i), suffixRow(i + 1), suffix + i * n, n)
                    }
                    combine2(Op.self, row(top), suffixRow(1), columns, n)
                } else if j == 1 {
                    // Rows top ..< top + k - 1 from the suffix, the next block's first row itself.
                    combine2(Op.self, suffixRow(1), row(top + k - 1), columns, n)
                } else {
                    // The prefix over the next block's first j rows (two rows, alternating, so that no
                    // pass writes over an operand), and the window's minima, in one pass.
                    let previous: UnsafeMutablePointer<T> = j == 2 ? row(top + k - 2) : prefixes + ((j - 1) % 2) * n
                    let current = prefixes + (j % 2) * n
                    combinePrefix(Op.self, previous, row(top + k - 1), current, suffixRow(j), columns, n)
                }
            }
            // Extended through the mode along the row.
            for (j, mapped) in leftEdge { extended[j] = mapped.map { columns[$0] } ?? cval }
            for (j, mapped) in rightEdge { extended[j] = mapped.map { columns[$0] } ?? cval }
            // Horizontal: windows of width w at every position, w growing fourfold per pass, until
            // at most 8 of them (overlapping at the end: min and max are idempotent) cover the span.
            let out = destination?(y) ?? result
            slideRow(Op.self, extended + box.start, length: box.length, n: n, slideA, slideB, into: out)
            try body(y, r, out)
        }
    }

    /// One min or max of a 2-D box of up to 8 rows and 8 (16-bit: 12) columns over 8- or 16-bit integers (and float32
    /// up to 5 rows where the AVX2 kernel runs instead of AVX-512: data or cval holding NaN or -0.0 make it decline), every
    /// output row written in place (`destination`), in one call of the single-pass kernel (`BoxKernels.fused`: per
    /// pair of output rows the column minima stay in registers and the window along the row is taken by permutes;
    /// 2048x2048 uint8 3x3 measured 1.22x a memcpy of the image in a C loop on Zen 4; through Python 1.36x-1.42x
    /// `np.copyto`, against 2.65x for the paired passes below). False, with nothing written, when it does not
    /// apply. `destination(y)` must be affine in y, as a 2-D output's rows are (the row pointers are taken
    /// from the first, second and last rows).
    func runFusedBox<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                          destination: (Int) -> UnsafeMutablePointer<T>?,
                                          body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws -> Bool {
        let k = box.rows
        // One permute per column: 8-bit windows of more than 8 columns measured faster in the long-box kernel
        // (3x15 uint8 0.28 against 0.48 ms), 16-bit ones of 15 or 16 columns in the passes below (3x15 uint16
        // 0.88 against 0.93 ms, 1x16 0.66 against 0.91), while 3x9 and 5x12 uint16 gain here (0.66 against 0.79,
        // 0.91 against 1.25 ms).
        // float32 up to 5 rows. Each row is checked for NaN / -0.0 by the call it enters only (Zen 3, 2048x2048
        // through Python, best of 400: 3x3 1.44 -> 1.34 ms, 5x5 2.36 against the rows-first ring's 2.69, 7x7 2.87
        // against 2.97, at the noise, left to the ring; 9x9, tried with bodies up to 16 columns, 4.65 against
        // 4.06). Until the fifteenth session every vector loaded was checked (k + 1 per pair of rows, 4 operations
        // each), and it served 3 rows only (5x5 2.6 against 2.25, 7x7 4.1 against 2.8).
        guard reductions.count == 1, BoxKernels.fusedServe(T.self), k >= 1, k <= (T.self == Float.self ? 5 : 8),
              box.length <= (MemoryLayout<T>.size == 2 ? 12 : 8), !rows.isEmpty
        else { return false }
        let n = rowLength
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let outerMap = outerMaps[0]
        let extendedLength = lastMap.count
        let count = rows.count
        let inputs = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: count + k - 1)
        let outputs = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: count)
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: n)
        defer { inputs.deallocate(); outputs.deallocate(); cvalRow.deallocate() }
        // The plan's table (only the positions outside the row are read: the kernel loads the row itself).
        let centre = geometry.centre[1]
        for i in 0..<(count + k - 1) {
            inputs[i] = UnsafePointer(outerMap[rows.lowerBound + box.first + i].map { base + $0 } ?? cvalRow)
        }
        // Output rows of a 2-D array lie at one stride (the caller's `destination` is affine in y): the first two
        // rows give them all (the last one must agree, else one call per row), a closure call less per row.
        guard let first = destination(rows.lowerBound), let final = destination(rows.upperBound - 1) else { return false }
        let step = count > 1 ? (final - first) / (count - 1) : 0
        if count > 2, let second = destination(rows.lowerBound + 1), second - first == step, first + step * (count - 1) == final {
            for i in 0..<count { outputs[i] = first + step * i }
        } else {
            for (i, y) in rows.enumerated() {
                guard let row = destination(y) else { return false }
                outputs[i] = row
            }
        }
        let result = lastColumns.withUnsafeBufferPointer { columns -> BoxKernels.FusedResult in
            guard let columns = columns.baseAddress else { return .notRun }
            return BoxKernels.fused(inputs, outputs, count: count, k: k, start: box.start, length: box.length,
                                    columns: columns, centre: centre, extended: extendedLength, cval: cval, n: n,
                                    maximum: reductions[0] == .maximum)
        }
        if result == .hazard { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
        guard result == .written else { return false }
        for (i, y) in rows.enumerated() { try body(y, 0, outputs[i]) }
        return true
    }

    /// The columns-first passes of one min or max over 2 to 8 rows, output rows in pairs: one vertical pass over
    /// the k + 1 input rows the two windows read gives both rows of column minima (the k - 1 rows they share
    /// combined once), each then extended through the mode and slid (`boxPairStep`); a lone last row takes one
    /// vertical pass over its k rows. Apart from `runSeparable`, whose nested functions the compiler then
    /// handled differently (the job struct copied per row in its van Herk path).
    func runSeparablePairs<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                                destination: ((Int) -> UnsafeMutablePointer<T>?)?,
                                                body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws {
        let n = rowLength
        let k = box.rows
        precondition(reductions.count == 1 && k >= 2 && k <= 8)
        let minimum = reductions[0] == .minimum
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let outerMap = outerMaps[0]
        let extendedLength = lastMap.count
        let centre = geometry.centre[1]
        // The edge positions along the row (< centre and >= centre + n) and the column each reads (-1: cval).
        let left = min(centre, extendedLength)
        let rightStart = min(centre + n, extendedLength)
        let edges = UnsafeMutablePointer<Int>.allocate(capacity: max(1, left + extendedLength - rightStart))
        for j in 0..<left { edges[j] = lastMap[j] ?? -1 }
        for j in rightStart..<extendedLength { edges[left + j - rightStart] = lastMap[j] ?? -1 }
        // The second extended row starts 320 bytes past a multiple of 4096 from the first (as the AVX-512
        // ring's rows): rows of 4096/8192 bytes would otherwise put its loads on the first's stores' 4K alias.
        let rowBytes = (max(1, extendedLength) * MemoryLayout<T>.stride + 63) & ~63
        let pairStride = (rowBytes + ((320 - rowBytes % 4096) + 4096) % 4096) / MemoryLayout<T>.stride
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: 2 * pairStride)
        let slideA = UnsafeMutablePointer<T>.allocate(capacity: max(1, extendedLength))
        let slideB = UnsafeMutablePointer<T>.allocate(capacity: max(1, extendedLength))
        let results = UnsafeMutablePointer<T>.allocate(capacity: 2 * max(1, n))
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cval, count: n)
        let inputs = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: 9)
        defer {
            edges.deallocate(); buffer.deallocate(); slideA.deallocate(); slideB.deallocate(); results.deallocate()
            cvalRow.deallocate(); inputs.deallocate()
        }
        let geometry = BoxPairGeometry(k: k, n: n, centre: centre, extendedLength: extendedLength, rowStride: pairStride,
                                       left: left, start: box.start, length: box.length)
        // NaN and -0.0: each input row checked just before the first window that reads it, as in `runSeparable`.
        var nextToCheck = rows.lowerBound + box.first
        var y = rows.lowerBound
        while y < rows.upperBound {
            let top = y + box.first
            let pair = y + 1 < rows.upperBound
            let last = top + (pair ? k : k - 1)
            while nextToCheck <= last {
                if T.mayHoldHazards, let offset = outerMap[nextToCheck], hasOrderHazard(UnsafePointer(base + offset), n) {
                    throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0")
                }
                nextToCheck += 1
            }
            for i in 0...(pair ? k : k - 1) {
                inputs[i] = UnsafePointer(outerMap[top + i].map { base + $0 } ?? cvalRow)
            }
            let out0 = destination?(y) ?? results
            let out1: UnsafeMutablePointer<T>? = pair ? destination?(y + 1) ?? results + n : nil
            if minimum {
                boxPairStep(BoxMinimum.self, inputs, geometry, edges, cval, buffer, slideA, slideB, out0, out1)
            } else {
                boxPairStep(BoxMaximum.self, inputs, geometry, edges, cval, buffer, slideA, slideB, out0, out1)
            }
            try body(y, 0, out0)
            if let out1 { try body(y + 1, 0, out1) }
            y += pair ? 2 : 1
        }
    }
}

/// The sizes `boxPairStep` works with (one output row pair of a columns-first box of up to 8 rows).
struct BoxPairGeometry {
    var k: Int
    var n: Int
    var centre: Int
    var extendedLength: Int
    /// Elements from the first extended row of `buffer` to the second (at least `extendedLength`).
    var rowStride: Int
    /// Extended positions 0 ..< left and centre + n ..< extendedLength read through the mode (`edges`).
    var left: Int
    var start: Int
    var length: Int
}

/// Two output rows of a columns-first box (`runSeparable`, k in 2...8): the column minima of input rows
/// `rows[0 ..< k]` and `rows[1 ... k]` in one pass (into the two extended rows at `buffer`), each extended
/// through the mode (`edges[i]`: the column extended position i of the edges reads, -1 for cval) and slid
/// into `out0` / `out1`; with `out1` nil, the one row of `rows[0 ..< k]` into `out0`. A free function over
/// explicit arguments, so that nothing copies the job per row.
func boxPairStep<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ rows: UnsafePointer<UnsafePointer<T>>,
                                                        _ g: BoxPairGeometry, _ edges: UnsafePointer<Int>, _ cval: T,
                                                        _ buffer: UnsafeMutablePointer<T>,
                                                        _ slideA: UnsafeMutablePointer<T>, _ slideB: UnsafeMutablePointer<T>,
                                                        _ out0: UnsafeMutablePointer<T>, _ out1: UnsafeMutablePointer<T>?) {
    let e0 = buffer, e1 = buffer + g.rowStride
    let d0 = e0 + g.centre, d1 = e1 + g.centre, n = g.n, r = rows
    guard let out1 else {
        // One output row (`out1` nil): the column minima of rows[0 ..< k].
        switch g.k {
        case 2: combine2(Op.self, r[0], r[1], d0, n)
        case 3: combine3(Op.self, r[0], r[1], r[2], d0, n)
        case 4: combine4(Op.self, r[0], r[1], r[2], r[3], d0, n)
        case 5: combine5(Op.self, r[0], r[1], r[2], r[3], r[4], d0, n)
        case 6: combine6(Op.self, r[0], r[1], r[2], r[3], r[4], r[5], d0, n)
        case 7: combine7(Op.self, r[0], r[1], r[2], r[3], r[4], r[5], r[6], d0, n)
        default: combine8(Op.self, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], d0, n)
        }
        boxExtend(e0, d0, g, edges, cval)
        slideRow(Op.self, e0 + g.start, length: g.length, n: n, slideA, slideB, into: out0)
        return
    }
    switch g.k {
    case 2: combinePair2(Op.self, r[0], r[1], r[2], d0, d1, n)
    case 3: combinePair3(Op.self, r[0], r[1], r[2], r[3], d0, d1, n)
    case 4: combinePair4(Op.self, r[0], r[1], r[2], r[3], r[4], d0, d1, n)
    case 5: combinePair5(Op.self, r[0], r[1], r[2], r[3], r[4], r[5], d0, d1, n)
    case 6: combinePair6(Op.self, r[0], r[1], r[2], r[3], r[4], r[5], r[6], d0, d1, n)
    case 7: combinePair7(Op.self, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], d0, d1, n)
    default: combinePair8(Op.self, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], d0, d1, n)
    }
    boxExtend(e0, d0, g, edges, cval)
    boxExtend(e1, d1, g, edges, cval)
    slideRow(Op.self, e0 + g.start, length: g.length, n: n, slideA, slideB, into: out0)
    slideRow(Op.self, e1 + g.start, length: g.length, n: n, slideA, slideB, into: out1)
}

/// The edge positions of extended row `e` (whose columns start at `d`) through the mode (`boxPairStep`).
@inline(__always)
func boxExtend<T: ReducibleElement>(_ e: UnsafeMutablePointer<T>, _ d: UnsafeMutablePointer<T>, _ g: BoxPairGeometry,
                                    _ edges: UnsafePointer<Int>, _ cval: T) {
    var i = 0
    for j in 0..<g.left {
        let column = edges[i]
        e[j] = column < 0 ? cval : d[column]
        i += 1
    }
    var j = min(g.centre + g.n, g.extendedLength)
    while j < g.extendedLength {
        let column = edges[i]
        e[j] = column < 0 ? cval : d[column]
        i += 1
        j += 1
    }
}

/// min or max, as a type so that the row loops specialise and vectorise.
protocol BoxOperation {
    static func pick<T: ReducibleElement>(_ a: T, _ b: T) -> T
    /// Whether this is the maximum (for the C kernels' flag).
    static var isMaximum: Bool { get }
}

enum BoxMinimum: BoxOperation {
    @inline(__always) static func pick<T: ReducibleElement>(_ a: T, _ b: T) -> T { b < a ? b : a }
    static var isMaximum: Bool { false }
}

enum BoxMaximum: BoxOperation {
    @inline(__always) static func pick<T: ReducibleElement>(_ a: T, _ b: T) -> T { b > a ? b : a }
    static var isMaximum: Bool { true }
}

// Element-wise combinations of 2, 3 or 4 rows into a row that none of them overlaps.
@inline(never)
func combine2<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
                                                     _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = Op.pick(a[t], b[t])
        t &+= 1
    }
}

@inline(never)
func combine3<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
                                                     _ c: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = Op.pick(Op.pick(a[t], b[t]), c[t])
        t &+= 1
    }
}

@inline(never)
func combine4<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
                                                     _ c: UnsafePointer<T>, _ e: UnsafePointer<T>,
                                                     _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = Op.pick(Op.pick(a[t], b[t]), Op.pick(c[t], e[t]))
        t &+= 1
    }
}

// 5 to 8 rows in one pass (loads from L1 are cheaper than another pass's store).
@inline(never)
func combine5<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>,
                                                     _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = Op.pick(Op.pick(Op.pick(a[t], b[t]), Op.pick(c[t], e[t])), f[t])
        t &+= 1
    }
}

@inline(never)
func combine6<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: UnsafePointer<T>,
                                                     _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = Op.pick(Op.pick(Op.pick(a[t], b[t]), Op.pick(c[t], e[t])), Op.pick(f[t], g[t]))
        t &+= 1
    }
}

@inline(never)
func combine7<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: UnsafePointer<T>, _ h: UnsafePointer<T>,
                                                     _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = Op.pick(Op.pick(Op.pick(a[t], b[t]), Op.pick(c[t], e[t])), Op.pick(Op.pick(f[t], g[t]), h[t]))
        t &+= 1
    }
}

@inline(never)
func combine8<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: UnsafePointer<T>, _ h: UnsafePointer<T>, _ i: UnsafePointer<T>,
                                                     _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = Op.pick(Op.pick(Op.pick(a[t], b[t]), Op.pick(c[t], e[t])), Op.pick(Op.pick(f[t], g[t]), Op.pick(h[t], i[t])))
        t &+= 1
    }
}

/// `prefix = op(previous, entering)` and `d = op(suffix, prefix)` in one pass (van Herk's step).
@inline(never)
func combinePrefix<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ previous: UnsafePointer<T>, _ entering: UnsafePointer<T>,
                                                          _ prefix: UnsafeMutablePointer<T>, _ suffix: UnsafePointer<T>,
                                                          _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let p = Op.pick(previous[t], entering[t])
        prefix[t] = p
        d[t] = Op.pick(suffix[t], p)
        t &+= 1
    }
}

/// Whether `count` elements from `data` hold NaN or -0.0: one pass with no early exit, keeping the largest
/// magnitude's bits (NaN: above +inf's) and the smallest bits with the sign flipped (-0.0: zero), two
/// unsigned reductions that vectorise without narrowing (the `combineNChecked` passes fold the same test in).
@inline(never)
func hasOrderHazard<T: ReducibleElement>(_ data: UnsafePointer<T>, _ count: Int) -> Bool {
    guard T.mayHoldHazards else { return false }
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var x = 0
    while x < count {
        let v = data[x]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        x &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

/// Whether `count` contiguous elements of `elementType` at `data` hold NaN or -0.0 (integer types never do),
/// for callers that choose an algorithm by it (`filterjit.ndimage`): blocks of 4,096 elements, each one
/// vectorised pass of signed compares ORed into a flag (AVX2 has no unsigned 64-bit max or min, which
/// `hasOrderHazard`'s reductions need: 2048x2048 float64 2.1 -> 1.8-1.9 ms), stopping after the first block
/// that holds one.
public func holdsNaNOrNegativeZero(_ data: UnsafeRawPointer, elementType: ElementType, count: Int) -> Bool {
    switch elementType {
    case .float64:
        return blocksHoldNaNOrNegativeZero(data, count, nanAbove: Int64(0x7FF0_0000_0000_0000), negativeZero: .min)
    case .float32:
        return blocksHoldNaNOrNegativeZero(data, count, nanAbove: Int32(0x7F80_0000), negativeZero: .min)
    default:
        return false
    }
}

/// `holdsNaNOrNegativeZero` over floats read as signed integers of their width: NaN is a magnitude (the bits
/// without the sign) above +inf's, -0.0 the integer type's minimum. Unaligned loads: a caller's array (a
/// NumPy view) need not be aligned for its element type.
@inline(__always)
private func blocksHoldNaNOrNegativeZero<Bits: FixedWidthInteger & SignedInteger>(
    _ data: UnsafeRawPointer, _ count: Int, nanAbove: Bits, negativeZero: Bits) -> Bool {
    let size = MemoryLayout<Bits>.size
    var start = 0
    while start < count {
        let end = min(count, start &+ 4096)
        var found: Bits = 0
        var i = start
        while i < end {
            let bits = data.loadUnaligned(fromByteOffset: i &* size, as: Bits.self)
            let magnitude = bits & Bits.max
            found |= (magnitude > nanAbove ? 1 : 0) | (bits == negativeZero ? 1 : 0)
            i &+= 1
        }
        if found != 0 { return true }
        start = end
    }
    return false
}

// MARK: Rows first (short boxes, and 3-D boxes)

/// Reduces input rows along the row: the window of output column x covers input columns
/// x + shift ..< x + shift + length. Rows are read in place for windows of up to 8 columns (only the
/// edge columns go through the mode, one by one); longer windows extend the row through the mode
/// first and grow their windows fourfold per pass. Each row is checked for NaN and -0.0 first.
struct RowReducer<T: ReducibleElement> {
    let n: Int
    let start: Int
    let length: Int
    let centre: Int
    let cval: T
    let map: [Int?]
    let inLow: Int
    let inHigh: Int
    let direct: Bool
    let extended: UnsafeMutablePointer<T>
    let slideA: UnsafeMutablePointer<T>
    let slideB: UnsafeMutablePointer<T>
    /// Per extended position, the input column it reads (-1: cval); and a short row for the edges.
    let edgeIndex: UnsafeMutablePointer<Int>
    let edgeRow: UnsafeMutablePointer<T>

    init(n: Int, start: Int, length: Int, centre: Int, cval: T, map: [Int?]) {
        self.n = n
        self.start = start
        self.length = length
        self.centre = centre
        self.cval = cval
        self.map = map
        let shift = start - centre
        inLow = min(n, max(0, -shift))
        inHigh = max(inLow, min(n, n - shift - length + 1))
        // The AVX-512 row pass (any window up to 16 columns) or the Swift passes (up to 8).
        direct = (length <= 8 || (BoxKernels.serve(T.self) && length <= 16)) && inHigh > inLow
        extended = .allocate(capacity: max(1, map.count))
        slideA = .allocate(capacity: max(1, map.count))
        slideB = .allocate(capacity: max(1, map.count))
        edgeIndex = .allocate(capacity: max(1, map.count))
        for (j, column) in map.enumerated() { edgeIndex[j] = column ?? -1 }
        edgeRow = .allocate(capacity: max(1, map.count))
    }

    func release() {
        extended.deallocate(); slideA.deallocate(); slideB.deallocate(); edgeIndex.deallocate(); edgeRow.deallocate()
    }

    /// The input row at `source` (nil: the cval row), reduced along the row with `Op` into `out`.
    func reduce<Op: BoxOperation>(_: Op.Type, _ source: UnsafeMutablePointer<T>?, into out: UnsafeMutablePointer<T>) throws {
        guard let source else {
            out.update(repeating: cval, count: n)
            return
        }
        if direct {
            let s = source + (inLow + start - centre), d = out + inLow, count = inHigh - inLow
            if let hazard = BoxKernels.serve(T.self) ? BoxKernels.row(s, length, d, count, maximum: Op.isMaximum) : nil {
                if T.mayHoldHazards, hazard { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
            } else if T.mayHoldHazards {
                // `direct` admits 9-16 columns only where the C row kernel serves the type (the same
                // cached flag); the passes below handle at most 8.
                precondition(length <= 8, "box row of \(length) columns without its kernel")
                // Checked while the pass reads the row: its first operand covers s ..< s + count,
                // the rest of the row is checked apart (a few elements).
                let hazard: Bool
                switch length {
                case 1: hazard = combine1Checked(Op.self, s, d, count)
                case 2: hazard = combine2Checked(Op.self, s, s + 1, d, count)
                case 3: hazard = combine3Checked(Op.self, s, s + 1, s + 2, d, count)
                case 4: hazard = combine4Checked(Op.self, s, s + 1, s + 2, s + 3, d, count)
                case 5: hazard = combine5Checked(Op.self, s, s + 1, s + 2, s + 3, s + 4, d, count)
                case 6: hazard = combine6Checked(Op.self, s, s + 1, s + 2, s + 3, s + 4, s + 5, d, count)
                case 7: hazard = combine7Checked(Op.self, s, s + 1, s + 2, s + 3, s + 4, s + 5, s + 6, d, count)
                default: hazard = combine8Checked(Op.self, s, s + 1, s + 2, s + 3, s + 4, s + 5, s + 6, s + 7, d, count)
                }
                if hazard { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
            } else {
                precondition(length <= 8, "box row of \(length) columns without its kernel")
                switch length {
                case 1: d.update(from: s, count: count)
                case 2: combine2(Op.self, s, s + 1, d, count)
                case 3: combine3(Op.self, s, s + 1, s + 2, d, count)
                case 4: combine4(Op.self, s, s + 1, s + 2, s + 3, d, count)
                case 5: combine5(Op.self, s, s + 1, s + 2, s + 3, s + 4, d, count)
                case 6: combine6(Op.self, s, s + 1, s + 2, s + 3, s + 4, s + 5, d, count)
                case 7: combine7(Op.self, s, s + 1, s + 2, s + 3, s + 4, s + 5, s + 6, d, count)
                default: combine8(Op.self, s, s + 1, s + 2, s + 3, s + 4, s + 5, s + 6, s + 7, d, count)
                }
            }
            try checkEdges(source)
            edges(Op.self, source, into: out)
            return
        }
        if T.mayHoldHazards, hasOrderHazard(UnsafePointer(source), n) {
            throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0")
        }
        let extendedLength = map.count
        (extended + centre).update(from: source, count: n)
        for j in 0..<min(centre, extendedLength) { extended[j] = map[j].map { source[$0] } ?? cval }
        for j in min(centre + n, extendedLength)..<extendedLength { extended[j] = map[j].map { source[$0] } ?? cval }
        slideRow(Op.self, extended + start, length: length, n: n, slideA, slideB, into: out)
    }
}

extension RowReducer {
    /// The interior columns' input range (`direct` only): output x in inLow ..< inHigh reads input
    /// columns x + start - centre ..< x + start - centre + length, all inside the row.
    var interiorOffset: Int { inLow + start - centre }

    /// Throws when the elements of the row outside the interior pass's first operand (a few at each
    /// end) hold NaN or -0.0 (`direct` only).
    func checkEdges(_ source: UnsafeMutablePointer<T>) throws {
        guard T.mayHoldHazards else { return }
        let head = interiorOffset, tail = head + (inHigh - inLow)
        if hasOrderHazard(UnsafePointer(source), head) || hasOrderHazard(UnsafePointer(source + tail), n - tail) {
            throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0")
        }
    }

    /// The edge columns (outside inLow ..< inHigh, `direct` only): the extended positions their windows
    /// read, gathered through the mode (`edgeIndex`: the input column, or -1 for cval) into a short
    /// row, then slid one output at a time.
    func edges<Op: BoxOperation>(_: Op.Type, _ source: UnsafeMutablePointer<T>, into out: UnsafeMutablePointer<T>) {
        func side(from: Int, outputs: Int) {
            guard outputs > 0 else { return }
            let first = from + start, count = outputs + length - 1
            for j in 0..<count {
                let column = edgeIndex[first + j]
                edgeRow[j] = column >= 0 ? source[column] : cval
            }
            // (A few outputs: a C call per side cost more than this loop on 128-wide 3-D rows.)
            for x in 0..<outputs {
                var value = edgeRow[x]
                for j in 1..<max(1, length) { value = Op.pick(value, edgeRow[x + j]) }
                out[from + x] = value
            }
        }
        side(from: 0, outputs: inLow)
        side(from: inHigh, outputs: n - inHigh)
    }
}

/// A ring of `k` rows of `n` elements for each of `planes` reductions, keyed by position.
/// (Plain pointers, no arrays: per-row bookkeeping must cost next to nothing against a 2 KiB row.)
/// Rows start on 64-byte boundaries `stride` elements apart, with `stride` bytes = 320 modulo 4096:
/// rows of a power-of-two width 4096 bytes apart made every load from a ring row wait on the store
/// into another at the same column (4K aliasing; the fused AVX-512 step took 1.4 instead of 0.77 ms
/// for a 9x9 uint16 box at 2048x2048 in a C loop on Zen 4).
struct RowRing<T> {
    let k: Int
    let n: Int
    let stride: Int
    let raw: UnsafeMutableRawPointer
    let storage: UnsafeMutablePointer<T>
    /// The position each slot holds (Int.min: none).
    let keys: UnsafeMutablePointer<Int>

    init(planes: Int, k: Int, n: Int) {
        self.k = k
        self.n = n
        let size = MemoryLayout<T>.stride
        var bytes = (max(1, n) * size + 63) / 64 * 64
        bytes += ((320 - bytes % 4096) + 4096) % 4096
        stride = (bytes + size - 1) / size
        raw = .allocate(byteCount: max(1, planes * k) * stride * size, alignment: 64)
        storage = raw.bindMemory(to: T.self, capacity: max(1, planes * k) * stride)
        keys = .allocate(capacity: k)
        keys.initialize(repeating: Int.min, count: k)
    }

    func release() { raw.deallocate(); keys.deallocate() }

    func slot(_ p: Int) -> Int { ((p % k) + k) % k }

    func row(plane r: Int, position p: Int) -> UnsafeMutablePointer<T> { storage + (r * k + slot(p)) * stride }
}

extension WindowReductionJob {
    /// The tallest 2-D box that runs rows first (a ring of k reduced rows).
    static let ringMaxRows = 8
    /// The fewest rows for which a 2-D box of this type takes the wide-lane long-box kernel (nil: never). With
    /// output rows in pairs (AMD) and the AVX-512 kernels, the fused ring step keeps the 9-row boxes it takes
    /// (`ringMaxRowsAVX512`: it was measured there; the wide kernel only on Intel). Without AVX-512 the float32
    /// ring stops at 8 rows, and the AVX2 wide-lane kernel takes the boxes of 9 or more rows of all four types
    /// (Zen 3, 2048x2048 float32 9x9 min: 4.35 ms by the Swift van Herk passes before it, 2.85 ms by the kernel).
    static func longWideMinRows<T>(_: T.Type) -> Int? {
        guard T.self == Float.self || T.self == Double.self || T.self == UInt16.self || T.self == Int16.self else { return nil }
        return BoxKernels.rowPairs && BoxKernels.serve(T.self) ? ringMaxRowsAVX512 + 1 : 9
    }
    /// The same with the AVX-512 kernels (float32, uint16, int16; rows up to 16 columns wide).
    static let ringMaxRowsAVX512 = 9
    /// 16-bit boxes shorter than this keep the columns-first passes: at 3x3 uint16 (2048x2048) they
    /// measured 1.13-1.15 ms against 1.40 ms for the fused AVX-512 step (from 5x5 on the step is faster).
    static let ringMinRows16 = 5

    /// Short 2-D boxes, rows first (as OpenCV's morphology does): each input row is reduced along the
    /// row once, into a ring of k rows, and each output row combines its k ring rows in one pass (two
    /// from 9 rows), straight into the output row when it can. Every input row is read from memory
    /// once and checked for NaN and -0.0 once, when it enters the ring.
    /// 3-D boxes: the same per plane (a plane of 2-D box results per input plane, in a ring of k0
    /// planes), then each output row combines its k0 planes' rows.
    func runSeparableRing<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                               destination: ((Int) -> UnsafeMutablePointer<T>?)?,
                                               body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws {
        let n = rowLength
        let rank = input.rank
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let reducer = RowReducer<T>(n: n, start: box.start, length: box.length, centre: geometry.centre[rank - 1],
                                    cval: cval, map: lastMap)
        let planes = reductions.count
        // Two output rows at a time (one reduction, 2-8 rows; up to 9 with the AVX-512 step) read k + 1 ring rows.
        let pairs = rank == 2 && planes == 1 && box.rows >= 2 && BoxKernels.rowPairs
            && (box.rows <= 8 || (BoxKernels.serve(T.self) && box.rows <= Self.ringMaxRowsAVX512))
        let ring = RowRing<T>(planes: planes, k: box.rows + (pairs ? 1 : 0), n: n)
        let spare = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        let result = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        let result2 = UnsafeMutablePointer<T>.allocate(capacity: pairs ? max(1, n) : 1)
        defer { reducer.release(); ring.release(); spare.deallocate(); result.deallocate(); result2.deallocate() }
        let rowMap = outerMaps[rank - 2]

        /// Brings the rows that output row y of the plane at element offset `plane` (nil: cval) reads
        /// into the row ring, reduced along the row (every reduction).
        func enterRows(_ plane: Int?, _ y: Int, count: Int) throws {
            let top = y + box.first
            for p in top..<(top + count) where ring.keys[ring.slot(p)] != p {
                let source = plane.flatMap { plane in rowMap[p].map { base + plane + $0 } }
                for r in 0..<planes {
                    if reductions[r] == .minimum {
                        try reducer.reduce(BoxMinimum.self, source, into: ring.row(plane: r, position: p))
                    } else {
                        try reducer.reduce(BoxMaximum.self, source, into: ring.row(plane: r, position: p))
                    }
                }
                ring.keys[ring.slot(p)] = p
            }
        }
        /// Reduction r of output row y from the row ring, into `out`.
        func combineRing(_ r: Int, _ y: Int, into out: UnsafeMutablePointer<T>) {
            let top = y + box.first
            if reductions[r] == .minimum {
                combineRows(BoxMinimum.self, box.rows, { ring.row(plane: r, position: top + $0) }, spare, into: out, n)
            } else {
                combineRows(BoxMaximum.self, box.rows, { ring.row(plane: r, position: top + $0) }, spare, into: out, n)
            }
        }

        // The fused AVX-512 step: the two entering rows reduced along the row and the two output rows
        // combined in one pass over the interior columns; the edge columns apart.
        let fused = pairs && reducer.direct && BoxKernels.serve(T.self) && box.rows + 1 <= 31
        let ringRows = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: box.rows + 1)
        let edgeRows = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: box.rows + 1)
        defer { ringRows.deallocate(); edgeRows.deallocate() }
        /// Output rows y and y + 1 into `out0` and `out1` by the fused step; false when it does not
        /// apply (an entering row already in the ring or outside the image in a constant mode).
        // (Per step: no integer division but one, no allocation: a step of 2 uint16 rows of 2048 costs
        // about 1 us, and bookkeeping through `ring.slot` per row pointer measured as a third of it.)
        var lastFused = Int.min
        func fusedStep(_ y: Int, _ out0: UnsafeMutablePointer<T>, _ out1: UnsafeMutablePointer<T>) throws -> Bool {
            guard fused else { return false }
            let k = box.rows, top = y + box.first, size = ring.k
            let p0 = top + k - 1, p1 = top + k
            let first = ring.slot(top)
            @inline(__always) func slot(_ j: Int) -> Int { first + j < size ? first + j : first + j - size }
            @inline(__always) func ringRow(_ j: Int) -> UnsafeMutablePointer<T> { ring.storage + slot(j) * ring.stride }
            // After a fused step at y - 2, rows top ..< top + k - 1 are in the ring and p0, p1 are not.
            let primed = lastFused == y - 2
            guard primed || (ring.keys[slot(k - 1)] != p0 && ring.keys[slot(k)] != p1),
                  let o0 = rowMap[p0], let o1 = rowMap[p1] else { return false }
            if !primed { try enterRows(0, y, count: k - 1) }
            let source0 = base + o0, source1 = base + o1
            let low = reducer.inLow, high = reducer.inHigh, count = high - low, offset = reducer.interiorOffset
            for j in 0...k { ringRows[j] = ringRow(j) + low }
            let isMaximum = reductions[0] == .maximum
            // The next step's entering rows, prefetched over the same columns.
            let next0 = p0 + 2 < rowMap.count ? rowMap[p0 + 2].map { UnsafePointer(base + $0 + offset) } : nil
            let next1 = p1 + 2 < rowMap.count ? rowMap[p1 + 2].map { UnsafePointer(base + $0 + offset) } : nil
            guard let hazard = BoxKernels.step(UnsafePointer(source0 + offset), UnsafePointer(source1 + offset),
                                               next: next0, next1, box.length,
                                               UnsafePointer(ringRows), k, out0 + low, out1 + low, count,
                                               maximum: isMaximum) else { return false }
            if T.mayHoldHazards, hazard { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
            try reducer.checkEdges(source0)
            try reducer.checkEdges(source1)
            ring.keys[slot(k - 1)] = p0
            ring.keys[slot(k)] = p1
            lastFused = y
            // The edge columns: of the entering ring rows, then of the two output rows.
            if low > 0 || high < n {
                if isMaximum {
                    reducer.edges(BoxMaximum.self, source0, into: ringRow(k - 1))
                    reducer.edges(BoxMaximum.self, source1, into: ringRow(k))
                } else {
                    reducer.edges(BoxMinimum.self, source0, into: ringRow(k - 1))
                    reducer.edges(BoxMinimum.self, source1, into: ringRow(k))
                }
                func edgeOutputs(from: Int, width: Int) {
                    guard width > 0 else { return }
                    for j in 0...k { edgeRows[j] = UnsafePointer(ringRow(j) + from) }
                    if BoxKernels.pair(edgeRows, k, out0 + from, out1 + from, width, maximum: isMaximum) { return }
                    if isMaximum {
                        combinePairRows(BoxMaximum.self, k, { ringRow($0) + from }, out0 + from, out1 + from, width)
                    } else {
                        combinePairRows(BoxMinimum.self, k, { ringRow($0) + from }, out0 + from, out1 + from, width)
                    }
                }
                edgeOutputs(from: 0, width: low)
                edgeOutputs(from: high, width: n - high)
            }
            return true
        }

        if rank == 2 {
            var y = rows.lowerBound
            while y < rows.upperBound {
                let out = destination?(y) ?? result
                if pairs && y + 1 < rows.upperBound {
                    if try fusedStep(y, out, destination?(y + 1) ?? result2) {
                        try body(y, 0, out)
                        try body(y + 1, 0, destination?(y + 1) ?? result2)
                        y += 2
                        continue
                    }
                    try enterRows(0, y, count: box.rows + 1)
                    let out1 = destination?(y + 1) ?? result2
                    let top = y + box.first
                    if reductions[0] == .minimum {
                        combinePairRows(BoxMinimum.self, box.rows, { ring.row(plane: 0, position: top + $0) }, out, out1, n)
                    } else {
                        combinePairRows(BoxMaximum.self, box.rows, { ring.row(plane: 0, position: top + $0) }, out, out1, n)
                    }
                    try body(y, 0, out)
                    try body(y + 1, 0, out1)
                    y += 2
                    continue
                }
                try enterRows(0, y, count: box.rows)
                for r in 0..<planes {
                    combineRing(r, y, into: out)
                    try body(y, r, out)
                }
                y += 1
            }
            return
        }
        // 3-D: per input plane, every row's 2-D box result, in a ring of k0 planes.
        let rowsPerPlane = input.shape[rank - 2]
        let planeMap = outerMaps[0]
        let planeRing = RowRing<T>(planes: planes, k: box.planes, n: rowsPerPlane * n)
        defer { planeRing.release() }
        for t in rows {
            let z = t / rowsPerPlane, y = t % rowsPerPlane
            let front = z + box.firstPlane
            for p in front..<(front + box.planes) where planeRing.keys[planeRing.slot(p)] != p {
                ring.keys.update(repeating: Int.min, count: box.rows)
                for yy in 0..<rowsPerPlane {
                    try enterRows(planeMap[p], yy, count: box.rows)
                    for r in 0..<planes { combineRing(r, yy, into: planeRing.row(plane: r, position: p) + yy * n) }
                }
                planeRing.keys[planeRing.slot(p)] = p
            }
            let out = destination?(t) ?? result
            for r in 0..<planes {
                if reductions[r] == .minimum {
                    combineRows(BoxMinimum.self, box.planes, { planeRing.row(plane: r, position: front + $0) + y * n },
                                spare, into: out, n)
                } else {
                    combineRows(BoxMaximum.self, box.planes, { planeRing.row(plane: r, position: front + $0) + y * n },
                                spare, into: out, n)
                }
                try body(t, r, out)
            }
        }
    }
}

/// `out = op(row(0), ..., row(count - 1))` element-wise over `n` elements, in one pass up to 8 rows
/// and two up to 15 (the first into `spare`), more through `spare` and `out` in turn.
func combineRows<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ count: Int, _ row: (Int) -> UnsafeMutablePointer<T>,
                                                        _ spare: UnsafeMutablePointer<T>,
                                                        into out: UnsafeMutablePointer<T>, _ n: Int) {
    /// One pass over `c` rows, row(i) given by `r`, into `d`.
    func pass(_ c: Int, _ r: (Int) -> UnsafeMutablePointer<T>, _ d: UnsafeMutablePointer<T>) {
        switch c {
        case 1: d.update(from: r(0), count: n)
        case 2: combine2(Op.self, r(0), r(1), d, n)
        case 3: combine3(Op.self, r(0), r(1), r(2), d, n)
        case 4: combine4(Op.self, r(0), r(1), r(2), r(3), d, n)
        case 5: combine5(Op.self, r(0), r(1), r(2), r(3), r(4), d, n)
        case 6: combine6(Op.self, r(0), r(1), r(2), r(3), r(4), r(5), d, n)
        case 7: combine7(Op.self, r(0), r(1), r(2), r(3), r(4), r(5), r(6), d, n)
        default: combine8(Op.self, r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7), d, n)
        }
    }
    if count <= 8 {
        pass(count, row, out)
        return
    }
    // The first 8 rows, then the rest 7 at a time with the previous partial result, alternating
    // between `spare` and `out` so that no pass writes over an operand and the last writes `out`.
    let extra = (count - 8 + 6) / 7
    var partial = extra % 2 == 1 ? spare : out
    pass(8, row, partial)
    var done = 8
    while done < count {
        let take = min(7, count - done)
        let target = partial == spare ? out : spare
        let previous = partial, first = done
        pass(take + 1, { $0 == 0 ? previous : row(first + $0 - 1) }, target)
        partial = target
        done += take
    }
}

/// Two output rows from `k + 1` rows: `d0 = op(row(0 ..< k))`, `d1 = op(row(1 ... k))` (k in 2...8, more
/// with the AVX-512 kernels).
func combinePairRows<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ k: Int, _ r: (Int) -> UnsafeMutablePointer<T>,
                                                            _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ n: Int) {
    switch k {
    case 2: combinePair2(Op.self, r(0), r(1), r(2), d0, d1, n)
    case 3: combinePair3(Op.self, r(0), r(1), r(2), r(3), d0, d1, n)
    case 4: combinePair4(Op.self, r(0), r(1), r(2), r(3), r(4), d0, d1, n)
    case 5: combinePair5(Op.self, r(0), r(1), r(2), r(3), r(4), r(5), d0, d1, n)
    case 6: combinePair6(Op.self, r(0), r(1), r(2), r(3), r(4), r(5), r(6), d0, d1, n)
    case 7: combinePair7(Op.self, r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7), d0, d1, n)
    case 8: combinePair8(Op.self, r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7), r(8), d0, d1, n)
    default:
        // Taller (only with the AVX-512 kernels, `ringMaxRowsAVX512`).
        let rows = (0...k).map { UnsafePointer(r($0)) }
        let ran = rows.withUnsafeBufferPointer { BoxKernels.pair($0.baseAddress!, k, d0, d1, n, maximum: Op.isMaximum) }
        precondition(ran, "no AVX-512 pair kernel for \(T.self)")
    }
}

/// `out[x] = op(source[x ..< x + length])` for x in 0..<n over an extended row: windows growing fourfold
/// per pass (through `a` and `b` in turn) until at most 8 of them (the last may overlap: min and max
/// are idempotent) cover the span, then one pass into `out`.
func slideRow<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ start: UnsafeMutablePointer<T>, length: Int, n: Int,
                                                     _ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
                                                     into out: UnsafeMutablePointer<T>) {
    var source = start
    var width = 1, valid = n + length - 1
    var spareRow = a, otherRow = b
    while (length + width - 1) / width > 8 {
        valid -= 3 * width
        combine4(Op.self, source, source + width, source + 2 * width, source + 3 * width, spareRow, valid)
        source = spareRow
        swap(&spareRow, &otherRow)
        width *= 4
    }
    switch (length + width - 1) / width {
    case 1: out.update(from: source, count: n)
    case 2: combine2(Op.self, source, source + (length - width), out, n)
    case 3: combine3(Op.self, source, source + width, source + (length - width), out, n)
    case 4: combine4(Op.self, source, source + width, source + 2 * width, source + (length - width), out, n)
    case 5:
        combine5(Op.self, source, source + width, source + 2 * width, source + 3 * width, source + (length - width), out, n)
    case 6:
        combine6(Op.self, source, source + width, source + 2 * width, source + 3 * width, source + 4 * width,
                 source + (length - width), out, n)
    case 7:
        combine7(Op.self, source, source + width, source + 2 * width, source + 3 * width, source + 4 * width,
                 source + 5 * width, source + (length - width), out, n)
    default:
        combine8(Op.self, source, source + width, source + 2 * width, source + 3 * width, source + 4 * width,
                 source + 5 * width, source + 6 * width, source + (length - width), out, n)
    }
}

// Rows-first passes: the horizontal pass with the NaN / -0.0 check folded in (first operand), and
// the vertical pass for two output rows at once (k + 1 ring rows; the k - 1 they share combined once).
@inline(never)
func combine1Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = v
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combine2Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = Op.pick(v, b[t])
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combine3Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = Op.pick(Op.pick(v, b[t]), c[t])
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combine4Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = Op.pick(Op.pick(v, b[t]), Op.pick(c[t], e[t]))
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combine5Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = Op.pick(Op.pick(Op.pick(v, b[t]), c[t]), Op.pick(e[t], f[t]))
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combine6Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = Op.pick(Op.pick(Op.pick(v, b[t]), c[t]), Op.pick(Op.pick(e[t], f[t]), g[t]))
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combine7Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: UnsafePointer<T>, _ h: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = Op.pick(Op.pick(Op.pick(v, b[t]), Op.pick(c[t], e[t])), Op.pick(Op.pick(f[t], g[t]), h[t]))
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combine8Checked<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafePointer<T>, _ e: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: UnsafePointer<T>, _ h: UnsafePointer<T>, _ i: UnsafePointer<T>,
                                                            _ d: UnsafeMutablePointer<T>, _ count: Int) -> Bool {
    var high: T.HazardBits = 0, low: T.HazardBits = .max
    var t = 0
    while t < count {
        let v = a[t]
        high = Swift.max(high, v.magnitudeBits)
        low = Swift.min(low, v.flippedSignBits)
        d[t] = Op.pick(Op.pick(Op.pick(v, b[t]), Op.pick(c[t], e[t])), Op.pick(Op.pick(f[t], g[t]), Op.pick(h[t], i[t])))
        t &+= 1
    }
    return high > T.nanMagnitudeBits || low == 0
}

@inline(never)
func combinePair2<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>,
                                                         _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let shared = r1[t]
        d0[t] = Op.pick(r0[t], shared)
        d1[t] = Op.pick(shared, r2[t])
        t &+= 1
    }
}

@inline(never)
func combinePair3<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>, _ r3: UnsafePointer<T>,
                                                         _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let shared = Op.pick(r1[t], r2[t])
        d0[t] = Op.pick(r0[t], shared)
        d1[t] = Op.pick(shared, r3[t])
        t &+= 1
    }
}

@inline(never)
func combinePair4<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>, _ r3: UnsafePointer<T>, _ r4: UnsafePointer<T>,
                                                         _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let shared = Op.pick(Op.pick(r1[t], r2[t]), r3[t])
        d0[t] = Op.pick(r0[t], shared)
        d1[t] = Op.pick(shared, r4[t])
        t &+= 1
    }
}

@inline(never)
func combinePair5<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>, _ r3: UnsafePointer<T>, _ r4: UnsafePointer<T>, _ r5: UnsafePointer<T>,
                                                         _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let shared = Op.pick(Op.pick(r1[t], r2[t]), Op.pick(r3[t], r4[t]))
        d0[t] = Op.pick(r0[t], shared)
        d1[t] = Op.pick(shared, r5[t])
        t &+= 1
    }
}

@inline(never)
func combinePair6<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>, _ r3: UnsafePointer<T>, _ r4: UnsafePointer<T>, _ r5: UnsafePointer<T>, _ r6: UnsafePointer<T>,
                                                         _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let shared = Op.pick(Op.pick(Op.pick(r1[t], r2[t]), r3[t]), Op.pick(r4[t], r5[t]))
        d0[t] = Op.pick(r0[t], shared)
        d1[t] = Op.pick(shared, r6[t])
        t &+= 1
    }
}

@inline(never)
func combinePair7<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>, _ r3: UnsafePointer<T>, _ r4: UnsafePointer<T>, _ r5: UnsafePointer<T>, _ r6: UnsafePointer<T>, _ r7: UnsafePointer<T>,
                                                         _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let shared = Op.pick(Op.pick(Op.pick(r1[t], r2[t]), r3[t]), Op.pick(Op.pick(r4[t], r5[t]), r6[t]))
        d0[t] = Op.pick(r0[t], shared)
        d1[t] = Op.pick(shared, r7[t])
        t &+= 1
    }
}

@inline(never)
func combinePair8<Op: BoxOperation, T: ReducibleElement>(_: Op.Type, _ r0: UnsafePointer<T>, _ r1: UnsafePointer<T>, _ r2: UnsafePointer<T>, _ r3: UnsafePointer<T>, _ r4: UnsafePointer<T>, _ r5: UnsafePointer<T>, _ r6: UnsafePointer<T>, _ r7: UnsafePointer<T>, _ r8: UnsafePointer<T>,
                                                         _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let shared = Op.pick(Op.pick(Op.pick(r1[t], r2[t]), Op.pick(r3[t], r4[t])), Op.pick(Op.pick(r5[t], r6[t]), r7[t]))
        d0[t] = Op.pick(r0[t], shared)
        d1[t] = Op.pick(shared, r8[t])
        t &+= 1
    }
}
