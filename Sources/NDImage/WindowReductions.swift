// Window reductions without visiting every tap of every window: the strategies that make
// min/max/sum/rank filters fast at every window size (docs/window-strategies.md).
//
// A footprint is a union of row spans: the taps that share their position on every axis but the
// last form a "footprint row", and its positions along the last axis are runs ("spans"). For one
// output row, each footprint row reads one input row (mapped through the mode on the outer axes,
// or a row of cval), extended along the last axis through the mode (built once per input row and
// kept in a small per-thread cache while the next output rows need it). Footprint rows with the
// same spans are combined first, column by column ("column reduction"), and each span is then a
// 1-D sliding reduction of that combined row:
//   - min/max: sliding minima by doubling (log2 L vectorised passes over the row); 2-D boxes take
//     separable passes instead (BoxMinMax.swift);
//   - sum: prefix sums in Int64, so each span costs two loads whatever its length (exact);
//   - order statistics (rank, median, percentile): box windows up to 7 columns and 49 taps take
//     selection networks (MedianNetworks.swift), 8-bit boxes of more than 48 taps column histograms;
//     other windows of 12 taps or more ranked rows (the footprint's rows sorted together, the
//     window's ranks sliding as bits; boxes too tall or wide for them: column histograms of 256
//     buckets); smaller ones, for 8- and 16-bit data a sliding histogram
//     (Huang) with a coarse level, for other types a sorted copy of the window, both updated by
//     the spans' entering and leaving elements;
//   - a single tap: a copy from the extended row.
// The results equal the literal per-pixel evaluation bit for bit under the conditions the runner
// checks: float data holds no NaN and no -0.0 (Python's `min` and NumPy's sort give such values
// order-dependent results), cval is exactly representable in the element type, and integer sums
// stay below 2^53. When the data breaks a condition, `run` throws `WindowStrategyDeclined` and the
// caller runs the literal kernel instead.
//
// Scratch per thread: the cached extended rows (one per footprint row, plus two), one combined row,
// two sliding buffers and, for order statistics, one histogram (256 or 65,536 counts), one
// sorted window or the ranked rows (34 bytes and a bit per element of the footprint's extended rows).

import RankKernelsC
#if canImport(Glibc)
import Glibc
#endif

/// A reduction over the window that the strategies compute exactly.
public enum WindowReduction: Hashable, Sendable, CustomStringConvertible {
    /// The least element.
    case minimum
    /// The greatest element.
    case maximum
    /// The exact sum (integer data), or NumPy's pairwise sum (float data: `PairwiseSums.swift`).
    case sum
    /// The element of rank k (0-based) in ascending order.
    case orderStatistic(Int)
    /// The element at tap k (SciPy's buffer order).
    case tap(Int)

    public var description: String {
        switch self {
        case .minimum: return "min"
        case .maximum: return "max"
        case .sum: return "sum"
        case .orderStatistic(let k): return "rank \(k)"
        case .tap(let k): return "tap \(k)"
        }
    }
}

/// Why a window strategy cannot give the literal kernel's bits for this input; the caller runs
/// the literal kernel instead.
public struct WindowStrategyDeclined: Error, Sendable, CustomStringConvertible {
    /// What the input does that the strategy cannot follow exactly.
    public let reason: String

    public var description: String { reason }
}

/// The element types the strategies compute in: compared, summed and binned natively.
/// (`doubleValue`, the element as generic_filter's double buffer holds it, is `DoubleLoadable`'s.)
protocol ReducibleElement: Comparable, DoubleLoadable {
    /// The element equal to `value`, or nil when `value` has no exact, orderable equivalent.
    init?(exactlyOrdered value: Double)
    /// The element's integer value (integer types; 0 for floats, which never sum here).
    var integerValue: Int64 { get }
    /// NaN or -0.0: values whose order or identity depends on evaluation order.
    var isOrderHazard: Bool { get }
    /// Whether the type may hold order hazards (the float types).
    static var mayHoldHazards: Bool { get }
    /// Unsigned bits of the element's width, for hazard checks folded into other passes: an element
    /// is NaN when `magnitudeBits > nanMagnitudeBits`, -0.0 when `flippedSignBits == 0` (integers:
    /// never), so that a pass keeps the maximum of one and the minimum of the other.
    associatedtype HazardBits: FixedWidthInteger & UnsignedInteger
    var magnitudeBits: HazardBits { get }
    var flippedSignBits: HazardBits { get }
    static var nanMagnitudeBits: HazardBits { get }
    /// The largest magnitude of an element (nil: sums are not exact in doubles).
    static var magnitudeBound: Int64? { get }
    /// Histogram bins for order statistics (nil: no histogram strategy for this type).
    static var histogramBins: Int? { get }
    /// The element's histogram bin, in `0..<histogramBins`.
    var histogramBin: Int { get }
    /// The element of histogram bin `bin`.
    static func fromHistogramBin(_ bin: Int) -> Self
    /// An element no greater than any other (floats: -inf; NaN never reaches the strategies).
    static var lowest: Self { get }
    /// An unsigned integer that orders as the elements do, with no more significant bits than the element
    /// (ranked rows' sort keys: the radix sort skips the bytes every key shares).
    var rankKey: UInt64 { get }
    /// The element whose `rankKey` is `key`.
    static func fromRankKey(_ key: UInt64) -> Self
}

extension ReducibleElement where Self: FixedWidthInteger {
    init?(exactlyOrdered value: Double) {
        // -0.0 is not an integer's bits: a window reading cval -0.0 keeps that sign in the literal kernel.
        guard !(value == 0 && value.sign == .minus) else { return nil }
        self.init(exactly: value)
    }
    var integerValue: Int64 { Int64(truncatingIfNeeded: self) }
    var isOrderHazard: Bool { false }
    static var mayHoldHazards: Bool { false }
    var magnitudeBits: UInt8 { 0 }
    var flippedSignBits: UInt8 { .max }
    static var nanMagnitudeBits: UInt8 { .max }
    static var magnitudeBound: Int64? {
        Self.bitWidth <= 32 ? Swift.max(Int64(Self.max), -Int64(Self.min)) : nil
    }
    static var histogramBins: Int? { Self.bitWidth <= 16 ? 1 << Self.bitWidth : nil }
    var histogramBin: Int { Int(truncatingIfNeeded: self) - Int(truncatingIfNeeded: Self.min) }
    static func fromHistogramBin(_ bin: Int) -> Self { Self(truncatingIfNeeded: bin + Int(truncatingIfNeeded: Self.min)) }
    static var lowest: Self { Self.min }
    /// The bits of the element's width with the sign bit flipped for signed types (Self.min -> 0).
    var rankKey: UInt64 {
        let bits = Magnitude(truncatingIfNeeded: self)
        return UInt64(truncatingIfNeeded: Self.isSigned ? bits ^ (1 << (Self.bitWidth - 1)) : bits)
    }
    static func fromRankKey(_ key: UInt64) -> Self {
        let bits = Magnitude(truncatingIfNeeded: key)
        return Self(truncatingIfNeeded: Self.isSigned ? bits ^ (1 << (Self.bitWidth - 1)) : bits)
    }
}

extension UInt8: ReducibleElement { typealias HazardBits = UInt8 }
extension Int8: ReducibleElement { typealias HazardBits = UInt8 }
extension UInt16: ReducibleElement { typealias HazardBits = UInt8 }
extension Int16: ReducibleElement { typealias HazardBits = UInt8 }
extension UInt32: ReducibleElement { typealias HazardBits = UInt8 }
extension Int32: ReducibleElement { typealias HazardBits = UInt8 }
extension Int64: ReducibleElement { typealias HazardBits = UInt8 }
extension UInt64: ReducibleElement { typealias HazardBits = UInt8 }

extension ReducibleElement where Self: BinaryFloatingPoint {
    var integerValue: Int64 { 0 }
    static var mayHoldHazards: Bool { true }
    static var magnitudeBound: Int64? { nil }
    static var histogramBins: Int? { nil }
    var histogramBin: Int { 0 }
    static func fromHistogramBin(_ bin: Int) -> Self { 0 }
    static var lowest: Self { -Self.infinity }
}

extension Double: ReducibleElement {
    init?(exactlyOrdered value: Double) {
        guard !value.isNaN, !(value == 0 && value.sign == .minus) else { return nil }
        self = value
    }
    // Integer compares on the bits vectorise; NaN is any pattern above +inf's (either sign).
    var isOrderHazard: Bool {
        let bits = bitPattern
        return bits == 0x8000_0000_0000_0000 || bits & 0x7FFF_FFFF_FFFF_FFFF > 0x7FF0_0000_0000_0000
    }
    var magnitudeBits: UInt64 { bitPattern & 0x7FFF_FFFF_FFFF_FFFF }
    var flippedSignBits: UInt64 { bitPattern ^ 0x8000_0000_0000_0000 }
    static var nanMagnitudeBits: UInt64 { 0x7FF0_0000_0000_0000 }
    var rankKey: UInt64 {
        var key: UInt64 = 0
        withUnsafePointer(to: self) { filterjit_rank_keys_f64($0, 1, &key) }
        return key
    }
    static func fromRankKey(_ key: UInt64) -> Self { filterjit_rank_value_f64(key) }
}

extension Float: ReducibleElement {
    init?(exactlyOrdered value: Double) {
        guard let exact = Float(exactly: value), !(value == 0 && value.sign == .minus) else { return nil }
        self = exact
    }
    var isOrderHazard: Bool {
        let bits = bitPattern
        return bits == 0x8000_0000 || bits & 0x7FFF_FFFF > 0x7F80_0000
    }
    var magnitudeBits: UInt32 { bitPattern & 0x7FFF_FFFF }
    var flippedSignBits: UInt32 { bitPattern ^ 0x8000_0000 }
    static var nanMagnitudeBits: UInt32 { 0x7F80_0000 }
    var rankKey: UInt64 {
        var key: UInt64 = 0
        withUnsafePointer(to: self) { filterjit_rank_keys_f32($0, 1, &key) }
        return key
    }
    static func fromRankKey(_ key: UInt64) -> Self { filterjit_rank_value_f32(key) }
}

/// A window-reduction run over one input: the footprint as row spans, the index maps, and which
/// reductions to compute. Plan once, then `run` rows from any number of threads.
public struct WindowReductionJob: @unchecked Sendable {
    /// The number of output rows (the product of every axis but the last).
    public let rowCount: Int
    /// The length of a row (the last axis).
    public let rowLength: Int
    /// The reductions, in the order of the planes `run` delivers.
    public let reductions: [WindowReduction]

    private(set) var input: NDArray
    let geometry: FilterGeometry
    let footprintRows: [FootprintRow]
    private let spanClasses: [SpanClass]
    /// Per tap: its footprint row and its position along the last axis.
    let tapPlaces: [(row: Int, position: Int)]
    private let tapCount: Int
    /// Outer axes' index maps, in input elements (nil: cval).
    let outerMaps: [[Int?]]
    /// The last axis's map over the extended row, in input elements (nil: cval).
    let lastMap: [Int?]
    /// `lastMap` with -1 for cval, and the first outer axis's map with `Int.min` for cval (its offsets are
    /// negative on a reversed view): the C kernels' tables, built once per plan (a prepared call rebinds the
    /// job and would otherwise rebuild them per call).
    let lastColumns: [Int]
    let firstOuterOffsets: [Int]
    private let outerShape: [Int]
    let inStrides: [Int]
    /// The selection network that computes every order statistic (box windows up to 7 columns and
    /// 49 taps), or nil.
    let rankNetwork: RankNetwork?
    /// The separable box passes that compute every min/max (2-D boxes), or nil.
    let separable: SeparableBox?
    /// Whether some reduction depends on the order of elements (min, max, ranks): float data holding
    /// NaN or -0.0 then makes the strategies decline. Sums and taps follow the literal order.
    var needsTotalOrder: Bool {
        reductions.contains { if case .sum = $0 { return false } else if case .tap = $0 { return false } else { return true } }
    }
    /// The separable box sum (a sum over a 2-D box of integer data up to 16 bits), or nil.
    let boxSum: BoxSumPlan?
    /// The fast-math box sum (a sum over a 2-D box of float data, only when the caller opted in:
    /// `FastBoxSums.swift`; not NumPy's order, so the last bits may differ), or nil.
    let fastBoxSum: SeparableBox?
    /// The box sums that compute a float sum exactly where the data make every sum exact (a sum over a
    /// 2-D or 3-D box of float data with contiguous rows, in the default exact mode: `ExactBoxSums.swift`),
    /// or nil.
    let exactBoxSum: SeparableBox?
    /// Whether the exact box sums may run (`exactBoxSum`; the strategy asks before choosing what only they justify).
    public var hasExactBoxSums: Bool { exactBoxSum != nil }
    /// Whether the sums run with the fast-math box sums.
    public var usesFastBoxSums: Bool { fastBoxSum != nil }

    /// Whether a footprint with these tap positions is a box that the rank selection networks handle
    /// (every footprint row one span of the same columns; see `RankNetwork.applies`).
    /// Whether the taps fill their bounding box (a box window of any rank).
    public static func isBox(tapPositions taps: [[Int]]) -> Bool {
        guard let first = taps.first else { return false }
        var extent = 1
        for axis in first.indices {
            let positions = taps.map { $0[axis] }
            extent *= (positions.max()! - positions.min()! + 1)
        }
        return extent == Set(taps).count
    }

    /// Whether the taps are a box that a pairwise box kernel takes whole (no table of tap pointers): a
    /// square 2-D box of 3 to 15 (`filterjit_pairwise_box_store`) or a 3-D cube of 3 or 5
    /// (`filterjit_pairwise_rows_store_*`; its float64 cube of 7 is not counted here: 343 taps are past
    /// either threshold anyway). (The kernels also need contiguous rows; the strategy's threshold only
    /// asks which kernel a footprint would take.)
    public static func pairwiseBoxKernelTakes(tapPositions taps: [[Int]]) -> Bool {
        guard isBox(tapPositions: taps), let first = taps.first else { return false }
        let sides = first.indices.map { axis in taps.map { $0[axis] }.max()! - taps.map { $0[axis] }.min()! + 1 }
        if sides.count == 2 { return sides[0] == sides[1] && (3...15).contains(sides[0]) }
        if sides.count == 3 { return Set(sides).count == 1 && (sides[0] == 3 || sides[0] == 5) }
        return false
    }

    /// Whether float pairwise sums run a C kernel, AVX-512 or AVX2 (`filterjit_pairwise_sum_f64`, accumulators in
    /// registers) rather than the portable Swift program over scratch blocks.
    public static var pairwiseSumsVectorised: Bool { PairwiseSumRunner.vectorised }

    public static func rankNetworkApplies(tapPositions taps: [[Int]]) -> Bool {
        guard let box = boxShape(taps) else { return false }
        return RankNetwork.applies(rows: box.rows, length: box.length)
    }

    /// Footprint rows and span length when every footprint row is one span at the same columns.
    private static func boxShape(_ taps: [[Int]]) -> (rows: Int, length: Int)? {
        guard let first = taps.first, !first.isEmpty else { return nil }
        let last = first.count - 1
        var columns: [[Int]: [Int]] = [:]
        for tap in taps { columns[Array(tap[..<last]), default: []].append(tap[last]) }
        var shape: [Int]?
        for (_, positions) in columns {
            let sorted = positions.sorted()
            guard sorted.last! - sorted.first! + 1 == sorted.count, Set(sorted).count == sorted.count else { return nil }
            if let shape, shape != [sorted.first!, sorted.count] { return nil }
            shape = [sorted.first!, sorted.count]
        }
        return (columns.count, shape![1])
    }

