import FilterLang

/// The reference semantics: runs a checked kernel on Swift buffers. (Contract stub: replaced by the interpreter work.)
public final class Interpreter: @unchecked Sendable {
    /// The program it runs.
    public let program: TypedProgram
    /// Loop iterations allowed per kernel call before it fails with a step-budget error.
    public let stepBudget: Int

    /// Creates an interpreter for a checked program.
    public init(program: TypedProgram, stepBudget: Int = 100_000_000) {
        self.program = program
        self.stepBudget = stepBudget
    }

    /// Runs a `@filter` kernel on one window. `parameters`: run-time parameters in declaration order, nil for the defaults.
    public func runFilter(values: [Double], parameters: [Double]? = nil) throws(KernelRuntimeError) -> Double {
        throw KernelRuntimeError("interpreter not implemented yet", at: .none)
    }

    /// Runs a `@line_filter` kernel: `line` is the extended input line; returns `out` (zero-initialised, `outputLength` long).
    public func runLineFilter(line: [Double], outputLength: Int, parameters: [Double]? = nil) throws(KernelRuntimeError) -> [Double] {
        throw KernelRuntimeError("interpreter not implemented yet", at: .none)
    }

    /// Runs a `@transform` kernel: returns `in_coords` (zero-initialised, `inputRank` long).
    public func runTransform(outputCoordinates: [Int], inputRank: Int, parameters: [Double]? = nil) throws(KernelRuntimeError) -> [Double] {
        throw KernelRuntimeError("interpreter not implemented yet", at: .none)
    }
}
