// Window strategies (NDImage/WindowReductions.swift, FilterJIT/WindowStrategy.swift) against the
// literal per-pixel kernel, which stays the oracle: recognition of the supported forms, and a
// seeded fuzz over (reduction, tail, footprint, element type, mode, cval, origin, threads) with
// windows bigger than the image, NaN / -0.0 / inf data and failing tails.

import Testing
import Foundation
import FilterLang
import NDImage
@testable import FilterJIT
@testable import NDImage
import FilterInterpreter
import RankKernelsC

@Suite(.serialized) struct WindowStrategyTests {
    let engine: Engine

    init() throws { engine = try Engine() }

    /// Kernels the recogniser must accept, each with the reductions it must find for 49 taps.
    static let recognised: [(source: String, reductions: String)] = [
        ("min(values)", "min"),
        ("np.max(values)", "max"),
        ("np.nanmin(values)", "min"),
        ("sum(values)", "sum"),
        ("np.mean(values)", "sum"),
        ("np.median(values)", "rank 24"),
        ("np.percentile(values, 25)", "rank 12, rank 13"),
        ("np.quantile(values, 0.9)", "rank 43, rank 44"),
        ("sorted(values)[len(values) // 2]", "rank 24"),
        ("np.sort(values)[-1]", "rank 48"),
        ("max(values) - min(values)", "max, min"),
        ("values[len(values) // 2] - min(values)", "tap 24, min"),
        ("""
         def fmin(values):
             result = np.inf
             for v in values:
                 if v < result:
                     result = v
             return result
         """, "min"),
        ("""
         def fmax(values, start=0.5):
             best = start
             for v in values:
                 if best <= v:
                     best = v
             return best
         """, "max"),
        ("""
         def folded(values):
             m = 3.0
             for v in values:
                 m = min(m, v)
             return m * 2
         """, "min"),
        ("""
         def running(values):
             s = 0.0
             for v in values:
                 s += v
             return s / len(values)
         """, "sum"),
        ("""
         def stretch(values, t=0.5):
             mn = np.min(values)
             mx = np.max(values)
             if mx == mn:
                 return 0.0
             return (values[0] - mn) / (mx - mn) > t
         """, "min, max, tap 0"),
        // Monotone maps of the window (issue 13's array expressions): f of the reduction, or of the
        // opposite one (decreasing f), or of both (|f| under max).
        ("np.max(values * 2.0) - np.min(values + 1.5)", "max, min"),
        ("np.min(-values)", "max"),
        ("np.max(np.abs(values - 3))", "max, min"),
        ("max(abs(values * -4))", "max, min"),
        ("np.median(10 - values)", "rank 24"),
        ("np.percentile(values * -2, 30)", "rank 34, rank 33"),
        ("np.sort(values / 0.5)[3]", "rank 3"),
        // len(values) in a map is the window's length, also in the tail (where local 0 holds the planes).
        ("np.max(values - len(values))", "max"),
        ("np.median(values + len(values) // 2)", "rank 24"),
    ]

    /// Kernels that must keep the literal path (some use of `values` is not a whole-window reduction).
    static let notRecognised = [
        "values[0] * 2",
        "np.var(values)",
        "min(values[0], values[1])",
        """
        def last(values):
            r = np.inf
            v = 0.0
            for v in values:
                if v < r:
                    r = v
            return r + v
        """,
        """
        def weighted(values):
            s = 0.0
            for v in values:
                s += v * 2
            return s
        """,
        "np.percentile(values, 130)",
        "np.max(values * 0.5)",      // may underflow to zeros of both signs
        "np.max(values / 3)",
        "np.min(np.abs(values))",    // not a function of the min and max
        "np.sum(values * 2)",        // rounding: not 2 * sum
        "np.max(values ** 2)",
    ]

    @Test func recogniserFindsTheSupportedForms() throws {
        guard frontEndAvailable else { return }
        for (source, expected) in Self.recognised {
            let kernel = try engine.compile(source)
            let found = kernel.recognizedReductions(windowLength: 49)
            #expect(found?.reductions.map(\.description).joined(separator: ", ") == expected, "\(source)")
        }
        for source in Self.notRecognised {
            let kernel = try engine.compile(source)
            #expect(kernel.recognizedReductions(windowLength: 49) == nil, "\(source)")
        }
        #expect(try engine.compile("min(values)").recognizedReductions(windowLength: 49)?.tailIsIdentity == true)
        #expect(try engine.compile(Self.recognised[12].source).recognizedReductions(windowLength: 49)?.tailIsIdentity == true)
        #expect(try engine.compile("np.median(values)").recognizedReductions(windowLength: 49)?.tailIsIdentity == true)
        #expect(try engine.compile("np.median(values)").recognizedReductions(windowLength: 48)?.tailIsIdentity == false)
    }