    /// The footprint rows of `taps` (by the positions on every axis but the last) in order of first appearance,
    /// each as runs of positions along the last axis; per tap its row and last-axis position; the rows grouped by
    /// equal spans (`TapLayout` keeps them per footprint).
    static func footprintRows(of taps: [[Int]]) -> (rows: [FootprintRow], places: [(row: Int, position: Int)],
                                                    classes: [SpanClass]) {
        guard let last = taps.first.map({ $0.count - 1 }), last >= 0 else { return ([], [], []) }
        var rows: [FootprintRow] = []
        var rowOfOuter: [[Int]: Int] = [:]
        var positions: [[Int]] = []
        var places: [(row: Int, position: Int)] = []
        for tap in taps {
            let outer = Array(tap[..<last])
            let row: Int
            if let known = rowOfOuter[outer] { row = known } else {
                row = rows.count
                rowOfOuter[outer] = row
                rows.append(FootprintRow(outer: outer, spans: []))
                positions.append([])
            }
            positions[row].append(tap[last])
            places.append((row, tap[last]))
        }
        for row in rows.indices {
            let sorted = positions[row].sorted()
            var spans: [Span] = []
            for position in sorted {
                if let lastSpan = spans.last, lastSpan.start + lastSpan.length == position {
                    spans[spans.count - 1].length += 1
                } else {
                    spans.append(Span(start: position, length: 1))
                }
            }
            rows[row].spans = spans
        }
        var classes: [SpanClass] = []
        for (index, row) in rows.enumerated() {
            if let existing = classes.firstIndex(where: { $0.spans == row.spans }) {
                classes[existing].rows.append(index)
            } else {
                classes.append(SpanClass(rows: [index], spans: row.spans))
            }
        }
        return (rows, places, classes)
    }

    struct FootprintRow {
        /// Position on each outer axis.
        var outer: [Int]
        /// Runs of positions along the last axis, ascending.
        var spans: [Span]
    }

    struct Span: Hashable {
        var start: Int
        var length: Int
    }

    /// Footprint rows with the same spans, combined column by column before the sliding pass.
    struct SpanClass {
        var rows: [Int]
        var spans: [Span]
    }

    /// Plans `reductions` over `input` with `geometry`; throws when the element type, the strides or
    /// cval rule a strategy out (before any work). `fastMath`: a sum over a 2-D box of float data may
    /// take the fast-math box sums (`FastBoxSums.swift`: O(1) per pixel, not NumPy's order).
    public init(input: NDArray, geometry: FilterGeometry, reductions: [WindowReduction],
                fastMath: Bool = false) throws(WindowStrategyDeclined) {
        let rank = input.rank
        guard rank >= 1, !input.isEmpty else { throw WindowStrategyDeclined(reason: "empty or 0-d input") }
        let size = input.elementType.itemSize
        guard input.strides.allSatisfy({ $0 % size == 0 }) else {
            throw WindowStrategyDeclined(reason: "strides are not whole elements")
        }
        let taps = geometry.tapPositions
        guard !taps.isEmpty else { throw WindowStrategyDeclined(reason: "empty footprint") }
        for reduction in reductions {
            switch reduction {
            case .orderStatistic(let k), .tap(let k):
                guard k >= 0, k < taps.count else { throw WindowStrategyDeclined(reason: "\(reduction) outside the window") }
            case .sum where input.elementType.isFloatingPoint:
                break   // NumPy's pairwise order, evaluated as the literal kernel does (PairwiseSums.swift)
            case .sum:
                guard let bound = Self.magnitudeBound(input.elementType),
                      bound.multipliedReportingOverflow(by: Int64(taps.count)).partialValue < (1 << 53),
                      !bound.multipliedReportingOverflow(by: Int64(taps.count)).overflow else {
                    throw WindowStrategyDeclined(reason: "sums of \(input.elementType.rawValue) are not exact in doubles")
                }
            case .minimum, .maximum: break
            }
        }
        self.input = input
        self.geometry = geometry
        self.reductions = reductions
        self.tapCount = taps.count
        let last = rank - 1
        inStrides = input.strides.map { $0 / size }
        outerShape = Array(input.shape[..<last])
        rowLength = input.shape[last]
        rowCount = outerShape.reduce(1, *)
        do {
            outerMaps = try (0..<last).map { axis in
                try geometry.indexMap(axis: axis).map { $0.map { $0 * (input.strides[axis] / size) } }
            }
            lastMap = try geometry.indexMap(axis: last).map { $0.map { $0 * (input.strides[last] / size) } }
        } catch {
            throw WindowStrategyDeclined(reason: "\(error)")
        }
        lastColumns = lastMap.map { $0 ?? -1 }
        firstOuterOffsets = outerMaps.first?.map { $0 ?? Int.min } ?? []

        // Footprint rows, tap places and span classes depend on the footprint only: its layout has them.
        let layout = geometry.taps
        let rows = layout.footprintRows, classes = layout.spanClasses
        footprintRows = rows
        tapPlaces = layout.tapPlaces
        spanClasses = classes
        let ranks = reductions.compactMap { reduction -> Int? in
            if case .orderStatistic(let k) = reduction { return k } else { return nil }
        }
        if !ranks.isEmpty, classes.count == 1, classes[0].spans.count == 1,
           RankNetwork.applies(rows: rows.count, length: classes[0].spans[0].length) {
            rankNetwork = RankNetwork.plan(rows: rows.count, length: classes[0].spans[0].length, ranks: ranks)
        } else {
            rankNetwork = nil
        }
        // The one span every footprint row shares (box windows), and each footprint row's outer position.
        let span = classes.count == 1 && classes[0].spans.count == 1 ? (classes[0].spans[0].start, classes[0].spans[0].length) : nil
        let outer = rows.map { $0.outer }
        boxSum = Self.boxSumPlan(input: input, reductions: reductions, outer: outer, span: span, taps: taps.count)
        // Float box sums: fast-math under the opt-in, else exact where the data allow (`ExactBoxSums.swift`).
        let floatBoxSum = Self.fastBoxSumPlan(input: input, reductions: reductions, outer: outer, span: span)
        fastBoxSum = fastMath ? floatBoxSum : nil
        exactBoxSum = fastMath ? nil : floatBoxSum
        separable = Self.separableBox(input: input, reductions: reductions, outer: outer, span: span)

        if geometry.mode.canonicalForFilters == .constant {
            guard Self.cvalIsExact(geometry.cval, for: input.elementType) else {
                throw WindowStrategyDeclined(reason: "cval \(geometry.cval) is not exactly a \(input.elementType.rawValue)")
            }
        }
    }

    /// This job over another input of the same element type, shape and strides (the plan depends on
    /// those only, never on the data or its address), or nil when they differ. A caller that runs one
    /// geometry on many arrays (the C API's prepared filters) plans once and rebinds per call.
    public func rebound(to other: NDArray) -> WindowReductionJob? {
        guard other.elementType == input.elementType, other.shape == input.shape, other.strides == input.strides else {
            return nil
        }
        var job = self
        job.input = other
        return job
    }

    private static func magnitudeBound(_ type: ElementType) -> Int64? {
        switch type {
        case .bool: return 1
        case .int8: return Int8.magnitudeBound
        case .uint8: return UInt8.magnitudeBound
        case .int16: return Int16.magnitudeBound
        case .uint16: return UInt16.magnitudeBound
        case .int32: return Int32.magnitudeBound
        case .uint32: return UInt32.magnitudeBound
        case .int64, .uint64, .float32, .float64: return nil
        }
    }

    private static func cvalIsExact(_ cval: Double, for type: ElementType) -> Bool {
        switch type {
        case .bool: return UInt8(exactlyOrdered: cval).map { $0 <= 1 } ?? false
        case .int8: return Int8(exactlyOrdered: cval) != nil
        case .uint8: return UInt8(exactlyOrdered: cval) != nil
        case .int16: return Int16(exactlyOrdered: cval) != nil
        case .uint16: return UInt16(exactlyOrdered: cval) != nil
        case .int32: return Int32(exactlyOrdered: cval) != nil
        case .uint32: return UInt32(exactlyOrdered: cval) != nil
        case .int64: return Int64(exactlyOrdered: cval) != nil
        case .uint64: return UInt64(exactlyOrdered: cval) != nil
        case .float32: return Float(exactlyOrdered: cval) != nil
        case .float64: return Double(exactlyOrdered: cval) != nil
        }
    }

    /// Computes the reductions of output rows `rows` (C order over the outer axes) and hands each
    /// row's planes to `deliver`: `planes[r * rowLength + x]` is reduction r at pixel x, as a double.
    /// Throws `WindowStrategyDeclined` when the data breaks a condition (then some rows may have
    /// been delivered: the caller must compute all of them again another way).
    public func run(rows: Range<Int>, deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void) throws {
        if boxSum != nil {
            try runBoxSumPlanes(rows: rows, deliver: deliver)
            return
        }
        if fastBoxSum != nil {
            try runFastBoxSumPlanes(rows: rows, deliver: deliver)
            return
        }
        if try runExactBoxSumPlanes(rows: rows, deliver: deliver, pairwise: { run in try runPlanes(rows: run, deliver: deliver) }) {
            return
        }
        try runPlanes(rows: rows, deliver: deliver)
    }

    /// `run` by the general row loop (NumPy's order for float sums).
    private func runPlanes(rows: Range<Int>, deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void) throws {
        switch input.elementType {
        case .bool, .uint8: try run(UInt8.self, rows: rows, deliver: deliver)
        case .int8: try run(Int8.self, rows: rows, deliver: deliver)
        case .uint16: try run(UInt16.self, rows: rows, deliver: deliver)
        case .int16: try run(Int16.self, rows: rows, deliver: deliver)
        case .uint32: try run(UInt32.self, rows: rows, deliver: deliver)
        case .int32: try run(Int32.self, rows: rows, deliver: deliver)
        case .uint64: try run(UInt64.self, rows: rows, deliver: deliver)
        case .int64: try run(Int64.self, rows: rows, deliver: deliver)
        case .float32: try run(Float.self, rows: rows, deliver: deliver)
        case .float64: try run(Double.self, rows: rows, deliver: deliver)
        }
    }

    /// Whether these reductions, with an identity tail, are written straight to the output (one min,
    /// max or order statistic), so that no tail is compiled.
    public static func writesDirectly(_ reductions: [WindowReduction]) -> Bool {
        guard reductions.count == 1 else { return false }
        switch reductions[0] {
        case .minimum, .maximum, .orderStatistic: return true
        case .sum, .tap: return false
        }
    }

    /// Whether `runDirect` can write this job's single min/max into `output` in the input's own type.
    public func canRunDirect(into output: NDArray) -> Bool {
        guard Self.writesDirectly(reductions) else { return false }
        let size = output.elementType.itemSize
        return output.shape == input.shape && output.strides.allSatisfy { $0 % size == 0 }
    }

    /// Computes the job's single min or max for output rows `rows` and stores it into `output` as
    /// generic_filter stores the double result (in the input's own type when the types are equal).
    public func runDirect(rows: Range<Int>, output: NDArray) throws {
        precondition(canRunDirect(into: output))
        switch input.elementType {
        case .bool, .uint8: try runDirect(UInt8.self, rows: rows, output: output)
        case .int8: try runDirect(Int8.self, rows: rows, output: output)
        case .uint16: try runDirect(UInt16.self, rows: rows, output: output)
        case .int16: try runDirect(Int16.self, rows: rows, output: output)
        case .uint32: try runDirect(UInt32.self, rows: rows, output: output)
        case .int32: try runDirect(Int32.self, rows: rows, output: output)
        case .uint64: try runDirect(UInt64.self, rows: rows, output: output)
        case .int64: try runDirect(Int64.self, rows: rows, output: output)
        case .float32: try runDirect(Float.self, rows: rows, output: output)
        case .float64: try runDirect(Double.self, rows: rows, output: output)
        }
    }

    // MARK: The row loop

    private func runDirect<T: ReducibleElement>(_: T.Type, rows: Range<Int>, output: NDArray) throws {
        let outSize = output.elementType.itemSize
        let outStrides = output.strides.map { $0 / outSize }
        let last = input.rank - 1
        let outBase = output.firstElementPointer
        // 64-bit integers pass through doubles, as in the literal kernel (values beyond 2^53 round).
        let sameType = output.elementType == input.elementType && input.elementType != .int64 && input.elementType != .uint64
        let n = rowLength
        let isMinimum = reductions[0] == .minimum
        if case .orderStatistic(let k) = reductions[0] {
            try runDirectRank(T.self, k: k, rows: rows, output: output)
            return
        }
        if let separable {
            let outRow = output.elementType == input.elementType && outStrides[last] == 1 && sameType
            let type = output.elementType
            let step = outStrides[last]
            // (2-D: one multiplication; this runs twice per output row.)
            let outerShape = outerShape, rowStride = outStrides[0]
            func offset(_ y: Int) -> Int {
                if last == 1 { return y * rowStride }
                var rest = y, offset = 0
                for axis in Swift.stride(from: last - 1, through: 0, by: -1) {
                    offset += (rest % outerShape[axis]) * outStrides[axis]
                    rest /= outerShape[axis]
                }
                return offset
            }
            try runSeparable(T.self, box: separable, rows: rows,
                             destination: outRow ? { y in (outBase + offset(y) * outSize).assumingMemoryBound(to: T.self) } : nil) { y, _, result in
                if outRow { return }
                let start = offset(y)
                if sameType {
                    let destination = (outBase + start * outSize).assumingMemoryBound(to: T.self)
                    for x in 0..<n { destination[x * step] = result[x] }
                } else {
                    for x in 0..<n { type.storeDouble(result[x].doubleValue, to: outBase + (start + x * step) * outSize) }
                }
            }
            return
        }
        try withRowState(T.self) { state in
            var index = outerIndex(of: rows.lowerBound)
            for _ in rows {
                var offset = 0
                for axis in 0..<last { offset += index[axis] * outStrides[axis] }
                let stride = outStrides[last]
                let destination = (outBase + offset * outSize).assumingMemoryBound(to: T.self)
                // A contiguous output row of the input's type takes the last pass's results itself.
                let inPlace = sameType && stride == 1
                try state.loadRows(outer: index)
                let result = state.reduceLoadedMinMax(minimum: isMinimum, into: inPlace ? destination : nil)
                if sameType {
                    if !inPlace { for x in 0..<n { destination[x * stride] = result[x] } }
                } else {
                    let type = output.elementType
                    for x in 0..<n { type.storeDouble(result[x].doubleValue, to: outBase + (offset + x * stride) * outSize) }
                }
                advance(&index)
            }
        }
    }

    /// Whether `runFloatSumDirect` can write this job's float sum (or mean) into `output`: one sum over
    /// float data (NumPy's pairwise order), an output of the input's type and shape. Not for a fast-math
    /// job (`fastBoxSum`): where `runSumDirect` cannot store its box sums, they go through the plane.
    public func canRunFloatSumDirect(into output: NDArray) -> Bool {
        guard reductions == [.sum], fastBoxSum == nil, input.elementType == .float32 || input.elementType == .float64,
              output.elementType == input.elementType, output.shape == input.shape else { return false }
        let size = output.elementType.itemSize
        return output.strides.allSatisfy { $0 % size == 0 }
    }

