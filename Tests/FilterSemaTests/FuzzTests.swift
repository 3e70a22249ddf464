import FilterLang
import FilterParser
import FilterSema
import Foundation
import Testing

/// A small deterministic generator (SplitMix64) so a failing seed can be replayed.
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

/// Checks one input end to end: it either compiles or yields diagnostics inside the text that render.
private func checkSurvives(_ text: String, seed: UInt64, case number: Int) -> Bool {
    let file = SourceFile(name: "<fuzz>", text: text)
    // Whatever parses cleanly must also survive the printer round trip.
    let parsed = Parser.parse(file)
    if parsed.diagnostics.isEmpty {
        let printed = ASTPrinter.print(parsed.module)
        let reparsed = Parser.parse(SourceFile(name: "<printed>", text: printed))
        if !reparsed.diagnostics.isEmpty || reparsed.module != parsed.module {
            Issue.record("seed \(seed) case \(number): round trip failed for \(text.debugDescription) printed as \(printed.debugDescription)")
        }
    }
    switch FrontEnd.check(file) {
    case .success(let program):
        let problems = TypedIRVerifier.verify(program)
        if !problems.isEmpty {
            Issue.record("seed \(seed) case \(number): typed IR of \(text.debugDescription) breaks the contract: \(problems)")
        }
        return true
    case .failure(let error):
        guard !error.diagnostics.isEmpty else {
            Issue.record("seed \(seed) case \(number): failure without diagnostics for \(text.debugDescription)")
            return false
        }
        for diagnostic in error.diagnostics {
            if diagnostic.range.start < 0 || diagnostic.range.end > file.bytes.count || diagnostic.range.start > diagnostic.range.end {
                Issue.record("seed \(seed) case \(number): range \(diagnostic.range) outside the text of \(file.bytes.count) bytes for \(text.debugDescription)")
                return false
            }
        }
        _ = error.description  // Rendering must not trap either.
        return false
    }
}

private let fragments: [String] = [
    "def", "f", "(", ")", ":", "\n", "    ", "\t", "values", "return", "for", "in", "range", "if", "elif", "else", "while",
    "break", "continue", "pass", "=", "+=", "+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", "and", "or", "not",
    "[", "]", ",", ".", "np", "min", "sum", "len", "x", "y", "1", "2.5", "1e3", "True", "False", "@filter", "lambda", "class",
    "'s'", "#c", "import", "numpy", "as", "math", "inf", "nan", "@", "&", "{", "}", "\\\n", "sorted", "copy", "sort",
    "out", "line", "@line_filter", "@transform", "9999999999999999999999", ".5", "_", "é", ";", "yield", "try", "is", "None",
]

private let seeds: [String] = [
    "min(values)",
    "def f(values, t=0.5):\n    s = 0.0\n    for v in values:\n        if v > t:\n            s += v\n    return s\n",
    "@line_filter\ndef g(line, out):\n    for i in range(len(out)):\n        out[i] = line[i] * 2\n",
    "def h(a, b):\n    return a if a < b else b\n\ndef f(values):\n    x = 0\n    while x < 3:\n        x += 1\n    return h(values[0], x)\n",
    "@transform\ndef s(out_coords, in_coords, o=0.5):\n    for d in range(len(out_coords)):\n        in_coords[d] = out_coords[d] + o\n",
    "def f(values):\n    b = np.zeros(len(values))\n    b[0] = values[-1]\n    b.sort()\n    return np.percentile(b, 50) + b.max() + floor(2.5) ** 2\n",
]

