import Foundation
import Testing
@testable import NDImage

/// The taps of `footprint` in a window of the input's rank (footprint axis i is input axis `axes[i]`), in C order of
/// the full-rank window: the definition `FilterPlan` once computed per call, written out plainly.
private func naiveTaps(_ footprint: Footprint, rank: Int, axes: [Int]) -> [[Int]] {
    var window = Array(repeating: 1, count: rank)
    for (i, axis) in axes.enumerated() { window[axis] = footprint.shape[i] }
    var all: [[Int]] = [[]]
    for length in window { all = all.flatMap { prefix in (0..<length).map { prefix + [$0] } } }
    var strides = Array(repeating: 1, count: footprint.rank)
    for i in stride(from: footprint.rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * footprint.shape[i + 1] }
    return all.filter { position in
        footprint.mask[axes.enumerated().reduce(0) { $0 + position[$1.element] * strides[$1.offset] }]
    }
}

@Test func geometriesOfOneFootprintShareTheirLayoutAndOthersGetTheirOwn() throws {
    let cross = try Footprint(shape: [3, 3], mask: [false, true, false, true, true, true, false, true, false])
    let options = FilterOptions(footprint: cross, mode: .reflect, cval: 0, origin: [], axes: nil)
    let clears = TapLayout.tableClears
    let small = try FilterGeometry(inputShape: [5, 7], options: options)
    let large = try FilterGeometry(inputShape: [40, 3], options: FilterOptions(footprint: cross, mode: .constant,
                                                                               cval: 2.5, origin: [1, 0], axes: nil))
    // Shape, mode, cval and origin do not change the taps: one layout (unless a test running alongside filled the
    // table, which then started afresh between the two).
    #expect(small.taps === large.taps || TapLayout.tableClears != clears)
    #expect(small.tapPositions == large.tapPositions)
    #expect(small.tapPositions == naiveTaps(cross, rank: 2, axes: [0, 1]))
    // The same mask over other axes, or in a window of another rank, is another layout.
    let swapped = try FilterGeometry(inputShape: [5, 7], options: FilterOptions(footprint: cross, mode: .reflect, cval: 0,
                                                                                origin: [], axes: [1, 0]))
    let volume = try FilterGeometry(inputShape: [4, 5, 7], options: FilterOptions(footprint: cross, mode: .reflect, cval: 0,
                                                                                  origin: [], axes: [0, 2]))
    #expect(swapped.taps !== small.taps && volume.taps !== small.taps)
    #expect(volume.tapPositions == naiveTaps(cross, rank: 3, axes: [0, 2]))
    #expect(!small.taps.isBox && small.taps.distinctPositions == [3, 3] && !small.taps.isOneRow)
    let row = try FilterGeometry(inputShape: [5, 7], options: FilterOptions(size: [1, 4]))
    #expect(row.taps.isBox && row.taps.isOneRow && row.taps.distinctPositions == [1, 4])
    // A footprint beyond the table's bound is walked per call: the same taps, another layout each time.
    let wide = FilterOptions(size: [65, 65])
    let first = try FilterGeometry(inputShape: [3, 3], options: wide)
    let second = try FilterGeometry(inputShape: [3, 3], options: wide)
    #expect(first.taps !== second.taps && first.tapPositions == second.tapPositions && first.tapPositions.count == 65 * 65)
}

@Test func seededFootprintsGetTheTapsOfTheirDefinitionThroughTheTable() throws {
    let seed = UInt64.random(in: 0...UInt64(UInt32.max))
    print("seededFootprintsGetTheTapsOfTheirDefinitionThroughTheTable seed \(seed)")
    var rng = SplitMix64(seed: seed)
    // More footprints than the table holds (64), each asked for several times in a shuffled order, so that
    // layouts are found, made, dropped with the table and made again.
    var cases: [(Footprint, Int, [Int])] = []
    for _ in 0..<60 {
        let rank = Int(rng.next() % 3) + 1
        let footprintRank = Int(rng.next() % UInt64(rank)) + 1
        let axes = Array((0..<rank).shuffled(using: &rng).prefix(footprintRank))
        let side = Int(rng.next() % 4) + 1
        let shape = (0..<footprintRank).map { _ in rng.next() % 2 == 0 ? side : Int(rng.next() % 4) + 1 }
        var mask = (0..<shape.reduce(1, *)).map { _ in rng.next() % 3 != 0 }
        if !mask.contains(true) { mask[0] = true }
        let footprint = try Footprint(shape: shape, mask: mask)
        cases.append((footprint, rank, axes))
        // The same mask over the same axes in another order: a window of the same shape when the footprint's
        // sides are equal, other taps unless the mask is symmetric.
        if footprintRank >= 2 { cases.append((footprint, rank, axes.reversed())) }
    }
    for round in 0..<4 {
        for (footprint, rank, axes) in cases.shuffled(using: &rng) {
            let geometry = try FilterGeometry(inputShape: Array(repeating: 6, count: rank),
                                              options: FilterOptions(footprint: footprint, mode: .nearest, cval: 0,
                                                                     origin: [], axes: axes))
            let expected = naiveTaps(footprint, rank: rank, axes: axes)
            #expect(geometry.tapPositions == expected,
                    "seed \(seed) round \(round): footprint \(footprint.shape) \(footprint.mask) rank \(rank) axes \(axes)")
            // The layout's analyses are those of its taps, whichever call made it.
            let layout = geometry.taps
            #expect(layout.isBox == WindowReductionJob.isBox(tapPositions: expected))
            #expect(layout.rankNetworkApplies == WindowReductionJob.rankNetworkApplies(tapPositions: expected))
            #expect(layout.distinctPositions == (0..<rank).map { axis in Set(expected.map { $0[axis] }).count })
            #expect(layout.isOneRow == (Set(expected.map { $0.dropLast() }).count == 1))
            #expect(layout.tapPlaces.map(\.position) == expected.map { $0[rank - 1] })
        }
    }
}