    /// Stores `sum(values)` (`mean`: `sum(values) / taps`, a true division as the compiled tail's) of
    /// every window of output rows `rows` into `output`, rounded to the output's type as the literal
    /// kernel stores its double result; no compiled tail, no second pass over a plane.
    /// Box windows whose values make every sum exact take the box sums (`ExactBoxSums.swift`: the same bits).
    public func runFloatSumDirect(rows: Range<Int>, output: NDArray, mean: Bool) throws {
        precondition(canRunFloatSumDirect(into: output))
        if try runExactBoxSumDirect(rows: rows, output: output, mean: mean, pairwise: { run in
            try runPairwiseSumDirect(rows: run, output: output, mean: mean)
        }, pairwiseColumns: input.rank == 2 ? { run, columns in
            try runPairwiseSumDirect(rows: run, output: output, mean: mean, columns: columns)
        } : nil) {
            return
        }
        try runPairwiseSumDirect(rows: rows, output: output, mean: mean)
    }

    /// `runFloatSumDirect` by the pairwise sums (NumPy's order, O(taps) per pixel); `columns`: for each row,
    /// only those output columns (2-D float data, the exact box sums' patches).
    private func runPairwiseSumDirect(rows: Range<Int>, output: NDArray, mean: Bool, columns: [[Range<Int>]]? = nil) throws {
        if input.elementType == .float32 {
            try runFloatSumDirect(Float.self, rows: rows, output: output, mean: mean, columns: columns)
        } else {
            try runFloatSumDirect(Double.self, rows: rows, output: output, mean: mean, columns: columns)
        }
    }

