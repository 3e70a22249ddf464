import FilterLang
import FilterSema
import Testing

/// The type Sema gives `text`: the type of a variable assigned only from it.
private func inferredType(of text: String) -> String {
    let (program, errors) = compile("def f(values):\n    x = \(text)\n    return 0.0\n")
    guard let program else { return "ERROR: \(errors)" }
    guard let slot = program.kernel.locals.first(where: { $0.name == "x" }) else { return "no slot" }
    return slot.type.rawValue
}

@Test func expressionTypesAgreeWithPython() {
    // Cases generated from CPython 3.11 + NumPy by scripts/expression_types.py.
    #expect(expressionTypeCases.count >= 500)
    var disagreements: [String] = []
    for (expression, type) in expressionTypeCases {
        let inferred = inferredType(of: expression)
        if inferred != type { disagreements.append("\(expression): Python \(type), Sema \(inferred)") }
    }
    #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.prefix(20).joined(separator: "\n"))")
}
