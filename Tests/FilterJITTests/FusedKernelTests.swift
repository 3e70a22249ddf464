// The fused engine against the callback engine (and so against SciPy): the NDImage SciPy fixtures
// written as filter programs, seeded random (kernel, element type, footprint, mode, origin)
// combinations for 1, 2 and 3 threads, the signature cache, and failures.

import Testing
import Foundation
import FilterLang
import FilterCodegen
import NDImage
@testable import FilterJIT

// MARK: - Fixture support (the format of Tests/Fixtures/ndimage, see NDImageTests/FixtureSupport.swift)

private let ndimageFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/ndimage")

private struct FixtureArray: Decodable {
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
            let address = array.storage.baseAddress + i * type.itemSize
            // A bool output holds raw bytes (SciPy stores 2.7 as the byte 2), so keep them.
            if type == .bool { address.storeBytes(of: UInt8(truncatingIfNeeded: bits), as: UInt8.self) }
            else { type.storeInt64Bits(bits, to: address) }
        }
        return array
    }
}

private struct FilterFixture: Decodable {
    let id: Int
    let input: FixtureArray
    let layout: String
    let reducer: String
    let mode: String
    let cval: String
    let origin: [Int]
    let output_dtype: String?
    let prealloc: Bool
    let size: [Int]?
    let footprint: FixtureArray?
    let axes: [Int]?
    let expected: FixtureArray
}

private struct LineFixture: Decodable {
    let id: Int
    let input: FixtureArray
    let kind: String
    let filter_size: Int
    let axis: Int
    let mode: String
    let cval: String
    let origin: Int
    let output_dtype: String?
    let expected: FixtureArray
}

private func loadFixtures<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(contentsOf: ndimageFixtures.appendingPathComponent(name)))
}

/// The fixture reducers as filter programs (their arithmetic is the fixture script's).
private let reducerPrograms: [String: String] = [
    "min": "np.min(values)",
    "max": "np.max(values)",
    "median": "np.median(values)",
    "seqsum": "sum(values)",
    "npsum": "np.sum(values)",
    "wsum": """
        def wsum(values):
            s = 0.0
            for j in range(len(values)):
                s += values[j] * (1.0 + 0.25 * j)
            return s
        """,
]

private let linePrograms: [String: String] = [
    "wwin": """
        @line_filter
        def wwin(line, out):
            fs = len(line) - len(out) + 1
            for i in range(len(out)):
                s = 0.0
                for j in range(fs):
                    s += line[i + j] * (1.0 + 0.25 * j)
                out[i] = s
        """,
    "ends": """
        @line_filter
        def ends(line, out):
            for i in range(len(out)):
                out[i] = line[i] - 2.0 * line[len(line) - 1 - i]
        """,
]

/// Same shape, type and bits (NaN equals NaN; bool and integers by their bytes).
func firstDifference(_ a: NDArray, _ b: NDArray) -> String? {
    guard a.elementType == b.elementType else { return "type \(a.elementType) != \(b.elementType)" }
    guard a.shape == b.shape else { return "shape \(a.shape) != \(b.shape)" }
    if a.elementType.isFloatingPoint {
        let x = a.doubleValues(), y = b.doubleValues()
        for i in x.indices where !(x[i].isNaN && y[i].isNaN) && x[i].bitPattern != y[i].bitPattern {
            return "element \(i): \(x[i]) != \(y[i])"
        }
    } else {
        let x = a.int64Bits(), y = b.int64Bits()
        for i in x.indices where x[i] != y[i] { return "element \(i): \(x[i]) != \(y[i])" }
    }
    return nil
}

/// The outcome of a run: the array, or the error's text.
enum Outcome {
    case array(NDArray)
    case failure(String)

    init(_ body: () throws -> NDArray) {
        do { self = .array(try body()) } catch { self = .failure("\(error)") }
    }

    func difference(from other: Outcome) -> String? {
        switch (self, other) {
        case (.array(let a), .array(let b)): return firstDifference(a, b)
        case (.failure(let a), .failure(let b)): return a == b ? nil : "errors differ: \(a) | \(b)"
        case (.array, .failure(let b)): return "only the other failed: \(b)"
        case (.failure(let a), .array): return "only this failed: \(a)"
        }
    }
}

/// Copies element bits in logical C order between arrays of one type and shape.
func copyLogically(from source: NDArray, to destination: NDArray) {
    var offsets: [Int] = []
    destination.forEachElementOffset { offsets.append($0) }
    var k = 0
    source.forEachElementOffset {
        (destination.firstElementPointer + offsets[k]).copyMemory(from: source.firstElementPointer + $0,
                                                                  byteCount: source.elementType.itemSize)
        k += 1
    }
}

/// The same values in a view whose axis 0 has a negative stride.
func reversedView(_ array: NDArray) throws -> NDArray {
    let flipped = try NDArray(shape: array.shape, elementType: array.elementType)
    let view = try flipped.reversed(axis: 0)
    copyLogically(from: array, to: view)
    return view
}

@Suite(.serialized) struct FusedKernelTests {
    let engine: Engine

    init() throws { engine = try Engine() }

