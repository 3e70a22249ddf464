import FilterLang

/// What inference learns about one function; refined until nothing changes.
struct FunctionFacts {
    /// The joined type of every variable (parameters and locals) seen so far.
    var types: [String: ValueType] = [:]
    /// Array variables that received a read-only array somewhere (so they are read-only).
    var readOnlyArrays: Set<String> = []
    /// Variables whose type is fixed (kernel parameters): assignments must fit them.
    var fixedTypes: Set<String> = []
    /// For array parameters: whether every call site passed a writable array (nil: no call site yet).
    var parameterWritable: [Bool?] = []
    /// The joined type of `return e` values (nil: none seen).
    var returnType: ValueType?
    /// Whether some `return e` exists.
    var returnsValue = false
    /// Whether the end of the body can be reached.
    var endReachable = true
    /// Whether some call uses the function's value.
    var valueUsed = false
    /// Whether any other function calls it.
    var hasCallers = false
    /// Parameters of an uncalled helper typed `.float` for want of call sites (an array use in a
    /// call may still make them arrays).
    var guessedParameters: Set<String> = []
    /// Array functions: the dtype and rank of each `.ndarray` variable.
    var ndLayouts: [String: NDLayout] = [:]
    /// Array functions: the layout of a returned array.
    var resultLayout: NDLayout?
}

/// The whole-program checker: resolves imports, decorators and the kernel, infers the types of
/// every function to a fixed point, then builds the typed IR.
final class ProgramChecker {
    let file: SourceFile
    let module: SourceModule
    let kernelName: String?
    /// For an array function: the argument types of the call it is checked for (issue 15).
    let arraySignature: ArrayFunctionSignature?
    /// The kind of an undecorated kernel, given by the caller: `Engine.compileFunction` compiles it as an array
    /// function, `filterjit.generic_filter1d` as a line filter, `geometric_transform` as a transform.
    let requestedKind: KernelKind?
    /// Every diagnostic found (Sema only).
    private(set) var diagnostics: [Diagnostic] = []

    /// The functions in source order (for the one-line form, a synthesised `expression`).
    private(set) var definitions: [FunctionDef] = []
    /// Function name to index in `definitions` (the first definition of a name).
    private(set) var definitionIndex: [String: Int] = [:]
    private(set) var kernelIndex = 0
    private(set) var kind: KernelKind = .filter
    /// Inference facts per function.
    var facts: [FunctionFacts] = []
    /// Module aliases: `np` -> `numpy`.
    private(set) var moduleAliases: [String: String] = ["np": "numpy", "numpy": "numpy", "math": "math"]
    /// Bare names brought in by `from M import n as a`: `a` -> (M, n).
    private(set) var importedNames: [String: (module: String, name: String)] = [:]
    /// Numba modules by local name (`numba`, `nb`, `types` -> `numba.types`): the raw callback form (RawCallback.swift).
    var numbaModules: [String: String] = [:]
    /// Names imported from Numba (`cfunc`, `carray`, `intc`, ...) by local name.
    var numbaNames: [String: String] = [:]
    /// Whether the kernel is a raw `@cfunc` callback (rewritten into its kind before checking).
    private(set) var isRawCallback = false
    /// Whether the kernel's `@cfunc` signature was refused (reported).
    private(set) var rawCallbackRefused = false
    /// Whether the program is the one-line expression form.
    private(set) var isExpressionForm = false
    /// Module-level constants (`KX = np.array([...])`, `T = 0.5`), evaluated in source order.
    private(set) var moduleConstants: [String: ConstantValue] = [:]

    /// Where the parser reported errors: a function containing one lost statements, so the checks
    /// that depend on every statement (missing return, use before assignment) are skipped there.
    let syntaxErrorOffsets: [Int]
    /// Whether the parser already reported errors (then an empty module needs no error of its own).
    var hadSyntaxErrors: Bool { !syntaxErrorOffsets.isEmpty }

    init(file: SourceFile, module: SourceModule, kernelName: String?, syntaxErrorOffsets: [Int] = [],
         arraySignature: ArrayFunctionSignature? = nil, requestedKind: KernelKind? = nil) {
        self.file = file
        self.module = module
        self.kernelName = kernelName
        self.arraySignature = arraySignature
        self.requestedKind = requestedKind
        self.syntaxErrorOffsets = syntaxErrorOffsets
    }

    /// Names that statements lost to syntax errors inside `range` may have assigned (`x = ...`,
    /// `a, b = ...`, `x += ...`, `for x in ...` on a line with a syntax error): reading them later is
    /// not reported as an unknown name, since the real mistake is already reported.
    func namesAssignedOnBrokenLines(in range: SourceRange) -> Set<String> {
        var names: Set<String> = []
        for offset in syntaxErrorOffsets where range.start <= offset && offset <= range.end {
            var text = Substring(file.lineText(file.lineIndex(of: offset)))
            text = text.drop { $0 == " " || $0 == "\t" }
            if text.hasPrefix("for ") { text = text.dropFirst(4) }
            // Each `targets =` of a (possibly chained) assignment.
            while true {
                var candidates: [String] = []
                while true {
                    text = text.drop { $0 == " " }
                    let name = text.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    guard !name.isEmpty else { break }
                    candidates.append(String(name))
                    text = text.dropFirst(name.count).drop { $0 == " " }
                    guard text.first == "," else { break }
                    text = text.dropFirst()
                }
                let assigns = (text.first == "=" && !text.hasPrefix("==")) || text.hasPrefix("in ")
                    || ["+=", "-=", "*=", "/=", "//=", "%=", "**="].contains { text.hasPrefix($0) }
                guard assigns, !candidates.isEmpty else { break }
                names.formUnion(candidates)
                guard text.first == "=" else { break }
                text = text.dropFirst()
            }
        }
        return names
    }

