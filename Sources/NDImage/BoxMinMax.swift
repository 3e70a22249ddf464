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

/// The shape of a 2-D box that the separable min/max pass handles.
struct SeparableBox: Sendable {
    /// Footprint rows (consecutive along axis 0) and the first one's position.
    var rows: Int
    var first: Int
    /// The span along the row.
    var start: Int
    var length: Int
}

extension WindowReductionJob {
    /// Whether the job's reductions run as separable box passes (2-D box, contiguous rows, min/max only).
    static func separableBox(input: NDArray, reductions: [WindowReduction], rowOffsets: [Int], span: (start: Int, length: Int)?)
        -> SeparableBox? {
        guard input.rank == 2, input.strides[1] == input.elementType.itemSize, let span,
              !reductions.isEmpty, reductions.allSatisfy({ $0 == .minimum || $0 == .maximum }) else { return nil }
        let sorted = rowOffsets.sorted()
        guard let first = sorted.first, sorted == Array(first..<(first + sorted.count)) else { return nil }
        return SeparableBox(rows: sorted.count, first: first, start: span.start, length: span.length)
    }

    /// Runs the separable passes over output rows `rows`; `body(row, result)` receives each output
    /// row's min (or max) for every reduction in turn (`reduction` index, row of n elements). With
    /// `destination`, a contiguous output row of the input's type takes the last pass itself.
    func runSeparable<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                           destination: ((Int) -> UnsafeMutablePointer<T>?)? = nil,
                                           body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws {
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
            var source = UnsafeMutablePointer(extended + box.start)
            let length = box.length
            var width = 1, valid = n + length - 1
            var spareRow = slideA, otherRow = slideB
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
            try body(y, r, out)
        }
    }
}

/// min or max, as a type so that the row loops specialise and vectorise.
protocol BoxOperation {
    static func pick<T: ReducibleElement>(_ a: T, _ b: T) -> T
}

enum BoxMinimum: BoxOperation {
    @inline(__always) static func pick<T: ReducibleElement>(_ a: T, _ b: T) -> T { b < a ? b : a }
}

enum BoxMaximum: BoxOperation {
    @inline(__always) static func pick<T: ReducibleElement>(_ a: T, _ b: T) -> T { b > a ? b : a }
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

/// Whether `count` elements from `data` hold NaN or -0.0 (one pass with no early exit, so it vectorises).
@inline(never)
func hasOrderHazard<T: ReducibleElement>(_ data: UnsafePointer<T>, _ count: Int) -> Bool {
    var hazard: UInt8 = 0
    var x = 0
    while x < count {
        hazard |= data[x].isOrderHazard ? 1 : 0
        x &+= 1
    }
    return hazard != 0
}
