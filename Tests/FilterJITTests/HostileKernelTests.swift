// The hostile-kernel corpus (Tests/Fixtures/hostile): programs that index with data, past either end,
// write past `out`, allocate absurdly, or never end. Each must end with its own clear error (or, for
// the endless ones, stop when cancelled) through the interpreter, a direct JIT call, and the fused and
// callback engines over an image; never a crash, a hang or (in scripts/sanitizers.sh) a sanitizer report.
// FilterJITCTests runs the same corpus through the C API.

import Foundation
import Testing
import FilterInterpreter
import FilterJIT
import FilterLang
import NDImage

/// One corpus file: its source and the message its failure must contain (`cancelled` for endless ones;
/// an optional second line `# interpreter: ...` when the interpreter ends differently).
struct HostileKernel: CustomStringConvertible, Sendable {
    var name: String
    var source: String
    var expected: String
    var interpreterExpected: String?
    var isEndless: Bool { expected == "cancelled" }
    var isLineFilter: Bool { source.contains("@line_filter") }
    var description: String { name }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/hostile")

    /// Every `*.filter` file of the corpus, with its `# expect: ...` first line.
    static func corpus() throws -> [HostileKernel] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".filter") }.sorted()
        return try names.map { name in
            let source = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            guard let first = source.split(separator: "\n").first, first.hasPrefix("# expect: ") else {
                throw HostileCorpusError(message: "\(name) does not start with '# expect: ...'")
            }
            let second = source.split(separator: "\n").dropFirst().first.flatMap { line in
                line.hasPrefix("# interpreter: ") ? String(line.dropFirst("# interpreter: ".count)) : nil
            }
            return HostileKernel(name: String(name.dropLast(7)), source: source,
                                 expected: String(first.dropFirst("# expect: ".count)), interpreterExpected: second)
        }
    }
}

struct HostileCorpusError: Error { var message: String }

/// A value handed to one other thread while its creator only waits (no shared mutation).
struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `body` on another thread; when it has not ended after `grace` seconds, cancels `engine` and
/// waits up to 20 s more. Returns the outcome, and whether the cancel was needed.
func runCancellingAfter<T>(_ grace: Double, engine: Engine, _ body: @escaping () throws -> T)
    -> (outcome: Result<T, any Error>?, cancelled: Bool)
{
    let box = LockedBox<Result<T, any Error>?>(nil)
    let finished = DispatchSemaphore(value: 0)
    // The body runs on exactly one other thread while this one only waits for it.
    let work = UncheckedSendable(body)
    Thread.detachNewThread {
        let result = Result { try work.value() }
        box.withLock { $0 = result }
        finished.signal()
    }
    if finished.wait(timeout: .now() + grace) == .success { return (box.withLock { $0 }, false) }
    engine.cancel()
    _ = finished.wait(timeout: .now() + 20)
    return (box.withLock { $0 }, true)
}

@Suite(.serialized) struct HostileKernelTests {
    /// A 6x7 image whose values (0...4100) make data-derived indices land far outside any window.
    static func image() throws -> NDArray {
        try NDArray.make(shape: [6, 7], elementType: .float64, values: (0..<42).map { Double($0) * 100 })
    }

    @Test func theCorpusIsThereAndCoversEveryHostileKind() throws {
        let corpus = try HostileKernel.corpus()
        #expect(corpus.count >= 19, "\(corpus.count) files")
        #expect(corpus.contains { $0.isEndless } && corpus.contains { $0.isLineFilter })
    }

    @Test(arguments: try HostileKernel.corpus())
    func everyEngineEndsWithTheClearErrorOrStopsOnCancel(_ hostile: HostileKernel) throws {
        let engine = try Engine()
        let kernel = try engine.compile(hostile.source, fileName: "\(hostile.name).filter")
        let window = (0..<9).map { Double($0) * 100 }

        // The interpreter: the same error, or its step budget for the endless ones (1,000 loop
        // iterations: the finite kernels need fewer than ten).
        let interpreter = Interpreter(program: kernel.program, stepBudget: 1_000)
        let interpreted = Result { () throws -> [Double] in
            hostile.isLineFilter ? try interpreter.runLineFilter(line: window, outputLength: 7)
                                 : [try interpreter.runFilter(values: window)]
        }
        let interpreterExpectation = hostile.interpreterExpected ?? (hostile.isEndless ? "step budget" : hostile.expected)
        guard case .failure(let interpreterError) = interpreted else {
            Issue.record("\(hostile): the interpreter returned \(interpreted)")
            return
        }
        #expect("\(interpreterError)".contains(interpreterExpectation), "\(hostile) interpreter: \(interpreterError)")

        // The JIT through a direct call, then the callback and fused engines over an image.
        let image = try Self.image()
        let runs: [(String, () throws -> Void)] = [
            ("direct call", {
                if hostile.isLineFilter { _ = try kernel.callLineFilter(line: window, outputLength: 7) }
                else { _ = try kernel.callFilter(values: window) }
            }),
        ] + ExecutionEngine.allCases.map { executionEngine in
            ("\(executionEngine) engine", {
                if hostile.isLineFilter {
                    _ = try kernel.genericFilter1D(image, options: LineFilterOptions(filterSize: 3), engine: executionEngine, threads: 2)
                } else {
                    _ = try kernel.genericFilter(image, options: FilterOptions(size: [3, 3]), engine: executionEngine, threads: 2)
                }
            })
        }
        for (label, run) in runs {
            engine.resetCancellation()
            let (outcome, cancelled) = runCancellingAfter(hostile.isEndless ? 0.3 : 20, engine: engine, run)
            guard let outcome else {
                Issue.record("\(hostile) \(label): still running 20 s after cancel")
                continue
            }
            #expect(cancelled == hostile.isEndless, "\(hostile) \(label): cancel needed: \(cancelled)")
            guard case .failure(let error) = outcome else {
                Issue.record("\(hostile) \(label): succeeded")
                continue
            }
            #expect("\(error)".contains(hostile.expected), "\(hostile) \(label): \(error)")
        }
        engine.resetCancellation()
    }
}
