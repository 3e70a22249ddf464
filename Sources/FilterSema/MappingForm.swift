// SciPy's own mapping form of a geometric_transform callback, as people pass Python functions to
// `scipy.ndimage.geometric_transform`: `def shift(output_coords, dy, dx): return (output_coords[0] - dy,
// output_coords[1] - dx)`. It is rewritten, before type checking, into the callback form the ABI
// wrapper expects: a hidden second array parameter receives the returned coordinates.

import FilterLang

/// The name of the hidden input-coordinates array (not a name a program can write: it would have to
/// spell it, and a clash is reported as a duplicate parameter).
let mappingFormOutputName = "__filterjit_in_coords"

/// Whether `function` is written in the mapping form: some `return` gives a tuple.
func isMappingForm(_ function: FunctionDef) -> Bool {
    returnedValues(in: function.body).contains { if case .tuple = $0.kind { return true } else { return false } }
}

/// The values of every `return value` statement in `body`, nested blocks included.
func returnedValues(in body: [Stmt]) -> [Expr] {
    var values: [Expr] = []
    for statement in body {
        switch statement.kind {
        case .returnStatement(let value?): values.append(value)
        case .ifStatement(let branches, let orElse):
            for branch in branches { values += returnedValues(in: branch.body) }
            if let orElse { values += returnedValues(in: orElse) }
        case .whileLoop(_, let body), .forLoop(_, _, let body): values += returnedValues(in: body)
        default: break
        }
    }
    return values
}

/// The callback form of a mapping-form kernel: `(output_coords, in, params...)`, each
/// `return (c0, c1, ...)` becoming `in[k] = ck` for every k below `len(in)` (SciPy ignores extra
/// items) and a bare `return`. A return of anything but a tuple is reported through `report`.
func callbackForm(ofMapping function: FunctionDef, report: (String, SourceRange) -> Void) -> FunctionDef {
    var rewritten = function
    let first = function.parameters.first
    let hidden = Parameter(name: mappingFormOutputName, range: first?.range ?? function.nameRange)
    rewritten.parameters = Array(function.parameters.prefix(1)) + [hidden] + Array(function.parameters.dropFirst())
    rewritten.body = rewriteReturns(function.body, report: report)
    return rewritten
}

private func rewriteReturns(_ body: [Stmt], report: (String, SourceRange) -> Void) -> [Stmt] {
    var result: [Stmt] = []
    for statement in body {
        switch statement.kind {
        case .returnStatement(let value?):
            guard case .tuple(let items) = value.kind else {
                report("a @transform in SciPy's mapping form returns a tuple of input coordinates, e.g. 'return (y, x)'",
                       value.range)
                result.append(Stmt(.returnStatement(nil), statement.range))
                continue
            }
            let range = statement.range
            let output = Expr(.name(mappingFormOutputName), range)
            let length = Expr(.call(callee: Expr(.name("len"), range), arguments: [output], keywords: []), range)
            for (k, item) in items.enumerated() {
                let position = Expr(.integer(Int64(k)), item.range)
                let store = Stmt(.assign(target: Expr(.index(base: output, index: position), item.range), value: item), item.range)
                let fits = Expr(.compare(first: position, rest: [Comparison(op: .less, right: length)]), item.range)
                result.append(Stmt(.ifStatement(branches: [ConditionalBlock(condition: fits, body: [store])], orElse: nil),
                                   item.range))
            }
            result.append(Stmt(.returnStatement(nil), range))
        case .ifStatement(let branches, let orElse):
            let newBranches = branches.map { ConditionalBlock(condition: $0.condition, body: rewriteReturns($0.body, report: report)) }
            result.append(Stmt(.ifStatement(branches: newBranches, orElse: orElse.map { rewriteReturns($0, report: report) }),
                               statement.range))
        case .whileLoop(let condition, let body):
            result.append(Stmt(.whileLoop(condition: condition, body: rewriteReturns(body, report: report)), statement.range))
        case .forLoop(let target, let iterable, let body):
            result.append(Stmt(.forLoop(target: target, iterable: iterable, body: rewriteReturns(body, report: report)),
                               statement.range))
        default:
            result.append(statement)
        }
    }
    return result
}
