// Numba's raw-pointer SciPy callback form (issue 15), compiled unchanged:
//
//     from numba import cfunc, carray
//     from numba.types import intc, intp, float64, voidptr, CPointer
//
//     @cfunc(intc(CPointer(float64), intp, CPointer(float64), voidptr))
//     def nbmin(values_ptr, len_values, result, data):
//         values = carray(values_ptr, (len_values,), dtype=float64)
//         result[0] = np.inf
//         for v in values:
//             if v < result[0]:
//                 result[0] = v
//         return 1
//
// The `@cfunc` signature must be one of SciPy's three callback ABIs; it decides the kernel kind. Before
// type checking the def is rewritten (desugared) into the ordinary kernel of that kind:
// - each raw pointer becomes the kind's array parameter, named after its `carray` view when the body
//   has one at its top level (`values = carray(values_ptr, (len_values,), dtype=float64)` makes the
//   parameter `values` and the statement disappears), else after the pointer (`values_ptr[i]` is then
//   an ordinary checked index);
// - each length parameter (`len_values`, `input_length`, `output_rank`, ...) becomes `len(array)`;
// - (generic_filter) `result[0]` becomes a float local `result`, set to 0.0 on entry, and `return 1`
//   (any non-zero status) returns it; `result[k]` with k != 0 is an error;
// - `return 0` fails the call as a run-time error does (the callback returns 0, SciPy raises); a status
//   that is not a literal is tested at run time (non-zero: success, as SciPy's `if (!func(...))`);
// - `data` (SciPy's user_data) cannot be used: the raw form has no named run-time parameters.

import FilterLang
import FilterParser

/// The name of the hidden statement `return 0` becomes (not spellable: `$` is no identifier character).
let rawCallbackFailureName = "$callback_failure"

/// Why a type expression is not one of the callback signatures' types.
struct NumbaTypeError: Error {
    var message: String
    var range: SourceRange
}

/// Names Numba exports that the raw callback form uses.
enum NumbaNames {
    /// Names `from numba import ...` may bring in (besides these, the type names).
    static let functions: Set<String> = ["cfunc", "carray", "jit", "njit"]
    /// The type names of the three SciPy callback signatures, with the aliases Numba has for them on
    /// 64-bit Linux (`intc` is `int32`, `intp` is `int64`, `double` is `float64`).
    static let types: [String: String] = [
        "intc": "int32", "int32": "int32", "intp": "int64", "int64": "int64",
        "float64": "float64", "double": "float64", "voidptr": "voidptr", "CPointer": "CPointer",
    ]
    /// Modules that can be imported: `numba` and its `types` namespace.
    static let modules: Set<String> = ["numba", "numba.types", "numba.core.types"]
    /// `@cfunc` keywords that do not change what the callback computes (accepted and ignored).
    static let ignoredKeywords: Set<String> = ["nopython", "cache", "nogil", "fastmath", "error_model", "boundscheck"]

    /// The signatures SciPy accepts, canonical form -> kernel kind.
    static let abis: [(signature: String, kind: KernelKind, spelling: String)] = [
        ("int32(ptr(float64), int64, ptr(float64), voidptr)", .filter,
         "intc(CPointer(float64), intp, CPointer(float64), voidptr)  (generic_filter)"),
        ("int32(ptr(float64), int64, ptr(float64), int64, voidptr)", .lineFilter,
         "intc(CPointer(float64), intp, CPointer(float64), intp, voidptr)  (generic_filter1d)"),
        ("int32(ptr(int64), ptr(float64), int32, int32, voidptr)", .transform,
         "intc(CPointer(intp), CPointer(float64), intc, intc, voidptr)  (geometric_transform)"),
    ]

    static var expectedSignatures: String {
        abis.map(\.spelling).joined(separator: "; ")
    }
}

extension ProgramChecker {
    /// The Numba module an expression names (`numba`, `nb`, `numba.types`, `types`), or nil.
    func numbaModule(of expression: Expr) -> String? {
        switch expression.kind {
        case .name(let name): return numbaModules[name]
        case .attribute(let base, let name):
            guard let module = numbaModule(of: base) else { return nil }
            let dotted = module + "." + name
            return NumbaNames.modules.contains(dotted) || dotted == "numba.core" ? dotted : nil
        default: return nil
        }
    }

