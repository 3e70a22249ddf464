// Fast-math float box sums (NDImage/FastBoxSums.swift, `WindowStrategyChoice.fastMath`): not the
// literal kernel's bits, so these tests check the bound docs/window-strategies.md states against the
// literal kernel (the oracle), on seeded random inputs with a large dynamic range, long rows, every
// mode, origins, windows larger than the image, NaN / inf / -0.0 data, and that the bits do not depend
// on the thread count. Without the opt-in nothing changes (bit-exact).

import Testing
import Foundation
import FilterLang
@testable import FilterJIT
@testable import NDImage
import RankKernelsC

@Suite(.serialized) struct FastMathSumTests {
    let engine: Engine

    init() throws { engine = try Engine() }

    /// The stated bound on |fast - literal| for a window of `rows` x `columns` taps whose absolute
    /// values sum to `absoluteSum` (docs/window-strategies.md, "Fast-math float sums"): the fast tree's
    /// depth (rows + columns - 2), NumPy's pairwise depth (at most n/8 + log2 n + 12), and for a
    /// mean the two roundings of the division (3 more ulps of sum|x| / n).
    static func bound(rows: Int, columns: Int, taps: Int? = nil, absoluteSum: Double, mean: Bool) -> Double {
        let n = Double(taps ?? rows * columns)
        let depth = Double(rows + columns) + n / 8 + log2(n) + 12 + (mean ? 3 : 0)
        return depth * 0x1p-53 * absoluteSum / (mean ? n : 1) * 1.0001
    }

    /// The bound fuzzers' kernels (source, mean, scale on the sum): direct writes (sum, mean) and a compiled tail.
    static let boundSources: [(String, Bool, Double)] = [("np.mean(values)", true, 1), ("np.sum(values)", false, 1),
                                                         ("np.sum(values) * 0.5", false, 0.5)]

