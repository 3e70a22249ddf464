import Foundation
import RankKernelsC
import Testing

/// The C kernels of the ranked rows (`rank_merge.h`) against plain Swift: keys order as the values,
/// the radix sort and the merge sort as `sorted`, and the sliding select (with and without BMI2's
/// `pdep`) finds each window's k-th smallest rank.
@Suite struct RankedRowsKernelTests {
    @Test func keysOrderAsTheValuesAndInvert() {
        let values: [Double] = [-.infinity, -1e308, -2.5, -1e-320, 0.0, 1e-320, 1, 2.5, 1e308, .infinity]
        var keys = [UInt64](repeating: 0, count: values.count)
        filterjit_rank_keys_f64(values, values.count, &keys)
        #expect(keys == keys.sorted() && Set(keys).count == keys.count)
        #expect(keys.map { filterjit_rank_value_f64($0).bitPattern } == values.map(\.bitPattern))
        let floats = values.map(Float.init)
        var floatKeys = [UInt64](repeating: 0, count: floats.count)
        filterjit_rank_keys_f32(floats, floats.count, &floatKeys)
        #expect(floatKeys == floatKeys.sorted() && floatKeys.allSatisfy { $0 <= UInt64(UInt32.max) })
        #expect(floatKeys.map { filterjit_rank_value_f32($0).bitPattern } == floats.map(\.bitPattern))
    }

    @Test func sortAndMergeKeepEveryPairInKeyOrder() {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("sortAndMergeKeepEveryPairInKeyOrder seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var generator = SplitMix64(seed: seed)
        for _ in 0..<50 {
            let n = Int(generator.next() % 3000)
            let narrow = generator.next() % 2 == 0   // few distinct keys: ties, and bytes every key shares
            var keys = (0..<n).map { _ in narrow ? generator.next() % 7 << 40 : generator.next() }
            var tags = (0..<n).map { UInt32($0) }
            let pairs = zip(keys, tags).map { ($0, $1) }
            var scratchKeys = [UInt64](repeating: 0, count: max(1, n)), scratchTags = [UInt32](repeating: 0, count: max(1, n))
            filterjit_rank_sort(&keys, &tags, n, &scratchKeys, &scratchTags)
            // Stable: equal keys keep their input order, so the result is the stable sort's.
            let expected = pairs.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
            #expect(keys == expected.map(\.0) && tags == expected.map(\.1))
            // Merge with a second sorted run, dropping the pairs of slot 0 from the first.
            let m = Int(generator.next() % 500)
            let other = (0..<m).map { _ in generator.next() % 7 << 40 }.sorted()
            let otherTags = (0..<m).map { UInt32(1 << 24 | $0) }
            var drop = [UInt8](repeating: 0, count: 256)
            drop[0] = 1
            var outKeys = [UInt64](repeating: 0, count: n + m + 1), outTags = [UInt32](repeating: 0, count: n + m + 1)
            var (firstKeys, firstTags) = (keys, tags)   // the merge compacts its first run in place
            let count = filterjit_rank_merge(&firstKeys, &firstTags, n, drop, other, otherTags, m, &outKeys, &outTags)
            #expect(count == m)   // every pair of the first run had slot 0
            #expect(Array(outKeys[0..<count]) == other && Array(outTags[0..<count]) == otherTags)
            drop[0] = 0
            (firstKeys, firstTags) = (keys, tags)
            let kept = filterjit_rank_merge(&firstKeys, &firstTags, n, drop, other, otherTags, m, &outKeys, &outTags)
            #expect(kept == n + m && Array(outKeys[0..<kept]) == (keys + other).sorted())
            // Pairs of a dropped slot among kept ones: the kept keep their order.
            let mixedTags = (0..<n).map { UInt32($0 % 3) << 24 | UInt32($0) }
            (firstKeys, firstTags) = (keys, mixedTags)
            drop[1] = 1
            let mixed = filterjit_rank_merge(&firstKeys, &firstTags, n, drop, other, otherTags, m, &outKeys, &outTags)
            let survivors = zip(keys, mixedTags).filter { $0.1 >> 24 != 1 }
            #expect(mixed == survivors.count + m)
            #expect(Array(outKeys[0..<mixed]) == (survivors.map(\.0) + other).sorted())
            drop[1] = 0
        }
    }

    @Test func slidingSelectFindsEachWindowsKthRank() {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("slidingSelectFindsEachWindowsKthRank seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var generator = SplitMix64(seed: seed)
        for _ in 0..<40 {
            // Rows of distinct ranks (a permutation), spans at random starts and lengths.
            let rows = 1 + Int(generator.next() % 6), rowLength = 20 + Int(generator.next() % 300)
            var permutation = (0..<(rows * rowLength)).map { UInt32($0) }
            for i in stride(from: permutation.count - 1, to: 0, by: -1) { permutation.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
            // One span per row (the job's spans never share an element: a window holds each rank once).
            let spanCount = 1 + Int(generator.next() % UInt64(rows))
            let lengths = (0..<spanCount).map { _ in 1 + Int(generator.next() % 15) }
            let starts = (0..<spanCount).map { _ in Int(generator.next() % 4) }
            let spanRows = Array((0..<rows).shuffled(using: &generator).prefix(spanCount))
            let n = rowLength - 4 - (lengths.max() ?? 1)
            guard n > 0 else { continue }
            let total = lengths.reduce(0, +)
            let ks = (0..<(1 + Int(generator.next() % 3))).map { _ in Int(generator.next() % UInt64(total)) }
            let words = permutation.count / 64 + 1
            permutation.withUnsafeBufferPointer { ranks in
                let spans: [UnsafePointer<UInt32>?] = (0..<spanCount).map { ranks.baseAddress! + spanRows[$0] * rowLength + starts[$0] }
                for portable in [false, true] {
                    var bits = [UInt64](repeating: .max, count: words)   // contents on entry do not matter
                    var out = [UInt32](repeating: 0, count: ks.count * n)
                    if portable {
                        filterjit_rank_slide_portable(spans, lengths, spanCount, n, ks, ks.count, &bits, words, &out)
                    } else {
                        filterjit_rank_slide(spans, lengths, spanCount, n, ks, ks.count, &bits, words, &out)
                    }
                    for x in 0..<n {
                        let window = (0..<spanCount).flatMap { s in (0..<lengths[s]).map { spans[s]![x + $0] } }.sorted()
                        for (i, k) in ks.enumerated() where out[i * n + x] != window[k] {
                            Issue.record("portable \(portable) x \(x) k \(k): \(out[i * n + x]) != \(window[k])")
                            return
                        }
                    }
                }
            }
        }
    }
}
