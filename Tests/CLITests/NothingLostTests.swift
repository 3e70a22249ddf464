import Foundation
import NDImage
import Testing

/// Every written file goes to a temporary in its directory and is renamed on success only: a failing,
/// interrupted or terminated run keeps the previous output byte for byte and leaves no temporary behind.
@Suite(.serialized)
struct NothingLostTests {
    /// A directory holding `x.npy` (a small input) and `y.npy` (a previous output, distinct bytes).
    func directoryWithPreviousOutput(shape: [Int] = [40, 50]) throws -> (ScratchDirectory, Data) {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: shape, seed: 11), path: scratch.path("x.npy"))
        try NPYFile.write(try randomImage(shape: [3, 3], seed: 12), path: scratch.path("y.npy"))
        return (scratch, try Data(contentsOf: URL(fileURLWithPath: scratch.path("y.npy"))))
    }

    func expectPreviousOutputIntact(_ scratch: ScratchDirectory, _ previous: Data, _ context: String) throws {
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(left == ["x.npy", "y.npy"], "\(context): \(left)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("y.npy"))) == previous, "\(context): y.npy changed")
    }

    /// Starts `filterjit` with `arguments`, with SIGINT and SIGTERM unblocked (a child inherits the mask).
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Child {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&unblock, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        let process = Process()
        process.executableURL = filterjitExecutable()
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        return try Child(launching: process)
    }

    @Test func aKernelErrorKeepsThePreviousOutputAndLeavesNoTemporary() throws {
        let (scratch, previous) = try directoryWithPreviousOutput()
        let result = try runCLI(["run", "-e", "values[99]", "--size", "3", "--no-disk-cache",
                                 "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("out of range"), "\(result.stderr)")
        try expectPreviousOutputIntact(scratch, previous, "kernel error")
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGHUP, Int32(129))])
    func aSignalDuringARunawayKernelKeepsThePreviousOutput(signalNumber: Int32, status: Int32) throws {
        let (scratch, previous) = try directoryWithPreviousOutput()
        try "def spin(values):\n    while True:\n        pass\n    return 1.0\n"
            .write(toFile: scratch.path("spin.filter"), atomically: true, encoding: .utf8)
        let started = try start(["run", scratch.path("spin.filter"), "--size", "3", "--no-disk-cache",
                                 "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")])
        let process = started.process
        usleep(1_500_000)  // compiled and spinning by now (compiling takes milliseconds)
        #expect(process.isRunning, "the runaway kernel ended by itself")
        kill(process.processIdentifier, signalNumber)
        started.waitForExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == status,
                "signal \(signalNumber): \(process.terminationReason) \(process.terminationStatus)")
        try FileManager.default.removeItem(atPath: scratch.path("spin.filter"))
        try expectPreviousOutputIntact(scratch, previous, "signal \(signalNumber)")
    }

    @Test func aSignalWhileTheOutputIsBeingWrittenKeepsThePreviousOutput() throws {
        // A big output (72 MB) so the write takes long enough to be caught with its temporary present.
        let (scratch, previous) = try directoryWithPreviousOutput(shape: [3000, 3000])
        let started = try start(["run", "-e", "values[0]", "--size", "1", "--no-disk-cache",
                                 "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")])
        let process = started.process
        var sawTemporary = false
        for _ in 0..<60_000 where process.isRunning {
            let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
            if names.contains(where: { $0.contains(".tmp-") }) {
                sawTemporary = true
                kill(process.processIdentifier, SIGTERM)
                break
            }
            usleep(200)
        }
        started.waitForExit()
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted()
        #expect(left == ["x.npy", "y.npy"], "\(left)")
        if sawTemporary && process.terminationStatus == 143 {
            #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("y.npy"))) == previous)
        } else {
            // The rename won the race: then the run finished and y.npy is the new, whole result.
            #expect(process.terminationStatus == 0, "status \(process.terminationStatus)")
            #expect(try NPYFile.read(path: scratch.path("y.npy")).shape == [3000, 3000])
        }
    }

    @Test func aFullDiskMidWriteIsAClearErrorAndKeepsThePreviousOutput() throws {
        // `ulimit -f` makes writes past 32 KiB fail with EFBIG, as a full disk fails with ENOSPC; the
        // process used to die by SIGXFSZ with the temporary left behind.
        let (scratch, previous) = try directoryWithPreviousOutput(shape: [100, 100])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f 64; exec \"$0\" \"$@\"", filterjitExecutable().path,
                             "run", "-e", "values[0]", "--size", "1", "--no-disk-cache",
                             "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")]
        let errorPipe = Pipe()
        process.standardError = errorPipe
        let child = try Child(launching: process)
        let stderr = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitForExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1,
                "\(process.terminationReason) \(process.terminationStatus): \(stderr)")
        #expect(stderr.contains("error: cannot write '\(scratch.path("y.npy"))'"), "\(stderr)")
        #expect(!stderr.contains(".tmp-"), "the message names the temporary: \(stderr)")
        try expectPreviousOutputIntact(scratch, previous, "file-size limit")
    }

    /// A batch's inputs `data/b0.npy`…, and in `out/` a previous output for each (distinct bytes).
    func batchWithPreviousOutputs(count: Int, shape: (Int) -> [Int]) throws -> (ScratchDirectory, [String: Data]) {
        let scratch = try ScratchDirectory()
        for folder in ["data", "out"] { try FileManager.default.createDirectory(atPath: scratch.path(folder), withIntermediateDirectories: true) }
        var previous: [String: Data] = [:]
        for index in 0..<count {
            try NPYFile.write(try randomImage(shape: shape(index), seed: UInt64(30 + index)), path: scratch.path("data/b\(index).npy"))
            try NPYFile.write(try randomImage(shape: [2, 2], seed: UInt64(90 + index)), path: scratch.path("out/b\(index).npy"))
            previous["b\(index).npy"] = try Data(contentsOf: URL(fileURLWithPath: scratch.path("out/b\(index).npy")))
        }
        return (scratch, previous)
    }

    /// Each output is its previous bytes or the whole new result (shape `shape`), and no temporary is left.
    func expectEachOutputPreviousOrWhole(_ scratch: ScratchDirectory, _ previous: [String: Data], shape: (Int) -> [Int],
                                         _ context: String) throws -> (kept: Int, replaced: Int) {
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path("out")).sorted()
        #expect(left == previous.keys.sorted(), "\(context): \(left)")
        var kept = 0, replaced = 0
        for index in 0..<previous.count {
            let name = "b\(index).npy"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.path("out/\(name)")))
            if bytes == previous[name] {
                kept += 1
            } else {
                replaced += 1
                #expect(try NPYFile.read(path: scratch.path("out/\(name)")).shape == shape(index), "\(context): \(name) half-written")
            }
        }
        return (kept, replaced)
    }

    @Test func aSignalDuringABatchLeavesEveryOutputPreviousOrWholeAndNoTemporary() throws {
        // 12 outputs of 2.9 MB written by 2 workers: SIGTERM lands while some are being written.
        let shape: (Int) -> [Int] = { _ in [600, 600] }
        let (scratch, previous) = try batchWithPreviousOutputs(count: 12, shape: shape)
        let started = try start(["run", "-e", "values[0]", "--size", "1", "--no-disk-cache", "--threads", "2",
                                 "--input", scratch.path("data"), "--output-dir", scratch.path("out")])
        let process = started.process
        var sawTemporary = false
        for _ in 0..<100_000 where process.isRunning {
            let names = try FileManager.default.contentsOfDirectory(atPath: scratch.path("out"))
            if names.contains(where: { $0.contains(".tmp-") }) {
                sawTemporary = true
                kill(process.processIdentifier, SIGTERM)
                break
            }
            usleep(100)
        }
        started.waitForExit()
        let (kept, replaced) = try expectEachOutputPreviousOrWhole(scratch, previous, shape: shape, "SIGTERM in a batch")
        if sawTemporary && process.terminationStatus == 143 {
            #expect(kept > 0, "the batch was stopped, yet every output was replaced")
        } else {
            #expect(process.terminationStatus == 0 && replaced == 12, "status \(process.terminationStatus), \(replaced) replaced")
        }
    }

    @Test func aFullDiskInABatchFailsOnlyTheFilesThatDoNotFitAndKeepsTheirPreviousOutputs() throws {
        // Under `ulimit -f 64` (32 KiB) the 100x100 float64 outputs (80 KB) fail with a clear error and keep
        // their previous outputs; the 20x20 ones are written; the run goes on to the end and exits 1.
        let shape: (Int) -> [Int] = { $0 % 3 == 0 ? [100, 100] : [20, 20] }
        let (scratch, previous) = try batchWithPreviousOutputs(count: 9, shape: shape)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f 64; exec \"$0\" \"$@\"", filterjitExecutable().path,
                             "run", "-e", "values[0]", "--size", "1", "--no-disk-cache", "--threads", "2",
                             "--input", scratch.path("data"), "--output-dir", scratch.path("out")]
        let errorPipe = Pipe(), outputPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = outputPipe
        let child = try Child(launching: process)
        let stderr = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stdout = String(decoding: outputPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitForExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(process.terminationStatus): \(stderr)")
        #expect(stdout.hasPrefix("9 files, 3 failed, 2,400 pixels, "), "\(stdout)")
        for index in [0, 3, 6] {
            #expect(stderr.contains("error: \(scratch.path("data/b\(index).npy")): cannot write '\(scratch.path("out/b\(index).npy"))'"),
                    "\(stderr)")
        }
        #expect(!stderr.contains(".tmp-"), "a message names a temporary: \(stderr)")
        let (kept, replaced) = try expectEachOutputPreviousOrWhole(scratch, previous, shape: shape, "file-size limit in a batch")
        #expect(kept == 3 && replaced == 6, "\(kept) kept, \(replaced) replaced")
    }

    @Test func diskCacheTemporariesOfDeadProcessesAreRemovedOnTheNextStore() throws {
        // A run killed by SIGKILL mid-store cannot clean up; the next store removes what it left.
        let scratch = try ScratchDirectory()
        let cache = scratch.url.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        let finishedChild = try Child(launching: finished)
        finishedChild.waitForExit()
        let key = String(repeating: "ab", count: 32)
        let abandoned = ".\(key).fjk.tmp-\(finished.processIdentifier)-7"
        let live = ".\(key).fjk.tmp-\(getpid())-8"  // this test process is alive: kept
        let foreign = ".notes.tmp-\(finished.processIdentifier)-9"  // not a cache file name: kept
        for name in [abandoned, live, foreign] {
            FileManager.default.createFile(atPath: cache.appendingPathComponent(name).path, contents: Data([1, 2, 3]))
        }
        try NPYFile.write(try randomImage(shape: [5, 5], seed: 1), path: scratch.path("x.npy"))
        let result = try runCLI(["run", "-e", "min(values) + 0.25", "--size", "3",
                                 "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")],
                                environment: ["FILTERJIT_CACHE_DIR": cache.path])
        #expect(result.status == 0, "\(result.stderr)")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: cache.path))
        #expect(!left.contains(abandoned), "\(left)")
        #expect(left.contains(live) && left.contains(foreign), "\(left)")
        #expect(!left.filter { $0.hasSuffix(".fjk") }.isEmpty, "the run stored its kernel: \(left)")
    }
}

