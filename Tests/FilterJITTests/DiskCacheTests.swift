// The on-disk kernel cache: object files reused by a fresh engine (a new process in practice).

import Testing
import Foundation
import FilterLang
import FilterCodegen
@testable import FilterJIT

private func temporaryDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("filterjit-disk-cache-\(UUID().uuidString)", isDirectory: true)
}

@Suite struct DiskCacheTests {
    @Test func freshEngineLoadsTheObjectFileInsteadOfCompiling() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let program = ABITests.weighted
        let first = try Engine(diskCache: DiskKernelCache(directory: directory)).compile(program: program)
        #expect(!first.loadedFromDiskCache)
        #expect(try first.callFilter(values: [4], parameters: ["t": 2]) == 11)
        let cache = DiskKernelCache(directory: directory)
        #expect(cache.entries().map(\.kernelName) == ["weighted"])

        let second = try Engine(diskCache: cache).compile(program: program)
        #expect(second.loadedFromDiskCache)
        #expect(second.timings.optimize == 0)
        #expect(try second.callFilter(values: [4], parameters: ["t": 2]) == 11)
        #expect(throws: KernelRuntimeError.self) { try second.callFilter(values: [4], parameters: ["k": .nan]) }
        // The texts are regenerated on demand and equal the original compile's.
        #expect(second.ir == first.ir)
        #expect(second.optimizedIR == first.optimizedIR)
    }

    @Test func damagedObjectFileFallsBackToCompiling() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let program = affineProgram(7, 1)
        _ = try Engine(diskCache: DiskKernelCache(directory: directory)).compile(program: program)
        let cache = DiskKernelCache(directory: directory)
        let entry = try #require(cache.entries().first)
        try Data("not an object file".utf8).write(to: directory.appendingPathComponent("\(entry.key).o"))
        let kernel = try Engine(diskCache: cache).compile(program: program)
        #expect(!kernel.loadedFromDiskCache)
        #expect(try kernel.callFilter(values: [2]) == 15)
        // The recompile rewrote the entry, so the next engine loads it again.
        #expect(try Engine(diskCache: cache).compile(program: program).loadedFromDiskCache)
    }

    @Test func keyDependsOnSignatureAndPipelineAndClearRemovesEntries() throws {
        let machine = try TargetMachine()
        let signature = KernelSignature(source: "min(values)")
        let standard = DiskKernelCache.key(for: signature, machine: machine, optimization: .standard)
        #expect(standard == DiskKernelCache.key(for: KernelSignature(source: "min(values)"), machine: machine, optimization: .standard))
        #expect(standard != DiskKernelCache.key(for: signature, machine: machine, optimization: .none))
        #expect(standard != DiskKernelCache.key(for: KernelSignature(source: "max(values)"), machine: machine, optimization: .standard))
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = DiskKernelCache(directory: directory)
        let engine = try Engine(diskCache: cache)
        _ = try engine.compile(program: affineProgram(1, 1))
        _ = try engine.compile(program: affineProgram(1, 2))
        #expect(cache.entries().count == 2)
        try cache.clear()
        #expect(cache.entries().isEmpty)
    }
}
