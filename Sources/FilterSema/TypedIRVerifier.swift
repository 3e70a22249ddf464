import FilterLang

/// Checks that a typed program keeps the promises of `TypedIR.swift` (slots in range, operand types
/// already unified and converted, writable stores, returns of the right type...). Sema's output must
/// always pass; back ends may run it on hand-built programs.
public enum TypedIRVerifier {
    /// Every broken promise, as a readable line (empty when the program is well formed).
    public static func verify(_ program: TypedProgram) -> [String] {
        var verifier = Verifier(program: program)
        verifier.run()
        return verifier.problems
    }
}

private struct Verifier {
    let program: TypedProgram
    var problems: [String] = []
    var function = 0
    var loopDepth = 0
    /// The lane types of the `map` bodies being checked, innermost last.
    var laneTypes: [[ValueType]] = []

    init(program: TypedProgram) {
        self.program = program
    }

    mutating func problem(_ text: String) {
        let name = function < program.functions.count ? program.functions[function].name : "?"
        problems.append("\(name): \(text)")
    }

    var current: TypedFunction { program.functions[function] }

    mutating func run() {
        guard program.functions.indices.contains(program.kernelIndex) else {
            problems.append("kernel index \(program.kernelIndex) out of range")
            return
        }
        let kernel = program.kernel
        let arrays = program.kind.arrayParameterCount
        if program.kind != .arrayFunction && kernel.parameterCount != arrays + program.parameters.count {
            problems.append("kernel has \(kernel.parameterCount) parameters, expected \(arrays) arrays and \(program.parameters.count) run-time ones")
        }
        for (position, parameter) in program.parameters.enumerated() {
            if parameter.slot != arrays + position { problems.append("parameter \(parameter.name) in slot \(parameter.slot)") }
            if parameter.slot < kernel.locals.count, kernel.locals[parameter.slot].type != parameter.type {
                problems.append("parameter \(parameter.name) is \(parameter.type) but its slot is \(kernel.locals[parameter.slot].type)")
            }
            if parameter.type != .int && parameter.type != .float { problems.append("parameter \(parameter.name) has type \(parameter.type)") }
        }
        for position in 0..<min(arrays, kernel.locals.count) {
            let expected: ValueType = program.kind == .transform && position == 0 ? .intArray : .floatArray
            if kernel.locals[position].type != expected { problems.append("kernel array parameter \(position) is \(kernel.locals[position].type)") }
        }
        switch program.kind {
        case .filter: if kernel.returnType != .float { problems.append("a filter kernel must return float") }
        case .lineFilter, .transform: if kernel.returnType != nil { problems.append("a \(program.kind) kernel returns nothing") }
        case .arrayFunction:
            if let signature = program.arraySignature {
                if signature.arguments.count != kernel.parameterCount { problems.append("array function signature of \(signature.arguments.count) for \(kernel.parameterCount) parameters") }
                for (position, type) in signature.arguments.enumerated() where position < kernel.locals.count {
                    let local = kernel.locals[position]
                    switch type {
                    case .array(let layout): if local.type != .ndarray || local.layout != layout { problems.append("array parameter \(position) is \(local.type)") }
                    case .int: if local.type != .int { problems.append("int parameter \(position) is \(local.type)") }
                    case .float: if local.type != .float { problems.append("float parameter \(position) is \(local.type)") }
                    case .bool: if local.type != .bool { problems.append("bool parameter \(position) is \(local.type)") }
                    }
                }
            } else {
                problems.append("an array function without a signature")
            }
            if kernel.returnType == .ndarray && program.resultLayout == nil { problems.append("array result without a layout") }
        }
        for index in program.functions.indices {
            function = index
            if current.parameterCount > current.locals.count { problem("more parameters than slots") }
            if let type = current.returnType, type.isArray { problem("returns an array") }
            if current.returnType == .ndarray && (program.kind != .arrayFunction || index != program.kernelIndex) { problem("returns an n-dimensional array") }
            for local in current.locals where local.isWritable && !local.type.isArray && local.type != .ndarray {
                problem("scalar slot \(local.name) marked writable")
            }
            for local in current.locals where (local.type == .ndarray) != (local.layout != nil) {
                problem("slot \(local.name) of type \(local.type) with layout \(local.layout.map { "\($0)" } ?? "none")")
            }
            if program.kind != .arrayFunction || index != program.kernelIndex {
                for local in current.locals where local.type == .ndarray { problem("n-dimensional array slot \(local.name) outside an array function") }
            }
            statements(current.body)
            if current.returnType != nil && Verifier.fallsThrough(current.body) {
                problem("can reach its end without returning a value")
            }
        }
    }

