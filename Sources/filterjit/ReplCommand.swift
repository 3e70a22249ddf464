import ArgumentParser
import FilterJIT
import FilterLang
import Foundation
import NDImage

/// `filterjit repl` (and `filterjit` alone): compile and run entries on an image, timing the first
/// run against the cached one.
struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Interactive session: each entry is compiled, run on the image, then run again from the cache.",
        discussion: """
            Each entry is an expression over `values`, or a `def` block (ended by a blank line).
            After each entry: a summary of the result and
              first run X ms (compile Y ms: parse a, check b, IR c, optimise d, machine code e) · cached run Z ms
            Colon commands: :load FILE, :random SHAPE [DTYPE], :footprint cross|box|FILE.npy, :size N[,M],
            :mode M, :cval X, :origin K[,L], :param NAME=VALUE, :engine E, :threads N, :save FILE,
            :order N, :output-shape S, :prefilter on|off (for @transform entries), :ir, :asm, :cache,
            :help, :quit.

            Examples:
              filterjit repl --shape 2048x2048
              printf 'min(values)\\n:quit\\n' | filterjit repl --shape 512x512 --dtype uint8
            """
    )

    @Option(help: ArgumentHelp("Start on this image (.npy, .png or .tif).", valueName: "IN"))
    var input: String?
    @Option(help: ArgumentHelp("Shape of the seeded random image.", valueName: "S"))
    var shape: String = "2048x2048"
    @Option(help: ArgumentHelp("Element type of the seeded random image.", valueName: "T"))
    var dtype: String = "float64"

    @OptionGroup var filter: FilterOptionArguments

    func run() throws {
        let session: ReplSession
        do {
            let image = try input.map { try ImageFile.read(path: $0) }
                ?? NDArray.random(shape: try OptionParsing.shape(shape), elementType: try ElementType.parse(dtype))
            session = try ReplSession(image: image, arguments: filter, engine: try makeEngine(filter))
        } catch {
            printError("error: \(error)\n")
            throw ExitCode(1)
        }
        session.loop()
    }
}

/// The engine whose kernels Ctrl-C cancels (set while a REPL runs).
nonisolated(unsafe) private var interruptibleEngine: Engine?

/// The state of one REPL session: the engine, the image, the options, the last kernel and result.
final class ReplSession {
    let engine: Engine
    var image: NDArray
    var arguments: FilterOptionArguments
    var lastKernel: Kernel?
    var lastResult: NDArray?
    let reader: LineReader

    init(image: NDArray, arguments: FilterOptionArguments, engine: Engine) throws {
        self.engine = engine
        self.image = image
        self.arguments = arguments
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSTemporaryDirectory()
        reader = LineReader(historyPath: home + "/.filterjit_history")
    }

    /// Reads and runs entries until `:quit` or the end of input.
    func loop() {
        interruptibleEngine = engine
        signal(SIGINT) { _ in interruptibleEngine?.cancel() }
        // Ctrl-C only stops the entry; SIGTERM and SIGHUP end the session, removing a half-written `:save`.
        exitOnSignals([SIGTERM, SIGHUP])
        if reader.isInteractive {
            print("FilterJIT REPL on \(describe(image)). Enter an expression over `values` or a def block; :help for commands.")
        }
        while let line = reader.readLine(prompt: ">>> ") {
            // Whoever reads our output has gone (a closed pipe): stop instead of running every entry unseen.
            if fflush(nil) != 0 && errno == EPIPE { return }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix(":") {
                if !command(trimmed) { return }
                continue
            }
            var entry = line
            if startsBlock(trimmed) {
                while let next = reader.readLine(prompt: "... "), !next.trimmingCharacters(in: .whitespaces).isEmpty {
                    entry += "\n" + next
                }
            }
            if isImportsOnly(entry) {
                // `import numpy as np`, `from numba import cfunc, carray` (issue 15) on their own: kept for the
                // entries that follow (appended after them, so their line numbers stay their own).
                do {
                    _ = try engine.compile(universalNewlines(entry) + "\n0.0\n", fileName: "<repl>")
                    keptImports.append(universalNewlines(entry))
                    print("imports kept for the following entries")
                } catch let error as CompileError {
                    printError(error.description)
                } catch {
                    printError("error: \(error)\n")
                }
                continue
            }
            evaluate(entry + (keptImports.isEmpty ? "" : "\n" + keptImports.joined(separator: "\n")))
        }
    }

