// `@transform` kernels through FilterJIT's interpolating driver: against SciPy's
// geometric_transform fixtures, against the same mapping written as a Swift closure on random
// transforms and thread counts, and hostile kernels.

import Testing
import Foundation
import FilterLang
import NDImage
@testable import FilterJIT

private let interpolationFixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/ndimage/interpolation_cases.json")

private struct TransformFixtures: Decodable {
    struct Array: Decodable {
        let dtype: String
        let shape: [Int]
        let data: [String]

        func makeArray() throws -> NDArray {
            let type = try ElementType.parse(dtype)
            if type.isFloatingPoint {
                return try NDArray.make(shape: shape, elementType: type, values: data.map { Double($0) ?? .nan })
            }
            let array = try NDArray(shape: shape, elementType: type)
            for (i, text) in data.enumerated() {
                let bits = Int64(text) ?? Int64(bitPattern: UInt64(text) ?? 0)
                type.storeInt64Bits(bits, to: array.storage.baseAddress + i * type.itemSize)
            }
            return array
        }

        /// The values as bit patterns (floats) or integer bits, for exact comparison.
        var bits: [Int64] {
            get throws {
                let type = try ElementType.parse(dtype)
                if type == .float32 { return data.map { Int64(Float(Double($0) ?? .nan).bitPattern) } }
                if type == .float64 { return data.map { Int64(bitPattern: (Double($0) ?? .nan).bitPattern) } }
                return data.map { Int64($0) ?? Int64(bitPattern: UInt64($0) ?? 0) }
            }
        }
    }
    struct Case: Decodable {
        let name: String
        let order: Int
        let mode: String
        let cval: String
        let input: Array
        let coordinates: Array
        let expected: Array
    }
    let geometric_transform: [Case]
}

/// An array's elements as comparable bits (NaN payloads included).
private func bits(_ array: NDArray) -> [Int64] {
    switch array.elementType {
    case .float32: return array.doubleValues().map { Int64(Float($0).bitPattern) }
    case .float64: return array.doubleValues().map { Int64(bitPattern: $0.bitPattern) }
    default: return array.int64Bits()
    }
}

private let engine: Engine = {
    do { return try Engine(cacheCapacity: 64) } catch { fatalError("cannot start the engine: \(error)") }
}()

private let shiftSource = """
    @transform
    def shift(out_coords, in_coords, dy=0.5, dx=0.25):
        in_coords[0] = out_coords[0] - dy
        in_coords[1] = out_coords[1] - dx
    """

@Test func shiftKernelMatchesScipyGeometricTransformFixtures() throws {
    let fixtures = try JSONDecoder().decode(TransformFixtures.self, from: Data(contentsOf: interpolationFixtureURL))
    let kernel = try engine.compile(shiftSource)
    let cases = fixtures.geometric_transform.filter { $0.name.hasPrefix("shift") }
    #expect(cases.count == 96)
    var failures: [String] = []
    for c in cases {
        let parameters: [String: Double] = c.name == "shift" ? ["dy": 0.5, "dx": 0.25] : ["dy": -1.5, "dx": 0.75]
        let options = InterpolationOptions(order: c.order, mode: try InterpolationMode.parse(c.mode), cval: Double(c.cval) ?? .nan)
        for threads in [1, 2] {
            let result = try kernel.geometricTransform(try c.input.makeArray(), outputShape: Swift.Array(c.coordinates.shape.dropFirst()),
                                                       options: options, parameters: parameters, threads: threads)
            if try bits(result) != c.expected.bits { failures.append("\(c.name) order \(c.order) \(c.mode) threads \(threads)") }
        }
    }
    #expect(failures.isEmpty, "\(failures.count) failures: \(failures.prefix(10))")
}

@Test func transformKernelEqualsTheSameMappingAsAClosureOnRandomAffineTransforms() throws {
    let kernel = try engine.compile("""
        @transform
        def affine(out_coords, in_coords, a=1.0, b=0.0, c=0.0, d=1.0, ty=0.0, tx=0.0):
            in_coords[0] = a * out_coords[0] + b * out_coords[1] + ty
            in_coords[1] = c * out_coords[0] + d * out_coords[1] + tx
        """)
    var generator = SystemRandomNumberGenerator()
    let types: [ElementType] = [.float64, .float32, .uint8, .int16]
    for trial in 0..<24 {
        let shape = [Int.random(in: 1...19, using: &generator), Int.random(in: 1...23, using: &generator)]
        let type = types[trial % types.count]
        let input = try NDArray.make(shape: shape, elementType: type,
                                     values: (0..<(shape[0] * shape[1])).map { _ in Double(Int.random(in: 0...200, using: &generator)) })
        let p = (0..<6).map { _ in Double.random(in: -2...2, using: &generator) }
        let parameters = ["a": p[0], "b": p[1], "c": p[2], "d": p[3], "ty": p[4] * 5, "tx": p[5] * 5]
        let outputShape = [Int.random(in: 1...25, using: &generator), Int.random(in: 1...25, using: &generator)]
        let mode = InterpolationMode.allCases[trial % InterpolationMode.allCases.count]
        let options = InterpolationOptions(order: trial % 6, mode: mode, cval: 7.5, prefilter: trial % 4 != 3)
        let expected = try NDImage.geometricTransform(input: input, outputShape: outputShape, options: options) { o, c in
            let y = Double(o[0]), x = Double(o[1])
            c[0] = parameters["a"]! * y + parameters["b"]! * x + parameters["ty"]!
            c[1] = parameters["c"]! * y + parameters["d"]! * x + parameters["tx"]!
        }
        for threads in [1, 3] {
            let result = try kernel.geometricTransform(input, outputShape: outputShape, options: options,
                                                       parameters: parameters, threads: threads)
            #expect(bits(result) == bits(expected), "trial \(trial) \(mode) order \(options.order) threads \(threads)")
        }
    }
}

