// Loader for the language fixtures in Tests/Fixtures/programs/*.filter.
//
// Self-contained (Foundation and FilterLang only) so other test targets (the JIT's differential
// tests) can copy it unchanged. The format is written by scripts/make_language_fixtures.py:
//
//     # kind: filter | line_filter | transform
//     # function: NAME                                   (optional: the kernel to compile)
//     # case: values=[1.0, nan] params=[0.5] -> 1.0
//     # case: line=[1.0, 2.0, 3.0] out=2 -> [1.0, 2.0]
//     # case: out_coords=[1, 2] in_rank=2 -> [0.5, 1.0]
//     # case (by hand: REASON): values=[0.0] -> inf
//
// A result is a float, a list of floats, or `error`; a leading `~` accepts either zero where the
// expectation is a zero. No `params=` means the defaults. The whole file is the program's source.

import FilterLang
import Foundation

/// One fixture file: a program and the cases to run it on.
struct LanguageFixture: Sendable, CustomStringConvertible {
    /// The file name without `.filter`.
    var name: String
    /// The file's full text (the program; the fixture lines are comments to it).
    var source: String
    /// The kernel kind the cases are written for.
    var kind: KernelKind
    /// The kernel to compile, or nil for the default (the last `def`).
    var function: String?
    /// The cases, in file order.
    var cases: [FixtureCase]

    var description: String { name }
}

/// The input buffers of one case.
enum FixtureInput: Sendable, Equatable {
    /// A `@filter` window.
    case filter(values: [Double])
    /// A `@line_filter` extended line and the output length.
    case lineFilter(line: [Double], outputLength: Int)
    /// A `@transform` output coordinate and the input rank.
    case transform(outputCoordinates: [Int], inputRank: Int)
}

/// What a case expects.
enum FixtureExpectation: Sendable, Equatable {
    /// A run-time error.
    case error
    /// A `@filter` result; `eitherZero` accepts -0.0 for +0.0 and back.
    case value(Double, eitherZero: Bool)
    /// The `out` / `in_coords` array of a line filter or transform.
    case array([Double], eitherZero: Bool)
}

/// One `# case` line.
struct FixtureCase: Sendable, CustomStringConvertible {
    /// The 1-based line in the fixture file.
    var line: Int
    /// The buffers.
    var input: FixtureInput
    /// Run-time parameters in declaration order, or nil for the defaults.
    var parameters: [Double]?
    /// The expected outcome.
    var expected: FixtureExpectation
    /// Why the expectation was written by hand rather than taken from CPython, if it was.
    var handReason: String?
    /// The case line as written.
    var text: String

    var description: String { "line \(line): \(text)" }
}

/// A malformed fixture file.
struct FixtureFormatError: Error, CustomStringConvertible {
    var file: String
    var line: Int
    var message: String
    var description: String { "\(file):\(line): \(message)" }
}