    @Test func strategiesEqualTheLiteralKernelOnSeededRandomInputs() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("strategiesEqualTheLiteralKernelOnSeededRandomInputs seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let sources = Self.recognised.map(\.source) + [
            "float(int(np.mean(values) / (values[0] - values[0])))",   // fails: int(nan) or int(inf)
        ]
        let kernels = try sources.map { try engine.compile($0) }
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e300, -2.5, 2.5, 255.5, -1.0]
        var problems: [String] = []
        var strategyRuns = 0
        let rounds = 160
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let rank = random.chance(0.15) ? 3 : (random.chance(0.15) ? 1 : 2)
            let shape = (0..<rank).map { _ in 1 + random.below(rank == 1 ? 40 : (rank == 2 ? 14 : 6)) }
            let inType = random.pick(ElementType.allCases)
            let outType: ElementType = random.chance(0.6) ? inType : random.pick(ElementType.allCases)
            // Big enough windows for every strategy (rank statistics start above 25 taps).
            let footprintShape = (0..<rank).map { _ in 1 + random.below(rank == 1 ? 40 : (rank == 2 ? 9 : 4)) }
            let density = random.pick([1.0, 0.9, 0.6])
            var mask = (0..<footprintShape.reduce(1, *)).map { _ in random.chance(density) }
            if !mask.contains(true) { mask[random.below(mask.count)] = true }
            let origin = footprintShape.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 2).rounded()
            let hazards = inType.isFloatingPoint && random.chance(0.25)
            let values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: hazards ? specials : [],
                                           specialRate: 0.05, infinityRate: nil, random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(footprint: try Footprint(shape: footprintShape, mask: mask), mode: mode,
                                        cval: cval, origin: origin)
            let report = try kernel.windowStrategy(shape: shape, elementType: inType, options: options)
            if report.name != "literal" { strategyRuns += 1 }
            let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .literal) }
            for threads in [1, 3] {
                let fast = Outcome {
                    try kernel.genericFilter(input, options: options, output: .elementType(outType), threads: threads)
                }
                if let d = fast.difference(from: literal) {
                    problems.append("round \(round) \(kernel.name) [\(report)] \(inType)->\(outType) \(shape) fp \(footprintShape) "
                        + "\(mask.map { $0 ? 1 : 0 }) origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
                }
            }
        }
        print("window strategies vs literal: \(rounds) rounds, \(strategyRuns) chose a strategy, \(problems.count) differences")
        #expect(strategyRuns >= rounds / 3, "too few rounds exercised a strategy")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Box footprints take the column accumulators (column sums, 8-bit column histograms) whose
    /// rows leave and enter between output rows: every mode (repeated rows under nearest and
    /// reflect), 2-D and 3-D, windows larger than the image.
    @Test func boxFootprintsEqualTheLiteralKernelInEveryMode() throws {
        guard frontEndAvailable else { return }
        let kernels = try ["np.median(values)", "np.percentile(values, 25)", "np.mean(values)", "sum(values) - values[0]",
                           "max(values) - min(values)"].map { try engine.compile($0) }
        var problems: [String] = []
        var seed: UInt64 = 7
        for (shape, size) in [([23, 31], [7, 9]), ([5, 40], [9, 3]), ([6, 5, 7], [3, 3, 3]), ([9, 9], [11, 13])] {
            for type in [ElementType.uint8, .int8, .bool, .uint16, .float32, .int32] {
                seed += 1
                let input = try NDArray.random(shape: shape, elementType: type, seed: seed)
                for kernel in kernels {
                    for mode in BoundaryMode.allCases {
                        let options = FilterOptions(size: size, mode: mode, cval: 1)
                        let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                        let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 2) }
                        if let d = fast.difference(from: literal) {
                            problems.append("\(kernel.name) \(type) \(shape) size \(size) \(mode): \(d)")
                        }
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Box windows up to 7 columns and 49 taps take NDImage's selection networks for every rank
    /// (median, percentiles, sorted(values)[k]), written directly when the tail is the rank itself:
    /// a seeded fuzz over box shapes (1-D to 3-D, windows larger than the image), every element
    /// type, mode, origin, output type, NaN / -0.0 / inf data and 1-3 threads, against the literal kernel.
    @Test func selectionNetworksEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("selectionNetworksEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let sources = ["np.median(values)", "median(values)", "np.percentile(values, 25)", "np.quantile(values, 0.9)",
                       "sorted(values)[0]", "np.sort(values)[-1]", "sorted(values)[len(values) // 3]",
                       "np.median(values) * 2 - 1", "sorted(values)[1] + sorted(values)[len(values) - 2]"]
        let kernels = try sources.map { try engine.compile($0) }
        let boxes: [[Int]] = [[3, 3], [5, 5], [7, 7], [3, 5], [5, 3], [2, 2], [4, 3], [1, 7], [7, 1], [6, 7],
                              [3, 3, 3], [2, 3, 3], [3, 1, 5], [5], [7], [2]]
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e300, -2.5, 2.5, 255.5, -1.0]
        var problems: [String] = []
        var networkRuns = 0
        let rounds = testRounds(140)
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let size = random.pick(boxes)
            let shape = size.map { s in 1 + random.below(random.chance(0.2) ? s : 3 * s + 6) }
            let inType = random.pick(ElementType.allCases)
            let outType: ElementType = random.chance(0.6) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 2).rounded()
            let hazards = inType.isFloatingPoint && random.chance(0.2)
            let values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: hazards ? specials : [],
                                           specialRate: 0.05, infinityRate: 0.1, random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let report = try kernel.windowStrategy(shape: shape, elementType: inType, options: options)
            if report.name != "literal" { networkRuns += 1 }
            let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .literal) }
            let threads = 1 + random.below(3)
            let fast = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), threads: threads) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) [\(report)] \(inType)->\(outType) \(shape) size \(size) "
                    + "origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
            }
        }
        print("selection networks vs literal: \(rounds) rounds, \(networkRuns) chose a strategy, \(problems.count) differences")
        #expect(networkRuns >= coverageFloor(rounds, 3, 4), "too few rounds exercised a strategy")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Networks writing straight into contiguous output rows of the input's type read the input rows
    /// in place and only the ends of each row through the mode (`runNetworkInPlace`; the 3x3 median
    /// through the AVX-512 kernel when the CPU has it): a seeded fuzz over small boxes, element types,
    /// row lengths around the vector widths and the C kernel's 4 KiB blocks, modes, origins, cval, NaN
    /// / -0.0 data and 1-3 threads, against the literal kernel.
    @Test func inPlaceNetworksEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("inPlaceNetworksEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["np.median(values)", "np.median(values)", "np.percentile(values, 30)", "sorted(values)[1]"].map { try engine.compile($0) }
        let boxes: [[Int]] = [[3, 3], [3, 3], [3, 3], [5, 5], [1, 3], [3, 1], [3, 5], [7, 7], [3, 3, 3], [3]]
        let widths = [1, 2, 3, 4, 5, 15, 16, 17, 31, 33, 63, 64, 65, 66, 67, 129, 1030, 4097, 4100]
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 2.5, -1.0]
        let types: [ElementType] = [.uint8, .uint8, .float32, .float32, .int8, .uint16, .int16, .uint32, .int32, .float64, .bool, .int64]
        var problems: [String] = []
        let rounds = testRounds(90)
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let size = random.pick(boxes)
            let width = random.pick(widths)
            let shape = size.count == 1 ? [width] : size.dropLast().map { s in 1 + random.below(2 * s + 3) } + [width]
            let type = random.pick(types)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : Double(random.below(9))
            let hazards = type.isFloatingPoint && random.chance(0.15)
            let values = randomImageValues(count: shape.reduce(1, *), type: type, specials: hazards ? specials : [],
                                           specialRate: 0.01, infinityRate: 0.05, random: &random)
            let input = try NDArray.make(shape: shape, elementType: type, values: values)
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
            let threads = 1 + random.below(3)
            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) \(type) \(shape) size \(size) origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 3x3 and 5x5 medians by the AVX-512 row kernels (or, without AVX-512, the AVX2 3x3 ones of 8-bit and
    /// float data and the AVX2 5x5 ones of 8- and 16-bit integers) (`runMedianRows`: the interior of a batch of rows
    /// in one call, the row ends gathered transposed along sliding windows or as per-row strips, float
    /// data checked for NaN / -0.0 by the kernel as it reads): a seeded fuzz over tiny and long rows
    /// (1xN, Nx1, 2x2, widths around the vector lanes), 3-D images (windows that do not slide from one
    /// plane to the next), every element type, mode, origin, cval, NaN / -0.0 placed anywhere (also only
    /// in the first or last column, or in cval), 1-3 threads, with the AVX-512 kernels switched off in
    /// a quarter of the rounds (the AVX2 kernels; in half of those AVX2 too: the portable networks), against
    /// the literal kernel.
    @Test func medianRowKernelsEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("medianRowKernelsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["np.median(values)", "median(values)", "sorted(values)[len(values) // 2]"].map { try engine.compile($0) }
        let boxes: [[Int]] = [[3, 3], [3, 3], [3, 3], [5, 5], [5, 5], [1, 3, 3], [1, 5, 5], [3, 3]]
        // (1030: past the 5x5 networks' blocks of 1024 bytes, whose last vector is loaded in part.)
        let widths = [1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 17, 18, 31, 33, 62, 63, 64, 65, 66, 67, 127, 130, 200, 1030]
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 2.5, -1.0]
        let types: [ElementType] = [.uint8, .uint8, .float32, .float32, .float32, .float64, .int8, .uint16, .int16, .uint32,
                                    .int32, .bool, .int64]
        var problems: [String] = []
        var kernelRounds = 0
        let rounds = testRounds(160)
        let callsBefore = filterjit_median_rows_runs(0) + filterjit_median_rows_runs(1)
        defer { RankKernels.setAVX512(nil); RankKernels.setAVX2Medians(nil) }
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let size = random.pick(boxes)
            let width = random.pick(widths)
            let height = random.chance(0.15) ? 1 + random.below(2) : 1 + random.below(40)
            let shape = size.count == 3 ? [1 + random.below(3), height, width] : [height, width]
            let type = random.pick(types)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : Double(random.below(9))
            let count = shape.reduce(1, *)
            var values = randomImageValues(count: count, type: type, specials: [], specialRate: 0, infinityRate: 0.05,
                                           random: &random)
            if type.isFloatingPoint && random.chance(0.3) {
                // One hazard: anywhere, or in the first or last column of some row.
                let row = random.below(count / width)
                let column = random.chance(0.5) ? random.below(width) : (random.chance(0.5) ? 0 : width - 1)
                values[row * width + column] = random.pick([.nan, -0.0])
            }
            let input = try NDArray.make(shape: shape, elementType: type, values: values)
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            // A quarter of the rounds without AVX-512 (the AVX2 3x3 kernels where the CPU has AVX2), half
            // of those without AVX2 either (the portable networks).
            let off = round % 4 == 3
            RankKernels.setAVX512(off ? false : nil)
            RankKernels.setAVX2Medians(round % 8 == 7 ? false : nil)
            if RankKernels.avx512 { kernelRounds += 1 }
            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
            let threads = 1 + random.below(3)
            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
            RankKernels.setAVX512(nil)
            RankKernels.setAVX2Medians(nil)
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) \(type) \(shape) size \(size) origin \(origin) \(mode) cval \(cval) "
                    + "threads \(threads) avx512 \(off ? "off" : "on") avx2 \(round % 8 == 7 ? "off" : "on"): \(d)")
            }
        }
        let calls = filterjit_median_rows_runs(0) + filterjit_median_rows_runs(1) - callsBefore
        print("median row kernels vs literal: \(rounds) rounds, \(kernelRounds) with AVX-512, \(calls) row-kernel calls "
            + "(AVX-512 or AVX2; other suites may add), \(problems.count) differences")
        if RankKernels.avx512 || filterjit_median3x3_avx2() != 0 { #expect(calls > 0, "no round reached a row kernel") }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 5x5 medians by the pruned merge networks (`RankKernelsC`, median5x5_networks.h: two output rows
    /// per call where the windows slide, one otherwise): a seeded fuzz over heights (odd and even
    /// counts of rows per batch), widths around the vector lanes of every element type (8 to 64), 3-D
    /// images (windows that do not slide from one plane to the next), every mode, origin and cval,
    /// float data with NaN / -0.0 anywhere (then the strategy must decline, as the literal kernel's
    /// bits show), int and float types, 1-3 threads, against the literal kernel. Without AVX-512 the 8- and
    /// 16-bit integers take the AVX2 instances (widths past their blocks of 1024 bytes included).
    @Test func medianFiveByFiveNetworksEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("medianFiveByFiveNetworksEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernel = try engine.compile("np.median(values)")
        let widths = [1, 4, 5, 7, 8, 9, 15, 16, 17, 20, 31, 32, 33, 37, 63, 64, 65, 69, 100, 129, 200, 261, 1029]
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 2.5, -1.0]
        let types: [ElementType] = [.float32, .float32, .float64, .uint8, .int8, .uint16, .int16]
        var problems: [String] = []
        let runsBefore = filterjit_median_rows_runs(1)
        let rounds = 120
        for round in 0..<rounds {
            let width = random.pick(widths)
            let height = 1 + random.below(round % 3 == 0 ? 6 : 45)
            let threeD = random.chance(0.2)
            let shape = threeD ? [2 + random.below(2), height, width] : [height, width]
            let size = threeD ? [1, 5, 5] : [5, 5]
            let type = random.pick(types)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.2) ? random.pick(specials) : Double(random.below(9))
            let count = shape.reduce(1, *)
            var values = randomImageValues(count: count, type: type, specials: [], specialRate: 0, infinityRate: 0.05,
                                           random: &random)
            if type.isFloatingPoint && random.chance(0.35) {
                let row = random.below(count / width)
                let column = random.chance(0.5) ? random.below(width) : (random.chance(0.5) ? 0 : width - 1)
                values[row * width + column] = random.pick([.nan, -0.0])
            }
            let input = try NDArray.make(shape: shape, elementType: type, values: values)
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
            let threads = 1 + random.below(3)
            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(type) \(shape) size \(size) origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
            }
        }
        let runs = filterjit_median_rows_runs(1) - runsBefore
        print("5x5 median networks vs literal: \(rounds) rounds, \(runs) kernel runs, \(problems.count) differences")
        // (Other suites switch the AVX-512 rank kernels off for moments; not for all 120 rounds.)
        if RankKernels.avx512 || filterjit_median3x3_avx2() != 0 { #expect(runs > 0, "the 5x5 median row kernels were not reached") }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Outputs of `NonTemporalStores.minimumBytes` and more (lowered here to 4 MiB, below these outputs;
    /// by default the last-level cache's size) of 32/64-bit data take the `_rows_stream` kernels (non-temporal stores
    /// after each row's first 64-byte boundary): 3x3 and 5x5 medians of float32, float64 and int32
    /// images with odd row lengths (rows start at every offset from a line boundary, so two output
    /// rows of a 5x5 pair often differ in alignment), several modes, one thread, float images with a NaN
    /// or -0.0 (the hazard exit: the exact path), against the same call with the AVX-512 and AVX2 median
    /// kernels off (the portable networks). On a CPU with the kernels it must reach them (their run counter grows).
    @Test func largeMedianOutputsStreamTheSameBits() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("np.median(values)")
        defer { RankKernels.setAVX512(nil); RankKernels.setAVX2Medians(nil) }
        NonTemporalStores.minimumBytes = 4 << 20
        defer { NonTemporalStores.minimumBytes = NonTemporalStores.defaultMinimumBytes }
        var problems: [String] = []
        var seed: UInt64 = 4100
        let streamRunsBefore = filterjit_median_rows_runs(2)
        let cases: [(ElementType, [Int], [Int], [BoundaryMode])] = [
            (.float32, [1101, 1027], [3, 5], [.nearest, .constant]), (.float64, [557, 1029], [3, 5], [.reflect]),
            (.int32, [1100, 1021], [3], [.mirror]),
        ]
        for (type, shape, sizes, modes) in cases {
            for size in sizes {
                seed += 1
                var input = try NDArray.random(shape: shape, elementType: type, seed: seed)
                if type.isFloatingPoint && size == 3 {
                    // A NaN (3x3) or -0.0 (5x5) in a middle row: the kernels' hazard exit, then the exact path.
                    var values = input.doubleValues()
                    values[(shape[0] / 2 + 1) * shape[1] + shape[1] / 3] = .nan
                    input = try NDArray.make(shape: shape, elementType: type, values: values)
                } else if type.isFloatingPoint {
                    var values = input.doubleValues()
                    values[(shape[0] / 2) * shape[1] + shape[1] - 1] = -0.0
                    input = try NDArray.make(shape: shape, elementType: type, values: values)
                }
                for mode in modes {
                    let options = FilterOptions(size: [size, size], mode: mode, cval: 2)
                    let threads = 1  // one call writes it all: over 4 MiB
                    RankKernels.setAVX512(false)
                    RankKernels.setAVX2Medians(false)
                    let portable = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
                    RankKernels.setAVX512(nil)
                    RankKernels.setAVX2Medians(nil)
                    let fast = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
                    if let d = fast.difference(from: portable) {
                        problems.append("\(type) \(shape) size \(size) \(mode) threads \(threads): \(d)")
                    }
                }
            }
        }
        let streamRuns = filterjit_median_rows_runs(2) - streamRunsBefore
        print("large median outputs: \(streamRuns) runs of the _rows_stream kernels")
        // (Other suites switch the AVX-512 rank kernels off for moments; not for every case.)
        if RankKernels.avx512 { #expect(streamRuns > 0, "the _rows_stream median kernels were not reached") }
        #expect(problems.isEmpty, "\(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 8-bit ranks of big boxes by the column histograms and the C kernel `filterjit_histogram_rank8`
    /// (lazy fine counts), written in place for uint8: every mode, several ranks, rows shorter and
    /// longer than the window, 1-3 threads, against the literal kernel.
    @Test func bigEightBitBoxRanksEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let kernels = try ["np.median(values)", "np.percentile(values, 20)", "sorted(values)[3]"].map { try engine.compile($0) }
        var problems: [String] = []
        var seed: UInt64 = 71
        for (shape, size) in [([40, 70], [9, 9]), ([33, 20], [15, 15]), ([5, 40], [31, 31]), ([50, 7], [9, 15])] {
            for type in [ElementType.uint8, .int8, .bool] {
                seed += 1
                let input = try NDArray.random(shape: shape, elementType: type, seed: seed)
                for kernel in kernels {
                    for mode in BoundaryMode.allCases {
                        let options = FilterOptions(size: size, mode: mode, cval: 1)
                        let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                        let threads = 1 + Int(seed % 3)
                        let fast = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
                        if let d = fast.difference(from: literal) {
                            problems.append("\(kernel.name) \(type) \(shape) size \(size) \(mode) threads \(threads): \(d)")
                        }
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 2-D box min/max run as separable passes (NDImage/BoxMinMax.swift): direct vertical passes up
    /// to 7 rows, van Herk blocks beyond (state carried across a thread's rows), doubling along rows;
    /// a seeded fuzz over box shapes (windows larger than the image), element types, modes, origins,
    /// output types, NaN / -0.0 / inf data and 1-3 threads, against the literal kernel.
    @Test func separableBoxMinMaxEqualsTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("separableBoxMinMaxEqualsTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["min(values)", "np.max(values)", "max(values) - min(values)", Self.recognised[12].source,
                           "np.min(values) * 2"].map { try engine.compile($0) }
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e300, -2.5, 2.5, 255.5, -1.0]
        var problems: [String] = []
        let rounds = testRounds(120)
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let size = [1 + random.below(random.chance(0.3) ? 31 : 9), 1 + random.below(random.chance(0.3) ? 31 : 9)]
            let shape = [1 + random.below(random.chance(0.2) ? 8 : 60), 1 + random.below(random.chance(0.2) ? 8 : 70)]
            let inType = random.pick(ElementType.allCases)
            let outType: ElementType = random.chance(0.6) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 2).rounded()
            let hazards = inType.isFloatingPoint && random.chance(0.2)
            let values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: hazards ? specials : [],
                                           specialRate: 0.02, infinityRate: 0.05, random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .literal) }
            let threads = 1 + random.below(3)
            let fast = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), threads: threads) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) \(inType)->\(outType) \(shape) size \(size) "
                    + "origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
            }
        }
        // 3x3 on rows longer than the window: every mode and origin, both ends.
        for kernel in kernels.prefix(3) {
            for type in [ElementType.uint8, .float32, .int16, .float64] {
                for width in [16, 17, 33] {
                    let input = try NDArray.random(shape: [6, width], elementType: type, seed: UInt64(width))
                    for mode in BoundaryMode.allCases {
                        for origin in [[0, 0], [-1, 1], [1, -1], [0, 1], [1, 0]] {
                            let options = FilterOptions(size: [3, 3], mode: mode, cval: 3, origin: origin)
                            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 2) }
                            if let d = fast.difference(from: literal) {
                                problems.append("3x3 \(kernel.name) \(type) width \(width) \(mode) origin \(origin): \(d)")
                            }
                        }
                    }
                }
            }
        }
        print("separable box min/max vs literal: \(rounds) rounds, \(problems.count) differences")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Columns-first boxes of 2-8 rows with one min or max (`boxPairStep`: output rows in pairs from one
    /// vertical pass over k + 1 rows): seeded fuzz over the types that take the columns-first passes, rows
    /// around the vector widths, heights that leave a last unpaired row (per thread chunk too), every
    /// mode, origins, cval, output types (written directly or through the row copy), reversed views and
    /// 1 and 3 threads, against the literal kernel. Run with and without FILTERJIT_NO_AVX512=1.
    @Test func pairedColumnsFirstBoxesEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("pairedColumnsFirstBoxesEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["min(values)", "np.max(values)"].map { try engine.compile($0) }
        let widths = [1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 66, 95, 127, 128, 129]
        let heights = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13]
        let specials: [Double] = [-0.0, 0.0, 255, -1.0, 65535, -128, 3.5]
        var problems: [String] = []
        // The pairs are taken only where `filterjit_box_row_pairs` says so (AMD CPUs by default): forced on
        // for three rounds in four, off for the rest (the single-row passes the same cases take elsewhere).
        defer { filterjit_box_set_row_pairs(-1) }
        let rounds = testRounds(300)
        for round in 0..<rounds {
            let kernel = kernels[round % 2]
            filterjit_box_set_row_pairs(round % 4 == 3 ? 0 : 1)
            let size = [2 + random.below(7), 1 + random.below(random.chance(0.2) ? 20 : 9)]
            let shape = [random.pick(heights), random.pick(widths)]
            let inType: ElementType = random.pick([.uint8, .uint8, .int8, .uint16, .int16, .float64, .int32, .uint32, .int64, .bool])
            let outType: ElementType = random.chance(0.75) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : Double(random.below(9))
            let values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: [], specialRate: 0,
                                           infinityRate: nil, random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.15) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            problems += differencesFromTheLiteralKernel(kernel, input, options, output: outType,
                label: "round \(round) \(kernel.name) \(inType)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval)")
        }
        // Every row count 2...8 and 3/5 columns on rows around the vector widths, every mode, both ends.
        for k in 2...8 {
            for type in [ElementType.uint8, .uint16, .float64] {
                for width in [31, 32, 33, 64, 65] {
                    let input = try NDArray.random(shape: [k + 4, width], elementType: type, seed: UInt64(k * 100 + width))
                    for mode in BoundaryMode.allCases {
                        let options = FilterOptions(size: [k, 3 + 2 * (width % 2)], mode: mode, cval: 7)
                        problems += differencesFromTheLiteralKernel(kernels[(k + width) % 2], input, options, output: type,
                                                                    label: "\(type) \(k) rows width \(width) \(mode)")
                    }
                }
            }
        }
        print("paired columns-first box min/max vs literal: \(rounds) rounds, \(problems.count) differences")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 2-D boxes of 8- and 16-bit integer data sum separably in UInt16/Int32 lanes (NDImage/BoxSums.swift),
    /// and `sum(values)` / `np.mean(values)` into the input's type are written directly (wrapped sum,
    /// truncated quotient): a seeded fuzz over box shapes (windows larger than the image), integer
    /// types with values at both ends of their range, output types, modes, cval, origins, strided
    /// inputs and 1-3 threads, against the literal kernel.
    @Test func integerBoxSumsEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("integerBoxSumsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let sources = ["np.mean(values)", "sum(values)", "np.sum(values)", "np.mean(values) > 100", "sum(values) * 0.5 - 3",
                       Self.recognised[15].source]
        let kernels = try sources.map { try engine.compile($0) }
        let types: [ElementType] = [.uint8, .uint8, .int8, .uint16, .int16, .bool, .int32, .uint32]
        var problems: [String] = []
        var direct = 0
        let rounds = testRounds(150)
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let size = [1 + random.below(random.chance(0.3) ? 33 : 9), 1 + random.below(random.chance(0.3) ? 33 : 9)]
            let shape = [1 + random.below(random.chance(0.2) ? 8 : 50), 1 + random.below(random.chance(0.2) ? 8 : 60)]
            let inType = random.pick(types)
            let outType: ElementType = random.chance(0.7) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let (low, high) = integerRange(inType)
            let cval = random.chance(0.5) ? random.pick([low, high, 0, 3]) : (random.unit() * 10 - 2).rounded()
            let values = integerValues(count: shape.reduce(1, *), low: low, high: high, extremes: random.chance(0.5), random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            if size[0] * size[1] >= 9 && outType == inType && inType != .bool && [ElementType.uint8, .int8, .uint16, .int16].contains(inType)
                && kernel.recognizedReductions(windowLength: size[0] * size[1])?.tailSum != nil { direct += 1 }
            let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .literal) }
            let threads = 1 + random.below(3)
            let fast = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), threads: threads) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) \(inType)->\(outType) \(shape) size \(size) "
                    + "origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
            }
        }
        // 3x3 and 15x15 means and sums on rows longer than the window: every mode and origin, both ends.
        for kernel in kernels.prefix(2) {
            for type in [ElementType.uint8, .int8, .uint16, .int16] {
                for (width, size) in [(16, 3), (33, 3), (40, 15)] {
                    let input = try NDArray.random(shape: [size + 5, width], elementType: type, seed: UInt64(width))
                    for mode in BoundaryMode.allCases {
                        for origin in [[0, 0], [-1, 1], [1, -1], [0, 1], [1, 0]] {
                            let options = FilterOptions(size: [size, size], mode: mode, cval: 3, origin: origin)
                            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 2) }
                            if let d = fast.difference(from: literal) {
                                problems.append("\(size)x\(size) \(kernel.name) \(type) width \(width) \(mode) origin \(origin): \(d)")
                            }
                        }
                    }
                }
            }
        }
        print("integer box sums vs literal: \(rounds) rounds, \(direct) written directly, \(problems.count) differences")
        #expect(direct >= coverageFloor(rounds, 1, 10), "too few rounds exercised the direct box sum")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 3-D boxes of 8- and 16-bit integer data sum in O(1) per voxel (NDImage/BoxSums.swift,
    /// `BoxPlaneSums`: plane sums carried along axis 0, then the 2-D passes): a seeded fuzz against the
    /// literal kernel over shapes of 1-12 per axis (some longer rows and taller volumes), boxes up to
    /// 9 per axis (larger than the image) and non-cubic ones, every integer type the 2-D path serves
    /// with values at both ends of their range, output types, modes, cval at the type's ends, origins,
    /// reversed views, the uint8 AVX-512 means on and off, at 1 and 3 threads.
    @Test func integer3DBoxSumsEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("integer3DBoxSumsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["np.mean(values)", "sum(values)", "np.sum(values)", "np.mean(values) > 100",
                           "sum(values) * 0.5 - 3"].map { try engine.compile($0) }
        let types: [ElementType] = [.uint8, .uint8, .uint8, .int8, .uint16, .uint16, .int16, .bool]
        defer { BoxMeanKernels.enabled = true }
        var problems: [String] = []
        var planned = 0
        let rounds = 90
        for round in 0..<rounds {
            let kernel = round % 3 == 0 ? kernels[0] : random.pick(kernels)
            var shape = (0..<3).map { _ in 1 + random.below(12) }
            if random.chance(0.15) { shape[2] = 20 + random.below(120) }
            if random.chance(0.1) { shape[0] = 13 + random.below(20) }
            let cube = random.chance(0.5)
            let side = 1 + random.below(7)
            let size = cube ? [side, side, side] : (0..<3).map { _ in 1 + random.below(random.chance(0.2) ? 9 : 7) }
            let inType = random.pick(types)
            let outType: ElementType = random.chance(0.75) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let (low, high) = integerRange(inType)
            let cval = random.chance(0.6) ? random.pick([low, high, 0, 3]) : (random.unit() * 10 - 2).rounded()
            let values = integerValues(count: shape.reduce(1, *), low: low, high: high, extremes: random.chance(0.5), random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let geometry = try FilterGeometry(inputShape: shape, options: options)
            if let job = try? WindowReductionJob(input: input, geometry: geometry, reductions: [.sum]),
               let plan = job.boxSum, plan.box.planes == size[0] { planned += 1 }
            BoxMeanKernels.enabled = random.chance(0.7)
            problems += differencesFromTheLiteralKernel(kernel, input, options, output: outType,
                                                        label: "round \(round) \(kernel.name) \(inType)->\(outType) \(shape) "
                                                            + "size \(size) origin \(origin) \(mode) cval \(cval) "
                                                            + "kernels \(BoxMeanKernels.enabled)")
        }
        BoxMeanKernels.enabled = true
        print("3-D integer box sums vs literal: \(rounds) rounds, \(planned) planned as 3-D box sums, \(problems.count) differences")
        #expect(planned >= rounds * 3 / 4, "too few rounds planned the 3-D box sum")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 3-D float boxes of 9 footprint rows of 3 columns and 25 of 5 (the 3x3x3 and 5x5x5 cubes, and
    /// boxes like 1x9x3 or 9x1x3), and on AVX2 float64 ones of 49 of 7 (7x7x7, 1x49x7), take the AVX-512
    /// or AVX2 row kernels reading the input rows in place
    /// (`runFloatBoxRows`, `filterjit_pairwise_rows_store_*`): a seeded fuzz against the literal kernel
    /// over shapes of 1-12 per axis and rows up to 90 long (the 16-pixel steps and their tails), windows
    /// larger than the image, every mode, cval, origins, reversed views, data of mixed magnitudes with
    /// NaN / ±inf / -0.0, float32 and float64 in and out (and other outputs), np.mean / np.sum, 1 and 3 threads.
    @Test func float3DBoxSumsEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("float3DBoxSumsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["np.mean(values)", "np.sum(values)", "np.mean(values) * 2.0"].map { try engine.compile($0) }
        let sizes: [[Int]] = [[3, 3, 3], [3, 3, 3], [3, 3, 3], [5, 5, 5], [5, 5, 5], [1, 9, 3], [9, 1, 3], [1, 25, 5],
                              [5, 5, 3], [3, 3, 5], [4, 4, 4], [7, 7, 7], [7, 7, 7], [1, 49, 7]]
        let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, 0.0, 1e300]
        var problems: [String] = []
        let rounds = 70
        let kernelsBefore = filterjit_rank_kernels_avx512() != 0, runsBefore = filterjit_pairwise_rows_runs()
        let avx2Before = filterjit_pairwise_avx2() != 0
        for round in 0..<rounds {
            let kernel = round % 2 == 0 ? kernels[0] : random.pick(kernels)
            var shape = (0..<3).map { _ in 1 + random.below(12) }
            if random.chance(0.3) { shape[2] = 13 + random.below(80) }
            let size = random.pick(sizes)
            let inType: ElementType = random.chance(0.5) ? .float64 : .float32
            let outType: ElementType = random.chance(0.8) ? inType : random.pick([.float64, .float32, .int32, .uint8])
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.pick([0.0, -0.0, 1.5, -3.25, 1e10])
            let hazards = random.chance(0.3)
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                if hazards && random.chance(0.03) { return random.pick(specials) }
                return (random.unit() - 0.5) * pow(10, Double(random.below(17)) - 8)
            }
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            problems += differencesFromTheLiteralKernel(kernel, input, options, output: outType,
                                                        label: "round \(round) \(kernel.name) \(inType)->\(outType) \(shape) "
                                                            + "size \(size) origin \(origin) \(mode) cval \(cval)")
        }
        let runs = filterjit_pairwise_rows_runs() - runsBefore
        print("3-D float box sums vs literal: \(rounds) rounds, \(runs) row-kernel runs, \(problems.count) differences")
        // With the AVX-512 or AVX2 kernels on (before and after: FastMathSumTests switches AVX-512 off for a
        // moment), the cubes must have reached the row kernels.
        if kernelsBefore && filterjit_rank_kernels_avx512() != 0 || avx2Before && filterjit_pairwise_avx2() != 0 {
            #expect(runs > 0, "the row kernels were not reached")
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// uint8 means written into uint8 rows take the AVX-512 kernels (RankKernelsC/box_means.c: UInt16
    /// column sums, up to 8 columns in registers or the row's prefix sums, the quotient by multiply-high
    /// or a corrected float estimate): seeded fuzz against the literal kernel with the kernels on and
    /// off (`BoxMeanKernels.enabled`, the portable passes FILTERJIT_NO_AVX512 runs), rows up to 300
    /// long for the masked tails, windows to 40x40 (16- and 32-bit sums) and taller than 257 rows (the
    /// kernels decline), every mode, cval, origins, reversed views and 1-3 threads with the same bits.
    @Test func uint8BoxMeansTakeTheVectorKernelsExactly() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("uint8BoxMeansTakeTheVectorKernelsExactly seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernel = try engine.compile("np.mean(values)")
        defer { BoxMeanKernels.enabled = true }
        var problems: [String] = []
        let rounds = 120
        var eligible = 0
        for round in 0..<rounds {
            var size = [2 + random.below(random.chance(0.4) ? 39 : 8), 2 + random.below(random.chance(0.4) ? 39 : 8)]
            if round % 20 == 19 { size = [258 + random.below(4), 1 + random.below(3)] }
            let shape = [1 + random.below(random.chance(0.2) ? 8 : 45), 1 + random.below(random.chance(0.3) ? 300 : 70)]
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.pick([0.0, 255, 3, 128])
            let extremes = random.chance(0.5)
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                extremes && random.chance(0.7) ? random.pick([0.0, 255]) : Double(random.below(256))
            }
            var input = try NDArray.make(shape: shape, elementType: .uint8, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            if size[0] * size[1] >= 9 && size[0] <= 257 { eligible += 1 }
            BoxMeanKernels.enabled = true
            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
            for enabled in [true, false] {
                BoxMeanKernels.enabled = enabled
                for threads in [1, 2, 3] {
                    let fast = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
                    if let d = fast.difference(from: literal) {
                        problems.append("round \(round) \(shape) size \(size) origin \(origin) \(mode) cval \(cval) "
                            + "kernels \(enabled) threads \(threads): \(d)")
                    }
                }
            }
        }
        BoxMeanKernels.enabled = true
        print("uint8 box means vs literal: \(rounds) rounds, \(eligible) with 9 taps or more, \(problems.count) differences")
        #expect(eligible >= rounds / 2)
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Float sums and means take NumPy's pairwise order vectorised across pixels (NDImage/PairwiseSums.swift;
    /// from 9 taps where the AVX-512 kernel `filterjit_pairwise_sum_f64` runs, else beyond 128): the
    /// program and the AVX-512 kernel (every length 1-300 and longer, row lengths 1-40 for the masked
    /// tails, NaN / inf / -0.0 taps) equal `Numerics.npSum` bit for bit, and the filters equal the
    /// literal kernel bit for bit on NaN / inf / -0.0 data, boxes and random footprints of 4 to 361
    /// taps, every mode, origins and 1-3 threads. Sums in another order (Python's `sum`, `np.nansum`,
    /// a running-sum loop) keep the literal kernel for float data.
    @Test func floatPairwiseSumsEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("floatPairwiseSumsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        var problems: [String] = []
        for n in Array(1...300) + [383, 511, 1000, 1025] {
            let taps = (0..<n).map { _ in (random.unit() - 0.5) * pow(10, Double(random.below(30)) - 15) }
            let program = PairwiseSumProgram(taps: n)
            let expected = taps.withUnsafeBufferPointer { Numerics.npSum($0.baseAddress, n) }
            if program.evaluate(taps).bitPattern != expected.bitPattern { problems.append("program n \(n)") }
        }
        // The AVX-512 kernel (or the Swift program where it does not run) over rows of pixels: tap i of
        // pixel x is rows[i][x], each pixel's taps compared with Numerics.npSum (NaN: any NaN).
        let tapSpecials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e308, -1e308, 5e-324]
        for n in Array(1...140) + [200, 225, 255, 256, 257, 300, 383, 441, 961] {
            let count = 1 + random.below(40)
            let hazards = random.chance(0.3)
            let negativeZeros = random.chance(0.1)
            let rows: [[Double]] = (0..<n).map { _ in
                (0..<count).map { _ -> Double in
                    if negativeZeros { return -0.0 }
                    if hazards && random.chance(0.05) { return random.pick(tapSpecials) }
                    return (random.unit() - 0.5) * pow(10, Double(random.below(30)) - 15)
                }
            }
            let storage = rows.map { row -> UnsafeMutablePointer<Double> in
                let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
                p.initialize(from: row, count: count)
                return p
            }
            defer { storage.forEach { $0.deallocate() } }
            var plane = [Double](repeating: 7, count: count + 1)
            plane.withUnsafeMutableBufferPointer { out in
                PairwiseSumRunner(program: PairwiseSumProgram(taps: n)).run(taps: storage.map { UnsafePointer($0) },
                                                                            count: count, into: out.baseAddress!)
            }
            for x in 0..<count {
                let taps = rows.map { $0[x] }
                let expected = taps.withUnsafeBufferPointer { Numerics.npSum($0.baseAddress, n) }
                if !(expected.isNaN && plane[x].isNaN) && plane[x].bitPattern != expected.bitPattern {
                    problems.append("runner n \(n) count \(count) pixel \(x): \(plane[x]) != \(expected)")
                    break
                }
            }
            if plane[count] != 7 { problems.append("runner n \(n) count \(count) wrote past the row") }
        }
        let kernels = try ["np.mean(values)", "np.sum(values)", "np.mean(values) > 0.25", "np.sum(values) - values[0]"]
            .map { try engine.compile($0) }
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e300, -1e300, 1e-300]
        var strategyRuns = 0
        let rounds = 60
        let vectorised = WindowReductionJob.pairwiseSumsVectorised
        // Without the AVX-512 kernel the strategy starts at 49 taps for most footprints (AVX2) or beyond 128
        // (neither): more of the big footprints then, so that a third of the rounds still reach it whatever
        // the seed.
        let smallFootprints = RankKernels.avx512 ? 0.5 : 0.15
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let size = random.chance(smallFootprints) ? [2 + random.below(13), 2 + random.below(13)]
                : [8 + random.below(12), 8 + random.below(12)]
            let density = random.pick([1.0, 1.0, 0.8])
            var mask = (0..<(size[0] * size[1])).map { _ in random.chance(density) }
            mask[0] = true
            let shape = [1 + random.below(random.chance(0.2) ? 8 : 40), 1 + random.below(random.chance(0.2) ? 8 : 50)]
            let inType: ElementType = random.pick([.float32, .float64])
            let outType: ElementType = random.chance(0.7) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 2).rounded() / 4
            let hazards = random.chance(0.4)
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                if hazards && random.chance(0.03) { return random.pick(specials) }
                return (random.unit() - 0.5) * pow(10, Double(random.below(12)) - 6)
            }
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(footprint: try Footprint(shape: size, mask: mask), mode: mode, cval: cval, origin: origin)
            let report = try kernel.windowStrategy(shape: shape, elementType: inType, options: options)
            if report.name != "literal" { strategyRuns += 1 }
            let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .literal) }
            let threads = 1 + random.below(3)
            let fast = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType), threads: threads) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) [\(report)] \(inType)->\(outType) \(shape) fp \(size) "
                    + "origin \(origin) \(mode) cval \(cval) threads \(threads): \(d)")
            }
        }
        // A window of -0.0 only sums to +0.0, as NumPy's add.reduce (which starts from +0.0) gives it:
        // the square-box kernel (9x9), the general kernel (a 9x9 disk-like mask) and beyond 128 taps.
        let zeros = try NDArray.make(shape: [12, 21], elementType: .float64, values: Array(repeating: -0.0, count: 12 * 21))
        var diskMask = (0..<81).map { _ in true }
        diskMask[0] = false
        diskMask[8] = false
        for options in [FilterOptions(size: [9, 9], mode: .nearest), FilterOptions(size: [13, 13], mode: .reflect),
                        FilterOptions(footprint: try Footprint(shape: [9, 9], mask: diskMask), mode: .mirror)] {
            for kernel in [kernels[0], kernels[1]] {
                let out = try kernel.genericFilter(zeros, options: options)
                if let bad = out.doubleValues().first(where: { $0.bitPattern != 0 }) {
                    problems.append("all -0.0 \(kernel.name) \(options.size ?? []): \(bad)")
                }
            }
        }
        for source in ["sum(values)", "np.nansum(values)", "np.nanmean(values)", Self.recognised[15].source] {
            let report = try engine.compile(source).windowStrategy(shape: [20, 20], elementType: .float64,
                                                                    options: FilterOptions(size: [9, 9]))
            #expect(report.name == "literal", "\(source): \(report)")
        }
        #expect(try engine.compile("np.mean(values)").windowStrategy(shape: [20, 20], elementType: .float32,
                                                                     options: FilterOptions(size: [13, 13])).name == "sum")
        for (k, dtype) in [(3, ElementType.float64), (5, .float64), (9, .float64), (11, .float32), (15, .float64)] {
            let name = try engine.compile("np.mean(values)").windowStrategy(shape: [20, 20], elementType: dtype,
                                                                            options: FilterOptions(size: [k, k])).name
            #expect(name == ((vectorised ? k >= 6 : k > 11) ? "sum" : "literal"), "\(k)x\(k) \(dtype): \(name)")
        }
        // float32 boxes of 9 to 25 taps (the exact box sums, where the pairwise sums are vectorised): not where
        // the box sums cannot run (strided rows), nor for 2x4 (8 taps) or a 5x5 less its corners (21 taps, not a
        // box), nor for float64.
        let meanOfValues = try engine.compile("np.mean(values)")
        for (size, dtype, contiguous, expected) in [([3, 3], ElementType.float32, true, "sum"), ([5, 5], .float32, true, "sum"),
                                                    ([3, 5], .float32, true, "sum"), ([3, 3, 3], .float32, true, "sum"),
                                                    ([5, 5], .float32, false, "literal"), ([2, 4], .float32, true, "literal"),
                                                    ([3, 3], .float64, true, "literal"), ([5, 5], .float64, true, "literal")] {
            let report = try meanOfValues.windowStrategy(shape: size.count == 3 ? [10, 10, 10] : [20, 20], elementType: dtype,
                                                 options: FilterOptions(size: size), rowsContiguous: contiguous)
            let want = vectorised || expected == "literal" || size.reduce(1, *) > 128 ? expected : "literal"
            #expect(report.name == want, "\(size) \(dtype) contiguous \(contiguous): \(report)")
        }
        // A box of one row, and a compiled tail other than the sum or the mean, take them only from 15 taps.
        let threshold = try engine.compile("np.mean(values) > 0.5")
        for (kernel, size, expected) in [(meanOfValues, [1, 9], "literal"), (meanOfValues, [1, 13], "literal"),
                                         (meanOfValues, [1, 15], "sum"), (meanOfValues, [1, 1, 13], "literal"),
                                         (meanOfValues, [1, 1, 15], "sum"), (meanOfValues, [9, 1], "sum"),
                                         (threshold, [3, 3], "literal"), (threshold, [3, 5], "sum"), (threshold, [5, 5], "sum")] {
            let report = try kernel.windowStrategy(shape: size.count == 3 ? [10, 10, 20] : [20, 20], elementType: .float32,
                                                   options: FilterOptions(size: size))
            let want = vectorised ? expected : "literal"
            #expect(report.name == want, "\(kernel.name) \(size): \(report)")
        }
        // A mean into another output type takes the sums as rows too (a compiled tail's path).
        for (size, expected) in [([3, 3], "literal"), ([3, 5], "sum")] {
            let report = try meanOfValues.windowStrategy(shape: [20, 20], elementType: .float32, options: FilterOptions(size: size),
                                                         outputType: .float64)
            #expect(report.name == (vectorised ? expected : "literal"), "mean into float64 \(size): \(report)")
        }
        // Integer boxes: a mean of 8- or 16-bit data from the smallest box, a plain sum from 9 taps, int32 from
        // 25 taps, 64-bit never; not a mean over a footprint that is not a box.
        let sumOfValues = try engine.compile("sum(values)")
        for (kernel, size, dtype, expected) in [(meanOfValues, [3, 1], ElementType.uint8, "sum"), (meanOfValues, [1, 2], .int8, "sum"),
                                                (meanOfValues, [2, 2], .uint16, "sum"), (meanOfValues, [5, 1], .int16, "sum"),
                                                (sumOfValues, [1, 4], .uint8, "literal"), (sumOfValues, [3, 3], .uint8, "sum"),
                                                (meanOfValues, [3, 3], .int32, "literal"), (meanOfValues, [1, 16], .int32, "literal"),
                                                (meanOfValues, [5, 5], .int32, "sum"), (meanOfValues, [3, 3], .uint32, "sum"),
                                                (meanOfValues, [3, 1], .uint32, "literal"), (meanOfValues, [5, 5], .int64, "literal")] {
            let report = try kernel.windowStrategy(shape: [20, 20], elementType: dtype, options: FilterOptions(size: size))
            #expect(report.name == expected, "\(kernel.name) \(size) \(dtype): \(report)")
        }
        // ... into the input's type only: into float64 the literal kernel is faster below 5 taps.
        #expect(try meanOfValues.windowStrategy(shape: [20, 20], elementType: .uint8, options: FilterOptions(size: [3, 1]),
                                                outputType: .float64).name == "literal")
        let cross = try Footprint(shape: [3, 3], mask: [false, true, false, true, true, true, false, true, false])
        #expect(try meanOfValues.windowStrategy(shape: [20, 20], elementType: .uint8, options: FilterOptions(footprint: cross)).name == "literal")
        let cornerless = try Footprint(shape: [5, 5], mask: (0..<25).map { ![0, 4, 20, 24].contains($0) })
        #expect(try meanOfValues.windowStrategy(shape: [20, 20], elementType: .float32,
                                                options: FilterOptions(footprint: cornerless)).name == "literal")
        // Square boxes 6x6 ... 15x15 (the AVX-512 box kernel `filterjit_pairwise_box_sum_f64`): rows of
        // every length around its 16-pixel steps, NaN / inf / -0.0 data, every mode, 1-3 threads.
        let mean = kernels[0], sum = kernels[1]
        for k in 6...15 {
            for kernel in [mean, sum] {
                let shape = [1 + random.below(k + 6), 1 + random.below(40)]
                let inType: ElementType = random.pick([.float32, .float64])
                let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                    if random.chance(0.05) { return random.pick(specials) }
                    return random.chance(0.1) ? -0.0 : (random.unit() - 0.5) * pow(10, Double(random.below(12)) - 6)
                }
                let input = try NDArray.make(shape: shape, elementType: inType, values: values)
                let mode = random.pick(BoundaryMode.allCases)
                let options = FilterOptions(size: [k, k], mode: mode, cval: random.pick(specials))
                let report = try kernel.windowStrategy(shape: shape, elementType: inType, options: options)
                if vectorised && report.name != "sum" { problems.append("\(k)x\(k) box: \(report)") }
                let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                let threads = 1 + random.below(3)
                let fast = Outcome { try kernel.genericFilter(input, options: options, threads: threads) }
                if let d = fast.difference(from: literal) {
                    problems.append("box \(k)x\(k) \(kernel.name) \(inType) \(shape) \(mode) threads \(threads): \(d)")
                }
            }
        }
        print("float pairwise sums vs literal: \(rounds) rounds, \(strategyRuns) chose a strategy, \(problems.count) differences")
        #expect(strategyRuns >= rounds / 3, "too few rounds exercised the strategy")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    @Test func sumTailsAreRecognised() throws {
        guard frontEndAvailable else { return }
        #expect(try engine.compile("np.mean(values)").recognizedReductions(windowLength: 49)?.tailSum == .mean)
        #expect(try engine.compile("sum(values)").recognizedReductions(windowLength: 49)?.tailSum == .sum)
        #expect(try engine.compile("np.nansum(values)").recognizedReductions(windowLength: 9)?.tailSum == .sum)
        #expect(try engine.compile("np.mean(values) * 1").recognizedReductions(windowLength: 49)?.tailSum == nil)
        #expect(try engine.compile("sum(values) / 49.0").recognizedReductions(windowLength: 49)?.tailSum == .mean)
        #expect(try engine.compile("sum(values) / 48.0").recognizedReductions(windowLength: 49)?.tailSum == nil)
        #expect(try engine.compile("max(values) - min(values)").recognizedReductions(windowLength: 49)?.tailSum == nil)
    }

    /// Box min/max rows first (NDImage/BoxMinMax.swift, `runSeparableRing`): input rows reduced in
    /// place (windows up to 8 columns, edge columns through the mode) or extended (longer windows),
    /// a ring of up to 16 rows combined in one or two passes; 3-D boxes through a ring of planes.
    /// A seeded fuzz over 2-D and 3-D boxes (short rows, windows larger than the image), element
    /// types, modes, cval, origins, output types, NaN / -0.0 / inf data, strided views, 1 and 3
    /// threads, against the literal kernel.
    @Test func rowsFirstBoxMinMaxEqualsTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("rowsFirstBoxMinMaxEqualsTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["min(values)", "np.max(values)", "max(values) - min(values)", "np.min(values) * 2"]
            .map { try engine.compile($0) }
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e300, -2.5, 2.5, 255.5, -1.0]
        var problems: [String] = []
        var strategyRuns = 0
        let rounds = testRounds(120)
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let rank = random.chance(0.5) ? 3 : 2
            let size: [Int], shape: [Int]
            if rank == 2 {
                size = [1 + random.below(random.chance(0.3) ? 16 : 9), 1 + random.below(random.chance(0.3) ? 20 : 9)]
                shape = [1 + random.below(random.chance(0.2) ? 6 : 40), 1 + random.below(random.chance(0.3) ? 8 : 50)]
            } else {
                size = (0..<3).map { _ in 1 + random.below(random.chance(0.2) ? 12 : 6) }
                shape = (0..<3).map { _ in 1 + random.below(random.chance(0.2) ? 4 : 14) }
            }
            let inType = random.pick(ElementType.allCases)
            let outType: ElementType = random.chance(0.6) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 2).rounded()
            let hazards = inType.isFloatingPoint && random.chance(0.2)
            let values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: hazards ? specials : [],
                                           specialRate: 0.01, infinityRate: 0.05, random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            if try kernel.windowStrategy(shape: shape, elementType: inType, options: options).name != "literal" { strategyRuns += 1 }
            problems += differencesFromTheLiteralKernel(kernel, input, options, output: outType,
                label: "round \(round) \(kernel.name) \(inType)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval)")
        }
        // Every row length around the window's (in place, edges only, extended), 9-16 rows (two passes).
        for (size, widths) in [([3, 8], [1, 7, 8, 9, 20]), ([12, 5], [4, 5, 6, 30]), ([16, 9], [8, 9, 10, 25]), ([9, 1], [1, 3])] {
            for type in [ElementType.uint8, .float32, .uint16, .float64] {
                for width in widths {
                    let input = try NDArray.random(shape: [20, width], elementType: type, seed: UInt64(width * 31 + size[0]))
                    for mode in BoundaryMode.allCases {
                        for origin in [[0, 0], [-(size[0] / 2), size[1] / 2 - (1 - size[1] % 2)], [size[0] / 2 - (1 - size[0] % 2), -(size[1] / 2)]] {
                            let options = FilterOptions(size: size, mode: mode, cval: 3, origin: origin)
                            let literal = Outcome { try kernels[0].genericFilter(input, options: options, strategy: .literal) }
                            let fast = Outcome { try kernels[0].genericFilter(input, options: options, threads: 3) }
                            if let d = fast.difference(from: literal) {
                                problems.append("\(type) width \(width) size \(size) \(mode) origin \(origin): \(d)")
                            }
                        }
                    }
                }
            }
        }
        // One NaN or -0.0 anywhere in a float row (edges, interior, the few elements the folded check
        // leaves to a separate pass) makes the strategy decline.
        for type in [ElementType.float32, .float64] {
            for special in [Double.nan, -0.0] {
                for position in 0..<(4 * 12) {
                    var values = (0..<(4 * 12)).map { Double(($0 * 7) % 11) }
                    values[position] = special
                    let input = try NDArray.make(shape: [4, 12], elementType: type, values: values)
                    for size in [[3, 3], [2, 5], [3, 8]] {
                        let options = FilterOptions(size: size, mode: .nearest)
                        let literal = Outcome { try kernels[0].genericFilter(input, options: options, strategy: .literal) }
                        let fast = Outcome { try kernels[0].genericFilter(input, options: options) }
                        if let d = fast.difference(from: literal) {
                            problems.append("\(type) \(special) at \(position) size \(size): \(d)")
                        }
                    }
                }
            }
        }
        // Wide float32 rows written in place (columns in strips of 512-832 were tried and measured
        // slower; kept as a wide-row check): every mode, odd row counts, NaN or -0.0 anywhere.
        for size in [[3, 3], [8, 5], [2, 8], [5, 1]] {
            for mode in BoundaryMode.allCases {
                let input = try NDArray.random(shape: [7, 1800], elementType: .float32, seed: UInt64(size[0] * 10 + size[1]))
                let options = FilterOptions(size: size, mode: mode, cval: 2, origin: [0, size[1] > 2 ? 1 : 0])
                for threads in [1, 3] {
                    let literal = Outcome { try kernels[1].genericFilter(input, options: options, strategy: .literal) }
                    let fast = Outcome { try kernels[1].genericFilter(input, options: options, threads: threads) }
                    if let d = fast.difference(from: literal) {
                        problems.append("wide float32 size \(size) \(mode) threads \(threads): \(d)")
                    }
                }
            }
        }
        for position in [0, 1, 511, 512, 513, 831, 832, 833, 1663, 1664, 1798, 1799] {
            for special in [Double.nan, -0.0] {
                var values = (0..<(5 * 1800)).map { Double(($0 * 13) % 17) }
                values[1800 * 2 + position] = special
                let input = try NDArray.make(shape: [5, 1800], elementType: .float32, values: values)
                for size in [[3, 3], [8, 5], [2, 8]] {
                    let options = FilterOptions(size: size, mode: .reflect)
                    let literal = Outcome { try kernels[0].genericFilter(input, options: options, strategy: .literal) }
                    let fast = Outcome { try kernels[0].genericFilter(input, options: options) }
                    if let d = fast.difference(from: literal) {
                        problems.append("wide float32 \(special) at \(position) size \(size): \(d)")
                    }
                }
            }
        }
        print("rows-first box min/max vs literal: \(rounds) rounds, \(strategyRuns) chose a strategy, \(problems.count) differences")
        #expect(strategyRuns >= coverageFloor(rounds, 1, 2), "too few rounds exercised a strategy")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The AVX-512 box passes (RankKernelsC `box_minmax.c`: the row pass, the pair pass and the fused
    /// step; float32, uint16 and int16 boxes up to 9 rows and 16 columns) against the literal kernel:
    /// rows around the vector widths (16 float32 / 32 uint16 lanes, and the 64-byte phase), every
    /// mode, origins, cval, odd and even row counts, output types, strided views, NaN / -0.0 / inf
    /// data, 1 and 3 threads, output rows in pairs and one at a time; a NaN or -0.0 at every place of a
    /// row. Run once more with FILTERJIT_NO_AVX512=1 for the Swift passes (the same cases then take them).
    @Test func avx512BoxMinMaxEqualsTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("avx512BoxMinMaxEqualsTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed)); AVX-512 box kernels: \(BoxKernels.available)")
        // On a CPU with AVX-512 F/BW/DQ and the kernels not switched off, this test must reach them.
        if cpuRunsKernels(needing: ["avx512f", "avx512bw", "avx512dq"]) { #expect(BoxKernels.available) }
        var random = FusedTestRandom(seed: seed)
        // Output rows in pairs and one at a time (`filterjit_box_row_pairs`: the CPU picks one), in turn.
        defer { filterjit_box_set_row_pairs(-1) }
        let kernels = try ["min(values)", "np.max(values)", "max(values) - min(values)"].map { try engine.compile($0) }
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, -2.5, 2.5, 255.5, -1.0]
        let widths = [1, 2, 7, 15, 16, 17, 18, 24, 31, 32, 33, 34, 47, 48, 49, 63, 64, 65, 66, 80, 97, 130]
        var problems: [String] = []
        var strategyRuns = 0
        let rounds = testRounds(160)
        for round in 0..<rounds {
            let kernel = round % 5 == 4 ? kernels[2] : kernels[round % 2]
            filterjit_box_set_row_pairs(Int32(round / 2 % 2))
            let size = [1 + random.below(9), 1 + random.below(random.chance(0.2) ? 18 : 10)]
            let shape = [1 + random.below(random.chance(0.2) ? 5 : 24), random.pick(widths) + (random.chance(0.2) ? random.below(20) : 0)]
            let inType: ElementType = random.pick([.float32, .float32, .uint16, .uint16, .int16, .uint8, .float64])
            let outType: ElementType = random.chance(0.7) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 2).rounded()
            let hazards = inType.isFloatingPoint && random.chance(0.25)
            let values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: hazards ? specials : [],
                                           specialRate: 0.01, infinityRate: 0.05, random: &random)
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.15) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            if try kernel.windowStrategy(shape: shape, elementType: inType, options: options).name != "literal" { strategyRuns += 1 }
            problems += differencesFromTheLiteralKernel(kernel, input, options, output: outType,
                label: "round \(round) \(kernel.name) \(inType)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval)")
        }
        // Every square box 1...9 and a few oblong ones, every width around the vector widths, every mode.
        for k in 1...9 {
            for type in [ElementType.float32, .uint16, .int16] {
                for width in [k, 15, 16, 17, 31, 32, 33, 40 + k] {
                    for size in [[k, k], [k, 17 - k]] {
                        let input = try NDArray.random(shape: [11 + k % 2, width], elementType: type, seed: UInt64(width * 31 + k))
                        filterjit_box_set_row_pairs(Int32(width % 2))
                        for mode in BoundaryMode.allCases {
                            let options = FilterOptions(size: size, mode: mode, cval: 3)
                            let kernel = kernels[(k + width) % 2]
                            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 1 + width % 3) }
                            if let d = fast.difference(from: literal) {
                                problems.append("\(type) width \(width) size \(size) \(mode): \(d)")
                            }
                        }
                    }
                }
            }
        }
        // One NaN or -0.0 at every place of a float32 image (first rows, the rows that enter the fused
        // step in pairs, interior and edge columns): the strategy must decline.
        for special in [Double.nan, -0.0] {
            for position in 0..<(6 * 37) {
                var values = (0..<(6 * 37)).map { Double(($0 * 7) % 11) }
                values[position] = special
                let input = try NDArray.make(shape: [6, 37], elementType: .float32, values: values)
                for size in [[3, 3], [5, 9], [9, 5]] {
                    filterjit_box_set_row_pairs(Int32(position / 2 % 2))
                    let options = FilterOptions(size: size, mode: position % 2 == 0 ? .nearest : .reflect)
                    let literal = Outcome { try kernels[0].genericFilter(input, options: options, strategy: .literal) }
                    let fast = Outcome { try kernels[0].genericFilter(input, options: options) }
                    if let d = fast.difference(from: literal) {
                        problems.append("float32 \(special) at \(position) size \(size): \(d)")
                    }
                }
            }
        }
        print("AVX-512 box min/max vs literal: \(rounds) rounds, \(strategyRuns) chose a strategy, \(problems.count) differences")
        #expect(strategyRuns >= coverageFloor(rounds, 1, 2), "too few rounds exercised a strategy")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The single-pass small boxes of 8- and 16-bit integers (RankKernelsC `box_minmax_fused.c`: up to 8 rows
    /// and 8 (16-bit: 12) columns, output rows in pairs, edges through the mode as virtual vectors; without
    /// AVX-512 `box_minmax_fused_avx2.c`, up to 8 x 8 with the default centre, float32 too (NaN / -0.0 placed in
    /// some rounds: its hazard exit), switched off in a quarter of the rounds; wider ones take the other kernels,
    /// compared all the same) against the literal
    /// kernel: widths around the vector widths (64 uint8 / 32 uint16 lanes, AVX2 32 / 16; one and two vectors plus or minus
    /// one; rows of 3 vectors or more, whose vectors the AVX-512 kernel lays on the output row's 64-byte lines, which
    /// every other row of an odd width moves), windows wider than the row, every mode, origins, footprints whose ones are a span anywhere in a
    /// wider footprint (windows wholly left or right of the pixel, up to and beyond a vector's width: those
    /// run the other passes), cval, odd and even row counts, output types (another type takes the other
    /// passes), 1 and 3 threads, output rows in pairs and one at a time.
    /// On a CPU with the kernels it must reach them (their run counter grows).
    @Test func fusedSmallBoxesEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fusedSmallBoxesEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed)); fused box kernels: 8-bit \(BoxKernels.fusedServe(UInt8.self)), 16-bit \(BoxKernels.fusedServe(UInt16.self))")
        if cpuRunsKernels(needing: ["avx512f", "avx512bw", "avx512dq", "avx512vbmi"]) || cpuRunsAVX2Kernels() {
            #expect(BoxKernels.fusedServe(UInt8.self) && BoxKernels.fusedServe(UInt16.self))
        }
        let runsBefore = filterjit_fused_box_runs()
        var random = FusedTestRandom(seed: seed)
        // Output rows in pairs and one at a time (`filterjit_box_row_pairs`: the CPU picks one), in turn.
        defer { filterjit_box_set_row_pairs(-1); filterjit_fused_box_set_avx2(-1) }
        let kernels = try ["min(values)", "np.max(values)"].map { try engine.compile($0) }
        let specials: [Double] = [-1.0, 0.0, 255.0, 256.0, 2.5, -129.0, 65535.0, 70000.0]
        let widths = [1, 2, 15, 31, 32, 33, 63, 64, 65, 66, 95, 96, 97, 127, 128, 129, 130, 191, 192, 200, 257, 300]
        var problems: [String] = []
        var strategyRuns = 0
        let rounds = testRounds(200)
        for round in 0..<rounds {
            let kernel = kernels[round % 2]
            filterjit_box_set_row_pairs(Int32(round / 2 % 2))
            // (Without AVX-512: the AVX2 kernel, or in a quarter of the rounds the Swift passes.)
            filterjit_fused_box_set_avx2(round % 4 == 3 ? 0 : -1)
            let size = [1 + random.below(8), 1 + random.below(random.chance(0.3) ? 16 : 7)]
            let shape = [1 + random.below(random.chance(0.2) ? 4 : 20), random.pick(widths) + (random.chance(0.2) ? random.below(9) : 0)]
            let inType: ElementType = random.pick([.uint8, .uint8, .int8, .uint16, .uint16, .int16, .float32])
            let outType: ElementType = random.chance(0.85) ? inType : random.pick(ElementType.allCases)
            // Origins up to the window's ends (the pixel stays inside a box's window).
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.4) ? random.pick(specials) : (random.unit() * 10 - 2).rounded()
            var values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: [], specialRate: 0,
                                           infinityRate: inType == .float32 ? 0.05 : 0, random: &random)
            if inType == .float32 && random.chance(0.3) {
                // A NaN or -0.0 anywhere (the AVX2 float32 kernel's hazard exit: the exact path).
                values[random.below(values.count)] = random.pick([.nan, -0.0])
            }
            let input = try NDArray.make(shape: shape, elementType: inType, values: values)
            var options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            if random.chance(0.3) {
                // The ones a span of size[1] columns at `at` in a footprint `wide` columns wide: the window lies
                // anywhere from wholly left to wholly right of the pixel.
                let wide = size[1] + random.below(random.chance(0.5) ? 20 : 100)
                let at = random.below(wide - size[1] + 1)
                let mask = (0..<(size[0] * wide)).map { i in (at..<(at + size[1])).contains(i % wide) }
                options = FilterOptions(footprint: try Footprint(shape: [size[0], wide], mask: mask), mode: mode, cval: cval)
            }
            if try kernel.windowStrategy(shape: shape, elementType: inType, options: options).name != "literal" { strategyRuns += 1 }
            problems += differencesFromTheLiteralKernel(kernel, input, options, output: outType,
                label: "round \(round) \(kernel.name) \(inType)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval)")
        }
        filterjit_fused_box_set_avx2(-1)
        // Every row count 1...8 with a few lengths, at the widths where the vectors end, every mode in turn.
        var turn = 0
        for k in 1...8 {
            for length in Set([1, 2, 3, k, 16]).sorted() {
                for type in [ElementType.uint8, .uint16, .float32] {
                    for width in [7, 9, 15, 31, 33, 63, 65, 129] {
                        let mode = BoundaryMode.allCases[turn % BoundaryMode.allCases.count]
                        filterjit_box_set_row_pairs(Int32(turn / 3 % 2))
                        turn += 1
                        let input = try NDArray.random(shape: [9 + k % 2, width], elementType: type, seed: UInt64(width * 31 + k * 7 + length))
                        let options = FilterOptions(size: [k, length], mode: mode, cval: 7)
                        let kernel = kernels[(k + length) % 2]
                        let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                        let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 1 + width % 3) }
                        if let d = fast.difference(from: literal) {
                            problems.append("\(type) width \(width) size \([k, length]) \(mode): \(d)")
                        }
                    }
                }
            }
        }
        let runs = filterjit_fused_box_runs() - runsBefore
        print("fused small boxes vs literal: \(rounds) rounds, \(strategyRuns) chose a strategy, \(runs) kernel runs, \(problems.count) differences")
        if BoxKernels.fusedServe(UInt8.self) { #expect(runs > coverageFloor(rounds, 1, 2), "the fused box kernels were not reached") }
        #expect(strategyRuns >= coverageFloor(rounds, 1, 2), "too few rounds exercised a strategy")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The AVX2 fused float32 box kernel checks each input row for NaN and -0.0 only in the call that first
    /// reads it: a special in any row, first or last of a window, of a pair of output rows or of the image, must
    /// still send the run to the exact path (equal to the literal kernel), with output rows in pairs and singly.
    @Test func fusedFloat32BoxesSeeNaNAndNegativeZeroInEveryRow() throws {
        guard frontEndAvailable else { return }
        defer { filterjit_box_set_row_pairs(-1) }
        let kernels = try ["min(values)", "np.max(values)"].map { try engine.compile($0) }
        let runsBefore = filterjit_fused_box_runs()
        let height = 11, width = 70
        var problems: [String] = []
        for k in [2, 3, 5] {
            for row in 0..<height {
                // (1.0: no hazard, so that the kernel writes and counts a run.)
                for special in [Double.nan, -0.0, 1.0] {
                    for pairs: Int32 in [0, 1] {
                        filterjit_box_set_row_pairs(pairs)
                        // -0.0 among zeros (where min/max choose between equals), NaN among ordinary values.
                        var values = (0..<(height * width)).map { i in special == 0 ? 0.0 : Double((i * 37) % 101) - 50 }
                        // In the columns the vector loop reads (16 ..< 48; the scalar ends check their own).
                        values[row * width + 16 + (row * 13) % 32] = special
                        let input = try NDArray.make(shape: [height, width], elementType: .float32, values: values)
                        let options = FilterOptions(size: [k, 1 + (row + k) % 7], mode: .nearest)
                        for kernel in kernels {
                            problems += differencesFromTheLiteralKernel(kernel, input, options, output: .float32,
                                label: "\(kernel.name) k \(k) row \(row) special \(special) pairs \(pairs)")
                        }
                    }
                }
            }
        }
        // Where the AVX2 kernel serves float32 (no AVX-512), the runs must have reached it.
        if BoxKernels.fusedServe(Float.self) {
            #expect(filterjit_fused_box_runs() > runsBefore, "the fused float32 box kernel was not reached")
        }
        #expect(problems.isEmpty, "\(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 8-bit boxes of more than 8 rows or columns take the AVX-512 VBMI kernel (RankKernelsC
    /// `box_minmax_long.c`, `runSeparableLong`): seeded fuzz against the literal kernel over uint8 and
    /// int8, box sizes 1-40 per axis with at least one above 8 (windows larger than the image included),
    /// shapes 1-300 per axis (widths around 64 and 128), every mode, cval, origins, min and max, 1 and 3
    /// threads, reversed views and other output types (which keep the Swift passes), with the kernel on
    /// and off (`BoxLongKernel.enabled`), and its columns-first path allowed or not in turn (it must run); without
    /// AVX-512 the AVX2 kernel (box_minmax_long_avx2.c: windows up to 63 columns starting within 31 of the pixel).
    @Test func longUInt8BoxMinMaxEqualsTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("longUInt8BoxMinMaxEqualsTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed)); kernel: \(BoxLongKernel.available)")
        // On a CPU with AVX-512 F/BW/DQ/VBMI (or AVX2) and the kernels not switched off, this test must reach it.
        if cpuRunsKernels(needing: ["avx512f", "avx512bw", "avx512dq", "avx512vbmi"]) || cpuRunsAVX2Kernels() {
            #expect(BoxLongKernel.available)
        }
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["min(values)", "np.max(values)"].map { try engine.compile($0) }
        defer { BoxLongKernel.enabled = true }
        let widths = [1, 2, 7, 31, 63, 64, 65, 66, 100, 127, 128, 129, 130, 191, 192, 193, 300]
        var problems: [String] = []
        var runs = 0
        let rounds = testRounds(90)
        let kernelRunsBefore = filterjit_box_long_runs(), columnsFirstBefore = filterjit_box_long_columns_first_runs()
        // The kernel prefetches only where output rows go one at a time (`filterjit_box_row_pairs`): both, in turn;
        // one round in three with its columns-first path off (rows first for every shape).
        defer { filterjit_box_set_row_pairs(-1); filterjit_box_long_set_columns_first(-1) }
        for round in 0..<rounds {
            filterjit_box_set_row_pairs(Int32(round / 2 % 2))
            filterjit_box_long_set_columns_first(round % 3 == 2 ? 0 : -1)
            let kernel = kernels[round % 2]
            var size = [1 + random.below(40), 1 + random.below(40)]
            if size.max()! <= 8 { size[random.below(2)] = 9 + random.below(32) }
            let rowsCount = random.chance(0.15) ? 1 + random.below(300) : 1 + random.below(random.chance(0.3) ? 8 : 60)
            let width = random.chance(0.6) ? random.pick(widths) : 1 + random.below(300)
            let shape = [rowsCount, width]
            let type: ElementType = random.chance(0.6) ? .uint8 : .int8
            let outType: ElementType = random.chance(0.85) ? type : random.pick([.uint8, .int8, .int16, .float64])
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.pick([0.0, 3, 255, -128, 127, -1, 7])
            let extremes = random.chance(0.5)
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                let v = extremes && random.chance(0.6) ? random.pick([0.0, 255]) : Double(random.below(256))
                return type == .int8 ? v - 128 : v
            }
            var input = try NDArray.make(shape: shape, elementType: type, values: values)
            if random.chance(0.15) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            problems += longBoxDifferences(kernel, input, options, output: outType, runs: &runs,
                label: "round \(round) \(kernel.name) \(type)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval)")
        }
        // Square boxes 9-31 over every mode and widths around the vector width, uint8 and int8; the kernel's
        // limits (64 columns, 255 rows) and one past them (the Swift passes).
        BoxLongKernel.enabled = true
        filterjit_box_long_set_columns_first(-1)
        for size in [[9, 64], [9, 65], [64, 9], [255, 9], [256, 9]] {
            for type in [ElementType.uint8, .int8] {
                let input = try NDArray.random(shape: [size[0] + 3, 150], elementType: type, seed: UInt64(size[0] * 7 + size[1]))
                let options = FilterOptions(size: size, mode: size[0] % 2 == 0 ? .wrap : .mirror, cval: 5)
                let literal = Outcome { try kernels[0].genericFilter(input, options: options, strategy: .literal) }
                let fast = Outcome { try kernels[0].genericFilter(input, options: options, threads: 2) }
                if let d = fast.difference(from: literal) { problems.append("\(type) size \(size): \(d)") }
            }
        }
        for k in [9, 15, 16, 31] {
            for width in [k - 1, 63, 64, 65, 129] {
                for type in [ElementType.uint8, .int8] {
                    let input = try NDArray.random(shape: [k + 5, width], elementType: type, seed: UInt64(width * 31 + k))
                    for mode in BoundaryMode.allCases {
                        let options = FilterOptions(size: [k, k], mode: mode, cval: 5)
                        let kernel = kernels[(k + width) % 2]
                        let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                        let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 1 + width % 3) }
                        if let d = fast.difference(from: literal) {
                            problems.append("\(type) width \(width) size \(k) \(mode): \(d)")
                        }
                    }
                }
            }
        }
        let kernelRuns = filterjit_box_long_runs() - kernelRunsBefore
        let columnsFirst = filterjit_box_long_columns_first_runs() - columnsFirstBefore
        print("long 8-bit box min/max vs literal: \(rounds) rounds, \(runs) runs, \(kernelRuns) kernel runs "
              + "(\(columnsFirst) columns first), \(problems.count) differences")
        if BoxLongKernel.available {
            #expect(kernelRuns > 0, "the long-box kernel was not reached")
            // (The AVX2 kernel, box_minmax_long_avx2.c, has only its columns-first scheme and does not count it.)
            if cpuRunsKernels(needing: ["avx512f", "avx512bw", "avx512dq", "avx512vbmi"]) {
                #expect(columnsFirst > 0, "the long-box kernel's columns-first path was not reached")
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The 8-bit long-box kernel's non-temporal path (`stream`: outputs of `NonTemporalStores.minimumBytes` or more,
    /// lowered to 0 here): output rows 0, 1, 16 and 63 bytes past a 64-byte line, with row strides that keep that
    /// offset (whole lines streamed, the rows' first and last lines written in part) and strides that do not
    /// (no stream), equal the literal kernel; no byte outside the output view changes.
    @Test func longUInt8BoxStreamsWholeLinesAndWritesNothingElse() throws {
        guard frontEndAvailable else { return }
        let kernels = try ["min(values)", "max(values)"].map { try engine.compile($0) }
        NonTemporalStores.minimumBytes = 0
        defer { NonTemporalStores.minimumBytes = NonTemporalStores.defaultMinimumBytes }
        let runsBefore = filterjit_box_long_runs()
        var problems: [String] = []
        for (index, (width, size)) in [(64, [15, 15]), (128, [9, 31]), (200, [31, 9]), (1000, [15, 15]), (65, [16, 10])].enumerated() {
            let type: ElementType = index % 2 == 0 ? .uint8 : .int8
            let height = 40
            let input = try NDArray.random(shape: [height, width], elementType: type, seed: UInt64(7 * width + index))
            for lineOffset in [0, 1, 16, 63] {
                for keepsOffset in [true, false] {
                    // A row stride that is a multiple of 64 keeps every row at `lineOffset`; one past it does not.
                    let rowStride = (width + 63) / 64 * 64 + (keepsOffset ? 0 : 1)
                    let byteCount = rowStride * height + 256
                    let storage = try NDArrayStorage(byteCount: byteCount)
                    memset(storage.baseAddress, 0xA5, byteCount)
                    let base = Int(bitPattern: storage.baseAddress)
                    let byteOffset = 64 + ((lineOffset - base % 64) % 64 + 64) % 64
                    let output = try NDArray(storage: storage, elementType: type, shape: [height, width], strides: [rowStride, 1],
                                             byteOffset: byteOffset)
                    let mode = BoundaryMode.allCases[(index + lineOffset) % BoundaryMode.allCases.count]
                    let options = FilterOptions(size: size, mode: mode, cval: 3)
                    let kernel = kernels[(index + lineOffset) % 2]
                    let label = "\(type) width \(width) size \(size) \(mode) line offset \(lineOffset) keeps it \(keepsOffset)"
                    problems += problemsWritingIntoView(kernel, input, options, threads: 1 + lineOffset % 2, output: output,
                                                        storage: storage, byteOffset: byteOffset, rowStride: rowStride,
                                                        rowBytes: width, height: height, label: label)
                }
            }
        }
        if BoxLongKernel.available { #expect(filterjit_box_long_runs() > runsBefore, "the long-box kernel was not reached") }
        #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The 8- and 16-bit box kernels that lay their vectors on the output's 64-byte lines (AVX-512: the single-pass
    /// small boxes, a grid shifted by each pair of output rows' first row's offset past a line; the long 8-bit boxes'
    /// columns-first path, by the output rows' common offset): input and output rows 0-63 bytes past a line (a NumPy
    /// array's rows start 16 bytes past one), the output's and the input's offsets equal or not, row strides that
    /// keep the offset or move it row by row, rows of 2-32 vectors, windows whose left end reads the mode's columns in
    /// and beyond the first vector, every mode, origins, min and max, 1 and 2 threads, output rows in pairs and one at
    /// a time, equal to the literal kernel; no byte outside the output view changes. On a CPU with the kernels both
    /// shifted paths must run (their counters grow).
    @Test func boxKernelsOnTheOutputsLinesEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let kernels = try ["min(values)", "np.max(values)"].map { try engine.compile($0) }
        let fusedBefore = filterjit_fused_box_shifted_runs(), longBefore = filterjit_box_long_shifted_runs()
        let columnsFirstBefore = filterjit_box_long_columns_first_runs()
        defer { filterjit_box_set_row_pairs(-1) }
        var problems: [String] = []
        var turn = 0
        let cases: [(width: Int, size: [Int], type: ElementType)] = [
            (200, [3, 3], .uint8), (257, [5, 5], .int8), (1000, [3, 3], .uint16), (300, [8, 7], .uint8), (193, [2, 4], .int16),
            (200, [15, 15], .uint8), (300, [9, 31], .int8), (1000, [31, 9], .uint8), (130, [16, 17], .uint8), (257, [9, 63], .uint8),
        ]
        let modes = BoundaryMode.allCases
        for (index, item) in cases.enumerated() {
            let height = 12 + index % 3
            let itemSize = item.type.itemSize
            let source = try NDArray.random(shape: [height, item.width], elementType: item.type, seed: UInt64(31 * item.width + index))
            for lineOffset in [0, 1, 4, 16, 33, 48, 63] {
                for variant in 0..<3 {
                    // 0: input at the output's offset; 1: elsewhere on its line; 2: both, rows one element past a
                    // multiple of 64 bytes apart (each row at another offset).
                    let rowStride = (item.width * itemSize + 63) / 64 * 64 + (variant == 2 ? itemSize : 0)
                    func view(_ offset: Int, fill: UInt8) throws -> (NDArray, NDArrayStorage, Int) {
                        let storage = try NDArrayStorage(byteCount: rowStride * height + 256)
                        memset(storage.baseAddress, Int32(fill), storage.byteCount)
                        let base = Int(bitPattern: storage.baseAddress)
                        let byteOffset = 64 + ((offset - base % 64) % 64 + 64) % 64
                        let array = try NDArray(storage: storage, elementType: item.type, shape: [height, item.width],
                                                strides: [rowStride, itemSize], byteOffset: byteOffset)
                        return (array, storage, byteOffset)
                    }
                    let outputOffset = lineOffset & ~(itemSize - 1)
                    let (input, _, _) = try view(variant == 1 ? (lineOffset + 24) % 64 & ~(itemSize - 1) : outputOffset, fill: 0)
                    copyLogically(from: source, to: input)
                    let (output, storage, byteOffset) = try view(outputOffset, fill: 0xA5)
                    // Each setting from its own counter, so that no two move together.
                    let mode = modes[turn % modes.count]
                    let origin = turn / 3 % 4 == 3 ? item.size.map { ($0 - 1) / 2 } : [0, 0]
                    let kernel = kernels[turn / 2 % 2]
                    let threads = 1 + turn / 5 % 2
                    let pairs = turn / 7 % 2
                    filterjit_box_set_row_pairs(Int32(pairs))
                    turn += 1
                    let options = FilterOptions(size: item.size, mode: mode, cval: 3, origin: origin)
                    let label = "\(item.type) width \(item.width) size \(item.size) origin \(origin) \(mode) \(kernel.name) line offset \(lineOffset) variant \(variant) threads \(threads) pairs \(pairs)"
                    problems += problemsWritingIntoView(kernel, input, options, threads: threads, output: output,
                                                        storage: storage, byteOffset: byteOffset, rowStride: rowStride,
                                                        rowBytes: item.width * itemSize, height: height, label: label)
                }
            }
        }
        let fusedShifted = filterjit_fused_box_shifted_runs() - fusedBefore, longShifted = filterjit_box_long_shifted_runs() - longBefore
        print("boxes on the outputs' lines: \(turn) calls, shifted fused kernel runs \(fusedShifted), shifted long (columns first) \(longShifted), \(problems.count) problems")
        if cpuRunsKernels(needing: ["avx512f", "avx512bw", "avx512dq", "avx512vbmi"]) {
            #expect(fusedShifted > 0, "the fused box kernel's shifted grid was not reached")
            #expect(filterjit_box_long_columns_first_runs() > columnsFirstBefore, "the long-box kernel's columns-first path was not reached")
            #expect(longShifted > 0, "the long-box kernel's shifted grid was not reached")
        }
        #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The wide-lane long-box kernel (`filterjit_box_long_f32` ... `_i16`, branch w12o: float32, float64, uint16,
    /// int16 2-D boxes of 9 or more rows; without AVX-512 the AVX2 one) against the literal kernel: seeded fuzz over box sizes 9-40 rows,
    /// widths around 16 lanes, shapes 1-300, every mode, origins, cval, NaN / -0.0 / inf data (the kernel
    /// declines and the exact path must still give the literal result), with the kernel on and off.
    @Test func longWideBoxMinMaxEqualsTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("longWideBoxMinMaxEqualsTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed)); kernel: \(BoxLongKernel.wideAvailable)")
        if cpuRunsKernels(needing: ["avx512f", "avx512bw", "avx512dq"]) { #expect(BoxLongKernel.wideAvailable) }
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["min(values)", "np.max(values)"].map { try engine.compile($0) }
        defer { BoxLongKernel.enabled = true }
        let widths = [1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 127, 128, 129, 300]
        let specials = [Double.nan, -0.0, .infinity, -.infinity, 0.0]
        var problems: [String] = []
        var runs = 0
        let rounds = testRounds(100)
        let kernelRunsBefore = BoxLongKernel.wideRuns, avx2RunsBefore = BoxLongKernel.wideAVX2Runs
        for round in 0..<rounds {
            let kernel = kernels[round % 2]
            let size = [9 + random.below(32), 1 + random.below(random.chance(0.3) ? 60 : 40)]
            let rowsCount = random.chance(0.2) ? 1 + random.below(300) : 1 + random.below(random.chance(0.3) ? 8 : 60)
            let width = random.chance(0.6) ? random.pick(widths) : 1 + random.below(300)
            let shape = [rowsCount, width]
            let type: ElementType = random.chance(0.55) ? .float32 : random.pick([.float64, .uint16, .int16])
            let outType: ElementType = random.chance(0.85) ? type : random.pick([.float32, .float64, .int16])
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.pick([0.0, 3, -2.5, 255, -1, 7, 1e30])
            let hazards = random.chance(0.3)
            let values: [Double]
            if type == .float32 || type == .float64 {
                values = randomImageValues(count: shape.reduce(1, *), type: type, specials: hazards ? specials : [],
                                           specialRate: random.chance(0.5) ? 0.002 : 0.05, infinityRate: 0.01, random: &random)
            } else {
                let range = integerRange(type)
                values = integerValues(count: shape.reduce(1, *), low: range.low, high: range.high, extremes: random.chance(0.5),
                                       random: &random)
            }
            var input = try NDArray.make(shape: shape, elementType: type, values: values)
            if random.chance(0.15) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            problems += longBoxDifferences(kernel, input, options, output: outType, runs: &runs,
                label: "round \(round) \(kernel.name) \(type)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval) hazards \(hazards)")
        }
        // Square float32 boxes 9-40 over every mode and widths around the vector width, clean and with one NaN
        // or -0.0 (in the last row: the kernel reads it last); column spans past the AVX-512 kernel's 8 levels (the
        // Swift passes there; the AVX2 kernel's levels 5-8 and its limit of 1024 columns without AVX-512) and rows
        // past 255.
        BoxLongKernel.enabled = true
        for k in [9, 15, 16, 31, 40] {
            for width in [k - 1, 15, 16, 17, 31, 33, 129] {
                for special in [nil, Double.nan, -0.0] {
                    var values = (0..<((k + 5) * width)).map { i in Double((i * 7919 + k) % 1001) / 4 - 125 }
                    if let special { values[values.count - 1 - (k + width) % width] = special }
                    let input = try NDArray.make(shape: [k + 5, width], elementType: .float32, values: values)
                    for mode in BoundaryMode.allCases {
                        let options = FilterOptions(size: [k, k], mode: mode, cval: 5)
                        let kernel = kernels[(k + width) % 2]
                        let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                        let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 1 + width % 3) }
                        if let d = fast.difference(from: literal) {
                            problems.append("float32 width \(width) size \(k) \(mode) special \(String(describing: special)): \(d)")
                        }
                    }
                }
            }
        }
        for size in [[9, 80], [9, 81], [256, 9], [12, 200], [9, 300], [10, 1024], [9, 1025]] {
            for type in [ElementType.float32, .float64, .uint16, .int16] where type == .float32 || size[1] >= 300 {
                let input = try NDArray.random(shape: [size[0] + 3, size[1] >= 300 ? 1100 : 150], elementType: type,
                                               seed: UInt64(size[0] * 7 + size[1]))
                let options = FilterOptions(size: size, mode: size[0] % 2 == 0 ? .wrap : .mirror, cval: 5)
                let kernel = kernels[(size[0] + size[1]) % 2]
                let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 2) }
                if let d = fast.difference(from: literal) { problems.append("\(type) size \(size): \(d)") }
            }
        }
        let kernelRuns = BoxLongKernel.wideRuns - kernelRunsBefore
        let avx2Runs = BoxLongKernel.wideAVX2Runs - avx2RunsBefore
        print("long wide-lane box min/max vs literal: \(rounds) rounds, \(runs) runs, \(kernelRuns) kernel runs, \(avx2Runs) AVX2 kernel runs, \(problems.count) differences")
        if BoxLongKernel.wideAvailable { #expect(kernelRuns > 0, "the wide-lane long-box kernel was not reached") }
        else if BoxLongKernel.wideAVX2 { #expect(avx2Runs > 0, "the AVX2 wide-lane long-box kernel was not reached") }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// A prepared generic_filter (`Kernel.prepareGenericFilter`, the C API's `filterjit_generic_filter_prepare`),
    /// planned on one array and run on others of the same layout, against the literal kernel on those arrays
    /// (seeded fuzz: reductions, tails and literal kernels, types, modes, cval, origins, threads, NaN/-0.0
    /// data, reversed views, an output that is the input, and arrays of another layout, which must run
    /// the full call).
    @Test func preparedRunsEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("preparedRunsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["min(values)", "np.max(values)", "max(values) - min(values)", "np.median(values)",
                           "sum(values)", "np.mean(values)", "values[0] * 2 + 1", "sorted(values)[1]"].map { try engine.compile($0) }
        let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, -2.5, 2.5]
        let widths = [1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70]
        var problems: [String] = []
        var strategyRuns = 0
        let rounds = 120
        for round in 0..<rounds {
            let kernel = random.pick(kernels)
            let size = [1 + random.below(6), 1 + random.below(6)]
            let shape = [1 + random.below(random.chance(0.2) ? 4 : 20), random.pick(widths) + random.below(4)]
            let inType: ElementType = random.pick([.uint8, .uint8, .uint16, .int16, .float32, .float64, .int32])
            let outType: ElementType = random.chance(0.75) ? inType : random.pick(ElementType.allCases)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.3) ? random.pick(specials) : (random.unit() * 10 - 2).rounded()
            let threads = random.pick([1, 3])
            let strategy: WindowStrategyChoice = random.chance(0.15) ? .literal : .auto
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            if try kernel.windowStrategy(shape: shape, elementType: inType, options: options).name != "literal" { strategyRuns += 1 }
            let reversed = random.chance(0.15)
            func image(_ hazards: Bool) throws -> NDArray {
                let values = randomImageValues(count: shape.reduce(1, *), type: inType, specials: hazards ? specials : [],
                                               specialRate: 0.02, infinityRate: 0.05, random: &random)
                let array = try NDArray.make(shape: shape, elementType: inType, values: values)
                return reversed ? try reversedView(array) : array
            }
            let label = "round \(round) \(kernel.name) \(inType)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval) threads \(threads) \(strategy)"
            let planned = try image(false)
            let plannedOutput = try NDArray(shape: shape, elementType: outType)
            let prepared: PreparedGenericFilter
            do {
                prepared = try kernel.prepareGenericFilter(input: planned, options: options, output: plannedOutput,
                                                           strategy: strategy, threads: threads)
            } catch {
                // The call itself must fail the same way.
                let direct = Outcome { try kernel.genericFilter(planned, options: options, output: .elementType(outType),
                                                                 strategy: strategy, threads: threads) }
                if case .array = direct { problems.append("\(label): preparation failed (\(error)), the call did not") }
                continue
            }
            for run in 0..<3 {
                let input = try image(inType.isFloatingPoint && run == 1)
                let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType),
                                                                  strategy: .literal) }
                let fast = Outcome {
                    let output = try NDArray(shape: shape, elementType: outType)
                    try prepared.run(input, output: output)
                    return output
                }
                if let d = fast.difference(from: literal) { problems.append("\(label) run \(run): \(d)") }
            }
            // The output is the input (same layout when the types agree): the plan must not run over it.
            if outType == inType {
                let input = try image(false)
                let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(outType),
                                                                  strategy: .literal) }
                let aliased = Outcome {
                    let copy = try NDArray(shape: shape, elementType: inType)
                    copyLogically(from: input, to: copy)
                    let view = reversed ? try reversedView(copy) : copy
                    try prepared.run(view, output: view)
                    return view
                }
                if let d = aliased.difference(from: literal) { problems.append("\(label) aliased: \(d)") }
            }
            // Another layout (a transposed shape, or a contiguous copy of a reversed view): the full call.
            let other = try NDArray.make(shape: [shape[1], shape[0]], elementType: inType,
                                         values: randomImageValues(count: shape.reduce(1, *), type: inType, specials: [],
                                                                   specialRate: 0, infinityRate: nil, random: &random))
            let literal = Outcome { try kernel.genericFilter(other, options: options, output: .elementType(outType),
                                                              strategy: .literal) }
            let fast = Outcome {
                let output = try NDArray(shape: other.shape, elementType: outType)
                try prepared.run(other, output: output)
                return output
            }
            if let d = fast.difference(from: literal) { problems.append("\(label) other layout: \(d)") }
        }
        print("prepared generic_filter vs literal: \(rounds) rounds, \(strategyRuns) chose a strategy, \(problems.count) differences")
        #expect(strategyRuns >= rounds / 3, "too few rounds exercised a strategy")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 3x3 and 5x5 medians of box windows compile nothing beyond the kernel: the network writes the output.
    @Test func smallBoxMediansAreWrittenDirectly() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("np.median(values)")
        for size in [[3, 3], [5, 5], [3, 3, 3]] {
            let shape = size.map { _ in 12 }
            let report = try kernel.windowStrategy(shape: shape, elementType: .uint8, options: FilterOptions(size: size))
            #expect(report.name != "literal" && !report.compiledTail, "\(size): \(report)")
        }
        // A disk of 21 taps keeps the literal kernel's network.
        let disk = try Footprint(shape: [5, 5], mask: (0..<25).map { i in (i / 5 - 2) * (i / 5 - 2) + (i % 5 - 2) * (i % 5 - 2) <= 4 })
        #expect(try kernel.windowStrategy(shape: [12, 12], elementType: .uint8, options: FilterOptions(footprint: disk)).name == "literal")
    }

    /// 64-bit integers beyond 2^53: the literal kernel sees them as doubles; the strategies must give its bits.
    @Test func wideIntegersEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        var problems: [String] = []
        for source in ["np.median(values)", "min(values)", "np.percentile(values, 30)"] {
            let kernel = try engine.compile(source)
            for type in [ElementType.int64, .uint64] {
                let values = (0..<64).map { i in Double((1 as UInt64) << 60) + Double(i % 7) * 4096 + Double(i % 3) }
                let input = try NDArray.make(shape: [8, 8], elementType: type, values: values)
                // Exact 64-bit values, not doubles: distinct neighbours that round to one double.
                let base = input.firstElementPointer
                for i in 0..<64 {
                    let value = (UInt64(1) << 60) + UInt64(i % 5)
                    if type == .int64 { (base + 8 * i).storeBytes(of: Int64(value), as: Int64.self) }
                    else { (base + 8 * i).storeBytes(of: value, as: UInt64.self) }
                }
                for size in [[3, 3], [5, 5]] {
                    let options = FilterOptions(size: size, mode: .nearest)
                    let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                    let fast = Outcome { try kernel.genericFilter(input, options: options) }
                    if let d = fast.difference(from: literal) { problems.append("\(source) \(type) \(size): \(d)") }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Found by the fuzz (seed 2059186257645205889): int32 data with cval -0.0 in constant mode.
    /// The literal window holds -0.0 where it reads cval, so `min` (first of equal values) can
    /// return -0.0; the strategy computes in int32, where cval would be 0, and must decline.
    @Test func integerDataWithNegativeZeroCvalRunsLiterally() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("min(values)")
        let input = try NDArray.make(shape: [3, 4], elementType: .int32, values: [0, 0, 5, 7, 0, 0, 1, 2, 3, 4, 5, 6])
        let options = FilterOptions(size: [1, 8], mode: .constant, cval: -0.0)
        let fast = try kernel.genericFilter(input, options: options, output: .elementType(.float64))
        let literal = try kernel.genericFilter(input, options: options, output: .elementType(.float64), strategy: .literal)
        #expect(firstDifference(fast, literal) == nil)
        #expect(literal.doubleValues().contains { $0 == 0 && $0.sign == .minus })
    }

    /// Float order statistics of non-box footprints keep a sorted window whose steps run in C
    /// (`filterjit_sorted_replace_f64/_f32`): with many equal values (few distinct ones), infinities,
    /// disks and random masks, every rank equals the literal kernel's.
    @Test func sortedFloatWindowsEqualTheLiteralKernel() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("sortedFloatWindowsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["np.median(values)", "np.percentile(values, 25)", "sorted(values)[3]", "np.quantile(values, 0.9)"]
            .map { try engine.compile($0) }
        var problems: [String] = []
        for round in 0..<40 {
            let kernel = random.pick(kernels)
            let type = random.pick([ElementType.float64, .float32])
            let radius = 3 + random.below(4)
            let side = 2 * radius + 1
            let disk = random.chance(0.5)
            let mask = (0..<(side * side)).map { i -> Bool in
                let (y, x) = (i / side - radius, i % side - radius)
                return disk ? y * y + x * x <= radius * radius : random.chance(0.7) || (y == 0 && x == 0)
            }
            let footprint = try Footprint(shape: [side, side], mask: mask)
            let shape = [1 + random.below(20), 1 + random.below(90)]
            let distinct = random.pick([2, 3, 7, 1000])
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                random.chance(0.02) ? random.pick([Double.infinity, -.infinity]) : Double(random.below(distinct)) / 4 - 1
            }
            let input = try NDArray.make(shape: shape, elementType: type, values: values)
            let options = FilterOptions(footprint: footprint, mode: random.pick(BoundaryMode.allCases), cval: 0.5)
            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 1 + random.below(3)) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) \(type) \(shape) side \(side) disk \(disk) distinct \(distinct): \(d)")
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    @Test func rankedRowsEqualTheLiteralKernel() throws {
        // Order statistics from `rankedRowsMinimumTaps` taps rank the footprint's rows together and slide
        // the window's ranks as bits (rank_merge.h). Footprints of many shapes (boxes, which took column
        // histograms before, tall columns, 3-D windows whose rows change at every plane, more than 255 rows,
        // which keep the sorted window or the histograms), images smaller than the window, every mode
        // (repeated rows at the borders, the cval row), ties and infinities, every element type (integers'
        // keys flip the sign bit of their own width: the types' extremes and both signs), 1-3 threads.
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("rankedRowsEqualTheLiteralKernel seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["np.median(values)", "np.percentile(values, 25)", "sorted(values)[0]", "np.quantile(values, [0.1, 0.9])[1]",
                           "np.median(values) - np.percentile(values, 75)"].map { try engine.compile($0) }
        var problems: [String] = []
        for round in 0..<testRounds(40) {
            let kernel = random.pick(kernels)
            let type = random.chance(0.5) ? random.pick([ElementType.float64, .float32])
                : random.pick([ElementType.uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64])
            let footprintShape: [Int]
            switch random.below(5) {
            case 0: footprintShape = [3 + random.below(13), 3 + random.below(13)]       // boxes and holed boxes
            case 1: footprintShape = [12 + random.below(30), 1 + random.below(2)]        // tall columns
            case 2: footprintShape = [1, 12 + random.below(30)]                          // one row
            case 3: footprintShape = [2 + random.below(3), 2 + random.below(4), 2 + random.below(4)]  // 3-D
            default: footprintShape = [256 + random.below(10), 1]                        // more than 255 rows
            }
            let holed = random.chance(0.4)
            var mask = (0..<footprintShape.reduce(1, *)).map { _ in !holed || random.chance(0.7) }
            mask[mask.count / 2] = true
            let footprint = try Footprint(shape: footprintShape, mask: mask)
            let shape = footprintShape.count == 3
                ? [1 + random.below(6), 1 + random.below(7), 1 + random.below(40)]
                : [1 + random.below(footprintShape[0] > 100 ? 300 : 30), 1 + random.below(80)]
            let distinct = random.pick([2, 5, 1000])
            let signed = [ElementType.int8, .int16, .int32, .int64].contains(type)
            // The types' extremes up to 32 bits; 64-bit ones beyond 2^32 (doubles cannot hold their extremes).
            let bits = Double(8 * type.itemSize)
            let extremes: [Double] = type.itemSize == 8 ? (signed ? [-0x1p40, 0x1p40] : [0, 0x1p40])
                : signed ? [-pow(2, bits - 1), pow(2, bits - 1) - 1] : [0, pow(2, bits) - 1]
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                if type.isFloatingPoint {
                    return random.chance(0.02) ? random.pick([Double.infinity, -.infinity]) : Double(random.below(distinct)) / 8 - 3
                }
                return random.chance(0.03) ? random.pick(extremes) : Double(random.below(distinct)) - (signed ? Double(distinct / 2) : 0)
            }
            let input = try NDArray.make(shape: shape, elementType: type, values: values)
            let options = FilterOptions(footprint: footprint, mode: random.pick(BoundaryMode.allCases),
                                        cval: type.isFloatingPoint ? random.pick([0.5, -1e300, .infinity]) : random.pick([0, 1, extremes[0]]))
            let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
            let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 1 + random.below(3)) }
            if let d = fast.difference(from: literal) {
                problems.append("round \(round) \(kernel.name) \(type) \(shape) footprint \(footprintShape) holed \(holed) " +
                                "\(options.mode) distinct \(distinct): \(d)")
            }
        }
        // Either side of the per-thread memory cap (RankedRows.maximumElements, 64 MiB): 200 rows of
        // 9,850 columns are ranked, 200 of 9,900 keep the sorted window; both equal the literal kernel.
        let median = kernels[0]
        let column = try Footprint(shape: [200, 1], mask: [Bool](repeating: true, count: 200))
        for width in [9_850, 9_900] {
            let values = (0..<(2 * width)).map { _ in Double(random.below(1000)) / 8 }
            let input = try NDArray.make(shape: [2, width], elementType: .float64, values: values)
            let options = FilterOptions(footprint: column, mode: .reflect)
            let literal = Outcome { try median.genericFilter(input, options: options, strategy: .literal) }
            let fast = Outcome { try median.genericFilter(input, options: options) }
            if let d = fast.difference(from: literal) { problems.append("width \(width): \(d)") }
        }
        #expect(200 * 9_850 <= RankedRows.maximumElements && 200 * 9_900 > RankedRows.maximumElements)
        // Every integer type (and bool) on footprints that take ranked rows, with the types' true extremes: 64-bit
        // values beyond 2^53 (the literal kernel rounds them to doubles first, ranked rows after the selection:
        // the same, as rounding keeps the order), Int64.min, unsigned keys with the top bit set.
        let disk3 = try Footprint(shape: [7, 7], mask: (0..<49).map { ($0 / 7 - 3) * ($0 / 7 - 3) + ($0 % 7 - 3) * ($0 % 7 - 3) <= 9 })
        let rankFootprints = [try Footprint(shape: [9, 9], mask: [Bool](repeating: true, count: 81)), disk3,
                              try Footprint(shape: [1, 15], mask: [Bool](repeating: true, count: 15))]
        let extremesOf: [ElementType: [Double]] = [
            .bool: [0, 1], .uint8: [0, 255], .int8: [-128, 127], .uint16: [0, 65535], .int16: [-32768, 32767],
            .uint32: [0, 4294967295], .int32: [-2147483648, 2147483647],
            .uint64: [0, 0x1p63, 0x1p64 - 2048, 0x1p53 + 2, 0x1p53 + 4], .int64: [-0x1p63, 0x1p63 - 1024, -0x1p53 - 2, 0x1p53 + 2]]
        for (type, extremes) in extremesOf.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for footprint in rankFootprints {
                let shape = [23, 37]
                let values = (0..<(shape[0] * shape[1])).map { _ -> Double in
                    random.chance(0.3) ? random.pick(extremes) : Double(random.below(type == .bool ? 2 : 100))
                }
                let input = try NDArray.make(shape: shape, elementType: type, values: values)
                let options = FilterOptions(footprint: footprint, mode: random.pick([.reflect, .nearest, .wrap]))
                // (A median of up to 25 taps off the box networks stays literal: its sorting network is faster.)
                for kernel in [median, kernels[1]] where !(kernel === median && footprint.shape == [1, 15]) {
                    let report = try kernel.windowStrategy(shape: shape, elementType: type, options: options)
                    if report.name == "literal" { problems.append("\(type) \(footprint.shape) \(kernel.name): runs literally") }
                    let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
                    let fast = Outcome { try kernel.genericFilter(input, options: options, threads: 1 + random.below(2)) }
                    if let d = fast.difference(from: literal) { problems.append("\(type) \(footprint.shape) \(kernel.name): \(d)") }
                }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) differences:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    @Test func floatDataWithNaNOrNegativeZeroRunsLiterally() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("min(values)")
        // Python's min keeps the first of -0.0 and 0.0 and skips a NaN unless it comes first:
        // only the literal order gives those bits, so the strategy must decline.
        var values = [Double](repeating: 1, count: 81)
        values[40] = -0.0
        values[41] = 0.0
        values[7] = .nan
        let input = try NDArray.make(shape: [9, 9], elementType: .float64, values: values)
        let options = FilterOptions(size: [7])
        let fast = try kernel.genericFilter(input, options: options)
        let literal = try kernel.genericFilter(input, options: options, strategy: .literal)
        #expect(firstDifference(fast, literal) == nil)
    }
}

