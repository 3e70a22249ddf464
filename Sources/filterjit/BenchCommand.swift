import ArgumentParser
import FilterJIT
import FilterLang
import Foundation
import NDImage

/// `filterjit bench SOURCE [--shape S] [--dtype T] [--input IN] [filter options] [--repeat N] [--json]`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time a kernel: engine start, compile by stage, the first run and cached runs.",
        discussion: """
            Filters a seeded random image (floats uniform in [0, 1), integers over their whole range)
            or --input. Cached runs take the kernel from the cache and write into an output
            allocated once, so they time the filter, not the allocator. --json prints one JSON
            object on the last line of stdout.

            Examples:
              filterjit bench -e 'min(values)' --footprint cross
              filterjit bench examples/median.filter --size 5 --shape 1024x1024 --repeat 5 --json
              filterjit bench examples/fmin.filter --dtype uint8 --engine callback

            With --arg (as for `call`), the file's array function (@jit) is timed
            instead: compile by stage for the arguments' signature, the first
            call (compile included) and cached calls (the arrays are reused;
            writes into them stay, as in a loop of calls).
              filterjit bench examples/addarr.py --arg x.npy --arg y.npy --no-disk-cache
            """
    )

    @OptionGroup var source: SourceArguments

    @Option(help: ArgumentHelp("Shape of the random image.", valueName: "S"))
    var shape: String = "2048x2048"
    @Option(help: ArgumentHelp("Element type of the random image.", valueName: "T"))
    var dtype: String = "float64"
    @Option(help: ArgumentHelp("Filter this image (.npy, .png or .tif) instead of a random one.", valueName: "IN"))
    var input: String?
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: ArgumentHelp("Cached runs after the first.", valueName: "N"))
    var repeatCount: Int = 10
    @Flag(help: "Print one JSON object on the last line of stdout.")
    var json = false
    @Option(name: .customLong("arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Time the file's array function called with these arguments (as `call --arg`; repeat, in order).", valueName: "VALUE"))
    var callArguments: [String] = []
    @Option(name: .customLong("const"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("With --arg: a module constant NAME=NUMBER or NAME=FILE.npy (as `call --const`).", valueName: "NAME=VALUE"))
    var constants: [String] = []

    @OptionGroup var filter: FilterOptionArguments

    func run() throws {
        exitOnInterrupt()
        try runReportingErrors {
            guard repeatCount >= 1 else { throw UserError("--repeat must be at least 1, got \(repeatCount)") }
            let file = try source.load()
            if !callArguments.isEmpty || !constants.isEmpty {
                try benchArrayFunction(file)
                return
            }
            let image: NDArray
            if let input {
                image = try ImageFile.read(path: input)
            } else {
                image = try NDArray.random(shape: try OptionParsing.shape(shape), elementType: try ElementType.parse(dtype))
            }
            let engine = try makeEngine(filter)
            let run = try compileAndRun(engine: engine, file: file, function: source.function, image: image,
                                        arguments: filter, repeats: repeatCount)
            let sorted = run.timings.cached.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            // The entry's stages: the front end plus the code its run needs (fused kernel, strategy tail or callback).
            let stages = run.timings.stages
            print("kernel       \(run.kernel.name) (\(run.kernel.kind.rawValue)) on \(image.shape.map(String.init).joined(separator: "x")) \(image.elementType.rawValue)")
            print("engine start \(formatMilliseconds(engine.startMilliseconds)) ms")
            if run.timings.loadedFromDiskCache { print("disk cache   hit (compile is the load of the stored object code)") }
            print("compile      \(formatMilliseconds(run.timings.compile)) ms (parse \(formatMilliseconds(stages.parse)), check \(formatMilliseconds(stages.check)), verify \(formatMilliseconds(stages.verify)), IR \(formatMilliseconds(stages.ir)), optimise \(formatMilliseconds(stages.optimize)), machine code \(formatMilliseconds(stages.machineCode)))")
            let strategy = try windowStrategyReport(run.kernel, image: image, arguments: filter)
            if let strategy { print("strategy     \(strategy)") }
            print("first run    \(formatMilliseconds(run.timings.first)) ms (compile included)")
            print("cached runs  best \(formatMilliseconds(sorted.first ?? .nan)) ms, median \(formatMilliseconds(median)) ms over \(repeatCount)")
            if json {
                let object: [String: Any] = [
                    "engine": try filter.checkedEngine(),
                    "strategy": strategy?.name ?? "literal",
                    "threads": try filter.checkedThreads(),
                    "dtype": image.elementType.rawValue,
                    "shape": image.shape,
                    "elements": image.count,
                    "engine_start_ms": engine.startMilliseconds,
                    // "Source text to callable kernel(s)": the fused specialisation compiled in this run counts.
                    "compile_ms": run.timings.compile,
                    "compile_cpu_ms": run.timings.compileCPU,
                    "stages": [
                        "parse_ms": stages.parse, "check_ms": stages.check + stages.verify, "ir_ms": stages.ir,
                        "optimise_ms": stages.optimize, "codegen_ms": stages.machineCode,
                    ],
                    "disk_cache_hit": run.timings.loadedFromDiskCache,
                    "first_ms": run.timings.first,
                    "cached_best_ms": sorted.first ?? 0,
                    "cached_median_ms": median,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    /// `bench FILE --arg ...`: an array function's compile stages, first call and cached calls.
    private func benchArrayFunction(_ file: SourceFile) throws {
        var text = file.text
        if !text.hasSuffix("\n") { text += "\n" }
        for constant in constants { text += try CallCommand.constantLine(constant) + "\n" }
        let engine = try makeEngine(filter)
        let callable = try engine.compileFunction(text, function: source.function, fileName: file.name)
        var values: [ArrayFunctionArgument] = []
        var loaded: [String: ArrayFunctionArgument] = [:]
        for argument in callArguments {
            let value = try loaded[argument] ?? CallCommand.argument(argument)
            if case .array = value { loaded[argument] = value }
            values.append(value)
        }
        func timed(_ body: () throws -> Void) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                try body()
            } catch let error as KernelRuntimeError {
                throw UserError("\(callable.name): \(callable.describe(error))")
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        let first = try timed { _ = try callable.call(values) }
        let signature = ArrayFunctionSignature(values.map(\.type), boundsChecked: true)
        let kernel = try callable.kernel(for: signature)
        let stages = kernel.timings
        var cached: [Double] = []
        for _ in 0..<repeatCount { cached.append(try timed { _ = try callable.call(values) }) }
        let sorted = cached.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        print("function     \(callable.name)\(signature)")
        print("engine start \(formatMilliseconds(engine.startMilliseconds)) ms")
        if kernel.loadedFromDiskCache { print("disk cache   hit (compile is the load of the stored object code)") }
        print("compile      \(formatMilliseconds(stages.total)) ms (parse \(formatMilliseconds(stages.parse)), check \(formatMilliseconds(stages.check)), verify \(formatMilliseconds(stages.verify)), IR \(formatMilliseconds(stages.ir)), optimise \(formatMilliseconds(stages.optimize)), machine code \(formatMilliseconds(stages.machineCode)))")
        print("first call   \(formatMilliseconds(first)) ms (compile included)")
        print("cached calls best \(formatMilliseconds(sorted.first ?? .nan)) ms, median \(formatMilliseconds(median)) ms over \(repeatCount)")
        if json {
            let object: [String: Any] = [
                "function": callable.name,
                "signature": signature.description,
                "engine_start_ms": engine.startMilliseconds,
                "compile_ms": stages.total,
                "stages": [
                    "parse_ms": stages.parse, "check_ms": stages.check + stages.verify, "ir_ms": stages.ir,
                    "optimise_ms": stages.optimize, "codegen_ms": stages.machineCode,
                ],
                "disk_cache_hit": kernel.loadedFromDiskCache,
                "first_ms": first,
                "cached_best_ms": sorted.first ?? 0,
                "cached_median_ms": median,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
