import FilterLang

/// Splits filter text into tokens with byte ranges, including NEWLINE, INDENT and DEDENT.
///
/// Lexical errors become diagnostics; the lexer always reaches the end of the text.
public struct Lexer {
    private let bytes: [UInt8]
    private var position = 0
    private var tokens: [Token] = []
    /// Lexical errors, in source order.
    private var diagnostics: [Diagnostic] = []
    /// The indentation strings of the open blocks (the first is the empty top level).
    private var indentStack: [[UInt8]] = [[]]
    /// Open `(` and `[` (and `{`), for implicit line joining.
    private var bracketDepth = 0
    /// Byte offsets of the open brackets, innermost last.
    private var openBrackets: [Int] = []
    /// Offsets of the line ends where brackets left open were closed.
    private var forcedLineEnds: Set<Int> = []

    /// Keywords that can only start a statement, never continue an expression.
    private static let statementKeywords: Set<String> = [
        "def", "return", "while", "pass", "break", "continue", "import", "from", "class", "elif", "try", "with",
        "raise", "del", "global", "nonlocal", "assert",
    ]

    /// Whether the line after the newline at `position` begins with a statement-only keyword.
    private func nextLineStartsAStatement() -> Bool {
        var index = position + 1
        while index < bytes.count && (bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t")) { index += 1 }
        var end = index
        while end < bytes.count && (isIdentifierStart(bytes[end]) || isDigit(bytes[end])) { end += 1 }
        guard end > index else { return bytes[index...].first == UInt8(ascii: "@") }
        return Lexer.statementKeywords.contains(String(decoding: bytes[index..<end], as: UTF8.self))
    }

    private init(file: SourceFile) {
        self.bytes = file.bytes
    }

    /// Tokenises the whole file; the last token is always `.endOfFile`.
    public static func tokenize(_ file: SourceFile) -> (tokens: [Token], diagnostics: [Diagnostic]) {
        let result = scan(file)
        return (result.tokens, result.diagnostics)
    }

    /// Tokenises and also returns where the lexer closed brackets left open (the offsets of the NEWLINE
    /// tokens it ended those lines with), so the parser need not report the same mistake again.
    static func scan(_ file: SourceFile) -> (tokens: [Token], diagnostics: [Diagnostic], forcedLineEnds: Set<Int>) {
        var lexer = Lexer(file: file)
        lexer.run()
        return (lexer.tokens, lexer.diagnostics, lexer.forcedLineEnds)
    }

    private mutating func error(_ message: String, _ start: Int, _ end: Int) {
        diagnostics.append(.error(message, at: SourceRange(start, end)))
    }

    private func peek(_ ahead: Int = 0) -> UInt8 {
        let index = position + ahead
        return index < bytes.count ? bytes[index] : 0
    }

    private mutating func run() {
        // A UTF-8 byte order mark at the start is not part of the program (Python skips it too).
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        var atLineStart = true
        while position < bytes.count {
            if atLineStart && bracketDepth == 0 {
                // A blank or comment-only line is skipped whole; the next line starts afresh.
                atLineStart = !readIndentation()
                if atLineStart { continue }
            }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0C:
                position += 1
            case UInt8(ascii: "#"):
                while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
            case UInt8(ascii: "\n"):
                if bracketDepth > 0 && nextLineStartsAStatement() {
                    // A bracket left open: close it here so that one mistake does not swallow the file.
                    let open = openBrackets[openBrackets.count - 1]
                    error("'\(String(UnicodeScalar(bytes[open])))' was never closed", open, open + 1)
                    bracketDepth = 0
                    openBrackets.removeAll()
                    forcedLineEnds.insert(position)
                }
                if bracketDepth == 0 {
                    tokens.append(Token(.newline, "\n", SourceRange(position, position + 1)))
                    atLineStart = true
                }
                position += 1
            case UInt8(ascii: "\\"):
                // Explicit line joining: a backslash right before the end of the line.
                var next = position + 1
                if next < bytes.count && bytes[next] == UInt8(ascii: "\r") { next += 1 }
                if next < bytes.count && bytes[next] == UInt8(ascii: "\n") {
                    position = next + 1
                } else {
                    error("unexpected character '\\' (a line continuation must end its line)", position, position + 1)
                    position += 1
                }
            default:
                if identifierScalarLength(at: position) > 0 {
                    readName()
                } else if isDigit(byte) || (byte == UInt8(ascii: ".") && isDigit(peek(1))) {
                    readNumber()
                } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    readString(prefixStart: position)
                } else {
                    readPunctuation()
                }
            }
        }
        let end = bytes.count
        if let open = openBrackets.last {
            error("'\(String(UnicodeScalar(bytes[open])))' was never closed", open, open + 1)
            forcedLineEnds.insert(end)
        }
        if let last = tokens.last, last.kind != .newline && last.kind != .dedent && last.kind != .indent {
            tokens.append(Token(.newline, "", SourceRange(end, end)))
        }
        while indentStack.count > 1 {
            indentStack.removeLast()
            tokens.append(Token(.dedent, "", SourceRange(end, end)))
        }
        tokens.append(Token(.endOfFile, "", SourceRange(end, end)))
    }

    /// Reads the indentation of a new line and emits INDENT/DEDENT; returns false for a
    /// blank or comment-only line (which is skipped whole).
    private mutating func readIndentation() -> Bool {
        let start = position
        while position < bytes.count && (bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") || bytes[position] == 0x0C) {
            position += 1
        }
        // As CPython's tokenizer: a form feed resets the indentation count, so only what follows
        // the last one is the line's indentation ("\u{0C}def f(values):" is a top-level def).
        let lastFormFeed = bytes[start..<position].lastIndex(of: 0x0C)
        let indentation = Array(bytes[(lastFormFeed.map { $0 + 1 } ?? start)..<position])
        // Blank and comment-only lines do not count.
        if position >= bytes.count { return false }
        let byte = bytes[position]
        if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "#") {
            while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
            if position < bytes.count { position += 1 }
            return false
        }
        let top = indentStack[indentStack.count - 1]
        if indentation == top { return true }
        if indentation.count > top.count && Array(indentation[0..<top.count]) == top {
            let added = indentation[top.count...]
            if added.contains(UInt8(ascii: "\t")) && added.contains(UInt8(ascii: " ")) || mixesKinds(top, Array(added)) {
                error("mixed tabs and spaces in indentation", start, position)
            }
            indentStack.append(indentation)
            // Located at the first character of the line, where "unexpected indent" points.
            tokens.append(Token(.indent, "", SourceRange(position, position)))
            return true
        }
        if let level = indentStack.lastIndex(of: indentation) {
            while indentStack.count - 1 > level {
                indentStack.removeLast()
                tokens.append(Token(.dedent, "", SourceRange(position, position)))
            }
            return true
        }
        let hasTab = indentation.contains(UInt8(ascii: "\t")) || indentStack.contains { $0.contains(UInt8(ascii: "\t")) }
        let hasSpace = indentation.contains(UInt8(ascii: " ")) || indentStack.contains { $0.contains(UInt8(ascii: " ")) }
        if hasTab && hasSpace {
            error("mixed tabs and spaces in indentation", start, position)
        } else {
            error("unindent does not match any outer indentation level", start, position)
        }
        // Recover: treat the line as belonging to the innermost block no deeper than it, but never
        // to the top level (an indented line is inside something).
        while indentStack.count > 2 && indentStack[indentStack.count - 1].count > indentation.count {
            indentStack.removeLast()
            tokens.append(Token(.dedent, "", SourceRange(position, position)))
        }
        return true
    }

    /// Whether an indentation step uses a different character from the enclosing one.
    private func mixesKinds(_ outer: [UInt8], _ added: [UInt8]) -> Bool {
        guard let outerKind = outer.last, let addedKind = added.first else { return false }
        return outerKind != addedKind
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    /// The byte length of the identifier character at `index` (a letter, `_`, or a non-ASCII
    /// alphabetic scalar, as Python allows), or 0.
    private func identifierScalarLength(at index: Int) -> Int {
        guard index < bytes.count else { return 0 }
        let byte = bytes[index]
        if byte < 0x80 { return isIdentifierStart(byte) ? 1 : 0 }
        let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
        guard index + length <= bytes.count,
              let scalar = String(decoding: bytes[index..<index + length], as: UTF8.self).unicodeScalars.first,
              scalar.value >= 0x80, scalar.properties.isAlphabetic else { return 0 }
        return length
    }

    private mutating func readName() {
        let start = position
        while position < bytes.count {
            if isDigit(bytes[position]) {
                position += 1
                continue
            }
            let length = identifierScalarLength(at: position)
            guard length > 0 else { break }
            position += length
        }
        // A string prefix directly followed by a quote: r'..', b'..', f'..', u'..', rb'..'.
        if position < bytes.count, bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\""),
           position - start <= 2 {
            let prefix = String(decoding: bytes[start..<position], as: UTF8.self).lowercased()
            if ["r", "b", "f", "u", "rb", "br", "fr", "rf"].contains(prefix) {
                readString(prefixStart: start)
                return
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        tokens.append(Token(pythonKeywords.contains(text) ? .keyword : .name, text, SourceRange(start, position)))
    }

    private mutating func readNumber() {
        let start = position
        var isFloat = false
        var radix = 10
        if peek() == UInt8(ascii: "0"), let marker = Optional(peek(1) | 0x20),
           marker == UInt8(ascii: "x") || marker == UInt8(ascii: "o") || marker == UInt8(ascii: "b") {
            radix = marker == UInt8(ascii: "x") ? 16 : marker == UInt8(ascii: "o") ? 8 : 2
            position += 2
            while position < bytes.count && (isHexDigit(bytes[position]) || bytes[position] == UInt8(ascii: "_")) { position += 1 }
        } else {
            readDigits()
            if peek() == UInt8(ascii: ".") {
                isFloat = true
                position += 1
                readDigits()
            }
            if peek() | 0x20 == UInt8(ascii: "e") {
                let signed = peek(1) == UInt8(ascii: "+") || peek(1) == UInt8(ascii: "-")
                if isDigit(peek(signed ? 2 : 1)) {
                    isFloat = true
                    position += signed ? 2 : 1
                    readDigits()
                }
            }
        }
        // An identifier character glued to a number (`3x`, `1j`) is not a number.
        let numberEnd = position
        var end = position
        while end < bytes.count && (isIdentifierStart(bytes[end]) || isDigit(bytes[end])) { end += 1 }
        let text = String(decoding: bytes[start..<end], as: UTF8.self)
        let range = SourceRange(start, end)
        position = end
        let cleaned = text.replacingUnderscores()
        if end > numberEnd || text.hasSuffix("_") || text.contains("__") || text.contains("_.") || text.contains("._") {
            error("invalid number literal '\(text)'", start, end)
            tokens.append(Token(.integer, text, range))
            return
        }
        if isFloat {
            var token = Token(.float, text, range)
            if let value = Double(cleaned) {
                token.floatValue = value
            } else {
                error("invalid number literal '\(text)'", start, end)
            }
            tokens.append(token)
        } else {
            var token = Token(.integer, text, range)
            let digits = radix == 10 ? cleaned : String(cleaned.dropFirst(2))
            if digits.isEmpty || digits.contains(where: { !$0.isHexDigit || Int(String($0), radix: 16).map { $0 >= radix } ?? true }) {
                error("invalid number literal '\(text)'", start, end)
            } else if radix == 10 && digits.count > 1 && digits.hasPrefix("0") && digits.contains(where: { $0 != "0" }) {
                error("leading zeros in an integer literal are not allowed; write 0o for octal", start, end)
            } else if let value = Int64(digits, radix: radix) {
                token.integerValue = value
            } else {
                error("integer literal '\(text)' is outside the 64-bit range", start, end)
            }
            tokens.append(token)
        }
    }

    private func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    private mutating func readDigits() {
        while position < bytes.count && (isDigit(bytes[position]) || (bytes[position] == UInt8(ascii: "_") && isDigit(peek(1)))) {
            position += 1
        }
    }

    private mutating func readString(prefixStart: Int) {
        let prefix = String(decoding: bytes[prefixStart..<position], as: UTF8.self).lowercased()
        let quote = bytes[position]
        let triple = peek(1) == quote && peek(2) == quote
        position += triple ? 3 : 1
        var value: [UInt8] = []
        var closed = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote {
                if !triple {
                    position += 1
                    closed = true
                    break
                }
                if peek(1) == quote && peek(2) == quote {
                    position += 3
                    closed = true
                    break
                }
            }
            if byte == UInt8(ascii: "\n") && !triple { break }
            if byte == UInt8(ascii: "\\") && position + 1 < bytes.count && !prefix.contains("r") {
                let escaped = bytes[position + 1]
                switch escaped {
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "\n"): break
                default: value.append(escaped)
                }
                position += 2
                continue
            }
            value.append(byte)
            position += 1
        }
        let range = SourceRange(prefixStart, position)
        if !closed {
            error("unterminated string literal", prefixStart, position)
        }
        var token = Token(.string, String(decoding: bytes[prefixStart..<position], as: UTF8.self), range)
        token.stringValue = String(decoding: value, as: UTF8.self)
        token.isFormatString = prefix.contains("f")
        tokens.append(token)
    }

    private static let punctuation3: Set<String> = ["**=", "//=", ">>=", "<<=", "..."]
    private static let punctuation2: Set<String> = [
        "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "->", ":=", "<<", ">>",
    ]
    private static let punctuation1: Set<UInt8> = Set("+-*/%@&|^~<>()[]{},:.;=".utf8)

    private mutating func readPunctuation() {
        let start = position
        for length in [3, 2] where position + length <= bytes.count {
            let text = String(decoding: bytes[position..<position + length], as: UTF8.self)
            if (length == 3 ? Lexer.punctuation3 : Lexer.punctuation2).contains(text) {
                position += length
                tokens.append(Token(.punctuation, text, SourceRange(start, position)))
                return
            }
        }
        let byte = bytes[position]
        if Lexer.punctuation1.contains(byte) {
            position += 1
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                bracketDepth += 1
                openBrackets.append(start)
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                bracketDepth = max(0, bracketDepth - 1)
                if !openBrackets.isEmpty { openBrackets.removeLast() }
            default: break
            }
            tokens.append(Token(.punctuation, String(UnicodeScalar(byte)), SourceRange(start, position)))
            return
        }
        // Skip one whole UTF-8 scalar so the message shows the character.
        var end = position + 1
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
        let character = String(decoding: bytes[position..<end], as: UTF8.self)
        // Invisible characters are named by code point, so the message shows what to delete.
        if let scalar = character.unicodeScalars.first, scalar.properties.generalCategory == .control
            || scalar.properties.isWhitespace || scalar.properties.generalCategory == .format {
            let code = String(scalar.value, radix: 16, uppercase: true)
            error("unexpected character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code)", position, end)
        } else {
            error("unexpected character '\(character)'", position, end)
        }
        position = end
    }
}

extension String {
    /// The text with every `_` removed (digit separators in number literals).
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
