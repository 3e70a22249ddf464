import FilterLang
import FilterSema
import Testing

/// Adversarial review: long chains of helper calls.
@Suite struct HelperChainTests {
    /// `h0` calls `h1` ... calls `hN`, which returns `x`; the kernel calls `h0`.
    static func chain(_ count: Int, kernelFirst: Bool = false, base: String = "x") -> String {
        var helpers = ""
        for i in 0..<count { helpers += "def h\(i)(x):\n    return h\(i + 1)(x) + 1\n\n" }
        helpers += "def h\(count)(x):\n    return \(base)\n\n"
        let kernel = "def f(values):\n    return h0(values[0])\n\n"
        return kernelFirst ? kernel + helpers : helpers + kernel
    }

    @Test func chainsUpToTheDepthLimitTypeCheckInAnyDefinitionOrder() {
        // Chains longer than 63 used to run out of inference rounds: "'h1' does not return a value".
        for count in [63, 64, 80, 99] {
            for kernelFirst in [false, true] {
                let (program, errors) = compile(Self.chain(count, kernelFirst: kernelFirst), function: "f")
                #expect(program != nil, "chain of \(count), kernel first \(kernelFirst): \(errors.prefix(300))")
            }
        }
    }

    @Test func argumentTypesFlowDownALongChain() throws {
        // An int argument at the top: every helper's x is an int, and the last one returns a float (x / 2).
        let (program, errors) = compile(Self.chain(90, kernelFirst: true, base: "x / 2").replacingOccurrences(of: "h0(values[0])", with: "h0(3)"), function: "f")
        let checked = try #require(program, "\(errors.prefix(300))")
        #expect(checked.functions.count == 92)
    }

    @Test func tooDeepAChainIsOneErrorNotACrash() {
        // 30,000 helpers overflowed the stack of the recursive call-graph search (a crash).
        for count in [100, 30_000] {
            let lines = diagnosticLines(Self.chain(count), function: "f")
            #expect(lines.count == 1, "\(lines.prefix(3))")
            #expect(lines.first?.contains("helper calls nest \(count + 1) levels deep from 'f'; deeper than 100 levels is not supported") == true,
                    "\(lines.prefix(3))")
        }
    }

    @Test func recursionInsideALongChainIsStillReported() {
        let text = Self.chain(40).replacingOccurrences(of: "def h40(x):\n    return x", with: "def h40(x):\n    return h20(x)")
        let lines = diagnosticLines(text, function: "f")
        #expect(lines.contains { $0.contains("recursion is not supported: 'h20' -> 'h21'") }, "\(lines.prefix(3))")
    }
}

/// Adversarial review: run-time parameters travel as doubles, so an int default must be exact in one.
@Suite struct ParameterDefaultRangeTests {
    @Test func intDefaultsBeyondTwoToThe53AreCompileErrors() {
        for literal in ["9007199254740993", "9223372036854775807", "-9007199254740993"] {
            let lines = diagnosticLines("def f(values, k=\(literal)):\n    return k\n")
            #expect(lines.count == 1 && lines[0].contains("int default of parameter 'k' is beyond ±2^53"), "\(literal): \(lines)")
        }
        for literal in ["9007199254740992", "-9007199254740992", "3", "1e300"] {
            #expect(diagnosticLines("def f(values, k=\(literal)):\n    return k\n").isEmpty, "\(literal)")
        }
    }
}

@Suite struct ParameterCountTests {
    static func kernel(parameters: Int) -> String {
        "def f(values, " + (0..<parameters).map { "p\($0)=1.0" }.joined(separator: ", ") + "):\n    return values[0]\n"
    }

    @Test func moreThanTheParameterLimitIsOneCompileError() {
        // 20,000 parameters compiled for about 99 s (LLVM's optimiser); now a clear error before any code.
        #expect(diagnosticLines(Self.kernel(parameters: 1024)).isEmpty)
        let lines = diagnosticLines(Self.kernel(parameters: 20_000))
        #expect(lines.count == 1 && lines[0].contains("at most 1024 run-time parameters; 'f' has 20000"), "\(lines.prefix(2))")
    }
}