    /// Whether a syntax error lies inside `range`.
    func hasSyntaxError(in range: SourceRange) -> Bool {
        syntaxErrorOffsets.contains { range.start <= $0 && $0 <= range.end }
    }

    /// "unknown name" messages by function and name (suggestions are costly to find).
    var unknownNameMessages: [String: String] = [:]
    /// The diagnostics already reported, so a message at one place is reported once.
    private var reported: Set<Diagnostic> = []

    func report(_ message: String, at range: SourceRange) {
        let diagnostic = Diagnostic.error(message, at: range)
        if reported.insert(diagnostic).inserted { diagnostics.append(diagnostic) }
    }

    /// Runs every check; returns the program (meaningful only when no error was reported).
    func run() -> TypedProgram? {
        resolveImports()
        collectConstants()
        guard collectFunctions() else { return nil }
        resolveKernel()
        // A @cfunc whose signature was refused is not checked further: its body is written against the raw ABI.
        if rawCallbackRefused { return nil }
        if !rewriteRawCallback() { return nil }
        rewriteMappingForm()
        guard checkArrayFunctionKind() else { return nil }
        checkRecursion()
        prepareFacts()
        // Inference to a fixed point. Each round can only move types up a finite lattice, so this ends;
        // the bound guards against a bug.
        // Rounds alternate callee-first (return types flow to callers in one pass) and caller-first
        // (argument types flow to helpers in one pass); in definition order alone a chain of more
        // than 63 helpers ran out of rounds and got "does not return a value" errors.
        for round in 0..<64 {
            let before = facts.map(FactsSnapshot.init)
            for index in round % 2 == 0 ? calleesFirst : calleesFirst.reversed() {
                var checker = FunctionChecker(program: self, functionIndex: index, emitting: false)
                _ = checker.check()
            }
            if facts.map(FactsSnapshot.init) == before { break }
        }
        defaultUntypedParameters()
        var functions: [TypedFunction] = []
        for index in definitions.indices {
            var checker = FunctionChecker(program: self, functionIndex: index, emitting: true)
            functions.append(checker.check())
        }
        if kind == .arrayFunction {
            return TypedProgram(functions: functions, kernelIndex: kernelIndex, kind: kind, parameters: [],
                                arraySignature: arraySignature, resultLayout: facts[kernelIndex].resultLayout)
        }
        let parameters = kernelParameters(of: functions[kernelIndex])
        return TypedProgram(functions: functions, kernelIndex: kernelIndex, kind: kind, parameters: parameters)
    }

    // MARK: Imports

    private func resolveImports() {
        for item in module.items {
            guard case .importStatement(let statement) = item else { continue }
            if NumbaNames.modules.contains(statement.module) {
                resolveNumbaImport(statement)
                continue
            }
            guard BuiltinTables.importableModules.contains(statement.module) else {
                report("import of module '\(statement.module)' is not supported; only numpy and math can be imported", at: statement.range)
                continue
            }
            guard let names = statement.names else {
                moduleAliases[statement.alias ?? statement.module] = statement.module
                continue
            }
            for name in names {
                let local = name.alias ?? name.name
                switch statement.module {
                case "numpy":
                    if BuiltinTables.numpy[name.name] != nil || BuiltinTables.moduleConstants[name.name] != nil {
                        importedNames[local] = ("numpy", name.name)
                    } else {
                        report(unknownModuleMemberMessage(module: "numpy", prefix: "numpy", name: name.name), at: name.range)
                    }
                case "math":
                    if BuiltinTables.math[name.name] != nil || BuiltinTables.moduleConstants[name.name] != nil {
                        importedNames[local] = ("math", name.name)
                    } else {
                        report(unknownModuleMemberMessage(module: "math", prefix: "math", name: name.name), at: name.range)
                    }
                default:
                    // `from llc import jit_filter_function`: decorator names, nothing to resolve.
                    if BuiltinTables.decorators[name.name] == nil {
                        report("'\(name.name)' cannot be imported from '\(statement.module)'; only the kernel decorators can", at: name.range)
                    }
                }
            }
        }
    }

