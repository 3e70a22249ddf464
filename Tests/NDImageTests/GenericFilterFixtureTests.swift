import Foundation
import Testing
@testable import NDImage

struct GenericFilterCase: Decodable {
    let id: Int
    let input: EncodedArray
    let layout: String
    let reducer: String
    let mode: String
    let cval: String
    let origin: [Int]
    let output_dtype: String?
    let prealloc: Bool
    let size: [Int]?
    let footprint: EncodedArray?
    let axes: [Int]?
    let expected: EncodedArray
}

struct GenericFilter1DCase: Decodable {
    let id: Int
    let input: EncodedArray
    let kind: String
    let filter_size: Int
    let axis: Int
    let mode: String
    let cval: String
    let origin: Int
    let output_dtype: String?
    let expected: EncodedArray
}

/// Runs one generic_filter fixture; returns a failure description or nil.
func runCase(_ c: GenericFilterCase) throws -> String? {
    let input = try relayout(c.input.makeArray(), c.layout)
    var options = FilterOptions(mode: try BoundaryMode.parse(c.mode), cval: Double(c.cval) ?? .nan,
                                origin: c.origin, axes: c.axes)
    if let fp = c.footprint { options.footprint = try Footprint(array: fp.makeArray()) } else { options.size = c.size }
    let outType = try c.output_dtype.map { try ElementType.parse($0) } ?? input.elementType
    let output: FilterOutput = c.prealloc
        ? .array(try NDArray(shape: input.shape, elementType: outType, order: .fortran))
        : (c.output_dtype == nil ? .sameAsInput : .elementType(outType))
    let result = try genericFilter(input: input, options: options, output: output) { reduce(c.reducer, $0) }
    return try difference(result, c.expected).map { "case \(c.id) (\(c.mode), \(c.reducer), \(c.input.dtype) \(c.input.shape)): \($0)" }
}

@Test func genericFilterMatchesScipyOnEveryFixtureCase() throws {
    let cases = try loadFixture("generic_filter_cases.json", as: [GenericFilterCase].self)
    #expect(cases.count >= 500)
    var failures: [String] = []
    for c in cases {
        do { if let failure = try runCase(c) { failures.append(failure) } }
        catch { failures.append("case \(c.id): threw \(error)") }
    }
    print("generic_filter fixtures: \(cases.count - failures.count)/\(cases.count) bit-identical")
    #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
}

/// A C callback with SciPy's ABI whose user data names the reducer: 0 = weighted sum.
let weightedSumCallback: FilterCallback = { buffer, count, result, _ in
    guard let buffer, let result else { return 0 }
    var s = 0.0
    for j in 0..<count { s += buffer[j] * (1.0 + 0.25 * Double(j)) }
    result.pointee = s
    return 1
}

@Test func cCallbackPathEqualsClosurePathOnWeightedSumFixtures() throws {
    let cases = try loadFixture("generic_filter_cases.json", as: [GenericFilterCase].self).filter { $0.reducer == "wsum" }
    #expect(!cases.isEmpty)
    for c in cases {
        let input = try relayout(c.input.makeArray(), c.layout)
        var options = FilterOptions(mode: try BoundaryMode.parse(c.mode), cval: Double(c.cval) ?? .nan,
                                    origin: c.origin, axes: c.axes)
        if let fp = c.footprint { options.footprint = try Footprint(array: fp.makeArray()) } else { options.size = c.size }
        let output: FilterOutput = try c.output_dtype.map { .elementType(try ElementType.parse($0)) } ?? .sameAsInput
        let result = try genericFilter(input: input, callback: weightedSumCallback, options: options, output: output)
        let failure = try difference(result, c.expected)
        #expect(failure == nil, "case \(c.id): \(failure ?? "")")
    }
}

@Test func genericFilter1DMatchesScipyOnEveryFixtureCase() throws {
    let cases = try loadFixture("generic_filter1d_cases.json", as: [GenericFilter1DCase].self)
    #expect(cases.count >= 80)
    var failures: [String] = []
    for c in cases {
        do {
            let input = try c.input.makeArray()
            let options = LineFilterOptions(filterSize: c.filter_size, axis: c.axis, mode: try BoundaryMode.parse(c.mode),
                                            cval: Double(c.cval) ?? .nan, origin: c.origin)
            let output: FilterOutput = try c.output_dtype.map { .elementType(try ElementType.parse($0)) } ?? .sameAsInput
            let fs = c.filter_size
            let result = try genericFilter1D(input: input, options: options, output: output) { line, out in
                precondition(line.count == out.count + fs - 1)
                for i in 0..<out.count {
                    if c.kind == "wwin" {
                        var s = 0.0
                        for j in 0..<fs { s += line[i + j] * weight(j) }
                        out[i] = s
                    } else {
                        out[i] = line[i] - 2.0 * line[line.count - 1 - i]
                    }
                }
            }
            if let d = try difference(result, c.expected) { failures.append("case \(c.id) (\(c.mode) fs=\(fs)): \(d)") }
        } catch {
            failures.append("case \(c.id): threw \(error)")
        }
    }
    print("generic_filter1d fixtures: \(cases.count - failures.count)/\(cases.count) bit-identical")
    #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(20).joined(separator: "\n"))")
}
