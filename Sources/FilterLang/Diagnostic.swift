/// How serious a diagnostic is.
public enum Severity: String, Hashable, Sendable {
    case error
    case warning
    case note
}

/// One message about the source, located by a byte range; a value, rendered later.
public struct Diagnostic: Hashable, Sendable {
    /// Error, warning or note.
    public var severity: Severity
    /// The message, without location or severity prefix.
    public var message: String
    /// The span the caret/underline marks.
    public var range: SourceRange

    /// Creates a diagnostic.
    public init(_ severity: Severity = .error, _ message: String, at range: SourceRange) {
        self.severity = severity
        self.message = message
        self.range = range
    }

    /// An error at `range`.
    public static func error(_ message: String, at range: SourceRange) -> Diagnostic {
        Diagnostic(.error, message, at: range)
    }
}

/// Renders diagnostics like clang and swiftc:
/// `FILE:LINE:COL: error: MESSAGE`, the source line, then a caret and underline under the span.
public enum DiagnosticRenderer {
    /// The rendered text of one diagnostic (three lines, ending in a newline).
    public static func render(_ diagnostic: Diagnostic, in file: SourceFile) -> String {
        let location = file.location(of: diagnostic.range.start)
        var text = "\(file.name):\(location.line):\(location.column): \(diagnostic.severity.rawValue): \(diagnostic.message)\n"
        let lineIndex = file.lineIndex(of: diagnostic.range.start)
        let line = file.lineText(lineIndex)
        text += line + "\n"
        // Pad with the line's own whitespace so tabs line up, then a caret and
        // a tilde under every further scalar of the span on this line.
        var marker = ""
        let scalars = Array(line.unicodeScalars)
        let startColumn = file.location(of: diagnostic.range.start).column - 1
        for index in 0..<min(startColumn, scalars.count) {
            marker.append(scalars[index] == "\t" ? "\t" : " ")
        }
        marker += "^"
        let lineEnd = file.lineStarts[lineIndex] + file.lineText(lineIndex).utf8.count
        let spanEnd = min(diagnostic.range.end, lineEnd)
        if spanEnd > diagnostic.range.start {
            let endColumn = file.location(of: spanEnd).column - 1
            if endColumn - startColumn > 1 {
                marker += String(repeating: "~", count: endColumn - startColumn - 1)
            }
        }
        text += marker + "\n"
        return text
    }

    /// All diagnostics rendered in order.
    public static func render(_ diagnostics: [Diagnostic], in file: SourceFile) -> String {
        diagnostics.map { render($0, in: file) }.joined()
    }
}

/// A failed compile: every diagnostic of a source, renderable as text.
public struct CompileError: Error, CustomStringConvertible, Sendable {
    /// The file the diagnostics refer to.
    public let file: SourceFile
    /// Every diagnostic, in source order.
    public let diagnostics: [Diagnostic]

    /// Creates a compile error.
    public init(file: SourceFile, diagnostics: [Diagnostic]) {
        self.file = file
        self.diagnostics = diagnostics
    }

    /// The diagnostics rendered with source lines and carets.
    public var description: String { DiagnosticRenderer.render(diagnostics, in: file) }
}