    /// `import numba [as nb]`, `from numba import cfunc, carray, types`, `from numba.types import intc, ...`.
    private func resolveNumbaImport(_ statement: ImportStatement) {
        guard let names = statement.names else {
            moduleAliases.removeValue(forKey: statement.alias ?? statement.module)
            numbaModules[statement.alias ?? statement.module] = statement.module
            if statement.alias == nil, statement.module != "numba" {
                // `import numba.types` binds `numba`, as Python does.
                numbaModules["numba"] = "numba"
            }
            return
        }
        for name in names {
            let local = name.alias ?? name.name
            if statement.module == "numba" && NumbaNames.functions.contains(name.name) {
                numbaNames[local] = name.name
            } else if statement.module == "numba" && name.name == "types" {
                numbaModules[local] = "numba.types"
            } else if NumbaNames.types[name.name] != nil {
                numbaNames[local] = name.name
            } else {
                let allowed = statement.module == "numba" ? "cfunc, carray, jit, njit, types and the types of SciPy's callback signatures"
                                                          : "the types of SciPy's callback signatures"
                report("'\(name.name)' cannot be imported from '\(statement.module)': FilterJIT reads Numba's raw SciPy callback form and @jit array functions, "
                       + "which needs only \(allowed) (\(NumbaNames.types.keys.sorted().joined(separator: ", ")))", at: name.range)
            }
        }
    }

    /// "np.square is not supported in filter programs" or "unknown NumPy name 'np.sqr'; did you mean 'np.sqrt'?".
    func unknownModuleMemberMessage(module: String, prefix: String, name: String) -> String {
        let unsupported = module == "numpy" ? BuiltinTables.unsupportedNumpy : BuiltinTables.unsupportedMath
        if unsupported.contains(name) {
            return "\(prefix).\(name) is not supported in filter programs"
        }
        let known = Array((module == "numpy" ? BuiltinTables.numpy : BuiltinTables.math).keys) + Array(BuiltinTables.moduleConstants.keys)
        let label = module == "numpy" ? "NumPy" : "math"
        if let suggestion = nearestName(to: name, in: known) {
            return "unknown \(label) name '\(prefix).\(name)'; did you mean '\(prefix).\(suggestion)'?"
        }
        return "unknown \(label) name '\(prefix).\(name)'"
    }

    // MARK: Module-level constants

    /// Where each module constant was assigned (its last assignment).
    private var constantRanges: [String: SourceRange] = [:]
    private var firstConstantRange: SourceRange?
    /// Constants whose value was refused (reported once there; reads stay silent).
    private(set) var failedConstants: Set<String> = []

    /// The evaluator of constant expressions at module level (names: earlier module constants).
    var moduleConstantEvaluator: ConstantEvaluator {
        ConstantEvaluator(lookup: { [unowned self] in moduleConstants[$0] },
                          isNumpy: { [unowned self] in moduleAliases[$0] == "numpy" }, program: self)
    }

    /// Evaluates the top-level assignments `NAME = constant expression` in source order.
    private func collectConstants() {
        for item in module.items {
            guard case .constant(let statement) = item, case .assign(let target, let value) = statement.kind else { continue }
            if firstConstantRange == nil { firstConstantRange = statement.range }
            guard case .name(let name) = target.kind else {
                report("a module-level assignment must assign one name (NAME = constant expression)", at: target.range)
                continue
            }
            if moduleAliases[name] != nil || importedNames[name] != nil {
                report("'\(name)' is an imported name and cannot be reassigned", at: target.range)
                continue
            }
            do {
                moduleConstants[name] = try moduleConstantEvaluator.evaluate(value)
                constantRanges[name] = target.range
            } catch {
                failedConstants.insert(name)
                report("module-level assignments must be constant expressions (numbers, tuples or lists of numbers, "
                       + "np.array([...])): \(error.message)", at: error.range)
            }
        }
    }

    // MARK: Functions and kernel

    /// Collects the defs, or synthesises the one-line form; false when there is nothing to check.
    private func collectFunctions() -> Bool {
        var expressions: [Expr] = []
        for item in module.items {
            switch item {
            case .function(let function):
                if definitionIndex[function.name] != nil {
                    report("function '\(function.name)' is defined twice", at: function.nameRange)
                    continue
                }
                definitionIndex[function.name] = definitions.count
                definitions.append(function)
            case .expression(let expression):
                if case .string = expression.kind { continue }  // A module docstring.
                expressions.append(expression)
            case .importStatement, .constant:
                break
            }
        }
        for (name, range) in constantRanges where definitionIndex[name] != nil {
            report("'\(name)' is both a module-level constant and a function", at: range)
        }
        if !definitions.isEmpty {
            for expression in expressions {
                report("a file with defs cannot also have a top-level expression", at: expression.range)
            }
            return true
        }
        guard let expression = expressions.first else {
            if let first = firstConstantRange, !hadSyntaxErrors {
                report("an assignment alone is not a filter: module-level constants are read by a def or an expression; write one", at: first)
                return false
            }
            if diagnostics.isEmpty && !hadSyntaxErrors {
                report("no filter found: write an expression over 'values' or a def", at: SourceRange(0, 0))
            }
            return false
        }
        for extra in expressions.dropFirst() {
            report("only one top-level expression is allowed; write a def for more", at: extra.range)
        }
        isExpressionForm = true
        let values = Parameter(name: "values", range: .none)
        let body = [Stmt(.returnStatement(expression), expression.range)]
        definitions = [FunctionDef(name: "expression", nameRange: expression.range, decorators: [], parameters: [values],
                                   body: body, range: expression.range)]
        definitionIndex = ["expression": 0]
        return true
    }

