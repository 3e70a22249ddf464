import Foundation
import FilterLang
import FilterParser
import Testing

/// Prints the AST, reparses it and checks the reparsed tree is equal (and prints the same again).
private func checkRoundTrip(_ text: String, _ name: String) {
    let first = parse(text)
    #expect(first.diagnostics.isEmpty, "\(name) should parse: \(first.diagnostics)")
    let printed = ASTPrinter.print(first.module)
    let second = parse(printed)
    #expect(second.diagnostics.isEmpty, "\(name) printed text should parse:\n\(printed)\n\(second.diagnostics)")
    #expect(second.module == first.module, "\(name) round trip changed the tree:\n\(printed)")
    #expect(ASTPrinter.print(second.module) == printed, "\(name) printing is not stable")
}

@Test func examplesRoundTripThroughThePrinter() {
    let programs = examplePrograms()
    #expect(programs.count >= 10)
    for program in programs {
        checkRoundTrip(program.text, program.name)
    }
}

/// Inline programs covering every statement and expression form.
let inlinePrograms: [String] = [
    "min(values)",
    "values[4] * (sum(values) - values[4])",
    "-2 ** 2",
    "(-2) ** 2",
    "2 ** -1",
    "2 ** 3 ** 2",
    "(2 ** 3) ** 2",
    "a - (b - c)",
    "a - b - c",
    "a / (b * c)",
    "a // b % c",
    "not a and not (b or c)",
    "(a or b) and c",
    "a if b else c if d else e",
    "(a if b else c) if d else e",
    "0 < x <= 1 != y",
    "(a < b) < c",
    "-(-x)",
    "+x - -y",
    "not not x",
    "np.percentile(values, 50.0)",
    "values.shape[0] + values.size",
    "f(a, b)(c)[d].e",
    "1e-3 + .5 + 3.0 + 1_000 + 0x1F + 1e300 * 1e300",
    "0.1 + 0.2 + 1e-320 + 5e-324 + 1.7976931348623157e308",
    "123456789012345678 + 9223372036854775807",
    "True and False",
    "float('inf') + float(\"-inf\")",
    "-x ** -y",
    "(a, b)",
    "x if not y else -z",
    "(1).real + 1.5.imag + f(x=1, y=a if b else c)",
    "[1, (2, 3)][0]",
    "a[1:2] + a[:] + a[::2] + a[1:]",
    "\"quote\\\"d\" + 'tab\\t'",
    """
    import numpy as np
    import math
    from math import sqrt, pi as PI
    from numpy import (min, max,)

    @llc.jit_filter_function
    def f(values, t=-0.5, k=3, flag=True, big=np.inf):
        \"\"\"A docstring.\"\"\"
        total = 0.0
        a, b = b, a
        i = 0
        while i < len(values):
            if values[i] > t:
                total += values[i]
            elif values[i] < -t:
                total -= values[i]
            else:
                pass
            i += 1
            if i > 100: break
        for v in values:
            continue
        for j in range(0, 10, 2):
            total **= 1.0
            total //= 2
            total %= 7
            total *= 2; total /= 3
        buf = np.zeros(len(values))
        buf[0] += 1.0
        buf.sort()
        g(buf)
        return total
    """,
    """
    @line_filter
    def smooth(line, out):
        for i in range(len(out)):
            out[i] = line[i]
        return
    """,
    """
    def empty_body(x):
        \"\"\"Only a docstring.\"\"\"
    """,
]

@Test func inlineProgramsRoundTripThroughThePrinter() {
    for (index, program) in inlinePrograms.enumerated() {
        checkRoundTrip(dedent(program), "inline program \(index)")
    }
}

@Test func floatsPrintSoTheyReadBackExactly() {
    var generator = SplitMix64(seed: 0xF10A7)
    for _ in 0..<2000 {
        let value = Double(bitPattern: generator.next() & 0x7FFF_FFFF_FFFF_FFFF)
        guard value.isFinite else { continue }
        let text = ASTPrinter.formatFloat(value)
        guard let expression = parseExpression(text), case .float(let back) = expression.kind else {
            Issue.record("\(text) did not parse as a float literal")
            continue
        }
        #expect(back.bitPattern == value.bitPattern, "\(text)")
    }
}

/// Removes the common leading indentation of a multi-line literal.
func dedent(_ text: String) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let indents = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0.prefix { $0 == " " }.count }
    let common = indents.min() ?? 0
    return lines.map { $0.count >= common ? String($0.dropFirst(common)) : "" }.joined(separator: "\n")
}

/// A small deterministic generator (SplitMix64) for seeded tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Test func generatedExpressionsRoundTripThroughThePrinter() {
    // The CPython-checked expressions of scripts/expression_grouping.py, printed with the fewest parentheses.
    for (text, _) in expressionGroupingCases {
        checkRoundTrip(text, text)
    }
}
