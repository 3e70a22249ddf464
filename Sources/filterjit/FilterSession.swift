import FilterJIT
import FilterLang
import Foundation
import NDImage

/// Milliseconds elapsed since `start` (a `DispatchTime`).
func milliseconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
}

/// Formats milliseconds for people: two decimals below 10 ms, one above.
func formatMilliseconds(_ value: Double) -> String {
    String(format: value < 10 ? "%.2f" : "%.1f", value)
}

/// What one entry cost: the compile (by stage), the first run (compile included) and the cached runs.
struct EntryTimings {
    var compile: Double
    var stages: CompileTimings
    var first: Double
    var cached: [Double]

    /// The REPL's timing line, exactly as spec/cli.md gives it.
    var line: String {
        let cachedBest = cached.min() ?? .nan
        return "first run \(formatMilliseconds(first)) ms (compile \(formatMilliseconds(compile)) ms: "
            + "parse \(formatMilliseconds(stages.parse)), check \(formatMilliseconds(stages.check)), "
            + "IR \(formatMilliseconds(stages.ir)), optimise \(formatMilliseconds(stages.optimize)), "
            + "machine code \(formatMilliseconds(stages.machineCode))) · cached run \(formatMilliseconds(cachedBest)) ms"
    }
}

/// A one-line summary of an array: shape, dtype, min, max, mean (NaN when any element is NaN).
func summary(of array: NDArray) -> String {
    let values = array.doubleValues()
    let shape = array.shape.map(String.init).joined(separator: "x")
    guard !values.isEmpty else { return "\(shape.isEmpty ? "()" : shape) \(array.elementType.rawValue) (empty)" }
    var least = Double.infinity, greatest = -Double.infinity, total = 0.0
    var sawNaN = false
    for value in values {
        if value.isNaN { sawNaN = true }
        least = Swift.min(least, value)
        greatest = Swift.max(greatest, value)
        total += value
    }
    let mean = total / Double(values.count)
    func format(_ value: Double) -> String { sawNaN ? "nan" : String(format: "%.6g", value) }
    return "\(shape.isEmpty ? "()" : shape) \(array.elementType.rawValue) · min \(format(least)) · max \(format(greatest)) · mean \(format(mean))"
}

/// Compiles an entry, runs it once (timed with its compile), then `repeats` more times taking the
/// kernel from the cache and writing into one preallocated output.
func compileAndRun(engine: Engine, file: SourceFile, function: String?, image: NDArray,
                   arguments: FilterOptionArguments, repeats: Int, ignoringUndeclaredParameters: Bool = false) throws -> (kernel: Kernel, result: NDArray, timings: EntryTimings) {
    let start = DispatchTime.now()
    let hitsBefore = engine.cache.statistics.hits
    let kernel = try engine.compile(file.text, function: function, fileName: file.name)
    let compile = milliseconds(since: start)
    // A kernel from the in-memory cache keeps the stage times of its first compile; none of those
    // stages ran now, so report zeros (as bench does for stages that did not run), not stale times.
    let fromMemoryCache = engine.cache.statistics.hits > hitsBefore
    var stages = fromMemoryCache ? CompileTimings() : kernel.timings
    let fusedBefore = engine.fusedCompileCount
    let result = try applyKernel(kernel, to: image, arguments: arguments,
                                 ignoringUndeclaredParameters: ignoringUndeclaredParameters)
    let first = milliseconds(since: start)
    // The first run may also have compiled (or loaded) the fused specialisation for this image:
    // that is part of this entry's compile.
    var compileTotal = compile
    if engine.fusedCompileCount != fusedBefore, let fused = engine.lastFusedCompileTimings {
        stages.ir += fused.ir
        stages.optimize += fused.optimize
        stages.machineCode += fused.machineCode
        compileTotal += fused.total
    }
    var cached: [Double] = []
    for _ in 0..<repeats {
        let again = DispatchTime.now()
        let cachedKernel = try engine.compile(file.text, function: function, fileName: file.name)
        _ = try applyKernel(cachedKernel, to: image, arguments: arguments, into: result,
                            ignoringUndeclaredParameters: ignoringUndeclaredParameters)
        cached.append(milliseconds(since: again))
    }
    return (kernel, result, EntryTimings(compile: compileTotal, stages: stages, first: first, cached: cached))
}
