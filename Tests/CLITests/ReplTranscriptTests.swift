import Foundation
import Testing

/// Replaces the figures of timing lines with `#`, so transcripts compare across runs and machines.
func maskTimings(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        guard line.hasPrefix("first run ") else { return String(line) }
        return line.replacingOccurrences(of: #"[0-9]+(\.[0-9]+)?"#, with: "#", options: .regularExpression)
    }.joined(separator: "\n")
}

@Suite struct ReplTranscriptTests {
    /// Each `Tests/Fixtures/repl/NAME.in` is piped into `filterjit repl --shape 64x64`; stdout and stderr
    /// must equal `NAME.out` and `NAME.err` with timings masked. `FILTERJIT_RECORD_GOLDEN=1` rewrites them.
    @Test(arguments: ["basics", "modes", "numba", "transforms"])
    func transcriptMatchesGolden(name: String) throws {
        let directory = repositoryRoot.appendingPathComponent("Tests/Fixtures/repl")
        let input = try String(contentsOf: directory.appendingPathComponent("\(name).in"), encoding: .utf8)
        let result = try runCLI(["repl", "--shape", "64x64"], input: input, environment: ["HOME": NSTemporaryDirectory()])
        #expect(result.status == 0)
        let stdout = maskTimings(result.stdout), stderr = result.stderr
        let outURL = directory.appendingPathComponent("\(name).out"), errURL = directory.appendingPathComponent("\(name).err")
        if ProcessInfo.processInfo.environment["FILTERJIT_RECORD_GOLDEN"] == "1" {
            try stdout.write(to: outURL, atomically: true, encoding: .utf8)
            try stderr.write(to: errURL, atomically: true, encoding: .utf8)
            return
        }
        #expect(stdout == (try String(contentsOf: outURL, encoding: .utf8)))
        #expect(stderr == (try String(contentsOf: errURL, encoding: .utf8)))
    }

    @Test func pipedSessionPrintsNoPromptsOrEscapes() throws {
        let result = try runCLI(["repl", "--shape", "32x32"], input: "min(values)\n:quit\n",
                                environment: ["HOME": NSTemporaryDirectory()])
        #expect(result.status == 0)
        #expect(!result.stdout.contains(">>>") && !result.stdout.contains("\u{1B}"))
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.count == 2 && lines[0].hasPrefix("32x32 float64 · min "))
        #expect(lines.count == 2 && lines[1].contains(" ms (compile ") && lines[1].contains(" · cached run "))
    }

    @Test func bareFilterjitIsTheRepl() throws {
        let result = try runCLI(["--shape", "8x8"], input: ":quit\n", environment: ["HOME": NSTemporaryDirectory()])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
