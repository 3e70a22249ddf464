import FilterLang
import FilterSema
import Foundation
import Testing
import FilterInterpreter

/// SplitMix64, so a failing seed replays exactly.
private struct FuzzRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}

/// Tokens spliced into programs: keywords, operators, names, numbers and layout.
private let vocabulary = [
    "values", "line", "out", "len(values)", "0", "1", "-1", "2.5", "1e308", "-0.0", "nan", "inf", "np.inf",
    "+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", " and ", " or ", "not ", "(", ")", "[", "]",
    ",", ":", "=", "+=", "\n", "\n    ", "\n        ", "if ", "elif ", "else:", "while ", "for ", " in ",
    "range(", "break", "continue", "return ", "pass", "def ", "min(", "np.median(", "np.sum(", "sorted(",
    "np.zeros(", "x", "i", "True", "False", " if ", " else ", "int(", "round(", "abs(", "np.percentile(",
    // Issue 13's forms: literals, slices, masks, array expressions, NumPy functions, module constants.
    "[0, 1, 2]", "(1, 2, 1)", "[]", "::", "::-1", "-3:", "values > 0", "values - values.mean()", ".astype(int)",
    ".mean()", "np.where(", "np.unique(", "np.histogram(", "np.bincount(", "np.array(", "np.cumsum(", "np.ptp(",
    "np.average(", ", weights=", ", return_counts=True", ", bins=4", ", range=(0, 4)", "K = ", "\nK = [1, 2]\n",
    "hist, _ = ", "values[[0, -1]]", "np.abs(", "np.sqrt(",
]

@Suite struct MutationFuzzTests {
    /// Mutations of every example and fixture program: each is accepted or rejected with diagnostics
    /// inside the text, and every accepted one is interpreted on random buffers under a step budget,
    /// ending in a value or a run-time error, never a crash or a hang.
    @Test func mutatedProgramsCheckOrFailCleanlyAndAcceptedOnesRunUnderABudget() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_SEED"] ?? "") ?? UInt64(Date().timeIntervalSince1970)
        print("MutationFuzzTests seed: \(seed) (replay with FILTERJIT_FUZZ_SEED=\(seed))")
        var random = FuzzRandom(state: seed)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var corpus: [String] = []
        for folder in ["examples", "Tests/Fixtures/programs"] {
            let directory = root.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasSuffix(".filter") {
                corpus.append(try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
            }
        }
        #expect(corpus.count > 100)
        var accepted = 0
        for number in 0..<4_000 {
            var bytes = Array(corpus[random.below(corpus.count)].utf8)
            for _ in 0..<(1 + random.below(3)) {
                let at = random.below(bytes.count + 1)
                switch random.below(4) {
                case 0: bytes.insert(contentsOf: Array(vocabulary[random.below(vocabulary.count)].utf8), at: at)
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(8)))
                case 2 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: random.next())
                default:
                    let end = min(bytes.count, at + random.below(40))
                    bytes.insert(contentsOf: Array(bytes[at..<end]), at: end)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let file = SourceFile(name: "<fuzz>", text: text)
            switch FrontEnd.check(file) {
            case .failure(let error):
                #expect(!error.diagnostics.isEmpty, "seed \(seed) case \(number): rejected without diagnostics")
                for diagnostic in error.diagnostics {
                    #expect(diagnostic.range.start >= 0 && diagnostic.range.end <= file.bytes.count,
                            "seed \(seed) case \(number): diagnostic outside the text: \(diagnostic)")
                }
            case .success(let program):
                accepted += 1
                let interpreter = Interpreter(program: program, stepBudget: 20_000)
                let buffer = (0..<(random.below(12))).map { _ in Double(Int(random.next() % 2001) - 1000) / 10 }
                switch program.kind {
                case .filter: _ = try? interpreter.runFilter(values: buffer)
                case .lineFilter: _ = try? interpreter.runLineFilter(line: buffer + [0, 0], outputLength: buffer.count)
                case .transform: _ = try? interpreter.runTransform(outputCoordinates: buffer.map { Int($0) }, inputRank: 2)
                case .arrayFunction: break
                }
            }
        }
        print("MutationFuzzTests: \(accepted) of 4000 mutated programs checked and were interpreted")
    }
}
