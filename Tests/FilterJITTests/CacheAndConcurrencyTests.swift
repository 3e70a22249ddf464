// The kernel cache, concurrent compiles, and cancellation of `while` loops.

import Testing
import Foundation
import FilterLang
import FilterCodegen
@testable import FilterJIT

/// `return values[0] * factor + offset`: distinct programs for distinct (factor, offset).
func affineProgram(_ factor: Double, _ offset: Double) -> TypedProgram {
    P.filter("affine", [
        S.ret(E.arithmetic(.add, E.arithmetic(.multiply, E.element(E.local(0, .floatArray), E.int(0)), E.float(factor)),
                           E.float(offset))),
    ])
}

@Suite struct CacheTests {
    @Test func secondCompileIsAHitWithTheSamePointer() throws {
        let engine = try Engine(cacheCapacity: 8)
        let first = try engine.compile(program: affineProgram(2, 1))
        let second = try engine.compile(program: affineProgram(2, 1))
        #expect(first === second)
        #expect(try first.address == second.address)
        let statistics = engine.cache.statistics
        #expect(statistics.misses == 1)
        #expect(statistics.hits == 1)
        let other = try engine.compile(program: affineProgram(3, 1))
        #expect(try other.address != first.address)
        #expect(engine.cache.statistics.misses == 2)
    }

    @Test func unreferencedKernelsAreEvictedAndRecompiled() throws {
        let engine = try Engine(cacheCapacity: 2)
        weak var evicted: Kernel?
        do {
            let kernel = try engine.compile(program: affineProgram(1, 0))
            evicted = kernel
        }
        _ = try engine.compile(program: affineProgram(1, 1))
        _ = try engine.compile(program: affineProgram(1, 2))
        // The least recently used kernel was dropped; nothing else held it, so it (and its code) died.
        #expect(evicted == nil)
        #expect(engine.cache.statistics.evictions == 1)
        #expect(engine.cache.statistics.count == 2)
        let again = try engine.compile(program: affineProgram(1, 0))
        #expect(engine.cache.statistics.misses == 4)
        #expect(try again.callFilter(values: [5]) == 5)
    }

    @Test func liveKernelSurvivesEvictionAndIsFoundAgain() throws {
        let engine = try Engine(cacheCapacity: 2)
        let held = try engine.compile(program: affineProgram(4, 0))
        for offset in 1...5 { _ = try engine.compile(program: affineProgram(4, Double(offset))) }
        #expect(engine.cache.statistics.evictions >= 1)
        // Its code still runs, and compiling its text again finds it: a hit, the same pointer.
        #expect(try held.callFilter(values: [2]) == 8)
        let misses = engine.cache.statistics.misses
        let again = try engine.compile(program: affineProgram(4, 0))
        #expect(again === held)
        #expect(try again.address == held.address)
        #expect(engine.cache.statistics.misses == misses)
    }

    @Test func signatureDistinguishesFunctionKindAndSpecialisation() {
        let base = KernelSignature(source: "min(values)")
        #expect(base == KernelSignature(source: "min(values)"))
        #expect(base != KernelSignature(source: "max(values)"))
        #expect(base != KernelSignature(source: "min(values)", function: "f"))
        #expect(base != KernelSignature(source: "min(values)", kind: .lineFilter))
        #expect(base != KernelSignature(source: "min(values)", variant: .filterRow(FusedLayout(inputType: .float64, outputType: .float64, tapCount: 9))))
    }

    @Test func sha256MatchesKnownVectors() {
        // FIPS 180-4 examples.
        #expect(SHA256.hexDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Padding edges and multi-block inputs, digests from Python's hashlib.
        let hashlib = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            120: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
            1000: "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3",
        ]
        for (count, digest) in hashlib {
            #expect(SHA256.hexDigest(String(repeating: "a", count: count)) == digest, "\(count) bytes")
        }
        #expect(SHA256.hexDigest("min(values) # é") == "cef5f974bfbb514c85766ad37e17ff3feab103d2596fa7544ecd8725211ad81b")
    }
}

