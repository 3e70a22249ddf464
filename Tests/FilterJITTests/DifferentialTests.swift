// JIT versus the reference interpreter on random programs, bit for bit.
// The seed is printed; reproduce with FILTERJIT_FUZZ_SEED=<seed> swift test --filter DifferentialTests.

import Testing
import Foundation
import FilterLang
import FilterInterpreter
import FilterSema
import FilterCodegen
@testable import FilterJIT

/// Whether the interpreter on this branch is real (not the contract stub).
let interpreterAvailable: Bool = {
    let program = P.filter("probe", [S.ret(E.element(E.local(0, .floatArray), E.int(0)))])
    return (try? Interpreter(program: program).runFilter(values: [2])) == 2
}()

/// Random windows: empty, short and longer, with special values.
func randomWindows(_ random: inout SplitMix64) -> [[Double]] {
    [random.chance(0.3) ? 0 : 2, 3, 9, 5 + random.below(20)].map { count in
        (0..<count).map { _ in random.chance(0.25) ? random.pick(specialDoubles) : (random.unit() * 20 - 10).rounded() / 2 }
    }
}

@Suite struct DifferentialTests {
    @Test(.enabled(if: interpreterAvailable, "the interpreter has not landed on this branch yet"))
    func randomProgramsAgreeWithTheInterpreterBitForBit() throws {
        let seed = ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_SEED"].flatMap { UInt64($0) }
            ?? UInt64(Date().timeIntervalSince1970 * 1000)
        print("DifferentialTests seed: \(seed)")
        let programCount = Int(ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_PROGRAMS"] ?? "") ?? 2000
        // Unoptimised code for most programs keeps the run short; every 8th goes through O2.
        let fast = try Engine(cacheCapacity: 64, optimization: .none)
        let optimised = try Engine(cacheCapacity: 64)
        let mismatches = LockedBox<[String]>([])
        let compared = LockedBox(0)
        let outranTheOracle = LockedBox(0)
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            var generator = RandomProgramGenerator(seed: seed &+ UInt64(lane))
            var random = SplitMix64(seed: seed ^ 0x5EED &+ UInt64(lane))
            for index in stride(from: lane, to: programCount, by: 2) {
                let program = generator.program()
                let zerosEqual = generator.usesZeroAmbiguousBuiltin
                do {
                    let kernel = try (index % 8 == 0 ? optimised : fast).compile(program: program)
                    let interpreter = Interpreter(program: program, stepBudget: 1_000_000, chargesArrayElements: true)
                    for window in randomWindows(&random) {
                        let parameters: [Double]? = random.chance(0.3) ? nil
                            : [random.pick(specialDoubles), random.chance(0.8) ? Double(random.below(9) - 4) : random.pick(specialDoubles)]
                        let named = parameters.map { ["pf": $0[0], "pi": $0[1]] } ?? [:]
                        let outputLength = max(0, window.count - random.below(3))
                        // The oracle runs first, under its step budget, and the JIT only where the oracle
                        // finished: the step budget is the oracle's own limit, not the language's, and a program
                        // that outruns it (nested loops over a len(values)**3 array: 148M iterations, seed
                        // 1796419750363; np.std of such an array in a loop, seed 1796593399071, which ran in the
                        // JIT for more than the CI's 15-minute watchdog) has no reference result to compare with. The
                        // budget charges the arrays built-ins take too: seed 1796602263695 spent more than 15 minutes in
                        // the oracle itself, in np.std of a large array inside loops, one step per iteration.
                        let reference: Result<[Double], KernelRuntimeError>
                        if program.kind == .lineFilter {
                            reference = Result { () throws(KernelRuntimeError) -> [Double] in
                                try interpreter.runLineFilter(line: window, outputLength: outputLength, parameters: parameters)
                            }
                        } else {
                            reference = Result { () throws(KernelRuntimeError) -> [Double] in
                                [try interpreter.runFilter(values: window, parameters: parameters)]
                            }
                        }
                        if case .failure(let error) = reference, error.message.hasPrefix("step budget of ") {
                            outranTheOracle.withLock { $0 += 1 }
                            continue
                        }
                        let jit: Result<[Double], any Error>
                        if program.kind == .lineFilter {
                            jit = Result { try kernel.callLineFilter(line: window, outputLength: outputLength, parameters: named) }
                        } else {
                            jit = Result { [try kernel.callFilter(values: window, parameters: named)] }
                        }
                        compared.withLock { $0 += 1 }
                        switch (jit, reference) {
                        case (.success(let a), .success(let b))
                            where a.count == b.count && zip(a, b).allSatisfy({ sameBits($0, $1, zerosEqual: zerosEqual) }): continue
                        case (.failure, .failure): continue
                        default:
                            mismatches.withLock {
                                $0.append("program #\(index) (seed \(seed), lane \(lane)) window \(window) parameters \(String(describing: parameters)): JIT \(jit), interpreter \(reference)\n\(TypedIRPrinter.print(program))")
                            }
                        }
                    }
                } catch {
                    mismatches.withLock { $0.append("program #\(index) (seed \(seed)) failed to compile: \(error)\n\(TypedIRPrinter.print(program))") }
                }
            }
        }
        let found = mismatches.withLock { $0 }
        for mismatch in found.prefix(3) { Issue.record(Comment(rawValue: mismatch)) }
        #expect(found.count == 0, "\(found.count) mismatches in \(compared.withLock { $0 }) runs; seed \(seed)")
        let skipped = outranTheOracle.withLock { $0 }
        print("DifferentialTests: \(compared.withLock { $0 }) runs compared, \(skipped) outran the oracle's step budget")
        #expect(compared.withLock { $0 } + skipped >= programCount * 4)
        #expect(skipped <= programCount / 20, "\(skipped) runs outran the interpreter's step budget")
    }