    private func resolveKernel() {
        if let kernelName, !isExpressionForm {
            if let index = definitionIndex[kernelName] {
                kernelIndex = index
            } else {
                let defined = definitions.map { "'\($0.name)'" }.joined(separator: ", ")
                let suggestion = nearestName(to: kernelName, in: definitionIndex.keys).map { "; did you mean '\($0)'?" }
                    ?? "; the file defines \(defined)"
                report("no function named '\(kernelName)' in this file\(suggestion)", at: SourceRange(0, 0))
                kernelIndex = definitions.count - 1
            }
        } else {
            kernelIndex = definitions.count - 1
        }
        let kernel = definitions[kernelIndex]
        if kernel.decorators.count > 1 {
            report("a kernel takes one decorator", at: kernel.decorators[1].range)
        }
        for decorator in kernel.decorators.prefix(1) {
            if isCFuncDecorator(decorator) {
                if let rawKind = rawCallbackKind(of: decorator) {
                    kind = rawKind
                    isRawCallback = true
                } else {
                    rawCallbackRefused = true
                }
                continue
            }
            if decorator.name.split(separator: ".").last == "cfunc" {
                report("'@\(decorator.name)' is Numba's cfunc: import it ('from numba import cfunc' or 'import numba') "
                       + "to compile the raw SciPy callback form", at: decorator.range)
                rawCallbackRefused = true
                continue
            }
            if Self.kernelKind(ofDecorator: decorator.name) == .arrayFunction {
                // Numba's options: accepted and ignored (the code is always "nopython", releases the GIL and is cached).
                // boundscheck=False is an option of the call site (Engine.compileFunction, filterjit.jit), not of the text.
                for keyword in decorator.keywords where !["nopython", "nogil", "cache", "fastmath", "error_model", "boundscheck"].contains(keyword.name) {
                    report("option '\(keyword.name)' of @\(decorator.name) is not supported (nopython, nogil, cache are accepted)", at: keyword.value.range)
                }
                if let first = decorator.arguments.first {
                    report("@\(decorator.name) takes no signature: array functions are compiled per call signature", at: first.range)
                }
            } else if !decorator.arguments.isEmpty || !decorator.keywords.isEmpty {
                report("decorator arguments are not supported (only Numba's @cfunc(signature) takes any; "
                       + "give run-time parameters as defaults or at the call)", at: decorator.range)
            }
            if let decoratedKind = Self.kernelKind(ofDecorator: decorator.name) {
                kind = decoratedKind
            } else {
                let known = BuiltinTables.decorators.keys.flatMap { [$0, "llc." + $0, "filterjit." + $0] }
                let suggestion = nearestName(to: decorator.name, in: known).map { "; did you mean '@\($0)'?" } ?? ""
                report("unknown decorator '@\(decorator.name)'\(suggestion)", at: decorator.range)
            }
        }
        // An undecorated def called through an API of another kind (generic_filter1d, geometric_transform)
        // is a kernel of that kind, as the same Python function is for SciPy.
        if kernel.decorators.isEmpty, !isExpressionForm, let requestedKind, requestedKind != .arrayFunction {
            kind = requestedKind
        }
        for (index, function) in definitions.enumerated() where index != kernelIndex {
            for decorator in function.decorators where Self.kernelKind(ofDecorator: decorator.name) == nil {
                if isCFuncDecorator(decorator) {
                    // Another callback of the file (`--function` picks one): not compiled, not checked.
                    definitions[index].parameters = []
                    definitions[index].body = [Stmt(.pass, definitions[index].nameRange)]
                } else {
                    report("unknown decorator '@\(decorator.name)'", at: decorator.range)
                }
            }
        }
    }

    /// A raw `@cfunc` callback becomes the kernel of its signature's kind (RawCallback.swift).
    /// False when the def does not fit its signature (reported; its body is not checked further).
    private func rewriteRawCallback() -> Bool {
        guard isRawCallback, definitions.indices.contains(kernelIndex) else { return true }
        var rewriter = RawCallbackRewriter(
            kind: kind, function: definitions[kernelIndex],
            isCArray: { [unowned self] in numbaName(of: $0) == "carray" },
            isDType: { [unowned self] expression, integer in
                let name: String?
                if case .attribute(let base, let member) = expression.kind, case .name(let alias) = base.kind, moduleAliases[alias] == "numpy" {
                    name = member
                } else {
                    name = numbaName(of: expression)
                }
                guard let name, let canonical = NumbaNames.types[name] else { return false }
                return canonical == (integer ? "int64" : "float64")
            },
            report: { [unowned self] message, range in report(message, at: range) })
        rewriter.numbaName = { [unowned self] in numbaName(of: $0) }
        guard let rewritten = rewriter.rewrite() else { return false }
        definitions[kernelIndex] = rewritten
        return true
    }

    /// A `@transform` kernel in SciPy's mapping form (it returns a tuple) becomes the callback form
    /// (MappingForm.swift). Undecorated kernels are filters unless the caller asks for a transform: a tuple
    /// returned from a filter stays an error.
    private func rewriteMappingForm() {
        guard !isExpressionForm, kind == .transform, definitions.indices.contains(kernelIndex) else { return }
        let kernel = definitions[kernelIndex]
        guard isMappingForm(kernel) else { return }
        definitions[kernelIndex] = callbackForm(ofMapping: kernel) { message, range in report(message, at: range) }
    }