    private func runFloatSumDirect<T: ReducibleElement>(_: T.Type, rows: Range<Int>, output: NDArray, mean: Bool,
                                                        columns: [[Range<Int>]]? = nil) throws {
        let outSize = output.elementType.itemSize
        let outStrides = output.strides.map { $0 / outSize }
        let last = input.rank - 1
        let outBase = output.firstElementPointer
        let n = rowLength
        let divisor = Double(tapCount)
        if columns == nil, input.rank == 3, outStrides[last] == 1,
           runFloatBoxRows(T.self, rows: rows, output: output, mean: mean) { return }
        let plane = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n))
        defer { plane.deallocate() }
        try withRowState(T.self) { state in
            var index = outerIndex(of: rows.lowerBound)
            for row in rows {
                var offset = 0
                for axis in 0..<last { offset += index[axis] * outStrides[axis] }
                try state.loadRows(outer: index)
                let destination = outBase + offset * outSize, step = outStrides[last]
                if let columns, T.mayHoldHazards {
                    for segment in columns[row - rows.lowerBound] where !segment.isEmpty {
                        let start = destination + segment.lowerBound * step * outSize
                        if step == 1, state.storeLoadedBoxSums(into: start, divisor: mean ? divisor : 0, columns: segment) { continue }
                        state.sumLoadedFloat(into: plane, columns: segment)
                        if T.self == Float.self {
                            floatSumStore(plane, start.assumingMemoryBound(to: Float.self), step, segment.count, mean ? divisor : nil)
                        } else {
                            floatSumStore(plane, start.assumingMemoryBound(to: Double.self), step, segment.count, mean ? divisor : nil)
                        }
                    }
                    advance(&index)
                    continue
                }
                if step == 1, state.storeLoadedBoxSums(into: destination, divisor: mean ? divisor : 0) {
                    advance(&index)
                    continue
                }
                state.sumLoaded(into: plane)
                if T.self == Float.self {
                    floatSumStore(plane, destination.assumingMemoryBound(to: Float.self), step, n, mean ? divisor : nil)
                } else {
                    floatSumStore(plane, destination.assumingMemoryBound(to: Double.self), step, n, mean ? divisor : nil)
                }
                advance(&index)
            }
        }
    }

    /// 3-D float boxes of 9 footprint rows of 3 columns or 25 of 5 (the 3x3x3 and 5x5x5 cubes) with
    /// AVX-512 or AVX2, and float64 boxes of 49 rows of 7 (7x7x7) with AVX2
    /// (`filterjit_pairwise_rows_store_f64`/`_f32`): each output row's pairwise sums read the
    /// input rows in place (float32 widened in the kernel), no extended-row copies and no plane; the
    /// pixels whose windows leave the row (and rows of cval) read short strips gathered through the
    /// mode, cached per input row, both ends in one call. Divided by the taps for a mean and stored into
    /// the contiguous output row. The same
    /// additions in the same order as the other pairwise paths, so the literal kernel's bits. False when
    /// the kernel does not take this box or this CPU has none (nothing written), or when the kernels were
    /// switched off mid-run (`RankKernels.setAVX512`; rows may be written: the caller writes them all again).
    private func runFloatBoxRows<T: ReducibleElement>(_: T.Type, rows: Range<Int>, output: NDArray, mean: Bool) -> Bool {
        let footprintRowCount = footprintRows.count
        guard input.rank == 3, inStrides[2] == 1, footprintRowCount > 0, tapCount % footprintRowCount == 0,
              T.self == Double.self || T.self == Float.self else { return false }
        let length = tapCount / footprintRowCount
        guard filterjit_pairwise_rows_supported(footprintRowCount, length, T.self == Float.self ? 1 : 0) != 0,
              let first = tapPlaces.first,
              lastMap.count == rowLength + length - 1 else { return false }
        let start = first.position
        for (i, place) in tapPlaces.enumerated() where place.row != i / length || place.position != start + i % length {
            return false
        }
        let outSize = output.elementType.itemSize
        let outStrides = output.strides.map { $0 / outSize }
        guard outStrides[2] == 1 else { return false }
        let n = rowLength, rowsPerPlane = input.shape[1]
        let extendedLength = lastMap.count
        // (The edges below read lastColumns[x + start + c] for x < n, c < length; with the check of lastMap's
        // length above, this holds for start == 0, the box's first tap.)
        guard start >= 0, n + start + length - 1 <= extendedLength else { return false }
        // Pixels [low, high) read their windows inside the row: x + start + c - centre in 0 ..< n.
        let shift = start - geometry.centre[2]
        let low = min(max(-shift, 0), n)
        let high = max(low, min(n, n - length - shift + 1))
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        // The row ends: the pixels [0, low) and [high, n) read positions through the mode. Their columns of
        // one input row form its edge strip, [left | right | padding]: left outputs x < low read
        // strip[x ..< x + length], right output high + i reads strip[leftWidth + i ...]. One kernel call per
        // output row over `edgeOutputs` pixels (a multiple of 8: 8 for the cubes of 3 and 5, 16 for 7; no
        // masked tails with AVX2) computes both ends (and a few outputs in between that are dropped). The
        // strips are cached by input row (each serves every output row whose window holds that row: 25 of
        // them in a 5x5x5 cube), direct-mapped by a hash of the row's key: gathering 25 strips through the
        // mode for every output row, and two masked kernel calls for its two ends, took a quarter of a
        // 128^3 float64 5x5x5 mean.
        let rightCount = n - high
        let leftWidth = low > 0 ? low + length - 1 : 0
        let rightWidth = rightCount > 0 ? rightCount + length - 1 : 0
        let edgeOutputs = (leftWidth + rightCount + 7) / 8 * 8
        let stripLength = edgeOutputs + length - 1
        // Slots for about twice the input rows the window holds over an output plane, but no more than twice
        // the strips this call could read (a call for a single output row, as the exact box sums' rejected
        // rows make, fills no large table).
        let planesInWindow = Set(footprintRows.map { $0.outer[0] }).count
        var slotCount = 64
        while slotCount < 4096 && slotCount < 2 * planesInWindow * rowsPerPlane
                && slotCount < 2 * rows.count * footprintRowCount { slotCount *= 2 }
        let slotShift = UInt64(64 - slotCount.trailingZeroBitCount)
        let tags = UnsafeMutablePointer<Int>.allocate(capacity: slotCount)
        tags.initialize(repeating: Int.min, count: slotCount)
        // The output row (its index in `rows`, from 1) that last read each slot: a slot read by this output
        // row is not refilled for another of its rows, which then gathers into its own strip below.
        let lastRead = UnsafeMutablePointer<Int>.allocate(capacity: slotCount)
        lastRead.initialize(repeating: 0, count: slotCount)
        // Strips are written when first gathered, their padding (cval) with them.
        let strips = UnsafeMutablePointer<T>.allocate(capacity: (slotCount + 1 + footprintRowCount) * stripLength)
        let cvalStrip = strips + slotCount * stripLength  // rows outside the image: cval throughout
        cvalStrip.initialize(repeating: cval, count: stripLength)
        let ownStrips = cvalStrip + stripLength  // one per footprint row, for slots taken
        let edgeSums = UnsafeMutablePointer<T>.allocate(capacity: max(1, edgeOutputs))
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: extendedLength)
        cvalRow.initialize(repeating: cval, count: extendedLength)
        let pointers = UnsafeMutablePointer<UnsafePointer<T>?>.allocate(capacity: footprintRowCount)
        let keys = UnsafeMutablePointer<Int>.allocate(capacity: footprintRowCount)
        let inside = UnsafeMutablePointer<Bool>.allocate(capacity: footprintRowCount)
        // The mode's map along the row with -1 for cval, read without Optional unwrapping or bounds checks
        // when a strip is gathered (through `lastMap[...].map` the gathers took 14% of a 128^3 float64
        // 5x5x5 mean in the nineteenth session, before the strips were cached).
        let columns = UnsafeMutablePointer<Int>.allocate(capacity: extendedLength)
        columns.initialize(from: lastColumns, count: extendedLength)
        defer {
            cvalRow.deallocate(); strips.deallocate(); tags.deallocate(); lastRead.deallocate(); edgeSums.deallocate()
            pointers.deallocate()
            keys.deallocate(); inside.deallocate(); columns.deallocate()
        }
        let planeMap = outerMaps[0], rowMap = outerMaps[1]
        let outer = footprintRows.map { ($0.outer[0], $0.outer[1]) }
        let divisor = mean ? Double(tapCount) : 0
        let outBase = output.firstElementPointer
        /// False when the kernel computed nothing (switched off since the check above).
        func store(_ destination: UnsafeMutableRawPointer, _ count: Int) -> Bool {
            guard count > 0 else { return true }
            return pointers.withMemoryRebound(to: UnsafePointer<Double>?.self, capacity: footprintRowCount) { doubles in
                if T.self == Double.self {
                    return filterjit_pairwise_rows_store_f64(doubles, footprintRowCount, length, count, divisor,
                                                             destination.assumingMemoryBound(to: Double.self)) != 0
                }
                return doubles.withMemoryRebound(to: UnsafePointer<Float>?.self, capacity: footprintRowCount) { floats in
                    filterjit_pairwise_rows_store_f32(floats, footprintRowCount, length, count, divisor,
                                                      destination.assumingMemoryBound(to: Float.self)) != 0
                }
            }
        }
        /// The edge strip of the input row at element offset `key` for footprint row `r` of output row
        /// number `reader`, gathered on a miss.
        func strip(_ key: Int, _ r: Int, _ reader: Int) -> UnsafePointer<T> {
            let slot = Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(key)) &* 0x9E37_79B9_7F4A_7C15) >> slotShift)
            var place = strips + slot * stripLength
            if tags[slot] == key {
                lastRead[slot] = reader
            } else {
                if lastRead[slot] == reader {
                    place = ownStrips + r * stripLength
                } else {
                    tags[slot] = key
                    lastRead[slot] = reader
                }
                let row = base + key
                let left = columns + start, right = columns + high + start
                for j in 0..<leftWidth {
                    let column = left[j]
                    place[j] = column >= 0 ? row[column] : cval
                }
                for j in 0..<rightWidth {
                    let column = right[j]
                    place[leftWidth + j] = column >= 0 ? row[column] : cval
                }
                (place + leftWidth + rightWidth).initialize(repeating: cval, count: stripLength - leftWidth - rightWidth)
            }
            return UnsafePointer(place)
        }
        var reader = 0
        for t in rows {
            reader += 1
            let (z, y) = t.quotientAndRemainder(dividingBy: rowsPerPlane)
            for r in 0..<footprintRowCount {
                if let plane = planeMap[z + outer[r].0], let row = rowMap[y + outer[r].1] {
                    keys[r] = plane + row
                    inside[r] = true
                } else {
                    inside[r] = false
                }
            }
            let destination = outBase + rowOffset(t, strides: outStrides) * outSize
            if high > low {
                for r in 0..<footprintRowCount {
                    pointers[r] = inside[r] ? UnsafePointer(base + keys[r] + low + shift) : UnsafePointer(cvalRow)
                }
                guard store(destination + low * outSize, high - low) else { return false }
            }
            if edgeOutputs > 0 {
                for r in 0..<footprintRowCount { pointers[r] = inside[r] ? strip(keys[r], r, reader) : UnsafePointer(cvalStrip) }
                guard store(UnsafeMutableRawPointer(edgeSums), edgeOutputs) else { return false }
                let out = destination.assumingMemoryBound(to: T.self)
                for x in 0..<low { out[x] = edgeSums[x] }
                for i in 0..<rightCount { out[high + i] = edgeSums[leftWidth + i] }
            }
        }
        return true
    }

    /// A single order statistic stored straight into `output`: by the network into the output row
    /// itself (same type, contiguous), else through doubles as generic_filter stores them.
    private func runDirectRank<T: ReducibleElement>(_: T.Type, k: Int, rows: Range<Int>, output: NDArray) throws {
        let outSize = output.elementType.itemSize
        let outStrides = output.strides.map { $0 / outSize }
        let last = input.rank - 1
        let outBase = output.firstElementPointer
        // 64-bit integers pass through doubles, as in the literal kernel (values beyond 2^53 round).
        let sameType = output.elementType == input.elementType && input.elementType != .int64 && input.elementType != .uint64
        // Read in place: the 3x3 and 5x5 median row kernels (every type: they check float rows for NaN and
        // -0.0 as they read them) and, for integer data, the other networks. Float data otherwise takes the
        // cached extended rows below (a separate NaN/-0.0 pass first, from memory, was slower: float32 3x3
        // 8.7 vs 5.1 ms in the sweep, where SciPy's runs leave the caches cold), with the AVX-512 kernels
        // inside `RankNetworkRunner`.
        if let network = rankNetwork, sameType, inStrides[last] == 1, outStrides[last] == 1,
           !output.mayShareMemory(with: input) {
            // 3x3 and 5x5 medians by the AVX-512 row kernels (floats too: the kernels check what they
            // read for NaN and -0.0 as they go, so no separate pass).
            let size = medianRowsSize(T.self, network: network)
            if size != 0 {
                try runMedianRows(T.self, size: size, rows: rows, output: output)
                return
            }
            if !T.mayHoldHazards {
                try runNetworkInPlace(T.self, network: network, rows: rows, output: output)
                return
            }
        }
        let n = rowLength
        let plane = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n))
        defer { plane.deallocate() }
        try withRowState(T.self) { state in
            var index = outerIndex(of: rows.lowerBound)
            for _ in rows {
                var offset = 0
                for axis in 0..<last { offset += index[axis] * outStrides[axis] }
                let stride = outStrides[last]
                try state.loadRows(outer: index)
                if rankNetwork != nil && sameType {
                    let destination = (outBase + offset * outSize).assumingMemoryBound(to: T.self)
                    if stride == 1 {
                        state.networkRanks(into: [destination])
                    } else {
                        state.networkRanks(into: [state.result])
                        for x in 0..<n { destination[x * stride] = state.result[x] }
                    }
                } else if sameType, T.self == UInt8.self, input.elementType == .uint8, stride == 1,
                          state.histogramRankBins(k: k, into: (outBase + offset * outSize).assumingMemoryBound(to: UInt8.self)) {
                    // 8-bit column histograms: the bins are the uint8 values, written in place.
                } else {
                    state.orderStatistics([(0, k)], planes: plane)
                    let type = output.elementType
                    for x in 0..<n { type.storeDouble(plane[x], to: outBase + (offset + x * stride) * outSize) }
                }
                advance(&index)
            }
        }
    }

    /// The size of the AVX-512 (or AVX2) median row kernel (`RankKernelsC`, `filterjit_median3x3_*_rows`,
    /// `filterjit_median5x5_*_rows`) that computes `network` for `T` on this CPU: 3 or 5, 0 for none.
    private func medianRowsSize<T: ReducibleElement>(_: T.Type, network: RankNetwork) -> Int {
        guard filterjit_rank_kernels_avx512() != 0 else {
            // Without AVX-512: the AVX2 3x3 kernels of 8-bit and float data (median3x3_avx2.c) and the AVX2 5x5
            // networks of 8- and 16-bit integers (rank_kernels.c).
            guard filterjit_median3x3_avx2() != 0 else { return 0 }
            if network.rows == 3 && network.length == 3 && network.ranks == [4] {
                return T.self == UInt8.self || T.self == Int8.self || T.self == Float.self || T.self == Double.self ? 3 : 0
            }
            if network.rows == 5 && network.length == 5 && network.ranks == [12] {
                return T.self == UInt8.self || T.self == Int8.self || T.self == UInt16.self || T.self == Int16.self ? 5 : 0
            }
            return 0
        }
        if network.rows == 3 && network.length == 3 && network.ranks == [4] {
            return T.self == Int64.self || T.self == UInt64.self ? 0 : 3
        }
        if network.rows == 5 && network.length == 5 && network.ranks == [12] {
            return T.self == UInt8.self || T.self == Int8.self || T.self == UInt16.self || T.self == Int16.self
                || T.self == Float.self || T.self == Double.self ? 5 : 0
        }
        return 0
    }

    /// 3x3 and 5x5 medians written straight into contiguous output rows of the input's type by the
    /// AVX-512 row kernels (or the AVX2 3x3 ones), reading the input rows in place: one C call per batch of output rows for
    /// the pixels whose windows lie inside the row. The few pixels at each row end read the row
    /// extended through the mode: when consecutive output rows' windows slide down one sequence of
    /// input rows (2-D images), those columns of the whole batch are gathered transposed (one short
    /// row per extended column, along the sequence) and each end pixel is one call of the same
    /// kernel along the batch; otherwise each output row reads short strips. Float data is checked
    /// for NaN and -0.0 by the kernel as it reads (then the strategy declines and the caller
    /// recomputes every row).
    private func runMedianRows<T: ReducibleElement>(_: T.Type, size m: Int, rows: Range<Int>, output: NDArray) throws {
        let n = rowLength
        guard n > 0, !rows.isEmpty else { return }
        let last = input.rank - 1
        let s = spanClasses[0].spans[0].start
        let centre = geometry.centre[last]
        let outSize = output.elementType.itemSize
        let outStrides = output.strides.map { $0 / outSize }
        let inBase = UnsafePointer(input.firstElementPointer.assumingMemoryBound(to: T.self))
        let outBase = output.firstElementPointer.assumingMemoryBound(to: T.self)
        // Checked in the initialiser for constant modes; other modes never read it.
        let cvalValue = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let interiorStart = min(n, max(0, centre - s))
        let interiorEnd = max(interiorStart, min(n, n + centre - s - m + 1))
        // The end pixel ranges and the input column (-1: cval) of each of their extended columns.
        var ends: [(p: Int, q: Int)] = []
        if interiorEnd > interiorStart {
            if interiorStart > 0 { ends.append((0, interiorStart)) }
            if interiorEnd < n { ends.append((interiorEnd, n)) }
        } else {
            ends.append((0, n))
        }
        let map = lastMap
        let endColumns: [[Int]] = ends.map { end in (0..<(end.q - end.p + m - 1)).map { i in map[end.p + s + i] ?? -1 } }
        let endWidth = endColumns.map(\.count).max() ?? 0

        // Batches of about 192 KiB of input rows (16 ... 1024 rows): the ends are gathered while the
        // batch's rows are still in L2 (2048x2048 uint8 3x3: batches of 1024 rows left the gathers
        // a fifth of the call).
        let batch = min(rows.count, max(16, min(1024, (192 << 10) / max(1, n * MemoryLayout<T>.stride))))
        let sequenceLength = batch + m - 1
        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: n)
        cvalRow.initialize(repeating: cvalValue, count: n)
        let table = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: batch * m)
        let sequence = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: sequenceLength)
        let outs = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: batch)
        let targets = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: batch)
        // The ends: transposed columns (endWidth rows of sequenceLength), or per-row strips.
        let transposed = UnsafeMutablePointer<T>.allocate(capacity: max(1, endWidth * sequenceLength))
        let results = UnsafeMutablePointer<T>.allocate(capacity: batch)
        let strips = UnsafeMutablePointer<T>.allocate(capacity: max(1, batch * m * endWidth))
        let stripTable = UnsafeMutablePointer<UnsafePointer<T>>.allocate(capacity: batch * m)
        defer {
            cvalRow.deallocate()
            table.deallocate()
            sequence.deallocate()
            outs.deallocate()
            targets.deallocate()
            transposed.deallocate()
            results.deallocate()
            strips.deallocate()
            stripTable.deallocate()
        }
        let cvalPointer = UnsafePointer(cvalRow)
        // Non-temporal stores for the interiors of 32- and 64-bit data when the whole output is bigger
        // than the last-level cache (`NonTemporalStores`; until the tenth session from 4 MiB, which made
        // the kernel faster and the next reader of its output slower, docs/status.md "Float medians on
        // Intel"). 8- and 16-bit medians do more work per output byte and were not faster with them.
        let streamInteriors = MemoryLayout<T>.stride >= 4 && NonTemporalStores.stream(outputBytes: rowCount * n * MemoryLayout<T>.stride)
        func run(_ rowPointers: UnsafePointer<UnsafePointer<T>>, _ outPointers: UnsafePointer<UnsafeMutablePointer<T>>,
                 count: Int, start: Int, pixels: Int, stream: Bool = false) throws {
            let status = medianRows(T.self, size: m, rowPointers, outPointers, count, start, pixels, stream: stream)
            if status < 0 { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
            // Off when the kernels were switched off mid-run (tests): the caller runs the literal kernel.
            if status == 0 { throw WindowStrategyDeclined(reason: "no vector median kernel (AVX-512 or AVX2) ran") }
        }
        // rowKey's offsets, flat: footprint row r's offset along outer axis a at r * last + a.
        let rowOffsets = (0..<m).flatMap { r in footprintRows[r].outer.prefix(last) }
        var index = outerIndex(of: rows.lowerBound)
        var y = rows.lowerBound
        while y < rows.upperBound {
            let count = min(batch, rows.upperBound - y)
            if last == 1 {
                // 2-D: the plan's row offsets, through buffer pointers (the general loop below, with its
                // optional maps and per-axis arrays, took 40% of this function's own time, about 30 us
                // per 2048x2048 call on Emerald Rapids).
                let rowStride = outStrides[0]
                firstOuterOffsets.withUnsafeBufferPointer { offsets in
                    rowOffsets.withUnsafeBufferPointer { rowOffsets in
                        for j in 0..<count {
                            outs[j] = outBase + (y + j) * rowStride
                            for r in 0..<m {
                                let offset = offsets[y + j + rowOffsets[r]]
                                table[j * m + r] = offset == Int.min ? cvalPointer : inBase + offset
                            }
                        }
                    }
                }
                index[0] = y + count
            } else {
                for j in 0..<count {
                    var offset = 0
                    for axis in 0..<last { offset += index[axis] * outStrides[axis] }
                    outs[j] = outBase + offset
                    for r in 0..<m {
                        var key = 0, inside = true
                        for axis in 0..<last {
                            if let mapped = outerMaps[axis][index[axis] + rowOffsets[r * last + axis]] { key += mapped } else { inside = false }
                        }
                        table[j * m + r] = inside ? inBase + key : cvalPointer
                    }
                    advance(&index)
                }
            }
            if interiorEnd > interiorStart {
                for j in 0..<count { targets[j] = outs[j] + interiorStart }
                try run(table, targets, count: count, start: interiorStart + s - centre, pixels: interiorEnd - interiorStart,
                        stream: streamInteriors)
            }
            // Whether the windows slide down one sequence of rows: row j's window is sequence[j ..< j + m].
            for r in 0..<m { sequence[r] = table[r] }
            var slides = true
            for j in 1..<max(1, count) {
                sequence[j + m - 1] = table[j * m + m - 1]
                for r in 0..<(m - 1) where table[j * m + r] != sequence[j + r] { slides = false }
            }
            let length = count + m - 1
            for (end, columns) in zip(ends, endColumns) {
                let width = columns.count
                if slides {
                    // Row by row (each row's end is one cache line, read once).
                    columns.withUnsafeBufferPointer { columns in
                        for k in 0..<length {
                            let row = sequence[k]
                            if row == cvalPointer {
                                for i in 0..<width { transposed[i * length + k] = cvalValue }
                            } else {
                                for i in 0..<width {
                                    let column = columns[i]
                                    transposed[i * length + k] = column >= 0 ? row[column] : cvalValue
                                }
                            }
                        }
                    }
                    for x in end.p..<end.q {
                        // Kernel row r is extended column x - p + r; its pixels run along the sequence.
                        for r in 0..<m { stripTable[r] = UnsafePointer(transposed + (x - end.p + r) * length) }
                        targets[0] = results
                        try run(stripTable, targets, count: 1, start: 0, pixels: count)
                        for j in 0..<count { outs[j][x] = results[j] }
                    }
                } else {
                    for j in 0..<count {
                        for r in 0..<m {
                            let destination = strips + (j * m + r) * width
                            let row = table[j * m + r]
                            for i in 0..<width {
                                let column = columns[i]
                                destination[i] = column >= 0 && row != cvalPointer ? row[column] : cvalValue
                            }
                            stripTable[j * m + r] = UnsafePointer(destination)
                        }
                        targets[j] = outs[j] + end.p
                    }
                    try run(stripTable, targets, count: count, start: 0, pixels: end.q - end.p)
                }
            }
            y += count
        }
    }

    /// The input row (element offset; nil: a row of cval) that footprint row `r` reads for the
    /// output row at outer index `outer`.
    private func rowKey(footprintRow r: Int, outer: [Int]) -> Int? {
        var key = 0
        let offsets = footprintRows[r].outer
        for axis in 0..<outer.count {
            guard let mapped = outerMaps[axis][outer[axis] + offsets[axis]] else { return nil }
            key += mapped
        }
        return key
    }

    /// A selection network's single rank written straight into contiguous output rows of the input's
    /// type, reading contiguous input rows in place: the pixels whose windows lie inside the row read
    /// the input itself (no extended-row copy), the few at each end read short strips extended
    /// through the mode. 3x3 and 5x5 medians take the AVX-512 kernels when the CPU has
    /// them (`RankKernelsC`), every other plan its generated or interpreted Swift network. Float rows
    /// are checked for NaN and -0.0 once each, when they first enter a window (the strategy then
    /// declines, and the caller recomputes every row).
    private func runNetworkInPlace<T: ReducibleElement>(_: T.Type, network: RankNetwork, rows: Range<Int>,
                                                        output: NDArray) throws {
        let m = network.rows, l = network.length, n = rowLength
        let last = input.rank - 1
        let s = spanClasses[0].spans[0].start
        let centre = geometry.centre[last]
        let outSize = output.elementType.itemSize
        let outStrides = output.strides.map { $0 / outSize }
        let inBase = input.firstElementPointer.assumingMemoryBound(to: T.self)
        let outBase = output.firstElementPointer.assumingMemoryBound(to: T.self)
        let extendedLength = max(1, lastMap.count)
        // Checked in the initialiser for constant modes; other modes never read it.
        let cvalValue = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!

        let cvalRow = UnsafeMutablePointer<T>.allocate(capacity: max(1, n))
        cvalRow.initialize(repeating: cvalValue, count: max(1, n))
        let strips = UnsafeMutablePointer<T>.allocate(capacity: m * extendedLength)
        let pointers = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: m)
        let stripPointers = UnsafeMutablePointer<UnsafeMutablePointer<T>>.allocate(capacity: m)
        for r in 0..<m { stripPointers[r] = strips + r * extendedLength }
        let keys = UnsafeMutablePointer<Int>.allocate(capacity: m)
        let isCval = UnsafeMutablePointer<Bool>.allocate(capacity: m)
        let runner = RankNetworkRunner<T>(network: network)
        defer {
            cvalRow.deallocate()
            strips.deallocate()
            pointers.deallocate()
            stripPointers.deallocate()
            keys.deallocate()
            isCval.deallocate()
        }
        let vectorSize = filterjit_rank_kernels_avx512() == 0 ? 0
            : network.rows == 3 && network.length == 3 && network.ranks == [4] ? 3
            : network.rows == 5 && network.length == 5 && network.ranks == [12] ? 5 : 0
        /// Pixels `count` from the window start column `start` of `rowPointers` into `out`.
        func kernel(_ rowPointers: UnsafeMutablePointer<UnsafeMutablePointer<T>>, start: Int, count: Int,
                    out: UnsafeMutablePointer<T>) {
            if count <= 0 { return }
            if vectorSize != 0 && medianVector(T.self, size: vectorSize, UnsafePointer(rowPointers), start, count, out) { return }
            runner.run(rows: UnsafePointer(rowPointers), start: start, count: count, outputs: [out])
        }
        // Pixels whose windows read only the row itself: columns x + s - centre ..< x + s - centre + l.
        let interiorStart = min(n, max(0, centre - s))
        let interiorEnd = max(interiorStart, min(n, n + centre - s - l + 1))
        let map = lastMap
        func strip(from p: Int, to q: Int, out: UnsafeMutablePointer<T>) {
            guard q > p else { return }
            let width = q - p + l - 1
            for r in 0..<m {
                let destination = stripPointers[r]
                let key = keys[r]
                if isCval[r] {
                    destination.update(repeating: cvalValue, count: width)
                } else {
                    let base = inBase + key
                    for i in 0..<width { destination[i] = map[p + s + i].map { base[$0] } ?? cvalValue }
                }
            }
            kernel(stripPointers, start: 0, count: q - p, out: out + p)
        }
        var checked = Set<Int>()
        var index = outerIndex(of: rows.lowerBound)
        for _ in rows {
            var offset = 0
            for axis in 0..<last { offset += index[axis] * outStrides[axis] }
            let destination = outBase + offset
            for r in 0..<m {
                if let key = rowKey(footprintRow: r, outer: index) {
                    // Each input row is checked once, when it first enters a window (then the
                    // kernel reads it from cache); the caller recomputes everything on a decline.
                    if T.mayHoldHazards, checked.insert(key).inserted {
                        let data = UnsafePointer(inBase + key)
                        var hazard: UInt8 = 0
                        var x = 0
                        while x < n {
                            hazard |= data[x].isOrderHazard ? 1 : 0
                            x &+= 1
                        }
                        if hazard != 0 { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
                    }
                    keys[r] = key
                    isCval[r] = false
                    pointers[r] = inBase + key
                } else {
                    isCval[r] = true
                    pointers[r] = cvalRow
                }
            }
            if interiorEnd > interiorStart {
                kernel(pointers, start: interiorStart + s - centre, count: interiorEnd - interiorStart, out: destination + interiorStart)
                strip(from: 0, to: interiorStart, out: destination)
                strip(from: interiorEnd, to: n, out: destination)
            } else {
                strip(from: 0, to: n, out: destination)
            }
            advance(&index)
        }
    }

    private func run<T: ReducibleElement>(_: T.Type, rows: Range<Int>,
                                          deliver: (Int, UnsafeMutableBufferPointer<Double>) throws -> Void) throws {
        let n = rowLength
        let planes = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(1, reductions.count * n))
        defer { planes.deallocate() }
        if let separable {
            try runSeparable(T.self, box: separable, rows: rows) { y, r, result in
                let plane = planes.baseAddress! + r * n
                for x in 0..<n { plane[x] = result[x].doubleValue }
                if r == reductions.count - 1 { try deliver(y, planes) }
            }
            return
        }
        try withRowState(T.self) { state in
            var index = outerIndex(of: rows.lowerBound)
            // The order statistics are answered together (one histogram or sorted window per row).
            let ranks = reductions.enumerated().compactMap { r, reduction -> (plane: Int, k: Int)? in
                if case .orderStatistic(let k) = reduction { return (r, k) } else { return nil }
            }
            for row in rows {
                try state.loadRows(outer: index)
                for (r, reduction) in reductions.enumerated() {
                    let plane = planes.baseAddress! + r * n
                    switch reduction {
                    case .minimum, .maximum:
                        let result = state.reduceLoadedMinMax(minimum: reduction == .minimum)
                        for x in 0..<n { plane[x] = result[x].doubleValue }
                    case .sum:
                        state.sumLoaded(into: plane)
                    case .tap(let k):
                        let place = tapPlaces[k]
                        let extended = state.loadedRow(place.row)
                        for x in 0..<n { plane[x] = extended[x + place.position].doubleValue }
                    case .orderStatistic:
                        break
                    }
                }
                if !ranks.isEmpty { state.orderStatistics(ranks, planes: planes.baseAddress!) }
                try deliver(row, planes)
                advance(&index)
            }
        }
    }

    private func outerIndex(of row: Int) -> [Int] {
        var index = Array(repeating: 0, count: outerShape.count)
        var rest = row
        for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
            index[axis] = rest % outerShape[axis]
            rest /= outerShape[axis]
        }
        return index
    }

    private func advance(_ index: inout [Int]) {
        advanceInCOrder(&index, within: outerShape)
    }

    private func withRowState<T: ReducibleElement, R>(_: T.Type, _ body: (RowState<T>) throws -> R) throws -> R {
        let state = RowState<T>(job: self)
        defer { state.release() }
        return try body(state)
    }

    // MARK: Per-thread state

    /// One thread's scratch: cached extended input rows, the combined row, the sliding buffer,
    /// the result row and the histogram.
    private final class RowState<T: ReducibleElement> {
        let job: WindowReductionJob
        let extendedLength: Int
        /// Cached extended rows, keyed by their input row's element offset (nil: the cval row).
        let cache: ExtendedRowCache
        /// Per footprint row, the cached row it reads for the current output row.
        let loaded: UnsafeMutablePointer<UnsafeMutablePointer<T>>
        let combined: UnsafeMutablePointer<T>
        let sliding: UnsafeMutablePointer<T>
        let slidingSpare: UnsafeMutablePointer<T>
        let result: UnsafeMutablePointer<T>
        let cvalValue: T
        let inBase: UnsafeRawPointer

        init(job: WindowReductionJob) {
            self.job = job
            extendedLength = job.lastMap.count
            cache = ExtendedRowCache(capacity: job.footprintRows.count + 2,
                                     rowBytes: max(1, job.lastMap.count) * MemoryLayout<T>.stride)
            loaded = .allocate(capacity: job.footprintRows.count)
            loaded.initialize(repeating: cache.anyRow.assumingMemoryBound(to: T.self), count: job.footprintRows.count)
            combined = .allocate(capacity: max(1, job.lastMap.count))
            sliding = .allocate(capacity: max(1, job.lastMap.count))
            slidingSpare = .allocate(capacity: max(1, job.lastMap.count))
            result = .allocate(capacity: max(1, job.rowLength))
            // Checked in the job's initialiser for constant modes; other modes never read it.
            cvalValue = T(exactlyOrdered: job.geometry.cval) ?? T(exactlyOrdered: 0)!
            inBase = UnsafeRawPointer(job.input.firstElementPointer)
        }

        func release() {
            loaded.deallocate()
            combined.deallocate()
            sliding.deallocate()
            slidingSpare.deallocate()
            result.deallocate()
            releaseBuffers()
            releaseColumns()
        }

        func loadedRow(_ footprintRow: Int) -> UnsafeMutablePointer<T> { loaded[footprintRow] }

        /// The input row (element offset, nil: the cval row) each footprint row reads for output row `outer`.
        private func rowKeys(outer: [Int]) -> [Int?] {
            job.footprintRows.map { row in
                var key = 0
                for axis in 0..<outer.count {
                    guard let mapped = job.outerMaps[axis][outer[axis] + row.outer[axis]] else { return nil }
                    key += mapped
                }
                return key
            }
        }

        /// Points `loaded` at the extended input rows that output row `outer` reads, and brings the
        /// column accumulators (when used) from the previous output row's rows to these.
        func loadRows(outer: [Int]) throws {
            cache.tick()
            let keys = rowKeys(outer: outer)
            loadedKeys = keys
            guard usesColumns else {
                for (r, key) in keys.enumerated() { loaded[r] = try cachedRow(key) }
                return
            }
            // The rows that leave and enter, as multisets (nearest and reflect modes repeat rows).
            var leaving = columnKeys, entering: [Int?] = []
            for key in keys {
                if let i = leaving.firstIndex(of: key) { leaving.remove(at: i) } else { entering.append(key) }
            }
            // Subtract the leaving rows while they are still cached (loading may evict them).
            var incremental = columnsValid && leaving.count + entering.count < keys.count
            if incremental {
                for key in leaving {
                    guard let row = cachedRowIfPresent(key) else { incremental = false; break }
                    accumulateColumns(row, sign: -1)
                }
            }
            for (r, key) in keys.enumerated() { loaded[r] = try cachedRow(key) }
            if incremental {
                for key in entering { accumulateColumns(try cachedRow(key), sign: 1) }
            } else {
                clearColumns()
                for r in keys.indices { accumulateColumns(loaded[r], sign: 1) }
            }
            columnKeys = keys
            columnsValid = true
        }

        private func cachedRowIfPresent(_ key: Int?) -> UnsafeMutablePointer<T>? {
            cache.rowIfPresent(key)?.assumingMemoryBound(to: T.self)
        }

        // MARK: column accumulators (box-like footprints)

        /// Box-like footprints (every footprint row has the same single span) keep, per extended
        /// column, the sum (sums) or the histogram (order statistics of 8-bit data) of the column's
        /// elements over the footprint rows, updated by the rows that leave and enter from one output
        /// row to the next: O(1) per pixel instead of O(rows) (Perreault and Hébert's column histograms).
        private lazy var usesColumns: Bool = usesColumnSums || usesColumnHistograms
        private lazy var boxLike: Bool = job.spanClasses.count == 1 && job.spanClasses[0].spans.count == 1
        private lazy var usesColumnSums: Bool = boxLike && job.reductions.contains(.sum) && !T.mayHoldHazards
        /// From 7x7 up: below, sliding the 272 counts per pixel costs more than a sorted window
        /// (measured: float64 3x3 percentile 46 ms with column histograms at 512x512).
        private lazy var usesColumnHistograms: Bool = boxLike && job.rankNetwork == nil && job.tapCount > 48 && job.tapCount <= Int(UInt16.max)
            && !usesRankedRows
            && job.reductions.contains { if case .orderStatistic = $0 { return true } else { return false } }
        /// 8-bit types bin by value; every other type bins into 256 buckets between quantiles of a
        /// sample of the input, and a query then selects exactly among the window's elements in the
        /// bucket it found (about taps / 256 of them).
        private var bucketed: Bool { T.histogramBins != 256 }
        /// The 255 bucket boundaries, ascending: bucket c holds `boundaries[c - 1] <= v < boundaries[c]`.
        private lazy var boundaries: UnsafeMutablePointer<T> = {
            let boundaries = UnsafeMutablePointer<T>.allocate(capacity: 255)
            // Any boundaries give exact results (they only steer the search); quantiles of an
            // evenly spaced sample make the buckets about equally full.
            var sample: [T] = []
            let input = job.input, count = input.count
            let step = max(1, count / 65536)
            var flat = 0
            input.forEachElementOffset { offset in
                if flat % step == 0 {
                    // NaN and -0.0 stay out, so that the boundaries are totally ordered (rows holding
                    // them make the strategy decline before their values are binned).
                    let value = (UnsafeRawPointer(input.firstElementPointer) + offset).loadUnaligned(as: T.self)
                    if !value.isOrderHazard { sample.append(value) }
                }
                flat += 1
            }
            sample.sort()
            if sample.isEmpty { sample = [T(exactlyOrdered: 0)!] }
            for c in 0..<255 { boundaries[c] = sample[min(sample.count - 1, (c + 1) * sample.count / 256)] }
            return boundaries
        }()

        /// The histogram bin of `value`: its own bin for 8-bit types, else its bucket (a branch-free
        /// search over the boundaries).
        @inline(__always) private func bin(_ value: T, _ boundaries: UnsafeMutablePointer<T>?) -> Int {
            guard let boundaries else { return value.histogramBin }
            var base = 0, length = 255
            while length > 1 {
                let half = length >> 1
                base &+= half & selectMask(boundaries[base &+ half &- 1] <= value)
                length &-= half
            }
            return base &+ (1 & selectMask(boundaries[base] <= value))
        }
        private var columnKeys: [Int?] = []
        private var columnsValid = false
        private lazy var columnSums = UnsafeMutablePointer<Int64>.allocate(capacity: extendedLength)
        private lazy var columnFine = UnsafeMutablePointer<UInt16>.allocate(capacity: extendedLength * 256)
        private lazy var columnCoarse = UnsafeMutablePointer<UInt16>.allocate(capacity: extendedLength * 16)

        private func clearColumns() {
            if usesColumnSums { columnSums.update(repeating: 0, count: extendedLength) }
            if usesColumnHistograms {
                columnFine.update(repeating: 0, count: extendedLength * 256)
                columnCoarse.update(repeating: 0, count: extendedLength * 16)
            }
        }

        private func accumulateColumns(_ row: UnsafeMutablePointer<T>, sign: Int) {
            if usesColumnSums {
                let sums = columnSums
                if sign > 0 { for j in 0..<extendedLength { sums[j] &+= row[j].integerValue } }
                else { for j in 0..<extendedLength { sums[j] &-= row[j].integerValue } }
            }
            if usesColumnHistograms {
                let fine = columnFine, coarse = columnCoarse
                let boundaries: UnsafeMutablePointer<T>? = bucketed ? self.boundaries : nil
                let delta = UInt16(truncatingIfNeeded: sign)
                for j in 0..<extendedLength {
                    let bin = self.bin(row[j], boundaries)
                    fine[j &* 256 &+ bin] &+= delta
                    coarse[j &* 16 &+ (bin >> 4)] &+= delta
                }
            }
        }

        func releaseColumns() {
            guard usesColumns else { return }
            if usesColumnSums { columnSums.deallocate() }
            if usesColumnHistograms {
                columnFine.deallocate()
                columnCoarse.deallocate()
                histogramBinsRow.deallocate()
                if bucketed { boundaries.deallocate() }
            }
        }

        private lazy var histogramBinsRow = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, job.rowLength))

        /// 8-bit data: rank `k` of every window of the loaded rows by the C column-histogram kernel,
        /// as bins (the element of bin b is `T.fromHistogramBin(b)`); false when the column
        /// histograms are not in use or bin by bucket.
        func histogramRankBins(k: Int, into bins: UnsafeMutablePointer<UInt8>) -> Bool {
            guard usesColumnHistograms, !bucketed else { return false }
            let span = job.spanClasses[0].spans[0]
            filterjit_histogram_rank8(columnFine + span.start &* 256, columnCoarse + span.start &* 16, job.rowLength,
                                      span.length, k, bins)
            return true
        }

        /// Order statistics of every window from the column histograms: the window's coarse counts
        /// slide along the row by adding the entering column's and subtracting the leaving one's,
        /// the fine counts of a coarse bin only when a query lands in it (8-bit data: the C kernel
        /// `filterjit_histogram_rank8`), and each query walks 16 coarse then at most 16 fine counts
        /// (then, for bucketed types, selects among the window's elements in that bucket).
        private func columnHistogramOrderStatistics(_ ranks: [(plane: Int, k: Int)], planes: UnsafeMutablePointer<Double>) {
            let n = job.rowLength
            let span = job.spanClasses[0].spans[0]
            if !bucketed {
                let bins = histogramBinsRow
                for rank in ranks {
                    _ = histogramRankBins(k: rank.k, into: bins)
                    let plane = planes + rank.plane &* n
                    for x in 0..<n { plane[x] = T.fromHistogramBin(Int(bins[x])).doubleValue }
                }
                return
            }
            let fine = UnsafeMutablePointer<UInt16>.allocate(capacity: 256)
            let coarse = UnsafeMutablePointer<UInt16>.allocate(capacity: 16)
            defer { fine.deallocate(); coarse.deallocate() }
            fine.update(repeating: 0, count: 256)
            coarse.update(repeating: 0, count: 16)
            let columnFine = self.columnFine, columnCoarse = self.columnCoarse
            let rowsCount = job.footprintRows.count
            let boundaries: UnsafeMutablePointer<T>? = bucketed ? self.boundaries : nil
            // One more than the window: the branch-free pass stores every element before deciding.
            let candidates = UnsafeMutablePointer<T>.allocate(capacity: bucketed ? job.tapCount + 1 : 1)
            defer { candidates.deallocate() }
            for j in span.start..<(span.start + span.length) {
                for b in 0..<256 { fine[b] &+= columnFine[j &* 256 &+ b] }
                for c in 0..<16 { coarse[c] &+= columnCoarse[j &* 16 &+ c] }
            }
            // Perreault and Hebert's lazy fine level: per pixel only the 16 coarse counts slide; the
            // 16 fine counts of a coarse bin are brought to the current pixel when a query lands in
            // that bin (from the columns that entered and left since, or summed afresh when that is
            // cheaper). `synced[c]` is the pixel at which fine segment c is current.
            let synced = UnsafeMutablePointer<Int>.allocate(capacity: 16)
            defer { synced.deallocate() }
            synced.update(repeating: 0, count: 16)
            let length = span.length
            for x in 0..<n {
                if x > 0 {
                    let entering = x &- 1 &+ span.start &+ length, leaving = x &- 1 &+ span.start
                    let enteringCoarse = columnCoarse + entering &* 16, leavingCoarse = columnCoarse + leaving &* 16
                    for c in 0..<16 { coarse[c] = coarse[c] &+ enteringCoarse[c] &- leavingCoarse[c] }
                }
                for rank in ranks {
                    var remaining = rank.k, c = 0
                    while Int(coarse[c]) <= remaining { remaining &-= Int(coarse[c]); c &+= 1 }
                    let lag = x &- synced[c]
                    if lag > 0 {
                        let segment = fine + c &* 16
                        if lag &* 2 >= length {
                            for b in 0..<16 { segment[b] = 0 }
                            for j in (x &+ span.start)..<(x &+ span.start &+ length) {
                                let column = columnFine + (j &* 256 &+ c &* 16)
                                for b in 0..<16 { segment[b] &+= column[b] }
                            }
                        } else {
                            for step in (synced[c] &+ 1)...x {
                                let entering = columnFine + ((step &- 1 &+ span.start &+ length) &* 256 &+ c &* 16)
                                let leaving = columnFine + ((step &- 1 &+ span.start) &* 256 &+ c &* 16)
                                for b in 0..<16 { segment[b] = segment[b] &+ entering[b] &- leaving[b] }
                            }
                        }
                        synced[c] = x
                    }
                    var bin = c << 4
                    while Int(fine[bin]) <= remaining { remaining &-= Int(fine[bin]); bin &+= 1 }
                    if !bucketed {
                        planes[rank.plane &* n &+ x] = T.fromHistogramBin(bin).doubleValue
                        continue
                    }
                    // The element of rank `remaining` among the window's elements in bucket `bin`:
                    // a branch-free pass keeps them (each element is stored, and the end advances
                    // only past those inside), then an insertion sort of the few kept.
                    guard let boundaries else { continue }
                    let low = bin > 0 ? boundaries[bin &- 1] : T.lowest
                    let high = bin < 255 ? boundaries[bin] : T.lowest, unbounded = bin == 255 ? 1 : 0
                    var found = 0
                    for r in 0..<rowsCount {
                        let data = loaded[r] + (x &+ span.start)
                        for j in 0..<span.length {
                            let value = data[j]
                            candidates[found] = value
                            found &+= (low <= value ? 1 : 0) & ((value < high ? 1 : 0) | unbounded)
                        }
                    }
                    for i in 1..<max(found, 1) {
                        let value = candidates[i]
                        var j = i
                        while j > 0 && candidates[j &- 1] > value { candidates[j] = candidates[j &- 1]; j &-= 1 }
                        candidates[j] = value
                    }
                    planes[rank.plane &* n &+ x] = candidates[remaining].doubleValue
                }
            }
        }

        private func cachedRow(_ key: Int?) throws -> UnsafeMutablePointer<T> {
            try cache.row(key) { try build($0.assumingMemoryBound(to: T.self), key: key) }.assumingMemoryBound(to: T.self)
        }

        /// Fills `row` with the input row at element offset `key` extended along the last axis
        /// through the mode (nil: every element cval); throws on NaN or -0.0 in float data.
        private func build(_ row: UnsafeMutablePointer<T>, key: Int?) throws {
            guard let key else {
                row.update(repeating: cvalValue, count: extendedLength)
                return
            }
            let base = (inBase.assumingMemoryBound(to: T.self)) + key
            let map = job.lastMap
            let centre = job.geometry.centre[job.input.rank - 1]
            let n = job.rowLength
            let stride = job.inStrides[job.input.rank - 1]
            // Positions centre..<centre+n read the row itself, in order; the rest go through the map.
            if stride == 1 {
                (row + centre).update(from: UnsafePointer(base), count: n)
            } else {
                for x in 0..<n { row[centre + x] = base[x * stride] }
            }
            for j in 0..<centre { row[j] = map[j].map { base[$0] } ?? cvalValue }
            for j in (centre + n)..<extendedLength { row[j] = map[j].map { base[$0] } ?? cvalValue }
            if T.mayHoldHazards && job.needsTotalOrder {
                // One pass with no early exit, so it vectorises.
                // (Wrapping indices: an overflow check per element kept this loop scalar.)
                if hasOrderHazard(UnsafePointer(row + centre), n) { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
            }
        }

        // MARK: min / max

        /// The min (or max) of every window of the loaded rows, in `result`.
        func reduceLoadedMinMax(minimum: Bool, into destination: UnsafeMutablePointer<T>? = nil) -> UnsafeMutablePointer<T> {
            let out = destination ?? result
            if minimum { reduceLoaded(Min<T>.self, into: out) } else { reduceLoaded(Max<T>.self, into: out) }
            return out
        }

        private func reduceLoaded<Op: SelectionOperation>(_: Op.Type, into result: UnsafeMutablePointer<T>) where Op.Element == T {
            var first = true
            for spanClass in job.spanClasses {
                // Combine the class's rows column by column (one row: read it in place).
                let source: UnsafeMutablePointer<T>
                if spanClass.rows.count == 1 {
                    source = loaded[spanClass.rows[0]]
                } else {
                    source = combined
                    selectPairwise(Op.self, loaded[spanClass.rows[0]], loaded[spanClass.rows[1]], into: combined,
                                   count: extendedLength)
                    for r in spanClass.rows.dropFirst(2) {
                        selectPairwise(Op.self, combined, loaded[r], into: combined, count: extendedLength)
                    }
                }
                for span in spanClass.spans {
                    slide(Op.self, source + span.start, length: span.length, into: result, first: first)
                    first = false
                }
            }
        }

        /// `out[x] (op)= op(source[x ..< x + length])` for x in 0..<n, by doubling: after each pass,
        /// the buffer holds the reduction of `width` consecutive elements, and the last step
        /// combines two overlapping windows (min and max are idempotent, so overlap is harmless).
        /// Passes alternate between two buffers so that every loop reads one array and writes
        /// another (LLVM vectorises those).
        private func slide<Op: SelectionOperation>(_: Op.Type, _ source: UnsafeMutablePointer<T>, length: Int,
                                                   into out: UnsafeMutablePointer<T>, first: Bool) where Op.Element == T {
            let n = job.rowLength
            if length == 1 {
                if first { out.update(from: source, count: n) } else { selectPairwise(Op.self, out, source, into: out, count: n) }
                return
            }
            var valid = n + length - 2
            selectPairwise(Op.self, source, source + 1, into: sliding, count: valid)
            var current = sliding, spare = slidingSpare
            var width = 2
            while 2 * width <= length {
                valid -= width
                selectPairwise(Op.self, current, current + width, into: spare, count: valid)
                swap(&current, &spare)
                width *= 2
            }
            let offset = length - width
            if first {
                selectPairwise(Op.self, current, current + offset, into: out, count: n)
            } else {
                selectPairwise(Op.self, current, current + offset, into: spare, count: n)
                selectPairwise(Op.self, out, spare, into: out, count: n)
            }
        }

        // MARK: sum

        private lazy var totals = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(1, job.rowLength))
        private lazy var prefix = UnsafeMutableBufferPointer<Int64>.allocate(capacity: extendedLength + 1)

        /// Float data: each footprint row's extended row as doubles, and the pairwise program.
        private lazy var pairwiseRunner = PairwiseSumRunner(program: PairwiseSumProgram(taps: job.tapCount))
        /// Float32 data: the loaded rows converted to doubles, cached by row key as the rows themselves
        /// (each input row converted once, not once per output row that reads it).
        private lazy var doubleRowCache = ExtendedRowCache(capacity: job.footprintRows.count + 2,
                                                           rowBytes: max(1, extendedLength) * MemoryLayout<Double>.stride)
        /// The keys of the rows `loadRows` loaded last (footprint row order).
        private var loadedKeys: [Int?] = []
        /// k when the taps are a k x k box in buffer order (tap r * k + c in footprint row r, column
        /// start + c), k in 3 ... 15: `filterjit_pairwise_box_sum_f64` then takes the rows.
        private lazy var squareBoxSide: Int? = {
            let places = job.tapPlaces, k = job.footprintRows.count
            guard (3...15).contains(k), places.count == k * k else { return nil }
            let start = places[0].position
            for (i, place) in places.enumerated() where place.row != i / k || place.position != start + i % k { return nil }
            return k
        }()

        /// Float data: the loaded rows as doubles (float64: the rows themselves; float32: converted once
        /// per input row, cached by key).
        private func loadedDoubleRows() -> [UnsafePointer<Double>] {
            if T.self == Double.self {
                return (0..<job.footprintRows.count).map { UnsafeRawPointer(loaded[$0]).assumingMemoryBound(to: Double.self) }
            }
            let doubles = doubleRowCache, length = extendedLength
            doubles.tick()
            return loadedKeys.indices.map { r in
                UnsafePointer(doubles.row(loadedKeys[r]) {
                    pairwiseConvert(loaded[r], $0.assumingMemoryBound(to: Double.self), length)
                }.assumingMemoryBound(to: Double.self))
            }
        }

        /// Float data in a square box the AVX-512 or AVX2 kernel takes: every window's pairwise sum (divided by
        /// `divisor` unless it is 0) stored straight into `destination`, a contiguous output row of the
        /// input's type (the stores overlap the adds; no plane). False when the kernel does not apply.
        /// `columns`: only those outputs, the first stored at `destination`.
        func storeLoadedBoxSums(into destination: UnsafeMutableRawPointer, divisor: Double, columns: Range<Int>? = nil) -> Bool {
            guard T.mayHoldHazards, let side = squareBoxSide else { return false }
            let first = columns?.lowerBound ?? 0, count = columns?.count ?? job.rowLength
            let start = job.tapPlaces[0].position + first
            let boxRows: [UnsafePointer<Double>?] = loadedDoubleRows().map { $0 + start }
            if T.self == Float.self {
                return filterjit_pairwise_box_store(boxRows, side, count, divisor, nil,
                                                    destination.assumingMemoryBound(to: Float.self)) != 0
            }
            return filterjit_pairwise_box_store(boxRows, side, count, divisor,
                                                destination.assumingMemoryBound(to: Double.self), nil) != 0
        }

        /// The pairwise sums of the windows of output columns `columns` of the loaded rows, float data, into
        /// plane[0 ..< columns.count] (`sumLoaded`'s float path for a part of the row).
        func sumLoadedFloat(into plane: UnsafeMutablePointer<Double>, columns: Range<Int>) {
            precondition(T.mayHoldHazards)
            let rows = loadedDoubleRows(), first = columns.lowerBound
            if let side = squareBoxSide {
                let start = job.tapPlaces[0].position + first
                let boxRows: [UnsafePointer<Double>?] = rows.map { $0 + start }
                if filterjit_pairwise_box_sum_f64(boxRows, side, columns.count, plane) != 0 { return }
            }
            let taps = job.tapPlaces.map { rows[$0.row] + $0.position + first }
            pairwiseRunner.run(taps: taps, count: columns.count, into: plane)
        }

        /// The exact sum of every window of the loaded rows, as doubles, into `plane` (float data: in
        /// NumPy's pairwise order over the taps in buffer order).
        func sumLoaded(into plane: UnsafeMutablePointer<Double>) {
            if T.mayHoldHazards {
                let rows = loadedDoubleRows()
                if let side = squareBoxSide {
                    // k x k boxes: the AVX-512 kernel shifts each footprint row's taps out of a few loads (AVX2: one load per tap).
                    let start = job.tapPlaces[0].position
                    let boxRows: [UnsafePointer<Double>?] = rows.map { $0 + start }
                    if filterjit_pairwise_box_sum_f64(boxRows, side, job.rowLength, plane) != 0 { return }
                }
                let taps = job.tapPlaces.map { rows[$0.row] + $0.position }
                pairwiseRunner.run(taps: taps, count: job.rowLength, into: plane)
                return
            }
            let n = job.rowLength
            // Lazy properties are read once here: inside the loops each read is a call.
            let prefix = self.prefix.baseAddress!
            prefix[0] = 0
            if usesColumnSums {
                // One class with one span: the window sum is a difference of two prefix sums.
                let sums = columnSums
                for j in 0..<extendedLength { prefix[j &+ 1] = prefix[j] &+ sums[j] }
                let span = job.spanClasses[0].spans[0]
                let low = prefix + span.start, high = prefix + span.start + span.length
                for x in 0..<n { plane[x] = Double(high[x] &- low[x]) }
                return
            }
            let totals = self.totals.baseAddress!
            totals.update(repeating: 0, count: n)
            for spanClass in job.spanClasses {
                self.prefix.update(repeating: 0)
                for r in spanClass.rows {
                    let row = loaded[r]
                    for j in 0..<extendedLength { prefix[j &+ 1] &+= row[j].integerValue }
                }
                // Prefix sums: prefix[j] is the sum of the class's columns before position j.
                for j in 0..<extendedLength { prefix[j &+ 1] &+= prefix[j] }
                for span in spanClass.spans {
                    for x in 0..<n { totals[x] &+= prefix[x &+ span.start &+ span.length] &- prefix[x &+ span.start] }
                }
            }
            for x in 0..<n { plane[x] = Double(totals[x]) }
        }

        // MARK: order statistics

        /// The footprint's spans, flattened (footprint row, start, length), for the per-pixel loops.
        private lazy var flatSpans: [(row: Int, start: Int, length: Int)] = job.footprintRows.enumerated().flatMap { r, row in
            row.spans.map { (r, $0.start, $0.length) }
        }

        /// Counts per value (`fine`) and per group of 16 or 256 values (`coarse`); empty between rows.
        private lazy var fine = UnsafeMutableBufferPointer<Int32>.allocate(capacity: T.histogramBins ?? 1)
        private lazy var coarse = UnsafeMutableBufferPointer<Int32>.allocate(capacity: ((T.histogramBins ?? 1) >> coarseShift) + 1)
        private var coarseShift: Int { (T.histogramBins ?? 0) > 256 ? 8 : 4 }
        private var histogramsReady = false
        /// The window's values in ascending order (types without a histogram).
        private lazy var window = UnsafeMutablePointer<T>.allocate(capacity: job.tapCount)
        private var windowReady = false

        /// Order statistics of every window of the loaded rows, into their planes.
        func orderStatistics(_ ranks: [(plane: Int, k: Int)], planes: UnsafeMutablePointer<Double>) {
            if job.rankNetwork != nil {
                networkOrderStatistics(ranks, planes: planes)
            } else if usesColumnHistograms {
                columnHistogramOrderStatistics(ranks, planes: planes)
            } else if usesRankedRows {
                rankedOrderStatistics(ranks, planes: planes)
            } else if T.histogramBins != nil {
                histogramOrderStatistics(ranks, planes: planes)
            } else {
                sortedOrderStatistics(ranks, planes: planes)
            }
        }

        /// Per-thread scratch of the selection network, and one row per network rank.
        private lazy var networkRunner = RankNetworkRunner<T>(network: job.rankNetwork!)
        private lazy var networkRows: [UnsafeMutablePointer<T>] = job.rankNetwork!.ranks.map { _ in
            UnsafeMutablePointer<T>.allocate(capacity: max(1, job.rowLength))
        }
        private var networkReady = false

        /// The network's ranks (ascending, as `RankNetwork.ranks`) of every window of the loaded rows.
        func networkRanks(into outputs: [UnsafeMutablePointer<T>]) {
            networkReady = true
            let span = job.spanClasses[0].spans[0]
            networkRunner.run(rows: UnsafePointer(loaded), start: span.start, count: job.rowLength, outputs: outputs)
        }

        /// Order statistics by the selection network (box windows up to 7 columns and 49 taps).
        private func networkOrderStatistics(_ ranks: [(plane: Int, k: Int)], planes: UnsafeMutablePointer<Double>) {
            let rows = networkRows
            networkRanks(into: rows)
            let n = job.rowLength
            let order = job.rankNetwork!.ranks
            for rank in ranks {
                let source = rows[order.firstIndex(of: rank.k)!]
                let plane = planes + rank.plane * n
                for x in 0..<n { plane[x] = source[x].doubleValue }
            }
        }

        /// By a sorted copy of the window (any type): each step removes the spans' leaving elements
        /// and inserts the entering ones by branch-free binary search and one shift (memmove) each,
        /// so a step costs O(spans x window) element moves instead of a sort. (Walking the entering
        /// element to its place instead of the search and memmove was slower: 246 vs 206 ms for a
        /// float64 9x9 median at 512x512.)
        private func sortedOrderStatistics(_ ranks: [(plane: Int, k: Int)], planes: UnsafeMutablePointer<Double>) {
            let n = job.rowLength, count = job.tapCount
            let window = self.window
            windowReady = true
            let spans = flatSpans
            let rows = (0..<job.footprintRows.count).map { loaded[$0] }
            var filled = 0
            for span in spans {
                let data = rows[span.row]
                for j in span.start..<(span.start + span.length) { window[filled] = data[j]; filled += 1 }
            }
            // Insertion sort is quadratic; the window can hold millions of taps.
            var sortable = UnsafeMutableBufferPointer(start: window, count: count)
            sortable.sort()
            /// The first index whose element is not below `value` (or, with `orEqual`, above it), by
            /// a search meant to be branch-free: the comparisons on random data would mispredict half the
            /// time. The steps are masks rather than `c ? a : b`, but for float windows LLVM's x86 back end
            /// still made branches of them, so float types take `filterjit_sorted_replace_f64/_f32` above
            /// (C, `__builtin_unpredictable`); this search serves the wide integer types.
            @inline(__always) func boundary(_ value: T, orEqual: Bool) -> Int {
                var base = 0, length = count
                while length > 1 {
                    let half = length >> 1
                    let probe = window[base &+ half &- 1]
                    base &+= half & selectMask(orEqual ? probe <= value : probe < value)
                    length &-= half
                }
                let probe = window[base]
                return base &+ (1 & selectMask(orEqual ? probe <= value : probe < value))
            }
            for x in 0..<n {
                if x > 0 {
                    for span in spans {
                        let data = rows[span.row]
                        let leaving = data[x &- 1 &+ span.start], entering = data[x &- 1 &+ span.start &+ span.length]
                        if leaving == entering { continue }
                        // Float windows: the same step in C, whose searches stay branch-free.
                        if T.self == Double.self {
                            filterjit_sorted_replace_f64(UnsafeMutableRawPointer(window).assumingMemoryBound(to: Double.self), count,
                                                         unsafeBitCast(leaving, to: Double.self), unsafeBitCast(entering, to: Double.self))
                            continue
                        }
                        if T.self == Float.self {
                            filterjit_sorted_replace_f32(UnsafeMutableRawPointer(window).assumingMemoryBound(to: Float.self), count,
                                                         unsafeBitCast(leaving, to: Float.self), unsafeBitCast(entering, to: Float.self))
                            continue
                        }
                        let from = boundary(leaving, orEqual: false)   // an element equal to `leaving`
                        if entering > leaving {
                            // Shift (from, to) down by one and put `entering` at to - 1.
                            let to = boundary(entering, orEqual: false)
                            memmove(window + from, window + from + 1, (to - from - 1) * MemoryLayout<T>.stride)
                            window[to - 1] = entering
                        } else {
                            let to = boundary(entering, orEqual: true)
                            memmove(window + to + 1, window + to, (from - to) * MemoryLayout<T>.stride)
                            window[to] = entering
                        }
                    }
                }
                for rank in ranks { planes[rank.plane * n + x] = window[rank.k].doubleValue }
            }
        }

        // MARK: ranked rows (large windows)

        /// Windows of at least `WindowReductionJob.rankedRowsMinimumTaps` taps (not networks, not the 8-bit
        /// boxes that column histograms binned by value take): the footprint's rows are ranked together and
        /// the window's ranks slide as bits (`rank_merge.h`). Tags hold the slot in 8 bits and the column in 24.
        /// Integer types too since the twenty-third session (512x512, one thread, Zen 3, ns per pixel, median /
        /// percentile 25, before -> after): uint16 9x9 187 -> 88 / 294 -> 108, 31x31 916 -> 246 / 1752 -> 286,
        /// disk r7 333 -> 131 / 398 -> 159 (the 16-bit bucketed column histograms and 65,536-bin sliding
        /// histograms); int32 disk r7 1201 -> 136 (the sorted window); uint8 disk r7 235 -> 129, disk r3
        /// 131 -> 75 (the 256-bin sliding histogram), while its boxes of more than 48 taps keep column histograms
        /// (9x9 34 against 86, 8x8 65 against 100).
        /// 8-bit boxes of up to 48 taps (1x15: percentile 43 -> 28) and other 8-bit footprints rank too.
        private lazy var usesRankedRows: Bool = !(T.histogramBins == 256 && boxLike && job.tapCount > 48)
            && job.tapCount >= WindowReductionJob.rankedRowsMinimumTaps
            && job.footprintRows.count <= 255 && extendedLength < (1 << 24)
            && job.footprintRows.count * extendedLength <= RankedRows.maximumElements
        private lazy var ranked = RankedRows(rows: job.footprintRows.count, rowLength: extendedLength)
        private var rankedReady = false

        /// Order statistics by ranks: the loaded rows' elements in one sorted sequence (updated by the
        /// rows that leave and enter since the previous output row), each element's position in it its
        /// rank, and per pixel the window's ranks as bits, each statistic walked from where it was.
        private func rankedOrderStatistics(_ ranks: [(plane: Int, k: Int)], planes: UnsafeMutablePointer<Double>) {
            let state = ranked
            rankedReady = true
            state.update(keys: loadedKeys, rows: { UnsafePointer(self.loaded[$0]) })
            let n = job.rowLength, length = extendedLength
            let spans = flatSpans
            let spanPointers: [UnsafePointer<UInt32>?] = spans.map { UnsafePointer(state.ranks + state.slotOf[$0.row] * length + $0.start) }
            let lengths = spans.map(\.length)
            let ks = ranks.map(\.k)
            let out = state.selected(count: ks.count * n)
            spanPointers.withUnsafeBufferPointer { pointers in
                filterjit_rank_slide(pointers.baseAddress, lengths, spans.count, n, ks, ks.count, state.bits, state.words, out)
            }
            let sortedKeys = state.keys
            for (i, rank) in ranks.enumerated() {
                let plane = planes + rank.plane * n, selected = out + i * n
                if T.self == Double.self {
                    for x in 0..<n { plane[x] = filterjit_rank_value_f64(sortedKeys[Int(selected[x])]) }
                } else if T.self == Float.self {
                    for x in 0..<n { plane[x] = Double(filterjit_rank_value_f32(sortedKeys[Int(selected[x])])) }
                } else {
                    for x in 0..<n { plane[x] = T.fromRankKey(sortedKeys[Int(selected[x])]).doubleValue }
                }
            }
        }

        /// By a sliding two-level histogram (Huang; 8- and 16-bit types): each step removes the
        /// spans' leaving elements and adds the entering ones; each rank keeps its coarse bucket and
        /// the count below it, so a query moves only as far as the value moved, then scans at most
        /// one bucket.
        private func histogramOrderStatistics(_ ranks: [(plane: Int, k: Int)], planes: UnsafeMutablePointer<Double>) {
            let fine = self.fine.baseAddress!, coarse = self.coarse.baseAddress!, shift = coarseShift
            if !histogramsReady {
                self.fine.update(repeating: 0)
                self.coarse.update(repeating: 0)
                histogramsReady = true
            }
            let n = job.rowLength
            let spans = flatSpans
            let rows = (0..<job.footprintRows.count).map { loaded[$0] }
            let count = ranks.count
            var bucket = [Int](repeating: 0, count: count)
            var below = [Int](repeating: 0, count: count)
            bucket.withUnsafeMutableBufferPointer { bucket in
            below.withUnsafeMutableBufferPointer { below in
                @inline(__always) func add(_ value: T, _ delta: Int32) {
                    let bin = value.histogramBin
                    fine[bin] &+= delta
                    let c = bin >> shift
                    coarse[c] &+= delta
                    var q = 0
                    while q < count {
                        if c < bucket[q] { below[q] &+= Int(delta) }
                        q &+= 1
                    }
                }
                for span in spans {
                    let data = rows[span.row]
                    for j in span.start..<(span.start + span.length) { add(data[j], 1) }
                }
                for x in 0..<n {
                    if x > 0 {
                        for span in spans {
                            let data = rows[span.row]
                            let leaving = data[x &- 1 &+ span.start], entering = data[x &- 1 &+ span.start &+ span.length]
                            if leaving != entering {
                                add(leaving, -1)
                                add(entering, 1)
                            }
                        }
                    }
                    for q in 0..<count {
                        let k = ranks[q].k
                        var c = bucket[q], lower = below[q]
                        while lower > k { c &-= 1; lower &-= Int(coarse[c]) }
                        while lower &+ Int(coarse[c]) <= k { lower &+= Int(coarse[c]); c &+= 1 }
                        bucket[q] = c
                        below[q] = lower
                        var remaining = k &- lower
                        var bin = c << shift
                        while Int(fine[bin]) <= remaining { remaining &-= Int(fine[bin]); bin &+= 1 }
                        planes[ranks[q].plane &* n &+ x] = T.fromHistogramBin(bin).doubleValue
                    }
                }
                // Empty the histograms for the next row: remove the last window.
                for span in spans {
                    let data = rows[span.row]
                    for j in (n - 1 + span.start)..<(n - 1 + span.start + span.length) { add(data[j], -1) }
                }
            }
            }
        }

        func releaseBuffers() {
            if job.reductions.contains(.sum) {
                totals.deallocate()
                prefix.deallocate()
            }
            if histogramsReady {
                fine.deallocate()
                coarse.deallocate()
            }
            if windowReady { window.deallocate() }
            if networkReady { networkRows.forEach { $0.deallocate() } }
            if rankedReady { ranked.release() }
        }
    }
}