    /// np.fmin / np.fmax of two NaNs return the second, as NumPy does here (np.copysign(1, np.fmax(nan, -nan))
    /// is -1.0): the JIT returned the first until seed 1796603734652 compared it with the interpreter.
    @Test func fminAndFmaxOfTwoNaNsReturnTheSecondAsNumPyDoes() throws {
        let kernel = try Engine().compile("""
        def f(values):
            return np.copysign(1.0, np.fmax(values[0], values[1])) + 10.0 * np.copysign(1.0, np.fmin(values[0], values[1]))
        """)
        let nan = Double.nan
        // (fmax, fmin) both the second NaN: -nan then nan gives 1 + 10, nan then -nan gives -1 - 10.
        #expect(try kernel.callFilter(values: [-nan, nan]) == 11)
        #expect(try kernel.callFilter(values: [nan, -nan]) == -11)
        // One NaN: the other operand.
        #expect(try kernel.callFilter(values: [-nan, 2]) == 11)
        #expect(try kernel.callFilter(values: [-3, -nan]) == -11)
        if interpreterAvailable {
            let interpreter = Interpreter(program: kernel.program)
            for values in [[-nan, nan], [nan, -nan], [-nan, 2], [-3, -nan]] {
                #expect(try interpreter.runFilter(values: values) == kernel.callFilter(values: values))
            }
        }
    }

    @Test func generatedProgramsCompileAndRunWithoutCrashing() throws {
        // Runs even without the interpreter: every generated program must verify, compile and
        // return a status (never trap or touch memory outside its buffers).
        let seed = UInt64(Date().timeIntervalSince1970)
        print("generatedProgramsCompileAndRunWithoutCrashing seed: \(seed)")
        let engine = try Engine(cacheCapacity: 16, optimization: .none)
        var generator = RandomProgramGenerator(seed: seed)
        var random = SplitMix64(seed: ~seed)
        var successes = 0, failures = 0
        var kinds: [RuntimeFailureKind: Int] = [:]
        for _ in 0..<300 {
            let program = generator.program()
            let kernel = try engine.compile(program: program)
            for window in randomWindows(&random) {
                do {
                    if program.kind == .lineFilter {
                        _ = try kernel.callLineFilter(line: window, outputLength: window.count / 2, parameters: ["pf": random.pick(specialDoubles)])
                    } else {
                        _ = try kernel.callFilter(values: window, parameters: ["pf": random.pick(specialDoubles)])
                    }
                    successes += 1
                } catch is KernelRuntimeError {
                    failures += 1
                    if let kind = RuntimeFailureRecord.last?.kind { kinds[kind, default: 0] += 1 }
                }
            }
        }
        print("random programs: \(successes) runs succeeded, \(failures) reported run-time errors \(kinds)")
        #expect(successes > 0 && failures > 0)
    }
}
