import FilterLang

/// Prints an AST as filter source text that parses back to an equal AST.
///
/// Parentheses are added only where precedence needs them; floats are printed with the
/// shortest text that reads back as the same double.
public enum ASTPrinter {
    /// The source text of a whole module.
    public static func print(_ module: SourceModule) -> String {
        var lines: [String] = []
        for item in module.items {
            switch item {
            case .importStatement(let statement):
                lines.append(printImport(statement))
            case .function(let function):
                printFunction(function, into: &lines)
            case .expression(let expression):
                lines.append(print(expression))
            case .constant(let statement):
                printBlock([statement], indent: "", into: &lines)
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    static func printImport(_ statement: ImportStatement) -> String {
        if let names = statement.names {
            let list = names.map { name in name.alias.map { "\(name.name) as \($0)" } ?? name.name }
            return "from \(statement.module) import \(list.joined(separator: ", "))"
        }
        return "import \(statement.module)" + (statement.alias.map { " as \($0)" } ?? "")
    }

    static func printFunction(_ function: FunctionDef, into lines: inout [String]) {
        for decorator in function.decorators {
            if decorator.arguments.isEmpty && decorator.keywords.isEmpty {
                lines.append("@\(decorator.name)")
            } else {
                let list = decorator.arguments.map { print($0) } + decorator.keywords.map { "\($0.name)=\(print($0.value))" }
                lines.append("@\(decorator.name)(\(list.joined(separator: ", ")))")
            }
        }
        let parameters = function.parameters.map { parameter in
            parameter.defaultValue.map { "\(parameter.name)=\(print($0))" } ?? parameter.name
        }
        lines.append("def \(function.name)(\(parameters.joined(separator: ", "))):")
        printBlock(function.body, indent: "    ", into: &lines)
    }

    static func printBlock(_ body: [Stmt], indent: String, into lines: inout [String]) {
        // An empty body (a function holding only a docstring) prints as a docstring, which the
        // parser drops again, so the round trip keeps it empty.
        if body.isEmpty {
            lines.append(indent + "\"\"")
            return
        }
        for statement in body {
            printStatement(statement, indent: indent, into: &lines)
        }
    }

    /// The source lines of one statement.
    public static func printStatement(_ statement: Stmt, indent: String, into lines: inout [String]) {
        let inner = indent + "    "
        switch statement.kind {
        case .expression(let expression):
            lines.append(indent + printList(expression))
        case .assign(let target, let value):
            lines.append(indent + "\(printList(target)) = \(printList(value))")
        case .augmentedAssign(let target, let op, let value):
            lines.append(indent + "\(printList(target)) \(op.rawValue)= \(print(value))")
        case .ifStatement(let branches, let orElse):
            for (position, branch) in branches.enumerated() {
                lines.append(indent + (position == 0 ? "if " : "elif ") + print(branch.condition) + ":")
                printBlock(branch.body, indent: inner, into: &lines)
            }
            if let orElse {
                lines.append(indent + "else:")
                printBlock(orElse, indent: inner, into: &lines)
            }
        case .whileLoop(let condition, let body):
            lines.append(indent + "while \(print(condition)):")
            printBlock(body, indent: inner, into: &lines)
        case .forLoop(let target, let iterable, let body):
            lines.append(indent + "for \(printList(target)) in \(print(iterable)):")
            printBlock(body, indent: inner, into: &lines)
        case .breakStatement:
            lines.append(indent + "break")
        case .continueStatement:
            lines.append(indent + "continue")
        case .pass:
            lines.append(indent + "pass")
        case .returnStatement(let value):
            lines.append(indent + (value.map { "return " + printList($0) } ?? "return"))
        }
    }

    /// A top-level tuple without parentheses (`a, b`); anything else as `print`.
    static func printList(_ expression: Expr) -> String {
        if case .tuple(let elements) = expression.kind, elements.count > 1 {
            return elements.map { print($0) }.joined(separator: ", ")
        }
        return print(expression)
    }

    // Precedence levels, loosest first, as in grammar/filter.ebnf.
    private static let conditionalLevel = 1, orLevel = 2, andLevel = 3, notLevel = 4, compareLevel = 5
    private static let bitwiseOrLevel = 6, bitwiseXorLevel = 7, bitwiseAndLevel = 8
    private static let sumLevel = 9, termLevel = 10, unaryLevel = 11, powerLevel = 12, primaryLevel = 13

    private static func level(of expression: Expr) -> Int {
        switch expression.kind {
        case .conditional: return conditionalLevel
        case .logical(.or, _, _): return orLevel
        case .logical(.and, _, _): return andLevel
        case .unary(.not, _): return notLevel
        case .compare: return compareLevel
        case .binary(.add, _, _), .binary(.subtract, _, _): return sumLevel
        case .binary(.power, _, _): return powerLevel
        case .binary(.bitwiseOr, _, _): return bitwiseOrLevel
        case .binary(.bitwiseXor, _, _): return bitwiseXorLevel
        case .binary(.bitwiseAnd, _, _): return bitwiseAndLevel
        case .binary: return termLevel
        case .unary: return unaryLevel
        case .tuple: return 0
        default: return primaryLevel
        }
    }

    /// `expression` printed so that it parses at precedence `minimum` or tighter.
    private static func print(_ expression: Expr, atLeast minimum: Int) -> String {
        let text = print(expression)
        return level(of: expression) < minimum ? "(\(text))" : text
    }

    /// The source text of an expression.
    public static func print(_ expression: Expr) -> String {
        switch expression.kind {
        case .integer(let value):
            return String(value)
        case .float(let value):
            return formatFloat(value)
        case .boolean(let value):
            return value ? "True" : "False"
        case .string(let value):
            return quote(value)
        case .name(let name):
            return name
        case .attribute(let base, let name):
            // `1.real` would lex as the float `1.` followed by a name.
            if case .integer = base.kind { return "(\(print(base))).\(name)" }
            return print(base, atLeast: primaryLevel) + "." + name
        case .call(let callee, let arguments, let keywords):
            let list = arguments.map { print($0, atLeast: conditionalLevel) } + keywords.map { "\($0.name)=\(print($0.value, atLeast: conditionalLevel))" }
            return print(callee, atLeast: primaryLevel) + "(" + list.joined(separator: ", ") + ")"
        case .index(let base, let index):
            return print(base, atLeast: primaryLevel) + "[" + print(index, atLeast: conditionalLevel) + "]"
        case .unary(.not, let operand):
            return "not " + print(operand, atLeast: notLevel)
        case .unary(let op, let operand):
            return op.rawValue + print(operand, atLeast: unaryLevel)
        case .binary(.power, let left, let right):
            // Right associative: the base must bind tighter than `**`, the exponent may be a unary.
            return print(left, atLeast: primaryLevel) + " ** " + print(right, atLeast: unaryLevel)
        case .binary(let op, let left, let right):
            let mine = level(of: expression)
            return print(left, atLeast: mine) + " \(op.rawValue) " + print(right, atLeast: mine + 1)
        case .compare(let first, let rest):
            var text = print(first, atLeast: bitwiseOrLevel)
            for link in rest {
                text += " \(link.op.rawValue) " + print(link.right, atLeast: bitwiseOrLevel)
            }
            return text
        case .logical(let op, let left, let right):
            let mine = level(of: expression)
            return print(left, atLeast: mine) + " \(op.rawValue) " + print(right, atLeast: mine + 1)
        case .conditional(let then, let condition, let orElse):
            return print(then, atLeast: orLevel) + " if " + print(condition, atLeast: orLevel) + " else " + print(orElse, atLeast: conditionalLevel)
        case .tuple(let elements):
            if elements.count == 1 { return "(" + print(elements[0], atLeast: conditionalLevel) + ",)" }
            return "(" + elements.map { print($0, atLeast: conditionalLevel) }.joined(separator: ", ") + ")"
        case .list(let elements):
            return "[" + elements.map { print($0, atLeast: conditionalLevel) }.joined(separator: ", ") + "]"
        case .slice(let lower, let upper, let step):
            var text = (lower.map { print($0, atLeast: conditionalLevel) } ?? "") + ":" + (upper.map { print($0, atLeast: conditionalLevel) } ?? "")
            if let step { text += ":" + print(step, atLeast: conditionalLevel) }
            return text
        }
    }

    /// A float literal that lexes back to exactly `value` (always with a `.` or an exponent).
    public static func formatFloat(_ value: Double) -> String {
        if value.isInfinite { return value < 0 ? "-1e999" : "1e999" }
        if value.isNaN { return "(1e999 - 1e999)" }
        var text = "\(value)"  // Swift prints the shortest round-tripping digits.
        if !text.contains(".") && !text.contains("e") { text += ".0" }
        return text
    }

    /// A string literal with the characters the lexer decodes escaped.
    static func quote(_ value: String) -> String {
        var text = "\""
        for character in value {
            switch character {
            case "\\": text += "\\\\"
            case "\"": text += "\\\""
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            default: text.append(character)
            }
        }
        return text + "\""
    }
}