    /// Whether running `body` can reach its end (a simple flow analysis, as Sema's).
    static func fallsThrough(_ body: [TStmt]) -> Bool {
        for statement in body {
            switch statement.kind {
            case .returnValue, .breakLoop, .continueLoop, .callbackFailure:
                return false
            case .ifStatement(_, let then, let orElse):
                if !fallsThrough(then) && !fallsThrough(orElse) { return false }
            case .whileLoop(let condition, let body):
                if isAlwaysTrue(condition) && !breaks(body) { return false }
            default:
                break
            }
        }
        return true
    }

    static func isAlwaysTrue(_ condition: TExpr) -> Bool {
        switch condition.kind {
        case .boolConstant(let value): return value
        case .convert(.truth, let operand):
            if case .intConstant(let value) = operand.kind { return value != 0 }
            if case .floatConstant(let value) = operand.kind { return value != 0 }
            return false
        default: return false
        }
    }

    /// Whether `body` has a `break` for the loop around it (not one of an inner loop).
    static func breaks(_ body: [TStmt]) -> Bool {
        body.contains { statement in
            switch statement.kind {
            case .breakLoop: return true
            case .ifStatement(_, let then, let orElse): return breaks(then) || breaks(orElse)
            default: return false
            }
        }
    }

    mutating func statements(_ body: [TStmt]) {
        for statement in body { self.statement(statement) }
    }

    mutating func statement(_ statement: TStmt) {
        switch statement.kind {
        case .expression(let value):
            _ = expression(value, allowNoValue: true)
        case .assign(let targets, let values):
            if targets.count != values.count || targets.isEmpty { problem("assignment of \(values.count) values to \(targets.count) targets") }
            for value in values { _ = expression(value) }
            for (target, value) in zip(targets, values) {
                switch target {
                case .local(let slot):
                    guard let type = slotType(slot) else { continue }
                    if type != value.type { problem("stores \(value.type) into slot \(slot) of type \(type)") }
                case .element(let array, let index):
                    _ = expression(array)
                    _ = expression(index)
                    if array.type != .floatArray { problem("element store into \(array.type)") }
                    if !isWritable(array) { problem("element store into a read-only array") }
                    if index.type != .int { problem("element index of type \(index.type)") }
                    if value.type != .float { problem("element store of \(value.type)") }
                case .ndElement(let slot, let indices):
                    ndIndices(slot, indices)
                    if !(value.type == .int || value.type == .float || value.type == .bool) { problem("n-d element store of \(value.type)") }
                }
            }
        case .ifStatement(let condition, let then, let orElse):
            requireBool(condition, "if condition")
            statements(then)
            statements(orElse)
        case .whileLoop(let condition, let body):
            requireBool(condition, "while condition")
            loopDepth += 1
            statements(body)
            loopDepth -= 1
        case .forRange(let slot, let start, let stop, let step, let body):
            for bound in [start, stop, step] where expression(bound) != .int { problem("range bound of type \(bound.type)") }
            if let type = slotType(slot), type != .int && type != .float { problem("range loop variable of type \(type)") }
            loopDepth += 1
            statements(body)
            loopDepth -= 1
        case .forEach(let slot, let array, let body):
            _ = expression(array)
            if !array.type.isArray { problem("for-each over \(array.type)") }
            if let type = slotType(slot) {
                let ok: Bool
                switch array.type {
                case .intArray: ok = type == .int || type == .float
                case .boolArray: ok = type == .bool || type == .int || type == .float
                default: ok = type == .float
                }
                if !ok { problem("for-each variable of type \(type) over \(array.type)") }
            }
            loopDepth += 1
            statements(body)
            loopDepth -= 1
        case .breakLoop, .continueLoop:
            if loopDepth == 0 { problem("break/continue outside a loop") }
        case .callbackFailure:
            if function != program.kernelIndex { problem("a callback failure outside the kernel") }
        case .returnValue(let value):
            if let value {
                _ = expression(value)
                if current.returnType != value.type { problem("returns \(value.type) from a function of type \(current.returnType.map { "\($0)" } ?? "nothing")") }
            } else if current.returnType != nil {
                problem("bare return in a function that returns \(current.returnType.map { "\($0)" } ?? "")")
            }
        }
    }

