import Foundation
import NDImage
import Testing

/// Adversarial review of the command line: hostile values must exit 1 with a clear message, never by a signal.
struct HostileInputTests {
    @Test func hugeSizeExitsOneInsteadOfAbortingOnAllocation() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [4, 5], seed: 3), path: scratch.path("x.npy"))
        for size in ["99999999", "4000000,4000000", "3037000500,3037000500"] {
            let result = try runCLI(["run", "-e", "min(values)", "--input", scratch.path("x.npy"),
                                     "--output", scratch.path("y.npy"), "--size", size])
            #expect(result.status == 1, "--size \(size): status \(result.status) \(result.stderr.prefix(200))")
            #expect(result.stderr.contains("error: size too large"), "\(result.stderr.prefix(200))")
        }
        let repl = try runCLI(["repl", "--shape", "4x5"], input: ":size 99999999\nmin(values)\n:quit\n")
        #expect(repl.status == 0, "\(repl.stderr.prefix(200))")
        #expect(repl.stderr.contains("size too large"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["x.npy"])
    }

    @Test func badOutputPathsAreRefusedBeforeWorkAndNameThePathGiven() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [4, 5], seed: 4), path: scratch.path("x.npy"))
        let cases: [(String, String)] = [
            (scratch.path("missing/y.npy"), "does not exist"),
            (scratch.path("y.txt"), "cannot tell the format of '\(scratch.path("y.txt"))'"),
            (scratch.url.path, "is a directory"),
            ("", "output path is empty"),
        ]
        for (output, mention) in cases {
            // A kernel that would fail at run time: the output check must come first.
            let result = try runCLI(["run", "-e", "values[99]", "--input", scratch.path("x.npy"), "--output", output])
            #expect(result.status == 1, "\(output): \(result.stderr)")
            #expect(result.stderr.contains(mention), "\(output): \(result.stderr)")
            #expect(!result.stderr.contains(".tmp-"), "the message names the temporary file: \(result.stderr)")
        }
        let repl = try runCLI(["repl", "--shape", "4x5"],
                              input: "min(values)\n:save \(scratch.path("missing/z.npy"))\n:save \(scratch.path("z.txt"))\n:quit\n")
        #expect(repl.status == 0)
        #expect(repl.stderr.contains("does not exist") && repl.stderr.contains("cannot tell the format"), "\(repl.stderr)")
        #expect(!repl.stderr.contains(".tmp-"), "\(repl.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["x.npy"])
    }
}

struct InlineSourceTests {
    @Test func inlineSourceMayStartWithAMinusSign() throws {
        // Was exit 64 "Missing value for '-e <expr>'": the spec lets every value start with '-'.
        let scratch = try ScratchDirectory()
        let input = try NDArray.make(shape: [3], elementType: .float64, values: [1, -2, 3])
        try NPYFile.write(input, path: scratch.path("x.npy"))
        for flag in ["-e", "--expr"] {
            let result = try runCLI(["run", flag, "-values[0]", "--size", "1", "--input", scratch.path("x.npy"),
                                     "--output", scratch.path("y.npy")])
            #expect(result.status == 0, "\(flag): \(result.stderr)")
            #expect(try NPYFile.read(path: scratch.path("y.npy")).doubleValues() == [-1, 2, -3])
        }
        let check = try runCLI(["check", "-e", "-zz"])
        #expect(check.status == 1 && check.stderr.contains("unknown name 'zz'"), "\(check.stderr)")
    }
}

struct InterruptedWriteTests {
    @Test func interruptWhileTheOutputIsBeingWrittenLeavesNoFileBehind() throws {
        // Foundation's atomic write used a hidden ".dat.nosync..." file of its own; Ctrl-C while it was
        // being filled left it in the output directory (the handler removes only the CLI's temporary).
        let scratch = try ScratchDirectory()
        let input = try NDArray(shape: [3000, 3000], elementType: .float64)
        try NPYFile.write(input, path: scratch.path("x.npy"))
        let process = Process()
        process.executableURL = filterjitExecutable()
        process.arguments = ["run", "-e", "values[0]", "--size", "1", "--no-disk-cache",
                             "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")]
        process.standardError = FileHandle.nullDevice
        // The test runner's threads may block SIGINT, and a spawned child inherits the mask: unblock it here.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        let child = try Child(launching: process)
        // Interrupt as soon as any file besides the input appears: that is the output being written.
        var sawWrite = false
        for _ in 0..<60_000 where process.isRunning {
            let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
            if names.count > 1 {
                sawWrite = true
                process.interrupt()
                break
            }
            usleep(500)
        }
        child.waitForExit()
        if sawWrite {
            #expect(process.terminationStatus == 130 || process.terminationStatus == 0)
            let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
            // Either the interrupt came in time (nothing written) or the run had already finished.
            #expect(left == ["x.npy"] || (left == ["x.npy", "y.npy"] && process.terminationStatus == 0), "\(left)")
        } else {
            Issue.record("the run ended (status \(process.terminationStatus)) before its output appeared")
        }
    }
}