/// Finds, reads and parses the fixture files.
enum FixtureLoader {
    /// `Tests/Fixtures/programs`, found from this source file's location.
    static var programsDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()   // FilterInterpreterTests
            .deletingLastPathComponent()   // Tests
            .appendingPathComponent("Fixtures/programs", isDirectory: true)
    }

    /// The fixture names (file names without `.filter`), sorted.
    static func fixtureNames() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: programsDirectory.path)) ?? []
        return files.filter { $0.hasSuffix(".filter") }.map { String($0.dropLast(".filter".count)) }.sorted()
    }

    /// Loads one fixture by name.
    static func load(_ name: String) throws -> LanguageFixture {
        let url = programsDirectory.appendingPathComponent(name + ".filter")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try parse(text, name: name)
    }

    /// Loads every fixture.
    static func loadAll() throws -> [LanguageFixture] {
        try fixtureNames().map { try load($0) }
    }

    /// Parses a fixture file's text.
    static func parse(_ text: String, name: String) throws -> LanguageFixture {
        var kind: KernelKind?
        var function: String?
        var cases: [FixtureCase] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let line = String(rawLine)
            let lineNumber = index + 1
            func fail(_ message: String) -> FixtureFormatError {
                FixtureFormatError(file: name, line: lineNumber, message: message)
            }
            if let value = line.removingPrefix("# kind:") {
                guard let parsed = KernelKind(rawValue: value.trimmed) else { throw fail("unknown kind '\(value.trimmed)'") }
                kind = parsed
            } else if let value = line.removingPrefix("# function:") {
                function = value.trimmed
            } else if line.hasPrefix("# case") {
                guard let kind else { throw fail("a case before '# kind:'") }
                cases.append(try parseCase(line, kind: kind, lineNumber: lineNumber, fail: fail))
            }
        }
        guard let kind else { throw FixtureFormatError(file: name, line: 1, message: "no '# kind:' line") }
        return LanguageFixture(name: name, source: text, kind: kind, function: function, cases: cases)
    }

    private static func parseCase(_ line: String, kind: KernelKind, lineNumber: Int,
                                  fail: (String) -> FixtureFormatError) throws -> FixtureCase {
        // The header ends at the first ': KEY=' (a hand reason may itself contain ':' and parentheses).
        let firstKey = ["values=", "line=", "out_coords="].compactMap { key in line.range(of: ": " + key) }
            .min { $0.lowerBound < $1.lowerBound }
        guard let firstKey, let arrow = line.range(of: " -> ", options: .backwards) else {
            throw fail("expected '# case: KEY=... -> RESULT'")
        }
        let header = line[line.startIndex..<firstKey.lowerBound]
        var handReason: String?
        if let open = header.range(of: "(by hand:") {
            handReason = String(header[open.upperBound...]).trimmed
            if handReason?.hasSuffix(")") == true { handReason?.removeLast() }
        }
        let body = String(line[line.index(firstKey.lowerBound, offsetBy: 2)..<arrow.lowerBound])
        let resultText = String(line[arrow.upperBound...]).trimmed
        let fields = try parseFields(body, fail: fail)

        func floats(_ key: String) throws -> [Double] {
            guard let value = fields[key] else { throw fail("missing '\(key)='") }
            return try parseFloatList(value, fail: fail)
        }
        func integer(_ key: String) throws -> Int {
            guard let value = fields[key], let n = Int(value) else { throw fail("missing or bad '\(key)='") }
            return n
        }
        let input: FixtureInput
        switch kind {
        case .filter:
            input = .filter(values: try floats("values"))
        case .lineFilter:
            input = .lineFilter(line: try floats("line"), outputLength: try integer("out"))
        case .transform:
            guard let value = fields["out_coords"] else { throw fail("missing 'out_coords='") }
            let coordinates = try parseFloatList(value, fail: fail).map { v -> Int in
                guard let n = Int(exactly: v) else { return Int.min }
                return n
            }
            guard !coordinates.contains(Int.min) else { throw fail("out_coords must be ints") }
            input = .transform(outputCoordinates: coordinates, inputRank: try integer("in_rank"))
        case .arrayFunction:
            throw fail("array functions have no language fixtures (ArrayFunctionTests)")
        }
        let parameters = try fields["params"].map { try parseFloatList($0, fail: fail) }

        var expected: FixtureExpectation
        var result = Substring(resultText)
        let eitherZero = result.hasPrefix("~")
        if eitherZero { result = result.dropFirst() }
        if result == "error" {
            expected = .error
        } else if result.hasPrefix("[") {
            expected = .array(try parseFloatList(String(result), fail: fail), eitherZero: eitherZero)
        } else {
            guard let value = parseFloat(String(result)) else { throw fail("bad result '\(result)'") }
            expected = .value(value, eitherZero: eitherZero)
        }
        return FixtureCase(line: lineNumber, input: input, parameters: parameters, expected: expected,
                           handReason: handReason, text: line)
    }

    /// Splits `key=value key=[a, b] ...` into a dictionary.
    private static func parseFields(_ body: String, fail: (String) -> FixtureFormatError) throws -> [String: String] {
        var fields: [String: String] = [:]
        var rest = Substring(body)
        while true {
            rest = rest.drop { $0 == " " }
            if rest.isEmpty { break }
            guard let equals = rest.firstIndex(of: "=") else { throw fail("expected KEY=VALUE in '\(rest)'") }
            let key = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            let end: String.Index
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw fail("unclosed '[' after '\(key)='") }
                end = rest.index(after: close)
            } else {
                end = rest.firstIndex(of: " ") ?? rest.endIndex
            }
            fields[key] = String(rest[..<end])
            rest = rest[end...]
        }
        return fields
    }

    /// Parses `[a, b, ...]` of float tokens.
    static func parseFloatList(_ text: String, fail: (String) -> FixtureFormatError) throws -> [Double] {
        let trimmed = text.trimmed
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else { throw fail("expected a list, got '\(text)'") }
        let inner = trimmed.dropFirst().dropLast()
        if inner.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        return try inner.split(separator: ",").map { token in
            guard let value = parseFloat(String(token).trimmed) else { throw fail("bad number '\(token)'") }
            return value
        }
    }

    /// Parses a float token: a Python repr, `nan`, `inf`, `-inf`, `-0.0`.
    static func parseFloat(_ token: String) -> Double? {
        switch token {
        case "nan": return .nan
        case "inf": return .infinity
        case "-inf": return -.infinity
        default: return Double(token)
        }
    }

    /// Bit-for-bit equality, except that NaN equals NaN and, with `eitherZero`, -0.0 equals +0.0.
    static func matches(_ actual: Double, _ expected: Double, eitherZero: Bool) -> Bool {
        if actual.isNaN || expected.isNaN { return actual.isNaN && expected.isNaN }
        if eitherZero && actual == 0 && expected == 0 { return true }
        return actual.bitPattern == expected.bitPattern
    }

    /// Whether an outcome (a value, an array or an error message) matches the expectation.
    static func matches(_ outcome: Result<[Double], KernelRuntimeError>, _ expected: FixtureExpectation) -> Bool {
        switch (outcome, expected) {
        case (.failure, .error): return true
        case (.success(let values), .value(let value, let eitherZero)):
            return values.count == 1 && matches(values[0], value, eitherZero: eitherZero)
        case (.success(let values), .array(let array, let eitherZero)):
            return values.count == array.count && zip(values, array).allSatisfy { matches($0, $1, eitherZero: eitherZero) }
        default: return false
        }
    }
}

private extension String {
    func removingPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
