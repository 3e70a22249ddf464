// The box sum's division (NDImage/BoxSums.swift): trunc(s / n) by a multiply and a shift equals
// the literal kernel's `trunc(float64(s) / float64(n))` for every sum a window of n taps can hold.

import Testing
import Foundation
@testable import NDImage

struct BoxSumTests {
    /// The AVX-512 uint8 mean kernel (RankKernelsC/box_means.c; without AVX-512 the AVX2 one, box_means_avx2.c)
    /// against trunc(S / n): every sum of
    /// every uint8 window of 1 to 257 taps (16-bit sums) by the multiply-high and by the corrected
    /// estimate; then seeded random rows (lengths 1 to 300, row tails 1 to 300, 32-bit sums up to
    /// 2^24) for the prefix-sum paths. Skipped where neither runs.
    @Test func uint8MeanKernelDividesExactly() throws {
        guard BoxMeanKernels.meanRow([0], length: 1, taps: 1) != nil else { return }
        var bad: [String] = []
        for taps in 1...257 {
            let ext = (0...(255 * taps)).map { UInt16($0) }
            for estimate in [false, true] {
                let out = BoxMeanKernels.meanRow(ext, length: 1, taps: taps, estimate: estimate)!
                for (s, q) in out.enumerated() where Int(q) != s / taps {
                    bad.append("taps \(taps) estimate \(estimate) sum \(s): \(q)")
                    break
                }
            }
        }
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("uint8MeanKernelDividesExactly seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var state = seed | 1
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        for _ in 0..<3000 {
            let count = 1 + Int(next() % 300), length = 1 + Int(next() % 300), rows = 1 + Int(next() % 257)
            let taps = rows * length
            guard taps * 255 < (1 << 24) else { continue }
            let top = UInt64(rows * 255)
            let extremes = next() % 2 == 0
            let ext = (0..<(count + length - 1)).map { _ in UInt16(extremes ? (next() % 2 == 0 ? 0 : top) : next() % (top + 1)) }
            var prefix = [0]
            for e in ext { prefix.append(prefix.last! + Int(e)) }
            for estimate in [false, true] {
                guard let out = BoxMeanKernels.meanRow(ext, length: length, taps: taps, estimate: estimate) else { continue }
                for x in 0..<count {
                    let s = prefix[x + length] - prefix[x]
                    if Int(out[x]) != s / taps {
                        bad.append("seed \(seed) count \(count) length \(length) rows \(rows) estimate \(estimate) x \(x): \(out[x]) for \(s)")
                        break
                    }
                }
            }
        }
        #expect(bad.isEmpty, "\(bad.count) wrong quotients:\n\(bad.prefix(10).joined(separator: "\n"))")
    }

    @Test func divisionByMultiplyAndShiftIsExact() throws {
        let box = SeparableBox(rows: 1, first: 0, start: 0, length: 1)
        // (element bound, unsigned 8-bit): every window size up to 40 taps exhaustively for 8-bit
        // data, and sampled sums (both ends, around every multiple of n) for 16-bit data.
        for (bound, unsigned8) in [(Int64(255), true), (Int64(128), false), (Int64(65535), false), (Int64(32768), false)] {
            for taps in [1, 2, 3, 5, 7, 9, 15, 25, 40, 49, 81, 121, 225, 256, 257, 289, 961, 1024, 4096] {
                guard let plan = BoxSumPlan.make(box: box, unsigned8: unsigned8, bound: bound, taps: taps) else {
                    Issue.record("no plan for bound \(bound) taps \(taps)")
                    continue
                }
                let limit = bound * Int64(taps)
                var sums: [Int64] = []
                if bound <= 255 && taps <= 40 {
                    sums = Array(-limit...limit)
                } else {
                    let step: Int64 = bound / 997 > 1 ? bound / 997 : 1
                    let n = Int64(taps)
                    var q: Int64 = 0
                    while q <= bound {
                        let offsets: [Int64] = [-1, 0, 1, n - 1]
                        for f in offsets { sums.append(q * n + f) }
                        q += step
                    }
                    sums += [limit, limit - 1, 0, 1]
                    sums += sums.map { -$0 }
                }
                sums = sums.filter { abs($0) <= limit }
                let expected = sums.map { Int64((Double($0) / Double(taps)).rounded(.towardZero)) }
                // The loops that store means: multiply and shift (when the plan allows it), and the
                // corrected floating-point estimates (Float and Double).
                let input = sums.map { Int32($0) }
                var estimatedSingle = [Int32](repeating: 0, count: sums.count)
                var estimatedDouble = [Int32](repeating: 0, count: sums.count)
                if limit < (1 << 22) {
                    boxMeansEstimated(input, Int32(taps), single: true, &estimatedSingle, sums.count)
                }
                boxMeansEstimated(input, Int32(taps), single: false, &estimatedDouble, sums.count)
                // Non-negative sums (unsigned data) skip the sign.
                var unsignedEstimates: [[Int32]] = []
                for single in limit < (1 << 22) ? [true, false] : [false] {
                    var estimated = [Int32](repeating: 0, count: sums.count)
                    boxMeansEstimated(input.map { Swift.max(0, $0) }, Int32(taps), single: single, signed: false, &estimated, sums.count)
                    unsignedEstimates.append(estimated)
                }
                // UInt16 sums (uint8 windows up to 257 taps): the 16-bit multiply-high.
                var high16 = [UInt16](repeating: 0, count: sums.count)
                if let m = plan.multiplier16 {
                    boxMeansHigh16(sums.map { UInt16(clamping: $0) }, m, plan.shift16, &high16, sums.count)
                }
                var narrow = [Int32](repeating: 0, count: sums.count)
                if plan.narrowProduct { boxMeansNarrow(input, UInt32(plan.multiplier), UInt32(plan.shift), &narrow, sums.count) }
                for i in sums.indices {
                    let s = sums[i]
                    var got: [Int64] = [plan.divide(s), Int64(estimatedDouble[i])]
                    if limit < (1 << 22) { got.append(Int64(estimatedSingle[i])) }
                    if s >= 0 { got += unsignedEstimates.map { Int64($0[i]) } }
                    if plan.narrowProduct { got.append(Int64(narrow[i])) }
                    if plan.multiplier16 != nil && s >= 0 { got.append(Int64(high16[i])) }
                    if got.contains(where: { $0 != expected[i] }) {
                        Issue.record("bound \(bound) taps \(taps) sum \(s): \(got) != \(expected[i])")
                        return
                    }
                }
                if plan.narrowProduct {
                    #expect(UInt64(limit) * plan.multiplier < (1 << 32), "bound \(bound) taps \(taps)")
                }
                #expect(plan.accumulator == (unsigned8 && limit <= 65535 ? .uint16 : .int32))
                if plan.accumulator == .uint16 && taps >= 2 && taps <= 128 { #expect(plan.multiplier16 != nil, "taps \(taps)") }
            }
        }
    }
}
