import Foundation
import Testing
import RankKernelsC
@testable import NDImage

/// Runs generic_filter on a 1-D float64 array and returns the buffers passed to the function.
func windows(_ values: [Double], _ options: FilterOptions) throws -> [[Double]] {
    let input = try NDArray.make(shape: [values.count], elementType: .float64, values: values)
    var seen: [[Double]] = []
    _ = try genericFilter(input: input, options: options) { buffer in
        seen.append(Array(buffer))
        return 0
    }
    return seen
}

@Test func windowPositionFollowsScipysOriginTable() throws {
    // Spec 1.2: buffers at i = 3 of arange(7).
    let table: [(Int, Int, [Double])] = [
        (3, -1, [3, 4, 5]), (3, 0, [2, 3, 4]), (3, 1, [1, 2, 3]), (2, -1, [3, 4]), (2, 0, [2, 3]),
        (4, -2, [3, 4, 5, 6]), (4, -1, [2, 3, 4, 5]), (4, 0, [1, 2, 3, 4]), (4, 1, [0, 1, 2, 3]), (1, 0, [3]),
    ]
    for (size, origin, expected) in table {
        let seen = try windows((0..<7).map(Double.init), FilterOptions(size: [size], origin: [origin]))
        #expect(seen[3] == expected, "size \(size) origin \(origin)")
    }
}

@Test func holedFootprintBufferIsInCOrderOfTrueEntries() throws {
    let input = try NDArray.make(shape: [5, 5], elementType: .float64, values: (0..<25).map(Double.init))
    let footprint = try Footprint(shape: [3, 3], mask: [true, false, true, false, true, false, true, true, false])
    var seen: [[Double]] = []
    _ = try genericFilter(input: input, options: FilterOptions(footprint: footprint)) { seen.append(Array($0)); return 0 }
    #expect(seen[12] == [6, 8, 12, 16, 17])
}

@Test func boundaryModesExtendAsSpecTableSaysAtAnyDistance() throws {
    // Spec 2.1: [1 2 3 4] extended by 3 each side.
    let expected: [BoundaryMode: [Double]] = [
        .reflect: [3, 2, 1, 1, 2, 3, 4, 4, 3, 2], .gridMirror: [3, 2, 1, 1, 2, 3, 4, 4, 3, 2],
        .mirror: [4, 3, 2, 1, 2, 3, 4, 3, 2, 1], .nearest: [1, 1, 1, 1, 2, 3, 4, 4, 4, 4],
        .wrap: [2, 3, 4, 1, 2, 3, 4, 1, 2, 3], .gridWrap: [2, 3, 4, 1, 2, 3, 4, 1, 2, 3],
        .constant: [9, 9, 9, 1, 2, 3, 4, 9, 9, 9], .gridConstant: [9, 9, 9, 1, 2, 3, 4, 9, 9, 9],
    ]
    for (mode, row) in expected {
        let got = (-3...6).map { j in mode.mapIndex(j, length: 4).map { Double($0 + 1) } ?? 9 }
        #expect(got == row, "\(mode)")
    }
    // Spec 2.2: size 7 on [1 2], buffers at i = 0 and 1.
    let wide: [BoundaryMode: [[Double]]] = [
        .reflect: [[2, 2, 1, 1, 2, 2, 1], [2, 1, 1, 2, 2, 1, 1]],
        .mirror: [[2, 1, 2, 1, 2, 1, 2], [1, 2, 1, 2, 1, 2, 1]],
        .wrap: [[2, 1, 2, 1, 2, 1, 2], [1, 2, 1, 2, 1, 2, 1]],
        .nearest: [[1, 1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2, 2]],
        .constant: [[-5, -5, -5, 1, 2, -5, -5], [-5, -5, 1, 2, -5, -5, -5]],
    ]
    for (mode, rows) in wide {
        #expect(try windows([1, 2], FilterOptions(size: [7], mode: mode, cval: -5)) == rows, "\(mode)")
    }
}