    func slotType(_ slot: Int) -> ValueType? {
        current.locals.indices.contains(slot) ? current.locals[slot].type : nil
    }

    /// The layout of the n-dimensional array slot `slot`, or nil after reporting that it is not one.
    mutating func ndLayout(_ slot: Int) -> NDLayout? {
        guard current.locals.indices.contains(slot), current.locals[slot].type == .ndarray, let layout = current.locals[slot].layout else {
            problem("slot \(slot) is not an n-dimensional array")
            return nil
        }
        return layout
    }

    /// One `.int` index per axis.
    mutating func ndIndices(_ slot: Int, _ indices: [TExpr]) {
        for index in indices where expression(index) != .int { problem("n-d index of type \(index.type)") }
        if let layout = ndLayout(slot), layout.rank != indices.count { problem("\(indices.count) indices into a rank-\(layout.rank) array") }
    }

    func isWritable(_ array: TExpr) -> Bool {
        switch array.kind {
        case .local(let slot): return current.locals.indices.contains(slot) && current.locals[slot].isWritable
        case .builtin: return true
        case .gather, .arrayOf, .floatArrayOf, .map, .compress: return array.type == .floatArray
        default: return false
        }
    }

    mutating func requireBool(_ value: TExpr, _ what: String) {
        if expression(value) != .bool { problem("\(what) of type \(value.type)") }
    }

    func isNumber(_ type: ValueType) -> Bool { type == .int || type == .float || type == .uint64 }

