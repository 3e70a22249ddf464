import FilterLang

/// A compile-time constant: a module-level constant (`KX = np.array([...])`, `T = 0.5`) or a list
/// or tuple literal of numbers inside a function (`order = [0, 1, 2, 5]`).
enum ConstantValue: Equatable {
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case floatArray([Double])
    case intArray([Int64])

    var type: ValueType {
        switch self {
        case .int: return .int
        case .float: return .float
        case .bool: return .bool
        case .floatArray: return .floatArray
        case .intArray: return .intArray
        }
    }

    /// The typed-IR node reading this constant.
    func expression(at range: SourceRange) -> TExpr {
        switch self {
        case .int(let value): return TExpr(.intConstant(value), .int, range)
        case .float(let value): return TExpr(.floatConstant(value), .float, range)
        case .bool(let value): return TExpr(.boolConstant(value), .bool, range)
        case .floatArray(let values): return TExpr(.floatArrayConstant(values), .floatArray, range)
        case .intArray(let values): return TExpr(.intArrayConstant(values), .intArray, range)
        }
    }
}

/// The longest constant array (a literal or `np.array`), in elements.
let maximumConstantArrayLength = 65_536

/// Evaluates constant expressions with Python's and NumPy's meaning: numbers with signs, `inf`,
/// `np.pi`, `float('nan')`, names of constants (`lookup`), scalar arithmetic, list and tuple
/// literals of numbers (ints give an int array, any float a float array, as `np.array` does) and
/// `np.array(x)` / `np.asarray(x)` with an optional `dtype=float|int`.
struct ConstantEvaluator {
    /// A name's constant value; nil when the name is not a constant (a variable, a function ...).
    let lookup: (String) -> ConstantValue?
    /// Whether a name is a variable of the function being checked (so never a constant).
    var isVariable: (String) -> Bool = { _ in false }
    /// Whether a name is the module `numpy` (`np`), not shadowed.
    let isNumpy: (String) -> Bool
    /// Resolves a bare or module constant name (`inf`, `np.pi`).
    let program: ProgramChecker

    /// The end of the message for a name that is a variable (a literal holding it is not constant).
    static let variableSuffix = " is a variable, not a constant"

    struct Failure: Error {
        let message: String
        let range: SourceRange
    }

    func evaluate(_ expression: Expr) throws(Failure) -> ConstantValue {
        let range = expression.range
        switch expression.kind {
        case .integer(let value): return .int(value)
        case .float(let value): return .float(value)
        case .boolean(let value): return .bool(value)
        case .name(let name):
            if isVariable(name) {
                throw Failure(message: "'\(name)'" + Self.variableSuffix, range: range)
            }
            if let value = lookup(name) { return value }
            if let (value, _) = program.constantValue(of: expression) { return .float(value) }
            throw Failure(message: "'\(name)' is not a constant", range: range)
        case .attribute:
            if let (value, _) = program.constantValue(of: expression) { return .float(value) }
            throw Failure(message: "this is not a constant", range: range)
        case .unary(let op, let operandExpression):
            let operand = try evaluate(operandExpression)
            switch (op, operand) {
            case (.plus, .int), (.plus, .float): return operand
            case (.plus, .bool(let b)): return .int(b ? 1 : 0)
            case (.negate, .int(let x)): return .int(0 &- x)
            case (.negate, .bool(let b)): return .int(b ? -1 : 0)
            case (.negate, .float(let x)): return .float(-x)
            case (.not, .bool(let b)): return .bool(!b)
            case (.not, .int(let x)): return .bool(x == 0)
            case (.not, .float(let x)): return .bool(x == 0)
            case (.invert, _):
                throw Failure(message: "'~' is not supported in constants; write the value", range: range)
            default:
                throw Failure(message: "arithmetic on constant arrays is not supported; write the elements out", range: range)
            }
        case .binary(let op, let leftExpression, let rightExpression):
            let left = try evaluate(leftExpression), right = try evaluate(rightExpression)
            return try arithmetic(op, left, right, at: range)
        case .list(let elements), .tuple(let elements):
            return try array(elements, at: range)
        case .call(let callee, let arguments, let keywords):
            if case .name("float") = callee.kind, let (value, _) = program.constantValue(of: expression) { return .float(value) }
            guard case .attribute(let base, let function) = callee.kind, case .name(let alias) = base.kind, isNumpy(alias),
                  function == "array" || function == "asarray" else {
                throw Failure(message: "a call is not a constant expression (only np.array([...]) is)", range: range)
            }
            guard arguments.count == 1 else {
                throw Failure(message: "np.\(function)() takes one list or tuple of numbers here", range: range)
            }
            var value = try evaluate(arguments[0])
            guard value.type.isArray else {
                throw Failure(message: "np.\(function)() of a number (a 0-d array) is not supported; use the number", range: arguments[0].range)
            }
            for keyword in keywords {
                guard keyword.name == "dtype" else {
                    throw Failure(message: "np.\(function)() keyword '\(keyword.name)' is not supported", range: keyword.range)
                }
                value = try cast(value, to: keyword.value)
            }
            return value
        default:
            throw Failure(message: "this is not a constant expression", range: range)
        }
    }

