/// A half-open range of UTF-8 byte offsets into a `SourceFile`'s text.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
    /// Offset of the first byte.
    public var start: Int
    /// Offset one past the last byte (equal to `start` for an empty range).
    public var end: Int

    /// Creates a range from `start` to `end` (byte offsets).
    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = max(start, end)
    }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(min(start, other.start), max(end, other.end))
    }

    /// An empty range used for synthesised nodes.
    public static let none = SourceRange(0, 0)

    public var description: String { "\(start)..<\(end)" }
}

/// A line and column, both counted from 1; the column counts Unicode scalars (a tab is one).
public struct SourceLocation: Hashable, Sendable {
    /// Line number, from 1.
    public var line: Int
    /// Column in Unicode scalars, from 1.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// Filter text with a name for diagnostics (`examples/min.filter`, `<expr>`, `<repl>`).
///
/// Tokens and nodes carry byte offsets; lines and columns are computed only
/// when a diagnostic is rendered.
public final class SourceFile: Sendable {
    /// The name diagnostics show: a path, `<expr>` or `<repl>`.
    public let name: String
    /// The text.
    public let text: String
    /// The text as UTF-8 bytes; offsets index this.
    public let bytes: [UInt8]
    /// Byte offset of the start of each line.
    public let lineStarts: [Int]
    /// Added to every line number when rendering (for source embedded in a larger file, e.g. a `.py`).
    public let lineOffset: Int

    /// Creates a source file from text.
    public init(name: String, text: String, lineOffset: Int = 0) {
        self.name = name
        self.text = text
        let bytes = Array(text.utf8)
        self.bytes = bytes
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            starts.append(index + 1)
        }
        self.lineStarts = starts
        self.lineOffset = lineOffset
    }

    /// The 0-based index of the line containing `offset`.
    public func lineIndex(of offset: Int) -> Int {
        let clamped = max(0, min(offset, bytes.count))
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= clamped { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Line and column of a byte offset (column in Unicode scalars, tab counted as one).
    public func location(of offset: Int) -> SourceLocation {
        let clamped = max(0, min(offset, bytes.count))
        let line = lineIndex(of: clamped)
        let start = lineStarts[line]
        // Each byte that is not a UTF-8 continuation byte (10xxxxxx) starts one scalar.
        var column = 1
        for index in start..<clamped where bytes[index] & 0xC0 != 0x80 {
            column += 1
        }
        return SourceLocation(line: line + 1 + lineOffset, column: column)
    }

    /// The text of the 0-based line `index`, without its line terminator.
    public func lineText(_ index: Int) -> String {
        guard index >= 0, index < lineStarts.count else { return "" }
        let start = lineStarts[index]
        var end = index + 1 < lineStarts.count ? lineStarts[index + 1] : bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The source text covered by a range.
    public func slice(_ range: SourceRange) -> String {
        let start = max(0, min(range.start, bytes.count))
        let end = max(start, min(range.end, bytes.count))
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
