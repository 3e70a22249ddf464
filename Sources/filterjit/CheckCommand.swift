import ArgumentParser
import FilterLang
import FilterSema
import Foundation

/// `filterjit check SOURCE...`: parse and type-check; silent on success.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Parse and type-check filter sources; print every diagnostic.",
        discussion: """
            Prints nothing and exits 0 when every source is valid; otherwise prints each
            diagnostic as FILE:LINE:COL: error: MESSAGE with the line and a caret, and exits 1.

            Examples:
              filterjit check examples/*.filter
              filterjit check -e 'min(values)'
            """
    )

    @Argument(help: "The .filter files to check.")
    var paths: [String] = []

    // `.unconditionalSingleValue`: inline text may start with '-' (`-e '-min(values)'`); -e stays repeatable.
    @Option(name: [.customShort("e"), .customLong("expr")], parsing: .unconditionalSingleValue,
            help: "Inline filter text to check (named <expr>).")
    var expressions: [String] = []

    @Option(help: "The def to check as the kernel (default: the last one in each file).")
    var function: String?

    func validate() throws {
        if paths.isEmpty && expressions.isEmpty {
            throw ValidationError("give at least one SOURCE file or -e TEXT")
        }
    }

    func run() throws {
        var failed = false
        var files: [SourceFile] = []
        for path in paths {
            do {
                files.append(try loadSourceFile(path))
            } catch {
                printError("error: \(error)\n")
                failed = true
            }
        }
        files += expressions.map { SourceFile(name: "<expr>", text: universalNewlines($0)) }
        for file in files {
            if case .failure(let error) = FrontEnd.check(file, function: function) {
                printError(error.description)
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
