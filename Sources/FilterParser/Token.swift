import FilterLang

/// The kinds of token the lexer produces.
public enum TokenKind: String, Hashable, Sendable {
    /// An identifier that is not a keyword.
    case name
    /// A Python keyword (`def`, `if`, `and`, `True`, `lambda`, ...).
    case keyword
    /// An integer literal (its value is in `Token.integerValue`).
    case integer
    /// A float literal (its value is in `Token.floatValue`).
    case float
    /// A string literal (its decoded value is in `Token.stringValue`).
    case string
    /// Punctuation or an operator (`(`, `**=`, `:`).
    case punctuation
    /// The end of a logical line.
    case newline
    /// The start of a more deeply indented block.
    case indent
    /// The end of an indented block.
    case dedent
    /// The end of the text.
    case endOfFile
}

/// One token with its byte range and, for literals, its value.
public struct Token: Hashable, Sendable {
    /// What kind of token.
    public var kind: TokenKind
    /// The exact source text (empty for INDENT/DEDENT/EOF).
    public var text: String
    /// The byte range in the source.
    public var range: SourceRange
    /// The value of an integer literal.
    public var integerValue: Int64 = 0
    /// The value of a float literal.
    public var floatValue: Double = 0
    /// The decoded contents of a string literal.
    public var stringValue: String = ""
    /// For strings: whether an `f` prefix made it an f-string.
    public var isFormatString = false

    /// Creates a token.
    public init(_ kind: TokenKind, _ text: String, _ range: SourceRange) {
        self.kind = kind
        self.text = text
        self.range = range
    }

    /// Whether this token is the keyword or punctuation `text`.
    public func isSymbol(_ symbol: String) -> Bool {
        (kind == .keyword || kind == .punctuation) && text == symbol
    }
}

/// Python's keywords: all are reserved, so that the parser can name unsupported features.
let pythonKeywords: Set<String> = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
]