    /// The Numba name an expression refers to (`cfunc`, `numba.cfunc`, `types.intc`, `nb.types.float64`), or nil.
    func numbaName(of expression: Expr) -> String? {
        switch expression.kind {
        case .name(let name): return numbaNames[name]
        case .attribute(let base, let name): return numbaModule(of: base) != nil ? name : nil
        default: return nil
        }
    }

    /// Whether a decorator is Numba's `@cfunc`.
    func isCFuncDecorator(_ decorator: Decorator) -> Bool {
        if numbaNames[decorator.name] == "cfunc" { return true }
        let parts = decorator.name.split(separator: ".").map(String.init)
        guard parts.count > 1, parts.last == "cfunc" else { return false }
        return numbaModules[parts.dropLast().joined(separator: ".")] == "numba"
    }

    /// The canonical text of a Numba type expression (`ptr(float64)`, `int32`), or nil with a reason.
    private func numbaType(_ expression: Expr, inString: Bool) -> Result<String, NumbaTypeError> {
        func name(_ expression: Expr) -> String? {
            if inString, case .name(let bare) = expression.kind { return bare }
            if inString, case .attribute(let base, let member) = expression.kind, case .name("types") = base.kind { return member }
            return numbaName(of: expression)
        }
        switch expression.kind {
        case .call(let callee, let arguments, let keywords):
            guard name(callee) == "CPointer", arguments.count == 1, keywords.isEmpty else { break }
            return numbaType(arguments[0], inString: inString).map { "ptr(\($0))" }
        default:
            if let type = name(expression), let canonical = NumbaNames.types[type], canonical != "CPointer" {
                return .success(canonical)
            }
        }
        if case .name(let bare) = expression.kind, NumbaNames.types[bare] != nil {
            return .failure(NumbaTypeError(message: "'\(bare)' is not imported: add 'from numba.types import \(bare)'", range: expression.range))
        }
        return .failure(NumbaTypeError(message: "'\(ASTPrinter.print(expression))' is not a Numba type of a SciPy callback signature "
                                       + "(intc, intp, int32, int64, float64, voidptr, CPointer(...))", range: expression.range))
    }

    /// The kernel kind of a `@cfunc(signature, ...)` decorator, or nil after reporting why not.
    func rawCallbackKind(of decorator: Decorator) -> KernelKind? {
        let expected = "expected one of SciPy's callback signatures: \(NumbaNames.expectedSignatures)"
        for keyword in decorator.keywords where !NumbaNames.ignoredKeywords.contains(keyword.name) {
            report("@cfunc keyword '\(keyword.name)' is not supported (only \(NumbaNames.ignoredKeywords.sorted().joined(separator: ", ")), which change nothing here)",
                   at: keyword.range)
        }
        guard decorator.arguments.count == 1 else {
            report("@cfunc needs exactly one signature argument; \(expected)", at: decorator.range)
            return nil
        }
        var signature = decorator.arguments[0]
        var inString = false
        if case .string(let text) = signature.kind {
            // `@cfunc("intc(CPointer(float64), intp, CPointer(float64), voidptr)")`: names are numba.types'.
            let parsed = Parser.parse(SourceFile(name: "<signature>", text: text))
            guard parsed.diagnostics.isEmpty, parsed.module.items.count == 1,
                  case .expression(let inner) = parsed.module.items[0] else {
                report("the @cfunc signature string does not parse; \(expected)", at: signature.range)
                return nil
            }
            signature = Expr(inner.kind, signature.range)
            signature = relocated(signature, to: decorator.arguments[0].range)
            inString = true
        }
        guard case .call(let callee, let arguments, let keywords) = signature.kind, keywords.isEmpty else {
            report("the @cfunc signature must be 'return_type(argument types)'; \(expected)", at: signature.range)
            return nil
        }
        var parts: [String] = []
        for type in [callee] + arguments {
            switch numbaType(type, inString: inString) {
            case .success(let text): parts.append(text)
            case .failure(let diagnostic):
                report(diagnostic.message + "; \(expected)", at: inString ? signature.range : diagnostic.range)
                return nil
            }
        }
        let canonical = parts[0] + "(" + parts.dropFirst().joined(separator: ", ") + ")"
        guard let abi = NumbaNames.abis.first(where: { $0.signature == canonical }) else {
            report("@cfunc signature \(canonical) is not a SciPy callback; \(expected)", at: signature.range)
            return nil
        }
        return abi.kind
    }