    /// One fuzz round's runs: the strategy report, the literal kernel's result, the literal sums of |x| over
    /// each window (the bound's A), and the fast-math result at 1, 2 and 3 threads.
    static func fastMathRuns(_ kernel: Kernel, _ absolute: Kernel, _ input: NDArray, _ options: FilterOptions,
                             _ outType: ElementType) throws -> (WindowStrategyReport, NDArray, NDArray, [NDArray]) {
        let report = try kernel.windowStrategy(shape: input.shape, elementType: input.elementType, options: options,
                                               strategy: .fastMath, outputType: outType)
        let literal = try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .literal)
        let sums = try absolute.genericFilter(input, options: options, output: .elementType(.float64), strategy: .literal)
        let results = try (1...3).map { threads in
            try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .fastMath, threads: threads)
        }
        return (report, literal, sums, results)
    }

    /// Compares fast-math results with the literal kernel's under the bound; nil when within it.
    /// `scale`: the tail's factor on the sum (1, 1/n for a mean, 0.5, ...); `float32Output`: one more
    /// float32 rounding on each side.
    static func violation(fast: NDArray, literal: NDArray, absoluteSums: NDArray, rows: Int, columns: Int, taps: Int? = nil,
                          mean: Bool, scale: Double = 1, float32Output: Bool) -> String? {
        let f = fast.doubleValues(), l = literal.doubleValues(), a = absoluteSums.doubleValues()
        for i in f.indices {
            let x = f[i], y = l[i]
            if y.isNaN || x.isNaN {
                if x.isNaN != y.isNaN { return "element \(i): fast \(x), literal \(y)" }
                continue
            }
            if y.isInfinite || x.isInfinite {
                if x != y { return "element \(i): fast \(x), literal \(y)" }
                continue
            }
            // NumPy's sum is 0.0 + pairwise(...), never -0.0 (the literal fused kernel's unrolled sums
            // of 8-128 taps give -0.0 for a window of -0.0: a known difference of that kernel, see
            // docs/status.md, branch w12d), so a zero the fast sums give must be +0.0 (unless the run
            // fell back to that literal kernel: a cval of -0.0 is refused by every strategy).
            if x == 0 && x.sign == .minus && !(y == 0 && y.sign == .minus) { return "element \(i): fast -0.0 (literal \(y))" }
            var allowed = bound(rows: rows, columns: columns, taps: taps, absoluteSum: a[i], mean: mean) * scale
            if float32Output { allowed += max(abs(x), abs(y)) * 0x1p-23 }
            if abs(x - y) > allowed {
                return "element \(i): fast \(x), literal \(y), |difference| \(abs(x - y)) > bound \(allowed) (sum|x| \(a[i]))"
            }
        }
        return nil
    }

    @Test func fastMathBoxSumsAreWithinTheStatedBound() throws {
        guard frontEndAvailable else { return }
        defer { BoxMeanKernels.enabled = true }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fastMathBoxSumsAreWithinTheStatedBound seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let sources = Self.boundSources
        let kernels = try sources.map { try engine.compile($0.0) }
        let absolute = try engine.compile("np.sum(np.abs(values))")
        var problems: [String] = []
        var fastRuns = 0
        let rounds = testRounds(120)
        for round in 0..<rounds {
            let which = random.below(kernels.count)
            let kernel = kernels[which]
            let size = [1 + random.below(random.chance(0.3) ? 33 : 12), 1 + random.below(random.chance(0.3) ? 33 : 12)]
            var shape = [1 + random.below(random.chance(0.2) ? 8 : 40), 1 + random.below(random.chance(0.2) ? 8 : 60)]
            if random.chance(0.15) { shape = [1 + random.below(4), 1500 + random.below(1500)] }   // long rows
            if random.chance(0.1) { shape = [200 + random.below(300), 1 + random.below(5)] }      // long columns
            let inType: ElementType = random.pick([.float32, .float64])
            let outType: ElementType = random.chance(0.7) ? inType : (inType == .float32 ? .float64 : .float32)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.chance(0.5) ? random.pick([0, 1, -2.5, 1e6]) : (random.unit() * 10 - 2).rounded() / 4
            // Large dynamic range: magnitudes 1e-8 ... 1e8, and blocks of rows 1e12 next to tiny ones.
            let spread = random.chance(0.5)
            let width = shape[1]
            let values = (0..<shape.reduce(1, *)).map { index -> Double in
                let row = index / width
                if spread && (row / 7) % 3 == 1 { return (random.unit() - 0.5) * 1e12 }
                return (random.unit() - 0.5) * pow(10, Double(random.below(17)) - 8)
            }
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let (report, literal, sums, results) = try Self.fastMathRuns(kernel, absolute, input, options, outType)
            if report.isFastMath { fastRuns += 1 }
            let context = "round \(round) \(kernel.name) [\(report)] \(inType)->\(outType) \(shape) size \(size) "
                + "origin \(origin) \(mode) cval \(cval)"
            if let d = Self.violation(fast: results[0], literal: literal, absoluteSums: sums, rows: size[0], columns: size[1],
                                      mean: sources[which].1, scale: sources[which].2, float32Output: outType == .float32) {
                problems.append("\(context): \(d)")
            }
            for threads in 2...3 where results[threads - 1].doubleValues().map(\.bitPattern) != results[0].doubleValues().map(\.bitPattern) {
                problems.append("\(context): \(threads) threads give other bits than 1")
            }
            // The portable store (as FILTERJIT_NO_AVX512 runs it) against the AVX-512 streaming store.
            BoxMeanKernels.enabled = false
            let portable = try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .fastMath,
                                                    threads: 1 + random.below(3))
            BoxMeanKernels.enabled = true
            if portable.doubleValues().map(\.bitPattern) != results[0].doubleValues().map(\.bitPattern) {
                problems.append("\(context): the portable passes give other bits than the AVX-512 ones")
            }
        }
        print("fast-math box sums vs literal: \(rounds) rounds, \(fastRuns) fast, \(problems.count) problems")
        #expect(fastRuns >= coverageFloor(rounds, 1, 2), "too few rounds exercised the fast box sums")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The fused AVX-512 C passes (`filterjit_fast_box_sum`, branch w12j) and the AVX2 ones
    /// (fast_box_sums_avx2.c) give the bits of the Swift passes (with and without the C store) and of the
    /// portable run (FILTERJIT_NO_AVX512=1 FILTERJIT_NO_AVX2=1), on
    /// every generator of the bound test plus NaN / +-inf / -0.0 data and cvals, at 1 and 3 threads
    /// (NaN results compare as NaN: their sign and payload follow the compiler's operand order); written
    /// directly and, through a compiled tail, as rows of doubles.
    @Test func fusedFastBoxSumsGiveTheSwiftPassesBits() throws {
        guard frontEndAvailable else { return }
        defer {
            BoxMeanKernels.forceStream = nil
            BoxMeanKernels.enabled = true
            BoxMeanKernels.fusedFastSums = true
            unsetenv("FILTERJIT_NO_AVX512")
            filterjit_rank_kernels_set_avx512(-1)
            filterjit_fast_box_sum_set_avx2(-1)
        }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fusedFastBoxSumsGiveTheSwiftPassesBits seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        // (The tail takes the sums as planes: the C passes write them as rows of doubles.)
        let sources = ["np.mean(values)", "np.sum(values)", "np.sum(values) * 0.5 - 1.0"]
        let kernels = try sources.map { try engine.compile($0) }
        let avx512 = filterjit_rank_kernels_avx512() != 0
        // Whether the AVX2 passes run by default (FILTERJIT_NO_AVX2 unset), and whether the CPU has AVX2 (the
        // switch turns on only where it has).
        let avx2ByDefault = filterjit_fast_box_sum_avx2() != 0
        filterjit_fast_box_sum_set_avx2(1)
        let avx2 = filterjit_fast_box_sum_avx2() != 0
        filterjit_fast_box_sum_set_avx2(-1)
        var problems: [String] = []
        var fusedRuns = 0, avx2Runs = 0
        let rounds = 150
        for round in 0..<rounds {
            let which = random.below(kernels.count)
            let kernel = kernels[which]
            var size = [1 + random.below(random.chance(0.3) ? 33 : 12), 1 + random.below(random.chance(0.3) ? 33 : 12)]
            if random.chance(0.3) { size = [random.pick([3, 5, 9, 15, 31]), random.pick([3, 5, 9, 15, 31])] }
            // Long windows (the van Herk plan's blocks of 34-150 columns, often longer than the row).
            if random.chance(0.1) { size[1] = 34 + random.below(117) }
            // Boxes of three rows take their own vertical pass in C (fast_box_sums_scalar.h, FJ_FBS_RIGHT).
            if random.chance(0.2) { size[0] = 3 }
            var shape = [1 + random.below(random.chance(0.2) ? 8 : 40), 1 + random.below(random.chance(0.2) ? 8 : 60)]
            if random.chance(0.15) { shape = [1 + random.below(4), 1500 + random.below(1500)] }   // long rows
            if random.chance(0.1) { shape = [200 + random.below(300), 1 + random.below(5)] }      // long columns
            if random.chance(0.1) { shape = [40 + random.below(80), 100 + random.below(200)] }
            let inType: ElementType = random.pick([.float32, .float64])
            let outType: ElementType = random.chance(0.8) ? inType : (inType == .float32 ? .float64 : .float32)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            // Images of signed zeros (mostly -0.0) check the final `+ 0.0`: a window of -0.0 sums to +0.0.
            let zeros = random.chance(0.1)
            let cval = zeros ? random.pick([-0.0, 0.0, -0.0]) : random.chance(0.5) ? random.pick([0, 1, -2.5, 1e6, .nan, .infinity, -.infinity])
                : (random.unit() * 10 - 2).rounded() / 4
            let special = random.chance(0.3) ? random.pick([0.002, 0.02, 0.1]) : 0
            let spread = random.chance(0.5)
            let width = shape[1]
            let values = (0..<shape.reduce(1, *)).map { index -> Double in
                if zeros { return random.chance(0.9) ? -0.0 : 0.0 }
                if special > 0 && random.chance(special) { return random.pick([Double.nan, .infinity, -.infinity, -0.0]) }
                let row = index / width
                if spread && (row / 7) % 3 == 1 { return (random.unit() - 0.5) * 1e12 }
                return (random.unit() - 0.5) * pow(10, Double(random.below(17)) - 8)
            }
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let report = try kernel.windowStrategy(shape: shape, elementType: inType, options: options, strategy: .fastMath,
                                                   outputType: outType)
            // Half the rounds write with non-temporal stores (by default only outputs bigger than the
            // last-level cache, which no round is): the same bits either way.
            let stream = random.chance(0.5)
            BoxMeanKernels.forceStream = stream ? true : nil
            let context = "round \(round) \(kernel.name) [\(report)] \(inType)->\(outType) \(shape) size \(size) "
                + "origin \(origin) \(mode) cval \(cval)\(stream ? " streamed" : "")"
            // Bits, except that every NaN counts as one: which NaN an addition of two NaNs returns (the
            // data's NaN or the negative default NaN of inf + -inf) depends on the operand order the
            // compiler chose for each addition, in the Swift passes as in C.
            func run(threads: Int) throws -> [UInt64] {
                try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .fastMath,
                                         threads: threads).doubleValues().map { $0.isNaN ? Double.nan.bitPattern : $0.bitPattern }
            }
            let runsBefore = filterjit_fast_box_sum_runs()
            let fused = try run(threads: 1)
            if filterjit_fast_box_sum_runs() > runsBefore { fusedRuns += 1 }  // the C passes ran (not a fallback)
            if try run(threads: 3) != fused { problems.append("\(context): the fused passes at 3 threads differ from 1") }
            BoxMeanKernels.fusedFastSums = false
            for threads in [1, 3] {
                let swift = try run(threads: threads)
                if swift != fused {
                    let at = zip(swift, fused).enumerated().first { $0.element.0 != $0.element.1 }.map(\.offset) ?? -1
                    let count = zip(swift, fused).filter { $0.0 != $0.1 }.count
                    problems.append("\(context): the Swift passes (C store) at \(threads) threads differ from the fused ones "
                                    + "(\(count) elements, first \(at): \(at >= 0 ? Double(bitPattern: swift[at]) : 0) "
                                    + "against \(at >= 0 ? Double(bitPattern: fused[at]) : 0))")
                }
            }
            BoxMeanKernels.fusedFastSums = true
            // The AVX2 passes (AVX-512 off; on an AVX2 CPU without AVX-512 these are the fused passes above),
            // then the portable ones, as FILTERJIT_NO_AVX512=1 FILTERJIT_NO_AVX2=1 give them (switched
            // in-process: setting the variables would race with other suites' getenv and could leave the
            // min/max kernels off for the process).
            filterjit_rank_kernels_set_avx512(0)
            if avx2 {
                filterjit_fast_box_sum_set_avx2(1)
                let before = filterjit_fast_box_sum_avx2_runs()
                if try run(threads: 1 + 2 * random.below(2)) != fused {
                    problems.append("\(context): the AVX2 passes differ from the fused passes")
                }
                if filterjit_fast_box_sum_avx2_runs() > before { avx2Runs += 1 }  // (not AVX-512, which other suites may switch back on)
            }
            filterjit_fast_box_sum_set_avx2(0)
            if try run(threads: 1 + 2 * random.below(2)) != fused {
                problems.append("\(context): the portable passes (AVX-512 and AVX2 off) differ from the fused passes")
            }
            filterjit_fast_box_sum_set_avx2(-1)
            filterjit_rank_kernels_set_avx512(-1)
        }
        print("fused fast-math box sums vs the Swift passes: \(rounds) rounds, \(fusedRuns) fused, \(avx2Runs) AVX2, "
              + "\(problems.count) problems")
        if avx512 || avx2ByDefault { #expect(fusedRuns >= rounds / 3, "too few rounds exercised the fused passes") }
        // (With AVX-512, another suite resetting its switch during a round sends that round to AVX-512.)
        if avx2 { #expect(avx512 ? avx2Runs > 0 : avx2Runs >= rounds / 3, "too few rounds exercised the AVX2 passes") }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// 3-D boxes (branch w12m, `runFastBoxSum3D`: van Herk plane sums along axis 0, then the 2-D passes):
    /// within the bound with the depth of the composition, (k0 + k + L + n/8 + log2 n + 12) u sum|x|
    /// (+3 for a mean), on shapes of 1-12 per axis (some longer rows and deeper volumes), boxes up to 7 per
    /// axis (rows up to 49: the van Herk rows) and non-cubic ones, windows larger than the image, planes of 1e12 next to tiny values, every
    /// mode, cval, origins, reversed views, float32 and float64 in and out, a compiled tail; the same bits
    /// at 1, 2 and 3 threads, with the C store off (the fused C passes over the plane sums, float64 rows
    /// into float32 or float64 output, against the Swift passes) and with AVX-512 off (the AVX2 passes);
    /// NaN / ±inf / -0.0 data and cval propagate.
    @Test func fastMath3DBoxSumsAreWithinTheStatedBound() throws {
        guard frontEndAvailable else { return }
        defer {
            BoxMeanKernels.enabled = true
            filterjit_rank_kernels_set_avx512(-1)
            filterjit_fast_box_sum_set_avx2(-1)
        }
        // Whether the AVX2 passes can run here (the switch turns on only where the CPU has AVX2).
        filterjit_fast_box_sum_set_avx2(1)
        let avx2 = filterjit_fast_box_sum_avx2() != 0
        filterjit_fast_box_sum_set_avx2(-1)
        var avx2Runs = 0
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fastMath3DBoxSumsAreWithinTheStatedBound seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let sources = Self.boundSources
        let kernels = try sources.map { try engine.compile($0.0) }
        let absolute = try engine.compile("np.sum(np.abs(values))")
        var problems: [String] = []
        var fastRuns = 0
        let rounds = 90
        let fusedBefore = filterjit_fast_box_sum_runs()
        for round in 0..<rounds {
            let which = round % 2 == 0 ? 0 : random.below(kernels.count)
            let kernel = kernels[which]
            let side = 2 + random.below(6)
            var size = random.chance(0.5) ? [side, side, side] : (0..<3).map { _ in 1 + random.below(7) }
            // Rows of 10-49 columns: the factored plans and the van Herk rows over the plane sums.
            if random.chance(0.15) { size[2] = 10 + random.below(40) }
            var shape = (0..<3).map { _ in 1 + random.below(12) }
            if random.chance(0.15) { shape[2] = 13 + random.below(600) }
            if random.chance(0.1) { shape[0] = 13 + random.below(30) }
            let inType: ElementType = random.pick([.float32, .float64])
            let outType: ElementType = random.chance(0.7) ? inType : (inType == .float32 ? .float64 : .float32)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            let hazards = random.chance(0.15)
            let cval = hazards && random.chance(0.5) ? random.pick([-0.0, .nan, .infinity])
                : random.chance(0.5) ? random.pick([0, 1, -2.5, 1e6]) : (random.unit() * 10 - 2).rounded() / 4
            let spread = random.chance(0.5)
            let planeSize = shape[1] * shape[2]
            let values = (0..<shape.reduce(1, *)).map { index -> Double in
                if hazards && random.chance(0.02) { return random.pick([Double.nan, .infinity, -.infinity, -0.0]) }
                if spread && (index / planeSize) % 3 == 1 { return (random.unit() - 0.5) * 1e12 }
                return (random.unit() - 0.5) * pow(10, Double(random.below(17)) - 8)
            }
            var input = try NDArray.make(shape: shape, elementType: inType, values: values)
            if random.chance(0.2) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let (report, literal, sums, results) = try Self.fastMathRuns(kernel, absolute, input, options, outType)
            if report.isFastMath { fastRuns += 1 }
            let context = "round \(round) \(kernel.name) [\(report)] \(inType)->\(outType) \(shape) size \(size) "
                + "origin \(origin) \(mode) cval \(cval)"
            // The depth of the composition: k0 - 1 more additions than a k x L box (`fastBoxSumDepth`).
            if let d = Self.violation(fast: results[0], literal: literal, absoluteSums: sums, rows: size[0] + size[1],
                                      columns: size[2], taps: size.reduce(1, *), mean: sources[which].1,
                                      scale: sources[which].2, float32Output: outType == .float32) {
                problems.append("\(context): \(d)")
            }
            func same(_ a: NDArray, _ b: NDArray) -> Bool {
                zip(a.doubleValues(), b.doubleValues()).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
            }
            for threads in 2...3 where !same(results[threads - 1], results[0]) {
                problems.append("\(context): \(threads) threads give other bits than 1")
            }
            BoxMeanKernels.enabled = false
            let portable = try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .fastMath,
                                                    threads: 1 + random.below(3))
            BoxMeanKernels.enabled = true
            if !same(portable, results[0]) { problems.append("\(context): the portable store gives other bits") }
            if avx2 {
                filterjit_rank_kernels_set_avx512(0)
                filterjit_fast_box_sum_set_avx2(1)
                let before = filterjit_fast_box_sum_avx2_runs()
                let viaAVX2 = try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .fastMath,
                                                       threads: 1 + random.below(3))
                if filterjit_fast_box_sum_avx2_runs() > before { avx2Runs += 1 }
                filterjit_fast_box_sum_set_avx2(-1)
                filterjit_rank_kernels_set_avx512(-1)
                if !same(viaAVX2, results[0]) { problems.append("\(context): the AVX2 passes give other bits") }
            }
        }
        // float64 plane sums through the fused C passes (against the Swift passes above: the portable run).
        let fused = filterjit_fast_box_sum_runs() - fusedBefore
        print("fast-math 3-D box sums vs literal: \(rounds) rounds, \(fastRuns) fast, \(fused) fused C calls, "
              + "\(avx2Runs) rounds through the AVX2 passes, \(problems.count) problems")
        if avx2 { #expect(avx2Runs > 0, "the AVX2 passes never ran on the plane sums") }
        if filterjit_rank_kernels_avx512() != 0 || filterjit_fast_box_sum_avx2() != 0 {
            #expect(fused > 0, "the fused C passes never ran on the plane sums")
        }
        #expect(fastRuns >= rounds / 2, "too few rounds exercised the fast 3-D box sums")
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// NaN, +-inf and -0.0 in the data propagate as in the literal kernel: a NaN (or +inf with -inf)
    /// in the window gives NaN, an infinity that infinity, a window of zeros +0.0.
    @Test func fastMathBoxSumsPropagateNaNAndInfinities() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("fastMathBoxSumsPropagateNaNAndInfinities seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try ["np.mean(values)", "np.sum(values)"].map { try engine.compile($0) }
        let absolute = try engine.compile("np.sum(np.abs(values))")
        var problems: [String] = []
        for round in 0..<60 {
            let which = random.below(2)
            let size = [1 + random.below(16), 1 + random.below(16)]
            let shape = [1 + random.below(30), 1 + random.below(40)]
            let inType: ElementType = random.pick([.float32, .float64])
            let mode = random.pick(BoundaryMode.allCases)
            let cval = random.pick([0.0, -0.0, 2, .nan, .infinity])
            let rate = random.pick([0.002, 0.02, 0.1])
            let zeros = random.chance(0.3)
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                if random.chance(rate) { return random.pick([Double.nan, .infinity, -.infinity, -0.0]) }
                return zeros ? random.pick([0.0, -0.0]) : (random.unit() - 0.5) * 100
            }
            let input = try NDArray.make(shape: shape, elementType: inType, values: values)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let literal = try kernels[which].genericFilter(input, options: options, strategy: .literal)
            let sums = try absolute.genericFilter(input, options: options, output: .elementType(.float64), strategy: .literal)
            let fast = try kernels[which].genericFilter(input, options: options, strategy: .fastMath, threads: 1 + random.below(3))
            if let d = Self.violation(fast: fast, literal: literal, absoluteSums: sums, rows: size[0], columns: size[1],
                                      mean: which == 0, float32Output: inType == .float32) {
                problems.append("round \(round) \(kernels[which].name) \(inType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval): \(d)")
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Every mode and several origins on a fixed image, 3x3 to 81x81 (direct, factored and van Herk
    /// horizontal passes; 81 is wider than the image), rows split at every thread count giving the same bits.
    @Test func fastMathBoxSumsInEveryModeAndOrigin() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("np.mean(values)")
        let absolute = try engine.compile("np.sum(np.abs(values))")
        var problems: [String] = []
        for type in [ElementType.float64, .float32] {
            let input = try NDArray.random(shape: [45, 70], elementType: type, seed: 7)
            for size in [3, 5, 9, 15, 17, 31, 81] {
                for mode in BoundaryMode.allCases {
                    for origin in [[0, 0], [-1, 1], [1, -1]] {
                        let options = FilterOptions(size: [size, size], mode: mode, cval: 0.5, origin: origin)
                        let literal = try kernel.genericFilter(input, options: options, strategy: .literal)
                        let sums = try absolute.genericFilter(input, options: options, output: .elementType(.float64),
                                                              strategy: .literal)
                        let one = try kernel.genericFilter(input, options: options, strategy: .fastMath, threads: 1)
                        let three = try kernel.genericFilter(input, options: options, strategy: .fastMath, threads: 3)
                        if let d = Self.violation(fast: one, literal: literal, absoluteSums: sums, rows: size, columns: size,
                                                  mean: true, float32Output: type == .float32) {
                            problems.append("\(type) \(size)x\(size) \(mode) origin \(origin): \(d)")
                        }
                        if one.doubleValues().map(\.bitPattern) != three.doubleValues().map(\.bitPattern) {
                            problems.append("\(type) \(size)x\(size) \(mode) origin \(origin): 3 threads differ from 1")
                        }
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Outputs whose first element is not aligned to its size (a view at byte offset 1, 2, ... of its
    /// storage, which `NDArray(storage:...)` allows): the fused passes cannot use aligned vector stores
    /// there and must give the aligned output's bits. (The nineteenth session's AVX2 rows of 3 and 5
    /// columns in registers faulted on such an output until the review caught it.)
    @Test func fastMathBoxSumsIntoOutputsNotAlignedToTheirElements() throws {
        guard frontEndAvailable else { return }
        let mean = try engine.compile("np.mean(values)")
        var problems: [String] = []
        for type in [ElementType.float32, .float64] {
            let shape = [12, 301]
            let values = (0..<(shape[0] * shape[1])).map { Double(($0 * 7919) % 1013) / 37 - 11 }
            let input = try NDArray.make(shape: shape, elementType: type, values: values)
            for size in [[3, 3], [5, 5], [3, 5], [4, 9], [7, 31]] {
                let options = FilterOptions(size: size, mode: .nearest)
                let aligned = try mean.genericFilter(input, options: options, output: .elementType(type), strategy: .fastMath,
                                                     threads: 1).doubleValues()
                for skew in [1, 2, 3, type.itemSize + 1, 17] where skew % type.itemSize != 0 {
                    let storage = try NDArrayStorage(byteCount: shape[0] * shape[1] * type.itemSize + 64)
                    let view = try NDArray(storage: storage, elementType: type, shape: shape,
                                           strides: [shape[1] * type.itemSize, type.itemSize], byteOffset: skew)
                    for threads in [1, 3] {
                        let got = try mean.genericFilter(input, options: options, output: .array(view), strategy: .fastMath,
                                                         threads: threads).doubleValues()
                        if got.map(\.bitPattern) != aligned.map(\.bitPattern) {
                            problems.append("\(type) size \(size) byte offset \(skew) threads \(threads): differs from the aligned output")
                        }
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// Which kernels take the fast box sums, and that without the opt-in the bits stay the literal kernel's.
    @Test func fastMathIsAnOptIn() throws {
        guard frontEndAvailable else { return }
        let mean = try engine.compile("np.mean(values)")
        func report(_ kernel: Kernel, _ size: [Int], _ type: ElementType = .float64, _ strategy: WindowStrategyChoice = .fastMath,
                    output: ElementType? = nil, footprint: Footprint? = nil, shape: [Int] = [40, 40]) throws -> WindowStrategyReport {
            let options = footprint.map { FilterOptions(footprint: $0) } ?? FilterOptions(size: size)
            return try kernel.windowStrategy(shape: shape, elementType: type, options: options, strategy: strategy, outputType: output)
        }
        #expect(try report(mean, [15, 15]).description == "window reductions [box sums (fast-math)], written directly")
        #expect(try report(mean, [4, 4], .float32).name == "box sums (fast-math)")
        // From 9 taps (3x3) on every CPU (the bits do not depend on the machine); below, the literal kernel.
        #expect(try report(mean, [3, 3]).name == "box sums (fast-math)")
        #expect(try report(mean, [2, 4]).name == "literal")
        #expect(try report(mean, [15, 15], output: .float32).compiledTail)
        #expect(try report(mean, [3, 5]).name == "box sums (fast-math)")
        // What the run cannot take, the report does not name: strided rows and rows too long for the
        // scratch bound (15 rows of 600,000 doubles > 64 MiB) sum exactly (pairwise), as the run does.
        let strided = try mean.windowStrategy(shape: [40, 40], elementType: .float64, options: FilterOptions(size: [5, 5]),
                                              strategy: .fastMath, rowsContiguous: false)
        #expect(strided.name == "sum" && !strided.isFastMath)
        #expect(try report(mean, [15, 15], shape: [20, 600_000]).name == "sum")
        #expect(try report(mean, [15, 15], shape: [20, 500_000]).name == "box sums (fast-math)")
        #expect(try report(mean, [15, 15], .uint8).name == "sum")      // integer data: exact box sums as under auto
        #expect(try report(mean, [15, 15], .float64, .auto).name == "sum")
        // Without the flag, the exact strategy: pairwise sums from `pairwiseSumThreshold` taps (26 with AVX-512).
        let square = (0..<81).map { [$0 / 9, $0 % 9] }
        #expect(try report(mean, [9, 9], .float64, .auto).name
            == (81 >= Kernel.pairwiseSumThreshold(tapPositions: square) ? "sum" : "literal"))
        #expect(try report(mean, [9, 9], .float64, .literal).name == "literal")
        // 3-D boxes (branch w12m): the fast-math box sums too, written directly; without the flag the exact sums.
        let volume = try report(mean, [5, 5, 5], shape: [10, 10, 10])
        let volumeAuto = try report(mean, [5, 5, 5], .float64, .auto, shape: [10, 10, 10])
        #expect(volume.description == "window reductions [box sums (fast-math)], written directly")
        let cube = (0..<125).map { [$0 / 25, $0 / 5 % 5, $0 % 5] }
        #expect(volumeAuto.name == (125 >= Kernel.pairwiseSumThreshold(tapPositions: cube) ? "sum" : "literal")
            && !volumeAuto.isFastMath)
        // Planes too large for the scratch bound (7 + 2 planes of 3000 x 3000 doubles > 64 MiB) sum exactly.
        #expect(try report(mean, [7, 7, 7], shape: [10, 3000, 3000]).name == "sum")
        #expect(try report(mean, [7, 7, 7], shape: [10, 300, 300]).name == "box sums (fast-math)")
        let disk = try Footprint(shape: [15, 15], mask: (0..<225).map { i in
            let (y, x) = (i / 15 - 7, i % 15 - 7); return y * y + x * x <= 49 })
        #expect(try report(mean, [], footprint: disk).name == "sum")   // a disk keeps the exact pairwise sums
        for source in ["sum(values)", "np.nansum(values)", "np.mean(values) - min(values)"] {
            #expect(try !report(try engine.compile(source), [15, 15]).isFastMath, "\(source)")
        }
        // The flag off: the bits are the literal kernel's.
        let input = try NDArray.random(shape: [60, 50], elementType: .float64, seed: 3)
        for size in [[3, 3], [9, 9], [15, 15]] {
            let options = FilterOptions(size: size, mode: .nearest)
            let literal = try mean.genericFilter(input, options: options, strategy: .literal)
            let auto = try mean.genericFilter(input, options: options)
            #expect(literal.doubleValues().map(\.bitPattern) == auto.doubleValues().map(\.bitPattern), "\(size)")
        }
    }
}