@Test func fuzzFrontEndNeverCrashesKeepsRangesInsideTheTextAndRoundTrips() {
    let seed = ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000)
    print("fuzzFrontEnd seed: \(seed) (replay with FILTERJIT_FUZZ_SEED=\(seed))")
    var generator = SplitMix64(seed: seed)
    var compiled = 0
    let count = 12_000
    for number in 0..<count {
        var text = ""
        switch number % 3 {
        case 0:
            // Random bytes from a mix of ASCII and a few multi-byte scalars, decoded leniently.
            let length = Int.random(in: 0..<60, using: &generator)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                bytes.append(Bool.random(using: &generator) ? UInt8.random(in: 32..<127, using: &generator) : [10, 9, 32, 40, 41, 58, 0xC3, 0xA9].randomElement(using: &generator) ?? 32)
            }
            text = String(decoding: bytes, as: UTF8.self)
        case 1:
            // Random token sequences.
            let length = Int.random(in: 0..<40, using: &generator)
            for _ in 0..<length {
                text += fragments.randomElement(using: &generator) ?? ""
                if Bool.random(using: &generator) { text += " " }
            }
        default:
            // Mutations of valid programs: delete, duplicate or insert a fragment.
            var characters = Array(seeds.randomElement(using: &generator) ?? "")
            for _ in 0..<Int.random(in: 1...3, using: &generator) where !characters.isEmpty {
                let position = Int.random(in: 0..<characters.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: characters.remove(at: position)
                case 1: characters.insert(characters[position], at: position)
                default: characters.insert(contentsOf: Array(fragments.randomElement(using: &generator) ?? ""), at: position)
                }
            }
            text = String(characters)
        }
        if checkSurvives(text, seed: seed, case: number) { compiled += 1 }
    }
    print("fuzzFrontEnd: \(count) inputs, \(compiled) compiled")
    // The mutations of valid programs must leave a good share compiling, or the fuzzer tests nothing useful.
    #expect(compiled > count / 100)
}

@Test func deepNestingIsADiagnosticNotACrash() {
    let cases = [
        String(repeating: "(", count: 10_000),
        String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000),
        String(repeating: "-", count: 10_000) + "1",
        String(repeating: "not ", count: 10_000) + "x",
        String(repeating: "[", count: 10_000),
        "values[0]" + String(repeating: " + 1", count: 10_000),
        "f" + String(repeating: "(1)", count: 10_000),
        "2" + String(repeating: " ** 2", count: 10_000),
        "x" + String(repeating: " if x else x", count: 5_000),
        // Parentheses each allow a fresh chain, so only the tree depth catches this one.
        (0..<60).reduce("x") { inner, _ in "(" + inner + String(repeating: " * x", count: 40) + ")" },
        (0..<60).reduce("x") { inner, _ in "(" + inner + String(repeating: ".y", count: 40) + ")" },
        "def f(values):\n    if values[0] > 0:\n        pass\n" + String(repeating: "    elif values[0] > 1:\n        pass\n", count: 5_000) + "    return 1.0\n",
        "def f(values):\n" + (1...300).map { String(repeating: " ", count: $0 * 2) + "if True:\n" }.joined() + String(repeating: " ", count: 602) + "return 1.0\n",
    ]
    for text in cases {
        let lines = diagnosticLines(text)
        #expect(lines.contains { $0.contains("nesting deeper than 100 levels") }, "\(text.prefix(40))...: \(lines.prefix(3))")
    }
}

@Test func nestingOfExactlyOneHundredLevelsIsAcceptedAndOneMoreIsNot() {
    // The whole expression is level 1; each parenthesised expression inside adds one.
    let accepted = String(repeating: "(", count: 99) + "1" + String(repeating: ")", count: 99)
    let (program, errors) = compile(accepted)
    #expect(program != nil, "\(errors)")
    let rejected = "(" + accepted + ")"
    #expect(diagnosticLines(rejected) == ["1:101: error: nesting deeper than 100 levels is not supported"])
}