    @Test func fusedEqualsCallbackAndScipyOnTheNDImageFixtures() throws {
        guard frontEndAvailable else { return }
        let cases = try loadFixtures("generic_filter_cases.json", as: [FilterFixture].self)
        #expect(cases.count >= 500)
        var kernels: [String: Kernel] = [:]
        for (name, source) in reducerPrograms { kernels[name] = try engine.compile(source) }
        var problems: [String] = []
        var scipyEqual = 0
        var scipyOther: [String] = []
        for c in cases {
            guard let kernel = kernels[c.reducer] else { problems.append("case \(c.id): no program for \(c.reducer)"); continue }
            var input = try c.input.makeArray()
            if c.layout == "F" {
                let copy = try NDArray(shape: input.shape, elementType: input.elementType, order: .fortran)
                copyLogically(from: input, to: copy)
                input = copy
            } else if c.layout == "reversed" {
                input = try reversedView(input)
            }
            var options = FilterOptions(mode: try BoundaryMode.parse(c.mode), cval: Double(c.cval) ?? .nan,
                                        origin: c.origin, axes: c.axes)
            if let fp = c.footprint { options.footprint = try Footprint(array: fp.makeArray()) } else { options.size = c.size }
            let outType = try c.output_dtype.map { try ElementType.parse($0) } ?? input.elementType
            // A preallocated output is Fortran-ordered (strided writes), fresh for every run.
            func output() throws -> FilterOutput {
                c.prealloc ? .array(try NDArray(shape: input.shape, elementType: outType, order: .fortran))
                    : (c.output_dtype == nil ? .sameAsInput : .elementType(outType))
            }
            let callback = Outcome { try kernel.genericFilter(input, options: options, output: output(), engine: .callback) }
            for threads in [1, 2, 3] {
                let fused = Outcome { try kernel.genericFilter(input, options: options, output: output(), engine: .fused, threads: threads) }
                if let d = fused.difference(from: callback) {
                    problems.append("case \(c.id) (\(c.reducer), \(c.mode), \(c.input.dtype) \(c.input.shape), threads \(threads)): \(d)")
                }
            }
            if case .array(let result) = callback, let expected = try? c.expected.makeArray(),
               firstDifference(result, expected) == nil { scipyEqual += 1 } else { scipyOther.append("\(c.id):\(c.reducer)") }
        }
        print("fused vs callback on \(cases.count) ndimage fixtures x 3 thread counts: \(problems.count) differences; callback equals SciPy on \(scipyEqual) (not on \(scipyOther.joined(separator: " ")))")
        #expect(problems.isEmpty, "\(problems.count) differences:\n\(problems.prefix(15).joined(separator: "\n"))")
        #expect(scipyEqual == cases.count)
    }

    @Test func fusedLineFilterEqualsCallbackOnTheNDImageFixtures() throws {
        guard frontEndAvailable else { return }
        let cases = try loadFixtures("generic_filter1d_cases.json", as: [LineFixture].self)
        var kernels: [String: Kernel] = [:]
        for (name, source) in linePrograms { kernels[name] = try engine.compile(source) }
        var problems: [String] = []
        for c in cases {
            guard let kernel = kernels[c.kind] else { continue }
            let input = try c.input.makeArray()
            let options = LineFilterOptions(filterSize: c.filter_size, axis: c.axis, mode: try BoundaryMode.parse(c.mode),
                                            cval: Double(c.cval) ?? .nan, origin: c.origin)
            let output: FilterOutput = try c.output_dtype.map { .elementType(try ElementType.parse($0)) } ?? .sameAsInput
            let callback = Outcome { try kernel.genericFilter1D(input, options: options, output: output, engine: .callback) }
            if case .array(let result) = callback, let d = firstDifference(result, try c.expected.makeArray()) {
                problems.append("case \(c.id): callback differs from SciPy: \(d)")
            }
            for threads in [1, 2, 3] {
                let fused = Outcome { try kernel.genericFilter1D(input, options: options, output: output, engine: .fused, threads: threads) }
                if let d = fused.difference(from: callback) { problems.append("case \(c.id) threads \(threads): \(d)") }
            }
        }
        print("fused line filters vs callback on \(cases.count) generic_filter1d fixtures x 3 thread counts: \(problems.count) differences")
        #expect(problems.isEmpty, "\(problems.prefix(15).joined(separator: "\n"))")
    }

    /// Kernels that exercise the window-aware lowering (unrolled reductions, networks, loops),
    /// parameters, local arrays and the runtime fallbacks.
    static let randomKernels = [
        "min(values)", "max(values)", "np.min(values)", "np.max(values)", "np.median(values)", "sum(values)",
        "np.sum(values)", "np.mean(values)", "np.var(values)", "np.std(values)", "float(np.argmin(values))",
        "float(np.argmax(values))", "float(any(values))", "np.prod(values)", "np.nanmax(values)",
        "values[0] - values[-1] * 0.5",
        "sorted(values)[len(values) // 2]",
        """
        def f(values, t=0.25):
            best = values[0]
            for v in values:
                if v > best + t:
                    best = v
            return best
        """,
        """
        def g(values, k=1):
            a = values.copy()
            a.sort()
            return a[min(k, len(a) - 1)] + np.percentile(values, 30.0)
        """,
        """
        def h(values, t=0.5):
            s = 0.0
            for i in range(0, len(values), 2):
                if values[i] < t:
                    continue
                s += values[i] * i
                if s > 100:
                    break
            return s
        """,
    ]