@Test func veryWideReflectWindowUsesThePeriodicRuleNotScipysOutOfBoundsRead() throws {
    // SciPy bug 2.4: size 13, origin 6 on [1, 2] reads before the array for j = -4n.
    let seen = try windows([1, 2], FilterOptions(size: [13], mode: .reflect, origin: [6]))
    let expected = (0..<13).map { k in Double(BoundaryMode.reflect.mapIndex(0 + k - 12, length: 2)! + 1) }
    #expect(seen[0] == expected)
    #expect(seen[0].allSatisfy { $0 == 1 || $0 == 2 })
}

@Test func outputAliasingTheInputGivesTheCorrectResult() throws {
    let x = try NDArray.make(shape: [6], elementType: .float64, values: (0..<6).map(Double.init))
    let result = try genericFilter(input: x, options: FilterOptions(size: [3]), output: .array(x)) { numpySum($0) }
    #expect(result === x)
    #expect(x.doubleValues() == [1, 3, 6, 9, 12, 14])
}

@Test func cCallbackFailureStopsAtOnceAndNamesTheElement() throws {
    let input = try NDArray.make(shape: [2, 3], elementType: .float64, values: [1, 2, 3, 4, 5, 6])
    var calls = 0
    let failOnThird: FilterCallback = { _, _, result, userData in
        let counter = userData!.assumingMemoryBound(to: Int.self)
        counter.pointee += 1
        result?.pointee = 0
        return counter.pointee == 3 ? 0 : 1
    }
    #expect(throws: NDImageError.callbackFailed(elementIndex: 2)) {
        try withUnsafeMutablePointer(to: &calls) { counter in
            try genericFilter(input: input, callback: failOnThird, userData: UnsafeMutableRawPointer(counter),
                              options: FilterOptions(size: [3]))
        }
    }
    #expect(calls == 3)
    let lineFail: LineFilterCallback = { _, _, _, _, _ in 0 }
    #expect(throws: NDImageError.callbackFailed(elementIndex: 0)) {
        try genericFilter1D(input: input, callback: lineFail, options: LineFilterOptions(filterSize: 3))
    }
}

@Test func degenerateInputsBehaveAsScipy() throws {
    let scalar = try NDArray.make(shape: [], elementType: .float64, values: [5])
    var seen: [[Double]] = []
    _ = try genericFilter(input: scalar, options: FilterOptions(size: [3])) { seen.append(Array($0)); return 1 }
    #expect(seen == [[5]])
    let empty = try NDArray(shape: [0, 4], elementType: .uint8)
    let out = try genericFilter(input: empty, options: FilterOptions(size: [3]), output: .elementType(.float32)) { _ in
        Issue.record("called on an empty array")
        return 0
    }
    #expect(out.shape == [0, 4] && out.elementType == .float32)
    let none = try Footprint(shape: [3], mask: [false, false, false])
    seen = []
    _ = try genericFilter(input: try NDArray.make(shape: [2], elementType: .int8, values: [1, 2]),
                          options: FilterOptions(footprint: none)) { seen.append(Array($0)); return 0 }
    #expect(seen == [[], []])
    #expect(throws: NDImageError.self) { try genericFilter1D(input: scalar, options: LineFilterOptions(filterSize: 1)) { _, _ in } }
}

@Test func storesFollowScipysCastingRules() throws {
    // Spec 1.4 examples.
    let cases: [(ElementType, Double, Int64)] = [
        (.int8, 2.7, 2), (.int8, -2.7, -2), (.uint8, -3.7, 253), (.uint16, -300, 65236), (.bool, 2.7, 2),
        (.bool, 0.5, 0), (.uint8, 300, 44), (.int8, 255.9, -1), (.uint8, 1e10, 0), (.uint8, .nan, 0),
        (.int32, 1e10, Int64(Int32.min)), (.int64, .nan, Int64.min), (.uint32, 1e10, 1410065408), (.uint8, -0.5, 0),
    ]
    for (type, value, expected) in cases {
        let array = try NDArray.make(shape: [1], elementType: type, values: [value])
        #expect(array.int64Bits() == [expected], "\(type) \(value)")
    }
}