    static func kernelKind(ofDecorator name: String) -> KernelKind? {
        var base = Substring(name)
        for prefix in ["llc.", "filterjit.", "numba.", "nb."] where base.hasPrefix(prefix) {
            base = base.dropFirst(prefix.count)
        }
        return BuiltinTables.decorators[String(base)]
    }

    /// An array function needs the signature it is checked for; `requestedKind` overrides an undecorated def.
    private func checkArrayFunctionKind() -> Bool {
        guard definitions.indices.contains(kernelIndex) else { return true }
        let kernel = definitions[kernelIndex]
        if requestedKind == .arrayFunction {
            if kind != .arrayFunction && !kernel.decorators.isEmpty {
                report("'\(kernel.name)' is a @\(kind.rawValue) kernel, not an array function", at: kernel.nameRange)
                return false
            }
            kind = .arrayFunction
        }
        guard kind == .arrayFunction else { return true }
        guard !isExpressionForm, let arraySignature else {
            report("'\(kernel.name)' is an array function: it is compiled for the types of each call "
                   + "(filterjit call FILE --arg ..., filterjit.jit in Python, Engine.compileFunction in Swift)", at: kernel.nameRange)
            return false
        }
        guard arraySignature.arguments.count == kernel.parameters.count else {
            report("'\(kernel.name)' takes \(kernel.parameters.count) arguments but was called with \(arraySignature.arguments.count)",
                   at: kernel.nameRange)
            return false
        }
        var valid = true
        for (parameter, type) in zip(kernel.parameters, arraySignature.arguments) {
            if case .array(let layout) = type, layout.rank > Self.maximumArrayRank {
                report("parameter '\(parameter.name)': arrays of more than \(Self.maximumArrayRank) dimensions are not supported", at: parameter.range)
                valid = false
            }
            if let value = parameter.defaultValue {
                report("parameters of array functions cannot have defaults", at: value.range)
                valid = false
            }
        }
        return valid
    }

    /// The most axes an array-function array may have (NumPy's limit is 64; 32 keeps descriptors small).
    static let maximumArrayRank = 32

    /// Which functions each function calls (by name), with the call's range.
    private func callSites(of function: FunctionDef) -> [(callee: Int, range: SourceRange)] {
        var sites: [(Int, SourceRange)] = []
        func visit(_ expression: Expr) {
            switch expression.kind {
            case .call(let callee, let arguments, let keywords):
                if case .name(let name) = callee.kind, let index = definitionIndex[name] {
                    sites.append((index, expression.range))
                }
                visit(callee)
                arguments.forEach(visit)
                keywords.forEach { visit($0.value) }
            case .attribute(let base, _): visit(base)
            case .index(let base, let index): visit(base); visit(index)
            case .unary(_, let operand): visit(operand)
            case .binary(_, let left, let right), .logical(_, let left, let right): visit(left); visit(right)
            case .compare(let first, let rest): visit(first); rest.forEach { visit($0.right) }
            case .conditional(let then, let condition, let orElse): visit(then); visit(condition); visit(orElse)
            case .tuple(let elements), .list(let elements): elements.forEach(visit)
            case .slice(let lower, let upper, let step): [lower, upper, step].compactMap { $0 }.forEach(visit)
            case .integer, .float, .boolean, .string, .name: break
            }
        }
        func visit(_ statements: [Stmt]) {
            for statement in statements {
                switch statement.kind {
                case .expression(let expression): visit(expression)
                case .assign(let target, let value): visit(target); visit(value)
                case .augmentedAssign(let target, _, let value): visit(target); visit(value)
                case .ifStatement(let branches, let orElse):
                    for branch in branches { visit(branch.condition); visit(branch.body) }
                    visit(orElse ?? [])
                case .whileLoop(let condition, let body): visit(condition); visit(body)
                case .forLoop(let target, let iterable, let body): visit(target); visit(iterable); visit(body)
                case .returnStatement(let value): value.map(visit)
                case .breakStatement, .continueStatement, .pass: break
                }
            }
        }
        visit(function.body)
        for parameter in function.parameters {
            parameter.defaultValue.map(visit)
        }
        return sites
    }