extension WindowReductionJob {
    /// About one core's time per output element, in nanoseconds, for the thread count (`RowThreads.count`):
    /// a model of the strategies' costs fitted to one-thread runs at 1024x1024 (twenty-third session, Zen 3;
    /// within about 2x of them): box min/max 0.08-1.75 (0.2 per byte of the element), other footprints
    /// 0.5-6.2 (per footprint row and byte 0.05); integer box sums 0.2-1.1, other footprints 4.4-7.7 (0.5 per
    /// row); float sums in NumPy's order 1.0-80 (0.08 per tap), float32 box sums about 1-2.4; selection
    /// networks 0.1-6.1 (0.03 per tap and byte); 8-bit column histograms 22-34; ranked rows 75-290 (60 and 6 per
    /// footprint row); a further order statistic about a fifth more.
    public var estimatedNanosecondsPerOutput: Double {
        let type = input.elementType, size = Double(type.itemSize)
        let rows = Double(footprintRows.count), taps = Double(tapCount)
        let box = spanClasses.count == 1 && spanClasses[0].spans.count == 1
        var total = 0.0, orderStatistics = 0
        for reduction in reductions {
            switch reduction {
            case .minimum, .maximum:
                total += separable != nil ? 0.2 * size : 0.05 * size * rows
            case .sum where type.isFloatingPoint:
                total += boxSum != nil || fastBoxSum != nil || (type == .float32 && exactBoxSum != nil) ? 1.5 : 0.5 + 0.08 * taps
            case .sum:
                total += box ? (size <= 2 ? 0.5 : 1.5) : 0.5 * rows
            case .orderStatistic:
                let first: Double
                if rankNetwork != nil {
                    first = 0.03 * taps * size
                } else if tapCount >= Self.rankedRowsMinimumTaps {
                    first = type.itemSize == 1 && box && tapCount > 48 ? 30 : 60 + 6 * rows
                } else {
                    first = 10
                }
                total += orderStatistics == 0 ? first : 0.2 * first
                orderStatistics += 1
            case .tap:
                total += 0.3
            }
        }
        return total
    }