/// Random well-formed programs (mostly well-typed), to drive Sema through many type combinations;
/// each one that checks must pass the typed IR verifier.
private struct ProgramGenerator {
    var random: SplitMix64
    let names = ["a", "b", "n", "flag"]

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }

    mutating func expression(_ depth: Int) -> String {
        if depth <= 0 || Int.random(in: 0..<4, using: &random) == 0 {
            return pick(["1", "0", "2.5", "-3", "True", "False", "values[0]", "values[-1]", "len(values)", "a", "b", "n", "flag", "np.pi", "inf"])
        }
        let x = expression(depth - 1)
        let y = expression(depth - 1)
        switch Int.random(in: 0..<16, using: &random) {
        case 0: return "(\(x) \(pick(["+", "-", "*", "/", "//", "%"])) \(y))"
        case 1: return "(\(x) ** \(pick(["2", "0", "-1", "0.5", y])))"
        case 2: return "(\(x) \(pick(["<", "<=", "==", "!="])) \(y) \(pick(["<", ">"])) 1)"
        case 3: return "(\(x) \(pick(["and", "or"])) \(y))"
        case 4: return "(not \(x))"
        case 5: return "(-\(x))"
        case 6: return "(\(x) if \(y) else \(expression(depth - 1)))"
        case 7: return "\(pick(["min", "max", "np.minimum", "np.fmax", "pow", "math.atan2", "math.hypot"]))(\(x), \(y))"
        case 8: return "\(pick(["abs", "floor", "ceil", "round", "int", "float", "math.sqrt", "np.floor", "isnan", "math.trunc", "bool"]))(\(x))"
        case 9: return "\(pick(["sum", "min", "np.min", "np.mean", "median", "np.std", "np.argmax", "any", "np.nansum", "len"]))(values)"
        case 10: return "values[int(\(x)) % len(values)]"
        case 11: return "np.clip(\(x), \(y), 3)"
        case 12: return "np.percentile(values, \(pick(["50", "25.5", "n"])))"
        case 13: return "helper(\(x), \(y))"
        case 14: return "values.\(pick(["max", "mean", "argmin", "sum", "prod"]))()"
        default: return "\(x) + \(y)"
        }
    }

    mutating func block(_ indent: String, _ depth: Int) -> [String] {
        var lines: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            switch Int.random(in: 0..<9, using: &random) {
            case 0, 1, 2: lines.append(indent + "\(pick(names)) \(pick(["=", "+=", "-=", "*="])) \(expression(2))")
            case 3 where depth > 0:
                lines.append(indent + "if \(expression(2)):")
                lines += block(indent + "    ", depth - 1)
                if Bool.random(using: &random) {
                    lines.append(indent + "else:")
                    lines += block(indent + "    ", depth - 1)
                }
            case 4 where depth > 0:
                lines.append(indent + "for \(pick(["i", "n"])) in range(\(pick(["3", "len(values)", "1, 4", "0, 9, 2"]))):")
                lines += block(indent + "    ", depth - 1)
            case 5 where depth > 0:
                lines.append(indent + "for \(pick(["v", "b"])) in \(pick(["values", "buf", "sorted(values)"])):")
                lines += block(indent + "    ", depth - 1)
                lines.append(indent + "    " + pick(["break", "continue", "pass"]))
            case 6 where depth > 0 && Bool.random(using: &random):
                lines.append(indent + "while \(pick(["True", "1", "n < 3", "flag"])):")
                lines += block(indent + "    ", depth - 1)
                lines.append(indent + "    " + pick(["break", "n += 1", "if a > b:\n\(indent)        break"]))
            case 6: lines.append(indent + "buf[\(pick(["0", "n", "-1"]))] \(pick(["=", "+="])) \(expression(1))")
            case 7: lines.append(indent + "a, b = b, a")
            default: lines.append(indent + "return \(expression(2))")
            }
        }
        return lines
    }

    mutating func program() -> String {
        var lines = ["def helper(x, y):", "    return x * y if x else y", "", "def kernel(values, t=0.5, k=2):",
                     "    a = 0.0", "    b = 1", "    n = 0", "    flag = True", "    buf = np.zeros(len(values))"]
        lines += block("    ", 2)
        lines.append("    return \(expression(2))")
        return lines.joined(separator: "\n") + "\n"
    }
}

@Test func randomWellFormedProgramsThatCheckKeepTheTypedIRContract() {
    let seed = ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000)
    print("randomPrograms seed: \(seed) (replay with FILTERJIT_FUZZ_SEED=\(seed))")
    var generator = ProgramGenerator(random: SplitMix64(seed: seed))
    var compiled = 0
    let count = 1_500
    for number in 0..<count {
        if checkSurvives(generator.program(), seed: seed, case: number) { compiled += 1 }
    }
    print("randomPrograms: \(count) programs, \(compiled) compiled")
    #expect(compiled > count / 4)
}
