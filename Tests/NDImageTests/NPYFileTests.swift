import Foundation
import Testing
@testable import NDImage

struct NPYIndexEntry: Decodable {
    let file: String
    let expected: EncodedArray
}

struct BadNPYEntry: Decodable {
    let file: String
    let message: String
}

@Test func readsEveryNumpyWrittenFileWithItsValues() throws {
    let entries = try loadFixture("npy/index.json", as: [NPYIndexEntry].self)
    #expect(entries.count > 80)
    for entry in entries {
        let array = try NPYFile.read(path: fixtureRoot.appendingPathComponent("npy/\(entry.file)").path)
        let failure = try difference(array, entry.expected)
        #expect(failure == nil, "\(entry.file): \(failure ?? "")")
        if entry.file.contains("_F_"), array.rank >= 2, array.count > 1 {
            #expect(!array.isCContiguous, "\(entry.file) should keep its Fortran layout")
        }
    }
}

@Test func swiftWrittenFilesReadBackIdenticallyForEveryType() throws {
    let entries = try loadFixture("npy/index.json", as: [NPYIndexEntry].self)
    for entry in entries {
        let array = try NPYFile.read(path: fixtureRoot.appendingPathComponent("npy/\(entry.file)").path)
        let bytes = NPYFile.encode(array)
        #expect(bytes.count >= 64)
        let headerEnd = 10 + Int(bytes[8]) + Int(bytes[9]) << 8
        #expect(headerEnd % 64 == 0, "header not padded to 64 bytes")
        #expect(bytes[headerEnd - 1] == 0x0A)
        let again = try NPYFile.read(bytes)
        #expect(again.isCContiguous)
        let failure = try difference(again, entry.expected)
        #expect(failure == nil, "\(entry.file) round trip: \(failure ?? "")")
    }
}

@Test func writesVersionTwoWhenTheHeaderNeedsIt() throws {
    // A rank-25000 shape of ones makes the header longer than 65,535 bytes.
    let array = try NDArray(shape: Array(repeating: 1, count: 25000), elementType: .int8)
    let bytes = NPYFile.encode(array)
    #expect(bytes[6] == 2)
    let again = try NPYFile.read(bytes)
    #expect(again.shape == array.shape)
}

@Test func rejectsEveryMalformedFileWithItsOwnMessage() throws {
    let entries = try loadFixture("npy_bad/index.json", as: [BadNPYEntry].self)
    #expect(entries.count >= 15)
    var messages: Set<String> = []
    for entry in entries {
        do {
            _ = try NPYFile.read(path: fixtureRoot.appendingPathComponent("npy_bad/\(entry.file)").path)
            Issue.record("\(entry.file) was accepted")
        } catch {
            #expect(error.description.contains(entry.message), "\(entry.file): '\(error.description)' lacks '\(entry.message)'")
            messages.insert(error.description)
        }
    }
    // Two bad-magic files share a message; every other problem has its own.
    #expect(messages.count >= entries.count - 1)
}

@Test func imageFilesAreChosenByExtensionAndFootprintsByName() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ndimage-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let array = try NDArray.make(shape: [2, 3], elementType: .uint8, values: [0, 1, 2, 3, 0, 5])
    for name in ["a.npy", "a.PNG", "a.tif", "a.TIFF"] {
        let path = folder.appendingPathComponent(name).path
        try ImageFile.write(array, path: path)
        #expect(try ImageFile.read(path: path).doubleValues() == array.doubleValues())
    }
    #expect(throws: NDImageError.self) { try ImageFile.write(array, path: folder.appendingPathComponent("a.bmp").path) }
    #expect(throws: NDImageError.self) { try ImageFile.read(path: folder.appendingPathComponent("missing.npy").path) }
    #expect(try Footprint.named("cross", rank: 2) == Footprint.cross(rank: 2))
    #expect(try Footprint.named(folder.appendingPathComponent("a.npy").path, rank: 2).mask == [false, true, true, true, false, true])
    #expect(throws: NDImageError.self) { try Footprint.named("diamond", rank: 2) }
}

@Test func boolBytesOtherThanZeroAndOneSurviveAWriteAndRead() throws {
    // generic_filter stores the byte 2 when a bool output receives 2.7 (spec 1.4); np.save keeps it.
    let input = try NDArray.make(shape: [3], elementType: .float64, values: [2.7, 0.5, 1])
    let output = try genericFilter(input: input, options: FilterOptions(size: [1]), output: .elementType(.bool)) { $0[0] }
    #expect(output.int64Bits() == [2, 0, 1])
    #expect(try NPYFile.read(NPYFile.encode(output)).int64Bits() == [2, 0, 1])
}
