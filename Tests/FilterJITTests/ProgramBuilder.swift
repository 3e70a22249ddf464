// A small DSL for building typed programs by hand (codegen tests do not need the front end).

import FilterLang

/// Typed-expression constructors.
enum E {
    static let here = SourceRange(0, 1)

    static func int(_ value: Int64) -> TExpr { TExpr(.intConstant(value), .int, here) }
    static func float(_ value: Double) -> TExpr { TExpr(.floatConstant(value), .float, here) }
    static func bool(_ value: Bool) -> TExpr { TExpr(.boolConstant(value), .bool, here) }
    static func local(_ slot: Int, _ type: ValueType) -> TExpr { TExpr(.local(slot), type, here) }
    static func toFloat(_ x: TExpr) -> TExpr { TExpr(.convert(.toFloat, x), .float, here) }
    static func toInt(_ x: TExpr) -> TExpr { TExpr(.convert(.toInt, x), .int, here) }
    static func truth(_ x: TExpr) -> TExpr { TExpr(.convert(.truth, x), .bool, here) }
    static func negate(_ x: TExpr) -> TExpr { TExpr(.negate(x), x.type, here) }
    static func not(_ x: TExpr) -> TExpr { TExpr(.not(x), .bool, here) }
    static func arithmetic(_ operation: TArithmetic, _ a: TExpr, _ b: TExpr) -> TExpr {
        TExpr(.arithmetic(operation, a, b), operation == .trueDivide ? .float : a.type, here)
    }
    static func compare(_ operation: CompareOperator, _ a: TExpr, _ b: TExpr, as type: ValueType? = nil) -> TExpr {
        let common: ValueType = type ?? ((a.type == .float || b.type == .float) ? .float : .int)
        return TExpr(.compare(operands: [a, b], ops: [operation], compareTypes: [common]), .bool, here)
    }
    static func chain(_ operands: [TExpr], _ ops: [CompareOperator], _ types: [ValueType]) -> TExpr {
        TExpr(.compare(operands: operands, ops: ops, compareTypes: types), .bool, here)
    }
    static func logical(_ operation: LogicalOperator, _ a: TExpr, _ b: TExpr) -> TExpr {
        TExpr(.logical(operation, a, b), a.type, here)
    }
    static func conditional(_ condition: TExpr, _ a: TExpr, _ b: TExpr) -> TExpr {
        TExpr(.conditional(condition: condition, then: a, orElse: b), a.type, here)
    }
    static func element(_ array: TExpr, _ index: TExpr, at range: SourceRange = here) -> TExpr {
        TExpr(.element(array: array, index: index), array.type == .intArray ? .int : .float, range)
    }
    static func length(_ array: TExpr) -> TExpr { TExpr(.length(array), .int, here) }
    static func call(_ function: Int, _ arguments: [TExpr], returning type: ValueType) -> TExpr {
        TExpr(.call(function: function, arguments: arguments), type, here)
    }
    static func builtin(_ builtin: Builtin, _ arguments: [TExpr], _ type: ValueType, at range: SourceRange = here) -> TExpr {
        TExpr(.builtin(builtin, arguments), type, range)
    }
}

/// Typed-statement constructors.
enum S {
    static let here = SourceRange(0, 1)

    static func assign(_ slot: Int, _ value: TExpr) -> TStmt { TStmt(.assign(targets: [.local(slot)], values: [value]), here) }
    static func store(_ array: TExpr, _ index: TExpr, _ value: TExpr, at range: SourceRange = here) -> TStmt {
        TStmt(.assign(targets: [.element(array: array, index: index)], values: [value]), range)
    }
    static func expression(_ value: TExpr) -> TStmt { TStmt(.expression(value), here) }
    static func ret(_ value: TExpr? = nil) -> TStmt { TStmt(.returnValue(value), here) }
    static func when(_ condition: TExpr, _ then: [TStmt], else orElse: [TStmt] = []) -> TStmt {
        TStmt(.ifStatement(condition: condition, then: then, orElse: orElse), here)
    }
    static func loop(while condition: TExpr, _ body: [TStmt]) -> TStmt { TStmt(.whileLoop(condition: condition, body: body), here) }
    static func range(_ slot: Int, _ start: TExpr, _ stop: TExpr, _ step: TExpr = E.int(1), _ body: [TStmt]) -> TStmt {
        TStmt(.forRange(slot: slot, start: start, stop: stop, step: step, body: body), here)
    }
    static func each(_ slot: Int, _ array: TExpr, _ body: [TStmt]) -> TStmt { TStmt(.forEach(slot: slot, array: array, body: body), here) }
    static let breakLoop = TStmt(.breakLoop, here)
    static let continueLoop = TStmt(.continueLoop, here)
}

/// Whole-program constructors.
enum P {
    /// A `@filter` kernel `name(values, params...)` with extra locals after the parameters.
    static func filter(_ name: String = "kernel", parameters: [(String, ValueType, Double)] = [],
                       locals: [LocalVariable] = [], returning: ValueType = .float, helpers: [TypedFunction] = [],
                       _ body: [TStmt]) -> TypedProgram {
        kernel(name, kind: .filter, arrays: [LocalVariable(name: "values", type: .floatArray)],
               parameters: parameters, locals: locals, returning: returning, helpers: helpers, body)
    }

    /// A `@line_filter` kernel `name(line, out, params...)`.
    static func lineFilter(_ name: String = "line", parameters: [(String, ValueType, Double)] = [],
                           locals: [LocalVariable] = [], _ body: [TStmt]) -> TypedProgram {
        kernel(name, kind: .lineFilter, arrays: [LocalVariable(name: "line", type: .floatArray),
                                                 LocalVariable(name: "out", type: .floatArray, isWritable: true)],
               parameters: parameters, locals: locals, returning: nil, helpers: [], body)
    }

    /// A `@transform` kernel `name(out_coords, in_coords, params...)`.
    static func transform(_ name: String = "mapping", parameters: [(String, ValueType, Double)] = [],
                          locals: [LocalVariable] = [], _ body: [TStmt]) -> TypedProgram {
        kernel(name, kind: .transform, arrays: [LocalVariable(name: "out_coords", type: .intArray),
                                                LocalVariable(name: "in_coords", type: .floatArray, isWritable: true)],
               parameters: parameters, locals: locals, returning: nil, helpers: [], body)
    }

    static func kernel(_ name: String, kind: KernelKind, arrays: [LocalVariable], parameters: [(String, ValueType, Double)],
                       locals: [LocalVariable], returning: ValueType?, helpers: [TypedFunction], _ body: [TStmt]) -> TypedProgram {
        let parameterLocals = parameters.map { LocalVariable(name: $0.0, type: $0.1) }
        let kernelParameters = parameters.enumerated().map { index, parameter in
            KernelParameter(name: parameter.0, type: parameter.1, defaultValue: parameter.2, slot: arrays.count + index)
        }
        let function = TypedFunction(name: name, locals: arrays + parameterLocals + locals,
                                     parameterCount: arrays.count + parameters.count, returnType: returning,
                                     body: body, range: SourceRange(0, 10))
        return TypedProgram(functions: helpers + [function], kernelIndex: helpers.count, kind: kind, parameters: kernelParameters)
    }
}
