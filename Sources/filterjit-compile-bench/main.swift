// The compile benchmark (a figure, not a test): engine start, compiling a new `min(values)`
// callback kernel in a started engine, the cached lookup, and engine start + first compile.
//
//     swift run -c release filterjit-compile-bench [--sources N] [--pipeline 'default<O2>'] [--typed]
//
// Source text goes through the whole pipeline (`min(values) + k` for distinct k). `--typed`
// compiles hand-built typed programs equal to what Sema produces instead (front-end stages "n/a").

import Foundation
import FilterLang
import FilterCodegen
import FilterJIT

func milliseconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

/// `min(values) + k` for a distinct constant k (k = 0 is exactly `min(values)`).
func minProgram(_ k: Int) -> TypedProgram {
    let here = SourceRange(0, 11)
    let values = TExpr(.local(0), .floatArray, here)
    var body = TExpr(.builtin(.pyMin, [values]), .float, here)
    if k != 0 { body = TExpr(.arithmetic(.add, body, TExpr(.floatConstant(Double(k)), .float, here)), .float, here) }
    let function = TypedFunction(name: "expression", locals: [LocalVariable(name: "values", type: .floatArray)],
                                 parameterCount: 1, returnType: .float, body: [TStmt(.returnValue(body), here)], range: here)
    return TypedProgram(functions: [function], kernelIndex: 0, kind: .filter, parameters: [])
}

var sourceCount = 15
var pipeline = OptimizationLevel.standard
var useText = true
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--sources": sourceCount = max(10, Int(arguments.next() ?? "") ?? 15)
    case "--pipeline": pipeline = OptimizationLevel(pipeline: arguments.next() ?? "default<O2>")
    case "--text": useText = true
    case "--typed": useText = false
    default:
        print("usage: filterjit-compile-bench [--sources N] [--pipeline P] [--typed]")
        exit(2)
    }
}

do {
    print("FilterJIT compile benchmark (LLVM \(NativeTarget.llvmVersion), pipeline '\(pipeline.pipeline)', vectorize \(pipeline.vectorize), unroll/interleave \(pipeline.unrollAndInterleave))")
    // 1. Engine start + first compile, in a fresh process state (first engine of the process).
    let coldStart = DispatchTime.now().uptimeNanoseconds
    let engine = try Engine(optimization: pipeline)
    let first = useText ? try engine.compile("min(values)") : try engine.compile(program: minProgram(0))
    try first.prepareCode()
    let coldTotal = milliseconds(since: coldStart)
    print("engine start:                 \(format(engine.startMilliseconds)) ms")
    print("engine start + first compile: \(format(coldTotal)) ms   (target <= 30 ms)")

    // 2. Compiles of new sources in the started engine.
    var totals: [Double] = [], stages: [[Double]] = [[], [], [], [], []]
    for k in 1...sourceCount {
        let start = DispatchTime.now().uptimeNanoseconds
        let kernel = useText ? try engine.compile("min(values) + \(k)") : try engine.compile(program: minProgram(k))
        try kernel.prepareCode()
        totals.append(milliseconds(since: start))
        let t = kernel.timings
        for (index, value) in [t.parse, t.check + t.verify, t.ir, t.optimize, t.machineCode].enumerated() { stages[index].append(value) }
        var window: [Double] = [3, 1, 2]
        guard try kernel.callFilter(values: window) == 1 + Double(k) else { fatalError("wrong result") }
        window[0] = 0
    }
    let total = median(totals)
    let unaccounted = median(zip(totals, (0..<totals.count).map { index in stages.reduce(0) { $0 + $1[index] } }).map { $0 - $1 })
    print("compile of a new kernel (median of \(sourceCount) distinct sources): \(format(total)) ms   (target <= 10 ms)")
    let names = ["parse", "check", "IR + verify", "optimise", "machine code"]
    for (name, values) in zip(names, stages) {
        let m = median(values)
        let share = useText || !(name == "parse" || name == "check") ? "\(format(100 * m / total, 0)) %" : "n/a (typed program)"
        print("  \(name.padding(toLength: 13, withPad: " ", startingAt: 0)) \(format(m)) ms  \(share)")
    }
    print("  other         \(format(unaccounted)) ms  (cache, signature, kernel set-up, scheduling)")

    // 3. Cached lookup of an already compiled text: what `compile(text)` does on a hit
    //    (SHA-256 of the text, then the cache). Without the front end, the typed kernel is
    //    registered under the text's signature first.
    let text = "min(values)"
    _ = try engine.cache.kernel(for: KernelSignature(source: text)) { first }
    let lookups = 50_000
    var sink: UInt = 0
    var best = Double.infinity
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<lookups {
            let kernel = useText ? try engine.compile(text)
                : try engine.cache.kernel(for: KernelSignature(source: text)) { first }
            sink &+= try kernel.address
        }
        best = min(best, milliseconds(since: start) * 1000 / Double(lookups))
    }
    print("cached lookup: \(format(best, 3)) µs   (target <= 2 µs; best of 5 x \(lookups))")
    let digestStart = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<lookups { sink &+= UInt(KernelSignature(source: text).sourceDigest.words.0) }
    print("  of which the signature (SHA-256 of the text): \(format(milliseconds(since: digestStart) * 1000 / Double(lookups), 3)) µs")
    if sink == 42 { print("") }

    // 4. A new process with a warm disk cache: engine start + load of the stored object file.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filterjit-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let disk = DiskKernelCache(directory: directory)
    let text2 = "min(values) + 0.5"
    try (useText ? try Engine(diskCache: disk).compile(text2) : try Engine(diskCache: disk).compile(program: minProgram(1000))).prepareCode()
    let warmStart = DispatchTime.now().uptimeNanoseconds
    let warmEngine = try Engine(diskCache: disk)
    let warm = useText ? try warmEngine.compile(text2) : try warmEngine.compile(program: minProgram(1000))
    try warm.prepareCode()
    print("engine start + first compile with a warm disk cache: \(format(milliseconds(since: warmStart))) ms (loaded: \(warm.loadedFromDiskCache))")
} catch {
    print("error: \(error)")
    exit(1)
}