@Suite struct ConcurrencyTests {
    @Test func eightThreadsCompileDistinctAndSharedKernelsOnce() throws {
        let engine = try Engine(cacheCapacity: 1024)
        let threads = 8, perThread = 50
        let failures = LockedBox<[String]>([])
        let sharedAddresses = LockedBox(Set<UInt>())
        let sharedText = "def shared(values):\n    return -values[0] - 1\n"
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                do {
                    let factor = thread * 1000 + index
                    let kernel = try engine.compile("values[0] * \(factor) + 0.5")
                    let shared = try engine.compile(sharedText)
                    let value = Double(index)
                    let result = try kernel.callFilter(values: [value])
                    let sharedResult = try shared.callFilter(values: [value])
                    if result != value * Double(factor) + 0.5 || sharedResult != -value - 1 {
                        failures.withLock { $0.append("thread \(thread) kernel \(index): \(result), \(sharedResult)") }
                    }
                    let address = try shared.address
                    sharedAddresses.withLock { _ = $0.insert(address) }
                } catch {
                    failures.withLock { $0.append("thread \(thread) kernel \(index): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(3) })")
        #expect(sharedAddresses.withLock { $0.count } == 1)
        let statistics = engine.cache.statistics
        // Exactly one compilation per signature: 400 distinct texts + 1 shared.
        #expect(statistics.misses == threads * perThread + 1)
        #expect(statistics.hits == threads * perThread - 1)
    }
}

/// A small lock-protected box for test bookkeeping across threads.
final class LockedBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

@Suite struct CancellationTests {
    @Test func infiniteWhileLoopStopsWhenCancelledFromAnotherThread() throws {
        let engine = try Engine()
        // while True: pass; return 1.0
        let program = P.filter("spin", [S.loop(while: E.bool(true), []), S.ret(E.float(1))])
        let kernel = try engine.compile(program: program)
        let callback = try #require(try kernel.filterCallback)
        let outcome = LockedBox<(Int32, RuntimeFailureKind?)?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var values: [Double] = [1]
            var result = 0.0
            let status = callback(&values, 1, &result, nil)
            outcome.withLock { $0 = (status, RuntimeFailureRecord.last?.kind) }
            finished.signal()
        }
        // Still spinning after 100 ms.
        #expect(finished.wait(timeout: .now() + 0.1) == .timedOut)
        engine.cancel()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        let (status, kind) = try #require(outcome.withLock { $0 })
        #expect(status == 0)
        #expect(kind == .cancelled)
        // After a reset, loops run again (here a loop that ends).
        engine.resetCancellation()
        let counting = P.filter("count", locals: [LocalVariable(name: "i", type: .int)], [
            S.assign(1, E.int(0)),
            S.loop(while: E.compare(.less, E.local(1, .int), E.int(1000)), [S.assign(1, E.arithmetic(.add, E.local(1, .int), E.int(1)))]),
            S.ret(E.toFloat(E.local(1, .int))),
        ])
        #expect(try engine.compile(program: counting).callFilter(values: []) == 1000)
    }

    @Test func whileTruePassFromSourceStopsWhenCancelled() throws {
        let engine = try Engine()
        let kernel = try engine.compile("def spin(values):\n    while True:\n        pass\n    return 1.0\n")
        let outcome = LockedBox<Result<Double, any Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let result = Result { try kernel.callFilter(values: [1, 2]) }
            outcome.withLock { $0 = result }
            finished.signal()
        }
        #expect(finished.wait(timeout: .now() + 0.1) == .timedOut)
        engine.cancel()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        let result = try #require(outcome.withLock { $0 })
        guard case .failure(let error as KernelRuntimeError) = result else {
            Issue.record("expected a cancellation error, got \(result)")
            return
        }
        #expect(error.message == "kernel cancelled")
        #expect(kernel.describe(error).contains("line 2"))
    }
}