@Test func argumentErrorsCarryScipysMessages() throws {
    let input = try NDArray(shape: [4, 5], elementType: .float64)
    func message(_ options: FilterOptions, output: FilterOutput = .sameAsInput) -> String {
        do { _ = try genericFilter(input: input, options: options, output: output) { _ in 0 }; return "" }
        catch { return error.description }
    }
    #expect(message(FilterOptions(size: [3], origin: [2])).contains("invalid origin"))
    #expect(message(FilterOptions(size: [4], origin: [-3])).contains("invalid origin"))
    #expect(message(FilterOptions(size: [3, 3, 3])).contains("sequence argument must have length equal to input rank"))
    #expect(message(FilterOptions(size: [3], origin: [0, 0, 0])).contains("sequence argument"))
    #expect(message(FilterOptions()).contains("no footprint or filter size provided"))
    #expect(message(FilterOptions(size: [0])).contains("invalid filter size 0: sizes must be positive"))
    #expect(message(FilterOptions(footprint: try .cross(rank: 3))).contains("footprint.ndim (3) must match len(axes) (2)"))
    #expect(message(FilterOptions(size: [3], axes: [0, -2])).contains("axes must be unique"))
    #expect(message(FilterOptions(size: [3], axes: [2])).contains("out of bounds"))
    #expect(message(FilterOptions(size: [3]), output: .array(try NDArray(shape: [5, 4], elementType: .float64)))
        .contains("output shape not correct"))
    #expect(throws: NDImageError.self) { try BoundaryMode.parse("reflective") }
    #expect(throws: NDImageError.self) {
        try genericFilter1D(input: input, options: LineFilterOptions(filterSize: 0)) { _, _ in }
    }
    #expect(throws: NDImageError.self) {
        try genericFilter1D(input: input, options: LineFilterOptions(filterSize: 3, origin: 2)) { _, _ in }
    }
    #expect(throws: NDImageError.self) {
        try genericFilter1D(input: input, options: LineFilterOptions(filterSize: 3, axis: 2)) { _, _ in }
    }
    #expect(FilterOptions(size: [3], footprint: try .box(rank: 2)).ignoredSizeWarning == "ignoring size because footprint is set")
}

@Test func axesInAnyOrderAndNegativeScalarAxesMeanWhatTheySay() throws {
    let values = (0..<12).map(Double.init)
    let input = try NDArray.make(shape: [3, 4], elementType: .float64, values: values)
    // Footprint dimension i belongs to axes[i]: a (1, 3) footprint on axes (1, 0) is 3 long on axis 0.
    let fp = try Footprint(size: [1, 3])
    let swapped = try genericFilter(input: input, options: FilterOptions(footprint: fp, axes: [1, 0])) { numpySum($0) }
    let direct = try genericFilter(input: input, options: FilterOptions(size: [3, 1])) { numpySum($0) }
    #expect(swapped.doubleValues() == direct.doubleValues())
    let negative = try genericFilter(input: input, options: FilterOptions(size: [3], axes: [-1])) { numpySum($0) }
    let last = try genericFilter(input: input, options: FilterOptions(size: [1, 3])) { numpySum($0) }
    #expect(negative.doubleValues() == last.doubleValues())
}

@Test func seededRandomFiltersOnViewsEqualFiltersOnCContiguousCopies() throws {
    let seed = UInt64.random(in: 0...UInt64(UInt32.max))
    print("seededRandomFiltersOnViewsEqualFiltersOnCContiguousCopies seed \(seed)")
    var rng = SplitMix64(seed: seed)
    for _ in 0..<60 {
        let rank = Int(rng.next() % 3) + 1
        let shape = (0..<rank).map { _ in Int(rng.next() % 5) + 1 }
        let count = shape.reduce(1, *)
        let base = try NDArray.make(shape: shape, elementType: .float64, values: (0..<count).map { _ in Double(rng.next() % 100) })
        let view = try base.transposed().reversed(axis: 0)
        let copy = try view.cContiguousCopy()
        let mode = BoundaryMode.allCases[Int(rng.next() % 8)]
        let sizes = (0..<rank).map { _ in Int(rng.next() % 6) + 1 }
        let options = FilterOptions(size: sizes, mode: mode, cval: 3.5)
        let a = try genericFilter(input: view, options: options) { reduce("wsum", $0) }
        let b = try genericFilter(input: copy, options: options) { reduce("wsum", $0) }
        #expect(a.doubleValues() == b.doubleValues(), "seed \(seed) shape \(shape) sizes \(sizes) \(mode)")
    }
}