    private func array(_ elements: [Expr], at range: SourceRange) throws(Failure) -> ConstantValue {
        guard elements.count <= maximumConstantArrayLength else {
            throw Failure(message: "constant arrays may have at most \(maximumConstantArrayLength) elements", range: range)
        }
        var values: [ConstantValue] = []
        for element in elements {
            if case .list = element.kind {
                throw Failure(message: "nested lists (2-D arrays) are not supported; arrays are one-dimensional, write the elements flat in C order", range: element.range)
            }
            if case .tuple = element.kind {
                throw Failure(message: "nested tuples (2-D arrays) are not supported; arrays are one-dimensional, write the elements flat in C order", range: element.range)
            }
            let value = try evaluate(element)
            guard !value.type.isArray else {
                throw Failure(message: "an array inside a list is not supported; arrays are one-dimensional", range: element.range)
            }
            values.append(value)
        }
        if values.contains(where: { if case .float = $0 { return true } else { return false } }) {
            return .floatArray(values.map(Self.double))
        }
        if elements.isEmpty { return .floatArray([]) }
        return .intArray(values.map { value in
            switch value {
            case .int(let x): return x
            case .bool(let b): return b ? 1 : 0
            default: return 0
            }
        })
    }

    static func double(_ value: ConstantValue) -> Double {
        switch value {
        case .int(let x): return Double(x)
        case .float(let x): return x
        case .bool(let b): return b ? 1 : 0
        default: return 0
        }
    }

    private func cast(_ value: ConstantValue, to dtype: Expr) throws(Failure) -> ConstantValue {
        var name: String?
        switch dtype.kind {
        case .name(let bare): name = bare
        case .attribute(let base, let member):
            if case .name(let alias) = base.kind, isNumpy(alias) { name = "np." + member }
        default: break
        }
        switch name {
        case "float", "np.float64", "np.double":
            switch value {
            case .intArray(let xs): return .floatArray(xs.map(Double.init))
            default: return value
            }
        case "int", "np.int64", "np.intp":
            switch value {
            case .floatArray(let xs):
                var ints: [Int64] = []
                for x in xs {
                    guard x.isFinite, x >= -9.223372036854775808e18, x < 9.223372036854775808e18 else {
                        throw Failure(message: "cannot convert \(x) to an int", range: dtype.range)
                    }
                    ints.append(Int64(x))
                }
                return .intArray(ints)
            default: return value
            }
        default:
            throw Failure(message: "dtype must be float or int (np.float64, np.int64) here", range: dtype.range)
        }
    }

    private func arithmetic(_ op: BinaryOperator, _ left: ConstantValue, _ right: ConstantValue, at range: SourceRange) throws(Failure) -> ConstantValue {
        if op.isBitwise {
            throw Failure(message: "'\(op.rawValue)' is not supported in constants; write the value", range: range)
        }
        if left.type.isArray || right.type.isArray {
            throw Failure(message: "arithmetic on constant arrays is not supported here; write the elements out", range: range)
        }
        func int(_ value: ConstantValue) -> Int64? {
            switch value {
            case .int(let x): return x
            case .bool(let b): return b ? 1 : 0
            default: return nil
            }
        }
        if let a = int(left), let b = int(right), op != .trueDivide {
            func exact(_ result: (partialValue: Int64, overflow: Bool)) throws(Failure) -> ConstantValue {
                guard !result.overflow else { throw Failure(message: "this constant is beyond the 64-bit int range", range: range) }
                return .int(result.partialValue)
            }
            switch op {
            case .add: return try exact(a.addingReportingOverflow(b))
            case .subtract: return try exact(a.subtractingReportingOverflow(b))
            case .multiply: return try exact(a.multipliedReportingOverflow(by: b))
            case .floorDivide, .modulo:
                guard b != 0 else { throw Failure(message: "integer division by zero in a constant", range: range) }
                guard !(a == .min && b == -1) else { throw Failure(message: "this constant is beyond the 64-bit int range", range: range) }
                var q = a / b, r = a % b
                if r != 0 && ((r < 0) != (b < 0)) { q -= 1; r += b }
                return .int(op == .floorDivide ? q : r)
            case .power:
                if b < 0 { return .float(Self.pow(Double(a), Double(b))) }
                if a == 0 || a == 1 { return .int(b == 0 ? 1 : a) }
                if a == -1 { return .int(b % 2 == 0 ? 1 : -1) }
                var result: Int64 = 1
                var count = b
                while count > 0 {  // |a| >= 2: at most 63 rounds before overflowing.
                    let product = result.multipliedReportingOverflow(by: a)
                    guard !product.overflow else { throw Failure(message: "this constant is beyond the 64-bit int range", range: range) }
                    result = product.partialValue
                    count -= 1
                }
                return .int(result)
            case .trueDivide, .bitwiseAnd, .bitwiseOr, .bitwiseXor:
                break
            }
        }
        let a = Self.double(left), b = Self.double(right)
        switch op {
        case .add: return .float(a + b)
        case .subtract: return .float(a - b)
        case .multiply: return .float(a * b)
        case .trueDivide: return .float(a / b)
        case .floorDivide, .modulo:
            throw Failure(message: "float // and % are not supported in constants; write the value", range: range)
        case .power: return .float(Self.pow(a, b))
        case .bitwiseAnd, .bitwiseOr, .bitwiseXor:
            throw Failure(message: "'\(op.rawValue)' is not supported in constants; write the value", range: range)
        }
    }

    /// C `pow` (as the language's float `**`).
    static func pow(_ a: Double, _ b: Double) -> Double { powForConstants(a, b) }
}

#if canImport(Glibc)
import Glibc
private func powForConstants(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
#else
import Darwin
private func powForConstants(_ a: Double, _ b: Double) -> Double { Darwin.pow(a, b) }
#endif