    /// Order statistics of windows with at least this many taps (not 8-bit boxes with column histograms)
    /// run by ranked rows; smaller windows keep the sorted window or the sliding histogram.
    public static let rankedRowsMinimumTaps = 12
}

/// One thread's ranked rows (`rank_merge.h`): the footprint's rows for the current output row as one
/// sequence of (key, tag) pairs sorted by key, each row in a slot, and each element's rank.
final class RankedRows {
    /// At most this many elements (rows x extended row length) per thread: 34 bytes each (two key and
    /// two tag sequences, the ranks, and the entering rows: at most half of them) and a bit, so 64 MiB;
    /// wider rows or taller footprints keep the sorted window, whose scratch is the window itself. (Rows
    /// <= 255 and length < 2^24 bound the product below 2^32 too, which the UInt32 ranks need.)
    static let maximumElements = (64 << 20) / 34
    let rowCount: Int, rowLength: Int
    /// The sequence: keys (order-preserving integers of the values) and tags (slot << 24 | column).
    private(set) var keys: UnsafeMutablePointer<UInt64>
    private(set) var tags: UnsafeMutablePointer<UInt32>
    private var spareKeys: UnsafeMutablePointer<UInt64>
    private var spareTags: UnsafeMutablePointer<UInt32>
    /// The entering rows' pairs, at most half the rows (more: everything is sorted anew; the spare
    /// sequence is the radix sort's scratch).
    private let rowKeys: UnsafeMutablePointer<UInt64>
    private let rowTags: UnsafeMutablePointer<UInt32>
    /// ranks[slot * rowLength + column]: the element's position in the sequence.
    let ranks: UnsafeMutablePointer<UInt32>
    /// The sliding window's bits, one per rank.
    let bits: UnsafeMutablePointer<UInt64>
    let words: Int
    private var selectedRanks: UnsafeMutablePointer<UInt32>
    private var selectedCapacity = 0
    /// The input row each slot holds (nil inside: the cval row), and the slot of each footprint row.
    private var slotKeys: [Int??]
    private(set) var slotOf: [Int]
    private var dropSlot = [UInt8](repeating: 0, count: 256)
    private var valid = false

