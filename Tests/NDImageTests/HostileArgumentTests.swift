import Foundation
import Testing
@testable import NDImage

/// Adversarial review: arguments that once trapped or misbehaved must now be clear errors.

@Test func hugeWindowSizeIsAnErrorNotAnAllocationTrap() throws {
    // --size 99999999 on a 2-D image asked Array(repeating:count:) for 10^16 Bools and aborted.
    let input = try NDArray(shape: [4, 5], elementType: .float64)
    for size in [[99_999_999], [1 << 31, 2], [2049, 2048]] {
        do {
            _ = try genericFilter(input: input, options: FilterOptions(size: size)) { _ in 0 }
            Issue.record("size \(size) was accepted")
        } catch {
            #expect(error.description.contains("at most \(Footprint.maximumEntryCount)"), "\(error)")
        }
    }
    #expect(throws: NDImageError.self) { try Footprint(size: [Int.max / 4, 3]) }
    #expect(throws: NDImageError.self) { try Footprint.cross(rank: 20) }
}

@Test func largestSupportedWindowStillWorksOnAOneDimensionalImage() throws {
    let input = try NDArray.make(shape: [3], elementType: .float64, values: [1, 2, 3])
    let result = try genericFilter(input: input, options: FilterOptions(size: [Footprint.maximumEntryCount], mode: .wrap)) {
        buffer in buffer.reduce(0, +)
    }
    // Wrap: every window covers the period 2^22 / 3 times plus a remainder; all three sums are near 2^23.
    #expect(result.doubleValues().allSatisfy { abs($0 - 2.0 * Double(Footprint.maximumEntryCount)) < 4 })
}
