// Line kernels run across SIMD lanes (FilterCodegen/LineLanes.swift): which kernels may and do, and that the
// lanes give every line the line kernel's bits and failures (the callback engine, which runs the scalar
// callback line by line through the same driver, is the oracle).

import Testing
import Foundation
import FilterLang
import FilterCodegen
import FilterInterpreter
import FilterSema
import NDImage
@testable import FilterJIT

private let engine: Engine = {
    do { return try Engine(cacheCapacity: 64) } catch { fatalError("cannot start the engine: \(error)") }
}()

/// Kernels whose lines run in lanes: data reach only float arithmetic, varying locals and `out`, and a loop
/// carries data from one iteration to the next.
private let laneKernels = [
    // SciPy's uniform_filter1d, as filterjit.ndimage runs it.
    """
    @line_filter
    def running_mean(line, out):
        size = len(line) - len(out) + 1
        total = 0.0
        for i in range(size):
            total += line[i]
        out[0] = total / size
        for i in range(1, len(out)):
            total += line[i + size - 1] - line[i - 1]
            out[i] = total / size
    """,
    // A recursive (IIR) smoother with a parameter, a uniform branch, negation and a division by data
    // (inf, NaN where a line holds zeros).
    """
    @line_filter
    def smooth(line, out, a=0.25):
        state = line[0]
        for i in range(len(out)):
            if i % 2 == 0:
                state = state + a * (line[i + 1] - state)
            else:
                state = -(-state) * (1 - a) + a * line[i]
            out[i] = state / line[i]
    """,
    // Reads `out` before writing it (the driver zeroes it) and back after, with a while loop.
    """
    @line_filter
    def cumulative(line, out):
        i = 1
        while i < len(out):
            out[i] = out[i - 1] + line[i] * 0.5
            i += 1
    """,
    // A moving RMS: builtins of per-line values (run once per lane).
    """
    @line_filter
    def moving_rms(line, out):
        size = len(line) - len(out) + 1
        total = 0.0
        for i in range(size):
            total += line[i] * line[i]
        for i in range(len(out)):
            if i > 0:
                total += line[i + size - 1] * line[i + size - 1] - line[i - 1] * line[i - 1]
            out[i] = math.sqrt(abs(total) / size) + np.exp(-abs(line[i])) - max(total, line[i], 0.5)
    """,
    // A clipped recursive filter: per-line comparisons choosing values (selects), nested.
    """
    @line_filter
    def clipped(line, out, lo=-5.0, hi=5.0):
        state = 0.0
        for i in range(len(out)):
            state = 0.5 * state + line[i]
            state = hi if state > hi else (lo if state < lo else state)
            out[i] = (state if line[i + 1] <= state else line[i + 1]) + (1.0 if i > 2 else -state)
    """,
    // A window sum per output in an inner loop, written through a helper for the uniform part.
    """
    def half(n):
        return n // 2

    @line_filter
    def window_sum(line, out):
        size = len(line) - len(out) + 1
        for i in range(len(out)):
            s = 0.0
            for j in range(size):
                s += line[i + j]
            out[i] = s - line[i + half(size)]
    """,
]

/// Kernels whose lines run one at a time.
private let lineKernels: [(source: String, why: String)] = [
    ("""
    @line_filter
    def fir(line, out):
        for i in range(len(out)):
            out[i] = 0.25 * line[i] + 0.5 * line[i + 1] + 0.25 * line[i + 2]
    """, "no loop carries data: the line kernel vectorises along the line"),
    ("""
    @line_filter
    def clip(line, out):
        total = 0.0
        for i in range(len(out)):
            if line[i] > 0:
                total += line[i]
            out[i] = total
    """, "a branch on data"),
    ("""
    @line_filter
    def ranked(line, out):
        total = 0.0
        for i in range(len(out)):
            total += line[int(total) % len(line)]
            out[i] = total
    """, "an index from data"),
    ("""
    @line_filter
    def whole(line, out):
        total = 0.0
        for i in range(len(out)):
            total += np.sum(line)
            out[i] = total
    """, "the whole line"),
    ("""
    def half(n):
        return n // 2

    @line_filter
    def effects(line, out):
        total = 0.0
        for i in range(len(out)):
            total += line[i] if line[i] > 0 else float(half(len(out)))
            out[i] = total
    """, "a per-line condition choosing a branch with a helper call"),
    ("""
    @line_filter
    def chained(line, out):
        total = 0.0
        for i in range(len(out)):
            total += 1.0 if 0 < line[i] < 2 else 0.0
            out[i] = total
    """, "a per-line comparison chain"),
    ("""
    @line_filter
    def counted(line, out):
        total = 0.0
        for i in range(len(out)):
            total += float(np.isnan(line[i]))
            out[i] = total
    """, "a builtin of data with a bool result"),
    ("""
    @line_filter
    def modular(line, out):
        total = 0.0
        for i in range(len(out)):
            total = (total + line[i]) % 7.0
            out[i] = total
    """, "floor division and modulo call the runtime"),
]

