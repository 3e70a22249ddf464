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
              filterjit check examples/*.filter
              filterjit show -e 'min(values)' --ir
            """,
        subcommands: [CheckCommand.self, ShowCommand.self]
    )
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
