import FilterLang
import FilterParser
import Testing

/// A fully parenthesised rendering of an expression, to check grouping.
private func grouping(_ text: String) -> String {
    guard let expression = parseExpression(text) else { return "PARSE ERROR: \(parseErrors(text))" }
    return render(expression)
}

private func render(_ expression: Expr) -> String {
    switch expression.kind {
    case .integer(let value): return "\(value)"
    case .float(let value): return "\(value)"
    case .boolean(let value): return "\(value)"
    case .string(let value): return "'\(value)'"
    case .name(let name): return name
    case .attribute(let base, let name): return "\(render(base)).\(name)"
    case .call(let callee, let arguments, let keywords):
        return "\(render(callee))(" + (arguments.map(render) + keywords.map { "\($0.name)=\(render($0.value))" }).joined(separator: ", ") + ")"
    case .index(let base, let index): return "\(render(base))[\(render(index))]"
    case .unary(let op, let operand): return "(\(op.rawValue) \(render(operand)))"
    case .binary(let op, let left, let right): return "(\(render(left)) \(op.rawValue) \(render(right)))"
    case .compare(let first, let rest): return "(" + render(first) + rest.map { " \($0.op.rawValue) \(render($0.right))" }.joined() + ")"
    case .logical(let op, let left, let right): return "(\(render(left)) \(op.rawValue) \(render(right)))"
    case .conditional(let then, let condition, let orElse): return "(\(render(then)) if \(render(condition)) else \(render(orElse)))"
    case .tuple(let elements): return "tuple(" + elements.map(render).joined(separator: ", ") + ")"
    case .list(let elements): return "list(" + elements.map(render).joined(separator: ", ") + ")"
    case .slice(let lower, let upper, let step): return "slice(\(lower.map(render) ?? "_"), \(upper.map(render) ?? "_"), \(step.map(render) ?? "_"))"
    }
}

@Test func operatorPrecedenceAndAssociativity() {
    #expect(grouping("-2**2") == "(- (2 ** 2))")
    #expect(grouping("2**-1") == "(2 ** (- 1))")
    #expect(grouping("2**3**2") == "(2 ** (3 ** 2))")
    #expect(grouping("a - b - c") == "((a - b) - c)")
    #expect(grouping("a + b * c // d % e") == "(a + (((b * c) // d) % e))")
    #expect(grouping("-a * b") == "((- a) * b)")
    #expect(grouping("not a == b") == "(not (a == b))")
    #expect(grouping("a or b and not c") == "(a or (b and (not c)))")
    #expect(grouping("a < b + 1 <= c") == "(a < (b + 1) <= c)")
    #expect(grouping("a if b else c if d else e") == "(a if b else (c if d else e))")
    #expect(grouping("x or y if c else z") == "((x or y) if c else z)")
    #expect(grouping("f(x)[i].y(z=1)") == "f(x)[i].y(z=1)")
    #expect(grouping("-x.y ** 2") == "(- (x.y ** 2))")
    #expect(grouping("a[1:2]") == "a[slice(1, 2, _)]")
    #expect(grouping("[a, b]") == "list(a, b)")
}

@Test func statementsCarryTheirRanges() {
    let result = parse("def f(values):\n    x = 1\n    return x\n")
    guard case .function(let function)? = result.module.items.first else {
        Issue.record("no function")
        return
    }
    #expect(function.nameRange == SourceRange(4, 5))
    #expect(function.body.map(\.range) == [SourceRange(19, 24), SourceRange(29, 37)])
}

@Test func docstringsAreDroppedInsideFunctionsOnly() {
    let result = parse("\"\"\"Module.\"\"\"\ndef f(values):\n    \"\"\"Doc.\"\"\"\n    return 1\n")
    #expect(result.diagnostics.isEmpty)
    guard result.module.items.count == 2, case .expression(let doc) = result.module.items[0], case .function(let function) = result.module.items[1] else {
        Issue.record("unexpected items \(result.module.items)")
        return
    }
    #expect(doc.kind == .string("Module."))
    #expect(function.body.count == 1)
}