@Test func transformKernelWritingBeyondInCoordinatesFailsNamingTheElementAndLine() throws {
    let kernel = try engine.compile("""
        @transform
        def bad(out_coords, in_coords):
            in_coords[0] = out_coords[0]
            if out_coords[0] == 3:
                in_coords[len(in_coords)] = 1.0
        """)
    let input = try NDArray(shape: [6, 5], elementType: .float64)
    for threads in [1, 2] {
        do {
            _ = try kernel.geometricTransform(input, threads: threads)
            Issue.record("expected a failure")
        } catch let failure as KernelFailure {
            #expect(failure.element == [3, 0])
            #expect(failure.reason.contains("out of range") && failure.reason.contains("line 5"), "\(failure.reason)")
        }
    }
}

@Test func transformKernelsWithNaNOrHugeCoordinatesDoNotCrash() throws {
    let kernel = try engine.compile("""
        @transform
        def wild(out_coords, in_coords, big=1e300):
            in_coords[0] = np.nan if out_coords[0] == 0 else big * out_coords[1]
            in_coords[1] = -big * out_coords[0] + 9.3e18
        """)
    let input = try NDArray.make(shape: [4, 4], elementType: .float64, values: (0..<16).map(Double.init))
    for mode in InterpolationMode.allCases {
        for order in 0...5 {
            let result = try kernel.geometricTransform(input, options: InterpolationOptions(order: order, mode: mode, cval: -1))
            #expect(result.doubleValues().allSatisfy { $0.isNaN || abs($0) < 1e6 })
        }
    }
}

@Test func geometricTransformRefusesOtherKernelKinds() throws {
    let kernel = try engine.compile("min(values)")
    #expect(throws: KernelCallError.self) { try kernel.geometricTransform(try NDArray(shape: [3], elementType: .float64)) }
}

@Test func scipysMappingFormCompilesAndEqualsTheCallbackForm() throws {
    let mapping = try engine.compile("""
        @transform
        def shift(output_coords, dy, dx):
            return (output_coords[0] - dy, output_coords[1] - dx)
        """)
    let callbackForm = try engine.compile(shiftSource)
    #expect(mapping.kind == .transform)
    #expect(mapping.parameters.map(\.name) == ["dy", "dx"])
    #expect(mapping.parameters.allSatisfy { $0.isRequired })
    let input = try NDArray.make(shape: [9, 12], elementType: .float64, values: (0..<108).map { Double($0 * $0 % 17) })
    for order in 0...5 {
        let options = InterpolationOptions(order: order, mode: .reflect)
        let a = try mapping.geometricTransform(input, options: options, parameters: ["dy": 1.25, "dx": -0.5], threads: 2)
        let b = try callbackForm.geometricTransform(input, options: options, parameters: ["dy": 1.25, "dx": -0.5], threads: 1)
        #expect(bits(a) == bits(b))
    }
    // Extra returned coordinates are ignored, as SciPy ignores them.
    let extra = try engine.compile("""
        @transform
        def f(output_coords):
            return (output_coords[0] * 0.5, output_coords[1] * 0.5, 99.0)
        """)
    let coordinates2 = try extra.callTransform(outputCoordinates: [4, 6], inputRank: 2)
    #expect(coordinates2 == [2, 3])
}

@Test func aParameterWithoutDefaultMustBeGiven() throws {
    let mapping = try engine.compile("""
        @transform
        def shift(output_coords, dy, dx=0.0):
            return (output_coords[0] - dy, output_coords[1] - dx)
        """)
    #expect(throws: KernelCallError.missingParameter(kernel: "shift", name: "dy")) {
        try mapping.geometricTransform(try NDArray(shape: [3, 3], elementType: .float64))
    }
    // Through the raw ABI with a NULL user_data the kernel fails and says why.
    let callback = try #require(try mapping.transformCallback)
    var output = [2, 3]
    var coordinates = [0.0, 0.0]
    let status = withExtendedLifetime(mapping) { callback(&output, &coordinates, 2, 2, nil) }
    #expect(status == 0)
    #expect(mapping.lastFailureDescription().contains("parameter 'dy' has no default"))
    // The same holds for filters.
    let threshold = try engine.compile("def above(values, t):\n    return 1.0 if values[0] > t else 0.0\n")
    let above = try threshold.callFilter(values: [0.5], parameters: ["t": 0.25])
    #expect(above == 1)
    #expect(throws: KernelCallError.self) { try threshold.callFilter(values: [0.5]) }
}
