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

@Test func viewWhoseStrideExtentsOverflowWhenAddedIsRejected() throws {
    // Each extent fits in Int, but their sum wrapped to a negative "highest byte" that passed the
    // bounds check, so element [1, 1] would have been read 2^63 bytes away from a 32-byte storage.
    let storage = try NDArrayStorage(byteCount: 32)
    for strides in [[1 << 62, 1 << 62], [-(1 << 62), -(1 << 62)], [Int.max / 2 + 1, Int.max / 2 + 1]] {
        #expect(throws: NDImageError.self, "strides \(strides)") {
            try NDArray(storage: storage, elementType: .float64, shape: [2, 2], strides: strides, byteOffset: 0)
        }
    }
    #expect(throws: NDImageError.self) {
        try NDArray(storage: storage, elementType: .float64, shape: [2], strides: [8], byteOffset: Int.max - 4)
    }
    // A valid negative-stride view over the same storage still works.
    let view = try NDArray(storage: storage, elementType: .float64, shape: [4], strides: [-8], byteOffset: 24)
    #expect(view.count == 4)
}

@Test func lineFilterSizeAboveTheWindowLimitIsAnErrorBeforeAnyAllocation() throws {
    let input = try NDArray.make(shape: [2, 3], elementType: .float64, values: [1, 2, 3, 4, 5, 6])
    for size in [Footprint.maximumEntryCount + 1, 2_000_000_000, Int.max] {
        do {
            _ = try genericFilter1D(input: input, options: LineFilterOptions(filterSize: size, mode: .wrap)) { _, _ in }
            Issue.record("filter_size \(size) was accepted")
        } catch {
            #expect(error.description.contains("at most \(Footprint.maximumEntryCount)"), "\(error)")
        }
    }
    var lengths: [Int] = []
    _ = try genericFilter1D(input: input, options: LineFilterOptions(filterSize: 5, mode: .wrap)) { line, _ in lengths.append(line.count) }
    #expect(lengths == [7, 7])
}

@Test func readingADirectoryOrADeviceSaysWhatItIs() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fj-dir-\(UUID()).npy")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    // Was "no such file or not readable" for all three.
    #expect(throws: NDImageError.io("cannot read '\(directory.path)': it is a directory")) { try NPYFile.read(path: directory.path) }
    #expect(throws: NDImageError.io("cannot read '/dev/zero': it is not a regular file")) { try FileBytes.read("/dev/zero") }
    #expect(throws: NDImageError.io("cannot read '\(directory.path)/missing.npy': No such file or directory")) {
        try ImageFile.read(path: directory.path + "/missing.npy")
    }
}

@Test func numberOptionsAcceptWhatPythonFloatAcceptsNotHexFloats() throws {
    for text in ["0x10", "0x1p3", "nan(0x1)", "1p3"] {
        #expect(throws: NDImageError.self, "\(text)") { try OptionParsing.double(text, name: "--cval") }
    }
    #expect(try OptionParsing.double(" -1.5e3 ") == -1500)
    #expect(try OptionParsing.double("-inf") == -.infinity)
    #expect(try OptionParsing.double("infinity") == .infinity)
    #expect(try OptionParsing.double("NaN").isNaN)
}

@Test func pngWhoseHeaderClaimsAHugeImageIsRefusedWithItsSize() {
    // IHDR: 1,048,576 x 1,048,576 grey 8-bit, then 100 bytes of image data (made with Python's zlib).
    let bytes: [UInt8] = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x10,
        0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x6E, 0x43, 0xFF, 0x19, 0x00, 0x00, 0x00,
        0x0C, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0xA0, 0x3D, 0x00, 0x00, 0x00, 0x64, 0x00, 0x01, 0x86,
        0x64, 0x3C, 0x35, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
    #expect(throws: NDImageError.sizeTooLarge("a 1048576x1048576 PNG image with 1 channel(s) of 8 bits is too large (limit 2 GB decoded)")) {
        try PNGFile.read(bytes)
    }
}

@Test func outputThatIsAReversedViewOfTheInputGetsTheResultOfTheOriginalInput() throws {
    let values: [Double] = [5, 1, 4, 2, 8, 7, 3]
    let input = try NDArray.make(shape: [7], elementType: .float64, values: values)
    let expected = try genericFilter(input: input, options: FilterOptions(size: [3], mode: .nearest)) { $0.min() ?? 0 }
    let aliased = try NDArray.make(shape: [7], elementType: .float64, values: values)
    let reversedView = try aliased.reversed(axis: 0)
    _ = try genericFilter(input: aliased, options: FilterOptions(size: [3], mode: .nearest), output: .array(reversedView)) { $0.min() ?? 0 }
    // The view's element i is storage element 6 - i: the storage now holds the result backwards.
    #expect(reversedView.doubleValues() == expected.doubleValues())
    #expect(aliased.doubleValues() == Array(expected.doubleValues().reversed()))
}
