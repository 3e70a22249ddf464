import FilterLang

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The reference semantics: a tree-walking interpreter that runs a checked kernel on Swift buffers.
///
/// It follows the doc comments of `TypedIR.swift` node by node. It never traps on user data:
/// int arithmetic wraps, conversions are checked, indices are bounds-checked, and every loop
/// iteration counts against `stepBudget`; each failure is a `KernelRuntimeError`.
public final class Interpreter: @unchecked Sendable {
    /// The program it runs.
    public let program: TypedProgram
    /// Loop iterations allowed per kernel call before it fails with a step-budget error.
    public let stepBudget: Int
    /// Whether every element of the arrays a built-in takes also counts as a step, so that the budget
    /// bounds a call's work and not only its loop iterations: a reduction over a large local array inside
    /// nested loops is one step per iteration otherwise (`np.std` of a len(values)**3 array in a loop ran
    /// for more than 15 minutes within a budget of 1,000,000 iterations). Off by default; the differential
    /// tests' oracle turns it on.
    public let chargesArrayElements: Bool

    /// Creates an interpreter for a checked program.
    public init(program: TypedProgram, stepBudget: Int = 100_000_000, chargesArrayElements: Bool = false) {
        self.program = program
        self.stepBudget = stepBudget
        self.chargesArrayElements = chargesArrayElements
    }

    /// Runs a `@filter` kernel on one window. `parameters`: run-time parameters in declaration order, nil for the defaults.
    public func runFilter(values: [Double], parameters: [Double]? = nil) throws(KernelRuntimeError) -> Double {
        try requireKind(.filter)
        let input = ArrayBox(floats: values, isWritable: false)
        var run = Execution(program: program, stepBudget: stepBudget, chargesArrayElements: chargesArrayElements)
        let result = try run.runKernel(arrays: [.array(input)], parameters: parameters)
        guard case .float(let value)? = result else {
            throw KernelRuntimeError("the filter kernel did not return a float", at: program.kernel.range)
        }
        return value
    }

    /// Runs a `@line_filter` kernel: `line` is the extended input line; returns `out` (zero-initialised, `outputLength` long).
    public func runLineFilter(line: [Double], outputLength: Int, parameters: [Double]? = nil) throws(KernelRuntimeError) -> [Double] {
        try requireKind(.lineFilter)
        guard outputLength >= 0 else {
            throw KernelRuntimeError("output length \(outputLength) is negative", at: program.kernel.range)
        }
        let input = ArrayBox(floats: line, isWritable: false)
        let output = ArrayBox(floats: [Double](repeating: 0, count: outputLength), isWritable: true)
        var run = Execution(program: program, stepBudget: stepBudget, chargesArrayElements: chargesArrayElements)
        _ = try run.runKernel(arrays: [.array(input), .array(output)], parameters: parameters)
        return output.floats
    }

    /// Runs a `@transform` kernel: returns `in_coords` (zero-initialised, `inputRank` long).
    public func runTransform(outputCoordinates: [Int], inputRank: Int, parameters: [Double]? = nil) throws(KernelRuntimeError) -> [Double] {
        try requireKind(.transform)
        guard inputRank >= 0 else {
            throw KernelRuntimeError("input rank \(inputRank) is negative", at: program.kernel.range)
        }
        let coordinates = ArrayBox(ints: outputCoordinates.map { Int64($0) })
        let output = ArrayBox(floats: [Double](repeating: 0, count: inputRank), isWritable: true)
        var run = Execution(program: program, stepBudget: stepBudget, chargesArrayElements: chargesArrayElements)
        _ = try run.runKernel(arrays: [.array(coordinates), .array(output)], parameters: parameters)
        return output.floats
    }

    /// Fails unless the program is a kernel of `kind` whose index is valid.
    private func requireKind(_ kind: KernelKind) throws(KernelRuntimeError) {
        guard program.functions.indices.contains(program.kernelIndex) else {
            throw KernelRuntimeError("the program has no kernel function", at: .none)
        }
        guard program.kind == kind else {
            throw KernelRuntimeError("the kernel is a @\(program.kind.rawValue), not a @\(kind.rawValue)", at: program.kernel.range)
        }
    }
}

// MARK: - Values

/// A one-dimensional array shared by reference (helpers see and make writes as in Python).
final class ArrayBox {
    /// Elements of a float array.
    var floats: [Double]
    /// Elements of an int array (`out_coords`); nil for float arrays.
    var ints: [Int64]?
    /// Whether stores are allowed (outputs and local arrays).
    let isWritable: Bool

    init(floats: [Double], isWritable: Bool) {
        self.floats = floats
        self.ints = nil
        self.isWritable = isWritable
    }

    init(ints: [Int64]) {
        self.floats = []
        self.ints = ints
        self.isWritable = false
    }

    var count: Int { ints?.count ?? floats.count }
}

/// A run-time value.
enum Value {
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case array(ArrayBox)
    /// An n-dimensional array of an array function (ArrayFunctionInterpreter.swift).
    case nd(NDBox)
}

/// How a statement finished.
enum Completion {
    case normal
    case breakLoop
    case continueLoop
    case returned(Value?)
}

// MARK: - Execution of one kernel call

/// The state of one kernel call: the step counter and the nesting depth.
struct Execution {
    let program: TypedProgram
    let stepBudget: Int
    /// Whether the arrays a built-in takes count against the budget too (`Interpreter.chargesArrayElements`).
    let chargesArrayElements: Bool
    /// Loop iterations (and, when charged, built-ins' array elements) so far in this kernel call.
    var steps = 0
    /// Elements of local arrays allocated so far in this kernel call (the JIT's arena keeps every one
    /// until the call ends, and so counts them all against `maximumLocalArrayElementsPerCall`).
    var allocatedElements = 0
    /// Current depth of nested calls, statements and expressions being evaluated.
    var nesting = 0
    /// The slots of the function now running (for the loop variables' conversions).
    var currentLocals: [LocalVariable] = []
    /// The lanes of the element-wise `map` bodies being evaluated, innermost last.
    var lanes: [[Value]] = []

    /// The deepest nesting of calls, statements and expressions the recursive evaluator accepts, so it
    /// cannot overflow even a 512 KB thread stack (a debug build overflows one at about 900 levels).
    /// The language limits nesting to 100 levels per statement and forbids recursion, so only hand-built
    /// programs or long chains of deeply nested helpers reach it; they get a run-time error, not a crash.
    static let maximumNesting = 400