    /// Every node of `expression` given `range` (a signature parsed out of a string literal).
    private func relocated(_ expression: Expr, to range: SourceRange) -> Expr {
        var copy = expression
        copy.range = range
        switch expression.kind {
        case .call(let callee, let arguments, let keywords):
            copy.kind = .call(callee: relocated(callee, to: range), arguments: arguments.map { relocated($0, to: range) },
                              keywords: keywords)
        case .attribute(let base, let name):
            copy.kind = .attribute(base: relocated(base, to: range), name: name)
        default: break
        }
        return copy
    }
}

/// The rewrite of a raw `@cfunc` def into the kernel of its kind (see the top of this file).
struct RawCallbackRewriter {
    let kind: KernelKind
    let function: FunctionDef
    let isCArray: (Expr) -> Bool
    let isDType: (Expr, _ integer: Bool) -> Bool
    /// The Numba name an expression refers to (`float64`, `types.intp`), or nil.
    var numbaName: (Expr) -> String? = { _ in nil }
    let report: (String, SourceRange) -> Void

    /// Pointer parameter -> its length parameter.
    private var lengthOf: [String: String] = [:]
    /// Length parameter -> its pointer parameter.
    private var pointerOf: [String: String] = [:]
    /// Pointer parameter -> the array parameter's name (its carray view or itself).
    private var arrayName: [String: String] = [:]
    /// The `result` pointer of generic_filter.
    private var resultName: String?
    private var dataName = ""
    /// Pointers holding ints (the transform's output coordinates).
    private var integerPointers: Set<String> = []
    /// Names of carray views -> their pointer.
    private var views: [String: String] = [:]

    init(kind: KernelKind, function: FunctionDef, isCArray: @escaping (Expr) -> Bool,
         isDType: @escaping (Expr, Bool) -> Bool, report: @escaping (String, SourceRange) -> Void) {
        self.kind = kind
        self.function = function
        self.isCArray = isCArray
        self.isDType = isDType
        self.report = report
    }

    private static func expectedParameters(_ kind: KernelKind) -> [String] {
        switch kind {
        case .filter: return ["values_ptr", "len_values", "result", "data"]
        case .lineFilter: return ["input_line", "input_length", "output_line", "output_length", "data"]
        case .transform: return ["output_coordinates", "input_coordinates", "output_rank", "input_rank", "data"]
        case .arrayFunction: return []  // never a raw callback's kind
        }
    }