    /// Import-only entries given so far.
    private var keptImports: [String] = []

    private func isImportsOnly(_ entry: String) -> Bool {
        let lines = universalNewlines(entry).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        return !lines.isEmpty && lines.allSatisfy { $0.hasPrefix("import ") || $0.hasPrefix("from ") }
    }

    private func startsBlock(_ line: String) -> Bool {
        line.hasPrefix("def ") || line.hasPrefix("@") || line.hasPrefix("import ") || line.hasPrefix("from ")
    }

    private func describe(_ array: NDArray) -> String {
        "\(array.shape.map(String.init).joined(separator: "x")) \(array.elementType.rawValue)"
    }

    /// Compiles and runs one entry, then runs it again from the cache.
    private func evaluate(_ text: String) {
        engine.resetCancellation()
        do {
            let run = try compileAndRun(engine: engine, file: SourceFile(name: "<repl>", text: universalNewlines(text)), function: nil,
                                        image: image, arguments: arguments, repeats: 1,
                                        ignoringUndeclaredParameters: true)
            lastKernel = run.kernel
            lastResult = run.result
            print(summary(of: run.result))
            print(run.timings.line)
        } catch let error as CompileError {
            printError(error.description)
        } catch {
            printError("error: \(error)\n")
        }
    }

    /// Runs a colon command; returns false for `:quit`.
    private func command(_ line: String) -> Bool {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let name = words[0]
        var rest = Array(words.dropFirst())
        // A file argument is the rest of the line, so paths with spaces work (":load my image.npy").
        if [":load", ":save", ":footprint"].contains(name), rest.count > 1 {
            rest = [line.dropFirst(name.count).trimmingCharacters(in: .whitespaces)]
        }
        do {
            switch name {
            case ":quit", ":q", ":exit":
                return false
            case ":help":
                print(Self.help)
            case ":load":
                guard rest.count == 1 else { throw UserError(":load FILE") }
                image = try ImageFile.read(path: rest[0])
                print("image: \(describe(image))")
            case ":random":
                guard rest.count == 1 || rest.count == 2 else { throw UserError(":random SHAPE [DTYPE]") }
                image = try NDArray.random(shape: try OptionParsing.shape(rest[0]),
                                           elementType: try ElementType.parse(rest.count == 2 ? rest[1] : "float64"))
                print("image: \(describe(image))")
            case ":footprint":
                guard rest.count == 1 else { throw UserError(":footprint cross|box|FILE.npy") }
                var next = arguments
                next.footprint = rest[0]
                next.size = nil
                _ = try next.filterOptions(rank: image.rank)
                arguments = next
            case ":size":
                guard rest.count == 1 else { throw UserError(":size N[,M...]") }
                var next = arguments
                next.size = rest[0]
                next.footprint = nil
                _ = try next.filterOptions(rank: image.rank)
                arguments = next
            case ":mode":
                guard rest.count == 1 else { throw UserError(":mode M") }
                _ = try BoundaryMode.parse(rest[0])
                arguments.mode = rest[0]
            case ":cval":
                guard rest.count == 1 else { throw UserError(":cval X") }
                _ = try OptionParsing.double(rest[0], name: ":cval")
                arguments.cval = rest[0]
            case ":origin":
                guard rest.count == 1 else { throw UserError(":origin K[,L...]") }
                _ = try OptionParsing.integerList(rest[0], name: ":origin")
                arguments.origin = rest[0]
            case ":param":
                guard rest.count == 1 else { throw UserError(":param NAME=VALUE") }
                var next = arguments
                let key = rest[0].split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                next.parameters = next.parameters.filter { !$0.hasPrefix(key + "=") } + [rest[0]]
                _ = try next.parameterValues()
                arguments = next
            case ":engine":
                guard rest.count == 1 else { throw UserError(":engine fused|callback") }
                var next = arguments
                next.engine = rest[0]
                _ = try next.checkedEngine()
                arguments = next
            case ":order":
                guard rest.count == 1, let order = Int(rest[0]), (0...5).contains(order) else {
                    throw UserError(":order N (the spline order of @transform kernels, 0 to 5)")
                }
                arguments.order = order
            case ":output-shape":
                guard rest.count == 1 else { throw UserError(":output-shape AxB... (or 'input')") }
                if rest[0] == "input" {
                    arguments.outputShape = nil
                } else {
                    _ = try OptionParsing.shape(rest[0])
                    arguments.outputShape = rest[0]
                }
            case ":prefilter":
                guard rest.count == 1, rest[0] == "on" || rest[0] == "off" else { throw UserError(":prefilter on|off") }
                arguments.prefilter = rest[0] == "on"
            case ":threads":
                guard rest.count == 1, let count = Int(rest[0]), count >= 1 else { throw UserError(":threads N (at least 1)") }
                arguments.threads = count
            case ":save":
                guard rest.count == 1 else { throw UserError(":save FILE") }
                guard let lastResult else { throw UserError("nothing to save yet: run an entry first") }
                try checkOutputPath(rest[0])
                try writeAtomically(lastResult, to: rest[0])
                print("saved \(rest[0])")
            case ":ir":
                guard let lastKernel else { throw UserError("no kernel yet: run an entry first") }
                print(lastKernel.optimizedIR, terminator: "")
            case ":asm":
                guard let lastKernel else { throw UserError("no kernel yet: run an entry first") }
                print(try lastKernel.assembly, terminator: "")
            case ":cache":
                let statistics = engine.cache.statistics
                print("\(statistics.count) kernels cached · \(statistics.hits) hits · \(statistics.misses) misses · \(statistics.evictions) evictions")
                if let lastKernel { print("last: \(lastKernel.name) \(lastKernel.signature)") }
            default:
                throw UserError("unknown command \(name); :help lists the commands")
            }
        } catch let error as UserError {
            printError("error: \(error.message)\n")
        } catch {
            printError("error: \(error)\n")
        }
        return true
    }

    static let help = """
        Entries: an expression over `values` (min(values)), or a def block ended by a blank line
        (a @transform block runs as geometric_transform; :mode defaults to constant for it).
        :load FILE              filter this image (.npy, .png or .tif) from now on
        :random SHAPE [DTYPE]   a seeded random image, e.g. :random 512x512 uint8
        :footprint F            cross, box or FILE.npy
        :size N[,M...]          a box window instead of a footprint
        :mode M                 reflect constant nearest mirror wrap grid-mirror grid-constant grid-wrap
                                (default: reflect for filters, constant for transforms)
        :cval X                 fill value of the constant modes
        :origin K[,L...]        window shift per axis
        :param NAME=VALUE       a run-time parameter, for the kernels that declare it
        :engine E               fused (the default) or callback
        :order N                spline order of @transform kernels (0-5, default 3)
        :output-shape S         output shape of @transform kernels (AxB..., or input)
        :prefilter on|off       SciPy's spline prefilter for @transform kernels
        :threads N              worker threads
        :save FILE              write the last result (.npy, .png or .tif)
        :ir, :asm               the last kernel's optimised IR or machine code
        :cache                  compiled kernels and cache counters
        :quit                   leave (so does end of input)
        """
}