    /// Enters one level of nesting, failing beyond `maximumNesting`.
    mutating func enter(at range: SourceRange) throws(KernelRuntimeError) {
        nesting += 1
        guard nesting <= Self.maximumNesting else {
            nesting -= 1
            throw KernelRuntimeError("the program nests deeper than the interpreter's limit of \(Self.maximumNesting) levels", at: range)
        }
    }

    init(program: TypedProgram, stepBudget: Int, chargesArrayElements: Bool = false) {
        self.program = program
        self.stepBudget = stepBudget
        self.chargesArrayElements = chargesArrayElements
    }

    mutating func runKernel(arrays: [Value], parameters: [Double]?) throws(KernelRuntimeError) -> Value? {
        let kernel = program.kernel
        var frame = [Value?](repeating: nil, count: kernel.locals.count)
        guard arrays.count <= frame.count else {
            throw KernelRuntimeError("the kernel has fewer slots than array parameters", at: kernel.range)
        }
        for (slot, array) in arrays.enumerated() { frame[slot] = array }
        if parameters == nil, let missing = program.parameters.first(where: \.isRequired) {
            throw KernelRuntimeError("parameter '\(missing.name)' has no default and no value was given", at: kernel.range)
        }
        let given = parameters ?? program.parameters.map(\.defaultValue)
        guard given.count >= program.parameters.count else {
            throw KernelRuntimeError("the kernel takes \(program.parameters.count) parameters but \(given.count) were given", at: kernel.range)
        }
        for (parameter, raw) in zip(program.parameters, given) {
            guard frame.indices.contains(parameter.slot) else {
                throw KernelRuntimeError("parameter '\(parameter.name)' has an invalid slot", at: kernel.range)
            }
            if parameter.type == .int {
                guard let value = Numerics.truncatedInt(raw) else {
                    throw KernelRuntimeError("parameter '\(parameter.name)' must be an int, got \(raw)", at: kernel.range)
                }
                frame[parameter.slot] = .int(value)
            } else {
                frame[parameter.slot] = .float(raw)
            }
        }
        currentLocals = kernel.locals
        return try call(kernel, frame: &frame)
    }

    mutating func call(_ function: TypedFunction, frame: inout [Value?]) throws(KernelRuntimeError) -> Value? {
        try enter(at: function.range)
        defer { nesting -= 1 }
        switch try execute(function.body, frame: &frame) {
        case .returned(let value?):
            guard let type = function.returnType else { return nil }
            return try coerce(value, to: type, at: function.range)
        case .returned(nil), .normal, .breakLoop, .continueLoop:
            if let type = function.returnType {
                throw KernelRuntimeError("'\(function.name)' ended without returning a \(type.rawValue)", at: function.range)
            }
            return nil
        }
    }

    // MARK: Statements

    mutating func execute(_ statements: [TStmt], frame: inout [Value?]) throws(KernelRuntimeError) -> Completion {
        for statement in statements {
            let completion = try execute(statement, frame: &frame)
            if case .normal = completion { continue }
            return completion
        }
        return .normal
    }

    mutating func countStep(at range: SourceRange) throws(KernelRuntimeError) {
        try countSteps(1, at: range)
    }

    /// Counts `count` steps (loop iterations, or array elements a built-in takes when they are charged).
    mutating func countSteps(_ count: Int, at range: SourceRange) throws(KernelRuntimeError) {
        steps += count
        if steps > stepBudget {
            let what = chargesArrayElements ? "steps (loop iterations and built-ins' array elements)" : "loop iterations"
            throw KernelRuntimeError("step budget of \(stepBudget) \(what) exhausted", at: range)
        }
    }

    mutating func execute(_ statement: TStmt, frame: inout [Value?]) throws(KernelRuntimeError) -> Completion {
        try enter(at: statement.range)
        defer { nesting -= 1 }
        return try executeUnguarded(statement, frame: &frame)
    }

    mutating func executeUnguarded(_ statement: TStmt, frame: inout [Value?]) throws(KernelRuntimeError) -> Completion {
        let range = statement.range
        switch statement.kind {
        case .expression(let expression):
            _ = try evaluateForEffect(expression, frame: &frame)
            return .normal

        case .assign(let targets, let values):
            guard targets.count == values.count else {
                throw KernelRuntimeError("assignment of \(values.count) values to \(targets.count) targets", at: range)
            }
            var results: [Value] = []
            results.reserveCapacity(values.count)
            for value in values { results.append(try evaluate(value, frame: &frame)) }
            for (target, value) in zip(targets, results) {
                switch target {
                case .local(let slot):
                    try checkSlot(slot, in: frame, at: range)
                    frame[slot] = value
                case .element(let arrayExpression, let indexExpression):
                    let box = try array(arrayExpression, frame: &frame)
                    let index = try int(indexExpression, frame: &frame)
                    guard box.isWritable, box.ints == nil else {
                        throw KernelRuntimeError("cannot store into a read-only array", at: arrayExpression.range)
                    }
                    let position = try resolve(index, count: box.count, at: indexExpression.range)
                    box.floats[position] = try floatValue(value, at: range)
                case .ndElement(let slot, let indices):
                    try storeElement(slot: slot, indices: indices, value: value, at: range, frame: &frame)
                }
            }
            return .normal

        case .ifStatement(let condition, let then, let orElse):
            return try execute(try bool(condition, frame: &frame) ? then : orElse, frame: &frame)

        case .whileLoop(let condition, let body):
            while try bool(condition, frame: &frame) {
                try countStep(at: range)
                switch try execute(body, frame: &frame) {
                case .normal, .continueLoop: continue
                case .breakLoop: return .normal
                case .returned(let value): return .returned(value)
                }
            }
            return .normal

        case .forRange(let slot, let startExpression, let stopExpression, let stepExpression, let body):
            let start = try int(startExpression, frame: &frame)
            let stop = try int(stopExpression, frame: &frame)
            let step = try int(stepExpression, frame: &frame)
            guard step != 0 else { throw KernelRuntimeError("range() step must not be zero", at: stepExpression.range) }
            try checkSlot(slot, in: frame, at: range)
            var counter = start
            while step > 0 ? counter < stop : counter > stop {
                try countStep(at: range)
                frame[slot] = try coerce(.int(counter), to: slotType(slot), at: range)
                switch try execute(body, frame: &frame) {
                case .normal, .continueLoop: break
                case .breakLoop: return .normal
                case .returned(let value): return .returned(value)
                }
                // Stop rather than wrap when the next value would leave the 64-bit range.
                let (next, overflow) = counter.addingReportingOverflow(step)
                if overflow { break }
                counter = next
            }
            return .normal

        case .forEach(let slot, let arrayExpression, let body):
            let box = try array(arrayExpression, frame: &frame)
            try checkSlot(slot, in: frame, at: range)
            let count = box.count
            var i = 0
            while i < count {
                try countStep(at: range)
                // A body may not resize the array, but read defensively all the same.
                guard i < box.count else { break }
                let element: Value = box.ints.map { .int($0[i]) } ?? .float(box.floats[i])
                frame[slot] = try coerce(element, to: slotType(slot), at: range)
                switch try execute(body, frame: &frame) {
                case .normal, .continueLoop: break
                case .breakLoop: return .normal
                case .returned(let value): return .returned(value)
                }
                i += 1
            }
            return .normal

        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .returnValue(let expression):
            guard let expression else { return .returned(nil) }
            return .returned(try evaluate(expression, frame: &frame))
        case .callbackFailure:
            throw KernelRuntimeError(RuntimeMessages.callbackFailure, at: range)
        }
    }

