import Foundation
import Testing
@testable import NDImage

/// The plain definition of generic_filter (spec 1.2, 1.3, 2.1) with the intended `axes` meaning:
/// for every output index and every true footprint entry in C order of the full-rank footprint,
/// read `index + k - centre` mapped through the mode. No tables, no fast paths.
func naiveGenericFilter(_ input: NDArray, _ footprint: Footprint, axes: [Int], origin: [Int], mode: BoundaryMode,
                        cval: Double, _ function: ([Double]) -> Double) -> [Double] {
    let rank = input.rank
    var window = Array(repeating: 1, count: rank), shift = Array(repeating: 0, count: rank)
    for (i, axis) in axes.enumerated() { window[axis] = footprint.shape[i]; shift[axis] = origin[i] }
    let values = input.doubleValues()
    func flatIndices(_ shape: [Int]) -> [[Int]] {
        var all: [[Int]] = [[]]
        for length in shape { all = all.flatMap { prefix in (0..<length).map { prefix + [$0] } } }
        return all
    }
    var footprintStrides = Array(repeating: 1, count: footprint.rank)
    for i in stride(from: footprint.rank - 2, through: 0, by: -1) { footprintStrides[i] = footprintStrides[i + 1] * footprint.shape[i + 1] }
    var result: [Double] = []
    for index in flatIndices(input.shape) {
        var buffer: [Double] = []
        for k in flatIndices(window) {
            let flat = axes.enumerated().reduce(0) { $0 + k[$1.element] * footprintStrides[$1.offset] }
            guard footprint.mask[flat] else { continue }
            var source = 0
            var outside = false
            for d in 0..<rank {
                guard let mapped = mode.mapIndex(index[d] + k[d] - (window[d] / 2 + shift[d]), length: input.shape[d]) else {
                    outside = true
                    break
                }
                source = source * input.shape[d] + mapped
            }
            buffer.append(outside ? cval : values[source])
        }
        result.append(function(buffer))
    }
    return result
}

@Test func seededRandomConfigurationsEqualTheNaiveDefinition() throws {
    let seed = UInt64.random(in: 0...UInt64(UInt32.max))
    print("seededRandomConfigurationsEqualTheNaiveDefinition seed \(seed)")
    var rng = SplitMix64(seed: seed)
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    for round in 0..<250 {
        let rank = 1 + below(3)
        let shape = (0..<rank).map { _ in 1 + below(4) }
        let count = shape.reduce(1, *)
        let input = try NDArray.make(shape: shape, elementType: .float64, values: (0..<count).map { _ in Double(below(50)) - 10 })
        // Axes: a random subset in a random order (the intended meaning, not SciPy's gh-22576 quirk).
        var axes = Array(0..<rank).shuffled(using: &rng)
        axes = Array(axes.prefix(1 + below(rank)))
        let fshape = axes.map { _ in below(5) == 0 ? 6 + below(12) : 1 + below(5) }  // sometimes far wider than the array
        let fcount = fshape.reduce(1, *)
        let footprint = try Footprint(shape: fshape, mask: (0..<fcount).map { _ in below(4) != 0 })
        let origin = fshape.map { s in -(s / 2) + below(s) }
        let mode = BoundaryMode.allCases[below(8)]
        let given = axes.map { axis in below(2) == 0 ? axis : axis - rank }  // negative spellings too
        let options = FilterOptions(footprint: footprint, mode: mode, cval: -99, origin: origin, axes: given)
        let weighted: ([Double]) -> Double = { b in b.enumerated().reduce(0.0) { $0 + $1.element * weight($1.offset) } }
        let got = try genericFilter(input: input, options: options, output: .elementType(.float64)) { weighted(Array($0)) }
        let want = naiveGenericFilter(input, footprint, axes: axes, origin: origin, mode: mode, cval: -99, weighted)
        #expect(got.doubleValues() == want,
                "seed \(seed) round \(round): shape \(shape) axes \(given) footprint \(fshape) origin \(origin) \(mode)")
    }
}