    @Test func fusedEqualsCallbackOnSeededRandomCombinations() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["FUSED_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fusedEqualsCallbackOnSeededRandomCombinations seed \(seed) (rerun with FUSED_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try Self.randomKernels.map { try engine.compile($0) }
        var problems: [String] = []
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e300, -2.5, 2.5, 255.5, -1.0]
        for round in 0..<220 {
            let kernel = random.pick(kernels)
            let rank = 1 + random.below(3)
            let shape = (0..<rank).map { _ in 1 + random.below(rank == 1 ? 14 : 7) }
            let inType = random.pick(ElementType.allCases)
            let outType: ElementType = random.chance(0.6) ? inType : random.pick(ElementType.allCases)
            let footprintShape = (0..<rank).map { _ in 1 + random.below(4) }
            var mask = (0..<footprintShape.reduce(1, *)).map { _ in random.chance(0.7) }
            if !mask.contains(true) { mask[random.below(mask.count)] = true }
            let origin = footprintShape.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 5).rounded()
            let values: [Double] = (0..<shape.reduce(1, *)).map { _ in
                if inType.isFloatingPoint && random.chance(0.05) { return random.pick(specials) }
                switch inType {
                case .float32, .float64: return (random.unit() * 200 - 100).rounded() / 8
                case .bool: return Double(random.below(2))
                case .uint8, .uint16, .uint32, .uint64: return Double(random.below(300))
                default: return Double(random.below(300) - 150)
                }
            }
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(footprint: try Footprint(shape: footprintShape, mask: mask), mode: mode,
                                        cval: cval, origin: origin)
            let callback = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), engine: .callback) }
            for threads in [1, 2, 3] {
                let fused = Outcome {
                    try kernel.genericFilter(input, options: options, output: .elementType(outType), engine: .fused, threads: threads)
                }
                if let d = fused.difference(from: callback) {
                    problems.append("round \(round) \(kernel.name) \(inType)->\(outType) \(shape) fp \(footprintShape) \(mask) "
                        + "origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
                }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Rows long enough for the vectorised interior loops (up to 32 pixels per step) and their
    /// remainders, on every element type, including NaN, -0.0 and infinities for floats.
    @Test func fusedEqualsCallbackOnRowsLongEnoughForTheVectorLoops() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["FUSED_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fusedEqualsCallbackOnRowsLongEnoughForTheVectorLoops seed \(seed) (rerun with FUSED_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let sources = ["np.min(values)", "max(values)", "np.median(values)", "np.mean(values)", "np.var(values)",
                       "float(np.argmax(values))", Self.randomKernels[17], Self.randomKernels[19]]
        let kernels = try sources.map { try engine.compile($0) }
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity]
        var problems: [String] = []
        for round in 0..<88 {
            let kernel = random.pick(kernels)
            let inType = ElementType.allCases[round % ElementType.allCases.count]
            let outType: ElementType = random.chance(0.7) ? inType : random.pick(ElementType.allCases)
            let shape = random.chance(0.5) ? [3 + random.below(9), 40 + random.below(130)] : [2 + random.below(3), 3 + random.below(3), 33 + random.below(40)]
            let footprintShape = shape.map { _ in 1 + random.below(shape.count == 2 ? 5 : 3) }
            var mask = (0..<footprintShape.reduce(1, *)).map { _ in random.chance(0.75) }
            if !mask.contains(true) { mask[0] = true }
            let origin = footprintShape.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let values: [Double] = (0..<shape.reduce(1, *)).map { _ in
                switch inType {
                case .float32, .float64: return random.chance(0.03) ? random.pick(specials) : (random.unit() * 400 - 200).rounded() / 4
                case .bool: return Double(random.below(2))
                case .int8: return Double(random.below(256) - 128)
                case .uint8: return Double(random.below(256))
                case .int16, .int32, .int64: return Double(random.below(70000) - 35000)
                default: return Double(random.below(70000))
                }
            }
            let input = try NDArray.make(shape: shape, elementType: inType, values: values)
            let options = FilterOptions(footprint: try Footprint(shape: footprintShape, mask: mask), mode: mode,
                                        cval: random.chance(0.5) ? -0.0 : 3.5, origin: origin)
            let callback = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), engine: .callback) }
            for threads in [1, 2, 3] {
                let fused = Outcome {
                    try kernel.genericFilter(input, options: options, output: .elementType(outType), engine: .fused, threads: threads)
                }
                if let d = fused.difference(from: callback) {
                    problems.append("round \(round) \(kernel.name) \(inType)->\(outType) \(shape) fp \(footprintShape) \(mode) threads \(threads): \(d)")
                }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The sorting network must give a zero the sign the runtime's stable sort gives it.
    @Test func fusedMedianOfSignedZerosMatchesTheStableSort() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("np.median(values)")
        var random = FusedTestRandom(seed: 7)
        let choices: [Double] = [-0.0, 0.0, -0.0, 0.0, -1.0, 1.0]
        for (shape, size) in [([300], [3]), ([300], [4]), ([300], [5]), ([20, 60], [3, 3]), ([20, 60], [2, 3])] {
            let input = try NDArray.make(shape: shape, elementType: .float64,
                                         values: (0..<shape.reduce(1, *)).map { _ in random.pick(choices) })
            for mode in [BoundaryMode.reflect, .constant] {
                let options = FilterOptions(size: size, mode: mode, cval: -0.0)
                let callback = Outcome { try kernel.genericFilter(input, options: options, engine: .callback) }
                let fused = Outcome { try kernel.genericFilter(input, options: options, engine: .fused, threads: 2) }
                #expect(fused.difference(from: callback) == nil, "\(shape) size \(size) \(mode)")
            }
        }
    }

    /// NumPy's sum starts from +0.0: a window of -0.0 sums (and averages) to +0.0 at every length,
    /// including the 8-128 taps whose pairwise sum starts from the first eight elements (the fused
    /// kernel gave -0.0 there), literally and with the window strategies.
    @Test func sumsAndMeansOfNegativeZerosArePositiveZeroAtEveryWindowLength() throws {
        guard frontEndAvailable else { return }
        let input = try NDArray.make(shape: [14, 15], elementType: .float64, values: Array(repeating: -0.0, count: 14 * 15))
        for source in ["np.sum(values)", "np.mean(values)", "np.var(values)"] {
            let kernel = try engine.compile(source)
            for size in [[1, 3], [2, 4], [3, 3], [4, 4], [11, 11], [12, 12]] {
                for strategy in [WindowStrategyChoice.literal, .auto] {
                    let options = FilterOptions(size: size, mode: .constant, cval: -0.0)
                    let fused = try kernel.genericFilter(input, options: options, engine: .fused, strategy: strategy, threads: 1)
                    let callback = try kernel.genericFilter(input, options: options, engine: .callback)
                    let signs = fused.doubleValues().map { $0.sign } + callback.doubleValues().map { $0.sign }
                    #expect(signs.allSatisfy { $0 == .plus }, "\(source) size \(size) \(strategy): a -0.0 result")
                }
            }
        }
    }

    /// Line kernels whose `line[i + c]` / `out[i]` accesses the fused lowering proves in bounds
    /// (and vectorises), next to ones it must keep checking.
    @Test func fusedLineFiltersEqualCallbackOnRandomLinesAndStillCheckOtherIndices() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["FUSED_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fusedLineFiltersEqualCallbackOnRandomLines seed \(seed) (rerun with FUSED_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try [
            """
            @line_filter
            def mean3(line, out):
                for i in range(len(out)):
                    out[i] = (line[i] + line[i + 1] + line[i + 2]) / 3.0
            """,
            """
            @line_filter
            def diff(line, out, k=2):
                for i in range(1, len(out)):
                    out[i] = line[2 + i] - line[i] * k
                out[0] = line[len(line) - 1]
            """,
            // Reads `out` before writing it (it must start zeroed) and reads back what it wrote,
            // also when a float64 output row is written in place.
            """
            @line_filter
            def running(line, out):
                for i in range(1, len(out)):
                    out[i] = out[i] + out[i - 1] + line[i + 1]
            """,
        ].map { try engine.compile($0) }
        var problems: [String] = []
        for round in 0..<40 {
            let kernel = random.pick(kernels)
            let inType = random.pick(ElementType.allCases)
            let shape = [1 + random.below(5), 1 + random.below(90)]
            let values = (0..<shape.reduce(1, *)).map { _ in Double(random.below(200)) - 60 }
            let input = try NDArray.make(shape: shape, elementType: inType, values: values)
            let size = 3 + random.below(3)
            let options = LineFilterOptions(filterSize: size, axis: random.pick([0, 1, -1]), mode: random.pick(BoundaryMode.allCases),
                                            cval: 1.5, origin: -(size / 2) + random.below(size))
            let callback = Outcome { try kernel.genericFilter1D(input, options: options, output: .elementType(.float64), engine: .callback) }
            for threads in [1, 2, 3] {
                // A stale output (not zeroed memory) shows a kernel that reads `out` before zeroing.
                let stale = try NDArray.make(shape: shape, elementType: .float64, values: Array(repeating: 7.25, count: values.count))
                let fused = Outcome { try kernel.genericFilter1D(input, options: options, output: .array(stale), engine: .fused, threads: threads) }
                if let d = fused.difference(from: callback) { problems.append("round \(round) \(kernel.name) \(inType) \(shape) \(options): \(d)") }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(8).joined(separator: "\n"))")

        // line[i + 3] is past the end for the last element when the filter size is 3: still an error.
        let reachesPast = try engine.compile("""
            @line_filter
            def past(line, out):
                for i in range(len(out)):
                    out[i] = line[i + 3]
            """)
        let input = try NDArray.make(shape: [2, 40], elementType: .float64, values: (0..<80).map(Double.init))
        let options = LineFilterOptions(filterSize: 3)
        let callback = Outcome { try reachesPast.genericFilter1D(input, options: options, engine: .callback) }
        let fused = Outcome { try reachesPast.genericFilter1D(input, options: options, engine: .fused, threads: 2) }
        #expect(fused.difference(from: callback) == nil)
        if case .failure(let message) = fused { #expect(message.contains("out of range"), "\(message)") }
        else { Issue.record("line[i + 3] with filter size 3 did not fail") }
    }

    /// Line kernels that store every `out[i]` before anything can read it run without the driver
    /// zeroing `out` (`Codegen.lineKernelStoresEveryOutputFirst`); every other kernel keeps the
    /// zeroing. Both paths equal the callback engine (which always zeroes) bit for bit, in place,
    /// into strided, reversed and float32 outputs, and a failing line leaves the output array as the
    /// always-zeroing driver left it (stored elements, then zeros; later lines untouched).
    @Test func lineKernelsStoringEveryOutputFirstSkipTheZeroingWithTheSameBits() throws {
        guard frontEndAvailable else { return }
        let unzeroed = try [
            "for i in range(len(out)):\n        out[i] = (line[i] + line[i + 1] + line[i + 2]) / 3.0",
            // a negative offset reads from the end (Python's rule), as on the callback engine
            "for i in range(len(out)):\n        out[i] = line[i + 2] - line[i - 1] * 0.5",
            "for i in range(len(out)):\n        out[i] = max(line[i], line[i + 1]) if line[i] > 0 else -line[i + 2] + len(line)\n        s = out[i] * 2.0\n    out[0] = out[0] + out[len(out) - 1]",
            "for i in range(0, len(out), 1):\n        out[i] = np.mean(line) - line[i]",
            // later statements may read the element just stored, store others, loop and break inside
            "for i in range(len(out)):\n        out[i] = line[i]\n        for j in range(3):\n            if out[i] > j:\n                break\n            out[i] = out[i] + 1.0\n        if out[i] > 50:\n            continue\n        out[i] = -out[i]",
            // SciPy's running sum: statements before, out[0] stored, then the loop from 1 storing after a statement
            "size = len(line) - len(out) + 1\n    total = 0.0\n    for i in range(size):\n        total += line[i]\n    out[0] = total / size\n    for i in range(1, len(out)):\n        total += line[i + size - 1] - line[i - 1]\n        out[i] = total / size",
            "out[1] = line[0]\n    out[0] = line[1]\n    for i in range(2, len(out)):\n        for j in range(2):\n            if j > 0:\n                continue\n        out[i] = line[i] * 2.0",
        ].map { try engine.compile("@line_filter\ndef k(line, out):\n    \($0)\n") }
        let zeroed = try [
            // starts at 1: out[0] keeps the driver's zero
            "for i in range(1, len(out)):\n        out[i] = line[i]",
            // reads an element it has not stored yet
            "for i in range(len(out)):\n        out[i] = line[i] + out[len(out) - 1 - i]",
            "for i in range(len(out)):\n        out[i] = out[i] + line[i]",
            // may leave before storing
            "if line[0] > 50:\n        return\n    for i in range(len(out)):\n        out[i] = line[i]",
            "for i in range(len(out)):\n        if line[i] > 50:\n            break\n        out[i] = line[i]",
            "for i in range(len(out)):\n        out[i] = twice(line, i)",
            "for i in range(len(out) - 1):\n        out[i] = line[i]",
            // leaves the loop after a store, before the later elements (the review's cases)
            "for i in range(len(out)):\n        out[i] = line[i]\n        if line[i] > 50:\n            break",
            "for i in range(len(out)):\n        out[i] = line[i]\n        if line[i] > 50:\n            return",
            // reads an element stored later, after its own store
            "for i in range(len(out)):\n        out[i] = line[i]\n        out[i] = out[i] + out[len(out) - 1]",
            // out[1] never stored before the loop from 2; out read before the loop; a continue before the store
            "out[0] = line[0]\n    for i in range(2, len(out)):\n        out[i] = line[i]",
            "s = out[1]\n    out[0] = s\n    for i in range(1, len(out)):\n        out[i] = line[i]",
            "out[0] = out[1]\n    for i in range(1, len(out)):\n        out[i] = line[i]",
            "for i in range(len(out)):\n        if line[i] > 50:\n            continue\n        out[i] = line[i]",
            "for i in range(len(out)):\n        s = out[i]\n        out[i] = line[i] + s",
        ].map { try engine.compile("def twice(a, i):\n    return a[int(i)] * 2.0\n\n@line_filter\ndef k(line, out):\n    \($0)\n") }
        for kernel in unzeroed { #expect(Codegen.lineKernelStoresEveryOutputFirst(kernel.program), "\(kernel.program.kernel.body)") }
        for kernel in zeroed { #expect(!Codegen.lineKernelStoresEveryOutputFirst(kernel.program), "\(kernel.program.kernel.body)") }

        let seed = UInt64(ProcessInfo.processInfo.environment["FUSED_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("lineKernelsStoringEveryOutputFirst seed \(seed) (rerun with FUSED_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        var problems: [String] = []
        for round in 0..<60 {
            let kernel = random.pick(unzeroed + zeroed)
            let shape = [1 + random.below(4), 1 + random.below(70)]
            let values = (0..<shape.reduce(1, *)).map { _ in Double(random.below(120)) - 20 }
            let input = try NDArray.make(shape: shape, elementType: random.pick([ElementType.float64, .int16, .float32]), values: values)
            let size = 3 + random.below(2)
            let options = LineFilterOptions(filterSize: size, axis: random.pick([0, -1]), mode: random.pick(BoundaryMode.allCases),
                                            cval: -2.5, origin: -(size / 2) + random.below(size))
            let outputKind = random.below(5), reversedAxis = random.below(2)
            // Preallocated outputs hold stale values (a missing zeroing shows), written in place when contiguous.
            let stale = Array(repeating: 7.25, count: values.count)
            func output() throws -> FilterOutput {
                switch outputKind {
                case 0: return .elementType(.float64)
                case 1: return .array(try NDArray.make(shape: [shape[1], shape[0]], elementType: .float64, values: stale).transposed())
                case 2: return .array(try NDArray.make(shape: shape, elementType: .float64, values: stale).reversed(axis: reversedAxis))
                case 3: return .array(try NDArray.make(shape: shape, elementType: .float64, values: stale))
                default: return .elementType(.float32)
                }
            }
            let callback = Outcome { try kernel.genericFilter1D(input, options: options, output: try output(), engine: .callback) }
            for threads in [1, 2] {
                let fused = Outcome { try kernel.genericFilter1D(input, options: options, output: try output(), engine: .fused, threads: threads) }
                if let d = fused.difference(from: callback) {
                    problems.append("round \(round) \(kernel.program.kernel.body.count) statements \(shape) \(options) output \(outputKind): \(d)")
                }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(8).joined(separator: "\n"))")

        // Stores every output first, and fails on the last element of the first line (line[i + 3]
        // with filter size 3): the failing line holds what it stored and then zeros (the driver
        // zeroes it and runs the kernel again), the next line is untouched, on both engines.
        let past = try engine.compile("@line_filter\ndef past(line, out):\n    for i in range(len(out)):\n        out[i] = line[i + 3] + 1.0\n")
        #expect(Codegen.lineKernelStoresEveryOutputFirst(past.program))
        let input = try NDArray.make(shape: [2, 40], elementType: .float64, values: (0..<80).map(Double.init))
        var left: [ExecutionEngine: (String, [Double])] = [:]
        for engineKind in [ExecutionEngine.callback, .fused] {
            let target = try NDArray.make(shape: [2, 40], elementType: .float64, values: Array(repeating: 7, count: 80))
            var message = ""
            do { _ = try past.genericFilter1D(input, options: LineFilterOptions(filterSize: 3), output: .array(target), engine: engineKind, threads: 1) }
            catch { message = "\(error)" }
            left[engineKind] = (message, target.doubleValues())
        }
        // line[j] is input j - 1 (reflect, filter size 3; line[41] reflects to input 39), so
        // out[i] = line[i + 3] + 1 = i + 3 for i < 38, out[38] = 40, and line[42] fails.
        let expected = (0..<38).map { Double($0 + 3) } + [40, 0] + Array(repeating: 7, count: 40)
        #expect(left[.fused]?.1 == expected, "\(left[.fused]?.1 ?? [])")
        #expect(left[.callback]?.1 == expected, "\(left[.callback]?.1 ?? [])")
        #expect(left[.fused]?.0 == left[.callback]?.0 && left[.fused]?.0.contains("out of range") == true, "\(left)")
    }

    /// Lines along an axis other than the last are read and written in groups of neighbouring lines
    /// (`LineRun.groupSize`); filtering axis a of an array must equal filtering the last axis of a
    /// contiguous copy with axis a moved last, on both engines, for every mode, type, output type and
    /// thread count, and a line failing inside a group leaves the lines before it written and the
    /// others untouched, as line by line.
    @Test func groupedLinesEqualTheSameLinesAlongTheLastAxis() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["FUSED_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("groupedLinesEqualTheSameLinesAlongTheLastAxis seed \(seed) (rerun with FUSED_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try [
            "for i in range(len(out)):\n        out[i] = (line[i] + 2.0 * line[i + 1] - line[i + 2]) / 3.0",
            "total = 0.0\n    for i in range(len(out)):\n        total += line[i + 1] - line[i]\n        out[i] = total",
            "for i in range(1, len(out)):\n        out[i] = max(line[i], line[i + 2])",
        ].map { try engine.compile("@line_filter\ndef k(line, out):\n    \($0)\n") }
        var problems: [String] = []
        for round in 0..<40 {
            let kernel = random.pick(kernels)
            let rank = 2 + random.below(2)
            let shape = (0..<rank).map { _ in 1 + random.below(random.chance(0.5) ? 5 : 23) }
            let axis = random.below(rank - 1)
            let inType = random.pick([ElementType.float64, .float32, .int16, .uint8])
            let values = (0..<shape.reduce(1, *)).map { _ in Double(random.below(200)) - (inType == .uint8 ? 0 : 50) }
            let input = try NDArray.make(shape: shape, elementType: inType, values: values)
            // The same lines along the last axis: axis moved last, copied contiguous (lines in the same order).
            let order = (0..<rank).filter { $0 != axis } + [axis]
            let moved = try input.transposed(order).cContiguousCopy()
            let outType = random.pick([ElementType.float64, .float32, inType])
            let mode = random.pick(BoundaryMode.allCases)
            let size = 3 + random.below(3)
            let options = LineFilterOptions(filterSize: size, axis: axis, mode: mode, cval: -1.5, origin: -(size / 2) + random.below(size))
            var movedOptions = options
            movedOptions.axis = -1
            for engineKind in [ExecutionEngine.fused, .callback] {
                let threads = 1 + random.below(3)
                let expected = try kernel.genericFilter1D(moved, options: movedOptions, output: .elementType(outType),
                                                          engine: engineKind, threads: threads)
                let got = try kernel.genericFilter1D(input, options: options, output: .elementType(outType), engine: engineKind,
                                                     threads: threads)
                let gotMoved = try got.transposed(order).cContiguousCopy()
                if gotMoved.doubleValues() != expected.doubleValues() {
                    problems.append("round \(round) \(engineKind) \(inType)->\(outType) \(shape) axis \(axis) \(mode) size \(size)")
                }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(8).joined(separator: "\n"))")

        // Line 5 of 20 (columns of a 6 x 20 array, filtered along axis 0) fails: lines 0-4 are written as the same
        // lines along the last axis give them, the rest keep the output's 7s (a strided output line is written
        // only when its kernel returns, as line by line), and the failure names line 5's first element.
        let failing = try engine.compile("@line_filter\ndef f(line, out):\n    for i in range(len(out)):\n        out[i] = line[i + 1 + int(line[0] > 90) * 100]\n")
        var columns = (0..<120).map { Double($0 % 20) }
        columns[5] = 95
        let grid = try NDArray.make(shape: [6, 20], elementType: .float64, values: columns)
        let rows = try grid.transposed().cContiguousCopy()
        for engineKind in [ExecutionEngine.fused, .callback] {
            let target = try NDArray.make(shape: [6, 20], elementType: .float64, values: Array(repeating: 7, count: 120))
            let targetRows = try NDArray.make(shape: [20, 6], elementType: .float64, values: Array(repeating: 7, count: 120))
            var message = "", messageRows = ""
            do { _ = try failing.genericFilter1D(grid, options: LineFilterOptions(filterSize: 3, axis: 0), output: .array(target),
                                                 engine: engineKind, threads: 1) } catch { message = "\(error)" }
            do { _ = try failing.genericFilter1D(rows, options: LineFilterOptions(filterSize: 3), output: .array(targetRows),
                                                 engine: engineKind, threads: 1) } catch { messageRows = "\(error)" }
            let lines = try target.transposed().cContiguousCopy().doubleValues()
            #expect(Array(lines[..<30]) == Array(targetRows.doubleValues()[..<30]), "\(engineKind)")
            #expect(lines[30...].allSatisfy { $0 == 7 }, "\(engineKind): \(lines)")
            #expect(message.contains("(0, 5)") && messageRows.contains("(5, 0)"), "\(engineKind): \(message) / \(messageRows)")
        }
    }

    /// Footprints with more taps than the lowering unrolls take the looped gather (window in the
    /// caller's scratch buffer, not on the stack), still equal to the callback path.
    @Test func fusedEqualsCallbackOnFootprintsTooLongToUnroll() throws {
        guard frontEndAvailable else { return }
        var random = FusedTestRandom(seed: 11)
        let kernels = try ["np.mean(values)", "np.max(values)", "np.median(values)", "values[len(values) // 3] - values[0]"]
            .map { try engine.compile($0) }
        for (round, kernel) in kernels.enumerated() {
            for inType in [ElementType.float64, .uint8] {
                let shape = [17 + random.below(9), 30 + random.below(40)]
                let values = (0..<shape.reduce(1, *)).map { _ in Double(random.below(250)) }
                let input = try NDArray.make(shape: shape, elementType: inType, values: values)
                let mask = (0..<(13 * 12)).map { _ in random.chance(0.9) }
                let options = FilterOptions(footprint: try Footprint(shape: [13, 12], mask: mask),
                                            mode: random.pick(BoundaryMode.allCases), cval: 2.5, origin: [1, -2])
                let callback = Outcome { try kernel.genericFilter(input, options: options, engine: .callback) }
                for threads in [1, 2, 3] {
                    let fused = Outcome { try kernel.genericFilter(input, options: options, engine: .fused, threads: threads) }
                    #expect(fused.difference(from: callback) == nil, "round \(round) \(kernel.name) \(inType) threads \(threads)")
                }
            }
        }
    }

    @Test func fusedSpecialisationsAreCachedAndServeEveryImageSizeAndMode() throws {
        guard frontEndAvailable else { return }
        let engine = try Engine()
        let kernel = try engine.compile("np.min(values)")
        let options = FilterOptions(footprint: try Footprint.cross(rank: 2))
        #expect(engine.cache.statistics.misses == 1)
        _ = try kernel.genericFilter(try NDArray.random(shape: [16, 9], elementType: .float64), options: options, strategy: .literal)
        #expect(engine.cache.statistics.misses == 2)   // the fused specialisation compiled
        let hitsBefore = engine.cache.statistics.hits
        _ = try kernel.genericFilter(try NDArray.random(shape: [5, 40], elementType: .float64, seed: 3), options: options,
                                     strategy: .literal, threads: 2)
        #expect(engine.cache.statistics.misses == 2)   // another size reuses it
        #expect(engine.cache.statistics.hits == hitsBefore + 1)
        _ = try kernel.genericFilter(try NDArray.random(shape: [5, 40], elementType: .uint8), options: options, strategy: .literal)
        #expect(engine.cache.statistics.misses == 3)   // another element type is another specialisation
        // Mode, cval and origin are run-time arguments: every mode shares the float64 specialisation.
        for mode in BoundaryMode.allCases {
            var changed = options
            changed.mode = mode
            changed.cval = 2.5
            changed.origin = [0, mode == .nearest ? 1 : 0]
            _ = try kernel.genericFilter(try NDArray.random(shape: [7, 7], elementType: .float64), options: changed, strategy: .literal)
        }
        #expect(engine.cache.statistics.misses == 3)
        // Another footprint with the same tap count reuses it too; another tap count does not.
        let diagonal = try Footprint(shape: [3, 3], mask: [true, false, true, false, true, false, true, false, true])
        _ = try kernel.genericFilter(try NDArray.random(shape: [7, 7], elementType: .float64), options: FilterOptions(footprint: diagonal),
                                     strategy: .literal)
        #expect(engine.cache.statistics.misses == 3)
        _ = try kernel.genericFilter(try NDArray.random(shape: [7, 7], elementType: .float64), options: FilterOptions(size: [3]),
                                     strategy: .literal)
        #expect(engine.cache.statistics.misses == 4)
    }

    @Test func recognisedMinimumRunsWithoutAFusedCompile() throws {
        guard frontEndAvailable else { return }
        let engine = try Engine()
        let kernel = try engine.compile("min(values)")
        let report = try kernel.windowStrategy(shape: [9, 9], elementType: .uint8, options: FilterOptions(size: [15]))
        #expect(report.name == "min" && !report.compiledTail)
        let input = try NDArray.random(shape: [40, 33], elementType: .uint8)
        let fast = try kernel.genericFilter(input, options: FilterOptions(size: [15]))
        #expect(engine.cache.statistics.misses == 1)   // the callback kernel only: the strategy writes the output
        let literal = try kernel.genericFilter(input, options: FilterOptions(size: [15]), strategy: .literal)
        #expect(fast.int64Bits() == literal.int64Bits())
    }

    @Test func fusedFailureNamesTheFirstFailingElementLikeTheCallbackPath() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("""
            def f(values):
                if values[1] > 50:
                    return values[7]
                return values[0]
            """)
        let values = (0..<(9 * 11)).map { Double($0) }
        let input = try NDArray.make(shape: [9, 11], elementType: .float64, values: values)
        let callback = Outcome { try kernel.genericFilter(input, options: FilterOptions(size: [1, 3]), engine: .callback) }
        for threads in [1, 2, 3] {
            let fused = Outcome { try kernel.genericFilter(input, options: FilterOptions(size: [1, 3]), engine: .fused, threads: threads) }
            #expect(fused.difference(from: callback) == nil)
            if case .failure(let message) = fused { #expect(message.contains("(4, 7)"), "\(message)") }
            else { Issue.record("the fused run did not fail") }
        }
    }

    /// What `filterjit show` prints: the integer min compares bytes, the line kernel's loop is vectorised.
    @Test func fusedCodeShowsNativeByteMinimumAndAVectorisedLineLoop() throws {
        guard frontEndAvailable else { return }
        let minimum = try engine.compile("np.min(values)")
        let code = try minimum.fusedCode(shape: [64, 64], elementType: .uint8, options: FilterOptions(footprint: try Footprint.cross(rank: 2)))
        #expect(code.ir.contains("define i64 @"))
        #expect(code.optimizedIR.contains("icmp ult <") || code.optimizedIR.contains("icmp ugt <"))
        #expect(code.assembly.contains("pminub"))
        let line = try engine.compile("""
            @line_filter
            def mean3(line, out):
                for i in range(len(out)):
                    out[i] = (line[i] + line[i + 1] + line[i + 2]) / 3.0
            """)
        let lineCode = try line.fusedCode(shape: [8, 100], elementType: .float64, lineOptions: LineFilterOptions(filterSize: 3))
        #expect(lineCode.optimizedIR.contains("fdiv <"))
        #expect(!lineCode.optimizedIR.contains("call void @filterjit_fail"))
    }

    /// An output that overlaps the input (the input itself, its reversed view, or a view one row
    /// further into the same buffer) runs on the fused engine over a private copy of the input: the
    /// same bits as a fresh output, for window strategies, the literal row kernel and line filters.
    @Test func overlappingOutputsReadACopyOfTheInput() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["FUSED_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("overlappingOutputsReadACopyOfTheInput seed \(seed) (rerun with FUSED_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let filters = [try engine.compile("min(values)"), try engine.compile("np.mean(values)"),
                       try engine.compile("values[0] - 2.0 * values[len(values) - 1]")]
        let line = try engine.compile("""
            @line_filter
            def running(line, out):
                total = 0.0
                for i in range(len(out)):
                    total += line[i] + 0.5 * line[i + 2]
                    out[i] = total
            """)
        for round in 0..<24 {
            let rows = 3 + random.below(40), columns = 1 + random.below(70)
            let type = random.pick([ElementType.uint8, .int16, .float32, .float64])
            let values = (0..<((rows + 1) * columns)).map { _ in Double(random.below(200)) - (type == .uint8 ? 0 : 60) }
            let mode = random.pick([BoundaryMode.reflect, .nearest, .wrap, .constant, .mirror])
            // The buffer holds rows + 1 rows: the input is its first rows, the shifted output its last.
            let buffer = try NDArray.make(shape: [rows + 1, columns], elementType: type, values: values)
            let pristine = try NDArray.make(shape: [rows, columns], elementType: type, values: Array(values.prefix(rows * columns)))
            func inputView() throws -> NDArray {
                try NDArray(storage: buffer.storage, elementType: type, shape: [rows, columns],
                            strides: buffer.strides, byteOffset: buffer.byteOffset)
            }
            let original = try NDArray.make(shape: [rows + 1, columns], elementType: type, values: values)
            func reset() {
                buffer.firstElementPointer.copyMemory(from: original.firstElementPointer, byteCount: values.count * type.itemSize)
            }
            let shiftedOutput = try NDArray(storage: buffer.storage, elementType: type, shape: [rows, columns],
                                            strides: buffer.strides, byteOffset: buffer.byteOffset + buffer.strides[0])
            let size = [1 + random.below(7), 1 + random.below(7)]
            for (k, kernel) in filters.enumerated() {
                let options = FilterOptions(size: size, mode: mode, cval: 3)
                let expected = try kernel.genericFilter(pristine, options: options)
                for target in 0..<3 {
                    reset()
                    let input = try inputView()
                    let output = target == 0 ? input : target == 1 ? try input.reversed(axis: 0) : shiftedOutput
                    _ = try kernel.genericFilter(input, options: options, output: .array(output), engine: .fused)
                    #expect(output.doubleValues().elementsEqual(expected.doubleValues(), by: { $0 == $1 || ($0.isNaN && $1.isNaN) }),
                            "round \(round) filter \(k) target \(target) \(type) \(mode) \(rows)x\(columns) size \(size)")
                }
            }
            let lineOptions = LineFilterOptions(filterSize: 3, axis: random.below(2), mode: mode, cval: 3)
            let expected = try line.genericFilter1D(pristine, options: lineOptions)
            for target in 0..<3 {
                reset()
                let input = try inputView()
                let output = target == 0 ? input : target == 1 ? try input.reversed(axis: 0) : shiftedOutput
                _ = try line.genericFilter1D(input, options: lineOptions, output: .array(output), engine: .fused)
                #expect(output.doubleValues() == expected.doubleValues(),
                        "round \(round) line target \(target) \(type) \(mode) \(rows)x\(columns) axis \(lineOptions.axis)")
            }
        }
    }

    @Test func overlappingOutputAndZeroRankGiveTheSameBits() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("sum(values)")
        let values = (0..<6).map { Double($0) }
        let input = try NDArray.make(shape: [6], elementType: .float64, values: values)
        let aliased = try kernel.genericFilter(input, options: FilterOptions(size: [3]), output: .array(input))
        #expect(aliased.doubleValues() == [1, 3, 6, 9, 12, 14])
        let scalar = try NDArray.make(shape: [], elementType: .float64, values: [5])
        #expect(try kernel.genericFilter(scalar, options: FilterOptions(size: [3])).doubleValues() == [5])
    }
}

/// SplitMix64 with the helpers the random combinations use.
struct FusedTestRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
