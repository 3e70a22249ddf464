import FilterLang
@testable import FilterParser
import Testing

@Test func lexerPlaceholderCompiles() {
    let (tokens, diagnostics) = Lexer.tokenize(SourceFile(name: "t", text: "x = 1\n"))
    #expect(diagnostics.isEmpty)
    #expect(tokens.map(\.kind) == [.name, .punctuation, .integer, .newline, .endOfFile])
}