struct ReplTimingTests {
    @Test func anEntryServedFromTheMemoryCacheReportsZeroStageTimes() throws {
        // The second identical entry compiles nothing; it used to repeat the first compile's stage times
        // (e.g. "compile 0.02 ms: parse 0.09, check 0.28, ..."), whose sum exceeded the compile time.
        let result = try runCLI(["repl", "--shape", "3x3", "--no-disk-cache"], input: "min(values)\nmin(values)\n:quit\n")
        #expect(result.status == 0, "\(result.stderr)")
        let timingLines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("first run ") }
        try #require(timingLines.count == 2, "\(result.stdout)")
        #expect(timingLines[1].contains("(nothing compiled: kernel cached)"), "\(timingLines[1])")
        #expect(!timingLines[0].contains("nothing compiled"), "\(timingLines[0])")
    }
}

struct ClosedOutputTests {
    /// Runs filterjit with its stdout a pipe nobody reads (the read end closed), as `filterjit ... | head -0`.
    func runWithClosedStdout(_ arguments: [String], input: String) throws -> Process {
        let process = Process()
        process.executableURL = filterjitExecutable()
        process.arguments = arguments
        // Input from a file, not a pipe: writing to a pipe the child has stopped reading would SIGPIPE this test.
        let scratch = try ScratchDirectory()
        FileManager.default.createFile(atPath: scratch.path("input"), contents: Data(input.utf8))
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle(forReadingAtPath: scratch.path("input"))
        try output.fileHandleForReading.close()
        let child = try Child(launching: process)
        try output.fileHandleForWriting.close()
        child.waitForExit()
        return process
    }

    @Test func aClosedOutputPipeIsNotASignalDeath() throws {
        // Was SIGPIPE (status 141 in a shell) for both.
        let repl = try runWithClosedStdout(["repl", "--shape", "3x3"], input: String(repeating: "min(values)\n", count: 50))
        #expect(repl.terminationReason == .exit, "status \(repl.terminationStatus)")
        let show = try runWithClosedStdout(["show", "-e", "min(values)", "--ir", "--no-disk-cache"], input: "")
        #expect(show.terminationReason == .exit && show.terminationStatus == 0, "status \(show.terminationStatus)")
    }
}

struct ClosedErrorStreamTests {
    @Test func aDiskCacheWarningOnAClosedStderrIsNotASignalDeath() throws {
        // The engine's default warning handler used FileHandle.write, which traps on EPIPE.
        let scratch = try ScratchDirectory()
        let environment = ["FILTERJIT_CACHE_DIR": scratch.path("cache")]
        // The literal strategy: a recognised np.min would compile nothing and store nothing.
        let bench = ["bench", "-e", "np.min(values)", "--shape", "8x8", "--repeat", "1", "--strategy", "literal"]
        _ = try runCLI(bench, environment: environment)
        for name in try FileManager.default.contentsOfDirectory(atPath: scratch.path("cache")) where name.hasSuffix(".fjk") {
            let path = scratch.path("cache/" + name)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes.replaceSubrange(bytes.count / 2 ..< bytes.count, with: Data(repeating: 0xCC, count: bytes.count - bytes.count / 2))
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let process = Process()
        process.executableURL = filterjitExecutable()
        process.arguments = bench
        var env = ProcessInfo.processInfo.environment
        env["FILTERJIT_CACHE_DIR"] = scratch.path("cache")
        process.environment = env
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try errors.fileHandleForReading.close()
        let child = try Child(launching: process)
        try errors.fileHandleForWriting.close()
        child.waitForExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "status \(process.terminationStatus)")
    }
}

struct LineEndingTests {
    @Test func oldMacLineEndingsAreNewlinesAsInPython() throws {
        // A lone CR used to be whitespace: the whole file was one line ("expected end of line after statement").
        let scratch = try ScratchDirectory()
        let path = scratch.path("cr.filter")
        try Data("def f(values):\r    x = 1\r    return x + zz\r".utf8).write(to: URL(fileURLWithPath: path))
        let check = try runCLI(["check", path])
        #expect(check.status == 1)
        #expect(check.stderr.contains("cr.filter:3:16: error: unknown name 'zz'"), "\(check.stderr)")
        let inline = try runCLI(["check", "-e", "def f(values):\r    x = 1\r\n    return x + 1\r"])
        #expect(inline.status == 0, "\(inline.stderr)")
    }
}

struct ReplPathTests {
    @Test func replFileCommandsTakePathsWithSpacesAndTabsSeparateArguments() throws {
        // ":save my result.npy" was ":save FILE" (a usage error); ":mode\twrap" an unknown command.
        let scratch = try ScratchDirectory()
        let path = scratch.path("my result.npy")
        let result = try runCLI(["repl", "--shape", "3x3"], input: ":mode\twrap\nmin(values)\n:save \(path)\n:load \(path)\n:quit\n")
        #expect(result.status == 0)
        #expect(!result.stderr.contains("error"), "\(result.stderr)")
        #expect(result.stdout.contains("saved \(path)") && result.stdout.contains("image: 3x3 float64"), "\(result.stdout)")
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
