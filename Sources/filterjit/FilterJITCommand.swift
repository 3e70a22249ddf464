import ArgumentParser
import Foundation

/// The `filterjit` command: compile filter programs with LLVM and run them over images.
@main
struct FilterJITCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filterjit",
        abstract: "Compile neighbourhood filters (a Python subset) with LLVM and run them like scipy.ndimage.generic_filter.",
        discussion: """
            Examples:
              filterjit                                   (the REPL on a random 2048x2048 image)
              filterjit run examples/fmin.filter --input x.npy --output y.npy
              filterjit check examples/*.filter
              filterjit bench -e 'min(values)' --json
              filterjit show -e 'min(values)' --ir
              filterjit call examples/addarr.py --arg x.npy --arg y.npy --output sum.npy
            """,
        subcommands: [ReplCommand.self, RunCommand.self, CheckCommand.self, ShowCommand.self, BenchCommand.self, CacheCommand.self,
                      CallCommand.self],
        defaultSubcommand: ReplCommand.self
    )

    /// Ignores SIGPIPE before parsing: `filterjit cache --list | head -0` or a REPL piped into `head`
    /// died by the signal (status 141); the spec allows no signal deaths. Writes then fail with EPIPE,
    /// which stdio ignores and the REPL checks for. Ctrl-C, SIGTERM and SIGHUP end every command with
    /// 128 + signal after removing half-written temporaries (the REPL then makes Ctrl-C cancel an entry).
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        exitOnInterrupt()
        main(nil)
    }
}

/// Writes to standard error with write(2), which reports a closed stream as EPIPE (ignored here)
/// rather than FileHandle.write, which traps on it once SIGPIPE is ignored.
func printError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
