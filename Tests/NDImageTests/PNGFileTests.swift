import Foundation
import Testing
@testable import NDImage

@Test func readsPillowWrittenFilesToPillowsGreyValues() throws {
    let entries = try loadFixture("png/index.json", as: [NPYIndexEntry].self)
    let names = Set(entries.map(\.file))
    for required in ["grey8.png", "grey16.png", "rgb8.png", "rgba8.png", "la8.png", "palette.png",
                     "palette_transparent.png", "grey1.png", "grey2.png", "grey4.png", "rgb16.png", "rgba16.png", "la16.png", "grey8_gamma.png"] {
        #expect(names.contains(required), "missing fixture \(required)")
    }
    for entry in entries {
        let array = try PNGFile.read(path: fixtureRoot.appendingPathComponent("png/\(entry.file)").path)
        let failure = try difference(array, entry.expected)
        #expect(failure == nil, "\(entry.file): \(failure ?? "")")
    }
}

@Test func uint8AndUint16RoundTripExactly() throws {
    for type in [ElementType.uint8, .uint16] {
        let maxValue = type == .uint8 ? 255.0 : 65535.0
        let values = (0..<35).map { Double(($0 * 7919) % Int(maxValue + 1)) }
        let array = try NDArray.make(shape: [5, 7], elementType: type, values: values)
        let back = try PNGFile.read(PNGFile.encode(array))
        #expect(back.elementType == type)
        #expect(back.shape == [5, 7])
        #expect(back.doubleValues() == values)
    }
}

@Test func boolWritesAs0And255AndStridedViewsWriteLogicalOrder() throws {
    let array = try NDArray.make(shape: [2, 3], elementType: .bool, values: [1, 0, 1, 0, 0, 1])
    #expect(try PNGFile.read(PNGFile.encode(array)).doubleValues() == [255, 0, 255, 0, 0, 255])
    let grey = try NDArray.make(shape: [2, 3], elementType: .uint8, values: [1, 2, 3, 4, 5, 6])
    let view = try grey.transposed().reversed(axis: 0)
    #expect(try PNGFile.read(PNGFile.encode(view)).doubleValues() == view.doubleValues())
}

@Test func floatsAreClippedAndScaledLikeImgAsUbyte() throws {
    // rint(x * 255) with ties to even: 0.5 * 255 = 127.5 -> 128; 1.5/255 * 255 -> 2 (tie to even); NaN -> 0.
    let values: [Double] = [-0.5, 0, 0.5, 1.5 / 255, 2.5 / 255, 1, 7, .nan]
    let array = try NDArray.make(shape: [2, 4], elementType: .float64, values: values)
    let expected = values.map { v -> Double in
        if v.isNaN { return 0 }
        return (min(max(v, 0), 1) * 255).rounded(.toNearestOrEven)
    }
    #expect(try PNGFile.read(PNGFile.encode(array)).doubleValues() == expected)
    #expect(expected[2] == 128)
}

@Test func unsupportedTypesAndRanksAreRejectedWithAHint() throws {
    let ints = try NDArray(shape: [2, 2], elementType: .int32)
    #expect { try PNGFile.encode(ints) } throws: { ($0 as? NDImageError)?.description.contains("--output-dtype") == true }
    let colour = try NDArray(shape: [2, 2, 3], elementType: .uint8)
    #expect { try PNGFile.encode(colour) } throws: { ($0 as? NDImageError)?.description.contains("colour") == true }
    let line = try NDArray(shape: [4], elementType: .uint8)
    #expect(throws: NDImageError.self) { try PNGFile.encode(line) }
}

@Test func garbageBytesAreAnErrorNotACrash() {
    for bytes: [UInt8] in [[], [1, 2, 3], Array("\u{89}PNG\r\n\u{1A}\n".utf8) + Array(repeating: 0, count: 40)] {
        #expect(throws: NDImageError.self) { try PNGFile.read(bytes) }
    }
}