    mutating func rewrite() -> FunctionDef? {
        let names = function.parameters.map(\.name)
        let expected = Self.expectedParameters(kind)
        guard names.count == expected.count else {
            report("a @cfunc \(kind == .filter ? "generic_filter" : kind == .lineFilter ? "generic_filter1d" : "geometric_transform") "
                   + "callback takes \(expected.count) parameters (\(expected.joined(separator: ", "))); '\(function.name)' has \(names.count)",
                   function.nameRange)
            return nil
        }
        for parameter in function.parameters {
            if let value = parameter.defaultValue { report("a @cfunc callback's parameters cannot have defaults", value.range) }
        }
        let pointers: [(String, String)]
        switch kind {
        case .filter: pointers = [(names[0], names[1])]; resultName = names[2]; dataName = names[3]
        case .lineFilter: pointers = [(names[0], names[1]), (names[2], names[3])]; dataName = names[4]
        case .transform: pointers = [(names[0], names[2]), (names[1], names[3])]; dataName = names[4]
            integerPointers = [names[0]]
        case .arrayFunction: return nil
        }
        for (pointer, length) in pointers {
            lengthOf[pointer] = length
            pointerOf[length] = pointer
            arrayName[pointer] = pointer
        }
        // Top-level carray views name the arrays.
        var body: [Stmt] = []
        for statement in function.body {
            if case .assign(let target, let value) = statement.kind, case .call(let callee, _, _) = value.kind, isCArray(callee) {
                if case .name(let view) = target.kind, let pointer = checkedCArray(value) {
                    if arrayName[pointer] != pointer {
                        report("'\(pointer)' already has the view '\(arrayName[pointer]!)'; use that name", target.range)
                    } else if lengthOf[view] != nil || pointerOf[view] != nil || view == resultName || view == dataName {
                        report("the view '\(view)' has the name of a parameter; choose another name", target.range)
                    } else {
                        arrayName[pointer] = view
                        views[view] = pointer
                    }
                    continue
                }
                if case .name = target.kind {} else {
                    report("assign a carray view to one name: 'values = carray(ptr, (n,), dtype=float64)'", target.range)
                }
                continue
            }
            body.append(statement)
        }
        var rewritten = function
        rewritten.decorators = []
        rewritten.parameters = pointers.map { pointer, _ in
            let original = function.parameters.first { $0.name == pointer }!
            return Parameter(name: arrayName[pointer]!, range: original.range)
        }
        var newBody = statements(body)
        // `result = 0.0` on entry (what reading result[0] before writing it gives), unless the body starts by writing it.
        let startsWithResult: Bool = {
            guard case .assign(let target, let value)? = newBody.first?.kind, case .name(let name) = target.kind,
                  let resultName, name == resultName, !Self.mentions(value, resultName) else { return false }
            if case .assign(let original, _)? = body.first?.kind, case .index = original.kind { return true }
            return false
        }()
        if let resultName, !startsWithResult {
            let here = SourceRange(function.nameRange.start, function.nameRange.start)
            newBody.insert(Stmt(.assign(target: Expr(.name(resultName), here), value: Expr(.float(0), here)), here), at: 0)
        }
        rewritten.body = newBody
        return rewritten
    }

    /// Whether `expression` reads the name `name` anywhere.
    static func mentions(_ expression: Expr, _ name: String) -> Bool {
        switch expression.kind {
        case .name(let other): return other == name
        case .integer, .float, .boolean, .string: return false
        case .attribute(let base, _): return mentions(base, name)
        case .call(let callee, let arguments, let keywords):
            return mentions(callee, name) || arguments.contains { mentions($0, name) } || keywords.contains { mentions($0.value, name) }
        case .index(let base, let index): return mentions(base, name) || mentions(index, name)
        case .unary(_, let operand): return mentions(operand, name)
        case .binary(_, let left, let right), .logical(_, let left, let right): return mentions(left, name) || mentions(right, name)
        case .compare(let first, let rest): return mentions(first, name) || rest.contains { mentions($0.right, name) }
        case .conditional(let then, let condition, let orElse):
            return mentions(then, name) || mentions(condition, name) || mentions(orElse, name)
        case .tuple(let items), .list(let items): return items.contains { mentions($0, name) }
        case .slice(let lower, let upper, let step): return [lower, upper, step].contains { $0.map { mentions($0, name) } ?? false }
        }
    }

    /// The pointer a well-formed `carray(ptr, (n,), dtype=...)` views, or nil after reporting.
    private func checkedCArray(_ call: Expr) -> String? {
        guard case .call(_, let arguments, let keywords) = call.kind else { return nil }
        guard arguments.count >= 2, arguments.count <= 3, case .name(let pointer) = arguments[0].kind, let length = lengthOf[pointer] else {
            report("carray takes a raw pointer parameter and its shape: carray(ptr, (n,), dtype=float64)", call.range)
            return nil
        }
        var shape = arguments[1]
        if case .tuple(let items) = shape.kind, items.count == 1 { shape = items[0] }
        if case .name(length) = shape.kind {} else {
            // Reported, and the view is still made so that its uses are not also reported.
            report("carray(\(pointer), ...) must view the whole buffer, whose length is '\(length)': write carray(\(pointer), (\(length),))",
                   arguments[1].range)
        }
        var dtypes = keywords.filter { $0.name == "dtype" }.map(\.value)
        if arguments.count == 3 { dtypes.append(arguments[2]) }
        for keyword in keywords where keyword.name != "dtype" {
            report("carray keyword '\(keyword.name)' is not supported", keyword.range)
        }
        let integer = integerPointers.contains(pointer)
        for dtype in dtypes where !isDType(dtype, integer) {
            report("'\(pointer)' points to \(integer ? "intp" : "float64") values: the dtype must be \(integer ? "intp" : "float64")", dtype.range)
        }
        return pointer
    }

