// The box sum's division (NDImage/BoxSums.swift): trunc(s / n) by a multiply and a shift equals
// the literal kernel's `trunc(float64(s) / float64(n))` for every sum a window of n taps can hold.

import Testing
@testable import NDImage

struct BoxSumTests {
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
                for s in sums where abs(s) <= limit {
                    let expected = Int64((Double(s) / Double(taps)).rounded(.towardZero))
                    if plan.divide(s) != expected {
                        Issue.record("bound \(bound) taps \(taps) sum \(s): \(plan.divide(s)) != \(expected)")
                        return
                    }
                }
                if plan.narrowProduct {
                    #expect(UInt64(limit) * plan.multiplier < (1 << 32), "bound \(bound) taps \(taps)")
                }
                #expect(plan.accumulator == (unsigned8 && limit <= 65535 ? .uint16 : .int32))
            }
        }
    }
}