/// The limits the issue asks to be stated and enforced, seen from the command line.
struct LimitTests {
    @Test func anImageLargerThanFilterjitMaxBytesIsRefusedBeforeAllocating() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [40, 50], seed: 5), path: scratch.path("x.npy"))
        let result = try runCLI(["run", "-e", "min(values)", "--size", "3", "--no-disk-cache",
                                 "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")],
                                environment: ["FILTERJIT_MAX_BYTES": "10000"])
        #expect(result.status == 1, "\(result.stderr)")
        // The input file (16,128 bytes with its header) is refused before it is read into memory.
        #expect(result.stderr.contains("needs 16128 bytes, more than the 10000 allowed (FILTERJIT_MAX_BYTES"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["x.npy"])
        let allowed = try runCLI(["run", "-e", "min(values)", "--size", "3", "--no-disk-cache",
                                  "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")],
                                 environment: ["FILTERJIT_MAX_BYTES": "16128"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func timeoutStopsAnyEndlessKernelWithAClearError() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [6, 7], seed: 6), path: scratch.path("x.npy"))
        for name in ["while_forever", "range_forever", "nested_values_forever"] {
            let kernel = repositoryRoot.appendingPathComponent("Tests/Fixtures/hostile/\(name).filter").path
            let started = Date()
            let result = try runCLI(["run", kernel, "--size", "3", "--timeout", "0.5", "--no-disk-cache",
                                     "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")])
            #expect(result.status == 1, "\(name): \(result.stderr)")
            #expect(result.stderr.contains("error: the kernel ran longer than --timeout 0.5 s and was stopped"), "\(name): \(result.stderr)")
            #expect(Date().timeIntervalSince(started) < 30, "\(name)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["x.npy"])
        let bad = try runCLI(["run", "-e", "min(values)", "--timeout", "0", "--input", scratch.path("x.npy"),
                              "--output", scratch.path("y.npy")])
        #expect(bad.status == 64 && bad.stderr.contains("--timeout must be a positive number"), "\(bad.stderr)")
    }

    @Test func ctrlCInTheReplStopsAnEndlessForLoopAndTheSessionGoesOn() throws {
        // Only `while` loops polled the flag: Ctrl-C on `for i in range(10**18)` hung the REPL.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        let process = Process()
        process.executableURL = filterjitExecutable()
        process.arguments = ["repl", "--shape", "4x4", "--no-disk-cache"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        let child = try Child(launching: process)
        input.fileHandleForWriting.write(Data("def f(values):\n    s = 0\n    for i in range(1000000000000000000):\n        s += i\n    return float(s)\n\n".utf8))
        usleep(1_500_000)
        process.interrupt()
        usleep(300_000)
        input.fileHandleForWriting.write(Data("min(values)\n:quit\n".utf8))
        try input.fileHandleForWriting.close()
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitForExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(process.terminationStatus) \(stderr)")
        #expect(stderr.contains("kernel cancelled"), "\(stderr)")
        #expect(stdout.contains("first run "), "the entry after the cancelled one ran: \(stdout)")
    }

    @Test func aKernelWhoseIRExceedsTheBoundIsRefusedInsteadOfCompilingForMinutes() throws {
        // 2,000 repeated statements took 27 s to compile (LLVM's optimiser is superlinear); 4,000, minutes.
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [6, 7], seed: 7), path: scratch.path("x.npy"))
        let statements = (0..<4000).map { "    s += values[\($0 % 9)] * \($0).0" }
        try (["def f(values):", "    s = 0.0"] + statements + ["    return s", ""]).joined(separator: "\n")
            .write(toFile: scratch.path("big.filter"), atomically: true, encoding: .utf8)
        let started = Date()
        // The callback engine: its module checks every index, so it crosses the bound (about 56,000
        // instructions; the fused module of this 9-tap window folds the checks away and stays below it).
        let result = try runCLI(["run", scratch.path("big.filter"), "--size", "3", "--no-disk-cache", "--engine", "callback",
                                 "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("error: kernel 'f' is too large to compile: its LLVM IR has"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 20)
        let small = try runCLI(["run", "-e", "min(values)", "--size", "3", "--no-disk-cache", "--strategy", "literal",
                                "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")],
                               environment: ["FILTERJIT_MAX_IR_INSTRUCTIONS": "50"])
        #expect(small.status == 1 && small.stderr.contains("more than the limit of 50 (FILTERJIT_MAX_IR_INSTRUCTIONS)"), "\(small.stderr)")
    }
}
