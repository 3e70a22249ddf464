import CEditLine
import Foundation

/// Reads REPL input: with libedit's line editing and a history file on a terminal, plain lines
/// (no prompts, no escape codes) from a pipe or file, so scripts and tests can drive the REPL.
final class LineReader {
    /// Whether standard input is a terminal.
    let isInteractive: Bool
    private let historyPath: String?

    /// Creates a reader; on a terminal it loads the history file `historyPath` if given.
    init(historyPath: String?) {
        isInteractive = isatty(STDIN_FILENO) != 0
        self.historyPath = isInteractive ? historyPath : nil
        if let historyPath = self.historyPath {
            using_history()
            _ = read_history(historyPath)
        }
    }

    /// The next line without its newline, or nil at end of input.
    func readLine(prompt: String) -> String? {
        guard isInteractive else {
            return Swift.readLine(strippingNewline: true)
        }
        guard let raw = CEditLine.readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(line)
            if let historyPath { _ = write_history(historyPath) }
        }
        return line
    }
}
