import Foundation
import Testing
@testable import NDImage

/// The reducer a C callback runs, passed through its user data (SciPy's ABI has no closure context).
final class ReducerBox {
    let name: String
    init(_ name: String) { self.name = name }
}

/// A C callback with SciPy's ABI that runs the fixture reducer named by its user data.
let namedReducerCallback: FilterCallback = { buffer, count, result, userData in
    guard let result, let userData else { return 0 }
    let box = Unmanaged<ReducerBox>.fromOpaque(userData).takeUnretainedValue()
    result.pointee = reduce(box.name, UnsafeBufferPointer(start: buffer, count: count))
    return 1
}

/// Runs `body` with user data naming `reducer` for `namedReducerCallback`.
func withReducer<T>(_ reducer: String, _ body: (UnsafeMutableRawPointer) throws -> T) rethrows -> T {
    let box = ReducerBox(reducer)
    return try withExtendedLifetime(box) { try body(Unmanaged.passUnretained(box).toOpaque()) }
}

@Test func cCallbackInPlaceDriverMatchesScipyOnEveryFixtureCase() throws {
    // Every layout (C, Fortran, negative strides), dtype, output dtype and preallocated Fortran
    // output of the SciPy oracle, through the in-place C-callback driver.
    let cases = try loadFixture("generic_filter_cases.json", as: [GenericFilterCase].self)
    #expect(cases.count >= 500)
    var failures: [String] = []
    for c in cases {
        do {
            let input = try relayout(c.input.makeArray(), c.layout)
            var options = FilterOptions(mode: try BoundaryMode.parse(c.mode), cval: Double(c.cval) ?? .nan,
                                        origin: c.origin, axes: c.axes)
            if let fp = c.footprint { options.footprint = try Footprint(array: fp.makeArray()) } else { options.size = c.size }
            let outType = try c.output_dtype.map { try ElementType.parse($0) } ?? input.elementType
            let output: FilterOutput = c.prealloc
                ? .array(try NDArray(shape: input.shape, elementType: outType, order: .fortran))
                : (c.output_dtype == nil ? .sameAsInput : .elementType(outType))
            let result = try withReducer(c.reducer) { userData in
                try genericFilter(input: input, callback: namedReducerCallback, userData: userData,
                                  options: options, output: output)
            }
            if let failure = try difference(result, c.expected) {
                failures.append("case \(c.id) (\(c.layout), \(c.mode), \(c.reducer), \(c.input.dtype)): \(failure)")
            }
        } catch {
            failures.append("case \(c.id): threw \(error)")
        }
    }
    print("generic_filter fixtures through the C callback: \(cases.count - failures.count)/\(cases.count) bit-identical")
    #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
}

@Test func cCallbackWithOutputAliasingTheInputGetsTheResultOfTheOriginalInput() throws {
    let values: [Double] = [5, 1, 4, 2, 8, 7, 3, 9, 0, 6, 2, 5]
    let options = FilterOptions(size: [3, 3], mode: .reflect)
    let input = try NDArray.make(shape: [3, 4], elementType: .float64, values: values)
    let expected = try withReducer("min") { try genericFilter(input: input, callback: namedReducerCallback,
                                                              userData: $0, options: options) }
    let aliased = try NDArray.make(shape: [3, 4], elementType: .float64, values: values)
    _ = try withReducer("min") { try genericFilter(input: aliased, callback: namedReducerCallback, userData: $0,
                                                   options: options, output: .array(aliased)) }
    #expect(aliased.doubleValues() == expected.doubleValues())
    // A reversed view of the same memory is judged to overlap too.
    let again = try NDArray.make(shape: [3, 4], elementType: .float64, values: values)
    let reversedView = try again.reversed(axis: 0)
    _ = try withReducer("min") { try genericFilter(input: again, callback: namedReducerCallback, userData: $0,
                                                   options: options, output: .array(reversedView)) }
    #expect(reversedView.doubleValues() == expected.doubleValues())
}

@Test func cCallbackFailureNamesTheFailingElementInInteriorAndBorder() throws {
    // Fail at a chosen flat index: a border element (0), an interior one (row 2, column 3), the last one.
    let failAt: FilterCallback = { _, _, result, userData in
        guard let result, let userData else { return 0 }
        let state = userData.assumingMemoryBound(to: Int.self)
        state[1] += 1
        result.pointee = 0
        return state[1] - 1 == state[0] ? 0 : 1
    }
    let input = try NDArray(shape: [5, 6], elementType: .float64)
    for target in [0, 2 * 6 + 3, 29] {
        let state = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { state.deallocate() }
        state[0] = target; state[1] = 0
        #expect(throws: NDImageError.callbackFailed(elementIndex: target)) {
            try genericFilter(input: input, callback: failAt, userData: UnsafeMutableRawPointer(state),
                              options: FilterOptions(size: [3, 3]))
        }
    }
}