    /// Checks an expression and returns its type.
    @discardableResult
    mutating func expression(_ node: TExpr, allowNoValue: Bool = false) -> ValueType {
        let type = node.type
        switch node.kind {
        case .ndElement(let slot, let indices):
            ndIndices(slot, indices)
            if let layout = ndLayout(slot), type != layout.dtype.scalarType { problem("n-d element of \(layout) typed \(type)") }
        case .ndShape(let slot, let axis):
            if let layout = ndLayout(slot), !(0..<layout.rank).contains(axis) { problem("shape axis \(axis) of a rank-\(layout.rank) array") }
            if type != .int { problem("shape typed \(type)") }
        case .ndReduce(_, let slot):
            if let layout = ndLayout(slot), type != layout.dtype.scalarType { problem("reduction of \(layout) typed \(type)") }
        case .ndSize(let slot):
            _ = ndLayout(slot)
            if type != .int { problem("size typed \(type)") }
        case .ndAllocate(let layout, let shape):
            if shape.count != layout.rank { problem("allocation of rank \(layout.rank) with \(shape.count) extents") }
            for extent in shape where expression(extent) != .int { problem("extent of type \(extent.type)") }
            if type != .ndarray { problem("allocation typed \(type)") }
        case .intConstant: if type != .int { problem("int constant typed \(type)") }
        case .floatConstant: if type != .float { problem("float constant typed \(type)") }
        case .boolConstant: if type != .bool { problem("bool constant typed \(type)") }
        case .local(let slot):
            if let slotType = slotType(slot) {
                if slotType != type { problem("read of slot \(slot) (\(slotType)) typed \(type)") }
            } else {
                problem("slot \(slot) out of range")
            }
        case .convert(let conversion, let operand):
            let from = expression(operand)
            switch conversion {
            case .toFloat: if !(from == .int || from == .bool || from == .uint64) || type != .float { problem("toFloat from \(from) to \(type)") }
            case .toInt: if !(from == .bool || from == .uint64) || type != .int { problem("toInt from \(from) to \(type)") }
            case .truth: if !isNumber(from) || type != .bool { problem("truth of \(from) typed \(type)") }
            }
        case .negate(let operand):
            if expression(operand) != type || !isNumber(type) { problem("negate of \(operand.type) typed \(type)") }
        case .not(let operand):
            if expression(operand) != .bool || type != .bool { problem("not of \(operand.type)") }
        case .arithmetic(let op, let left, let right):
            let l = expression(left), r = expression(right)
            if l != type || r != type || !isNumber(type) { problem("\(op) of \(l), \(r) typed \(type)") }
            if op == .trueDivide && type != .float { problem("true division typed \(type)") }
        case .compare(let operands, let ops, let types):
            if operands.count != ops.count + 1 || types.count != ops.count { problem("malformed comparison chain") }
            for operand in operands where expression(operand).isArray { problem("comparison of an array") }
            for (index, compareType) in types.enumerated() where index + 1 < operands.count {
                var expected: ValueType = operands[index].type == .float || operands[index + 1].type == .float ? .float : .int
                if operands[index].type == .uint64 || operands[index + 1].type == .uint64 {
                    // A uint64 is compared only with a uint64 (Sema converts it to a float otherwise).
                    if operands[index].type != operands[index + 1].type { problem("comparison \(index) of a uint64 with \(operands[index].type), \(operands[index + 1].type)") }
                    expected = .uint64
                }
                if compareType != expected { problem("comparison \(index) in \(compareType), expected \(expected)") }
            }
            if type != .bool { problem("comparison typed \(type)") }
        case .logical(_, let left, let right):
            if expression(left) != type || expression(right) != type || type.isArray { problem("logical of \(left.type), \(right.type) typed \(type)") }
        case .conditional(let condition, let then, let orElse):
            requireBool(condition, "conditional")
            if expression(then) != type || expression(orElse) != type || type.isArray { problem("conditional branches \(then.type), \(orElse.type) typed \(type)") }
        case .element(let array, let index):
            let arrayType = expression(array)
            if expression(index) != .int { problem("index of type \(index.type)") }
            let expected: ValueType? = arrayType.elementType
            if expected != type { problem("element of \(arrayType) typed \(type)") }
        case .length(let array):
            if !expression(array).isArray || type != .int { problem("length of \(array.type) typed \(type)") }
        case .call(let index, let arguments):
            guard program.functions.indices.contains(index) else {
                problem("call of function \(index) out of range")
                break
            }
            let callee = program.functions[index]
            if arguments.count != callee.parameterCount { problem("call of \(callee.name) with \(arguments.count) arguments") }
            for (position, argument) in arguments.enumerated() where position < callee.locals.count {
                if expression(argument) != callee.locals[position].type {
                    problem("argument \(position) of \(callee.name) is \(argument.type), parameter is \(callee.locals[position].type)")
                }
                if callee.locals[position].isWritable && !isWritable(argument) { problem("read-only array passed to writable parameter of \(callee.name)") }
            }
            if let returnType = callee.returnType {
                if type != returnType { problem("call of \(callee.name) typed \(type), returns \(returnType)") }
            } else if !allowNoValue {
                problem("value of \(callee.name), which returns nothing, is used")
            }
        case .builtin(let builtin, let arguments):
            builtinCall(builtin, arguments, type: type, allowNoValue: allowNoValue)
        case .floatArrayConstant:
            if type != .floatArray { problem("float array constant typed \(type)") }
        case .intArrayConstant:
            if type != .intArray { problem("int array constant typed \(type)") }
        case .gather(let array, let indices):
            if expression(indices) != .intArray { problem("gather with indices of type \(indices.type)") }
            let arrayType = expression(array)
            if !arrayType.isArray || arrayType != type { problem("gather of \(arrayType) typed \(type)") }
        case .arrayOf(let elements):
            let expected: ValueType = type == .intArray ? .int : .float
            if !type.isArray { problem("array literal typed \(type)") }
            for element in elements where expression(element) != expected { problem("array literal element \(element.type) in \(type)") }
        case .floatArrayOf(let array):
            let from = expression(array)
            if !(from == .intArray || from == .boolArray) || type != .floatArray { problem("floatArrayOf \(array.type) typed \(type)") }
        case .map(let inputs, let body):
            let types = inputs.map { expression($0) }
            if !types.contains(where: \.isArray) { problem("map without an array input") }
            laneTypes.append(types.map { $0.elementType ?? $0 })
            let bodyType = expression(body)
            laneTypes.removeLast()
            if bodyType.arrayType != type { problem("map body \(bodyType) typed \(type)") }
        case .lane(let j):
            guard let lanes = laneTypes.last, lanes.indices.contains(j) else {
                problem("lane \(j) outside a map")
                break
            }
            if lanes[j] != type { problem("lane \(j) of \(lanes[j]) typed \(type)") }
        case .compress(let array, let mask):
            if expression(mask) != .boolArray { problem("compress with a mask of \(mask.type)") }
            if expression(array) != type || !type.isArray { problem("compress of \(array.type) typed \(type)") }
        case .slice(let array, let start, let stop, let step):
            for bound in [start, stop, step].compactMap({ $0 }) where expression(bound) != .int { problem("slice bound of \(bound.type)") }
            if expression(array) != type || !type.isArray { problem("slice of \(array.type) typed \(type)") }
        }
        return type
    }

