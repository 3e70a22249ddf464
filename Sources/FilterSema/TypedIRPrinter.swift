import FilterLang

/// Renders a typed program as compact text (for `show`-style dumps and tests): one statement per
/// line, expressions as S-expressions with their types, slots as `$n:type`.
public enum TypedIRPrinter {
    /// The whole program: each function's signature, slots and body.
    public static func print(_ program: TypedProgram) -> String {
        var text = "kind \(program.kind.rawValue), kernel #\(program.kernelIndex)\n"
        for parameter in program.parameters {
            text += "parameter \(parameter.name): \(parameter.type.rawValue) = \(parameter.defaultValue) in $\(parameter.slot)\n"
        }
        for (index, function) in program.functions.enumerated() {
            let slots = function.locals.enumerated().map { slot, local in
                "$\(slot) \(local.name): \(local.type.rawValue)\(local.isWritable ? " writable" : "")"
            }
            text += "function #\(index) \(function.name) -> \(function.returnType?.rawValue ?? "nothing")\n"
            text += "  slots: " + slots.joined(separator: ", ") + "\n"
            let body = print(function.body, indent: "  ")
            if !body.isEmpty { text += body + "\n" }
        }
        return text
    }

    /// One expression as an S-expression.
    public static func print(_ expression: TExpr) -> String {
        let type = expression.type.rawValue
        switch expression.kind {
        case .intConstant(let value): return "\(value)"
        case .floatConstant(let value): return "\(value)"
        case .boolConstant(let value): return "\(value)"
        case .local(let slot): return "$\(slot):\(type)"
        case .convert(let conversion, let operand): return "(\(conversion.rawValue) \(print(operand)))"
        case .negate(let operand): return "(neg:\(type) \(print(operand)))"
        case .not(let operand): return "(not \(print(operand)))"
        case .arithmetic(let op, let left, let right): return "(\(op.rawValue):\(type) \(print(left)) \(print(right)))"
        case .compare(let operands, let ops, let types):
            var text = "(cmp"
            for (index, op) in ops.enumerated() { text += " \(op.rawValue):\(types[index].rawValue)" }
            return text + " " + operands.map { print($0) }.joined(separator: " ") + ")"
        case .logical(let op, let left, let right): return "(\(op.rawValue):\(type) \(print(left)) \(print(right)))"
        case .conditional(let condition, let then, let orElse): return "(if:\(type) \(print(condition)) \(print(then)) \(print(orElse)))"
        case .element(let array, let index): return "(elem:\(type) \(print(array)) \(print(index)))"
        case .length(let array): return "(len \(print(array)))"
        case .call(let function, let arguments): return "(call#\(function):\(type)" + arguments.map { " " + print($0) }.joined() + ")"
        case .builtin(let builtin, let arguments): return "(\(builtin.rawValue):\(type)" + arguments.map { " " + print($0) }.joined() + ")"
        case .floatArrayConstant(let values): return "(floats [" + values.map { "\($0)" }.joined(separator: " ") + "])"
        case .intArrayConstant(let values): return "(ints [" + values.map { "\($0)" }.joined(separator: " ") + "])"
        case .gather(let array, let indices): return "(gather:\(type) \(print(array)) \(print(indices)))"
        case .arrayOf(let elements): return "(array:\(type)" + elements.map { " " + print($0) }.joined() + ")"
        case .floatArrayOf(let array): return "(floats-of \(print(array)))"
        case .map(let inputs, let body): return "(map:\(type) [" + inputs.map { print($0) }.joined(separator: " ") + "] \(print(body)))"
        case .lane(let j): return "(lane\(j):\(type))"
        case .compress(let array, let mask): return "(compress:\(type) \(print(array)) \(print(mask)))"
        case .slice(let array, let start, let stop, let step):
            return "(slice:\(type) \(print(array))" + [start, stop, step].map { " " + ($0.map { print($0) } ?? "_") }.joined() + ")"
        case .ndElement(let slot, let indices): return "(nd-elem:\(type) $\(slot)" + indices.map { " " + print($0) }.joined() + ")"
        case .ndShape(let slot, let axis): return "(nd-shape $\(slot) \(axis))"
        case .ndSize(let slot): return "(nd-size $\(slot))"
        case .ndReduce(let operation, let slot): return "(nd-\(operation.rawValue):\(type) $\(slot))"
        case .ndAllocate(let layout, let shape): return "(nd-zeros \(layout)" + shape.map { " " + print($0) }.joined() + ")"
        }
    }

    /// Statements, one per line, nested bodies indented by two more spaces.
    public static func print(_ statements: [TStmt], indent: String = "") -> String {
        var lines: [String] = []
        for statement in statements {
            switch statement.kind {
            case .expression(let value): lines.append(indent + "expr " + print(value))
            case .assign(let targets, let values):
                let left = targets.map { target -> String in
                    switch target {
                    case .local(let slot): return "$\(slot)"
                    case .element(let array, let index): return "\(print(array))[\(print(index))]"
                    case .ndElement(let slot, let indices): return "$\(slot)[" + indices.map { print($0) }.joined(separator: ", ") + "]"
                    }
                }
                lines.append(indent + left.joined(separator: ", ") + " = " + values.map { print($0) }.joined(separator: ", "))
            case .ifStatement(let condition, let then, let orElse):
                lines.append(indent + "if " + print(condition))
                lines.append(print(then, indent: indent + "  "))
                if !orElse.isEmpty {
                    lines.append(indent + "else")
                    lines.append(print(orElse, indent: indent + "  "))
                }
            case .whileLoop(let condition, let body):
                lines.append(indent + "while " + print(condition))
                lines.append(print(body, indent: indent + "  "))
            case .forRange(let slot, let start, let stop, let step, let body):
                lines.append(indent + "for $\(slot) in range(\(print(start)), \(print(stop)), \(print(step)))")
                lines.append(print(body, indent: indent + "  "))
            case .forEach(let slot, let array, let body):
                lines.append(indent + "for $\(slot) in \(print(array))")
                lines.append(print(body, indent: indent + "  "))
            case .breakLoop: lines.append(indent + "break")
            case .continueLoop: lines.append(indent + "continue")
            case .returnValue(let value): lines.append(indent + "return" + (value.map { " " + print($0) } ?? ""))
            case .callbackFailure: lines.append(indent + "fail  # return 0 of a raw callback")
            }
        }
        return lines.filter { !$0.isEmpty }.joined(separator: "\n")
    }
}