/// The copying driver (the runner reading a private float64 copy of the input, as it does when the
/// output overlaps it), run directly so that it can be checked on every case, not just aliasing ones.
func copyingDriver(_ input: NDArray, _ options: FilterOptions, _ output: FilterOutput,
                   _ reducer: String) throws -> NDArray {
    let geometry = try FilterGeometry(inputShape: input.shape, options: options)
    let result = try makeOutput(output, shape: input.shape, inputType: input.elementType)
    if input.isEmpty { return result }
    let reduceWindow: (UnsafeMutablePointer<Double>, Int, Int) throws(NDImageError) -> Double = { buffer, count, _ in
        reduce(reducer, UnsafeBufferPointer(start: buffer, count: count))
    }
    try runFilter(geometry: geometry, input: input, result: result, kernel: ClosureKernel(function: reduceWindow),
                  readingACopy: true)
    return result
}

@Test func copyingDriverMatchesScipyOnEveryFixtureCase() throws {
    let cases = try loadFixture("generic_filter_cases.json", as: [GenericFilterCase].self)
    #expect(cases.count >= 500)
    var failures: [String] = []
    for c in cases {
        do {
            let input = try relayout(c.input.makeArray(), c.layout)
            var options = FilterOptions(mode: try BoundaryMode.parse(c.mode), cval: Double(c.cval) ?? .nan,
                                        origin: c.origin, axes: c.axes)
            if let fp = c.footprint { options.footprint = try Footprint(array: fp.makeArray()) } else { options.size = c.size }
            let outType = try c.output_dtype.map { try ElementType.parse($0) } ?? input.elementType
            let output: FilterOutput = c.prealloc
                ? .array(try NDArray(shape: input.shape, elementType: outType, order: .fortran))
                : (c.output_dtype == nil ? .sameAsInput : .elementType(outType))
            let result = try copyingDriver(input, options, output, c.reducer)
            if let failure = try difference(result, c.expected) { failures.append("case \(c.id): \(failure)") }
        } catch {
            failures.append("case \(c.id): threw \(error)")
        }
    }
    print("generic_filter fixtures through the copying driver: \(cases.count - failures.count)/\(cases.count) bit-identical")
    #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
}

/// Whether two arrays hold the same bits (floats by bit pattern, integers exactly).
func sameBits(_ a: NDArray, _ b: NDArray) -> Bool {
    a.elementType == b.elementType && (a.elementType.isFloatingPoint
        ? a.doubleValues().map(\.bitPattern) == b.doubleValues().map(\.bitPattern)
        : a.int64Bits() == b.int64Bits())
}

@Test func seededInPlaceDriversEqualTheCopyingDriverOnViewsAliasesAndEveryElementType() throws {
    let seed = UInt64.random(in: 0...UInt64(UInt32.max))
    print("seededInPlaceDriversEqualTheCopyingDriverOnViewsAliasesAndEveryElementType seed \(seed)")
    var rng = SplitMix64(seed: seed)
    for round in 0..<200 {
        let rank = Int(rng.next() % 3) + 1
        let shape = (0..<rank).map { _ in Int(rng.next() % 7) + 1 }
        let count = shape.reduce(1, *)
        let inType = ElementType.allCases[Int(rng.next() % UInt64(ElementType.allCases.count))]
        let outType = ElementType.allCases[Int(rng.next() % UInt64(ElementType.allCases.count))]
        let values = (0..<count).map { _ in Double(Int(rng.next() % 300) - 100) / (inType.isFloatingPoint ? 4 : 1) }
        var input = try NDArray.make(shape: shape, elementType: inType, values: values)
        if rng.next() % 2 == 0 { input = try input.transposed() }
        if rng.next() % 2 == 0 { input = try input.reversed(axis: 0) }
        let mode = BoundaryMode.allCases[Int(rng.next() % UInt64(BoundaryMode.allCases.count))]
        let sizes = input.shape.map { _ in Int(rng.next() % 5) + 1 }
        var mask = (0..<sizes.reduce(1, *)).map { _ in rng.next() % 4 != 0 }
        if !mask.contains(true) { mask[0] = true }
        let footprint = try Footprint(shape: sizes, mask: mask)
        let origins = sizes.map { s in Int(rng.next() % UInt64(s)) - s / 2 }
        let options = FilterOptions(footprint: footprint, mode: mode, cval: 2.5, origin: origins)
        let reducer = ["wsum", "min", "max", "seqsum"][Int(rng.next() % 4)]
        let viaClosure = try genericFilter(input: input, options: options, output: .elementType(outType)) {
            reduce(reducer, $0)
        }
        let viaCallback = try withReducer(reducer) {
            try genericFilter(input: input, callback: namedReducerCallback, userData: $0, options: options,
                              output: .elementType(outType))
        }
        let viaCopy = try copyingDriver(input, options, .elementType(outType), reducer)
        let context = "seed \(seed) round \(round): \(inType)->\(outType) shape \(input.shape) sizes \(sizes) \(mode) \(reducer)"
        #expect(sameBits(viaClosure, viaCopy), "closure: \(context)")
        #expect(sameBits(viaCallback, viaCopy), "C callback: \(context)")
        // Writing over the input itself takes the copying path through the public entry point.
        let aliased = try input.cContiguousCopy()
        _ = try withReducer(reducer) {
            try genericFilter(input: aliased, callback: namedReducerCallback, userData: $0, options: options,
                              output: .array(aliased))
        }
        let expectedSameType = try copyingDriver(input, options, .sameAsInput, reducer)
        #expect(sameBits(aliased, expectedSameType), "aliased output: \(context)")
    }
}
