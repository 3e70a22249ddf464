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
            """,
        subcommands: [ReplCommand.self, RunCommand.self, CheckCommand.self, ShowCommand.self, BenchCommand.self, CacheCommand.self],
        defaultSubcommand: ReplCommand.self
    )
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
