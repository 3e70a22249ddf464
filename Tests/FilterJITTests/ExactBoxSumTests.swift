// Exact box sums (NDImage/ExactBoxSums.swift): float box sums and means of data whose window sums are
// all exact run as O(1) box sums and must give the pairwise sums' bits (NumPy's order, the default
// exact strategy) everywhere: the range check per row, the rows it rejects, and seeded fuzz over data
// that the check accepts (float32 grids, integers), data it must reject for some rows (values whose
// sums round, NaN, infinities), every mode, origins, windows larger than the image, 2-D and 3-D, and
// thread counts.

import Testing
import Foundation
import FilterLang
@testable import FilterJIT
@testable import NDImage
import RankKernelsC

/// The range `filterjit_float_row_range` states, from Swift's view of the values' fields (top Int32.max
/// when one is NaN or infinite; low is then unspecified).
private func referenceRange<T: BinaryFloatingPoint>(_ values: [T]) -> (top: Int32, low: Int32) {
    var top = Int32.min, low = Int32.max
    for x in values where x != 0 {
        guard x.isFinite else { return (Int32.max, 0) }
        let normal = x.isNormal
        let exponent = normal ? Int(x.exponent) : Int(T.leastNormalMagnitude.exponent)
        top = max(top, Int32(exponent + 1))
        let mantissa = UInt64(x.significandBitPattern) | (normal ? UInt64(1) << T.significandBitCount : 0)
        low = min(low, Int32(exponent - T.significandBitCount + mantissa.trailingZeroBitCount))
    }
    return (top, low)
}

@Suite(.serialized) struct ExactBoxSumTests {
    let engine: Engine

    init() throws { engine = try Engine() }

    /// Random values of every kind the range pass meets: normal, subnormal, signed zeros, integers,
    /// powers of two, float32 values widened, NaN and infinities.
    static func mixedValues(_ random: inout FusedTestRandom, count: Int) -> [Double] {
        (0..<count).map { _ in
            switch random.below(9) {
            case 0: return random.chance(0.5) ? 0.0 : -0.0
            case 1: return (random.unit() - 0.5) * pow(2, Double(random.below(200)) - 100)
            case 2: return Double(random.below(2001) - 1000)
            case 3: return pow(2, Double(random.below(60)) - 30) * (random.chance(0.5) ? 1 : -1)
            case 4: return Double(Float(random.unit() * 1e-3))
            case 5: return Double.leastNonzeroMagnitude * Double(1 + random.below(1000))
            case 6: return Double(Float.leastNonzeroMagnitude) * Double(1 + random.below(1000))
            case 7: return random.chance(0.02) ? random.pick([.nan, .infinity, -.infinity]) : random.unit()
            default: return random.unit() * 1e300
            }
        }
    }

