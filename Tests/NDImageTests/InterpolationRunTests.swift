// The specialised run interpolation (`SplineInterpolator.interpolateRun`: 1-D to 3-D coefficients of
// four element types, one copy per rank and spline order) against the general per-point `value(at:)` it must equal
// bit for bit, on random coordinates including NaN, infinities, far-out and edge values, every mode and order
// (a NaN result may differ in sign and payload, see below).
// Prints its seed; rerun with FILTERJIT_INTERPOLATION_SEED=<seed>.

import Testing
import Foundation
@testable import NDImage

private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Test func runInterpolationEqualsPerPointInterpolationBitForBit() throws {
    let seed = ProcessInfo.processInfo.environment["FILTERJIT_INTERPOLATION_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 0...UInt64(UInt32.max))
    print("runInterpolationEqualsPerPointInterpolationBitForBit: seed \(seed) "
          + "(rerun: FILTERJIT_INTERPOLATION_SEED=\(seed) swift test --filter InterpolationRunTests)")
    var random = SplitMix(state: seed)
    var differences: [String] = []
    for trial in 0..<300 {
        let rank = [2, 1, 3][trial % 3]
        let shape = (0..<rank).map { _ in Int.random(in: 1...(rank == 3 ? 6 : 9), using: &random) }
        let values: [Double] = (0..<shape.reduce(1, *)).map { _ in
            Int.random(in: 0..<15, using: &random) == 0 ? [.nan, .infinity, -0.0][Int.random(in: 0..<3, using: &random)]
                : Double.random(in: -50...50, using: &random)
        }
        let coefficientType: ElementType = [.float64, .float32, .uint8, .uint16, .int16][trial % 5]
        let coefficients = try NDArray.make(shape: shape, elementType: coefficientType,
                                            values: coefficientType.isFloatingPoint ? values : values.map { $0.isFinite ? abs($0.rounded()) : 7 })
        let mode = InterpolationMode.allCases[trial % InterpolationMode.allCases.count]
        let options = InterpolationOptions(order: (trial / 8) % 6, mode: mode, cval: -2.5)
        let interpolator = SplineInterpolator(coefficients: coefficients, options: options, padding: trial % 3 == 0 ? 12 : 0)
        let count = 64
        var coordinates = [Double]()
        // Every other trial keeps most points inside the input (0 <= c < n - 1 on every axis), where
        // the vector groups of the order-1 2-D copy apply; the others scatter them far and wide.
        let mostlyInside = (trial / 3) % 2 == 0
        for k in 0..<(rank * count) {
            let special: [Double] = [.nan, .infinity, -.infinity, 1e300, -9.3e18, 4.6e18, -1, -0.5, 0, -0.0,
                                     Double(shape[0] - 1), Double(shape[rank - 1]) - 0.5, 2.5]
            let n = Double(shape[k % rank])
            if mostlyInside {
                coordinates.append(Int.random(in: 0..<40, using: &random) == 0
                                   ? special[Int.random(in: 0..<special.count, using: &random)]
                                   : n > 1 ? Double.random(in: 0..<(n - 1), using: &random) : 0)
            } else {
                coordinates.append(Int.random(in: 0..<4, using: &random) == 0
                                   ? special[Int.random(in: 0..<special.count, using: &random)]
                                   : Double.random(in: -20...20, using: &random))
            }
        }
        for outputType in [ElementType.float64, .uint8, .int32] {
            let run = try NDArray(shape: [count], elementType: outputType)
            let pointwise = try NDArray(shape: [count], elementType: outputType)
            coordinates.withUnsafeBufferPointer { points in
                interpolator.interpolateRun(points.baseAddress!, count: count, to: run.firstElementPointer,
                                            outputStride: outputType.itemSize, as: outputType)
                for i in 0..<count {
                    storeInterpolated(interpolator.value(at: points.baseAddress! + rank * i), as: outputType,
                                      to: pointwise.firstElementPointer + i * outputType.itemSize)
                }
            }
            // NaN compares as NaN: which NaN's sign and payload survive depends on operand order, which
            // LLVM may swap in commutative operations (x86 keeps the first operand's NaN).
            let same = zip(run.doubleValues(), pointwise.doubleValues()).allSatisfy {
                $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
            }
            if run.int64Bits() != pointwise.int64Bits() || !same {
                let a = run.doubleValues(), b = pointwise.doubleValues()
                let i = (0..<count).first { a[$0].bitPattern != b[$0].bitPattern && !(a[$0].isNaN && b[$0].isNaN) } ?? 0
                differences.append("trial \(trial) \(coefficientType) \(shape) order \(options.order) \(mode.rawValue) \(outputType): point \(i) "
                    + "at \(coordinates[(rank * i)..<(rank * i + rank)]): run \(a[i]) (\(String(a[i].bitPattern, radix: 16))) "
                    + "per point \(b[i]) (\(String(b[i].bitPattern, radix: 16)))")
            }
        }
    }
    #expect(differences.isEmpty, "seed \(seed): \(differences.prefix(5))")
}

@Test func splineFilterGivesTheSameBitsOnAnyThreadCount() throws {
    for shape in [[3, 40, 17], [70, 5], [1, 33], [2, 2, 2], [130]] {
        let count = shape.reduce(1, *)
        let input = try NDArray.make(shape: shape, elementType: .float64,
                                     values: (0..<count).map { Double(($0 * 7919) % 263) - 100 })
        for order in 2...5 {
            for mode in InterpolationMode.allCases {
                let one = try splineFilter(input, order: order, mode: mode, threads: 1)
                let three = try splineFilter(input, order: order, mode: mode, threads: 3)
                #expect(one.doubleValues().map(\.bitPattern) == three.doubleValues().map(\.bitPattern),
                        "\(shape) order \(order) \(mode.rawValue)")
            }
        }
    }
}
