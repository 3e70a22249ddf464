import FilterCodegen
import NDImage
import Foundation
import Testing
@testable import FilterJIT

/// A fresh cache directory, removed at the end.
private func temporaryCacheDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("filterjit-disk-\(UUID())", isDirectory: true)
}

@Suite struct DiskCacheTests {
    @Test func entryRoundTripsAndDamageIsDetectedAndRemoved() throws {
        let directory = temporaryCacheDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = DiskKernelCache(directory: directory)
        let object: [UInt8] = (0..<1000).map { UInt8($0 % 251) }
        cache.store(key: "k1", objectCode: object, symbol: "sym", kernelName: "fmin")
        guard case .hit(let loaded, let symbol) = cache.load(key: "k1") else {
            Issue.record("stored entry did not load")
            return
        }
        #expect(loaded == object && symbol == "sym")
        #expect(cache.entries().map(\.kernelName) == ["fmin"])

        let file = directory.appendingPathComponent("k1.fjk")
        var bytes = [UInt8](try Data(contentsOf: file))
        let damages: [(String, [UInt8])] = [
            ("truncated", Array(bytes.prefix(bytes.count - 10))),
            ("flipped", { var copy = bytes; copy[copy.count - 1] ^= 1; return copy }()),
            ("bad magic", { var copy = bytes; copy[0] = 0; return copy }()),
            ("empty", []),
        ]
        for (name, damaged) in damages {
            try Data(damaged).write(to: file)
            guard case .corrupt(let message) = cache.load(key: "k1") else {
                Issue.record("\(name) entry was not reported as corrupt")
                continue
            }
            #expect(message.contains("k1.fjk"))
            #expect(!FileManager.default.fileExists(atPath: file.path), "\(name) entry was not removed")
        }
        bytes.removeAll()
        guard case .miss = cache.load(key: "never-stored") else {
            Issue.record("a missing key must be a miss")
            return
        }
    }

    @Test func directoryIsBoundedLeastRecentlyUsedFirst() throws {
        let directory = temporaryCacheDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = DiskKernelCache(directory: directory, capacityBytes: 3 * 1100)
        let object = [UInt8](repeating: 7, count: 1000)
        for index in 0..<3 {
            cache.store(key: "k\(index)", objectCode: object, symbol: "s", kernelName: "n\(index)")
            Thread.sleep(forTimeInterval: 0.02)
        }
        // Using k0 makes k1 the least recently used.
        _ = cache.load(key: "k0")
        Thread.sleep(forTimeInterval: 0.02)
        cache.store(key: "k3", objectCode: object, symbol: "s", kernelName: "n3")
        #expect(Set(cache.entries().map(\.key)) == ["k0", "k2", "k3"])
    }

    @Test func clearRemovesOnlyTheCachesOwnFiles() throws {
        let directory = temporaryCacheDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = DiskKernelCache(directory: directory)
        let key = String(repeating: "ab", count: 32)
        cache.store(key: key, objectCode: [1, 2, 3], symbol: "s", kernelName: "k")
        let foreign = ["data.fjk", "notes.txt", "x.tmp-1", "ABAB.fjk"]
        for name in foreign { try Data([0]).write(to: directory.appendingPathComponent(name)) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(".\(key).tmp-dir"), withIntermediateDirectories: true)
        try cache.clear()
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        #expect(left == Set(foreign + [".\(key).tmp-dir"]))
    }

    @Test func anotherFilterJITVersionUsesOtherKeys() throws {
        let machine = try TargetMachine()
        let signature = KernelSignature(source: "min(values)")
        let current = DiskKernelCache.key(for: signature, machine: machine, optimization: .standard)
        let other = DiskKernelCache.key(for: signature, machine: machine, optimization: .standard, version: "filterjit-codegen-0")
        #expect(current != other)
        #expect(current == DiskKernelCache.key(for: signature, machine: machine, optimization: .standard))
    }

    @Test func engineWarnsAboutADamagedEntryAndRebuildsIt() throws {
        let directory = temporaryCacheDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try Engine(diskCache: DiskKernelCache(directory: directory))
        #expect(try first.compile("np.max(values)").callFilter(values: [1, 5, 2]) == 5)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".fjk") }
        #expect(files.count == 1)
        for name in files {
            let url = directory.appendingPathComponent(name)
            var bytes = [UInt8](try Data(contentsOf: url))
            bytes[bytes.count / 2] ^= 0xFF
            try Data(bytes).write(to: url)
        }
        final class Warnings: @unchecked Sendable {
            var messages: [String] = []
        }
        let warnings = Warnings()
        let second = try Engine(diskCache: DiskKernelCache(directory: directory))
        second.warningHandler = { warnings.messages.append($0) }
        let kernel = try second.compile("np.max(values)")
        #expect(try kernel.callFilter(values: [1, 5, 2]) == 5)
        #expect(!kernel.loadedFromDiskCache)
        #expect(warnings.messages.count == 1)
        let third = try Engine(diskCache: DiskKernelCache(directory: directory))
        let loaded = try third.compile("np.max(values)")
        try loaded.prepareCode()
        #expect(loaded.loadedFromDiskCache)
    }
}

@Suite struct FusedDiskCacheTests {
    @Test func fusedSpecialisationsAreStoredAndLoadedByANewEngine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filterjit-fused-disk-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = try NDArray.random(shape: [40, 50], elementType: .uint8, seed: 5)
        let options = FilterOptions(footprint: try .cross(rank: 2))
        let first = try Engine(diskCache: DiskKernelCache(directory: directory))
        // The literal strategy: a recognised min would run without any fused kernel.
        let compiled = try first.compile("min(values)").prepareRun(shape: [40, 50], elementType: .uint8, options: options,
                                                                    engine: .fused, strategy: .literal)
        #expect(compiled.timings.optimize > 0 && !compiled.loadedFromDiskCache)
        #expect(compiled.compiled.count == 1, "only the fused kernel is compiled, not the callback: \(compiled.compiled)")
        let expected = try first.compile("min(values)").genericFilter(image, options: options, engine: .fused,
                                                                      strategy: .literal, threads: 1)

        let second = try Engine(diskCache: DiskKernelCache(directory: directory))
        let kernel = try second.compile("min(values)")
        let loaded = try kernel.prepareRun(shape: [40, 50], elementType: .uint8, options: options, engine: .fused,
                                           strategy: .literal)
        #expect(loaded.loadedFromDiskCache && loaded.timings.ir == 0 && loaded.timings.optimize == 0,
                "the fused kernel was compiled, not loaded")
        let again = try kernel.genericFilter(image, options: options, engine: .fused, strategy: .literal, threads: 1)
        #expect(again.doubleValues() == expected.doubleValues())
        // Texts of a loaded fused kernel come from the fused pipeline.
        let code = try kernel.fusedCode(shape: [40, 50], elementType: .uint8, options: options)
        #expect(code.optimizedIR.contains("_fused.row"))
    }
}