    // MARK: Statements

    private func statements(_ body: [Stmt]) -> [Stmt] {
        var result: [Stmt] = []
        for statement in body { result += self.statement(statement) }
        return result
    }

    private func statement(_ statement: Stmt) -> [Stmt] {
        let range = statement.range
        switch statement.kind {
        case .expression(let value):
            return [Stmt(.expression(expression(value)), range)]
        case .assign(let target, let value):
            return [Stmt(.assign(target: self.target(target), value: expression(value)), range)]
        case .augmentedAssign(let target, let op, let value):
            return [Stmt(.augmentedAssign(target: self.target(target), op: op, value: expression(value)), range)]
        case .ifStatement(let branches, let orElse):
            let newBranches = branches.map { ConditionalBlock(condition: expression($0.condition), body: statements($0.body)) }
            return [Stmt(.ifStatement(branches: newBranches, orElse: orElse.map(statements)), range)]
        case .whileLoop(let condition, let body):
            return [Stmt(.whileLoop(condition: expression(condition), body: statements(body)), range)]
        case .forLoop(let target, let iterable, let body):
            return [Stmt(.forLoop(target: self.target(target), iterable: expression(iterable), body: statements(body)), range)]
        case .breakStatement, .continueStatement, .pass:
            return [statement]
        case .returnStatement(let value):
            return returnStatus(value, range: range)
        }
    }

    /// `return status`: non-zero returns the result (filter) or returns (line filter, transform); zero fails.
    private func returnStatus(_ value: Expr?, range: SourceRange) -> [Stmt] {
        guard let value else {
            report("a @cfunc callback returns its status: 'return 1' (success) or 'return 0' (failure, SciPy raises)", range)
            return [Stmt(.returnStatement(resultName.map { Expr(.name($0), range) }), range)]
        }
        let success = Stmt(.returnStatement(resultName.map { Expr(.name($0), value.range) }), range)
        let failure = Stmt(.expression(Expr(.call(callee: Expr(.name(rawCallbackFailureName), range), arguments: [], keywords: []), range)),
                           range)
        switch value.kind {
        case .integer(let status): return [status != 0 ? success : failure]
        case .boolean(let status): return [status ? success : failure]
        case .float, .string, .tuple, .list:
            report("a @cfunc callback's status is an int: 'return 1' (success) or 'return 0' (failure)", value.range)
            return [success]
        default:
            let condition = expression(value)
            return [Stmt(.ifStatement(branches: [ConditionalBlock(condition: condition, body: [success])], orElse: [failure]), range)]
        }
    }

    /// An assignment or loop target.
    private func target(_ target: Expr) -> Expr {
        switch target.kind {
        case .name(let name):
            if name == dataName || name == resultName || lengthOf[name] != nil || pointerOf[name] != nil || views[name] != nil {
                report("cannot assign to '\(name)': \(describe(name)) of the @cfunc callback", target.range)
            }
            return target
        case .tuple(let items):
            return Expr(.tuple(items.map(self.target)), target.range)
        default:
            return expression(target)
        }
    }

    private func describe(_ name: String) -> String {
        if name == dataName { return "it is the user_data pointer" }
        if name == resultName { return "it is the result pointer; write 'result[0] = value'" }
        if lengthOf[name] != nil { return "it is a raw pointer parameter" }
        if pointerOf[name] != nil { return "it is the buffer length" }
        return "it is the carray view of a buffer"
    }

