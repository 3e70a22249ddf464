import Testing
import Foundation
import FilterLang
import FilterInterpreter
@testable import FilterJIT

/// `np.histogram` over a range wider than the largest double: NumPy raises "Too many bins for data
/// range"; the JIT's runtime had trapped on converting the NaN bin position to an integer (found by a
/// clean-run test crash), and must now fail like the interpreter.
@Suite struct HistogramRangeTests {
    @Test func aRangeWiderThanTheLargestDoubleFailsOnBothBackEndsWithNumPysWords() throws {
        let kernel = try Engine().compile("""
            def f(values):
                a = np.array([-1e308, 1e308, 0.0, 5e307])
                hist, _ = np.histogram(a, bins=4)
                return hist[0] * 10 + hist[3]
            """)
        do {
            _ = try kernel.callFilter(values: [1, 2, 3])
            Issue.record("the JIT accepted it")
        } catch let error as KernelRuntimeError {
            #expect(error.message.contains("Too many bins for data range"), "\(error.message)")
        }
        do {
            _ = try Interpreter(program: kernel.program).runFilter(values: [1, 2, 3])
            Issue.record("the interpreter accepted it")
        } catch {
            #expect(error.message.contains("Too many bins for data range"), "\(error.message)")
        }
    }
}