/// Calls counted from the driver's threads.
private final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var lanes = 0, single = 0
    func add(lanes isLanes: Int) {
        lock.lock()
        if isLanes == 1 { lanes += 1 } else { single += 1 }
        lock.unlock()
    }
    var values: (Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        return (lanes, single)
    }
}

@Suite struct LineLanesTests {
    @Test func lanesRunKernelsWhoseControlFlowIgnoresTheDataAndCarryData() throws {
        guard frontEndAvailable else { return }
        for source in laneKernels {
            let kernel = try engine.compile(source)
            #expect(kernel.runsLinesInLanes, "should run in lanes: \(kernel.name)")
        }
        for (source, why) in lineKernels {
            let kernel = try engine.compile(source)
            #expect(!kernel.runsLinesInLanes, "\(kernel.name) runs in lanes despite \(why)")
        }
    }

    /// The driver calls a lanes kernel wherever a thread's part has 4 lines left (along the last axis) or a
    /// group of strided lines holds 4 (along another), and `lanesCanRun` says so beforehand; the rest of the
    /// lines go one at a time. Counted with closures standing in for the kernels.
    @Test func theDriverCallsLanesWhereAThreadHasFourLines() throws {
        let cases: [(shape: [Int], axis: Int, threads: Int, lanesCalls: Int, singleCalls: Int)] = [
            ([10, 7], -1, 1, 2, 2),    // 10 lines: two calls of 4, two lines alone
            ([3, 7], -1, 1, 0, 3),     // fewer lines than lanes
            ([8, 7], -1, 2, 2, 0),     // 4 lines per thread
            ([6, 7], -1, 2, 0, 6),     // 3 lines per thread
            ([7, 10], 0, 1, 2, 2),     // along axis 0: groups of 8 and 2 lines
            ([7, 3], 0, 1, 0, 3),      // groups of 3 lines
            ([2, 3, 9], 1, 1, 4, 2),   // groups of 9 along the last axis: 8 (two calls) and 1, per outer index
        ]
        for c in cases {
            let input = try NDArray.make(shape: c.shape, elementType: .float32, values: (0..<c.shape.reduce(1, *)).map(Double.init))
            let output = try NDArray(shape: c.shape, elementType: .float64)
            let run = try LineRun(input: input, options: LineFilterOptions(filterSize: 3, axis: c.axis), output: output)
            #expect(run.lanesCanRun(count: 4, threads: c.threads) == (c.lanesCalls > 0), "\(c)")
            let counts = Counts()
            let lanes = LineLanesKernel(count: 4) { line, extendedLength, out, n in
                counts.add(lanes: 1)
                for b in 0..<4 { for i in 0..<n { out[b * n + i] = line[b * extendedLength + i + 1] } }
                return true
            }
            let failure = run.run(threads: c.threads, reason: { "" }, lanes: lanes) { line, _, out, n in
                counts.add(lanes: 0)
                for i in 0..<n { out[i] = line[i + 1] }
                return true
            }
            #expect(failure == nil)
            #expect(counts.values == (c.lanesCalls, c.singleCalls), "\(c): \(counts.values)")
            #expect(output.doubleValues() == input.doubleValues(), "\(c): the lines were not all copied through")
        }
    }