    // MARK: Expressions

    private func expression(_ expression: Expr) -> Expr {
        let range = expression.range
        switch expression.kind {
        case .name(let name):
            if name == dataName {
                report("'\(name)' is SciPy's user_data pointer, which FilterJIT's raw callback form does not pass: it cannot be read "
                       + "(write run-time parameters as named parameters of a @filter def instead)", range)
                return Expr(.float(0), range)
            } else if name == resultName {
                report("'\(name)' is the result pointer: only '\(name)[0]' can be read or written", range)
            } else if let pointer = pointerOf[name] {
                return Expr(.call(callee: Expr(.name("len"), range), arguments: [Expr(.name(arrayName[pointer]!), range)], keywords: []), range)
            } else if lengthOf[name] != nil {
                report("'\(name)' is a raw pointer: index it ('\(name)[i]') or view it with carray(\(name), (\(lengthOf[name]!),))", range)
                return Expr(.name(arrayName[name]!), range)
            }
            return expression
        case .index(let base, let index):
            if case .name(let name) = base.kind {
                if name == dataName {
                    _ = self.expression(base)
                    return Expr(.float(0), range)
                }
                if name == resultName {
                    guard case .integer(0) = index.kind else {
                        report("only '\(name)[0]' exists: the filter's result is one value", index.range)
                        return Expr(.name(name), range)
                    }
                    return Expr(.name(name), range)
                }
                if lengthOf[name] != nil {
                    return Expr(.index(base: Expr(.name(arrayName[name]!), base.range), index: self.expression(index)), range)
                }
            }
            return Expr(.index(base: self.expression(base), index: self.expression(index)), range)
        case .call(let callee, let arguments, let keywords):
            // Numba's scalar casts `float64(x)`, `double(x)`, `int64(x)`, `intp(x)`: Python's float() and int()
            // (both truncate toward zero; an int32/intc cast would wrap to 32 bits, so it is not accepted).
            if keywords.isEmpty, arguments.count == 1, let type = numbaName(callee), let canonical = NumbaNames.types[type],
               canonical == "float64" || canonical == "int64" {
                let builtin = canonical == "float64" ? "float" : "int"
                return Expr(.call(callee: Expr(.name(builtin), callee.range), arguments: [self.expression(arguments[0])], keywords: []), range)
            }
            if isCArray(callee) {
                report("carray(...) views a buffer only at the top of the callback: 'values = carray(ptr, (n,), dtype=float64)'", range)
                if case .name(let pointer)? = arguments.first?.kind, let array = arrayName[pointer] {
                    return Expr(.name(array), range)
                }
                return Expr(.float(0), range)
            }
            return Expr(.call(callee: self.expression(callee), arguments: arguments.map(self.expression),
                              keywords: keywords.map { KeywordArgument(name: $0.name, value: self.expression($0.value), range: $0.range) }), range)
        case .attribute(let base, let name):
            return Expr(.attribute(base: self.expression(base), name: name), range)
        case .unary(let op, let operand):
            return Expr(.unary(op, self.expression(operand)), range)
        case .binary(let op, let left, let right):
            return Expr(.binary(op, self.expression(left), self.expression(right)), range)
        case .logical(let op, let left, let right):
            return Expr(.logical(op, self.expression(left), self.expression(right)), range)
        case .compare(let first, let rest):
            return Expr(.compare(first: self.expression(first), rest: rest.map { Comparison(op: $0.op, right: self.expression($0.right)) }), range)
        case .conditional(let then, let condition, let orElse):
            return Expr(.conditional(then: self.expression(then), condition: self.expression(condition), orElse: self.expression(orElse)), range)
        case .tuple(let items):
            return Expr(.tuple(items.map(self.expression)), range)
        case .list(let items):
            return Expr(.list(items.map(self.expression)), range)
        case .slice(let lower, let upper, let step):
            return Expr(.slice(lower: lower.map(self.expression), upper: upper.map(self.expression), step: step.map(self.expression)), range)
        case .integer, .float, .boolean, .string:
            return expression
        }
    }
}