/// A tiny seeded generator (SplitMix64) so fuzz failures can be replayed from the printed seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Test func footprintHelpersMatchScipy() throws {
    #expect(try Footprint.cross(rank: 2).mask == [false, true, false, true, true, true, false, true, false])
    #expect(try Footprint.cross(rank: 3).trueCount == 7)
    #expect(try Footprint.box(rank: 2).trueCount == 9)
    let numeric = try NDArray.make(shape: [3], elementType: .int8, values: [2, 0, -1])
    #expect(try Footprint(array: numeric).mask == [true, false, true])
}

@Test func optionStringsParseWithClearErrors() throws {
    #expect(try OptionParsing.integerList("3,5") == [3, 5])
    #expect(try OptionParsing.integerList("-1, 0") == [-1, 0])
    #expect(try OptionParsing.shape("2048x2048") == [2048, 2048])
    #expect(try OptionParsing.shape("128X128x128") == [128, 128, 128])
    #expect(try OptionParsing.double("nan").isNaN)
    #expect(try OptionParsing.double("-inf") == -.infinity)
    #expect(try ElementType.parse("uint16") == .uint16)
    #expect(try BoundaryMode.parse("grid-wrap") == .gridWrap)
    #expect(throws: NDImageError.self) { try OptionParsing.integerList("3,,5") }
    #expect(throws: NDImageError.self) { try OptionParsing.shape("2048x-1") }
    #expect(throws: NDImageError.self) { try OptionParsing.shape("99999999999x99999999999") }
    #expect(throws: NDImageError.self) { try ElementType.parse("complex128") }
    #expect(throws: NDImageError.self) { try OptionParsing.double("abc") }
}

@Test func impossibleSizesAreErrorsBeforeAnyWork() {
    #expect(throws: NDImageError.self) { try NDArray(shape: [Int.max, 2], elementType: .uint8) }
    #expect(throws: NDImageError.self) { try NDArray(shape: [1 << 40, 1 << 20], elementType: .float64) }
    #expect(throws: NDImageError.self) { try NDArray(shape: [1 << 47], elementType: .float64) }
    #expect(throws: NDImageError.self) { try NDArray(shape: [-1], elementType: .float64) }
}

@Test func windowsFarWiderThanTheImageNeedOnlyLinearPlanningMemory() throws {
    // A 1 x 400001 window on a 3 x 5 image: index tables are n + window - 1 long, not n * window.
    let input = try NDArray.make(shape: [3, 5], elementType: .float64, values: (0..<15).map(Double.init))
    let fp = try Footprint(shape: [1, 400_001], mask: (0..<400_001).map { $0 % 100_000 == 0 })
    var sizes: Set<Int> = []
    let out = try genericFilter(input: input, options: FilterOptions(footprint: fp, mode: .wrap)) { b in
        sizes.insert(b.count)
        return b.reduce(0, +)
    }
    #expect(sizes == [5])
    // Taps at offsets -200000, -100000, 0, 100000, 200000 all wrap to the centre column (period 5).
    #expect(out.doubleValues() == (0..<15).map { Double($0) * 5 })
}

@Test func automaticThreadCountGivesSmallRunsOneThreadAndHonoursAnExplicitCount() {
    // A run too small to repay waking a worker stays on the calling thread; one with enough work for every
    // core gets them all; a count the caller gave is used as given, however small the run.
    #expect(RowThreads.count(nil, work: 0) == 1)
    #expect(RowThreads.count(nil, work: 1.9 * RowThreads.minimumNanosecondsPerThread) == 1)
    #expect(RowThreads.count(nil, work: 2 * RowThreads.minimumNanosecondsPerThread) == min(2, RowThreads.processorCount))
    #expect(RowThreads.count(nil, work: 1e12) == RowThreads.processorCount)
    #expect(RowThreads.count(nil, work: .infinity) == RowThreads.processorCount)
    #expect(RowThreads.count(3, work: 0) == 3)
    #expect(RowThreads.count(1, work: 1e12) == 1)
}