    /// A select whose branch a line would not take fails in lanes (here an index past the line): every lanes
    /// call fails, its lines run one at a time and succeed, and the rest of the thread's part runs one at a
    /// time too; a line that takes that branch fails as line by line does. The error equals the callback
    /// engine's along either axis on 1 and 2 threads, and on 1 thread the whole output array after the run
    /// too (lines before the failing one written, it as its kernel left it, the rest untouched).
    @Test func aLanesCallFailingWhereItsLinesDoNotRunsThemOneAtATime() throws {
        guard frontEndAvailable else { return }
        let kernel = try engine.compile("""
            @line_filter
            def guarded(line, out):
                total = 0.0
                for i in range(len(out)):
                    total += line[i] if line[i] >= 0 else line[i + 3]
                    out[i] = total
            """)
        #expect(kernel.runsLinesInLanes)
        for (axis, negativeLine) in [(1, -1), (1, 2), (1, 6), (0, -1), (0, 2), (0, 6)] {
            var values = (0..<(12 * 30)).map { Double($0 % 23) }
            // Taken only by the last output of its line (line[n - 1] = input[n - 2] with size 3), whose
            // line[i + 3] is past the line's end: that line fails.
            if negativeLine >= 0 {
                if axis == 1 { values[negativeLine * 30 + 28] = -1 } else { values[10 * 30 + negativeLine] = -1 }
            }
            let input = try NDArray.make(shape: [12, 30], elementType: .float64, values: values)
            for threads in [1, 2] {
                func run(_ engineKind: ExecutionEngine) -> (Outcome, [UInt64]) {
                    let target = try! NDArray.make(shape: [12, 30], elementType: .float64, values: Array(repeating: -1.5, count: 360))
                    let outcome = Outcome {
                        try kernel.genericFilter1D(input, options: LineFilterOptions(filterSize: 3, axis: axis), output: .array(target),
                                                   engine: engineKind, threads: threads)
                    }
                    return (outcome, target.doubleValues().map(\.bitPattern))
                }
                let (expected, expectedBits) = run(.callback)
                let (got, gotBits) = run(.fused)
                #expect(got.difference(from: expected) == nil, "axis \(axis) line \(negativeLine) threads \(threads)")
                // (On 2 threads, how far the other thread's part got when one failed depends on timing.)
                let firstDifference = threads > 1 ? nil : gotBits.indices.first { gotBits[$0] != expectedBits[$0] }
                #expect(firstDifference == nil, "axis \(axis) line \(negativeLine) threads \(threads): the output after the run differs first at \(firstDifference ?? -1): \(firstDifference.map { (Double(bitPattern: gotBits[$0]), Double(bitPattern: expectedBits[$0])) }.map { "\($0)" } ?? "")")
                if negativeLine >= 0, case .array = got { Issue.record("axis \(axis) line \(negativeLine): did not fail") }
                if negativeLine < 0, case .failure(let message) = got { Issue.record("axis \(axis): failed: \(message)") }
            }
        }
    }

