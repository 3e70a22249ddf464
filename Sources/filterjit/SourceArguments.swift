import ArgumentParser
import FilterLang
import Foundation
import NDImage

/// Where a command's filter source comes from: a file, or inline text with `-e`.
struct SourceArguments: ParsableArguments {
    @Argument(help: "A .filter file.")
    var path: String?

    // `.unconditional`: inline text may start with '-' (`-e '-min(values)'`), as every value may (spec/cli.md).
    @Option(name: [.customShort("e"), .customLong("expr")], parsing: .unconditional,
            help: "Inline filter text (named <expr> in diagnostics).")
    var expression: String?

    @Option(help: "The def to compile (default: the last one in the file).")
    var function: String?

    func validate() throws {
        if path == nil && expression == nil {
            throw ValidationError("give a SOURCE file or -e TEXT")
        }
        if path != nil && expression != nil {
            throw ValidationError("give either a SOURCE file or -e TEXT, not both")
        }
    }

    /// Loads the source text; a missing or unreadable file is a user error (exit 1).
    func load() throws -> SourceFile {
        if let expression {
            return SourceFile(name: "<expr>", text: universalNewlines(expression))
        }
        return try loadSourceFile(path ?? "")
    }
}

/// Reads a filter file as UTF-8 text, with a clear error when it cannot.
func loadSourceFile(_ path: String) throws -> SourceFile {
    if let problem = FileBytes.unreadableReason(path) { throw UserError("cannot read '\(path)': \(problem)") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw UserError("cannot read '\(path)': no such file or not readable")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw UserError("'\(path)' is not UTF-8 text")
    }
    return SourceFile(name: path, text: universalNewlines(text))
}

/// The text with `\r\n` and a lone `\r` turned into `\n`, as Python reads source ("universal newlines").
/// SourceFile counts lines at `\n` only and the lexer takes `\r` for a space, so a file saved with
/// old Mac line endings was one long line: statements after the first were "expected end of line".
func universalNewlines(_ text: String) -> String {
    guard text.utf8.contains(UInt8(ascii: "\r")) else { return text }
    return text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
}

/// An error in what the user gave (exit status 1), printed as `error: MESSAGE`.
struct UserError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Runs a command body, mapping user errors and compile errors to exit status 1 with their messages.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CompileError {
        printError(error.description)
        throw ExitCode(1)
    } catch let error as UserError {
        printError("error: \(error.message)\n")
        throw ExitCode(1)
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("error: \(error)\n")
        throw ExitCode(1)
    }
}
