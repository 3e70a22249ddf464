import Foundation
import Testing
@testable import NDImage

/// The fixtures of scripts/make_interpolation_fixtures.py.
struct InterpolationFixtures: Decodable {
    struct SplineCase: Decodable {
        let order: Int
        let mode: String
        let input: EncodedArray
        let expected: EncodedArray
    }
    struct MappingCase: Decodable {
        let name: String?
        let order: Int
        let mode: String
        let cval: String
        let prefilter: Bool
        let input: EncodedArray
        let coordinates: EncodedArray
        let output_dtype: String?
        let expected: EncodedArray?
        let error: String?
        /// Output points where SciPy reads outside its input (not compared).
        let skip: [Int]?

        var options: InterpolationOptions {
            get throws {
                InterpolationOptions(order: order, mode: try InterpolationMode.parse(mode), cval: Double(cval) ?? .nan,
                                     prefilter: prefilter)
            }
        }
        var label: String { "\(name ?? "map") order \(order) \(mode) cval \(cval) prefilter \(prefilter) \(input.dtype)\(input.shape)" }
    }
    let scipy: String
    let spline_filter: [SplineCase]
    let map_coordinates: [MappingCase]
    let geometric_transform: [MappingCase]
}

/// `difference(array, expected)` with the points in `skipped` (C-order flat indices) replaced by the expected values first.
func difference(_ array: NDArray, _ expected: EncodedArray, skipping skipped: Set<Int>) throws -> String? {
    guard !skipped.isEmpty else { return try difference(array, expected) }
    var data = expected.data
    let type = array.elementType
    var got: [String] = []
    if type.isFloatingPoint { got = array.doubleValues().map { "\($0)" } } else { got = array.int64Bits().map { "\($0)" } }
    for index in skipped where index < data.count { data[index] = got[index] }
    let patched = EncodedArray(dtype: expected.dtype, shape: expected.shape, data: data)
    return try difference(array, patched)
}

let interpolationFixtures: InterpolationFixtures? = try? loadFixture("interpolation_cases.json", as: InterpolationFixtures.self)

@Test func splineFilterMatchesScipyBitForBit() throws {
    let fixtures = try #require(interpolationFixtures)
    var failures: [String] = []
    for c in fixtures.spline_filter {
        let result = try splineFilter(c.input.makeArray(), order: c.order, mode: try InterpolationMode.parse(c.mode))
        if let difference = try difference(result, c.expected) {
            failures.append("order \(c.order) \(c.mode) \(c.input.dtype)\(c.input.shape): \(difference)")
        }
    }
    print("spline_filter fixtures: \(fixtures.spline_filter.count - failures.count)/\(fixtures.spline_filter.count) bit-identical")
    #expect(fixtures.spline_filter.count >= 250)
    #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
}

/// Runs every map_coordinates fixture with `threads`, the input in `layout` (C, F or reversed); failures.
func mapCoordinatesFailures(threads: Int, layout: String) throws -> (count: Int, failures: [String]) {
    let fixtures = try #require(interpolationFixtures)
    var failures: [String] = []
    for c in fixtures.map_coordinates {
        let input = try relayout(c.input.makeArray(), layout)
        let outType = try ElementType.parse(c.output_dtype ?? c.input.dtype)
        do {
            let result = try mapCoordinates(input: input, coordinates: c.coordinates.makeArray(),
                                            output: .elementType(outType), options: c.options, threads: threads)
            if let expected = c.expected, let difference = try difference(result, expected, skipping: Set(c.skip ?? [])) {
                failures.append("\(c.label) -> \(outType): \(difference)")
            } else if c.expected == nil {
                failures.append("\(c.label): SciPy raised '\(c.error ?? "")', FilterJIT did not")
            }
        } catch {
            if let message = c.error, "\(error)".contains(message) { continue }
            failures.append("\(c.label): threw \(error)")
        }
    }
    return (fixtures.map_coordinates.count, failures)
}

@Test func mapCoordinatesMatchesScipyOnEveryFixtureCase() throws {
    let (count, failures) = try mapCoordinatesFailures(threads: 1, layout: "C")
    print("map_coordinates fixtures: \(count - failures.count)/\(count) bit-identical")
    #expect(count >= 250)
    #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
}

@Test func mapCoordinatesGivesTheSameBitsForStridedInputsAndThreeThreads() throws {
    for layout in ["F", "reversed"] {
        let (_, failures) = try mapCoordinatesFailures(threads: 3, layout: layout)
        #expect(failures.isEmpty, "\(layout): \(failures.count) failures:\n\(failures.prefix(10).joined(separator: "\n"))")
    }
}