    /// Seeded: random kernels of `laneKernels`, element types, shapes of 1-3 axes, axes, sizes, modes,
    /// origins, thread counts and stale outputs; each fused run (in lanes where a run has 4 lines or more)
    /// equals the callback engine's bit for bit.
    @Test func lanesGiveEveryLineTheLineKernelsBits() throws {
        guard frontEndAvailable else { return }
        let seed = UInt64(ProcessInfo.processInfo.environment["LANES_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("lanesGiveEveryLineTheLineKernelsBits seed \(seed) (rerun with LANES_SEED=\(seed))")
        var random = FusedTestRandom(seed: seed)
        let kernels = try laneKernels.map { try engine.compile($0) }
        var problems: [String] = [], laneRuns = 0
        for round in 0..<testRounds(60) {
            let kernel = kernels[round % kernels.count]  // each kernel in turn
            let inType = random.pick(ElementType.allCases)
            let outType = random.pick([ElementType.float64, .float32, inType])
            let rank = 1 + random.below(3)
            let shape = (0..<rank).map { _ in 1 + random.below(rank == 1 ? 40 : 13) }
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                random.chance(0.05) ? random.pick([0, -0.0, .nan, .infinity]) : Double(random.below(400)) / 4 - 30
            }
            let input = try NDArray.make(shape: shape, elementType: inType, values: values)
            let size = 1 + random.below(6)
            let axis = random.below(rank) - (random.chance(0.5) ? rank : 0)
            let options = LineFilterOptions(filterSize: size, axis: axis, mode: random.pick(BoundaryMode.allCases),
                                            cval: random.pick([0, 2.5, .nan]), origin: -(size / 2) + random.below(size))
            let threadsRun = try LineRun(input: input, options: options, output: try NDArray(shape: shape, elementType: outType))
            if threadsRun.lanesCanRun(count: LineLanes.count, threads: 1) { laneRuns += 1 }
            let callback = Outcome { try kernel.genericFilter1D(input, options: options, output: .elementType(outType), engine: .callback) }
            for threads in [1, 2, 3] {
                let stale = try NDArray.make(shape: shape, elementType: outType,
                                             values: Array(repeating: 7.25, count: values.count))
                let fused = Outcome { try kernel.genericFilter1D(input, options: options, output: .array(stale), engine: .fused, threads: threads) }
                if let d = fused.difference(from: callback) {
                    problems.append("round \(round) \(kernel.name) \(inType)->\(outType) \(shape) \(options) threads \(threads): \(d)")
                }
            }
        }
        print("lanes against line by line: \(laneRuns) runs calling lanes (on one thread), \(problems.count) differences")
        #expect(laneRuns >= coverageFloor(testRounds(60), 1, 3))
        #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(8).joined(separator: "\n"))")
    }

    /// Random line programs (the differential fuzz's generator) that `LineLanes.analyse` accepts, whether or not a
    /// loop of theirs carries data: their lanes variant run on four random lines at once, against the reference
    /// interpreter on each line. A call that succeeds must give every line the interpreter's bits (NaN as NaN);
    /// one that fails may (a select's branch that a line would not take), since the driver then runs its lines
    /// one at a time. The interpreter runs first, under its step budget; a line that outruns it skips the sample.
    @Test(.enabled(if: interpreterAvailable)) func lanesOfRandomProgramsAgreeWithTheInterpreter() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["LANES_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("lanesOfRandomProgramsAgreeWithTheInterpreter seed \(seed) (rerun with LANES_FUZZ_SEED=\(seed))")
        var generator = RandomProgramGenerator(seed: seed)
        var random = SplitMix64(seed: seed ^ 0x1A7E5)
        let fast = try Engine(cacheCapacity: 64, optimization: .none)
        let optimised = try Engine(cacheCapacity: 64)
        let wanted = testRounds(150)
        var accepted = 0, generated = 0, succeeded = 0, failed = 0, mismatches: [String] = []
        while accepted < wanted && generated < 100 * wanted {
            generated += 1
            let program = generator.program()
            guard program.kind == .lineFilter, LineLanes.analyse(program) != nil else { continue }
            accepted += 1
            let zerosEqual = generator.usesZeroAmbiguousBuiltin
            let kernel = try (accepted % 4 == 0 ? optimised : fast).compile(program: program)
            for _ in 0..<3 {
                let size = 1 + random.below(4), n = 1 + random.below(12)
                let lines = (0..<LineLanes.count).map { _ in
                    (0..<(n + size - 1)).map { _ in random.chance(0.25) ? random.pick(specialDoubles) : (random.unit() * 20 - 10).rounded() / 2 }
                }
                let parameters: [Double]? = random.chance(0.3) ? nil
                    : [random.pick(specialDoubles), random.chance(0.8) ? Double(random.below(9) - 4) : random.pick(specialDoubles)]
                let named = parameters.map { ["pf": $0[0], "pi": $0[1]] } ?? [:]
                var expected: [Result<[Double], KernelRuntimeError>] = []
                for line in lines {
                    let interpreter = Interpreter(program: program, stepBudget: 1_000_000, chargesArrayElements: true)
                    expected.append(Result { () throws(KernelRuntimeError) -> [Double] in
                        try interpreter.runLineFilter(line: line, outputLength: n, parameters: parameters)
                    })
                }
                if expected.contains(where: { if case .failure(let error) = $0 { return error.message.hasPrefix("step budget of ") } else { return false } }) {
                    continue
                }
                let layout = FusedLayout(inputType: .float64, outputType: .float64, tapCount: size)
                let lanesKernel = try kernel.fusionEngine.kernel(kernel, variant: .lineLanes(layout))
                let function = unsafeBitCast(UnsafeRawPointer(bitPattern: try lanesKernel.address), to: LineFilterCallback.self)
                var buffer = lines.flatMap { $0 }, outs = [Double](repeating: 0, count: LineLanes.count * n)
                var userData = try kernel.parameterValues(named) + [0]
                let ok = buffer.withUnsafeMutableBufferPointer { line in
                    outs.withUnsafeMutableBufferPointer { out in
                        userData.withUnsafeMutableBytes { function(line.baseAddress!, n + size - 1, out.baseAddress!, n, $0.baseAddress) != 0 }
                    }
                }
                guard ok else { failed += 1; continue }
                succeeded += 1
                for (lane, reference) in expected.enumerated() {
                    let got = Array(outs[(lane * n)..<((lane + 1) * n)])
                    switch reference {
                    case .success(let values) where values.count == n && zip(got, values).allSatisfy({ sameBits($0, $1, zerosEqual: zerosEqual) }):
                        continue
                    default:
                        mismatches.append("program #\(accepted) size \(size) lane \(lane) line \(lines[lane]) parameters \(String(describing: parameters)): lanes \(got), interpreter \(reference)\n\(TypedIRPrinter.print(program))")
                    }
                }
            }
        }
        print("lanes of \(accepted) accepted random line programs (of \(generated) generated): \(succeeded) calls compared, \(failed) failed calls, \(mismatches.count) mismatches")
        #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.prefix(3).joined(separator: "\n"))")
        #expect(accepted >= coverageFloor(wanted, 1, 2), "only \(accepted) of \(generated) random programs ran in lanes")
        #expect(succeeded >= coverageFloor(3 * accepted, 1, 3))
    }

    /// A kernel that fails in every line (an index past the line): the lanes call fails, its lines run again
    /// one at a time, and the run fails as line by line does: the same error, the lines before the failing
    /// one written, the failing one holding what its kernel stored before failing, the rest untouched.
    @Test func aFailingLanesCallFailsAsLineByLine() throws {
        guard frontEndAvailable else { return }
        let failing = try engine.compile("""
            @line_filter
            def reaches_past(line, out, stop=5):
                total = 0.0
                for i in range(len(out)):
                    total += line[i]
                    out[i] = total
                    if i == stop:
                        total += line[len(line) + i]
            """)
        #expect(failing.runsLinesInLanes)
        for (shape, axis) in [([9, 12], 1), ([12, 9], 0), ([3, 4, 10], -1)] {
            let input = try NDArray.make(shape: shape, elementType: .float64, values: (0..<shape.reduce(1, *)).map { Double($0 % 17) })
            for stop in [0, 5, 100] {
                let options = LineFilterOptions(filterSize: 3, axis: axis)
                func run(_ engineKind: ExecutionEngine, threads: Int) -> (Outcome, [UInt64]) {
                    let target = try! NDArray.make(shape: shape, elementType: .float64,
                                                   values: Array(repeating: -1.5, count: shape.reduce(1, *)))
                    let outcome = Outcome {
                        try failing.genericFilter1D(input, options: options, output: .array(target), parameters: ["stop": Double(stop)],
                                                    engine: engineKind, threads: threads)
                    }
                    return (outcome, target.doubleValues().map(\.bitPattern))
                }
                let (expected, expectedBits) = run(.callback, threads: 1)
                let (got, gotBits) = run(.fused, threads: 1)
                #expect(got.difference(from: expected) == nil, "\(shape) axis \(axis) stop \(stop)")
                #expect(gotBits == expectedBits, "\(shape) axis \(axis) stop \(stop): the output after the run differs")
                if stop < 9, case .array = got { Issue.record("\(shape) axis \(axis) stop \(stop): did not fail") }
            }
        }
    }
}
