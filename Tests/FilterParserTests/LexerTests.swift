import FilterLang
@testable import FilterParser
import Testing

private func lex(_ text: String) -> (tokens: [Token], errors: [String]) {
    let file = SourceFile(name: "<test>", text: text)
    let (tokens, diagnostics) = Lexer.tokenize(file)
    return (tokens, diagnostics.map { "\(file.location(of: $0.range.start).line):\(file.location(of: $0.range.start).column): \($0.message)" })
}

private func kinds(_ text: String) -> [String] {
    lex(text).tokens.map { token in
        switch token.kind {
        case .newline: return "NL"
        case .indent: return "INDENT"
        case .dedent: return "DEDENT"
        case .endOfFile: return "EOF"
        default: return token.text
        }
    }
}

@Test func tokensCarryByteOffsets() {
    let (tokens, errors) = lex("x = 1.5  # note\ny")
    #expect(errors.isEmpty)
    #expect(tokens.map(\.kind) == [.name, .punctuation, .float, .newline, .name, .newline, .endOfFile])
    #expect(tokens.map(\.range) == [SourceRange(0, 1), SourceRange(2, 3), SourceRange(4, 7), SourceRange(15, 16), SourceRange(16, 17), SourceRange(17, 17), SourceRange(17, 17)])
    // Multi-byte scalars count as one column in diagnostics but several bytes in ranges.
    let (accented, _) = lex("é = 1")
    #expect(accented[1].range == SourceRange(3, 4))
}

@Test func indentationBecomesIndentAndDedentTokens() {
    let text = "def f(v):\n    if v:\n\n        # comment only\n        x = 1\n    return x\n"
    #expect(kinds(text) == ["def", "f", "(", "v", ")", ":", "NL", "INDENT", "if", "v", ":", "NL", "INDENT", "x", "=", "1", "NL",
                            "DEDENT", "return", "x", "NL", "DEDENT", "EOF"])
}

@Test func linesJoinInsideBracketsAndAfterABackslash() {
    #expect(kinds("f(1,\n  2)\n") == ["f", "(", "1", ",", "2", ")", "NL", "EOF"])
    #expect(kinds("x = 1 + \\\n    2\n") == ["x", "=", "1", "+", "2", "NL", "EOF"])
    #expect(kinds("a[\n0]\n") == ["a", "[", "0", "]", "NL", "EOF"])
}

@Test func numberLiterals() {
    let (tokens, errors) = lex("1_000 .5 1e-3 3.0 0x1F 0b101 0o17 9223372036854775807 2E+2 5.")
    #expect(errors.isEmpty)
    #expect(tokens[0].integerValue == 1000)
    #expect(tokens[1].floatValue == 0.5)
    #expect(tokens[2].floatValue == 1e-3)
    #expect(tokens[3].kind == .float && tokens[3].floatValue == 3)
    #expect(tokens[4].integerValue == 31)
    #expect(tokens[5].integerValue == 5)
    #expect(tokens[6].integerValue == 15)
    #expect(tokens[7].integerValue == Int64.max)
    #expect(tokens[8].floatValue == 200)
    #expect(tokens[9].floatValue == 5)
}

@Test func badNumberLiteralsAreErrors() {
    #expect(lex("9223372036854775808").errors == ["1:1: integer literal '9223372036854775808' is outside the 64-bit range"])
    #expect(lex("1__0").errors == ["1:1: invalid number literal '1__0'"])
    #expect(lex("1_").errors == ["1:1: invalid number literal '1_'"])
    #expect(lex("3x").errors == ["1:1: invalid number literal '3x'"])
    #expect(lex("007").errors == ["1:1: leading zeros in an integer literal are not allowed; write 0o for octal"])
    #expect(lex("0x").errors == ["1:1: invalid number literal '0x'"])
}

@Test func stringsAndFStrings() {
    let (tokens, errors) = lex("'a\\'b' \"\"\"doc\nstring\"\"\" f'x' r'\\n'")
    #expect(errors.isEmpty)
    #expect(tokens[0].stringValue == "a'b")
    #expect(tokens[1].stringValue == "doc\nstring")
    #expect(tokens[2].isFormatString)
    #expect(tokens[3].stringValue == "\\n")
    #expect(lex("'open").errors == ["1:1: unterminated string literal"])
}

@Test func mixedTabsAndSpacesAreAnError() {
    #expect(lex("def f(v):\n    x = 1\n\treturn x\n").errors == ["3:1: mixed tabs and spaces in indentation"])
    #expect(lex("def f(v):\n \tx = 1\n").errors == ["2:1: mixed tabs and spaces in indentation"])
    #expect(lex("def f(v):\n\tif v:\n\t\treturn 1\n\treturn 0\n").errors.isEmpty)
}

@Test func carriageReturnLineEndingsWork() {
    #expect(kinds("def f(v):\r\n    return 1\r\n") == ["def", "f", "(", "v", ")", ":", "NL", "INDENT", "return", "1", "NL", "DEDENT", "EOF"])
}

@Test func unexpectedCharactersAreReportedWithTheirColumn() {
    #expect(lex("é $ ?").errors == ["1:3: unexpected character '$'", "1:5: unexpected character '?'"])
    #expect(lex("x → y").errors == ["1:3: unexpected character '→'"])
    #expect(lex("x\u{00A0}= 1").errors == ["1:2: unexpected character U+00A0"])
    #expect(lex("x\u{0}= 1").errors == ["1:2: unexpected character U+0000"])
    #expect(lex("x\u{200B}= 1").errors == ["1:2: unexpected character U+200B"])
    #expect(lex("größe = 1").tokens.first?.text == "größe")
}

@Test func aLeadingByteOrderMarkIsSkipped() {
    let (tokens, errors) = lex("\u{FEFF}x = 1\n")
    #expect(errors.isEmpty)
    #expect(tokens.first?.text == "x")
    #expect(tokens.first?.range == SourceRange(3, 4))
}

/// Adversarial review: CPython resets the indentation count at a form feed (page breaks in old sources).
@Test func formFeedInIndentationResetsTheCountAsCPythonDoes() {
    #expect(lex("\u{0C}def f(values):\n    return 1\n").errors.isEmpty)
    #expect(lex("def f(values):\n\u{0C}    return 1\n").errors.isEmpty)
    #expect(kinds("def f(values):\n  \u{0C}    x = 1\n    return x\n").filter { $0 == "INDENT" || $0 == "DEDENT" }.count == 2)
    // What follows the form feed still has to line up.
    #expect(!lex("def f(values):\n    x = 1\n\u{0C}  return x\n").errors.isEmpty)
}