@Test func geometricTransformWithAClosureMappingMatchesScipy() throws {
    let fixtures = try #require(interpolationFixtures)
    var failures: [String] = []
    for c in fixtures.geometric_transform {
        let input = try c.input.makeArray()
        let coordinates = try c.coordinates.makeArray()
        let outputShape = Array(c.coordinates.shape.dropFirst())
        let result = try geometricTransform(input: input, outputShape: outputShape, options: c.options) { index, inputCoordinates in
            for axis in 0..<inputCoordinates.count { inputCoordinates[axis] = coordinates.value(at: [axis] + index)! }
        }
        if let expected = c.expected, let difference = try difference(result, expected) {
            failures.append("\(c.label): \(difference)")
        }
    }
    print("geometric_transform fixtures: \(fixtures.geometric_transform.count - failures.count)/\(fixtures.geometric_transform.count) bit-identical")
    #expect(fixtures.geometric_transform.count >= 300)
    #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
}

@Test func interpolationStoreRoundsHalfAwayFromZeroAndClampsIntegers() throws {
    func stored(_ value: Double, _ type: ElementType) -> Int64 {
        var bits: UInt64 = 0
        withUnsafeMutableBytes(of: &bits) { storeInterpolated(value, as: type, to: $0.baseAddress!) }
        return withUnsafeBytes(of: &bits) { type.loadInt64Bits(from: $0.baseAddress!) }
    }
    #expect(stored(2.5, .uint8) == 3)
    #expect(stored(278.4, .uint8) == 255)
    #expect(stored(-7.6, .uint8) == 0)
    #expect(stored(.nan, .uint8) == 0)
    #expect(stored(-2.5, .int8) == -3)
    #expect(stored(-1000, .int8) == -128)
    #expect(stored(1e300, .int32) == Int64(Int32.max))
}

@Test func interpolationRejectsBadArgumentsWithScipysMessages() throws {
    let input = try NDArray.make(shape: [4], elementType: .float64, values: [1, 2, 3, 4])
    let coordinates = try NDArray.make(shape: [1, 2], elementType: .float64, values: [0.5, 1.5])
    #expect(throws: NDImageError.self) { try mapCoordinates(input: input, coordinates: coordinates, options: InterpolationOptions(order: 6)) }
    #expect(throws: NDImageError.self) { try mapCoordinates(input: input, coordinates: try NDArray(shape: [2, 3], elementType: .float64)) }
    #expect(throws: NDImageError.self) { try InterpolationMode.parse("edge") }
    #expect(throws: NDImageError.self) {
        try geometricTransform(input: input, outputShape: [], options: InterpolationOptions()) { _, _ in }
    }
    let scalar = try NDArray(shape: [], elementType: .float64)
    #expect(throws: NDImageError.self) { try geometricTransform(input: scalar) { _, _ in } }
}

@Test func hostileCoordinatesNeverReadOutsideTheInput() throws {
    // NaN, infinities and coordinates beyond 2^63 in every mode and order: no crash, and NaN or a
    // finite value (SciPy reads outside its buffer for some of these; FilterJIT clamps the tap).
    let input = try NDArray.make(shape: [3, 4], elementType: .float64, values: (0..<12).map(Double.init))
    let specials: [Double] = [.nan, .infinity, -.infinity, 1e300, -1e300, 9.3e18, -9.3e18, 4.6e18, 1e17, -1e17]
    var values: [Double] = []
    for a in specials { for b in specials { values += [a, b] } }
    let coordinates = try NDArray(shape: [2, specials.count * specials.count], elementType: .float64)
    for (i, pair) in stride(from: 0, to: values.count, by: 2).enumerated() {
        coordinates.setValue(values[pair], at: [0, i])
        coordinates.setValue(values[pair + 1], at: [1, i])
    }
    for mode in InterpolationMode.allCases {
        for order in 0...5 {
            for prefilter in [true, false] {
                let result = try mapCoordinates(input: input, coordinates: coordinates,
                                                options: InterpolationOptions(order: order, mode: mode, cval: -1, prefilter: prefilter))
                #expect(result.doubleValues().allSatisfy { $0.isNaN || abs($0) < 1e6 })
            }
        }
    }
}

@Test func transformResultsDoNotDependOnTheThreadCount() throws {
    var generator = SystemRandomNumberGenerator()
    let input = try NDArray.make(shape: [37, 29], elementType: .float32,
                                 values: (0..<(37 * 29)).map { _ in Double.random(in: -5...5, using: &generator) })
    let coordinates = try NDArray.make(shape: [2, 41, 23], elementType: .float64,
                                       values: (0..<(2 * 41 * 23)).map { _ in Double.random(in: -10...45, using: &generator) })
    for mode in InterpolationMode.allCases {
        let options = InterpolationOptions(order: 3, mode: mode, cval: 1.5)
        let one = try mapCoordinates(input: input, coordinates: coordinates, output: .elementType(.float64), options: options, threads: 1)
        let many = try mapCoordinates(input: input, coordinates: coordinates, output: .elementType(.float64), options: options, threads: 4)
        #expect(one.doubleValues().map(\.bitPattern) == many.doubleValues().map(\.bitPattern))
    }
}