    init(rows: Int, rowLength: Int) {
        rowCount = rows
        self.rowLength = rowLength
        let total = max(1, rows * rowLength)
        keys = .allocate(capacity: total)
        tags = .allocate(capacity: total)
        spareKeys = .allocate(capacity: total)
        spareTags = .allocate(capacity: total)
        rowKeys = .allocate(capacity: max(1, rows / 2 * rowLength))
        rowTags = .allocate(capacity: max(1, rows / 2 * rowLength))
        ranks = .allocate(capacity: total)
        words = total / 64 + 1
        bits = .allocate(capacity: words)
        selectedRanks = .allocate(capacity: 1)
        slotKeys = Array(repeating: nil, count: rows)
        slotOf = Array(0..<rows)
    }

    func release() {
        [keys, spareKeys, rowKeys].forEach { $0.deallocate() }
        [tags, spareTags, rowTags, ranks, selectedRanks].forEach { $0.deallocate() }
        bits.deallocate()
    }

    /// Room for `count` selected ranks.
    func selected(count: Int) -> UnsafeMutablePointer<UInt32> {
        if count > selectedCapacity {
            selectedRanks.deallocate()
            selectedRanks = .allocate(capacity: count)
            selectedCapacity = count
        }
        return selectedRanks
    }

    /// The keys and tags of row `row` (`rowLength` elements) in slot `slot`, into `keys`/`tags`.
    private func load<T: ReducibleElement>(_ row: UnsafePointer<T>, slot: Int,
                                           keys: UnsafeMutablePointer<UInt64>, tags: UnsafeMutablePointer<UInt32>) {
        if T.self == Double.self {
            filterjit_rank_keys_f64(UnsafeRawPointer(row).assumingMemoryBound(to: Double.self), rowLength, keys)
        } else if T.self == Float.self {
            filterjit_rank_keys_f32(UnsafeRawPointer(row).assumingMemoryBound(to: Float.self), rowLength, keys)
        } else {
            for c in 0..<rowLength { keys[c] = row[c].rankKey }
        }
        let high = UInt32(slot) << 24
        for c in 0..<rowLength { tags[c] = high | UInt32(c) }
    }