    /// Reports every call that closes a cycle in the call graph (direct or mutual recursion).
    private func checkRecursion() {
        let graph = definitions.map(callSites(of:))
        // Depth-first search with an explicit stack: a chain of thousands of helpers (h0 calls h1
        // calls h2 ...) overflowed the native stack when the search recursed (a crash on program text).
        var state = [Int](repeating: 0, count: definitions.count)  // 0 new, 1 on stack, 2 done
        var path: [Int] = []
        var nextSite: [Int] = []
        var postOrder: [Int] = []
        for root in definitions.indices where state[root] == 0 {
            state[root] = 1
            path = [root]
            nextSite = [0]
            while let node = path.last {
                let siteIndex = nextSite[nextSite.count - 1]
                guard siteIndex < graph[node].count else {
                    path.removeLast()
                    nextSite.removeLast()
                    state[node] = 2
                    postOrder.append(node)
                    continue
                }
                nextSite[nextSite.count - 1] += 1
                let site = graph[node][siteIndex]
                if state[site.callee] == 1 {
                    let members = path[(path.lastIndex(of: site.callee) ?? 0)...]
                    recursiveFunctions.formUnion(members)
                    let cycle = members.map { "'\(definitions[$0].name)'" }
                    if cycle.count == 1 {
                        report("recursion is not supported: \(cycle[0]) calls itself", at: site.range)
                    } else {
                        report("recursion is not supported: \((cycle + [cycle[0]]).joined(separator: " -> "))", at: site.range)
                    }
                } else if state[site.callee] == 0 {
                    state[site.callee] = 1
                    path.append(site.callee)
                    nextSite.append(0)
                }
            }
        }
        calleesFirst = postOrder
        checkCallDepth(graph, postOrder: postOrder)
        for (caller, sites) in graph.enumerated() {
            for site in sites where site.callee != caller {
                calledFunctions.insert(site.callee)
                let isDecoratedKernel = definitions[site.callee].decorators.contains {
                    Self.kernelKind(ofDecorator: $0.name) != nil || isCFuncDecorator($0)
                }
                if isDecoratedKernel && site.callee != kernelIndex {
                    report("'\(definitions[site.callee].name)' has a kernel decorator and cannot be called as a helper", at: site.range)
                }
            }
        }
    }

    /// Functions on a call cycle (already reported); their return types cannot be inferred.
    private(set) var recursiveFunctions: Set<Int> = []

    /// Every function after the functions it calls (a post-order of the call graph; cycles cut).
    private(set) var calleesFirst: [Int] = []

    /// The deepest chain of helper calls allowed, like the 100 levels of nesting inside one function:
    /// each level is a native (or interpreter) stack frame when the kernel runs.
    static let maximumCallDepth = 100

    /// Reports a chain of helper calls deeper than `maximumCallDepth`, once, at its outermost call.
    private func checkCallDepth(_ graph: [[(callee: Int, range: SourceRange)]], postOrder: [Int]) {
        var depth = [Int](repeating: 0, count: definitions.count)
        for node in postOrder {
            for site in graph[node] where !recursiveFunctions.contains(site.callee) && site.callee != node {
                depth[node] = max(depth[node], depth[site.callee] + 1)
            }
        }
        guard let deepest = definitions.indices.max(by: { depth[$0] < depth[$1] }),
              depth[deepest] > Self.maximumCallDepth,
              let site = graph[deepest].first(where: { depth[$0.callee] == depth[deepest] - 1 && !recursiveFunctions.contains($0.callee) })
        else { return }
        report("helper calls nest \(depth[deepest]) levels deep from '\(definitions[deepest].name)'; "
               + "deeper than \(Self.maximumCallDepth) levels is not supported", at: site.range)
    }

    /// Functions called by some other function.
    private var calledFunctions: Set<Int> = []

    /// The most run-time parameters a kernel may declare.
    static let maximumRunTimeParameters = 1024

