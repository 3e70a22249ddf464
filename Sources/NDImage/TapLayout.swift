import Foundation

/// A window's taps (each true footprint entry's position per input axis, in C order of the full-rank footprint)
/// with what the window strategies ask of their arrangement, worked out once per footprint.
///
/// `FilterPlan` finds layouts in a small process-wide table by window shape, axes and mask, so a call on a shape or
/// with a cval never seen before neither walks the footprint nor hashes its taps again: those analyses were a third
/// of the library's time in such a call on a small image (twenty-fifth session, docs/status.md).
public final class TapLayout: Sendable {
    /// Per tap, its position in the window per axis.
    public let positions: [[Int]]
    /// Whether the taps fill their bounding box (a box window of any rank).
    public let isBox: Bool
    /// Whether every tap lies in one row (every position but the last the same).
    public let isOneRow: Bool
    /// How many different positions the taps take on each axis.
    public let distinctPositions: [Int]
    /// Whether the taps are a box that NDImage's precompiled selection networks handle (`RankNetwork.applies`).
    public let rankNetworkApplies: Bool
    /// Whether the taps are a box that a pairwise box kernel takes whole (`WindowReductionJob.pairwiseBoxKernelTakes`).
    public let pairwiseBoxKernelTakes: Bool
    /// The footprint rows (by the positions on every axis but the last) in order of first appearance, each as
    /// runs of positions along the last axis; per tap its row and last-axis position; the rows grouped by equal
    /// spans (`WindowReductionJob`'s plan).
    let footprintRows: [WindowReductionJob.FootprintRow]
    let tapPlaces: [(row: Int, position: Int)]
    let spanClasses: [WindowReductionJob.SpanClass]

    /// The layout of these tap positions (each of the same rank).
    public init(_ positions: [[Int]]) {
        self.positions = positions
        isBox = WindowReductionJob.isBox(tapPositions: positions)
        isOneRow = positions.allSatisfy { $0.dropLast() == positions[0].dropLast() }
        distinctPositions = (0..<(positions.first?.count ?? 0)).map { axis in Set(positions.map { $0[axis] }).count }
        rankNetworkApplies = WindowReductionJob.rankNetworkApplies(tapPositions: positions)
        pairwiseBoxKernelTakes = WindowReductionJob.pairwiseBoxKernelTakes(tapPositions: positions)
        (footprintRows, tapPlaces, spanClasses) = WindowReductionJob.footprintRows(of: positions)
    }

    /// The layout of `footprint`'s taps in a window of `windowShape` (the input's rank; footprint axis i is input
    /// axis `axes[i]`), from the table when it was made before.
    static func of(windowShape: [Int], axes: [Int], footprint: Footprint) -> TapLayout {
        // Large footprints are walked per call, as before: their own work dwarfs the walk, and a layout holds about
        // 80 bytes per tap (a 16x16 window's 20 KiB; a 2048x2048 window's would be 300 MiB kept after its call).
        guard footprint.mask.count <= tableFootprintLimit else {
            return TapLayout(walking: footprint, windowShape: windowShape, axes: axes)
        }
        let key = Key(windowShape: windowShape, axes: axes, mask: footprint.mask)
        lock.lock()
        let known = table[key]
        lock.unlock()
        if let known { return known }
        let layout = TapLayout(walking: footprint, windowShape: windowShape, axes: axes)
        lock.lock()
        defer { lock.unlock() }
        // Bounded (at most 64 layouts of up to 4096 taps, about 20 MiB): a program that cycles through more
        // footprints than this recomputes some.
        if table.count >= tableLimit {
            table.removeAll(keepingCapacity: true)
            clearCount += 1
        }
        table[key] = layout
        return layout
    }

    /// How many times the table was emptied since the process started (a test's check that two geometries met the
    /// same table).
    static var tableClears: Int {
        lock.lock()
        defer { lock.unlock() }
        return clearCount
    }

    /// The footprint's taps walked in C order of the full-rank window.
    private convenience init(walking footprint: Footprint, windowShape: [Int], axes: [Int]) {
        let rank = windowShape.count
        let fullCount = windowShape.reduce(1, *)
        var footprintStrides = Array(repeating: 0, count: axes.count)
        var step = 1
        for i in stride(from: axes.count - 1, through: 0, by: -1) {
            footprintStrides[i] = step
            step *= footprint.shape[i]
        }
        var taps: [[Int]] = []
        var position = Array(repeating: 0, count: rank)
        for _ in 0..<fullCount {
            var flat = 0
            for (i, axis) in axes.enumerated() { flat += position[axis] * footprintStrides[i] }
            if footprint.mask[flat] { taps.append(position) }
            advanceInCOrder(&position, within: windowShape)
        }
        self.init(taps)
    }

    private struct Key: Hashable {
        var windowShape: [Int]
        var axes: [Int]
        var mask: [Bool]
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var table: [Key: TapLayout] = [:]
    nonisolated(unsafe) private static var clearCount = 0
    private static let tableLimit = 64
    /// The most footprint entries a layout in the table may have (a 64x64 window).
    static let tableFootprintLimit = 4096
}
