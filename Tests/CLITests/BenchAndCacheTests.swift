import Foundation
import Testing

/// The JSON object on the last line of `bench --json`.
func benchJSON(_ result: CLIResult) throws -> [String: Any] {
    let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
    return try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] ?? [:]
}

@Suite struct BenchAndCacheTests {
    @Test func benchJSONHasExactlyTheSpecKeys() throws {
        let scratch = try ScratchDirectory()
        let result = try runCLI(["bench", "-e", "min(values)", "--shape", "32x48", "--dtype", "uint8", "--repeat", "3", "--json"],
                                environment: ["FILTERJIT_CACHE_DIR": scratch.path("cache")])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try benchJSON(result)
        #expect(Set(object.keys) == ["engine", "strategy", "threads", "dtype", "shape", "elements", "engine_start_ms",
                                     "compile_ms", "compile_cpu_ms", "stages", "disk_cache_hit", "first_ms", "cached_best_ms",
                                     "cached_median_ms"])
        // A 3x3 cross is 5 taps, not a box: the literal kernel beats the row-span strategy there.
        #expect(object["strategy"] as? String == "literal")
        // A 3x3 box takes the separable passes, written straight to the output.
        let box = try runCLI(["bench", "-e", "min(values)", "--size", "3", "--shape", "32x48", "--dtype", "uint8", "--repeat", "1", "--json"],
                             environment: ["FILTERJIT_CACHE_DIR": scratch.path("cache")])
        #expect(try benchJSON(box)["strategy"] as? String == "min")
        #expect(object["dtype"] as? String == "uint8")
        #expect(object["shape"] as? [Int] == [32, 48])
        #expect(object["elements"] as? Int == 32 * 48)
        let stages = object["stages"] as? [String: Any] ?? [:]
        #expect(Set(stages.keys) == ["parse_ms", "check_ms", "ir_ms", "optimise_ms", "codegen_ms"])
        let first = object["first_ms"] as? Double ?? -1, compile = object["compile_ms"] as? Double ?? -1
        #expect(first >= compile && compile > 0)
    }

    @Test func secondProcessHitsTheDiskCacheAndListShowsTheEntry() throws {
        let scratch = try ScratchDirectory()
        let environment = ["FILTERJIT_CACHE_DIR": scratch.path("cache")]
        // The literal strategy, so that a fused specialisation is compiled and stored too.
        let arguments = ["bench", "examples/fmin.filter", "--shape", "16x16", "--repeat", "1", "--json", "--strategy", "literal"]
        let first = try runCLI(arguments, environment: environment)
        let second = try runCLI(arguments, environment: environment)
        #expect(try benchJSON(first)["disk_cache_hit"] as? Bool == false)
        #expect(try benchJSON(second)["disk_cache_hit"] as? Bool == true)
        let list = try runCLI(["cache", "--list"], environment: environment)
        #expect(list.status == 0)
        // Only the fused specialisation for this image type and tap count: a fused run never needs the
        // SciPy-ABI callback, so it is not compiled.
        let names = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        #expect(Set(names) == ["fmin_fused"], "\(list.stdout)")
        let clear = try runCLI(["cache", "--clear"], environment: environment)
        #expect(clear.status == 0)
        #expect(try runCLI(["cache", "--list"], environment: environment).stdout.isEmpty)
        let noDisk = try runCLI(arguments + ["--no-disk-cache"], environment: environment)
        #expect(try benchJSON(noDisk)["disk_cache_hit"] as? Bool == false)
        #expect(try runCLI(["cache", "--list"], environment: environment).stdout.isEmpty)
    }

    @Test func twoProcessesRacingOnOneKeyBothSucceed() throws {
        let scratch = try ScratchDirectory()
        let environment = ["FILTERJIT_CACHE_DIR": scratch.path("cache")]
        let arguments = ["bench", "-e", "max(values) - min(values)", "--shape", "16x16", "--repeat", "1", "--json"]
        let children = try [0, 1].map { _ -> Child in
            let process = Process()
            process.executableURL = filterjitExecutable()
            process.arguments = arguments
            process.currentDirectoryURL = repositoryRoot
            var env = ProcessInfo.processInfo.environment
            env["FILTERJIT_CACHE_DIR"] = environment["FILTERJIT_CACHE_DIR"]
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return try Child(launching: process)
        }
        for child in children { child.waitForExit() }
        #expect(children.allSatisfy { $0.process.terminationStatus == 0 })
        let again = try runCLI(arguments, environment: environment)
        #expect(try benchJSON(again)["disk_cache_hit"] as? Bool == true)
    }

    @Test func corruptedEntryIsRebuiltNotLoaded() throws {
        let scratch = try ScratchDirectory()
        let environment = ["FILTERJIT_CACHE_DIR": scratch.path("cache")]
        let arguments = ["bench", "-e", "np.max(values)", "--shape", "16x16", "--repeat", "1", "--json", "--strategy", "literal"]
        _ = try runCLI(arguments, environment: environment)
        let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path("cache"))
        let objects = files.filter { $0.hasSuffix(".fjk") }
        #expect(objects.count == 1)  // the fused specialisation (the callback is not compiled)
        for name in objects {
            let path = scratch.path("cache/" + name)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes.replaceSubrange(bytes.count / 2 ..< bytes.count, with: Data(repeating: 0xCC, count: bytes.count - bytes.count / 2))
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let rebuilt = try runCLI(arguments, environment: environment)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(try benchJSON(rebuilt)["disk_cache_hit"] as? Bool == false)
        #expect(rebuilt.stderr.contains("warning"))
        let after = try runCLI(arguments, environment: environment)
        #expect(try benchJSON(after)["disk_cache_hit"] as? Bool == true)
    }
}