/// The problems of one run of `kernel` into `output`, a view of `storage` (`height` rows `rowStride` bytes apart from
/// `byteOffset`, the first `rowBytes` of each its own) whose other bytes hold 0xA5: its difference from the literal
/// kernel, and how many bytes outside the view changed.
private func problemsWritingIntoView(_ kernel: Kernel, _ input: NDArray, _ options: FilterOptions, threads: Int,
                                     output: NDArray, storage: NDArrayStorage, byteOffset: Int, rowStride: Int,
                                     rowBytes: Int, height: Int, label: String) -> [String] {
    let literal = Outcome { try kernel.genericFilter(input, options: options, strategy: .literal) }
    do {
        _ = try kernel.genericFilter(input, options: options, output: .array(output), threads: threads)
    } catch {
        return ["\(label): \(error)"]
    }
    var problems: [String] = []
    if let d = Outcome({ output }).difference(from: literal) { problems.append("\(label): \(d)") }
    let bytes = storage.baseAddress.assumingMemoryBound(to: UInt8.self)
    var outside = 0
    for i in 0..<storage.byteCount {
        let inView = i >= byteOffset && (i - byteOffset) / rowStride < height && (i - byteOffset) % rowStride < rowBytes
        if !inView && bytes[i] != 0xA5 { outside += 1 }
    }
    if outside > 0 { problems.append("\(label): \(outside) bytes outside the output changed") }
    return problems
}