    /// Brings the sequence and the ranks to the rows of `keys` (per footprint row, its input row;
    /// `rows(r)` the loaded row of footprint row r): rows that stayed keep their slot; the slots of
    /// rows that left take the entering rows, whose sorted pairs are merged in; when most rows
    /// changed, everything is sorted anew.
    func update<T: ReducibleElement>(keys rowKeysNow: [Int?], rows: (Int) -> UnsafePointer<T>) {
        let count = rowCount
        var claimed = [Bool](repeating: false, count: count)
        var entering: [Int] = []
        if valid {
            for r in 0..<count {
                if let s = (0..<count).first(where: { !claimed[$0] && slotKeys[$0] == .some(rowKeysNow[r]) }) {
                    claimed[s] = true
                    slotOf[r] = s
                } else {
                    entering.append(r)
                }
            }
        }
        let total = count * rowLength
        if !valid || entering.count * 2 > count {
            for r in 0..<count {
                slotOf[r] = r
                slotKeys[r] = .some(rowKeysNow[r])
                load(rows(r), slot: r, keys: keys + r * rowLength, tags: tags + r * rowLength)
            }
            filterjit_rank_sort(keys, tags, total, spareKeys, spareTags)
            valid = true
        } else if !entering.isEmpty {
            // The entering rows are sorted together and merged in one pass (a 3-D window changes one row per
            // plane at each step: merging them one by one cost a pass over the sequence each, 59% of a
            // 5x5x5 median's time).
            let free = (0..<count).filter { !claimed[$0] }
            for s in free { dropSlot[s] = 1 }
            for (index, r) in entering.enumerated() {
                let slot = free[index]
                slotOf[r] = slot
                slotKeys[slot] = .some(rowKeysNow[r])
                load(rows(r), slot: slot, keys: rowKeys + index * rowLength, tags: rowTags + index * rowLength)
            }
            let enteringCount = entering.count * rowLength
            filterjit_rank_sort(rowKeys, rowTags, enteringCount, spareKeys, spareTags)
            let merged = filterjit_rank_merge(keys, tags, total, dropSlot, rowKeys, rowTags, enteringCount, spareKeys, spareTags)
            precondition(merged == total, "ranked rows lost elements")
            swap(&keys, &spareKeys)
            swap(&tags, &spareTags)
            for s in free { dropSlot[s] = 0 }
        }
        filterjit_rank_assign(tags, total, rowLength, ranks)
    }
}

/// `out[i] = op(a[i], b[i])` for i in 0..<count (`out` may be `a` or `b`): the loop every
/// min/max pass is made of, written so that LLVM vectorises it (wrapping index arithmetic, no
/// class properties inside).
@inline(__always)
private func selectPairwise<Op: SelectionOperation>(_: Op.Type, _ a: UnsafePointer<Op.Element>, _ b: UnsafePointer<Op.Element>,
                                                    into out: UnsafeMutablePointer<Op.Element>, count: Int) {
    var i = 0
    while i < count {
        out[i] = Op.select(a[i], b[i])
        i &+= 1
    }
}

/// min or max, as a type so the row loops specialise and vectorise.
private protocol SelectionOperation {
    associatedtype Element: ReducibleElement
    static func select(_ a: Element, _ b: Element) -> Element
}

private enum Min<Element: ReducibleElement>: SelectionOperation {
    @inline(__always) static func select(_ a: Element, _ b: Element) -> Element { b < a ? b : a }
}

private enum Max<Element: ReducibleElement>: SelectionOperation {
    @inline(__always) static func select(_ a: Element, _ b: Element) -> Element { b > a ? b : a }
}

/// The AVX-512 3x3 or 5x5 median (`RankKernelsC`) of `count` pixels, when there is one for `T` and
/// this CPU.
@inline(__always)
func medianVector<T: ReducibleElement>(_: T.Type, size: Int, _ rows: UnsafePointer<UnsafeMutablePointer<T>>,
                                       _ start: Int, _ count: Int, _ out: UnsafeMutablePointer<T>) -> Bool {
    let raw = UnsafeRawPointer(rows), o = UnsafeMutableRawPointer(out)
    func run<E>(_: E.Type, _ f: (UnsafePointer<UnsafePointer<E>?>?, Int, Int, UnsafeMutablePointer<E>?) -> Int32) -> Bool {
        f(raw.assumingMemoryBound(to: UnsafePointer<E>?.self), start, count, o.assumingMemoryBound(to: E.self)) != 0
    }
    if size == 3 {
        if T.self == UInt8.self { return run(UInt8.self, filterjit_median3x3_u8) }
        if T.self == Int8.self { return run(Int8.self, filterjit_median3x3_i8) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_median3x3_u16) }
        if T.self == Int16.self { return run(Int16.self, filterjit_median3x3_i16) }
        if T.self == UInt32.self { return run(UInt32.self, filterjit_median3x3_u32) }
        if T.self == Int32.self { return run(Int32.self, filterjit_median3x3_i32) }
        if T.self == Float.self { return run(Float.self, filterjit_median3x3_f32) }
        if T.self == Double.self { return run(Double.self, filterjit_median3x3_f64) }
    } else if size == 5 {
        if T.self == UInt8.self { return run(UInt8.self, filterjit_median5x5_u8) }
        if T.self == Int8.self { return run(Int8.self, filterjit_median5x5_i8) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_median5x5_u16) }
        if T.self == Int16.self { return run(Int16.self, filterjit_median5x5_i16) }
        if T.self == Float.self { return run(Float.self, filterjit_median5x5_f32) }
        if T.self == Double.self { return run(Double.self, filterjit_median5x5_f64) }
    }
    return false
}

/// The AVX-512 kernels of `RankKernelsC` (3x3 and 5x5 medians, 8-bit histograms, float sums).
public enum RankKernels {
    /// Whether they run in this process (the CPU has AVX-512 F and BW, FILTERJIT_NO_AVX512 unset).
    public static var avx512: Bool { filterjit_rank_kernels_avx512() != 0 }

    /// Turns them on (where the CPU has them) or off for the whole process, or back to what the CPU
    /// and FILTERJIT_NO_AVX512 say (nil). For tests: every result is the same bits either way (a run
    /// that finds them switched off mid-way declines its strategy and runs the literal kernel).
    public static func setAVX512(_ enabled: Bool?) {
        filterjit_rank_kernels_set_avx512(enabled.map { $0 ? 1 : 0 } ?? -1)
    }

    /// Turns the AVX2 median kernels (3x3; 5x5 of 8/16-bit integers) that stand in for the AVX-512 ones where those are off on (where the
    /// CPU has AVX2) or off for the whole process, or back to what FILTERJIT_NO_AVX2 says (nil). For tests:
    /// every result is the same bits either way. (The AVX2 pairwise sums have their own switch,
    /// `filterjit_pairwise_set_avx2`, which also moves the pairwise strategy's threshold.)
    public static func setAVX2Medians(_ enabled: Bool?) {
        filterjit_median3x3_set_avx2(enabled.map { $0 ? 1 : 0 } ?? -1)
    }
}

/// `count` output rows of the AVX-512 3x3 or 5x5 median row kernels, or the AVX2 3x3 ones (`RankKernelsC`): 1 done, 0 no
/// kernel for `T` on this CPU, -1 a float value read was NaN or -0.0. `stream`: the `_rows_stream`
/// kernels (non-temporal stores of the whole output lines; for outputs much bigger than L2).
@inline(__always)
func medianRows<T: ReducibleElement>(_: T.Type, size: Int, _ rows: UnsafePointer<UnsafePointer<T>>,
                                     _ outs: UnsafePointer<UnsafeMutablePointer<T>>, _ count: Int, _ start: Int,
                                     _ n: Int, stream: Bool = false) -> Int32 {
    if stream { return medianRowsStreaming(T.self, size: size, rows, outs, count, start, n) }
    let raw = UnsafeRawPointer(rows), rawOuts = UnsafeRawPointer(outs)
    func run<E>(_: E.Type, _ f: (UnsafePointer<UnsafePointer<E>?>?, UnsafePointer<UnsafeMutablePointer<E>?>?, Int, Int, Int) -> Int32) -> Int32 {
        f(raw.assumingMemoryBound(to: UnsafePointer<E>?.self), rawOuts.assumingMemoryBound(to: UnsafeMutablePointer<E>?.self),
          count, start, n)
    }
    if size == 3 {
        if T.self == UInt8.self { return run(UInt8.self, filterjit_median3x3_u8_rows) }
        if T.self == Int8.self { return run(Int8.self, filterjit_median3x3_i8_rows) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_median3x3_u16_rows) }
        if T.self == Int16.self { return run(Int16.self, filterjit_median3x3_i16_rows) }
        if T.self == UInt32.self { return run(UInt32.self, filterjit_median3x3_u32_rows) }
        if T.self == Int32.self { return run(Int32.self, filterjit_median3x3_i32_rows) }
        if T.self == Float.self { return run(Float.self, filterjit_median3x3_f32_rows) }
        if T.self == Double.self { return run(Double.self, filterjit_median3x3_f64_rows) }
    } else if size == 5 {
        if T.self == UInt8.self { return run(UInt8.self, filterjit_median5x5_u8_rows) }
        if T.self == Int8.self { return run(Int8.self, filterjit_median5x5_i8_rows) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_median5x5_u16_rows) }
        if T.self == Int16.self { return run(Int16.self, filterjit_median5x5_i16_rows) }
        if T.self == Float.self { return run(Float.self, filterjit_median5x5_f32_rows) }
        if T.self == Double.self { return run(Double.self, filterjit_median5x5_f64_rows) }
    }
    return 0
}

/// `medianRows` with the `_rows_stream` kernels.
@inline(never)
private func medianRowsStreaming<T: ReducibleElement>(_: T.Type, size: Int, _ rows: UnsafePointer<UnsafePointer<T>>,
                                                      _ outs: UnsafePointer<UnsafeMutablePointer<T>>, _ count: Int,
                                                      _ start: Int, _ n: Int) -> Int32 {
    let raw = UnsafeRawPointer(rows), rawOuts = UnsafeRawPointer(outs)
    func run<E>(_: E.Type, _ f: (UnsafePointer<UnsafePointer<E>?>?, UnsafePointer<UnsafeMutablePointer<E>?>?, Int, Int, Int) -> Int32) -> Int32 {
        f(raw.assumingMemoryBound(to: UnsafePointer<E>?.self), rawOuts.assumingMemoryBound(to: UnsafeMutablePointer<E>?.self),
          count, start, n)
    }
    if size == 3 {
        if T.self == UInt8.self { return run(UInt8.self, filterjit_median3x3_u8_rows_stream) }
        if T.self == Int8.self { return run(Int8.self, filterjit_median3x3_i8_rows_stream) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_median3x3_u16_rows_stream) }
        if T.self == Int16.self { return run(Int16.self, filterjit_median3x3_i16_rows_stream) }
        if T.self == UInt32.self { return run(UInt32.self, filterjit_median3x3_u32_rows_stream) }
        if T.self == Int32.self { return run(Int32.self, filterjit_median3x3_i32_rows_stream) }
        if T.self == Float.self { return run(Float.self, filterjit_median3x3_f32_rows_stream) }
        if T.self == Double.self { return run(Double.self, filterjit_median3x3_f64_rows_stream) }
    } else if size == 5 {
        if T.self == UInt8.self { return run(UInt8.self, filterjit_median5x5_u8_rows_stream) }
        if T.self == Int8.self { return run(Int8.self, filterjit_median5x5_i8_rows_stream) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_median5x5_u16_rows_stream) }
        if T.self == Int16.self { return run(Int16.self, filterjit_median5x5_i16_rows_stream) }
        if T.self == Float.self { return run(Float.self, filterjit_median5x5_f32_rows_stream) }
        if T.self == Double.self { return run(Double.self, filterjit_median5x5_f64_rows_stream) }
    }
    return 0
}

/// `d[x * step] = sums[x] / divisor` (or the sum itself when `divisor` is nil) for x in 0..<n.
@inline(never)
func floatSumStore(_ sums: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ step: Int, _ n: Int, _ divisor: Double?) {
    if let divisor {
        if step == 1 { for x in 0..<n { d[x] = sums[x] / divisor } } else { for x in 0..<n { d[x &* step] = sums[x] / divisor } }
    } else {
        if step == 1 { d.update(from: sums, count: n) } else { for x in 0..<n { d[x &* step] = sums[x] } }
    }
}

/// The float32 store: each double rounded to the nearest Float, as the literal kernel stores it.
@inline(never)
func floatSumStore(_ sums: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Float>, _ step: Int, _ n: Int, _ divisor: Double?) {
    if let divisor {
        if step == 1 { for x in 0..<n { d[x] = Float(sums[x] / divisor) } } else { for x in 0..<n { d[x &* step] = Float(sums[x] / divisor) } }
    } else {
        if step == 1 { for x in 0..<n { d[x] = Float(sums[x]) } } else { for x in 0..<n { d[x &* step] = Float(sums[x]) } }
    }
}

/// All ones when `condition` holds, else zero: a select written as a mask, which the compiler usually
/// keeps branch-free (the histogram buckets' search: 2026-12-05, 512x512 float64 15x15 percentile 151 ms
/// with masks, 167 ms with `c ? a : b`). Not a guarantee: where it must hold, write the loop in C with
/// `__builtin_unpredictable` (the sorted float windows).
@inline(__always) func selectMask(_ condition: Bool) -> Int {
    0 &- Int(unsafeBitCast(condition, to: UInt8.self))
}
