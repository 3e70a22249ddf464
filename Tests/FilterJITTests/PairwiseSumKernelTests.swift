import Foundation
import Testing
import FilterInterpreter
import RankKernelsC
@testable import NDImage

/// The vector kernels of NumPy's pairwise float sum (RankKernelsC: pairwise_sums.c with AVX-512,
/// pairwise_sums_avx2.c with AVX2) and the portable Swift program, each called directly so that every
/// path this CPU has is checked whatever the others choose: the sums of rows of pixels (tap i of pixel x
/// is rows[i][x]) and of square boxes (tap r * k + c is rows[r][x + c], divided and stored as doubles or
/// floats) equal `Numerics.npSum` bit for bit, NaN / inf / -0.0 included, at every row length around the
/// kernels' steps of 8 and 16 pixels, without writing past the row.
@Suite struct PairwiseSumKernelTests {
    private static let specials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, 1e308, -1e308, 5e-324]

    /// Random taps: full-precision values over 30 decades, sometimes specials, sometimes all -0.0.
    private static func randomRows(_ n: Int, _ length: Int, _ random: inout FusedTestRandom) -> [[Double]] {
        let hazards = random.chance(0.3), negativeZeros = random.chance(0.1)
        return (0..<n).map { _ in
            (0..<length).map { _ -> Double in
                if negativeZeros { return -0.0 }
                if hazards && random.chance(0.05) { return random.pick(specials) }
                return (random.unit() - 0.5) * pow(10, Double(random.below(30)) - 15)
            }
        }
    }

    /// Rows copied into exactly sized allocations (a plain load past a row is a read past its allocation,
    /// which ASan reports; the masked tails' `vmaskmovpd` is not instrumented, the sentinel past each
    /// output row catches their stores).
    private static func withRows<R>(_ rows: [[Double]], _ body: ([UnsafePointer<Double>]) -> R) -> R {
        let storage = rows.map { row -> UnsafeMutablePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(1, row.count))
            p.initialize(from: row, count: row.count)
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        return body(storage.map { UnsafePointer($0) })
    }

    private static func same(_ a: Double, _ b: Double) -> Bool { (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern }

    @Test func everyPathSumsRowsOfPixelsWithNumPysBits() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("everyPathSumsRowsOfPixelsWithNumPysBits seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let avx2 = filterjit_pairwise_avx2() != 0
        var problems: [String] = [], checked = 0
        for n in Array(1...140) + [200, 225, 255, 256, 257, 300, 383, 441, 961] {
            let count = 1 + random.below(40)
            let rows = Self.randomRows(n, count, &random)
            let expected = (0..<count).map { x in rows.map { $0[x] }.withUnsafeBufferPointer { Numerics.npSum($0.baseAddress, n) } }
            Self.withRows(rows) { taps in
                var paths: [(String, (UnsafeMutablePointer<Double>) -> Void)] = [
                    ("swift", { PairwiseSumRunner(program: PairwiseSumProgram(taps: n)).runProgram(taps: taps, count: count, into: $0) }),
                    ("dispatch", { out in
                        let ran = taps.map { Optional($0) }.withUnsafeBufferPointer { filterjit_pairwise_sum_f64($0.baseAddress, n, count, out) }
                        if ran == 0 { PairwiseSumRunner(program: PairwiseSumProgram(taps: n)).runProgram(taps: taps, count: count, into: out) }
                    }),
                ]
                if avx2 {
                    paths.append(("avx2", { out in
                        taps.map { Optional($0) }.withUnsafeBufferPointer { filterjit_pairwise_sum_f64_avx2($0.baseAddress, n, count, out) }
                    }))
                }
                for (name, path) in paths {
                    var plane = [Double](repeating: 7, count: count + 1)
                    plane.withUnsafeMutableBufferPointer { path($0.baseAddress!) }
                    checked += 1
                    if let x = (0..<count).first(where: { !Self.same(plane[$0], expected[$0]) }) {
                        problems.append("\(name) n \(n) count \(count) pixel \(x): \(plane[x]) != \(expected[x])")
                    }
                    if plane[count] != 7 { problems.append("\(name) n \(n) count \(count) wrote past the row") }
                }
            }
        }
        print("pairwise row sums: \(checked) rows checked (AVX2 kernel \(avx2 ? "included" : "absent on this CPU")), \(problems.count) problems")
        #expect(problems.isEmpty, "seed \(seed):\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    @Test func squareBoxKernelsStoreNumPysMeansAndSums() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("squareBoxKernelsStoreNumPysMeansAndSums seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let avx2 = filterjit_pairwise_avx2() != 0
        var problems: [String] = [], ran = 0
        for k in 3...15 {
            for _ in 0..<6 {
                let count = 1 + random.below(random.chance(0.5) ? 20 : 70)
                let rows = Self.randomRows(k, count + k - 1, &random)
                let divisor = random.chance(0.5) ? Double(k * k) : 0
                let expected = (0..<count).map { x -> Double in
                    let taps = (0..<(k * k)).map { rows[$0 / k][x + $0 % k] }
                    let sum = taps.withUnsafeBufferPointer { Numerics.npSum($0.baseAddress, k * k) }
                    return divisor != 0 ? sum / divisor : sum
                }
                Self.withRows(rows) { pointers in
                    let optionals = pointers.map { Optional($0) }
                    var entries: [(String, (UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Float>?) -> Int32)] = [
                        ("dispatch", { d, f in filterjit_pairwise_box_store(optionals, k, count, divisor, d, f) })]
                    if avx2 { entries.append(("avx2", { d, f in filterjit_pairwise_box_avx2(optionals, k, count, d, f, divisor) })) }
                    for (name, entry) in entries {
                        var doubles = [Double](repeating: 7, count: count + 1)
                        var floats = [Float](repeating: 7, count: count + 1)
                        let storedDoubles = doubles.withUnsafeMutableBufferPointer { entry($0.baseAddress!, nil) }
                        let storedFloats = floats.withUnsafeMutableBufferPointer { entry(nil, $0.baseAddress!) }
                        guard storedDoubles != 0, storedFloats != 0 else { continue }
                        ran += 1
                        for x in 0..<count where !Self.same(doubles[x], expected[x])
                            || !(Float(expected[x]).isNaN && floats[x].isNaN || Float(expected[x]).bitPattern == floats[x].bitPattern) {
                            problems.append("\(name) \(k)x\(k) count \(count) divisor \(divisor) pixel \(x): \(doubles[x]) / \(floats[x]) != \(expected[x])")
                            break
                        }
                        if doubles[count] != 7 || floats[count] != 7 { problems.append("\(name) \(k)x\(k) count \(count) wrote past the row") }
                    }
                }
            }
        }
        print("pairwise square boxes: \(ran) kernel runs (AVX2 kernel \(avx2 ? "included" : "absent on this CPU")), \(problems.count) problems")
        if avx2 || RankKernels.avx512 { #expect(ran > 0, "no box kernel ran on a CPU that has one") }
        #expect(problems.isEmpty, "seed \(seed):\n\(problems.prefix(10).joined(separator: "\n"))")
    }

    /// The 3-D cube kernels (`filterjit_pairwise_rows_store_f64`/`_f32`: 9 rows of 3 columns, 25 of 5, and for
    /// float64 rows 49 of 7, whose tree splits twice), on float64 and float32 rows, as dispatched and (where
    /// the CPU has AVX2) the AVX2 kernel directly.
    @Test func cubeRowKernelsStoreNumPysMeansAndSums() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["STRATEGY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("cubeRowKernelsStoreNumPysMeansAndSums seed \(seed) (rerun with STRATEGY_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let avx2 = filterjit_pairwise_avx2() != 0
        var problems: [String] = [], ran = 0, ranCube7 = 0
        // The cube of 7 has a kernel for float64 rows only, with AVX2 where the AVX-512 kernels are off.
        let cube7 = avx2 && !RankKernels.avx512
        #expect(filterjit_pairwise_rows_supported(49, 7, 0) == (cube7 ? 1 : 0))
        #expect(filterjit_pairwise_rows_supported(49, 7, 1) == 0)
        for (r, length) in [(9, 3), (25, 5), (49, 7)] {
            for round in 0..<40 {
                let count = 1 + (round < 20 ? round : random.below(60))
                let f32 = random.chance(0.5)
                var rows = Self.randomRows(r, count + length - 1, &random)
                if f32 { rows = rows.map { $0.map { Double(Float($0)) } } }
                let divisor = random.chance(0.5) ? Double(r * length) : 0
                let expected = (0..<count).map { x -> Double in
                    let taps = (0..<(r * length)).map { rows[$0 / length][x + $0 % length] }
                    let sum = taps.withUnsafeBufferPointer { Numerics.npSum($0.baseAddress, r * length) }
                    return divisor != 0 ? sum / divisor : sum
                }
                var results: [(String, [Double])] = []
                if f32 {
                    let storage = rows.map { row -> UnsafeMutablePointer<Float> in
                        let p = UnsafeMutablePointer<Float>.allocate(capacity: row.count)
                        p.initialize(from: row.map { Float($0) }, count: row.count)
                        return p
                    }
                    defer { storage.forEach { $0.deallocate() } }
                    let pointers: [UnsafePointer<Float>?] = storage.map { UnsafePointer($0) }
                    var out = [Float](repeating: 7, count: count + 1)
                    if out.withUnsafeMutableBufferPointer({ filterjit_pairwise_rows_store_f32(pointers, r, length, count, divisor, $0.baseAddress!) }) != 0 {
                        results.append(("dispatch f32", out.map { Double($0) }))
                    }
                    if avx2 {
                        out = [Float](repeating: 7, count: count + 1)
                        let raw = pointers.map { UnsafeRawPointer($0) }
                        if out.withUnsafeMutableBufferPointer({ filterjit_pairwise_rows_avx2(raw, 1, r, length, count, divisor, $0.baseAddress!) }) != 0 {
                            results.append(("avx2 f32", out.map { Double($0) }))
                        }
                    }
                } else {
                    Self.withRows(rows) { pointers in
                        let optionals = pointers.map { Optional($0) }
                        var out = [Double](repeating: 7, count: count + 1)
                        if out.withUnsafeMutableBufferPointer({ filterjit_pairwise_rows_store_f64(optionals, r, length, count, divisor, $0.baseAddress!) }) != 0 {
                            results.append(("dispatch f64", out))
                        }
                        if avx2 {
                            out = [Double](repeating: 7, count: count + 1)
                            let raw = pointers.map { Optional(UnsafeRawPointer($0)) }
                            if out.withUnsafeMutableBufferPointer({ filterjit_pairwise_rows_avx2(raw, 0, r, length, count, divisor, $0.baseAddress!) }) != 0 {
                                results.append(("avx2 f64", out))
                            }
                        }
                    }
                }
                for (name, out) in results {
                    ran += 1
                    if r == 49 && name.hasPrefix("dispatch") { ranCube7 += 1 }
                    let want = f32 ? expected.map { Double(Float($0)) } : expected
                    if let x = (0..<count).first(where: { !Self.same(out[$0], want[$0]) }) {
                        problems.append("\(name) \(r)x\(length) count \(count) divisor \(divisor) pixel \(x): \(out[x]) != \(want[x])")
                    }
                    if out[count] != 7 { problems.append("\(name) \(r)x\(length) count \(count) wrote past the row") }
                }
            }
        }
        print("pairwise cube rows: \(ran) kernel runs (AVX2 kernel \(avx2 ? "included" : "absent on this CPU")), \(problems.count) problems")
        if avx2 || RankKernels.avx512 { #expect(ran > 0, "no row kernel ran on a CPU that has one") }
        if cube7 { #expect(ranCube7 > 0, "the 7x7x7 kernel did not run") }
        #expect(problems.isEmpty, "seed \(seed):\n\(problems.prefix(10).joined(separator: "\n"))")
    }
}