/// The literal kernel's result against the strategy's with the long-box kernels on and off (`BoxLongKernel.enabled`,
/// left on), at 1 and 3 threads: the differences, labelled; `runs` counts the strategy runs.
private func longBoxDifferences(_ kernel: Kernel, _ input: NDArray, _ options: FilterOptions, output: ElementType,
                                runs: inout Int, label: String) -> [String] {
    BoxLongKernel.enabled = true
    defer { BoxLongKernel.enabled = true }
    let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(output), strategy: .literal) }
    var problems: [String] = []
    for enabled in [true, false] {
        BoxLongKernel.enabled = enabled
        for threads in [1, 3] {
            let fast = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(output), threads: threads) }
            runs += 1
            if let d = fast.difference(from: literal) { problems.append("\(label) kernel \(enabled) threads \(threads): \(d)") }
        }
    }
    return problems
}

/// The strategy's result against the literal kernel's (the oracle) at 1 and 3 threads: one line per
/// thread count that differs, `label` first.
private func differencesFromTheLiteralKernel(_ kernel: Kernel, _ input: NDArray, _ options: FilterOptions,
                                             output: ElementType, label: String) -> [String] {
    let literal = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(output), strategy: .literal) }
    return [1, 3].compactMap { threads in
        let fast = Outcome { try kernel.genericFilter(input, options: options, output: .elementType(output), threads: threads) }
        return fast.difference(from: literal).map { "\(label) threads \(threads): \($0)" }
    }
}

