import FilterJIT
import FilterLang
import Foundation
import NDImage

/// Milliseconds elapsed since `start` (a `DispatchTime`).
func milliseconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
}

/// CPU time this thread has used, in milliseconds (a compile runs on the calling thread, so this
/// measures its cost apart from other load on the machine).
func threadCPUMilliseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
}

/// Formats milliseconds for people: two decimals below 10 ms, one above.
func formatMilliseconds(_ value: Double) -> String {
    String(format: value < 10 ? "%.2f" : "%.1f", value)
}

/// What one entry cost: the compile (by stage), the first run (compile included) and the cached runs.
struct EntryTimings {
    var compile: Double
    /// The compile's CPU time on this thread (robust to other load on the machine).
    var compileCPU: Double
    var stages: CompileTimings
    var first: Double
    var cached: [Double]
    /// Whether the code the run needed was all loaded from the disk cache.
    var loadedFromDiskCache: Bool

    /// The REPL's timing line, exactly as spec/cli.md gives it.
    var line: String {
        let cachedBest = cached.min() ?? .nan
        if stages == CompileTimings() {
            // Every piece came from the engine's cache (e.g. the same kernel after :mode, :cval or
            // :origin, which are run-time arguments): say so rather than print a row of zeros.
            return "first run \(formatMilliseconds(first)) ms (nothing compiled: kernel cached) · cached run \(formatMilliseconds(cachedBest)) ms"
        }
        return "first run \(formatMilliseconds(first)) ms (compile \(formatMilliseconds(compile)) ms: "
            + "parse \(formatMilliseconds(stages.parse)), check \(formatMilliseconds(stages.check + stages.verify)), "
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
    let cpuStart = threadCPUMilliseconds()
    let hitsBefore = engine.cache.statistics.hits
    let kernel = try engine.compile(file.text, function: function, fileName: file.name,
                                undecoratedKind: try arguments.undecoratedKind())
    // A kernel from the in-memory cache ran no front-end stage now: report zeros, not its first compile's times.
    let fromMemoryCache = engine.cache.statistics.hits > hitsBefore
    // The code this run needs (the fused specialisation, a strategy's tail, or the callback),
    // compiled or loaded now: its stages come from the compile call itself.
    let prepared = try prepareKernel(kernel, for: image, arguments: arguments)
    let compile = milliseconds(since: start)
    let compileCPU = threadCPUMilliseconds() - cpuStart
    let stages = (fromMemoryCache ? CompileTimings() : kernel.frontEndTimings) + prepared.timings
    let result = try applyKernel(kernel, to: image, arguments: arguments,
                                 ignoringUndeclaredParameters: ignoringUndeclaredParameters)
    let first = milliseconds(since: start)
    let compileTotal = compile
    var cached: [Double] = []
    for _ in 0..<repeats {
        let again = DispatchTime.now()
        let cachedKernel = try engine.compile(file.text, function: function, fileName: file.name,
                                undecoratedKind: try arguments.undecoratedKind())
        _ = try applyKernel(cachedKernel, to: image, arguments: arguments, into: result,
                            ignoringUndeclaredParameters: ignoringUndeclaredParameters)
        cached.append(milliseconds(since: again))
    }
    return (kernel, result, EntryTimings(compile: compileTotal, compileCPU: compileCPU, stages: stages, first: first, cached: cached,
                                         loadedFromDiskCache: prepared.loadedFromDiskCache))
}