    /// The type of a slot of the function now running.
    func slotType(_ slot: Int) -> ValueType {
        currentLocals.indices.contains(slot) ? currentLocals[slot].type : .float
    }

    func checkSlot(_ slot: Int, in frame: [Value?], at range: SourceRange) throws(KernelRuntimeError) {
        guard frame.indices.contains(slot) else {
            throw KernelRuntimeError("invalid local slot \(slot)", at: range)
        }
    }

    // MARK: Expressions

    /// Evaluates an expression that may have no value (`a.sort()`, a helper without a result).
    mutating func evaluateForEffect(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value? {
        switch expression.kind {
        case .call(let index, let arguments):
            return try callHelper(index, arguments: arguments, at: expression.range, frame: &frame)
        case .builtin(.sortInPlace, let arguments):
            guard arguments.count == 1 else { throw arity(.sortInPlace, at: expression.range) }
            let box = try array(arguments[0], frame: &frame)
            guard box.isWritable, box.ints == nil else {
                throw KernelRuntimeError("sort() needs a writable float array", at: expression.range)
            }
            box.floats.sort(by: Numerics.precedesNaNLast)
            return nil
        default:
            return try evaluate(expression, frame: &frame)
        }
    }

    mutating func evaluate(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        try enter(at: expression.range)
        defer { nesting -= 1 }
        return try evaluateUnguarded(expression, frame: &frame)
    }

    mutating func evaluateUnguarded(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        switch expression.kind {
        case .intConstant(let value): return .int(value)
        case .floatConstant(let value): return .float(value)
        case .boolConstant(let value): return .bool(value)

        case .local(let slot):
            guard frame.indices.contains(slot), let value = frame[slot] else {
                throw KernelRuntimeError("variable read before it was assigned", at: range)
            }
            return value

        case .convert, .negate, .not, .arithmetic, .compare, .logical, .conditional, .element, .length, .call:
            return try evaluateScalarForm(expression, frame: &frame)

        case .builtin(let builtin, let arguments):
            return try evaluateBuiltin(builtin, arguments, type: expression.type, at: range, frame: &frame)

        case .floatArrayConstant(let values):
            return .array(ArrayBox(floats: values, isWritable: false))

        case .intArrayConstant(let values):
            return .array(ArrayBox(ints: values))

        case .gather(let arrayExpression, let indicesExpression):
            return try gather(arrayExpression, indicesExpression, at: range, frame: &frame)

        case .map(let inputs, let body):
            return try map(inputs, body, type: expression.type, at: range, frame: &frame)

        case .lane(let j):
            guard let current = lanes.last, current.indices.contains(j) else {
                throw KernelRuntimeError("lane \(j) outside an element-wise expression", at: range)
            }
            return current[j]

        case .compress(let arrayExpression, let maskExpression):
            return try compress(arrayExpression, maskExpression, at: range, frame: &frame)

        case .slice(let arrayExpression, let startExpression, let stopExpression, let stepExpression):
            return try slice(arrayExpression, startExpression, stopExpression, stepExpression, at: range, frame: &frame)

        case .floatArrayOf, .arrayOf:
            return try arrayValue(expression, at: range, frame: &frame)

        case .ndElement, .ndShape, .ndSize, .ndAllocate, .ndReduce:
            return try evaluateArrayFunctionForm(expression, frame: &frame)
        }
    }

    // The array forms live in their own functions, not inline in `evaluateUnguarded`: its frame is on
    // the stack once per nesting level, and a debug (ASan) build gives every case's locals a slot, so
    // inline cases made 400 levels overflow a worker thread's stack.

    @inline(never)
    mutating func compress(_ arrayExpression: TExpr, _ maskExpression: TExpr, at range: SourceRange,
                           frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let box = try array(arrayExpression, frame: &frame)
        let mask = try array(maskExpression, frame: &frame)
        guard let bits = mask.ints, mask.count == box.count else {
            throw KernelRuntimeError(RuntimeMessages.maskLength(box.count, mask.count), at: maskExpression.range)
        }
        let chosen = bits.indices.filter { bits[$0] != 0 }
        try countAllocation(chosen.count, at: range)
        if let ints = box.ints { return .array(ArrayBox(ints: chosen.map { ints[$0] })) }
        return .array(ArrayBox(floats: chosen.map { box.floats[$0] }, isWritable: true))
    }

    @inline(never)
    mutating func slice(_ arrayExpression: TExpr, _ startExpression: TExpr?, _ stopExpression: TExpr?,
                        _ stepExpression: TExpr?, at range: SourceRange, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let box = try array(arrayExpression, frame: &frame)
        let start = try startExpression.map { e throws(KernelRuntimeError) in try int(e, frame: &frame) }
        let stop = try stopExpression.map { e throws(KernelRuntimeError) in try int(e, frame: &frame) }
        let step = try stepExpression.map { e throws(KernelRuntimeError) in try int(e, frame: &frame) } ?? 1
        guard step != 0 else { throw KernelRuntimeError(RuntimeMessages.zeroSliceStep, at: stepExpression?.range ?? range) }
        let positions = Numerics.slicePositions(count: Int64(box.count), start: start, stop: stop, step: step)
        try countAllocation(positions.count, at: range)
        if let ints = box.ints { return .array(ArrayBox(ints: positions.map { ints[$0] })) }
        return .array(ArrayBox(floats: positions.map { box.floats[$0] }, isWritable: false))
    }

    @inline(never)
    mutating func arrayValue(_ expression: TExpr, at range: SourceRange, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        switch expression.kind {
        case .floatArrayOf(let arrayExpression):
            let box = try array(arrayExpression, frame: &frame)
            try countAllocation(box.count, at: range)
            return .array(ArrayBox(floats: (box.ints ?? []).map { Double($0) }, isWritable: true))
        case .arrayOf(let elements):
            if expression.type == .intArray {
                var ints: [Int64] = []
                for element in elements { ints.append(try int(element, frame: &frame)) }
                try countAllocation(ints.count, at: range)
                return .array(ArrayBox(ints: ints))
            }
            var floats: [Double] = []
            for element in elements { floats.append(try float(element, frame: &frame)) }
            try countAllocation(floats.count, at: range)
            return .array(ArrayBox(floats: floats, isWritable: true))
        default:
            throw KernelRuntimeError("not an array literal", at: range)
        }
    }

    /// The scalar forms of `evaluateUnguarded`, each in its own small frame (see the note above `compress`).
    @inline(never)
    mutating func evaluateScalarForm(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        switch expression.kind {
        case .convert: return try evaluateConvert(expression, frame: &frame)
        case .negate: return try evaluateNegate(expression, frame: &frame)
        case .not: return try evaluateNot(expression, frame: &frame)
        case .arithmetic: return try evaluateArithmetic(expression, frame: &frame)
        case .compare: return try evaluateCompare(expression, frame: &frame)
        case .logical: return try evaluateLogical(expression, frame: &frame)
        case .conditional: return try evaluateConditional(expression, frame: &frame)
        case .element: return try evaluateElement(expression, frame: &frame)
        case .length: return try evaluateLength(expression, frame: &frame)
        case .call: return try evaluateCall(expression, frame: &frame)
        default: throw KernelRuntimeError("internal error: not a scalar form", at: expression.range)
        }
    }

    @inline(never)
    mutating func evaluateConvert(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .convert(let conversion, let operand) = expression.kind else { throw KernelRuntimeError("internal error: not a convert", at: range) }
        let value = try evaluate(operand, frame: &frame)
        if operand.type == .uint64, conversion == .toFloat {
            // A uint64 is held as the int64 of its bits: converted unsigned.
            return .float(Double(UInt64(bitPattern: try intValue(value, at: range))))
        }
        switch conversion {
        case .toFloat: return .float(try floatValue(value, at: range))
        case .toInt: return .int(try intValue(value, at: range))
        case .truth: return .bool(try truth(value, at: range))
        }
    }

    @inline(never)
    mutating func evaluateNegate(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .negate(let operand) = expression.kind else { throw KernelRuntimeError("internal error: not a negate", at: range) }
        switch try evaluate(operand, frame: &frame) {
        case .int(let x): return .int(0 &- x)
        case .float(let x): return .float(-x)
        case .bool(let x): return .int(x ? -1 : 0)
        case .array, .nd: throw KernelRuntimeError("cannot negate an array", at: range)
        }
    }

    @inline(never)
    mutating func evaluateNot(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .not(let operand) = expression.kind else { throw KernelRuntimeError("internal error: not a not", at: range) }
        return .bool(!(try truth(try evaluate(operand, frame: &frame), at: range)))
    }

    @inline(never)
    mutating func evaluateArithmetic(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .arithmetic(let op, let left, let right) = expression.kind else { throw KernelRuntimeError("internal error: not an arithmetic expression", at: range) }
        let a = try evaluate(left, frame: &frame)
        let b = try evaluate(right, frame: &frame)
        if expression.type == .float {
            return .float(Self.arithmetic(op, try floatValue(a, at: range), try floatValue(b, at: range)))
        }
        if expression.type == .uint64, op == .floorDivide || op == .modulo {
            let x = UInt64(bitPattern: try intValue(a, at: range)), y = UInt64(bitPattern: try intValue(b, at: range))
            guard y != 0 else { throw KernelRuntimeError(op == .floorDivide ? "integer division by zero" : "integer modulo by zero", at: range) }
            return .int(Int64(bitPattern: op == .floorDivide ? x / y : x % y))
        }
        return .int(try Self.arithmetic(op, try intValue(a, at: range), try intValue(b, at: range), at: range))
    }

    @inline(never)
    mutating func evaluateCompare(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .compare(let operands, let ops, let compareTypes) = expression.kind else { throw KernelRuntimeError("internal error: not a compare", at: range) }
        guard operands.count == ops.count + 1, ops.count == compareTypes.count, !ops.isEmpty else {
            throw KernelRuntimeError("malformed comparison chain", at: range)
        }
        var left = try evaluate(operands[0], frame: &frame)
        for i in ops.indices {
            let right = try evaluate(operands[i + 1], frame: &frame)
            let holds: Bool
            if compareTypes[i] == .float {
                holds = Self.compare(ops[i], try floatValue(left, at: range), try floatValue(right, at: range))
            } else if compareTypes[i] == .uint64 {
                holds = Self.compare(ops[i], UInt64(bitPattern: try intValue(left, at: range)), UInt64(bitPattern: try intValue(right, at: range)))
            } else {
                holds = Self.compare(ops[i], try intValue(left, at: range), try intValue(right, at: range))
            }
            if !holds { return .bool(false) }
            left = right
        }
        return .bool(true)
    }

    @inline(never)
    mutating func evaluateLogical(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .logical(let op, let left, let right) = expression.kind else { throw KernelRuntimeError("internal error: not a logical", at: range) }
        let a = try evaluate(left, frame: &frame)
        let decidesAlone = try truth(a, at: range) == (op == .or)
        return decidesAlone ? a : try evaluate(right, frame: &frame)
    }

    @inline(never)
    mutating func evaluateConditional(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .conditional(let condition, let then, let orElse) = expression.kind else { throw KernelRuntimeError("internal error: not a conditional", at: range) }
        return try evaluate(try bool(condition, frame: &frame) ? then : orElse, frame: &frame)
    }

    @inline(never)
    mutating func evaluateElement(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .element(let arrayExpression, let indexExpression) = expression.kind else { throw KernelRuntimeError("internal error: not an element", at: range) }
        let box = try array(arrayExpression, frame: &frame)
        let index = try int(indexExpression, frame: &frame)
        let position = try resolve(index, count: box.count, at: indexExpression.range)
        if let ints = box.ints { return expression.type == .bool ? .bool(ints[position] != 0) : .int(ints[position]) }
        return .float(box.floats[position])
    }

    @inline(never)
    mutating func evaluateLength(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .length(let operand) = expression.kind else { throw KernelRuntimeError("internal error: not a length", at: range) }
        return .int(Int64(try array(operand, frame: &frame).count))
    }

    @inline(never)
    mutating func evaluateCall(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        guard case .call(let index, let arguments) = expression.kind else { throw KernelRuntimeError("internal error: not a call", at: range) }
        guard let value = try callHelper(index, arguments: arguments, at: range, frame: &frame) else {
            throw KernelRuntimeError("the helper returned no value", at: range)
        }
        return value
    }

    /// NumPy element-wise evaluation (see `TExprKind.map`).
    @inline(never)
    mutating func map(_ inputs: [TExpr], _ body: TExpr, type: ValueType, at range: SourceRange,
                      frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        var values: [Value] = []
        for input in inputs { values.append(try evaluate(input, frame: &frame)) }
        var count: Int?
        for value in values {
            guard case .array(let box) = value else { continue }
            if let n = count, box.count != n {
                guard n == 1 || box.count == 1 else { throw KernelRuntimeError(RuntimeMessages.broadcast(n, box.count), at: range) }
                if n == 1 { count = box.count }
            } else if count == nil {
                count = box.count
            }
        }
        let n = count ?? 1
        try countAllocation(n, at: range)
        var floats: [Double] = []
        var ints: [Int64] = []
        for k in 0..<n {
            var current: [Value] = []
            for (input, value) in zip(inputs, values) {
                guard case .array(let box) = value else { current.append(value); continue }
                let position = box.count == 1 ? 0 : k
                if let elements = box.ints {
                    current.append(input.type == .boolArray ? .bool(elements[position] != 0) : .int(elements[position]))
                } else {
                    current.append(.float(box.floats[position]))
                }
            }
            lanes.append(current)
            defer { lanes.removeLast() }
            let result = try evaluate(body, frame: &frame)
            switch type {
            case .floatArray: floats.append(try floatValue(result, at: range))
            case .boolArray: ints.append(try truth(result, at: range) ? 1 : 0)
            default: ints.append(try intValue(result, at: range))
            }
        }
        if type == .floatArray { return .array(ArrayBox(floats: floats, isWritable: true)) }
        return .array(ArrayBox(ints: ints))
    }

    /// NumPy fancy indexing: a fresh array of `array[indices[k]]`, the first index out of range an error.
    @inline(never)
    mutating func gather(_ arrayExpression: TExpr, _ indicesExpression: TExpr, at range: SourceRange,
                         frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let box = try array(arrayExpression, frame: &frame)
        let indices = try array(indicesExpression, frame: &frame)
        guard let positions = indices.ints else { throw KernelRuntimeError("array indices must be ints", at: indicesExpression.range) }
        try countAllocation(positions.count, at: range)
        if let ints = box.ints {
            var result: [Int64] = []
            result.reserveCapacity(positions.count)
            for index in positions { result.append(ints[try resolve(index, count: ints.count, at: indicesExpression.range)]) }
            return .array(ArrayBox(ints: result))
        }
        var result: [Double] = []
        result.reserveCapacity(positions.count)
        for index in positions { result.append(box.floats[try resolve(index, count: box.count, at: indicesExpression.range)]) }
        return .array(ArrayBox(floats: result, isWritable: true))
    }

    mutating func callHelper(_ index: Int, arguments: [TExpr], at range: SourceRange, frame: inout [Value?]) throws(KernelRuntimeError) -> Value? {
        guard program.functions.indices.contains(index) else {
            throw KernelRuntimeError("call of an unknown function", at: range)
        }
        let function = program.functions[index]
        guard arguments.count == function.parameterCount, function.parameterCount <= function.locals.count else {
            throw KernelRuntimeError("'\(function.name)' takes \(function.parameterCount) arguments, got \(arguments.count)", at: range)
        }
        var calleeFrame = [Value?](repeating: nil, count: function.locals.count)
        for (i, argument) in arguments.enumerated() {
            calleeFrame[i] = try evaluate(argument, frame: &frame)
        }
        let callerLocals = currentLocals
        currentLocals = function.locals
        defer { currentLocals = callerLocals }
        return try call(function, frame: &calleeFrame)
    }

    // MARK: Typed helpers

    mutating func int(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Int64 {
        try intValue(try evaluate(expression, frame: &frame), at: expression.range)
    }

    mutating func bool(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Bool {
        try truth(try evaluate(expression, frame: &frame), at: expression.range)
    }

    mutating func float(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Double {
        try floatValue(try evaluate(expression, frame: &frame), at: expression.range)
    }

    mutating func array(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> ArrayBox {
        guard case .array(let box) = try evaluate(expression, frame: &frame) else {
            throw KernelRuntimeError("expected an array", at: expression.range)
        }
        return box
    }

    func intValue(_ value: Value, at range: SourceRange) throws(KernelRuntimeError) -> Int64 {
        switch value {
        case .int(let x): return x
        case .bool(let x): return x ? 1 : 0
        case .float: throw KernelRuntimeError("expected an int, got a float", at: range)
        case .array, .nd: throw KernelRuntimeError("expected an int, got an array", at: range)
        }
    }

    func floatValue(_ value: Value, at range: SourceRange) throws(KernelRuntimeError) -> Double {
        switch value {
        case .float(let x): return x
        case .int(let x): return Double(x)
        case .bool(let x): return x ? 1 : 0
        case .array, .nd: throw KernelRuntimeError("expected a number, got an array", at: range)
        }
    }

    func truth(_ value: Value, at range: SourceRange) throws(KernelRuntimeError) -> Bool {
        switch value {
        case .bool(let x): return x
        case .int(let x): return x != 0
        case .float(let x): return x != 0  // NaN is true
        case .array, .nd: throw KernelRuntimeError("the truth of an array is ambiguous", at: range)
        }
    }

    /// Converts a scalar to `type` (int/bool to float, bool to int); arrays pass unchanged.
    func coerce(_ value: Value, to type: ValueType, at range: SourceRange) throws(KernelRuntimeError) -> Value {
        switch (type, value) {
        case (.float, _): return .float(try floatValue(value, at: range))
        case (.int, .int), (.int, .bool): return .int(try intValue(value, at: range))
        case (.uint64, .int): return value  // a uint64 is held as the int64 of its bits (Sema typed it already)
        case (.bool, _): return .bool(try truth(value, at: range))
        case (.floatArray, .array), (.intArray, .array), (.boolArray, .array), (.ndarray, .nd): return value
        default: throw KernelRuntimeError("cannot convert the value to \(type.rawValue)", at: range)
        }
    }

    /// The position of a Python index (negative counts from the end) in an array of `count`.
    func resolve(_ index: Int64, count: Int, at range: SourceRange) throws(KernelRuntimeError) -> Int {
        let position = index < 0 ? index &+ Int64(count) : index
        guard position >= 0, position < Int64(count) else {
            throw KernelRuntimeError("index \(index) is out of range for an array of length \(count)", at: range)
        }
        return Int(position)
    }

    func arity(_ builtin: Builtin, at range: SourceRange) -> KernelRuntimeError {
        KernelRuntimeError("wrong number of arguments to \(builtin.sourceSpelling)", at: range)
    }

    // MARK: Arithmetic

    static func arithmetic(_ op: TArithmetic, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .trueDivide: return a / b
        case .floorDivide: return Numerics.floorDivide(a, b)
        case .modulo: return Numerics.remainder(a, b)
        case .power: return pow(a, b)
        }
    }

    static func arithmetic(_ op: TArithmetic, _ a: Int64, _ b: Int64, at range: SourceRange) throws(KernelRuntimeError) -> Int64 {
        switch op {
        case .add: return a &+ b
        case .subtract: return a &- b
        case .multiply: return a &* b
        case .trueDivide:
            throw KernelRuntimeError("true division must be done in float", at: range)
        case .floorDivide:
            guard let q = Numerics.floorDivide(a, b) else { throw KernelRuntimeError("integer division by zero", at: range) }
            return q
        case .modulo:
            guard let r = Numerics.modulo(a, b) else { throw KernelRuntimeError("integer modulo by zero", at: range) }
            return r
        case .power:
            guard b >= 0 else { throw KernelRuntimeError("negative int exponent must be done in float", at: range) }
            return Numerics.power(a, b)
        }
    }

    static func compare<T: Comparable>(_ op: CompareOperator, _ a: T, _ b: T) -> Bool {
        switch op {
        case .less: return a < b
        case .lessEqual: return a <= b
        case .greater: return a > b
        case .greaterEqual: return a >= b
        case .equal: return a == b
        case .notEqual: return a != b
        }
    }

    // MARK: Built-ins

    /// Evaluates a built-in's arguments left to right (every built-in takes them all, in order), then applies it.
    /// The recursion goes through this small function, not through the large `apply`, to keep stack frames small.
    /// Counts a new local array of `count` elements against the per-call bound the JIT's arena enforces.
    mutating func countAllocation(_ count: Int, at range: SourceRange) throws(KernelRuntimeError) {
        allocatedElements += count
        guard allocatedElements <= maximumLocalArrayElementsPerCall else {
            throw KernelRuntimeError("local arrays need more memory than allowed (\(count) elements requested)", at: range)
        }
    }

    mutating func evaluateBuiltin(_ builtin: Builtin, _ arguments: [TExpr], type: ValueType, at range: SourceRange, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        var operands: [Value] = []
        operands.reserveCapacity(arguments.count)
        for argument in arguments { operands.append(try evaluate(argument, frame: &frame)) }
        return try apply(builtin, operands, arguments, type: type, at: range)
    }

    /// Applies a built-in to evaluated operands (`arguments` only give the error locations).
    mutating func apply(_ builtin: Builtin, _ operands: [Value], _ arguments: [TExpr], type: ValueType, at range: SourceRange) throws(KernelRuntimeError) -> Value {
        if chargesArrayElements {
            var elements = 0
            for case .array(let box) in operands { elements += box.count }
            if elements > 0 { try countSteps(elements, at: range) }
        }
        switch builtin {
        case .pyMin, .pyMax, .pySum, .npMin, .npMax, .npSum, .prod, .mean, .median, .variance, .std,
             .any, .all, .argmin, .argmax, .nanmin, .nanmax, .nansum, .nanmean, .nanmedian:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            let elements = try floatElements(operands[0], at: arguments[0].range)
            return try Self.reduce(builtin, elements, at: range)

        case .percentile, .quantile:
            guard arguments.count == 2 else { throw arity(builtin, at: range) }
            let elements = try floatElements(operands[0], at: arguments[0].range)
            let q = try floatValue(operands[1], at: arguments[1].range)
            let fraction = builtin == .percentile ? q / 100.0 : q
            guard Numerics.isValidQuantile(fraction) else {
                let bound = builtin == .percentile ? "[0, 100]" : "[0, 1]"
                throw KernelRuntimeError("\(builtin.sourceSpelling) q = \(q) is outside \(bound)", at: arguments[1].range)
            }
            guard !elements.isEmpty else { throw KernelRuntimeError("\(builtin.sourceSpelling) of an empty array", at: range) }
            return .float(elements.withUnsafeBufferPointer { Numerics.quantile($0.baseAddress, $0.count, fraction) })

        case .average:
            guard arguments.count == 2 else { throw arity(builtin, at: range) }
            let a = try floatElements(operands[0], at: arguments[0].range)
            let w = try floatElements(operands[1], at: arguments[1].range)
            guard a.count == w.count else { throw KernelRuntimeError(RuntimeMessages.averageShapes, at: range) }
            let scale = w.withUnsafeBufferPointer { Numerics.npSum($0.baseAddress, $0.count) }
            guard scale != 0 else { throw KernelRuntimeError(RuntimeMessages.averageZeroWeights, at: range) }
            let total = a.withUnsafeBufferPointer { ap in w.withUnsafeBufferPointer { Numerics.weightedSum(ap.baseAddress, $0.baseAddress, ap.count) } }
            return .float(total / scale)

        case .dot:
            guard arguments.count == 2 else { throw arity(builtin, at: range) }
            let a = try floatElements(operands[0], at: arguments[0].range)
            let b = try floatElements(operands[1], at: arguments[1].range)
            guard a.count == b.count else { throw KernelRuntimeError(RuntimeMessages.dotShapes(a.count, b.count), at: range) }
            return .float(a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { Numerics.dot(ap.baseAddress, $0.baseAddress, ap.count) } })

        case .zeros, .ones, .empty:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            let n = try intValue(operands[0], at: arguments[0].range)
            guard n >= 0, n <= Int64(maximumLocalArrayLength) else {
                throw KernelRuntimeError("local array size \(n) is outside 0...\(maximumLocalArrayLength)", at: arguments[0].range)
            }
            try countAllocation(Int(n), at: range)
            let fill = builtin == .ones ? 1.0 : 0.0
            return .array(ArrayBox(floats: [Double](repeating: fill, count: Int(n)), isWritable: true))

        case .cumsum:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            var elements = try floatElements(operands[0], at: arguments[0].range)
            try countAllocation(elements.count, at: range)
            for k in elements.indices.dropFirst() { elements[k] = elements[k - 1] + elements[k] }
            return .array(ArrayBox(floats: elements, isWritable: true))

        case .histogram, .histogramEdges:
            guard arguments.count == 5 else { throw arity(builtin, at: range) }
            let elements = try floatElements(operands[0], at: arguments[0].range)
            let bins = try intValue(operands[1], at: arguments[1].range)
            let low = try floatValue(operands[2], at: arguments[2].range), high = try floatValue(operands[3], at: arguments[3].range)
            let autodetect = try truth(operands[4], at: arguments[4].range)
            if bins >= 1 {
                guard bins < Int64(maximumLocalArrayLength) else {
                    throw KernelRuntimeError("local array size \(bins) is outside 0...\(maximumLocalArrayLength)", at: arguments[1].range)
                }
                try countAllocation(Int(bins) + 1, at: range)
            }
            var counts = [Int64](repeating: 0, count: Int(Swift.max(bins, 0)))
            var edges = [Double](repeating: 0, count: Int(Swift.max(bins, 0)) + 1)
            let status = elements.withUnsafeBufferPointer { source in
                counts.withUnsafeMutableBufferPointer { c in
                    edges.withUnsafeMutableBufferPointer { e in
                        Numerics.histogram(source.baseAddress, source.count, bins: bins, lo: low, hi: high, autodetect: autodetect,
                                           counts: c.baseAddress, edges: e.baseAddress)
                    }
                }
            }
            guard status == 0 else { throw KernelRuntimeError(RuntimeMessages.histogram(Int(status)), at: range) }
            if builtin == .histogram { return .array(ArrayBox(ints: counts)) }
            return .array(ArrayBox(floats: edges, isWritable: true))

        case .unique, .uniqueCounts:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            let elements = try floatElements(operands[0], at: arguments[0].range)
            try countAllocation(elements.count, at: range)
            var values = [Double](repeating: 0, count: elements.count)
            var counts = [Int64](repeating: 0, count: elements.count)
            let count = elements.withUnsafeBufferPointer { source in
                values.withUnsafeMutableBufferPointer { v in
                    counts.withUnsafeMutableBufferPointer { c in
                        Numerics.unique(source.baseAddress, source.count, values: v.baseAddress, counts: c.baseAddress)
                    }
                }
            }
            if builtin == .unique { return .array(ArrayBox(floats: Array(values.prefix(count)), isWritable: true)) }
            return .array(ArrayBox(ints: Array(counts.prefix(count))))

        case .bincount:
            guard arguments.count == 2, case .array(let box) = operands[0], let xs = box.ints else { throw arity(builtin, at: range) }
            let minlength = try intValue(operands[1], at: arguments[1].range)
            guard minlength >= 0 else { throw KernelRuntimeError(RuntimeMessages.bincountMinlength, at: arguments[1].range) }
            guard xs.allSatisfy({ $0 >= 0 }) else { throw KernelRuntimeError(RuntimeMessages.bincountNegative, at: arguments[0].range) }
            let count = Swift.max((xs.max() ?? -1) &+ 1, minlength)
            guard count <= Int64(maximumLocalArrayLength) else {
                throw KernelRuntimeError("local array size \(count) is outside 0...\(maximumLocalArrayLength)", at: range)
            }
            try countAllocation(Int(count), at: range)
            var counts = [Int64](repeating: 0, count: Int(count))
            for x in xs { counts[Int(x)] += 1 }
            return .array(ArrayBox(ints: counts))

        case .copy, .sorted:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            var elements = try floatElements(operands[0], at: arguments[0].range)
            try countAllocation(elements.count, at: range)
            if builtin == .sorted { elements.sort(by: Numerics.precedesNaNLast) }
            return .array(ArrayBox(floats: elements, isWritable: true))

        case .sortInPlace:
            throw KernelRuntimeError("sort() has no value", at: range)

        case .pyMinOf, .pyMaxOf:
            guard arguments.count >= 1 else { throw arity(builtin, at: range) }
            let values = try numbers(operands, arguments, type: type)
            var best = values[0]
            for candidate in values.dropFirst() {
                let better = builtin == .pyMinOf ? Self.less(candidate, best) : Self.less(best, candidate)
                if better { best = candidate }
            }
            return best

        case .minimum, .maximum, .fmin, .fmax:
            guard arguments.count == 2 else { throw arity(builtin, at: range) }
            let values = try numbers(operands, arguments, type: type)
            switch (values[0], values[1]) {
            case (.int(let x), .int(let y)):
                return .int(builtin == .minimum || builtin == .fmin ? Swift.min(x, y) : Swift.max(x, y))
            default:
                let x = try floatValue(values[0], at: range), y = try floatValue(values[1], at: range)
                switch builtin {
                case .minimum: return .float(Numerics.minimum(x, y))
                case .maximum: return .float(Numerics.maximum(x, y))
                case .fmin: return .float(Numerics.fmin(x, y))
                default: return .float(Numerics.fmax(x, y))
                }
            }

        case .clip:
            guard arguments.count == 3 else { throw arity(builtin, at: range) }
            let values = try numbers(operands, arguments, type: type)
            if case .int(let x) = values[0], case .int(let lo) = values[1], case .int(let hi) = values[2] {
                return .int(Swift.min(Swift.max(x, lo), hi))
            }
            return .float(Numerics.clip(try floatValue(values[0], at: range), try floatValue(values[1], at: range),
                                        try floatValue(values[2], at: range)))

        case .abs:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            switch operands[0] {
            case .int(let x): return .int(Numerics.abs(x))
            case .bool(let x): return .int(x ? 1 : 0)
            case .float(let x): return .float(Swift.abs(x))
            case .array, .nd: throw KernelRuntimeError("abs of an array", at: range)
            }

        case .sqrt, .exp, .log, .log2, .log10, .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .tanh,
             .npFloor, .npCeil, .npTrunc, .npRound:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            return .float(Self.unary(builtin, try floatValue(operands[0], at: arguments[0].range)))

        case .atan2, .hypot, .npHypot, .copysign, .pow:
            guard arguments.count == 2 else { throw arity(builtin, at: range) }
            let x = try floatValue(operands[0], at: arguments[0].range)
            let y = try floatValue(operands[1], at: arguments[1].range)
            switch builtin {
            case .atan2: return .float(atan2(x, y))
            case .hypot: return .float(Numerics.hypot(x, y))
            case .npHypot: return .float(hypot(x, y))  // libm's, as NumPy
            case .copysign: return .float(copysign(x, y))
            default: return .float(pow(x, y))
            }

        case .floorToInt, .ceilToInt, .truncToInt, .roundToInt, .toInt:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            let value = operands[0]
            if case .int(let x) = value { return .int(x) }
            if case .bool(let x) = value { return .int(x ? 1 : 0) }
            let x = try floatValue(value, at: range)
            let converted: Int64?
            switch builtin {
            case .floorToInt: converted = Numerics.floorInt(x)
            case .ceilToInt: converted = Numerics.ceilInt(x)
            case .roundToInt: converted = Numerics.roundedInt(x)
            default: converted = Numerics.truncatedInt(x)
            }
            guard let converted else {
                throw KernelRuntimeError("cannot convert \(x.isNaN ? "nan" : "\(x)") to an int", at: range)
            }
            return .int(converted)

        case .isnan, .isinf, .isfinite:
            guard arguments.count == 1 else { throw arity(builtin, at: range) }
            let x = try floatValue(operands[0], at: arguments[0].range)
            switch builtin {
            case .isnan: return .bool(x.isNaN)
            case .isinf: return .bool(x.isInfinite)
            default: return .bool(x.isFinite)
            }
        }
    }

    /// Converts num operands to the node's type (`.int` or `.float`).
    func numbers(_ operands: [Value], _ arguments: [TExpr], type: ValueType) throws(KernelRuntimeError) -> [Value] {
        var values: [Value] = []
        for (operand, argument) in zip(operands, arguments) {
            values.append(type == .float ? .float(try floatValue(operand, at: argument.range))
                                         : .int(try intValue(operand, at: argument.range)))
        }
        return values
    }

    /// A float array operand's elements (an int array's are converted).
    func floatElements(_ value: Value, at range: SourceRange) throws(KernelRuntimeError) -> [Double] {
        guard case .array(let box) = value else { throw KernelRuntimeError("expected an array", at: range) }
        if let ints = box.ints { return ints.map { Double($0) } }
        return box.floats
    }

    /// `x < y` for two scalars of one type (CPython's rich comparison; false with NaN).
    static func less(_ x: Value, _ y: Value) -> Bool {
        switch (x, y) {
        case (.int(let a), .int(let b)): return a < b
        case (.float(let a), .float(let b)): return a < b
        default: return false
        }
    }

    static func unary(_ builtin: Builtin, _ x: Double) -> Double {
        switch builtin {
        case .sqrt: return sqrt(x)
        case .exp: return exp(x)
        case .log: return log(x)
        case .log2: return log2(x)
        case .log10: return log10(x)
        case .sin: return sin(x)
        case .cos: return cos(x)
        case .tan: return tan(x)
        case .asin: return asin(x)
        case .acos: return acos(x)
        case .atan: return atan(x)
        case .sinh: return sinh(x)
        case .cosh: return cosh(x)
        case .tanh: return tanh(x)
        case .npFloor: return floor(x)
        case .npCeil: return ceil(x)
        case .npTrunc: return trunc(x)
        default: return Numerics.roundHalfEven(x)
        }
    }

    static func reduce(_ builtin: Builtin, _ elements: [Double], at range: SourceRange) throws(KernelRuntimeError) -> Value {
        let n = elements.count
        switch builtin {
        case .pyMin, .pyMax, .npMin, .npMax, .argmin, .argmax, .nanmin, .nanmax:
            guard n > 0 else {
                throw KernelRuntimeError("\(builtin.sourceSpelling) of an empty array", at: range)
            }
        default: break
        }
        return elements.withUnsafeBufferPointer { buffer -> Value in
            let a = buffer.baseAddress
            switch builtin {
            case .pyMin: return .float(Numerics.pyMin(a, n))
            case .pyMax: return .float(Numerics.pyMax(a, n))
            case .pySum: return .float(Numerics.pySum(a, n))
            case .npMin: return .float(Numerics.npMin(a, n))
            case .npMax: return .float(Numerics.npMax(a, n))
            case .npSum: return .float(Numerics.npSum(a, n))
            case .prod: return .float(Numerics.prod(a, n))
            case .mean: return .float(Numerics.mean(a, n))
            case .median: return .float(Numerics.median(a, n))
            case .variance: return .float(Numerics.variance(a, n))
            case .std: return .float(Numerics.std(a, n))
            case .any: return .bool(Numerics.any(a, n))
            case .all: return .bool(Numerics.all(a, n))
            case .argmin: return .int(Int64(Numerics.argmin(a, n)))
            case .argmax: return .int(Int64(Numerics.argmax(a, n)))
            case .nanmin: return .float(Numerics.nanmin(a, n))
            case .nanmax: return .float(Numerics.nanmax(a, n))
            case .nansum: return .float(Numerics.nansum(a, n))
            case .nanmean: return .float(Numerics.nanmean(a, n))
            default: return .float(Numerics.nanmedian(a, n))
            }
        }
    }
}