/// Image data for the strategy fuzzers, drawn in a fixed order from `random`: small integers of the
/// type's range, or eighths for floats (±inf at `infinityRate` when given), and one of `specials`
/// (NaN, -0.0, ...) at `specialRate` when `specials` is not empty.
private func randomImageValues(count: Int, type: ElementType, specials: [Double], specialRate: Double,
                               infinityRate: Double?, random: inout FusedTestRandom) -> [Double] {
    (0..<count).map { _ in
        if !specials.isEmpty && random.chance(specialRate) { return random.pick(specials) }
        switch type {
        case .float32, .float64:
            if let infinityRate, random.chance(infinityRate) { return random.pick([Double.infinity, -.infinity]) }
            return (random.unit() * 200 - 100).rounded() / 8
        case .bool: return Double(random.below(2))
        case .uint8, .uint16, .uint32, .uint64: return Double(random.below(random.chance(0.5) ? 300 : 70000))
        default: return Double(random.below(300) - 150)
        }
    }
}

/// The values of an integer element type (bool: 0 and 1) as doubles: the box-sum fuzzers' range.
private func integerRange(_ type: ElementType) -> (low: Double, high: Double) {
    switch type {
    case .bool: return (0, 1)
    case .uint8: return (0, 255)
    case .int8: return (-128, 127)
    case .uint16: return (0, 65535)
    case .int16: return (-32768, 32767)
    case .uint32: return (0, 4_294_967_295)
    default: return (-2_147_483_648, 2_147_483_647)
    }
}