@Test func contiguousLinesLoadAndStoreEveryTypeAsTheElementCastsDo() throws {
    // The line driver converts contiguous lines in loops of their own type: they must give `loadDouble`'s
    // values and `storeDouble`'s bytes (SciPy's x86-64 C casts), out-of-range values and NaN included.
    let specials: [Double] = [.nan, .infinity, -.infinity, 1e10, -1e10, -3.7, -0.5, -1.5, 300.5, 70000.2, 2147483648,
                              -2147483649, 255.9, -128.2, 0, -0.0, 65535.4, 4294967296.5, -32769, 127.5, 1e300]
    let count = specials.count
    for type in ElementType.allCases {
        let zeros = try NDArray.make(shape: [2, count], elementType: .float64, values: [Double](repeating: 0, count: 2 * count))
        let stored = try genericFilter1D(input: zeros, options: LineFilterOptions(filterSize: 1), output: .elementType(type)) { _, out in
            for i in 0..<out.count { out[i] = specials[i] }
        }
        let expected = try NDArray.make(shape: [2, count], elementType: type, values: specials + specials)
        #expect(memcmp(stored.firstElementPointer, expected.firstElementPointer, 2 * count * type.itemSize) == 0, "stores into \(type)")
        let loaded = try genericFilter1D(input: expected, options: LineFilterOptions(filterSize: 1), output: .elementType(.float64)) { line, out in
            for i in 0..<out.count { out[i] = line[i] }
        }
        let values = (0..<(2 * count)).map { type.loadDouble(from: expected.firstElementPointer + $0 * type.itemSize).bitPattern }
        #expect(loaded.doubleValues().map(\.bitPattern) == values, "loads from \(type)")
    }
}

@Test func neighbouringLinesLoadAndStoreEveryTypeAsTheElementCastsDo() throws {
    // Lines along an axis other than the last are read and written eight neighbours at a time, in loops of the
    // element's own type: `loadDouble`'s values and `storeDouble`'s bytes, as for contiguous lines. Element
    // [i, c] holds specials[(i + c) % count], so every line differs; 11 lines make a group of eight and one of three.
    let specials: [Double] = [.nan, .infinity, -.infinity, 1e10, -1e10, -3.7, -0.5, -1.5, 300.5, 70000.2, 2147483648,
                              -2147483649, 255.9, -128.2, 0, -0.0, 65535.4, 4294967296.5, -32769, 127.5, 1e300]
    let count = specials.count, width = 11
    let values = (0..<count).flatMap { i in (0..<width).map { c in specials[(i + c) % count] } }
    let options = LineFilterOptions(filterSize: 1, axis: 0)
    let source = try NDArray.make(shape: [count, width], elementType: .float64, values: values)
    // Float groups of eight take the AVX2 transposes where the CPU has AVX2 (include/line_groups.h); both ways.
    defer { filterjit_line_groups_set_avx2(-1) }
    for (type, avx2) in ElementType.allCases.map({ ($0, -1) }) + [(.float32, 1), (.float64, 1), (.float32, 0), (.float64, 0)] {
        filterjit_line_groups_set_avx2(Int32(avx2))
        let stored = try genericFilter1D(input: source, options: options, output: .elementType(type)) { line, out in
            for i in 0..<out.count { out[i] = line[i] }
        }
        let expected = try NDArray.make(shape: [count, width], elementType: type, values: values)
        #expect(memcmp(stored.firstElementPointer, expected.firstElementPointer, count * width * type.itemSize) == 0,
                "stores into \(type), AVX2 \(avx2)")
        let loaded = try genericFilter1D(input: expected, options: options, output: .elementType(.float64)) { line, out in
            for i in 0..<out.count { out[i] = line[i] }
        }
        let read = (0..<(count * width)).map { type.loadDouble(from: expected.firstElementPointer + $0 * type.itemSize).bitPattern }
        #expect(loaded.doubleValues().map(\.bitPattern) == read, "loads from \(type), AVX2 \(avx2)")
    }
}