    /// Sets the fixed types of the kernel's parameters and the starting facts of every function.
    private func prepareFacts() {
        facts = definitions.map { FunctionFacts(parameterWritable: Array(repeating: nil, count: $0.parameters.count)) }
        for index in definitions.indices {
            facts[index].hasCallers = calledFunctions.contains(index)
        }
        let kernel = definitions[kernelIndex]
        let arrays = kind.arrayParameterCount
        if kernel.parameters.count < arrays {
            let message: String
            switch kind {
            case .filter: message = "a @filter kernel needs an array parameter (the window values)"
            case .lineFilter: message = "a @line_filter kernel needs two array parameters (the input line and the output line)"
            case .transform: message = "a @transform kernel needs two array parameters (the output and input coordinates)"
            case .arrayFunction: message = ""
            }
            report(message, at: kernel.nameRange)
        }
        // LLVM's optimiser is superlinear in them (5,000 took 3.5 s, 20,000 over 90 s): a bound keeps
        // compiling from looking like a hang. Far beyond what a filter needs.
        if kernel.parameters.count - arrays > Self.maximumRunTimeParameters {
            report("a kernel may have at most \(Self.maximumRunTimeParameters) run-time parameters; "
                   + "'\(kernel.name)' has \(kernel.parameters.count - arrays)", at: kernel.nameRange)
        }
        var seen: Set<String> = []
        if kind == .arrayFunction, let arraySignature {
            for (position, (parameter, type)) in zip(kernel.parameters, arraySignature.arguments).enumerated() {
                guard seen.insert(parameter.name).inserted else { continue }
                switch type {
                case .array(let layout):
                    facts[kernelIndex].types[parameter.name] = .ndarray
                    facts[kernelIndex].ndLayouts[parameter.name] = layout
                case .int: facts[kernelIndex].types[parameter.name] = .int
                case .float: facts[kernelIndex].types[parameter.name] = .float
                case .bool: facts[kernelIndex].types[parameter.name] = .bool
                }
                facts[kernelIndex].parameterWritable[position] = true
                facts[kernelIndex].fixedTypes.insert(parameter.name)
            }
        }
        for (position, parameter) in kernel.parameters.enumerated() where kind != .arrayFunction {
            // A repeated name is reported once, as a duplicate, by the function checker.
            guard seen.insert(parameter.name).inserted else { continue }
            if position < arrays {
                let type: ValueType = (kind == .transform && position == 0) ? .intArray : .floatArray
                facts[kernelIndex].types[parameter.name] = type
                let writable = kind != .filter && position == 1
                if !writable { facts[kernelIndex].readOnlyArrays.insert(parameter.name) }
                facts[kernelIndex].parameterWritable[position] = writable
                if let value = parameter.defaultValue {
                    report("array parameter '\(parameter.name)' cannot have a default", at: value.range)
                }
            } else if let value = parameter.defaultValue {
                if let constant = constantValue(of: value) {
                    facts[kernelIndex].types[parameter.name] = constant.type == .float ? .float : .int
                    // Run-time parameters travel as doubles (the ABI's user_data): an int default beyond
                    // 2^53 would silently change (9007199254740993 ran as ...992) or, near 2^63, fail every run.
                    if constant.type != .float, let exact = exactInteger(of: value), exact.magnitude > 9_007_199_254_740_992 {
                        report("the int default of parameter '\(parameter.name)' is beyond ±2^53 and cannot be passed "
                               + "exactly as the double that run-time parameters travel as", at: value.range)
                    }
                } else {
                    report("the default of parameter '\(parameter.name)' must be a number, True/False or a constant such as inf or np.pi", at: value.range)
                    facts[kernelIndex].types[parameter.name] = .float
                }
            } else {
                // A required parameter: a float whose value every call must give.
                facts[kernelIndex].types[parameter.name] = .float
            }
            facts[kernelIndex].fixedTypes.insert(parameter.name)
        }
        // Helper defaults are constants; their types join with the call sites.
        for (index, function) in definitions.enumerated() where index != kernelIndex {
            for parameter in function.parameters {
                guard let value = parameter.defaultValue else { continue }
                if let constant = constantValue(of: value) {
                    facts[index].types[parameter.name] = constant.type
                } else {
                    report("the default of parameter '\(parameter.name)' must be a number, True/False or a constant", at: value.range)
                }
            }
        }
        // Uncalled helpers: parameters used as arrays are float arrays, the others floats.
        for (index, function) in definitions.enumerated() where index != kernelIndex && !calledFunctions.contains(index) {
            let arrayNames = namesUsedAsArrays(in: function.body)
            for (position, parameter) in function.parameters.enumerated() where facts[index].types[parameter.name] == nil {
                if arrayNames.contains(parameter.name) {
                    facts[index].types[parameter.name] = .floatArray
                } else {
                    facts[index].types[parameter.name] = .float
                    facts[index].guessedParameters.insert(parameter.name)
                }
                facts[index].parameterWritable[position] = true
            }
        }
    }

    /// Parameters of helpers that no call site gave a type (only after errors): floats.
    private func defaultUntypedParameters() {
        for (index, function) in definitions.enumerated() {
            for parameter in function.parameters where facts[index].types[parameter.name] == nil {
                facts[index].types[parameter.name] = .float
            }
        }
    }

    /// Names that are indexed, measured, iterated or given to array methods in `body`.
    private func namesUsedAsArrays(in body: [Stmt]) -> Set<String> {
        var names: Set<String> = []
        func nameOf(_ expression: Expr) -> String? {
            if case .name(let name) = expression.kind { return name }
            return nil
        }
        func visit(_ expression: Expr) {
            switch expression.kind {
            case .index(let base, let index):
                if let name = nameOf(base) { names.insert(name) }
                visit(base); visit(index)
            case .attribute(let base, let name):
                if BuiltinTables.methods[name] != nil || name == "size" || name == "shape" { if let name = nameOf(base) { names.insert(name) } }
                visit(base)
            case .call(let callee, let arguments, let keywords):
                // Arguments in the kernel's array positions are arrays.
                if case .name(let function) = callee.kind, definitionIndex[function] == kernelIndex {
                    for argument in arguments.prefix(kind.arrayParameterCount) {
                        if let name = nameOf(argument) { names.insert(name) }
                    }
                }
                if case .name(let function) = callee.kind, let first = arguments.first, let name = nameOf(first) {
                    switch BuiltinTables.bare[function] {
                    case .length?, .simple(.sorted)?: names.insert(name)
                    case .simple(let builtin)? where BuiltinTables.reductions.contains(builtin): names.insert(name)
                    case .pythonMin? where arguments.count == 1: names.insert(name)
                    case .pythonMax? where arguments.count == 1: names.insert(name)
                    default: break
                    }
                }
                if case .attribute(let module, let function) = callee.kind, case .name(let alias) = module.kind,
                   moduleAliases[alias] == "numpy", let first = arguments.first, let name = nameOf(first) {
                    switch BuiltinTables.numpy[function] {
                    case .length?, .simple(.sorted)?, .simple(.copy)?, .simple(.percentile)?, .simple(.quantile)?: names.insert(name)
                    case .simple(let builtin)? where BuiltinTables.reductions.contains(builtin): names.insert(name)
                    default: break
                    }
                }
                visit(callee)
                arguments.forEach(visit)
                keywords.forEach { visit($0.value) }
            case .unary(_, let operand): visit(operand)
            case .binary(_, let left, let right), .logical(_, let left, let right): visit(left); visit(right)
            case .compare(let first, let rest): visit(first); rest.forEach { visit($0.right) }
            case .conditional(let then, let condition, let orElse): visit(then); visit(condition); visit(orElse)
            case .tuple(let elements), .list(let elements): elements.forEach(visit)
            default: break
            }
        }
        func visit(_ statements: [Stmt]) {
            for statement in statements {
                switch statement.kind {
                case .expression(let expression): visit(expression)
                case .assign(let target, let value): visit(target); visit(value)
                case .augmentedAssign(let target, _, let value): visit(target); visit(value)
                case .ifStatement(let branches, let orElse):
                    for branch in branches { visit(branch.condition); visit(branch.body) }
                    visit(orElse ?? [])
                case .whileLoop(let condition, let body): visit(condition); visit(body)
                case .forLoop(let target, let iterable, let body):
                    if let name = nameOf(iterable) { names.insert(name) }
                    visit(target); visit(iterable); visit(body)
                case .returnStatement(let value): value.map(visit)
                case .breakStatement, .continueStatement, .pass: break
                }
            }
        }
        visit(body)
        return names
    }

