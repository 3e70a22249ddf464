import Foundation
import Testing

/// Reads `name ::= rhs ;` rules from the grammar and `/// name: rhs` doc lines from the parser.
private func grammarRules() throws -> [String: String] {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("grammar/filter.ebnf"), encoding: .utf8)
    var rules: [String: String] = [:]
    for line in text.split(separator: "\n") {
        guard let separator = line.range(of: " ::= "), line.hasSuffix(" ;") else { continue }
        let name = String(line[..<separator.lowerBound])
        guard name.allSatisfy({ $0.isLowercase || $0 == "_" }) else { continue }
        rules[name] = normalized(String(line[separator.upperBound...].dropLast(2)))
    }
    return rules
}

private func parserRuleComments() throws -> [String: String] {
    let directory = repositoryRoot.appendingPathComponent("Sources/FilterParser")
    var rules: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".swift") {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("/// "), let colon = trimmed.range(of: ": ") else { continue }
            let ruleName = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 4)..<colon.lowerBound]
            guard !ruleName.isEmpty, ruleName.allSatisfy({ $0.isLowercase || $0 == "_" }) else { continue }
            rules[String(ruleName)] = normalized(String(trimmed[colon.upperBound...]))
        }
    }
    return rules
}

private func normalized(_ text: String) -> String {
    text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
}

@Test func grammarAndParserNameTheSameRules() throws {
    let grammar = try grammarRules()
    let parser = try parserRuleComments()
    #expect(grammar.count >= 30)
    #expect(Set(grammar.keys).subtracting(parser.keys).sorted() == [], "rules in the grammar without a parse function")
    #expect(Set(parser.keys).subtracting(grammar.keys).sorted() == [], "parse functions whose rule is not in the grammar")
}

@Test func parserRuleCommentsMatchTheGrammarText() throws {
    let grammar = try grammarRules()
    let parser = try parserRuleComments()
    for (name, production) in grammar {
        if let comment = parser[name] {
            #expect(comment == production, "rule \(name)")
        }
    }
}
