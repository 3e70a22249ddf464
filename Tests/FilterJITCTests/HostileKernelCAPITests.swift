// The hostile-kernel corpus (Tests/Fixtures/hostile, see FilterJITTests/HostileKernelTests.swift)
// through the C API, as Python and C callers reach it: each kernel must return the error status with
// its message, or stop with "kernel cancelled" when filterjit_engine_cancel is called from another thread.

import Foundation
import Testing
@testable import FilterJITC

private let hostileDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/hostile")

/// The corpus file names.
private func hostileNames() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: hostileDirectory.path).filter { $0.hasSuffix(".filter") }.sorted()
}

/// A value handed to one other thread while its creator only waits.
private struct Handle: @unchecked Sendable { var pointer: OpaquePointer? }

@Suite(.serialized) struct HostileKernelCAPITests {
    @Test(arguments: try hostileNames())
    func everyHostileKernelReturnsItsErrorThroughTheCAPI(_ name: String) throws {
        let source = try String(contentsOf: hostileDirectory.appendingPathComponent(name), encoding: .utf8)
        let expected = String(try #require(source.split(separator: "\n").first).dropFirst("# expect: ".count))
        let isEndless = expected == "cancelled"
        var error: UnsafeMutablePointer<CChar>?
        let engine = Handle(pointer: filterjit_engine_create(&error))
        defer { filterjit_engine_free(engine.pointer) }
        var status: Int32 = -1
        let kernel = Handle(pointer: filterjit_compile(engine.pointer, source, nil, name, 0, &status, &error))
        try #require(kernel.pointer != nil, "\(name): \(error.map { String(cString: $0) } ?? "")")
        defer { filterjit_kernel_free(kernel.pointer) }
        let isLine = filterjit_kernel_kind(kernel.pointer) == 1
        for engineKind: Int32 in [0, 1] {
            filterjit_engine_reset_cancellation(engine.pointer)
            let outcome = LockedOutcome()
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let shape = [6, 7]
                let input = (0..<42).map { Double($0) * 100 }
                var output = [Double](repeating: 0, count: 42)
                let strides = [56, 8]
                var message: UnsafeMutablePointer<CChar>?
                let result: Int32 = input.withUnsafeBytes { inBytes in
                    output.withUnsafeMutableBytes { outBytes in
                        if isLine {
                            return filterjit_generic_filter1d(kernel.pointer, inBytes.baseAddress, 10, 2, shape, strides,
                                                              outBytes.baseAddress, 10, strides, 3, -1, 0, 0, 0,
                                                              nil, 0, engineKind, 2, &message)
                        }
                        return filterjit_generic_filter(kernel.pointer, inBytes.baseAddress, 10, 2, shape, strides,
                                                        outBytes.baseAddress, 10, strides, [1, 1, 1, 1, 1, 1, 1, 1, 1], 2, [3, 3],
                                                        nil, nil, 0, 0, nil, 0, engineKind, 2, &message)
                    }
                }
                let text = message.map { String(cString: $0) } ?? ""
                filterjit_string_free(message)
                outcome.set(result, text)
                finished.signal()
            }
            var cancelled = false
            if finished.wait(timeout: .now() + (isEndless ? 0.3 : 20)) == .timedOut {
                cancelled = true
                filterjit_engine_cancel(engine.pointer)
                #expect(finished.wait(timeout: .now() + 20) == .success, "\(name) engine \(engineKind): still running after cancel")
            }
            #expect(cancelled == isEndless, "\(name) engine \(engineKind): cancel needed: \(cancelled)")
            let (result, message) = outcome.get()
            #expect(result != 0, "\(name) engine \(engineKind): status \(result)")
            #expect(message.contains(expected), "\(name) engine \(engineKind): \(message)")
        }
        filterjit_engine_reset_cancellation(engine.pointer)
    }
}

/// The status and message of a C API call made on another thread.
private final class LockedOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Int32, String) = (-1, "")
    func set(_ status: Int32, _ message: String) { lock.lock(); value = (status, message); lock.unlock() }
    func get() -> (Int32, String) { lock.lock(); defer { lock.unlock() }; return value }
}