    /// The exact value of an int literal with optional signs (`-5`, `+-3`), or nil for anything else.
    func exactInteger(of expression: Expr) -> Int64? {
        switch expression.kind {
        case .integer(let value): return value
        case .name(let name): if case .int(let value)? = moduleConstants[name] { return value }; return nil
        case .unary(.negate, let operand): return exactInteger(of: operand).map { 0 &- $0 }
        case .unary(.plus, let operand): return exactInteger(of: operand)
        default: return nil
        }
    }

    /// The value of a parameter default: a number with an optional sign, True/False, or a constant.
    func constantValue(of expression: Expr) -> (value: Double, type: ValueType)? {
        switch expression.kind {
        case .integer(let value): return (Double(value), .int)
        case .float(let value): return (value, .float)
        case .boolean(let value): return (value ? 1 : 0, .bool)
        case .unary(.negate, let operand):
            guard let inner = constantValue(of: operand), inner.type != .bool else { return nil }
            if inner.type == .int, case .integer(let raw) = operand.kind { return (Double(0 &- raw), .int) }
            return (-inner.value, inner.type)
        case .unary(.plus, let operand):
            guard let inner = constantValue(of: operand), inner.type != .bool else { return nil }
            return inner
        case .name(let name):
            switch moduleConstants[name] {
            case .int(let value)?: return (Double(value), .int)
            case .float(let value)?: return (value, .float)
            case .bool(let value)?: return (value ? 1 : 0, .bool)
            default: break
            }
            if let value = BuiltinTables.bareConstants[name] { return (value, .float) }
            if let imported = importedNames[name], let value = BuiltinTables.moduleConstants[imported.name] { return (value, .float) }
            return nil
        case .attribute(let base, let name):
            guard case .name(let alias) = base.kind, moduleAliases[alias] != nil,
                  let value = BuiltinTables.moduleConstants[name] else { return nil }
            return (value, .float)
        case .call(let callee, let arguments, let keywords):
            guard case .name("float") = callee.kind, keywords.isEmpty, arguments.count == 1,
                  case .string(let text) = arguments[0].kind, let value = Self.floatConstant(text) else { return nil }
            return (value, .float)
        default:
            return nil
        }
    }

    /// `float('inf')`, `float('-Infinity')`, `float('nan')`: the value, or nil for other strings.
    static func floatConstant(_ text: String) -> Double? {
        let trimmed = text.trimmingSpaces().lowercased()
        switch trimmed {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: return nil
        }
    }

    private func kernelParameters(of kernel: TypedFunction) -> [KernelParameter] {
        let definition = definitions[kernelIndex]
        var parameters: [KernelParameter] = []
        for (position, parameter) in definition.parameters.enumerated() where position >= kind.arrayParameterCount {
            let constant = parameter.defaultValue.flatMap(constantValue(of:))
            let type: ValueType = position < kernel.locals.count ? kernel.locals[position].type : .float
            parameters.append(KernelParameter(name: parameter.name, type: type == .int ? .int : .float,
                                              defaultValue: constant?.value ?? 0, slot: position,
                                              isRequired: parameter.defaultValue == nil))
        }
        return parameters
    }
}

/// The comparable part of `FunctionFacts`, to detect the fixed point.
private struct FactsSnapshot: Equatable {
    var types: [String: ValueType]
    var readOnly: Set<String>
    var writable: [Bool?]
    var returnType: ValueType?
    var returnsValue: Bool
    var endReachable: Bool
    var valueUsed: Bool
    var ndLayouts: [String: NDLayout]
    var resultLayout: NDLayout?

    init(_ facts: FunctionFacts) {
        ndLayouts = facts.ndLayouts
        resultLayout = facts.resultLayout
        types = facts.types
        readOnly = facts.readOnlyArrays
        writable = facts.parameterWritable
        returnType = facts.returnType
        returnsValue = facts.returnsValue
        endReachable = facts.endReachable
        valueUsed = facts.valueUsed
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
