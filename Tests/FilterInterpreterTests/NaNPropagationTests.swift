import Testing
@testable import FilterInterpreter

@Suite struct NaNPropagationTests {
    /// np.minimum/np.maximum return the NaN operand itself, as NumPy's loop does, so its sign bit
    /// reaches `copysign` the same way in the interpreter and in generated code (found by the
    /// differential fuzzer, seed 1795904145211).
    @Test func minimumAndMaximumReturnTheNaNOperand() {
        let negativeNaN = -Double.nan
        #expect(Numerics.minimum(negativeNaN, 1).sign == .minus)
        #expect(Numerics.minimum(1, negativeNaN).sign == .minus)
        #expect(Numerics.maximum(negativeNaN, 1).sign == .minus)
        #expect(Numerics.clip(0.5, 0, negativeNaN).sign == .minus)
        #expect(Numerics.minimum(0.0, -0.0).sign == .plus)
        #expect(Numerics.maximum(-0.0, 0.0).sign == .minus)
    }
}
