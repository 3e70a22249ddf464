import FilterLang
import FilterParser
import FilterSema
import Foundation

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Checks `text` and returns the program, or nil with the rendered diagnostics.
func compile(_ text: String, function: String? = nil, name: String = "<test>") -> (TypedProgram?, String) {
    let file = SourceFile(name: name, text: text)
    switch FrontEnd.check(file, function: function) {
    case .success(let program): return (program, "")
    case .failure(let error): return (nil, error.description)
    }
}

/// The diagnostics of `text` as `line:col: severity: message` lines.
func diagnosticLines(_ text: String, function: String? = nil) -> [String] {
    let file = SourceFile(name: "<test>", text: text)
    switch FrontEnd.check(file, function: function) {
    case .success: return []
    case .failure(let error):
        return error.diagnostics.map { diagnostic in
            let location = file.location(of: diagnostic.range.start)
            return "\(location.line):\(location.column): \(diagnostic.severity.rawValue): \(diagnostic.message)"
        }
    }
}

/// A compact S-expression of a typed expression, for shape checks.
func dump(_ expression: TExpr) -> String {
    let type = expression.type.rawValue
    switch expression.kind {
    case .intConstant(let value): return "\(value)"
    case .floatConstant(let value): return "\(value)"
    case .boolConstant(let value): return "\(value)"
    case .local(let slot): return "$\(slot):\(type)"
    case .convert(let conversion, let operand): return "(\(conversion.rawValue) \(dump(operand)))"
    case .negate(let operand): return "(neg:\(type) \(dump(operand)))"
    case .not(let operand): return "(not \(dump(operand)))"
    case .arithmetic(let op, let left, let right): return "(\(op.rawValue):\(type) \(dump(left)) \(dump(right)))"
    case .compare(let operands, let ops, let types):
        var text = "(cmp"
        for (index, op) in ops.enumerated() { text += " \(op.rawValue):\(types[index].rawValue)" }
        return text + " " + operands.map(dump).joined(separator: " ") + ")"
    case .logical(let op, let left, let right): return "(\(op.rawValue):\(type) \(dump(left)) \(dump(right)))"
    case .conditional(let condition, let then, let orElse): return "(if:\(type) \(dump(condition)) \(dump(then)) \(dump(orElse)))"
    case .element(let array, let index): return "(elem:\(type) \(dump(array)) \(dump(index)))"
    case .length(let array): return "(len \(dump(array)))"
    case .call(let function, let arguments): return "(call#\(function):\(type)" + arguments.map { " " + dump($0) }.joined() + ")"
    case .builtin(let builtin, let arguments): return "(\(builtin.rawValue):\(type)" + arguments.map { " " + dump($0) }.joined() + ")"
    }
}

/// A compact text of typed statements, one per line, indented by nesting.
func dump(_ statements: [TStmt], indent: String = "") -> String {
    var lines: [String] = []
    for statement in statements {
        switch statement.kind {
        case .expression(let value): lines.append(indent + "expr " + dump(value))
        case .assign(let targets, let values):
            let left = targets.map { target -> String in
                switch target {
                case .local(let slot): return "$\(slot)"
                case .element(let array, let index): return "\(dump(array))[\(dump(index))]"
                }
            }
            lines.append(indent + left.joined(separator: ", ") + " = " + values.map(dump).joined(separator: ", "))
        case .ifStatement(let condition, let then, let orElse):
            lines.append(indent + "if " + dump(condition))
            lines.append(dump(then, indent: indent + "  "))
            if !orElse.isEmpty {
                lines.append(indent + "else")
                lines.append(dump(orElse, indent: indent + "  "))
            }
        case .whileLoop(let condition, let body):
            lines.append(indent + "while " + dump(condition))
            lines.append(dump(body, indent: indent + "  "))
        case .forRange(let slot, let start, let stop, let step, let body):
            lines.append(indent + "for $\(slot) in range(\(dump(start)), \(dump(stop)), \(dump(step)))")
            lines.append(dump(body, indent: indent + "  "))
        case .forEach(let slot, let array, let body):
            lines.append(indent + "for $\(slot) in \(dump(array))")
            lines.append(dump(body, indent: indent + "  "))
        case .breakLoop: lines.append(indent + "break")
        case .continueLoop: lines.append(indent + "continue")
        case .returnValue(let value): lines.append(indent + "return" + (value.map { " " + dump($0) } ?? ""))
        }
    }
    return lines.filter { !$0.isEmpty }.joined(separator: "\n")
}