    mutating func builtinCall(_ builtin: Builtin, _ arguments: [TExpr], type: ValueType, allowNoValue: Bool) {
        let types = arguments.map { expression($0) }
        func expect(_ expected: [ValueType], _ result: ValueType) {
            if types != expected || type != result { problem("\(builtin)(\(types)) typed \(type), expected \(expected) -> \(result)") }
        }
        switch builtin {
        case .pyMin, .pyMax, .pySum, .npMin, .npMax, .npSum, .prod, .mean, .median, .variance, .std,
             .nanmin, .nanmax, .nansum, .nanmean, .nanmedian:
            expect([.floatArray], .float)
        case .any, .all: expect([.floatArray], .bool)
        case .argmin, .argmax: expect([.floatArray], .int)
        case .percentile, .quantile: expect([.floatArray, .float], .float)
        case .average, .dot: expect([.floatArray, .floatArray], .float)
        case .zeros, .ones, .empty: expect([.int], .floatArray)
        case .copy, .sorted, .cumsum: expect([.floatArray], .floatArray)
        case .bincount: expect([.intArray, .int], .intArray)
        case .unique: expect([.floatArray], .floatArray)
        case .uniqueCounts: expect([.floatArray], .intArray)
        case .histogram: expect([.floatArray, .int, .float, .float, .bool], .intArray)
        case .histogramEdges: expect([.floatArray, .int, .float, .float, .bool], .floatArray)
        case .sortInPlace:
            if types != [.floatArray] || !allowNoValue || !arguments.allSatisfy(isWritable) { problem("sortInPlace misused") }
        case .pyMinOf, .pyMaxOf, .minimum, .maximum, .fmin, .fmax, .abs, .clip:
            let arity: ClosedRange<Int> = builtin == .abs ? 1...1 : builtin == .clip ? 3...3 : [.pyMinOf, .pyMaxOf].contains(builtin) ? 2...Int.max : 2...2
            if !arity.contains(types.count) || !isNumber(type) || types.contains(where: { $0 != type }) { problem("\(builtin)(\(types)) typed \(type)") }
        case .sqrt, .exp, .log, .log2, .log10, .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .tanh,
             .npFloor, .npCeil, .npTrunc, .npRound:
            expect([.float], .float)
        case .atan2, .hypot, .npHypot, .copysign, .pow: expect([.float, .float], .float)
        case .floorToInt, .ceilToInt, .truncToInt, .roundToInt, .toInt: expect([.float], .int)
        case .isnan, .isinf, .isfinite: expect([.float], .bool)
        }
    }
}