    @Test func theRangePassMatchesTheValuesFields() {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("theRangePassMatchesTheValuesFields seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        var problems: [String] = []
        for round in 0..<400 {
            let count = random.chance(0.2) ? random.below(5) : 1 + random.below(300)
            var doubles = Self.mixedValues(&random, count: count)
            if random.chance(0.3) { doubles = doubles.map { $0.isFinite ? $0 : 1 } }
            let floats = doubles.map { Float($0) }
            // Half the rounds with AVX-512 off: on an AVX-512 CPU the AVX2 loops then run.
            let withoutAVX512 = round % 2 == 1
            if withoutAVX512 { filterjit_rank_kernels_set_avx512(0) }
            defer { if withoutAVX512 { filterjit_rank_kernels_set_avx512(-1) } }
            for vector in [true, false] {
                let d = doubles.withUnsafeBufferPointer {
                    ExactBoxSums.range(Double.self, $0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count, portable: !vector)
                }
                let f = floats.withUnsafeBufferPointer {
                    ExactBoxSums.range(Float.self, $0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count, portable: !vector)
                }
                let expectedD = referenceRange(doubles), expectedF = referenceRange(floats)
                func same(_ a: (top: Int32, low: Int32), _ b: (top: Int32, low: Int32)) -> Bool {
                    a.top == b.top && (a.top == Int32.max || a.low == b.low)
                }
                if !same(d, expectedD) { problems.append("round \(round) float64 (vector \(vector)): \(d) != \(expectedD)") }
                if !same(f, expectedF) { problems.append("round \(round) float32 (vector \(vector)): \(f) != \(expectedF)") }
            }
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    @Test func theExactnessRuleCountsTheWindowsBits() {
        // 35 taps: ceil(log2 35) = 6, so top - low may be up to 47.
        #expect(ExactBoxSums.isExact(top: 0, low: -47, taps: 35))
        #expect(!ExactBoxSums.isExact(top: 0, low: -48, taps: 35))
        #expect(ExactBoxSums.isExact(top: 1, low: -47, taps: 32))        // 2^5 taps: 5 bits
        #expect(!ExactBoxSums.isExact(top: 1, low: -47, taps: 33))       // 33 taps: 6 bits
        #expect(ExactBoxSums.isExact(top: Int32.min, low: Int32.max, taps: 1000))   // only zeros
        #expect(!ExactBoxSums.isExact(top: Int32.max, low: 0, taps: 9))              // NaN or an infinity
        #expect(!ExactBoxSums.isExact(top: 1020, low: 1000, taps: 16))               // the sums could overflow
    }

    /// One value whose sums round (1 + 2^-50 among multiples of 2^-10 below 8) rejects exactly the output
    /// rows whose windows read its row, through the mode; a NaN likewise; a 3-D volume by planes and rows.
    @Test func theCheckRejectsTheRowsThatReadARoundingValue() throws {
        func job(_ values: [Double], shape: [Int], size: [Int], mode: BoundaryMode, origin: [Int]? = nil) throws -> WindowReductionJob {
            let input = try NDArray.make(shape: shape, elementType: .float64, values: values)
            let geometry = try FilterGeometry(inputShape: shape,
                                              options: FilterOptions(size: size, mode: mode, origin: origin ?? size.map { _ in 0 }))
            return try WindowReductionJob(input: input, geometry: geometry, reductions: [.sum])
        }
        let shape = [20, 40]
        var grid = (0..<800).map { Double(($0 * 7919) % 8192) / 1024 - 4 }
        let clean = try job(grid, shape: shape, size: [5, 7], mode: .reflect)
        #expect(clean.exactBoxSum != nil)
        #expect(clean.exactBoxSumRejects(rows: 0..<20) == [])
        grid[10 * 40 + 5] = 1 + 0x1p-50
        #expect(try job(grid, shape: shape, size: [5, 7], mode: .reflect).exactBoxSumRejects(rows: 0..<20) == [8..<13])
        #expect(try job(grid, shape: shape, size: [5, 7], mode: .reflect).exactBoxSumRejects(rows: 10..<20) == [10..<13])
        #expect(try job(grid, shape: shape, size: [5, 7], mode: .reflect, origin: [2, 0]).exactBoxSumRejects(rows: 0..<20) == [10..<15])
        grid[10 * 40 + 5] = 1
        grid[39] = .nan
        // Row 0 is read by rows 0 ... 2, and through `mirror` (row 1 <- -1, row 2 <- -2) by nothing more; `wrap` by rows 18, 19.
        #expect(try job(grid, shape: shape, size: [5, 7], mode: .mirror).exactBoxSumRejects(rows: 0..<20) == [0..<3])
        #expect(try job(grid, shape: shape, size: [5, 7], mode: .wrap).exactBoxSumRejects(rows: 0..<20) == [0..<3, 18..<20])
        // More than half rejected: nil (the pairwise sums run alone).
        #expect(try job(grid, shape: shape, size: [31, 3], mode: .nearest).exactBoxSumRejects(rows: 0..<20) == nil)
        // The three probes (first, middle, last row) all failing: nil, though only 3 of 20 rows fail.
        grid[39] = 1
        var probed = grid
        for row in [0, 10, 19] { probed[row * 40 + 7] = 1 + 0x1p-50 }
        #expect(try job(probed, shape: shape, size: [1, 27], mode: .reflect).exactBoxSumRejects(rows: 0..<20) == nil)
        #expect(try job(probed, shape: shape, size: [1, 27], mode: .reflect).exactBoxSumRejects(rows: 1..<19) == [10..<11])
        // Full-precision values fail everywhere.
        let full = (0..<800).map { Double($0) * 0.1 + 1 / 3 }
        #expect(try job(full, shape: shape, size: [5, 7], mode: .reflect).exactBoxSumRejects(rows: 0..<20) == nil)
        // 3-D: a rounding value at plane 3, row 2 of a 6 x 5 x 8 volume, a 3 x 3 x 3 window (constant mode):
        // output planes 2 ... 4, rows 1 ... 3 of each.
        var volume = (0..<240).map { Double($0 % 13) - 6 }
        let volumeShape = [6, 5, 8]
        #expect(try job(volume, shape: volumeShape, size: [3, 3, 3], mode: .constant).exactBoxSumRejects(rows: 0..<30) == [])
        volume[3 * 40 + 2 * 8 + 6] = 1 + 0x1p-50
        #expect(try job(volume, shape: volumeShape, size: [3, 3, 3], mode: .constant).exactBoxSumRejects(rows: 0..<30)
                == [11..<14, 16..<19, 21..<24])
    }

    /// A rejected 2-D row is written again only where its windows may round (`RejectedColumns`): a float64
    /// image of large integers with a run of small values at columns 300-305 of row 4, so that the windows
    /// holding them round differently in the box sums' order; the rows whose windows read row 4 are patched
    /// only around those columns, and every output equals the pairwise sums and the literal kernel.
    @Test func rejectedRowsArePatchedOnlyWhereTheirWindowsMayRound() throws {
        guard frontEndAvailable, WindowReductionJob.pairwiseSumsVectorised else { return }   // (else 49 taps run literally)
        let kernel = try engine.compile("np.mean(values)")
        var random = FusedTestRandom(seed: 20261207)
        let shape = [20, 640]
        // Float64 integers of 2^20 to 2^22, the small values below 2^-10 with full mantissas: a window's sum near
        // 2^24 keeps bits down to 2^-28 only, so each small value rounds, differently in another order (float64
        // results: a float32 output would round the difference away).
        var values = (0..<(shape[0] * shape[1])).map { _ in ((random.unit() * 2 + 1) * 0x1p20).rounded() }
        for c in 300..<306 { values[4 * shape[1] + c] = random.unit() * 0x1p-10 }
        let input = try NDArray.make(shape: shape, elementType: .float64, values: values)
        let options = FilterOptions(size: [7, 7], mode: .reflect)
        let geometry = try FilterGeometry(inputShape: shape, options: options)
        let job = try WindowReductionJob(input: input, geometry: geometry, reductions: [.sum])
        #expect(job.exactBoxSumRejects(rows: 0..<shape[0]) == [1..<8])
        let before = ExactBoxSums.columnPatches
        let boxed = try kernel.genericFilter(input, options: options, output: .elementType(.float64), threads: 1)
        #expect(ExactBoxSums.columnPatches - before >= 7, "rows 1-7 patched in part (other suites may add)")
        ExactBoxSums.enabled = false
        defer { ExactBoxSums.enabled = true }
        let pairwise = try kernel.genericFilter(input, options: options, output: .elementType(.float64), threads: 1)
        let literal = try kernel.genericFilter(input, options: options, output: .elementType(.float64), strategy: .literal)
        let b = boxed.doubleValues(), p = pairwise.doubleValues(), l = literal.doubleValues()
        #expect(b.indices.allSatisfy { b[$0].bitPattern == p[$0].bitPattern && b[$0] == l[$0] })
        ExactBoxSums.enabled = true
        let columns = RejectedColumns(job)!
        let segments = (1..<8).map { columns.segments(row: $0) }
        #expect(segments.allSatisfy { !$0.isEmpty && $0.reduce(0) { $0 + $1.count } < shape[1] / 2 }, "\(segments)")

    }

    /// Seeded fuzz: the exact box sums give the pairwise sums' bits (and the literal kernel's, a -0.0
    /// from its unrolled sums aside) on accepted, partly rejected and special data, written directly
    /// and through compiled tails (another output type, arithmetic, a comparison); the C passes with
    /// AVX-512 (where the CPU has it) and with AVX2, the Swift passes, the portable store.
    @Test func exactBoxSumsGiveThePairwiseBits() throws {
        guard frontEndAvailable else { return }
        defer {
            ExactBoxSums.enabled = true
            BoxMeanKernels.enabled = true
            BoxMeanKernels.fusedFastSums = true
            filterjit_rank_kernels_set_avx512(-1)
        }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("exactBoxSumsGiveThePairwiseBits seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        // Written directly (the first two into the input's type), and as planes for a compiled tail.
        let sources = ["np.mean(values)", "np.sum(values)", "np.mean(values) * 3.0 - 1.0", "np.sum(values) > 2.5"]
        let kernels = try sources.map { try engine.compile($0) }
        var problems: [String] = []
        var accepted = 0, partly = 0
        let rowsBefore = ExactBoxSums.rows, patchesBefore = ExactBoxSums.columnPatches
        let rounds = 120
        for round in 0..<rounds {
            var kernel = kernels[random.below(kernels.count)]
            let threeD = random.chance(0.35)
            var size: [Int], shape: [Int]
            if threeD {
                size = (0..<3).map { _ in 2 + random.below(4) }
                shape = [1 + random.below(12), 1 + random.below(14), 1 + random.below(random.chance(0.2) ? 300 : 40)]
            } else {
                size = [3 + random.below(random.chance(0.3) ? 31 : 12), 3 + random.below(random.chance(0.3) ? 31 : 12)]
                shape = [1 + random.below(random.chance(0.2) ? 8 : 50), 1 + random.below(random.chance(0.2) ? 8 : 70)]
                if random.chance(0.15) { shape = [1 + random.below(4), 1500 + random.below(1500)] }
                // Windows longer than 64 columns (the van Herk plan's long blocks).
                if random.chance(0.1) { (size, shape) = ([3, 65 + random.below(20)], [1 + random.below(8), 60 + random.below(400)]) }
            }
            let type: ElementType = random.pick([.float32, .float64])
            // The strategy's thresholds: float64 from the pairwise sums' 26 taps, float32 boxes from 9.
            if type == .float64 && size.reduce(1, *) < 26 { size[size.count - 1] = 26 }
            if size.reduce(1, *) < 9 { size[size.count - 1] = 9 }
            var outType: ElementType = random.chance(0.75) ? type : (type == .float32 ? .float64 : .float32)
            let origin = size.map { s in -(s / 2) + random.below(s) }
            let mode = random.pick(BoundaryMode.allCases)
            var count = shape.reduce(1, *)
            // What the values are: 0 a float32 grid (accepted: float32 values in [-2, 2], none below 2^-16 in
            // magnitude, so top - low <= 2 + 40), 1 integers (accepted), 2 the grid with a few values whose sums
            // round (rows rejected), 3 full-precision values (mostly rejected), 4 the grid with NaN, infinities
            // and signed zeros, 5 the grid with a run of small values along a row (rows rejected, and windows
            // holding several of them round differently in another order: the 2-D patches of only the rejected
            // columns must find every such window).
            let kind = random.below(6)
            if kind == 5 && !threeD {
                // Rows long enough that a rejected row's windows away from the small values pass the check,
                // written directly (where the patches apply).
                shape = [2 + random.below(30), 300 + random.below(500)]
                count = shape.reduce(1, *)
                kernel = kernels[random.below(2)]
                outType = type
            }
            // (A cval of 1e6 next to the grid's low bits makes sums round: rows outside rejected in constant modes.)
            let cval = random.pick(kind <= 1 ? [0, 1, -2.5, 0.375] : [0, 1, -2.5, 1e6, 0.375])
            var values = (0..<count).map { _ in
                let x = Double(Float(random.unit() * 4 - 2))
                return abs(x) < 0x1p-16 ? 0 : x
            }
            switch kind {
            case 1: values = values.map { ($0 * 500).rounded() }
            case 2:
                for _ in 0..<(1 + random.below(3)) {
                    values[random.below(count)] = type == .float32 ? Double(Float(random.unit() * 1e-9)) : random.unit() * 3
                }
            case 3: values = values.map { _ in random.unit() * 3 - 1 }
            case 4:
                for _ in 0..<(1 + random.below(4)) { values[random.below(count)] = random.pick([.nan, .infinity, -.infinity, -0.0, 0.0]) }
            case 5:
                let rowLength = shape[shape.count - 1], at = random.below(count)
                for i in at..<Swift.min(at + 2 + random.below(7), (at / rowLength + 1) * rowLength) {
                    values[i] = type == .float32 ? Double(Float(random.unit() * 0x1p-30)) : random.unit() * 0x1p-45
                }
            default: break
            }
            var input = try NDArray.make(shape: shape, elementType: type, values: values)
            if random.chance(0.1) { input = try reversedView(input) }
            let options = FilterOptions(size: size, mode: mode, cval: cval, origin: origin)
            let threads = 1 + random.below(3)
            let context = "round \(round) \(kernel.name) \(type)->\(outType) \(shape) size \(size) origin \(origin) \(mode) cval \(cval) kind \(kind) threads \(threads)"
            let geometry = try FilterGeometry(inputShape: shape, options: options)
            if let job = try? WindowReductionJob(input: input, geometry: geometry, reductions: [.sum]), job.exactBoxSum != nil {
                let rejects = job.exactBoxSumRejects(rows: 0..<job.rowCount)
                if rejects == [] { accepted += 1 } else if let rejects, !rejects.isEmpty { partly += 1 }
                if kind <= 1 && rejects != [] { problems.append("\(context): accepted data rejected: \(String(describing: rejects))") }
            }
            ExactBoxSums.enabled = true
            // Some rounds take the Swift passes (the fused C passes off) or the portable store (the C kernels off).
            BoxMeanKernels.fusedFastSums = !random.chance(0.25)
            BoxMeanKernels.enabled = !random.chance(0.15)
            // A quarter of the rounds with AVX-512 off: on an AVX-512 CPU, the AVX2 passes and their division.
            let withoutAVX512 = random.chance(0.25)
            if withoutAVX512 { filterjit_rank_kernels_set_avx512(0) }
            let boxed = try kernel.genericFilter(input, options: options, output: .elementType(outType), threads: threads)
            if withoutAVX512 { filterjit_rank_kernels_set_avx512(-1) }
            BoxMeanKernels.fusedFastSums = true
            BoxMeanKernels.enabled = true
            ExactBoxSums.enabled = false
            let pairwise = try kernel.genericFilter(input, options: options, output: .elementType(outType), threads: threads)
            ExactBoxSums.enabled = true
            let literal = try kernel.genericFilter(input, options: options, output: .elementType(outType), strategy: .literal)
            let b = boxed.doubleValues(), p = pairwise.doubleValues(), l = literal.doubleValues()
            if let i = b.indices.first(where: { b[$0].bitPattern != p[$0].bitPattern }) {
                problems.append("\(context): element \(i): box sums \(b[i]), pairwise \(p[i])")
            }
            if let i = b.indices.first(where: { !(b[$0] == l[$0] || (b[$0].isNaN && l[$0].isNaN)) }) {
                problems.append("\(context): element \(i): box sums \(b[i]), literal \(l[i])")
            }
        }
        // (Other suites running meanwhile may add rows too; none can remove them.)
        let rowsAfter = ExactBoxSums.rows
        print("exact box sums: \(rounds) rounds, \(accepted) accepted whole, \(partly) partly rejected, "
              + "\(rowsAfter.box - rowsBefore.box) rows by the box sums, \(rowsAfter.pairwise - rowsBefore.pairwise) again pairwise, "
              + "\(problems.count) problems")
        #expect(accepted >= rounds / 5 && partly >= rounds / 20, "too few rounds exercised the box sums (\(accepted), \(partly))")
        print("exact box sums: \(ExactBoxSums.columnPatches - patchesBefore) rows patched in part")
        if WindowReductionJob.pairwiseSumsVectorised {
            #expect(rowsAfter.box > rowsBefore.box && rowsAfter.pairwise > rowsBefore.pairwise, "the box sums never ran")
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
    }
}
