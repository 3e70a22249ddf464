import FilterInterpreter
import FilterLang
import FilterSema
import Foundation
import Testing

/// Adversarial review: the deepest programs the front end accepts (100 chained helper calls, nesting
/// up to 100 inside each) run in the interpreter or stop with its depth error; none exhausts the stack.
@Suite struct DeepProgramTests {
    static func chain(_ count: Int = 99, parentheses: Int) -> String {
        var text = ""
        for i in 0..<count {
            text += "def h\(i)(x):\n    return " + String(repeating: "(", count: parentheses) + "h\(i + 1)(x) + 1"
                + String(repeating: ")", count: parentheses) + "\n\n"
        }
        return text + "def h\(count)(x):\n    return x\n\ndef f(values):\n    return h0(values[0])\n"
    }

    @Test func aLongHelperChainRunsAndTheLongestStopsCleanly() throws {
        // About four interpreter levels per call (function, return, +, call): 60 calls fit in its 400.
        let sixty = try FrontEnd.check(SourceFile(name: "<deep>", text: Self.chain(60, parentheses: 0)), function: "f").get()
        #expect(try Interpreter(program: sixty, stepBudget: 1_000_000).runFilter(values: [0.5]) == 60.5)
        let longest = try FrontEnd.check(SourceFile(name: "<deep>", text: Self.chain(99, parentheses: 0)), function: "f").get()
        do {
            #expect(try Interpreter(program: longest, stepBudget: 1_000_000).runFilter(values: [0.5]) == 99.5)
        } catch {
            #expect(error.message.contains("nests deeper than the interpreter's limit"), "\(error.message)")
        }
    }

    @Test func deepestAcceptedProgramStopsWithTheDepthErrorNotACrash() throws {
        let program = try FrontEnd.check(SourceFile(name: "<deep>", text: Self.chain(parentheses: 90)), function: "f").get()
        do {
            #expect(try Interpreter(program: program, stepBudget: 10_000_000).runFilter(values: [0.5]) == 99.5)
        } catch {
            #expect(error.message.contains("nests deeper than the interpreter's limit"), "\(error.message)")
        }
    }
}