/// `count` random integers in low ... high; with `extremes`, about half of them one of the two ends.
private func integerValues(count: Int, low: Double, high: Double, extremes: Bool, random: inout FusedTestRandom) -> [Double] {
    (0..<count).map { _ -> Double in
        if extremes && random.chance(0.5) { return random.pick([low, high]) }
        return (low + random.unit() * (high - low)).rounded(.down)
    }
}

/// Whether /proc/cpuinfo lists AVX2 and FILTERJIT_NO_AVX2 leaves the AVX2 kernels on.
private func cpuRunsAVX2Kernels() -> Bool {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let off = ProcessInfo.processInfo.environment["FILTERJIT_NO_AVX2"] ?? ""
    return cpu.contains(" avx2") && (off.isEmpty || off.hasPrefix("0"))
}

/// Whether this CPU has every one of `flags` (as /proc/cpuinfo names them) and FILTERJIT_NO_AVX512 leaves the
/// AVX-512 kernels on (unset, empty, or starting with '0', as the C side reads it): then a test must reach them.
private func cpuRunsKernels(needing flags: [String]) -> Bool {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let off = ProcessInfo.processInfo.environment["FILTERJIT_NO_AVX512"] ?? ""
    return flags.allSatisfy { cpu.contains($0) } && (off.isEmpty || off.hasPrefix("0"))
}