@Test func recoveryReportsOneErrorPerBrokenStatementAndKeepsTheRest() {
    let text = """
    def f(values):
        x = (1 +
             )
        y = 2 2
        z = 3
        if z
            z = 4
        return z
    """
    #expect(parseErrors(text) == [
        "3:10: expected an expression after '+', found ')'",
        "4:11: expected end of line after statement, found '2'",
        "6:9: expected ':' after 'if' condition, found end of line",
    ])
    guard case .function(let function)? = parse(text).module.items.first else {
        Issue.record("the function was lost")
        return
    }
    // `z = 3` and `return z` survive.
    #expect(function.body.count == 2)
}

@Test func importForms() {
    let result = parse("import numpy as np\nimport math\nfrom math import sqrt, pi as PI\nfrom numpy import (min,\n  max)\n")
    #expect(result.diagnostics.isEmpty)
    let imports = result.module.items.compactMap { item -> ImportStatement? in
        if case .importStatement(let statement) = item { return statement }
        return nil
    }
    #expect(imports.map(\.module) == ["numpy", "math", "math", "numpy"])
    #expect(imports[0].alias == "np")
    #expect(imports[2].names?.map(\.name) == ["sqrt", "pi"])
    #expect(imports[2].names?.map(\.alias) == [nil, "PI"])
    #expect(imports[3].names?.count == 2)
}

@Test func unsupportedPythonFeaturesAreNamed() {
    let cases: [(String, String)] = [
        ("x = lambda: 1", "lambda expressions are not supported"),
        ("x = {1: 2}", "dictionaries and sets are not supported"),
        ("x = a is b", "the 'is' operator is not supported"),
        ("x = a not in b", "the 'in' operator is only supported in 'for' loops"),
        ("x = a >> b", "bitwise operator '>>' is not supported"),
        ("x = a << 2", "bitwise operator '<<' is not supported"),
        ("x &= 1", "augmented assignment '&=' is not supported; write x = x & y"),
        ("f(**k)", "star arguments"),
        ("x = f'{a}'", "f-strings are not supported"),
        ("x = [a for a in b]", "list comprehensions are not supported"),
        ("x = (yield)", "yield (generators) is not supported"),
        ("x = None", "None is not supported"),
        ("async def f(values): pass", "async code is not supported"),
        ("x: float = 1.0", "variable annotations"),
        ("a = b = 1", "chained assignment is not supported"),
        ("x = ...", "Ellipsis"),
        ("from numpy import *", "'import *' is not supported"),
    ]
    for (text, fragment) in cases {
        let errors = parseErrors(text)
        #expect(errors.count == 1 && errors[0].contains(fragment), "\(text): \(errors)")
    }
}

@Test func emptyAndCommentOnlyFilesParseToNothing() {
    for text in ["", "\n\n", "# only a comment\n", "   \n\t\n"] {
        let result = parse(text)
        #expect(result.diagnostics.isEmpty, "\(text.debugDescription)")
        #expect(result.module.items.isEmpty)
    }
}

@Test func expressionsCPythonRejectsAreRejected() {
    #expect(!expressionRejectedCases.isEmpty)
    for text in expressionRejectedCases {
        #expect(!parseErrors(text).isEmpty, "\(text)")
    }
}

@Test func expressionGroupingAgreesWithCPython() {
    // Cases generated from CPython 3.11's parser by scripts/expression_grouping.py.
    #expect(expressionGroupingCases.count >= 500)
    var disagreements: [String] = []
    for (text, expected) in expressionGroupingCases {
        let actual = grouping(text)
        if actual != expected { disagreements.append("\(text)\n  CPython: \(expected)\n  parser:  \(actual)") }
    }
    #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.prefix(10).joined(separator: "\n"))")
}
