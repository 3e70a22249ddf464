import FilterLang

/// Checks one function. In inference mode it only records types into the program's facts
/// (and reports nothing); in emitting mode it reports errors and builds the typed function.
struct FunctionChecker {
    let program: ProgramChecker
    let functionIndex: Int
    let emitting: Bool
    let definition: FunctionDef
    let isKernel: Bool
    let kind: KernelKind

    /// Slot names: parameters, then locals in order of first assignment.
    private var slotNames: [String] = []
    private var slotIndex: [String: Int] = [:]
    /// Names stored into by element (`a[i] = ...`): a list literal assigned to one is a fresh,
    /// writable float array rather than a constant (a Python list is mutable).
    private var elementStoredNames: Set<String> = []
    private var parameterCount: Int { definition.parameters.count }
    /// Hidden temporaries (`$t0`), appended after the named slots.
    private var temporaryType: ValueType?
    /// Array functions: the hidden counter slot of each `for v in NAME` loop, by the iterable's source offset
    /// (the loop over an n-dimensional array becomes `for $each in range(len(NAME)): v = NAME[$each]`).
    private var hiddenCounters: [Int: String] = [:]

    /// Definitely assigned slots here; nil when this point cannot be reached.
    private var assigned: Set<Int>? = []
    private var reportedUnassigned: Set<Int> = []

    private struct LoopFrame {
        var isInfinite: Bool
        var breakStates: [Set<Int>?] = []
    }
    private var loops: [LoopFrame] = []

    /// Whether statements of this function failed to parse (and are missing from its body).
    let lostStatements: Bool

    /// Names that lost statements may have assigned (not reported as unknown).
    let namesOfLostAssignments: Set<String>

    init(program: ProgramChecker, functionIndex: Int, emitting: Bool) {
        self.lostStatements = program.hasSyntaxError(in: program.definitions[functionIndex].range)
        self.namesOfLostAssignments = lostStatements ? program.namesAssignedOnBrokenLines(in: program.definitions[functionIndex].range) : []
        self.program = program
        self.functionIndex = functionIndex
        self.emitting = emitting
        self.definition = program.definitions[functionIndex]
        self.isKernel = functionIndex == program.kernelIndex
        self.kind = program.kind
    }

    // MARK: Facts

    private var facts: FunctionFacts {
        get { program.facts[functionIndex] }
        nonmutating set { program.facts[functionIndex] = newValue }
    }

    /// Reports an error when emitting; the message is only built then (inference runs several rounds).
    private func report(_ message: @autoclosure () -> String, at range: SourceRange) {
        if emitting { program.report(message(), at: range) }
    }

    private func type(ofSlot slot: Int) -> ValueType? {
        if slot >= slotNames.count { return temporaryType }
        return facts.types[slotNames[slot]]
    }

    private func isWritable(slot: Int) -> Bool {
        guard slot < slotNames.count else { return false }
        if slot < parameterCount {
            return facts.parameterWritable[slot] ?? !isKernel
        }
        return !facts.readOnlyArrays.contains(slotNames[slot])
    }

    /// Whether stores into this array value are allowed.
    private func isWritable(_ expression: TExpr) -> Bool {
        switch expression.kind {
        case .local(let slot): return isWritable(slot: slot)
        case .builtin, .gather, .arrayOf, .map, .compress, .floatArrayOf: return true
        default: return false
        }
    }

    /// Inference: joins `type` into the variable `name` of function `index`.
    private func record(_ name: String, _ type: ValueType, writable: Bool, in index: Int? = nil) {
        guard !emitting else { return }
        let target = index ?? functionIndex
        var targetFacts = program.facts[target]
        if !targetFacts.fixedTypes.contains(name) {
            if let existing = targetFacts.types[name] {
                if let joined = join(existing, type) { targetFacts.types[name] = joined }
            } else {
                targetFacts.types[name] = type
            }
        }
        if type.isArray && !writable { targetFacts.readOnlyArrays.insert(name) }
        program.facts[target] = targetFacts
    }

    // MARK: Function

    mutating func check() -> TypedFunction {
        collectSlots()
        assigned = Set(0..<parameterCount)
        var body = lowerBlock(definition.body)
        let endReachable = assigned != nil
        if !emitting {
            facts.endReachable = endReachable
        }
        if endReachable && !lostStatements {
            if isKernel && kind == .filter {
                report("missing return: the @filter kernel '\(definition.name)' must return a number on every path", at: definition.nameRange)
            } else if isArrayFunction && facts.returnsValue {
                report("missing return: '\(definition.name)' returns a value elsewhere, so it must return one on every path", at: definition.nameRange)
            } else if !isKernel && facts.returnsValue && facts.valueUsed {
                report("helper '\(definition.name)' must return a value on every path, because its value is used", at: definition.nameRange)
            }
        }
        var locals: [LocalVariable] = []
        for (slot, name) in slotNames.enumerated() {
            let type = facts.types[name] ?? .float
            locals.append(LocalVariable(name: name, type: type, isWritable: type == .ndarray || (type.isArray && isWritable(slot: slot)),
                                        layout: type == .ndarray ? facts.ndLayouts[name] : nil))
        }
        if let temporaryType {
            locals.append(LocalVariable(name: "$t0", type: temporaryType))
        }
        let returnType: ValueType?
        if isArrayFunction {
            returnType = facts.returnsValue ? facts.returnType : nil
        } else if isKernel {
            returnType = kind == .filter ? .float : nil
        } else {
            returnType = facts.returnsValue ? (facts.returnType ?? .float) : nil
        }
        // A helper whose value is never used may end without `return` (Python returns None there);
        // an explicit zero of its type keeps "every path returns a value" true for the back ends.
        if endReachable, !isKernel, let returnType {
            let end = SourceRange(definition.range.end, definition.range.end)
            let zero: TExprKind
            switch returnType {
            case .int: zero = .intConstant(0)
            case .bool: zero = .boolConstant(false)
            default: zero = .floatConstant(0)
            }
            body.append(TStmt(.returnValue(TExpr(zero, returnType, end)), end))
        }
        return TypedFunction(name: definition.name, locals: locals, parameterCount: parameterCount, returnType: returnType,
                             body: body, range: definition.range)
    }

    private mutating func collectSlots() {
        for parameter in definition.parameters where slotIndex[parameter.name] == nil {
            slotIndex[parameter.name] = slotNames.count
            slotNames.append(parameter.name)
        }
        if slotNames.count < parameterCount {
            // Duplicate parameter names: keep positions by giving the extras hidden names.
            for parameter in definition.parameters.dropFirst(slotNames.count) {
                report("duplicate parameter '\(parameter.name)'", at: parameter.range)
            }
            while slotNames.count < parameterCount { slotNames.append("$duplicate\(slotNames.count)") }
        }
        func add(_ target: Expr) {
            switch target.kind {
            case .name(let name):
                if slotIndex[name] == nil {
                    slotIndex[name] = slotNames.count
                    slotNames.append(name)
                }
            case .tuple(let elements):
                elements.forEach(add)
            default:
                break
            }
        }
        func visit(_ statements: [Stmt]) {
            for statement in statements {
                switch statement.kind {
                case .assign(let target, _), .augmentedAssign(let target, _, _):
                    add(target)
                    if case .index(let base, _) = target.kind, case .name(let name) = base.kind { elementStoredNames.insert(name) }
                case .forLoop(let target, let iterable, let body):
                    add(target)
                    if isKernel && kind == .arrayFunction, case .name = iterable.kind {
                        let hidden = "$each\(hiddenCounters.count)"
                        hiddenCounters[iterable.range.start] = hidden
                        add(Expr(.name(hidden), iterable.range))
                    }
                    visit(body)
                case .ifStatement(let branches, let orElse):
                    branches.forEach { visit($0.body) }
                    visit(orElse ?? [])
                case .whileLoop(_, let body): visit(body)
                default: break
                }
            }
        }
        visit(definition.body)
    }

    // MARK: Statements

    private mutating func lowerBlock(_ statements: [Stmt]) -> [TStmt] {
        var result: [TStmt] = []
        for statement in statements {
            result.append(contentsOf: lowerStatement(statement))
        }
        return result
    }

    private mutating func lowerStatement(_ statement: Stmt) -> [TStmt] {
        let range = statement.range
        switch statement.kind {
        case .pass:
            return []
        case .expression(let expression):
            if case .string = expression.kind { return [] }
            if case .call(let callee, [], []) = expression.kind, case .name(rawCallbackFailureName) = callee.kind {
                assigned = nil
                return [TStmt(.callbackFailure, range)]
            }
            guard let value = lower(expression, asStatement: true) else { return [] }
            return [TStmt(.expression(value), range)]
        case .assign(let target, let value):
            return lowerAssignment(target: target, value: value, range: range)
        case .augmentedAssign(let target, let op, let value):
            return lowerAugmentedAssignment(target: target, op: op, value: value, range: range)
        case .ifStatement(let branches, let orElse):
            return lowerIf(branches[...], orElse: orElse, range: range).map { [$0] } ?? []
        case .whileLoop(let condition, let body):
            let test = lower(condition).flatMap { truth($0, at: condition.range) }
            let before = assigned
            loops.append(LoopFrame(isInfinite: isAlwaysTrue(condition)))
            let typedBody = lowerBlock(body)
            let frame = loops.removeLast()
            assigned = frame.isInfinite ? intersection(frame.breakStates) : before
            guard let test else { return [] }
            return [TStmt(.whileLoop(condition: test, body: typedBody), range)]
        case .forLoop(let target, let iterable, let body):
            return lowerFor(target: target, iterable: iterable, body: body, range: range)
        case .breakStatement, .continueStatement:
            let isBreak = statement.kind == .breakStatement
            guard !loops.isEmpty else {
                report("'\(isBreak ? "break" : "continue")' outside a loop", at: range)
                return []
            }
            if isBreak { loops[loops.count - 1].breakStates.append(assigned) }
            assigned = nil
            return [TStmt(isBreak ? .breakLoop : .continueLoop, range)]
        case .returnStatement(let value):
            defer { assigned = nil }
            return lowerReturn(value, range: range)
        }
    }

    private func isAlwaysTrue(_ condition: Expr) -> Bool {
        switch condition.kind {
        case .boolean(let value): return value
        case .integer(let value): return value != 0
        case .float(let value): return value != 0
        default: return false
        }
    }

    private func intersection(_ states: [Set<Int>?]) -> Set<Int>? {
        let reachable = states.compactMap { $0 }
        guard var result = reachable.first else { return nil }
        for state in reachable.dropFirst() { result.formIntersection(state) }
        return result
    }

    private func merge(_ a: Set<Int>?, _ b: Set<Int>?) -> Set<Int>? {
        guard let a else { return b }
        guard let b else { return a }
        return a.intersection(b)
    }

    private mutating func lowerIf(_ branches: ArraySlice<ConditionalBlock>, orElse: [Stmt]?, range: SourceRange) -> TStmt? {
        guard let first = branches.first else { return nil }
        let test = lower(first.condition).flatMap { truth($0, at: first.condition.range) }
        let start = assigned
        let then = lowerBlock(first.body)
        let afterThen = assigned
        assigned = start
        var otherwise: [TStmt] = []
        let rest = branches.dropFirst()
        if let next = rest.first {
            let nestedRange = SourceRange(next.condition.range.start, range.end)
            if let nested = lowerIf(rest, orElse: orElse, range: nestedRange) { otherwise = [nested] }
        } else {
            otherwise = lowerBlock(orElse ?? [])
        }
        assigned = merge(afterThen, assigned)
        guard let test else { return nil }
        return TStmt(.ifStatement(condition: test, then: then, orElse: otherwise), range)
    }

    private mutating func lowerFor(target: Expr, iterable: Expr, body: [Stmt], range: SourceRange) -> [TStmt] {
        guard case .name(let name) = target.kind, let slot = slotIndex[name] else {
            if case .tuple = target.kind {
                report("tuple targets in for loops are not supported; loop over one array or range(...)", at: target.range)
            } else {
                report("the target of a for loop must be a name", at: target.range)
            }
            _ = lower(iterable)
            return []
        }
        if slot < parameterCount, type(ofSlot: slot)?.isArray == true {
            report("cannot assign to array parameter '\(name)'", at: target.range)
        }
        var header: TStmtKind?
        var prelude: [TStmt] = []
        if let arraySlot = ndSlot(iterable), let hidden = hiddenCounters[iterable.range.start], let counter = slotIndex[hidden] {
            // `for v in a` over an n-dimensional array (array functions): `for $each in range(len(a)): v = a[$each]`.
            record(hidden, .int, writable: true)
            if let layout = ndLayout(arraySlot) {
                if layout.rank != 1 {
                    report("iterating over a \(layout.rank)-dimensional array gives its rows, which are not supported yet; "
                           + "index it: for i in range(a.shape[0])", at: iterable.range)
                } else if case .name(let arrayName) = iterable.kind, Self.assigns(arrayName, in: body) {
                    report("'\(arrayName)' is assigned in the loop over it; loop over a copy of the name or use range(len(...))", at: iterable.range)
                } else {
                    let elementType = layout.dtype.scalarType
                    record(name, elementType, writable: true)
                    checkLoopVariable(slot, elementType: elementType, at: target.range)
                    let counterValue = TExpr(.local(counter), .int, iterable.range)
                    let element = TExpr(.ndElement(slot: arraySlot, indices: [counterValue]), elementType, iterable.range)
                    if let slotType = type(ofSlot: slot), let stored = fit(element, into: slotType, name: name, at: target.range) {
                        prelude = [TStmt(.assign(targets: [.local(slot)], values: [stored]), range)]
                    }
                    header = .forRange(slot: counter, start: TExpr(.intConstant(0), .int, iterable.range),
                                       stop: TExpr(.ndShape(slot: arraySlot, axis: 0), .int, iterable.range),
                                       step: TExpr(.intConstant(1), .int, iterable.range), body: [])
                }
            }
        } else if case .call(let callee, let arguments, let keywords) = iterable.kind, case .name("range") = callee.kind,
           slotIndex["range"] == nil, program.definitionIndex["range"] == nil {
            if !keywords.isEmpty { report("range() takes no keyword arguments", at: keywords[0].range) }
            if arguments.isEmpty || arguments.count > 3 {
                report("range() takes 1 to 3 arguments but \(arguments.count) were given", at: iterable.range)
            }
            var bounds: [TExpr] = []
            for argument in arguments.prefix(3) {
                // A uint64 bound is its int64 bits (2^63 and above are negative: an empty loop where Numba's would
                // run for ever).
                guard let value = lowerValue(argument) else { continue }
                if value.type == .float {
                    report("range() arguments must be ints, got a float", at: argument.range)
                } else if value.type.isArray {
                    report("range() arguments must be ints, got an array", at: argument.range)
                } else {
                    bounds.append(convert(value, to: .int))
                }
            }
            record(name, .int, writable: true)
            checkLoopVariable(slot, elementType: .int, at: target.range)
            if bounds.count == arguments.count && !arguments.isEmpty && arguments.count <= 3 {
                let zero = TExpr(.intConstant(0), .int, iterable.range)
                let one = TExpr(.intConstant(1), .int, iterable.range)
                let start = bounds.count >= 2 ? bounds[0] : zero
                let stop = bounds.count >= 2 ? bounds[1] : bounds[0]
                let step = bounds.count == 3 ? bounds[2] : one
                header = .forRange(slot: slot, start: start, stop: stop, step: step, body: [])
            }
        } else if let array = lower(iterable) {
            if array.type.isArray {
                let element: ValueType = array.type.elementType ?? .float
                record(name, element, writable: true)
                checkLoopVariable(slot, elementType: element, at: target.range)
                header = .forEach(slot: slot, array: array, body: [])
            } else {
                report("a for loop can only go over an array or range(...), not \(article(describe(array.type)))", at: iterable.range)
            }
        }
        let before = assigned
        assigned?.insert(slot)
        loops.append(LoopFrame(isInfinite: false))
        let typedBody = lowerBlock(body)
        loops.removeLast()
        assigned = before
        switch header {
        case .forRange(let slot, let start, let stop, let step, _)?:
            return [TStmt(.forRange(slot: slot, start: start, stop: stop, step: step, body: prelude + typedBody), range)]
        case .forEach(let slot, let array, _)?:
            return [TStmt(.forEach(slot: slot, array: array, body: typedBody), range)]
        default:
            return []
        }
    }

    /// Whether `name` is assigned anywhere in `statements` (as a target of `=`, augmented assignment or `for`).
    static func assigns(_ name: String, in statements: [Stmt]) -> Bool {
        func targets(_ target: Expr) -> Bool {
            switch target.kind {
            case .name(let n): return n == name
            case .tuple(let items): return items.contains(where: targets)
            default: return false
            }
        }
        return statements.contains { statement in
            switch statement.kind {
            case .assign(let target, _), .augmentedAssign(let target, _, _): return targets(target)
            case .forLoop(let target, _, let body): return targets(target) || assigns(name, in: body)
            case .ifStatement(let branches, let orElse): return branches.contains { assigns(name, in: $0.body) } || assigns(name, in: orElse ?? [])
            case .whileLoop(_, let body): return assigns(name, in: body)
            default: return false
            }
        }
    }

    private func checkLoopVariable(_ slot: Int, elementType: ValueType, at range: SourceRange) {
        guard emitting, let slotType = type(ofSlot: slot) else { return }
        if slotType.isArray || rank(slotType) < rank(elementType) {
            report("the loop variable '\(slotNames[slot])' is \(article(describe(slotType))) elsewhere but gets \(describe(elementType))s here; a variable keeps one type",
                   at: range)
        }
    }

    private mutating func lowerReturn(_ value: Expr?, range: SourceRange) -> [TStmt] {
        if isArrayFunction { return lowerArrayFunctionReturn(value, range: range) }
        guard let value else {
            if isKernel && kind == .filter {
                report("a @filter kernel must return a number: write 'return <expression>'", at: range)
            } else if !isKernel && facts.returnsValue {
                report("'\(definition.name)' returns a value elsewhere, so every return needs a value", at: range)
            }
            return [TStmt(.returnValue(nil), range)]
        }
        if isKernel && kind != .filter {
            let output = kind == .lineFilter ? "'out'" : "'in_coords'"
            report("a @\(kind.rawValue) kernel cannot return a value; write into \(output) and use a bare 'return'", at: value.range)
            _ = lower(value)
            return []
        }
        if case .tuple = value.kind {
            report("returning several values is not supported", at: value.range)
            return []
        }
        guard let typed = lower(value) else { return [] }
        if typed.type.isArray {
            report(isKernel ? "a filter must return a number, not an array; reduce it, e.g. np.sum(a) or a.max()"
                            : "functions cannot return arrays; return a number", at: value.range)
            // Count it as a value so that callers do not also report "does not return a value".
            if !emitting && !isKernel { facts.returnsValue = true }
            return []
        }
        if isKernel {
            return [TStmt(.returnValue(convert(typed, to: .float)), range)]
        }
        if !emitting {
            var current = facts
            current.returnsValue = true
            current.returnType = current.returnType.map { join($0, typed.type) ?? $0 } ?? typed.type
            facts = current
            return []
        }
        let returnType = facts.returnType ?? typed.type
        return [TStmt(.returnValue(convert(typed, to: returnType)), range)]
    }

    // MARK: Assignment

    private mutating func lowerAssignment(target: Expr, value: Expr, range: SourceRange) -> [TStmt] {
        var targetExpressions = [target]
        var valueExpressions = [value]
        if case .tuple(let targets) = target.kind, case .call(let callee, let arguments, let keywords) = value.kind,
           case .attribute(let module, "histogram") = callee.kind, moduleNamed(by: module)?.module == "numpy" {
            guard targets.count == 2 else {
                report("np.histogram gives 2 arrays (counts and edges), not \(targets.count)", at: value.range)
                return []
            }
            guard let pair = lowerHistogram(arguments: arguments, keywords: keywords, at: value.range) else {
                targets.forEach { markAssigned($0) }
                return []
            }
            return assignLowered(targets: targets, values: pair, range: range)
        }
        if case .tuple(let targets) = target.kind, case .call(let callee, let arguments, let keywords) = value.kind,
           case .attribute(let module, "unique") = callee.kind, moduleNamed(by: module)?.module == "numpy" {
            guard targets.count == 2 else {
                report("np.unique(..., return_counts=True) gives 2 arrays, not \(targets.count)", at: value.range)
                return []
            }
            guard let pair = lowerUnique(arguments: arguments, keywords: keywords, at: value.range, wantsCounts: true) else {
                targets.forEach { markAssigned($0) }
                return []
            }
            return assignLowered(targets: targets, values: pair, range: range)
        }
        if case .tuple(let targets) = target.kind, case .attribute(let base, "shape") = value.kind, let slot = ndSlot(base) {
            guard let layout = ndLayout(slot) else { return [] }
            guard targets.count == layout.rank else {
                report("'\(slotNames[slot])' has \(layout.rank) dimensions, not \(targets.count)", at: value.range)
                return []
            }
            let shapes = (0..<layout.rank).map { TExpr(.ndShape(slot: slot, axis: $0), .int, value.range) }
            return assignLowered(targets: targets, values: shapes, range: range)
        }
        if case .tuple(let targets) = target.kind {
            guard case .tuple(let values) = value.kind else {
                // An array whose length is known here (`q75, q25 = np.percentile(values, [75, 25])`) unpacks.
                guard let array = lower(value) else {
                    targets.forEach { markAssigned($0) }
                    return []
                }
                // A constant array (`a, b = [1.0, 2.0]` is one after lowering) unpacks into its numbers.
                var elements: [TExpr]?
                switch array.kind {
                case .arrayOf(let items): elements = items
                case .floatArrayConstant(let numbers): elements = numbers.map { TExpr(.floatConstant($0), .float, value.range) }
                case .intArrayConstant(let numbers): elements = numbers.map { TExpr(.intConstant($0), .int, value.range) }
                default: elements = nil
                }
                if let elements {
                    guard elements.count == targets.count else {
                        report("tuple assignment has \(targets.count) targets but the array has \(elements.count) elements",
                               at: value.range)
                        targets.forEach { markAssigned($0) }
                        return []
                    }
                    return assignLowered(targets: targets, values: elements, range: range)
                }
                report("tuple assignment needs a tuple of \(targets.count) values on the right", at: value.range)
                targets.forEach { markAssigned($0) }
                return []
            }
            guard values.count == targets.count else {
                report("tuple assignment has \(targets.count) targets but \(values.count) values", at: value.range)
                values.forEach { _ = lower($0) }
                return []
            }
            targetExpressions = targets
            valueExpressions = values
        }
        var values: [TExpr?] = []
        for (target, value) in zip(targetExpressions, valueExpressions) {
            if case .name(let name) = target.kind, elementStoredNames.contains(name) {
                switch value.kind {
                case .list, .tuple:
                    values.append(lowerArrayOf(value, asFloats: true))
                    continue
                default:
                    break
                }
            }
            values.append(target.kind.isName ? lowerAny(value) : lowerValue(value))
        }
        return assignLowered(targets: targetExpressions, values: values, range: range)
    }

    /// Stores lowered values into targets (a plain assignment, or `a, b = <two values of one call>`);
    /// a value that failed to lower (nil) still marks its target assigned, so later uses raise no
    /// second error.
    private mutating func assignLowered(targets targetExpressions: [Expr], values: [TExpr?], range: SourceRange) -> [TStmt] {
        var targets: [TTarget] = []
        var converted: [TExpr] = []
        var newlyAssigned: [Int] = []
        var failed = false
        for (targetExpression, value) in zip(targetExpressions, values) {
            guard let value else {
                failed = true
                markAssigned(targetExpression)
                continue
            }
            guard let (typedTarget, typedValue, slot) = lowerTarget(targetExpression, value: value) else {
                failed = true
                continue
            }
            targets.append(typedTarget)
            converted.append(typedValue)
            if let slot { newlyAssigned.append(slot) }
        }
        for slot in newlyAssigned { assigned?.insert(slot) }
        guard !failed else { return [] }
        return [TStmt(.assign(targets: targets, values: converted), range)]
    }

    /// Marks a name target as assigned even when its value failed, to avoid follow-on errors.
    private mutating func markAssigned(_ target: Expr) {
        if case .name(let name) = target.kind, let slot = slotIndex[name] { assigned?.insert(slot) }
    }

    /// The typed target and the value converted for it (and the slot it assigns, for names).
    private mutating func lowerTarget(_ target: Expr, value: TExpr) -> (TTarget, TExpr, Int?)? {
        switch target.kind {
        case .name(let name):
            guard let slot = slotIndex[name] else { return nil }
            if slot < parameterCount, type(ofSlot: slot)?.isArray == true || type(ofSlot: slot) == .ndarray {
                report("cannot assign to array parameter '\(name)'", at: target.range)
                return nil
            }
            if value.type == .ndarray {
                guard recordLayout(of: value, into: name, at: target.range) else { return nil }
            }
            record(name, value.type, writable: isWritable(value))
            guard let slotType = type(ofSlot: slot) else { return nil }
            guard let stored = fit(value, into: slotType, name: name, at: target.range) else { return nil }
            return (.local(slot), stored, slot)
        case .index(let base, let index):
            if let slot = ndSlot(base) {
                guard let indices = lowerNDIndices(slot: slot, index: index) else { return nil }
                guard value.type == .int || value.type == .float || value.type == .bool || value.type == .uint64 else {
                    report("cannot store an array into an element; store a number", at: target.range)
                    return nil
                }
                guard let layout = ndLayout(slot) else { return nil }
                return (.ndElement(slot: slot, indices: indices), storable(value, into: layout.dtype), nil)
            }
            guard let (array, position) = lowerElementTarget(base: base, index: index) else { return nil }
            guard !value.type.isArray else {
                report("cannot store an array into an element; store a number", at: target.range)
                return nil
            }
            return (.element(array: array, index: position), convert(value, to: .float), nil)
        case .attribute:
            report("cannot assign to an attribute", at: target.range)
            return nil
        case .tuple:
            report("nested tuple assignment is not supported", at: target.range)
            return nil
        default:
            report("cannot assign to this expression; the left side must be a name or an element a[i]", at: target.range)
            return nil
        }
    }

    /// Converts a value for storing into a variable of `slotType`, or reports why it cannot be.
    private func fit(_ value: TExpr, into slotType: ValueType, name: String, at range: SourceRange) -> TExpr? {
        if value.type == slotType { return value }
        if value.type == .ndarray || slotType == .ndarray {
            report("'\(name)' is \(article(describe(slotType))) elsewhere but gets \(article(describe(value.type))) here; a variable keeps one type", at: range)
            return nil
        }
        if value.type.isArray || slotType.isArray {
            if slotType.isArray && value.type.isArray {
                report("'\(name)' is \(article(describe(slotType))) elsewhere but gets \(article(describe(value.type))) here; a variable keeps one type", at: range)
            } else if slotType.isArray {
                report("'\(name)' is an array elsewhere but gets a number here; a variable keeps one type", at: range)
            } else {
                report("'\(name)' is a number elsewhere but gets an array here; a variable keeps one type", at: range)
            }
            return nil
        }
        if rank(value.type) > rank(slotType) {
            report("cannot assign \(article(describe(value.type))) to '\(name)', which is \(article(describe(slotType)))", at: range)
            return nil
        }
        return convert(value, to: slotType)
    }

    /// The array and index of a store `base[index]`, checking that the array may be written.
    private mutating func lowerElementTarget(base: Expr, index: Expr) -> (TExpr, TExpr)? {
        if case .slice = index.kind {
            report("slices are not supported as store targets; assign one element at a time", at: index.range)
            return nil
        }
        guard case .name(let name) = base.kind else {
            _ = lower(base)
            report("can only store into an element of a named array", at: base.range)
            return nil
        }
        guard let array = lower(base) else { _ = lower(index); return nil }
        let position = lower(index).flatMap { value -> TExpr? in
            if value.type.isArray {
                report("cannot store through an array of indices; store one element at a time", at: index.range)
                return nil
            }
            return indexValue(value, at: index.range)
        }
        guard array.type.isArray else {
            report("'\(name)' is not an array, so it cannot be indexed", at: base.range)
            return nil
        }
        if array.type != .floatArray {
            report("cannot write into '\(name)': it is a read-only \(describe(array.type))", at: base.range)
            return nil
        }
        if !isWritable(array) {
            report("cannot write into '\(name)': it is a read-only array", at: base.range)
            return nil
        }
        guard let position else { return nil }
        return (array, position)
    }

    private mutating func lowerAugmentedAssignment(target: Expr, op: BinaryOperator, value: Expr, range: SourceRange) -> [TStmt] {
        switch target.kind {
        case .name(let name):
            guard let current = lowerValue(target), let right = lowerValue(value) else {
                markAssigned(target)
                return []
            }
            guard let result = arithmetic(op, current, right, exponent: value, at: range) else { return [] }
            guard let slot = slotIndex[name] else { return [] }
            if slot < parameterCount, type(ofSlot: slot)?.isArray == true {
                report("cannot assign to array parameter '\(name)'", at: target.range)
                return []
            }
            record(name, result.type, writable: true)
            guard let slotType = type(ofSlot: slot), let stored = fit(result, into: slotType, name: name, at: target.range) else { return [] }
            return [TStmt(.assign(targets: [.local(slot)], values: [stored]), range)]
        case .index(let base, let index) where ndSlot(base) != nil:
            // `a[i, j] += v` is `a[i, j] = a[i, j] + v`: index expressions have no effects (helpers cannot
            // reach arrays), so evaluating them twice is the same as once.
            let slot = ndSlot(base)!
            guard let indices = lowerNDIndices(slot: slot, index: index), let right = lowerValue(value),
                  let layout = ndLayout(slot) else { return [] }
            let element = TExpr(.ndElement(slot: slot, indices: indices), layout.dtype.scalarType, target.range)
            guard let result = arithmetic(op, element, right, exponent: value, at: range) else { return [] }
            guard !result.type.isArray else {
                report("cannot store an array into an element; store a number", at: target.range)
                return []
            }
            return [TStmt(.assign(targets: [.ndElement(slot: slot, indices: indices)], values: [storable(result, into: layout.dtype)]), range)]
        case .index(let base, let index):
            guard let (array, position) = lowerElementTarget(base: base, index: index) else {
                _ = lower(value)
                return []
            }
            guard let right = lower(value) else { return [] }
            temporaryType = .int
            let temporary = slotNames.count
            let saved = TExpr(.local(temporary), .int, index.range)
            let element = TExpr(.element(array: array, index: saved), .float, target.range)
            guard let result = arithmetic(op, element, right, exponent: value, at: range) else { return [] }
            return [
                TStmt(.assign(targets: [.local(temporary)], values: [position]), range),
                TStmt(.assign(targets: [.element(array: array, index: saved)], values: [convert(result, to: .float)]), range),
            ]
        default:
            report("augmented assignment needs a name or an element a[i] on the left", at: target.range)
            return []
        }
    }

    // MARK: Types

    private func rank(_ type: ValueType) -> Int {
        switch type {
        case .bool: return 0
        case .int, .uint64: return 1
        case .float: return 2
        case .floatArray, .intArray, .boolArray, .ndarray: return 3
        }
    }

    /// The common type of two scalars (bool < int < float), the same array type, or nil. A uint64 with
    /// an int or a bool joins as an int (its bits), with a float as a float (Numba's joins, measured).
    private func join(_ a: ValueType, _ b: ValueType) -> ValueType? {
        if a == b { return a }
        if a.isArray || b.isArray || a == .ndarray || b == .ndarray { return nil }
        if a == .uint64 || b == .uint64 { return a == .float || b == .float ? .float : .int }
        return rank(a) >= rank(b) ? a : b
    }

    private func describe(_ type: ValueType) -> String {
        switch type {
        case .int: return "int"
        case .uint64: return "uint64"
        case .float: return "float"
        case .bool: return "bool"
        case .floatArray: return "float array"
        case .intArray: return "int array"
        case .boolArray: return "bool array"
        case .ndarray: return "array"
        }
    }

    private func article(_ word: String) -> String {
        (word.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + word
    }

    /// `value` converted to the scalar type `type` (only widening conversions are made).
    func convert(_ value: TExpr, to type: ValueType) -> TExpr {
        if value.type == type { return value }
        switch (value.type, type) {
        case (.bool, .int): return TExpr(.convert(.toInt, value), .int, value.range)
        case (.bool, .float), (.int, .float): return TExpr(.convert(.toFloat, value), .float, value.range)
        // A uint64 as an int keeps its bits (Numba's uint64 with an int64 computes in int64); as a float
        // it is converted unsigned (2^64 - 1 is 1.8446744073709552e19).
        case (.uint64, .int): return TExpr(.convert(.toInt, value), .int, value.range)
        case (.uint64, .float): return TExpr(.convert(.toFloat, value), .float, value.range)
        default: return value
        }
    }

    /// The truth of a scalar as a `.bool`.
    private func truth(_ value: TExpr, at range: SourceRange) -> TExpr? {
        if value.type == .bool { return value }
        if value.type.isArray {
            report("the truth value of an array is ambiguous; use any(a) or all(a)", at: range)
            return nil
        }
        return TExpr(.convert(.truth, value), .bool, value.range)
    }

    /// An index value as an `.int`.
    private func indexValue(_ value: TExpr, at range: SourceRange) -> TExpr? {
        switch value.type {
        case .int, .bool: return convert(value, to: .int)
        case .uint64: return uint64Index(value)
        case .float:
            report("array indices must be ints, got a float; use int(...)", at: range)
            return nil
        case .floatArray, .intArray, .boolArray, .ndarray:
            report("array indices must be ints, got an array", at: range)
            return nil
        }
    }

    /// A uint64 index as an int: its value below 2^63, else int64's maximum, which is out of bounds on
    /// every axis (a uint64 index never counts from the end, as in Numba).
    func uint64Index(_ value: TExpr) -> TExpr {
        let bits = convert(value, to: .int)
        let inRange = TExpr(.compare(operands: [bits, TExpr(.intConstant(0), .int, value.range)], ops: [.greaterEqual],
                                     compareTypes: [.int]), .bool, value.range)
        return TExpr(.conditional(condition: inRange, then: bits, orElse: TExpr(.intConstant(Int64.max), .int, value.range)),
                     .int, value.range)
    }

    /// A value stored into an element of a `dtype` array: a uint64 goes into a float array as its
    /// (unsigned) float value, into other arrays as its bits, which the store wraps.
    func storable(_ value: TExpr, into dtype: ArrayDType) -> TExpr {
        guard value.type == .uint64 else { return value }
        return convert(value, to: dtype.scalarType == .float ? .float : .int)
    }

    private func requireScalar(_ value: TExpr, _ what: String, at range: SourceRange) -> Bool {
        if value.type.isArray {
            report("\(what) needs a number, got an array", at: range)
            return false
        }
        return true
    }

    // MARK: Expressions

    /// NumPy element-wise evaluation of `operands` (arrays and scalars): `body` builds the scalar result
    /// from one lane per operand. Operands that are element-wise expressions themselves are fused into
    /// one `map` (their inputs join this one's, their bodies stand in for their lanes).
    func elementwise(_ operands: [TExpr], at range: SourceRange, _ body: ([TExpr]) -> TExpr?) -> TExpr? {
        var inputs: [TExpr] = []
        var lanes: [TExpr] = []
        for operand in operands {
            if case .map(let innerInputs, let innerBody) = operand.kind {
                lanes.append(Self.shiftLanes(innerBody, by: inputs.count))
                inputs.append(contentsOf: innerInputs)
            } else {
                lanes.append(TExpr(.lane(inputs.count), operand.type.elementType ?? operand.type, operand.range))
                inputs.append(operand)
            }
        }
        guard let result = body(lanes) else { return nil }
        guard let arrayType = result.type.arrayType else { return nil }
        return TExpr(.map(inputs: inputs, body: result), arrayType, range)
    }

    /// `expression` with every `.lane(j)` read as `.lane(j + offset)` (bodies hold scalar nodes only).
    static func shiftLanes(_ expression: TExpr, by offset: Int) -> TExpr {
        guard offset != 0 else { return expression }
        func shift(_ e: TExpr) -> TExpr { shiftLanes(e, by: offset) }
        let kind: TExprKind
        switch expression.kind {
        case .lane(let j): kind = .lane(j + offset)
        case .convert(let conversion, let operand): kind = .convert(conversion, shift(operand))
        case .negate(let operand): kind = .negate(shift(operand))
        case .not(let operand): kind = .not(shift(operand))
        case .arithmetic(let op, let a, let b): kind = .arithmetic(op, shift(a), shift(b))
        case .compare(let operands, let ops, let types): kind = .compare(operands: operands.map(shift), ops: ops, compareTypes: types)
        case .logical(let op, let a, let b): kind = .logical(op, shift(a), shift(b))
        case .conditional(let c, let t, let o): kind = .conditional(condition: shift(c), then: shift(t), orElse: shift(o))
        case .builtin(let builtin, let arguments): kind = .builtin(builtin, arguments.map(shift))
        default: kind = expression.kind
        }
        return TExpr(kind, expression.type, expression.range)
    }

    /// Whether a call's callee text names NumPy's function (`np.abs`, an alias, a name imported from
    /// numpy) or Python's `abs`, which also work on arrays; `math.` and bare names take numbers only.
    private func isNumpySpelling(_ name: String) -> Bool {
        if name == "abs" { return true }
        if let dot = name.firstIndex(of: ".") {
            return program.moduleAliases[String(name[..<dot])] == "numpy" && slotIndex[String(name[..<dot])] == nil
        }
        return program.importedNames[name]?.module == "numpy"
    }

    /// An int array as a float array: constants and literals converted element by element, anything
    /// else through a fresh converted copy.
    func asFloatArray(_ value: TExpr) -> TExpr {
        switch value.kind {
        case .intArrayConstant(let values):
            return TExpr(.floatArrayConstant(values.map { Double($0) }), .floatArray, value.range)
        case .arrayOf(let elements):
            return TExpr(.arrayOf(elements.map { convert($0, to: .float) }), .floatArray, value.range)
        case .gather(let array, let indices) where array.type != .floatArray:
            return TExpr(.gather(array: asFloatArray(array), indices: indices), .floatArray, value.range)
        case .map(let inputs, let body):
            return TExpr(.map(inputs: inputs, body: convert(body, to: .float)), .floatArray, value.range)
        default:
            if value.type == .floatArray { return value }
            return TExpr(.floatArrayOf(value), .floatArray, value.range)
        }
    }

    /// A list or tuple literal with variables among its elements: a fresh array of scalars.
    private mutating func lowerArrayOf(_ expression: Expr, asFloats: Bool = false) -> TExpr? {
        let elements: [Expr]
        switch expression.kind {
        case .list(let items), .tuple(let items): elements = items
        default: return nil
        }
        var values: [TExpr] = []
        var failed = false
        for element in elements {
            switch element.kind {
            case .list, .tuple:
                report("nested lists and tuples (2-D arrays) are not supported; arrays are one-dimensional", at: element.range)
                failed = true
                continue
            default:
                break
            }
            guard let value = lower(element) else { failed = true; continue }
            if value.type.isArray {
                report("an array inside a list is not supported; arrays are one-dimensional", at: element.range)
                failed = true
            }
            values.append(value)
        }
        guard !failed else { return nil }
        let isFloat = asFloats || values.contains { $0.type == .float }
        let elementType: ValueType = isFloat ? .float : .int
        return TExpr(.arrayOf(values.map { convert($0, to: elementType) }), isFloat ? .floatArray : .intArray, expression.range)
    }

    /// Evaluates list and tuple literals and `np.array([...])` (names: module constants, not variables).
    private var constantEvaluator: ConstantEvaluator {
        var evaluator = program.moduleConstantEvaluator
        let slots = slotIndex
        evaluator.isVariable = { slots[$0] != nil }
        return evaluator
    }

    /// The typed expression, or nil after reporting an error (callers stay silent then). An
    /// n-dimensional array (array functions) is an error here: only the places that take one
    /// (assignment to a name, `return`, indexing, `len`, attributes, `np.zeros_like`) call `lowerAny`.
    /// A scalar or 1-D array value. A uint64 value (an element of a uint64 array, arithmetic on them) is
    /// converted to a float here, as Numba converts it when it meets an int in `min`, `max`, a join of
    /// types; the operators and stores that keep it read it through `lowerValue`.
    mutating func lower(_ expression: Expr, asStatement: Bool = false) -> TExpr? {
        guard let value = lowerValue(expression, asStatement: asStatement) else { return nil }
        return value.type == .uint64 ? convert(value, to: .float) : value
    }

    /// `lower`, keeping a uint64 value's type (operands of arithmetic and comparisons, stored values, indices).
    mutating func lowerValue(_ expression: Expr, asStatement: Bool = false) -> TExpr? {
        guard let value = lowerAny(expression, asStatement: asStatement) else { return nil }
        if value.type == .ndarray {
            let name = program.file.slice(expression.range)
            report("'\(name)' is an n-dimensional array: index it (\(name)[i], \(name)[i, j]) or use len/.size/.shape; "
                   + "whole-array operations and arrays as helper arguments are not supported in array functions yet",
                   at: expression.range)
            return nil
        }
        return value
    }

    /// `lower`, also accepting an n-dimensional array value.
    mutating func lowerAny(_ expression: Expr, asStatement: Bool = false) -> TExpr? {
        let range = expression.range
        switch expression.kind {
        case .integer(let value):
            return TExpr(.intConstant(value), .int, range)
        case .float(let value):
            return TExpr(.floatConstant(value), .float, range)
        case .boolean(let value):
            return TExpr(.boolConstant(value), .bool, range)
        case .string:
            report("strings are not supported as values in filter programs", at: range)
            return nil
        case .name(let name):
            return lowerName(name, at: range)
        case .attribute(let base, let name):
            return lowerAttribute(base: base, name: name, at: range)
        case .call(let callee, let arguments, let keywords):
            return lowerCall(callee: callee, arguments: arguments, keywords: keywords, at: range, asStatement: asStatement)
        case .index(let base, let index):
            return lowerIndex(base: base, index: index, at: range)
        case .unary(let op, let operandExpression):
            guard let operand = lowerValue(operandExpression) else { return nil }
            switch op {
            case .not:
                return truth(operand, at: operandExpression.range).map { TExpr(.not($0), .bool, range) }
            case .invert:
                guard operand.type == .boolArray else {
                    report(operand.type == .bool
                           ? "'~' of a bool is ambiguous (Python gives -2 for True, NumPy False for np.True_); write 'not x'"
                           : "'~' takes bool arrays (masks); bitwise arithmetic on ints and floats is not supported", at: range)
                    return nil
                }
                return elementwise([operand], at: range) { lanes in TExpr(.not(lanes[0]), .bool, range) }
            case .negate, .plus:
                if operand.type.isArray {
                    if operand.type == .boolArray {
                        report("unary '\(op.rawValue)' on a bool array is not supported; convert with .astype(int)", at: range)
                        return nil
                    }
                    if op == .plus { return operand }
                    return elementwise([operand], at: range) { lanes in TExpr(.negate(lanes[0]), lanes[0].type, range) }
                }
                guard requireScalar(operand, "unary '\(op.rawValue)'", at: range) else { return nil }
                // `-u` of a uint64 stays a uint64 (wraps: -5 is 2^64 - 5), as in Numba.
                let number = operand.type == .bool ? convert(operand, to: .int) : operand
                return op == .plus ? number : TExpr(.negate(number), number.type, range)
            }
        case .binary(let op, let leftExpression, let rightExpression):
            guard let left = lowerValue(leftExpression) else { _ = lower(rightExpression); return nil }
            guard let right = lowerValue(rightExpression) else { return nil }
            return arithmetic(op, left, right, exponent: rightExpression, at: range)
        case .compare(let first, let rest):
            var operands: [TExpr] = []
            var failed = false
            for operandExpression in [first] + rest.map(\.right) {
                guard let operand = lowerValue(operandExpression) else { failed = true; continue }
                operands.append(operand)
            }
            guard !failed else { return nil }
            if operands.contains(where: { $0.type.isArray }) {
                operands = operands.map { $0.type == .uint64 ? convert($0, to: .float) : $0 }
                guard rest.count == 1 else {
                    report("a chained comparison of arrays is ambiguous in NumPy; compare once", at: range)
                    return nil
                }
                let op = rest[0].op
                return elementwise(operands, at: range) { lanes in
                    let isFloat = lanes[0].type == .float || lanes[1].type == .float
                    return TExpr(.compare(operands: lanes, ops: [op], compareTypes: [isFloat ? .float : .int]), .bool, range)
                }
            }
            // Numba compares a uint64 with an int, a bool or a float as float64s, two uint64s unsigned: in a
            // chain with any operand that is not a uint64, every uint64 operand is converted to a float.
            if operands.contains(where: { $0.type != .uint64 }) {
                operands = operands.map { $0.type == .uint64 ? convert($0, to: .float) : $0 }
            }
            var types: [ValueType] = []
            for position in 0..<rest.count {
                let isFloat = operands[position].type == .float || operands[position + 1].type == .float
                if operands[position].type == .uint64 && operands[position + 1].type == .uint64 { types.append(.uint64); continue }
                types.append(isFloat ? .float : .int)
            }
            return TExpr(.compare(operands: operands, ops: rest.map(\.op), compareTypes: types), .bool, range)
        case .logical(let op, let leftExpression, let rightExpression):
            guard let left = lower(leftExpression) else { _ = lower(rightExpression); return nil }
            guard let right = lower(rightExpression) else { return nil }
            guard requireScalar(left, "'\(op.rawValue)'", at: leftExpression.range),
                  requireScalar(right, "'\(op.rawValue)'", at: rightExpression.range),
                  let type = join(left.type, right.type) else { return nil }
            return TExpr(.logical(op, convert(left, to: type), convert(right, to: type)), type, range)
        case .conditional(let thenExpression, let conditionExpression, let elseExpression):
            let then = lowerValue(thenExpression)
            let condition = lower(conditionExpression).flatMap { truth($0, at: conditionExpression.range) }
            let orElse = lowerValue(elseExpression)
            guard let then, let condition, let orElse else { return nil }
            guard !then.type.isArray, !orElse.type.isArray, let type = join(then.type, orElse.type) else {
                report("a conditional expression must choose between numbers, not arrays", at: range)
                return nil
            }
            return TExpr(.conditional(condition: condition, then: convert(then, to: type), orElse: convert(orElse, to: type)), type, range)
        case .tuple, .list:
            do {
                return try constantEvaluator.evaluate(expression).expression(at: range)
            } catch {
                // Not constant (a variable, an element, a call ...): a fresh array of the values.
                _ = error
                return lowerArrayOf(expression)
            }
        case .slice:
            report("slices are not supported in filter programs", at: range)
            return nil
        }
    }

    private mutating func lowerName(_ name: String, at range: SourceRange) -> TExpr? {
        if name == "None" && slotIndex[name] == nil {
            // Only `return None` reaches here (the parser refuses None elsewhere); array functions take it.
            report("None is not supported in filter programs", at: range)
            return nil
        }
        if let slot = slotIndex[name] {
            checkAssigned(slot, name: name, at: range)
            guard let type = type(ofSlot: slot) else { return nil }
            return TExpr(.local(slot), type, range)
        }
        if let constant = program.moduleConstants[name] {
            return constant.expression(at: range)
        }
        if program.failedConstants.contains(name) { return nil }
        if let value = BuiltinTables.bareConstants[name] {
            return TExpr(.floatConstant(value), .float, range)
        }
        if let imported = program.importedNames[name] {
            if let value = BuiltinTables.moduleConstants[imported.name] {
                return TExpr(.floatConstant(value), .float, range)
            }
            report("'\(name)' is a function; call it", at: range)
            return nil
        }
        if program.definitionIndex[name] != nil || BuiltinTables.bare[name] != nil {
            report("'\(name)' is a function; call it", at: range)
            return nil
        }
        if program.moduleAliases[name] != nil {
            report("'\(name)' is a module; use one of its names, e.g. \(name).pi", at: range)
            return nil
        }
        if !namesOfLostAssignments.contains(name) { report(unknownNameMessage(name), at: range) }
        return nil
    }

    private func unknownNameMessage(_ name: String) -> String {
        // The same unknown name is often written many times: compute its suggestion once.
        let key = "\(functionIndex):\(name)"
        if let cached = program.unknownNameMessages[key] { return cached }
        let message = makeUnknownNameMessage(name)
        program.unknownNameMessages[key] = message
        return message
    }

    private func makeUnknownNameMessage(_ name: String) -> String {
        if BuiltinTables.unsupportedBare.contains(name) {
            return "'\(name)' is not supported in filter programs"
        }
        var candidates = Set(slotNames.filter { !$0.hasPrefix("$") })
        candidates.formUnion(BuiltinTables.bareConstants.keys)
        candidates.formUnion(BuiltinTables.bare.keys)
        candidates.formUnion(program.definitionIndex.keys)
        candidates.formUnion(program.importedNames.keys)
        if let suggestion = nearestName(to: name, in: candidates.sorted()) {
            return "unknown name '\(name)'; did you mean '\(suggestion)'?"
        }
        return "unknown name '\(name)'"
    }

    /// Whether `base` names an imported module (not shadowed by a variable): its module.
    private func moduleNamed(by base: Expr) -> (alias: String, module: String)? {
        guard case .name(let alias) = base.kind, slotIndex[alias] == nil, let module = program.moduleAliases[alias] else { return nil }
        return (alias, module)
    }

    private mutating func lowerAttribute(base: Expr, name: String, at range: SourceRange) -> TExpr? {
        if let slot = ndSlot(base) { return lowerNDAttribute(slot: slot, name: name, at: range) }
        if let (alias, module) = moduleNamed(by: base) {
            if module == "numpy" || module == "math", let value = BuiltinTables.moduleConstants[name] {
                return TExpr(.floatConstant(value), .float, range)
            }
            let table = module == "numpy" ? BuiltinTables.numpy : module == "math" ? BuiltinTables.math : [:]
            if table[name] != nil {
                report("'\(alias).\(name)' is a function; call it", at: range)
            } else if module == "numpy" || module == "math" {
                report(program.unknownModuleMemberMessage(module: module, prefix: alias, name: name), at: range)
            } else {
                report("'\(alias).\(name)' is not supported in filter programs", at: range)
            }
            return nil
        }
        guard let value = lower(base) else { return nil }
        guard value.type.isArray else {
            report("\(article(describe(value.type))) has no attribute '\(name)'", at: range)
            return nil
        }
        switch name {
        case "size":
            return TExpr(.length(value), .int, range)
        case "shape":
            report("'shape' is only supported as 'a.shape[0]' (arrays are one-dimensional)", at: range)
        default:
            if BuiltinTables.methods[name] != nil {
                report("'\(name)' is a method; call it as a.\(name)()", at: range)
            } else {
                let suggestion = nearestName(to: name, in: Array(BuiltinTables.methods.keys) + ["size", "shape"]).map { "; did you mean '\($0)'?" } ?? ""
                report("arrays have no attribute '\(name)'\(suggestion)", at: range)
            }
        }
        return nil
    }

    private mutating func lowerIndex(base: Expr, index: Expr, at range: SourceRange) -> TExpr? {
        if let slot = ndSlot(base) {
            guard let indices = lowerNDIndices(slot: slot, index: index), let layout = ndLayout(slot) else { return nil }
            return TExpr(.ndElement(slot: slot, indices: indices), layout.dtype.scalarType, range)
        }
        if case .attribute(let arrayExpression, "shape") = base.kind, let slot = ndSlot(arrayExpression) {
            return lowerNDShape(slot: slot, index: index, at: range)
        }
        if case .attribute(let arrayExpression, "shape") = base.kind, moduleNamed(by: arrayExpression) == nil {
            guard let array = lower(arrayExpression) else { return nil }
            guard array.type.isArray else {
                report("\(article(describe(array.type))) has no attribute 'shape'", at: base.range)
                return nil
            }
            guard case .integer(0) = index.kind else {
                report("only 'shape[0]' is supported: arrays are one-dimensional", at: index.range)
                return nil
            }
            return TExpr(.length(array), .int, range)
        }
        if case .slice(let lowerBound, let upperBound, let step) = index.kind {
            guard let array = lower(base) else { return nil }
            var bounds: [TExpr?] = []
            var failed = false
            for bound in [lowerBound, upperBound, step] {
                guard let bound else { bounds.append(nil); continue }
                guard let value = lower(bound), let position = indexValue(value, at: bound.range) else { failed = true; continue }
                bounds.append(position)
            }
            guard !failed else { return nil }
            guard array.type.isArray else {
                report("\(article(describe(array.type))) cannot be sliced", at: base.range)
                return nil
            }
            return TExpr(.slice(array: array, start: bounds[0], stop: bounds[1], step: bounds[2]), array.type, range)
        }
        if case .call(let callee, let arguments, let keywords) = base.kind, case .attribute(let module, "histogram") = callee.kind,
           moduleNamed(by: module)?.module == "numpy" {
            guard case .integer(let position) = index.kind, position == 0 || position == 1 else {
                report("np.histogram(...) can only be indexed with 0 (the counts) or 1 (the edges)", at: index.range)
                return nil
            }
            return lowerHistogram(arguments: arguments, keywords: keywords, at: base.range)?[Int(position)]
        }
        if case .tuple = index.kind {
            _ = lower(base)
            report("a tuple index is a multi-dimensional index in NumPy, and arrays here are one-dimensional; index with a list, a[[i, j]]", at: index.range)
            return nil
        }
        guard let array = lower(base) else { _ = lower(index); return nil }
        guard let indexValue = lower(index) else { return nil }
        if indexValue.type.isArray {
            guard array.type.isArray else {
                report("\(article(describe(array.type))) cannot be indexed", at: base.range)
                return nil
            }
            if indexValue.type == .boolArray {
                return TExpr(.compress(array: array, mask: indexValue), array.type, range)
            }
            guard indexValue.type == .intArray else {
                report("an array index must hold ints (NumPy's fancy indexing), got a float array", at: index.range)
                return nil
            }
            return TExpr(.gather(array: array, indices: indexValue), array.type, range)
        }
        guard let position = self.indexValue(indexValue, at: index.range) else { return nil }
        guard array.type.isArray else {
            report("\(article(describe(array.type))) cannot be indexed", at: base.range)
            return nil
        }
        return TExpr(.element(array: array, index: position), array.type.elementType ?? .float, range)
    }

    /// Arithmetic with Python's typing: `/` is float, `**` int only for a non-negative literal exponent.
    private func arithmetic(_ op: BinaryOperator, _ left: TExpr, _ right: TExpr, exponent: Expr, at range: SourceRange) -> TExpr? {
        if op.isBitwise { return bitwise(op, left, right, at: range) }
        if left.type.isArray || right.type.isArray {
            if (left.type == .boolArray || left.type == .bool) && (right.type == .boolArray || right.type == .bool) {
                report("arithmetic between bool arrays is not supported (NumPy gives logical results); convert with .astype(int)", at: range)
                return nil
            }
            return elementwise([left, right], at: range) { lanes in
                self.arithmetic(op, lanes[0], lanes[1], exponent: exponent, at: range)
            }
        }
        if left.type == .uint64 || right.type == .uint64 {
            return uint64Arithmetic(op, left, right, exponent: exponent, at: range)
        }
        let operation: TArithmetic
        switch op {
        case .add: operation = .add
        case .subtract: operation = .subtract
        case .multiply: operation = .multiply
        case .trueDivide:
            return TExpr(.arithmetic(.trueDivide, convert(left, to: .float), convert(right, to: .float)), .float, range)
        case .floorDivide: operation = .floorDivide
        case .modulo: operation = .modulo
        case .power:
            if left.type != .float, right.type != .float, case .integer(let value) = exponent.kind, value >= 0 {
                return TExpr(.arithmetic(.power, convert(left, to: .int), convert(right, to: .int)), .int, range)
            }
            return TExpr(.arithmetic(.power, convert(left, to: .float), convert(right, to: .float)), .float, range)
        case .bitwiseAnd, .bitwiseOr, .bitwiseXor:
            return bitwise(op, left, right, at: range)
        }
        let type: ValueType = left.type == .float || right.type == .float ? .float : .int
        return TExpr(.arithmetic(operation, convert(left, to: type), convert(right, to: type)), type, range)
    }

    /// Arithmetic with a uint64 operand, Numba's rules (measured with Numba 0.68.1): two uint64s give a
    /// uint64 (`+ - * // %` wrap or divide unsigned); a uint64 with an int or a bool computes in int64 on
    /// the uint64's bits; with a float, in float64 (the uint64 converted unsigned); `/` is a float; `**`
    /// converts a uint64 to an int (or to a float when the exponent is not a non-negative literal).
    private func uint64Arithmetic(_ op: BinaryOperator, _ left: TExpr, _ right: TExpr, exponent: Expr, at range: SourceRange) -> TExpr? {
        var literalExponent = false
        if case .integer(let value) = exponent.kind, value >= 0 { literalExponent = true }
        if left.type == .float || right.type == .float || op == .trueDivide || (op == .power && !literalExponent) {
            return arithmetic(op, convert(left, to: .float), convert(right, to: .float), exponent: exponent, at: range)
        }
        guard left.type == .uint64, right.type == .uint64, op != .power else {
            return arithmetic(op, convert(left, to: .int), convert(right, to: .int), exponent: exponent, at: range)
        }
        let operation: TArithmetic
        switch op {
        case .add: operation = .add
        case .subtract: operation = .subtract
        case .multiply: operation = .multiply
        case .floorDivide: operation = .floorDivide
        case .modulo: operation = .modulo
        default: return arithmetic(op, convert(left, to: .int), convert(right, to: .int), exponent: exponent, at: range)
        }
        return TExpr(.arithmetic(operation, left, right), .uint64, range)
    }

    /// `&`, `|`, `^` between bools: NumPy's logical and, or and xor, element by element when an operand is
    /// a bool array (`(values > lo) & (values < hi)`). Both operands are evaluated, as in Python (no
    /// short circuit): the bools count as 0 and 1. Ints and floats are refused (no bitwise integer
    /// arithmetic in the language).
    private func bitwise(_ op: BinaryOperator, _ left: TExpr, _ right: TExpr, at range: SourceRange) -> TExpr? {
        let isBool = { (type: ValueType) in type == .bool || type == .boolArray }
        guard isBool(left.type), isBool(right.type) else {
            report("'\(op.rawValue)' takes bools and bool arrays (comparisons, masks); bitwise arithmetic on ints and floats "
                   + "is not supported", at: range)
            return nil
        }
        if left.type.isArray || right.type.isArray {
            return elementwise([left, right], at: range) { lanes in self.bitwise(op, lanes[0], lanes[1], at: range) }
        }
        let a = convert(left, to: .int), b = convert(right, to: .int)
        let int = { (value: Int64) in TExpr(.intConstant(value), .int, range) }
        switch op {
        case .bitwiseXor:
            return TExpr(.compare(operands: [a, b], ops: [.notEqual], compareTypes: [.int]), .bool, range)
        default:
            let count = TExpr(.arithmetic(.add, a, b), .int, range)
            return op == .bitwiseAnd
                ? TExpr(.compare(operands: [count, int(2)], ops: [.equal], compareTypes: [.int]), .bool, range)
                : TExpr(.compare(operands: [count, int(0)], ops: [.notEqual], compareTypes: [.int]), .bool, range)
        }
    }

    // MARK: Calls

    private mutating func lowerCall(callee: Expr, arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange, asStatement: Bool) -> TExpr? {
        let display = program.file.slice(callee.range)
        if case .name("len") = callee.kind, slotIndex["len"] == nil, arguments.count == 1, keywords.isEmpty, let slot = ndSlot(arguments[0]) {
            guard let layout = ndLayout(slot) else { return nil }
            guard layout.rank > 0 else {
                report("len() of a 0-d array (NumPy: 'len() of unsized object')", at: range)
                return nil
            }
            return TExpr(.ndShape(slot: slot, axis: 0), .int, range)
        }
        if case .attribute(let base, let name) = callee.kind, ["max", "min", "amax", "amin"].contains(name), keywords.isEmpty {
            // np.max(a) / a.max() of an n-dimensional array: one shared reduction (NDReduction).
            let operation: NDReduction = name.hasSuffix("max") ? .max : .min
            if moduleNamed(by: base)?.module == "numpy", arguments.count == 1, let slot = ndSlot(arguments[0]), let layout = ndLayout(slot) {
                return TExpr(.ndReduce(operation, slot: slot), layout.dtype.scalarType, range)
            }
            if arguments.isEmpty, name.count == 3, let slot = ndSlot(base), let layout = ndLayout(slot) {
                return TExpr(.ndReduce(operation, slot: slot), layout.dtype.scalarType, range)
            }
        }
        if isArrayFunction, case .attribute(let base, let name) = callee.kind, moduleNamed(by: base)?.module == "numpy",
           ["zeros", "empty", "zeros_like", "empty_like"].contains(name) {
            return lowerNDAllocation(name, arguments: arguments, keywords: keywords, at: range)
        }
        switch callee.kind {
        case .name(let name):
            if slotIndex[name] != nil {
                report("'\(name)' is a variable, not a function", at: callee.range)
                return nil
            }
            if program.moduleConstants[name] != nil && program.definitionIndex[name] == nil {
                report("'\(name)' is a constant, not a function", at: callee.range)
                lowerArgumentsForErrors(arguments, keywords)
                return nil
            }
            if let index = program.definitionIndex[name] {
                return lowerHelperCall(index, arguments: arguments, keywords: keywords, at: range, asStatement: asStatement)
            }
            if let imported = program.importedNames[name] {
                let table = imported.module == "numpy" ? BuiltinTables.numpy : BuiltinTables.math
                guard let function = table[imported.name] else {
                    report("'\(name)' is a constant, not a function", at: callee.range)
                    return nil
                }
                return lowerBuiltinCall(function, name: display, arguments: arguments, keywords: keywords, at: range, asStatement: asStatement)
            }
            if let function = BuiltinTables.bare[name] {
                return lowerBuiltinCall(function, name: display, arguments: arguments, keywords: keywords, at: range, asStatement: asStatement)
            }
            if !namesOfLostAssignments.contains(name) { report(unknownNameMessage(name), at: callee.range) }
            lowerArgumentsForErrors(arguments, keywords)
            return nil
        case .attribute(let base, let name):
            if let (_, module) = moduleNamed(by: base), module == "numpy", name == "array" || name == "asarray" {
                return lowerArrayConstructor(name, arguments: arguments, keywords: keywords, at: range)
            }
            if let (_, module) = moduleNamed(by: base), module == "numpy", name == "where" {
                return lowerWhere(arguments: arguments, keywords: keywords, at: range)
            }
            if let (_, module) = moduleNamed(by: base), module == "numpy", name == "histogram" {
                report("np.histogram gives two arrays: assign them, 'hist, edges = np.histogram(...)', or index the call, np.histogram(...)[0]",
                       at: range)
                lowerArgumentsForErrors(arguments, keywords)
                return nil
            }
            if let (_, module) = moduleNamed(by: base), module == "numpy", name == "unique" {
                return lowerUnique(arguments: arguments, keywords: keywords, at: range)?.first
            }
            if let (_, module) = moduleNamed(by: base), module == "numpy", ["ptp", "count_nonzero", "average", "dot", "cumsum", "bincount"].contains(name) {
                return lowerNumpyStatistic(name, arguments: arguments, keywords: keywords, at: range)
            }
            if let (alias, module) = moduleNamed(by: base) {
                let table = module == "numpy" ? BuiltinTables.numpy : module == "math" ? BuiltinTables.math : [:]
                guard let function = table[name] else {
                    if BuiltinTables.moduleConstants[name] != nil && (module == "numpy" || module == "math") {
                        report("'\(alias).\(name)' is a constant, not a function", at: callee.range)
                    } else if module == "numpy" || module == "math" {
                        report(program.unknownModuleMemberMessage(module: module, prefix: alias, name: name), at: callee.range)
                    } else {
                        report("'\(alias).\(name)' is not supported in filter programs", at: callee.range)
                    }
                    lowerArgumentsForErrors(arguments, keywords)
                    return nil
                }
                return lowerBuiltinCall(function, name: display, arguments: arguments, keywords: keywords, at: range, asStatement: asStatement)
            }
            if name == "dot" {
                // a.dot(b) is np.dot(a, b).
                return lowerDot(arguments: [base] + arguments, keywords: keywords, at: range)
            }
            guard let receiver = lower(base) else { return nil }
            guard receiver.type.isArray else {
                report("\(article(describe(receiver.type))) has no method '\(name)'", at: callee.range)
                return nil
            }
            if name == "astype" {
                return lowerAstype(receiver, arguments: arguments, keywords: keywords, at: range)
            }
            guard let builtin = BuiltinTables.methods[name] else {
                if name == "size" || name == "shape" {
                    report("'\(name)' is an attribute, not a method: write a.size or a.shape[0]", at: callee.range)
                    return nil
                }
                let suggestion = nearestName(to: name, in: BuiltinTables.methods.keys.sorted()).map { "; did you mean '\($0)'?" } ?? ""
                report("arrays have no method '\(name)'\(suggestion)", at: callee.range)
                return nil
            }
            if !arguments.isEmpty || !keywords.isEmpty {
                report("'\(display)()' takes no arguments in filter programs", at: range)
                return nil
            }
            return applyBuiltin(builtin, name: display, arguments: [receiver], argumentRanges: [base.range], at: range, asStatement: asStatement)
        default:
            report("this expression cannot be called", at: callee.range)
            return nil
        }
    }

    /// `np.histogram(a, bins=10, range=None)` with an int `bins` (positional or keyword) and `range` a
    /// pair of numbers: the counts and the edges (both evaluate their arguments, which must not call helpers).
    private mutating func lowerHistogram(arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange) -> [TExpr]? {
        var binsExpression: Expr? = arguments.count > 1 ? arguments[1] : nil
        var rangeExpression: Expr? = arguments.count > 2 ? arguments[2] : nil
        guard (1...3).contains(arguments.count) else {
            report(arityMessage("np.histogram", expected: 1...3, given: arguments.count), at: range)
            return nil
        }
        for keyword in keywords {
            switch keyword.name {
            case "bins" where binsExpression == nil: binsExpression = keyword.value
            case "range" where rangeExpression == nil: rangeExpression = keyword.value
            default:
                report("np.histogram() keyword '\(keyword.name)' is not supported (only bins and range)", at: keyword.range)
                return nil
            }
        }
        guard let value = lower(arguments[0]) else { return nil }
        guard value.type.isArray else {
            report("'np.histogram' needs an array, got \(article(describe(value.type)))", at: arguments[0].range)
            return nil
        }
        var bins = TExpr(.intConstant(10), .int, range)
        if let binsExpression {
            guard let given = lower(binsExpression) else { return nil }
            guard given.type == .int || given.type == .bool else {
                report("np.histogram's bins must be an int here (bin edges as an array are not supported)", at: binsExpression.range)
                return nil
            }
            bins = convert(given, to: .int)
        }
        var low = TExpr(.floatConstant(0), .float, range), high = TExpr(.floatConstant(1), .float, range)
        var autodetect = true
        if let rangeExpression, !isNone(rangeExpression) {
            guard case .tuple(let pair) = rangeExpression.kind, pair.count == 2 else {
                report("np.histogram's range must be a pair (lo, hi)", at: rangeExpression.range)
                return nil
            }
            guard let lo = lower(pair[0]), let hi = lower(pair[1]) else { return nil }
            guard !lo.type.isArray, !hi.type.isArray else {
                report("np.histogram's range must hold two numbers", at: rangeExpression.range)
                return nil
            }
            (low, high, autodetect) = (convert(lo, to: .float), convert(hi, to: .float), false)
        }
        let array = asFloatArray(value)
        let operands = [array, bins, low, high, TExpr(.boolConstant(autodetect), .bool, range)]
        guard !operands.contains(where: Self.callsHelper) else {
            report("np.histogram of expressions that call helpers is not supported; assign them to variables first", at: range)
            return nil
        }
        return [TExpr(.builtin(.histogram, operands), .intArray, range), TExpr(.builtin(.histogramEdges, operands), .floatArray, range)]
    }

    private func isNone(_ expression: Expr) -> Bool {
        if case .name("None") = expression.kind, slotIndex["None"] == nil { return true }
        return false
    }

    /// `np.unique(a)`: one value; `np.unique(a, return_counts=True)`: two (the values and their counts),
    /// only as the right side of `vals, counts = ...` (the caller asks for both with `wantsCounts`).
    private mutating func lowerUnique(arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange, wantsCounts: Bool = false) -> [TExpr]? {
        var returnCounts = false
        for keyword in keywords {
            guard keyword.name == "return_counts", case .boolean(let flag) = keyword.value.kind else {
                report(keyword.name == "return_counts" ? "np.unique's return_counts must be True or False"
                                                       : "np.unique() keyword '\(keyword.name)' is not supported (only return_counts)", at: keyword.range)
                return nil
            }
            returnCounts = flag
        }
        guard arguments.count == 1 else {
            report(arityMessage("np.unique", expected: 1...1, given: arguments.count), at: range)
            lowerArgumentsForErrors(arguments, [])
            return nil
        }
        if returnCounts != wantsCounts {
            report(returnCounts ? "np.unique(..., return_counts=True) gives two arrays: assign them, 'values, counts = np.unique(...)'"
                                : "np.unique(a) gives one array; write return_counts=True for the counts", at: range)
            return nil
        }
        guard let value = lower(arguments[0]) else { return nil }
        guard value.type.isArray else {
            report("'np.unique' needs an array, got \(article(describe(value.type)))", at: arguments[0].range)
            return nil
        }
        let array = asFloatArray(value)
        let values = TExpr(.builtin(.unique, [array]), .floatArray, range)
        guard wantsCounts else { return [values] }
        guard !Self.callsHelper(array) else {
            report("np.unique of an expression that calls a helper is not supported here; assign the array to a variable first", at: arguments[0].range)
            return nil
        }
        return [values, TExpr(.builtin(.uniqueCounts, [array]), .intArray, range)]
    }

    /// `np.ptp(a)` (`np.max(a) - np.min(a)`), `np.count_nonzero(a)` (a float count here),
    /// `np.average(a)` and `np.average(a, weights=w)`, `np.dot(a, b)`.
    private mutating func lowerNumpyStatistic(_ name: String, arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange) -> TExpr? {
        if name == "dot" { return lowerDot(arguments: arguments, keywords: keywords, at: range) }
        var weightsExpression: Expr?
        var minlengthExpression: Expr?
        for keyword in keywords {
            if name == "average" && keyword.name == "weights" && weightsExpression == nil {
                weightsExpression = keyword.value
            } else if name == "bincount" && keyword.name == "minlength" && minlengthExpression == nil {
                minlengthExpression = keyword.value
            } else {
                report("np.\(name)() keyword '\(keyword.name)' is not supported", at: keyword.range)
                return nil
            }
        }
        guard arguments.count == 1 else {
            let hint = name == "average" && arguments.count > 1 ? "; give the weights as weights=w" : ""
            report(arityMessage("np.\(name)", expected: 1...1, given: arguments.count) + hint, at: range)
            lowerArgumentsForErrors(arguments, keywords)
            return nil
        }
        guard let value = lower(arguments[0]) else { return nil }
        guard value.type.isArray else {
            report("'np.\(name)' needs an array, got \(article(describe(value.type)))", at: arguments[0].range)
            return nil
        }
        if name == "bincount" {
            var counts = value
            if value.type == .boolArray {
                counts = elementwise([value], at: range) { lanes in self.convert(lanes[0], to: .int) } ?? value
            }
            guard counts.type == .intArray else {
                report("np.bincount needs an int array (NumPy cannot cast float64 to int64 safely); convert with .astype(int)",
                       at: arguments[0].range)
                return nil
            }
            var minlength = TExpr(.intConstant(0), .int, range)
            if let minlengthExpression {
                guard let given = lower(minlengthExpression), let index = indexValue(given, at: minlengthExpression.range) else { return nil }
                minlength = index
            }
            return TExpr(.builtin(.bincount, [counts, minlength]), .intArray, range)
        }
        let array = asFloatArray(value)
        switch name {
        case "cumsum":
            return TExpr(.builtin(.cumsum, [array]), .floatArray, range)
        case "ptp":
            guard !Self.callsHelper(array) else {
                report("np.ptp of an expression that calls a helper is not supported; assign the array to a variable first", at: arguments[0].range)
                return nil
            }
            let high = TExpr(.builtin(.npMax, [array]), .float, range), low = TExpr(.builtin(.npMin, [array]), .float, range)
            return TExpr(.arithmetic(.subtract, high, low), .float, range)
        case "count_nonzero":
            guard let nonzero = elementwise([value], at: range, { lanes in
                let isFloat = lanes[0].type == .float
                let zero = isFloat ? TExpr(.floatConstant(0), .float, range) : TExpr(.intConstant(0), .int, range)
                return TExpr(.compare(operands: [lanes[0], zero], ops: [.notEqual], compareTypes: [isFloat ? .float : .int]), .bool, range)
            }) else { return nil }
            return TExpr(.builtin(.pySum, [asFloatArray(nonzero)]), .float, range)
        default:
            guard let weightsExpression else { return TExpr(.builtin(.mean, [array]), .float, range) }
            guard let weights = lower(weightsExpression) else { return nil }
            guard weights.type.isArray else {
                report("np.average weights must be an array, got \(article(describe(weights.type)))", at: weightsExpression.range)
                return nil
            }
            return TExpr(.builtin(.average, [array, asFloatArray(weights)]), .float, range)
        }
    }

    /// `np.dot(a, b)` of two 1-D arrays: a float with NumPy's bits for contiguous float64 vectors
    /// (`Numerics.dot`: OpenBLAS's ddot order). NumPy hands a strided view (`a[::2]`) to BLAS with its
    /// stride, which sums in another order, and computes two bool arrays as a bool: both are refused.
    private mutating func lowerDot(arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange) -> TExpr? {
        guard keywords.isEmpty, arguments.count == 2 else {
            if let keyword = keywords.first {
                report("np.dot() keyword '\(keyword.name)' is not supported", at: keyword.range)
            } else {
                report(arityMessage("np.dot", expected: 2...2, given: arguments.count), at: range)
            }
            lowerArgumentsForErrors(arguments, keywords)
            return nil
        }
        let left = lower(arguments[0]), right = lower(arguments[1])
        guard let left, let right else { return nil }
        for (value, expression) in [(left, arguments[0]), (right, arguments[1])] {
            guard value.type.isArray, value.type != .ndarray else {
                report("np.dot needs two 1-D arrays here, got \(article(describe(value.type))); multiply numbers with *", at: expression.range)
                return nil
            }
            if case .slice(_, _, _, let step?) = value.kind, constant(step) != 1 {
                report("np.dot of a strided slice is not supported: NumPy gives BLAS the stride, which sums in another order; "
                       + "use np.dot(a[::2].copy(), b)", at: expression.range)
                return nil
            }
        }
        if left.type == .boolArray && right.type == .boolArray {
            report("np.dot of two bool arrays is a bool in NumPy; convert one with .astype(int)", at: range)
            return nil
        }
        return TExpr(.builtin(.dot, [asFloatArray(left), asFloatArray(right)]), .float, range)
    }

    /// The value of an int constant expression (`.intConstant`, possibly negated), if it is one.
    private func constant(_ expression: TExpr) -> Int64? {
        switch expression.kind {
        case .intConstant(let value): return value
        case .negate(let operand): return constant(operand).map { 0 &- $0 }
        default: return nil
        }
    }

    /// Whether an expression calls a helper anywhere (it may then not be evaluated twice).
    static func callsHelper(_ expression: TExpr) -> Bool {
        switch expression.kind {
        case .call: return true
        case .intConstant, .floatConstant, .boolConstant, .local, .lane, .floatArrayConstant, .intArrayConstant: return false
        case .convert(_, let a), .negate(let a), .not(let a), .length(let a), .floatArrayOf(let a): return callsHelper(a)
        case .arithmetic(_, let a, let b), .logical(_, let a, let b), .element(let a, let b), .gather(let a, let b),
             .compress(let a, let b):
            return callsHelper(a) || callsHelper(b)
        case .conditional(let a, let b, let c): return callsHelper(a) || callsHelper(b) || callsHelper(c)
        case .compare(let operands, _, _), .builtin(_, let operands), .arrayOf(let operands): return operands.contains(where: callsHelper)
        case .map(let inputs, let body): return inputs.contains(where: callsHelper) || callsHelper(body)
        case .slice(let a, let b, let c, let d): return ([a] + [b, c, d].compactMap { $0 }).contains(where: callsHelper)
        case .ndShape, .ndSize, .ndReduce: return false
        case .ndElement(_, let operands), .ndAllocate(_, let operands): return operands.contains(where: callsHelper)
        }
    }

    /// `np.where(condition, a, b)`: element-wise choice (a scalar choice when all three are numbers).
    private mutating func lowerWhere(arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange) -> TExpr? {
        if let keyword = keywords.first {
            report("keyword arguments are not supported in calls to 'np.where'", at: keyword.range)
            return nil
        }
        guard arguments.count == 3 else {
            report(arguments.count == 1 ? "np.where(condition) with one argument (indices) is not supported; give the two choices"
                                        : arityMessage("np.where", expected: 3...3, given: arguments.count), at: range)
            lowerArgumentsForErrors(arguments, [])
            return nil
        }
        var values: [TExpr] = []
        for argument in arguments {
            guard let value = lower(argument) else { return nil }
            values.append(value)
        }
        func choose(_ lanes: [TExpr]) -> TExpr? {
            guard let condition = truth(lanes[0], at: arguments[0].range), let type = join(lanes[1].type, lanes[2].type) else { return nil }
            return TExpr(.conditional(condition: condition, then: convert(lanes[1], to: type), orElse: convert(lanes[2], to: type)), type, range)
        }
        guard values.contains(where: { $0.type.isArray }) else { return choose(values) }
        return elementwise(values, at: range, choose)
    }

    /// `a.astype(float | int | bool)` (also `np.float64`, `np.int64`, `np.bool_`): a converted copy.
    /// Floats become ints by truncation; NaN, an infinity or a value beyond the 64-bit range is a
    /// run-time error, as `int(x)` is (NumPy gives an unspecified value there).
    private mutating func lowerAstype(_ receiver: TExpr, arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange) -> TExpr? {
        guard arguments.count == 1, keywords.isEmpty else {
            report("astype takes one dtype here: a.astype(float), a.astype(int) or a.astype(bool)", at: range)
            return nil
        }
        var dtype: String?
        switch arguments[0].kind {
        case .name(let bare) where slotIndex[bare] == nil: dtype = bare
        case .attribute(let module, let member): if moduleNamed(by: module)?.module == "numpy" { dtype = "np." + member }
        default: break
        }
        let target: ValueType
        switch dtype {
        case "float", "np.float64", "np.double": target = .float
        case "int", "np.int64", "np.intp": target = .int
        case "bool", "np.bool_", "np.bool": target = .bool
        default:
            report("astype takes float, int or bool (np.float64, np.int64, np.bool_) here", at: arguments[0].range)
            return nil
        }
        return elementwise([receiver], at: range) { lanes in
            let lane = lanes[0]
            switch (lane.type, target) {
            case (.float, .int): return TExpr(.builtin(.toInt, [lane]), .int, range)
            case (_, .bool): return self.truth(lane, at: range)
            default: return self.convert(lane, to: target)
            }
        }
    }

    /// `np.array(x)` / `np.asarray(x)`: a constant array of a list or tuple of numbers (optionally with
    /// `dtype=float|int`); of a float array, `np.array` is a copy and `np.asarray` the array itself.
    private mutating func lowerArrayConstructor(_ name: String, arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange) -> TExpr? {
        guard arguments.count == 1 else {
            report(arityMessage("np.\(name)", expected: 1...1, given: arguments.count), at: range)
            lowerArgumentsForErrors(arguments, keywords)
            return nil
        }
        switch arguments[0].kind {
        case .list, .tuple:
            do {
                return try constantEvaluator.evaluate(Expr(.call(callee: Expr(.attribute(base: Expr(.name("np"), range), name: name), range),
                                                                 arguments: arguments, keywords: keywords), range)).expression(at: range)
            } catch {
                if let keyword = keywords.first {
                    _ = keyword
                    report("np.\(name)(): \(error.message)", at: error.range)
                    return nil
                }
                return lowerArrayOf(arguments[0]).map { TExpr($0.kind, $0.type, range) }
            }
        default:
            guard var value = lower(arguments[0]) else { return nil }
            for keyword in keywords {
                guard keyword.name == "dtype" else {
                    report("np.\(name)() keyword '\(keyword.name)' is not supported", at: keyword.range)
                    return nil
                }
                var dtype: String?
                switch keyword.value.kind {
                case .name(let bare): dtype = bare
                case .attribute(let module, let member): if moduleNamed(by: module)?.module == "numpy" { dtype = "np." + member }
                default: break
                }
                switch dtype {
                case "float", "np.float64", "np.double":
                    if value.type == .intArray { value = asFloatArray(value) }
                case "int", "np.int64", "np.intp":
                    if value.type != .intArray {
                        report("np.\(name)(a, dtype=int) of a float array is not supported; convert elements with int(x)", at: keyword.range)
                        return nil
                    }
                default:
                    report("dtype must be float or int (np.float64, np.int64) here", at: keyword.value.range)
                    return nil
                }
            }
            guard value.type.isArray else {
                report("np.\(name)() of a number (a 0-d array) is not supported; use the number", at: arguments[0].range)
                return nil
            }
            if name == "asarray" || value.type == .intArray { return TExpr(value.kind, value.type, range) }
            if case .floatArrayOf = value.kind { return TExpr(value.kind, value.type, range) }
            return TExpr(.builtin(.copy, [value]), .floatArray, range)
        }
    }

    /// Lowers arguments of a call that already failed, so errors inside them are reported too.
    private mutating func lowerArgumentsForErrors(_ arguments: [Expr], _ keywords: [KeywordArgument]) {
        for argument in arguments { _ = lower(argument) }
        for keyword in keywords { _ = lower(keyword.value) }
    }

    private func arityMessage(_ name: String, expected: ClosedRange<Int>, given: Int) -> String {
        let count: String
        if expected.lowerBound == expected.upperBound {
            count = "\(expected.lowerBound) argument\(expected.lowerBound == 1 ? "" : "s")"
        } else if expected.upperBound == Int.max {
            count = "at least \(expected.lowerBound) arguments"
        } else {
            count = "\(expected.lowerBound) to \(expected.upperBound) arguments"
        }
        return "'\(name)' takes \(count) but \(given) \(given == 1 ? "was" : "were") given"
    }

    private mutating func lowerHelperCall(_ index: Int, arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange, asStatement: Bool) -> TExpr? {
        let callee = program.definitions[index]
        let name = callee.name
        if let keyword = keywords.first {
            report("keyword arguments are not supported in calls to '\(name)'", at: keyword.range)
            lowerArgumentsForErrors(arguments, keywords)
            return nil
        }
        let total = callee.parameters.count
        let required = callee.parameters.prefix { $0.defaultValue == nil }.count
        guard (required...max(required, total)).contains(arguments.count) else {
            report(arityMessage(name, expected: required...max(required, total), given: arguments.count), at: range)
            lowerArgumentsForErrors(arguments, [])
            return nil
        }
        var values: [TExpr] = []
        var failed = false
        for argument in arguments {
            if let value = lower(argument) { values.append(value) } else { failed = true }
        }
        guard !failed else { return nil }
        for parameter in callee.parameters.dropFirst(arguments.count) {
            // Defaults are constants (checked once, in the callee), so lowering them here gives the same value.
            guard let defaultValue = parameter.defaultValue, program.constantValue(of: defaultValue) != nil,
                  let value = lower(defaultValue) else { return nil }
            values.append(value)
        }
        let calleeIsKernel = index == program.kernelIndex
        if !emitting {
            for (position, value) in values.enumerated() {
                let parameterName = callee.parameters[position].name
                // A guessed (float) parameter of an uncalled helper, passed where an array is
                // expected, is an array after all; the next round sees it so.
                if position < arguments.count, case .name(let argumentName) = arguments[position].kind,
                   facts.guessedParameters.contains(argumentName) {
                    if let expected = program.facts[index].types[parameterName], expected.isArray {
                        var updated = facts
                        updated.types[argumentName] = expected
                        updated.guessedParameters.remove(argumentName)
                        facts = updated
                    }
                    continue
                }
                record(parameterName, value.type, writable: isWritable(value), in: index)
                if value.type.isArray && !calleeIsKernel {
                    let writable = program.facts[index].parameterWritable[position] ?? true
                    program.facts[index].parameterWritable[position] = writable && isWritable(value)
                }
            }
            if !asStatement { program.facts[index].valueUsed = true }
        }
        var converted: [TExpr] = []
        for (position, value) in values.enumerated() {
            let parameterName = callee.parameters[position].name
            guard let parameterType = program.facts[index].types[parameterName] else { return nil }
            let argumentRange = position < arguments.count ? arguments[position].range : range
            if parameterType.isArray || value.type.isArray {
                if parameterType != value.type {
                    report("argument \(position + 1) of '\(name)' must be \(article(describe(parameterType))), got \(article(describe(value.type)))", at: argumentRange)
                    failed = true
                } else if calleeIsKernel && program.facts[index].parameterWritable[position] == true && !isWritable(value) {
                    report("argument \(position + 1) of '\(name)' must be a writable array", at: argumentRange)
                    failed = true
                }
                converted.append(value)
            } else if rank(value.type) > rank(parameterType) {
                report("argument \(position + 1) of '\(name)' must be \(article(describe(parameterType))), got \(article(describe(value.type)))", at: argumentRange)
                failed = true
            } else {
                converted.append(convert(value, to: parameterType))
            }
        }
        guard !failed else { return nil }
        let returnType: ValueType?
        if calleeIsKernel {
            returnType = program.kind == .filter ? .float : nil
        } else {
            returnType = program.facts[index].returnsValue ? (program.facts[index].returnType ?? .float) : nil
        }
        if returnType == nil && !asStatement {
            if program.recursiveFunctions.contains(index) { return nil }  // Already reported as recursion.
            report("'\(name)' does not return a value", at: range)
            return nil
        }
        // A call used only as a statement has no value; `.float` stands in for "no type".
        return TExpr(.call(function: index, arguments: converted), returnType ?? .float, range)
    }

    private mutating func lowerBuiltinCall(_ function: BuiltinFunction, name: String, arguments: [Expr], keywords: [KeywordArgument],
                                           at range: SourceRange, asStatement: Bool) -> TExpr? {
        if let keyword = keywords.first {
            report("keyword arguments are not supported in calls to '\(name)'", at: keyword.range)
            lowerArgumentsForErrors(arguments, keywords)
            return nil
        }
        func arity(_ expected: ClosedRange<Int>) -> Bool {
            if expected.contains(arguments.count) { return true }
            report(arityMessage(name, expected: expected, given: arguments.count), at: range)
            return false
        }
        switch function {
        case .range:
            report("range() is only supported as the iterable of a for loop", at: range)
            return nil
        case .toFloat:
            guard arity(1...1) else { return nil }
            if case .string(let text) = arguments[0].kind {
                guard let value = ProgramChecker.floatConstant(text) else {
                    report("float() of a string is only supported for 'inf', '-inf' and 'nan'", at: arguments[0].range)
                    return nil
                }
                return TExpr(.floatConstant(value), .float, range)
            }
            guard let value = lower(arguments[0]), requireScalar(value, "'\(name)'", at: arguments[0].range) else { return nil }
            return convert(value, to: .float)
        case .toInt, .round:
            if case .round = function, arguments.count == 2 {
                report("round() with a number of digits is not supported; use round(x) or np.round(x)", at: range)
                return nil
            }
            guard arity(1...1), let value = lowerValue(arguments[0]), requireScalar(value, "'\(name)'", at: arguments[0].range) else { return nil }
            // int() of a uint64 is the int64 of its bits (2^64 - 1 gives -1; Numba keeps a uint64).
            if value.type != .float { return convert(value, to: .int) }
            let builtin: Builtin = function == .round ? .roundToInt : .toInt
            return TExpr(.builtin(builtin, [value]), .int, range)
        case .toBool:
            guard arity(1...1), let value = lower(arguments[0]) else { return nil }
            return truth(value, at: arguments[0].range)
        case .length:
            guard arity(1...1), let value = lower(arguments[0]) else { return nil }
            guard value.type.isArray else {
                report("'\(name)' needs an array, got \(article(describe(value.type)))", at: arguments[0].range)
                return nil
            }
            return TExpr(.length(value), .int, range)
        case .pythonMin, .pythonMax:
            let isMin = function == .pythonMin
            guard arity(1...Int.max) else { return nil }
            if arguments.count == 1 {
                return lowerBuiltinArguments(isMin ? .pyMin : .pyMax, name: name, arguments: arguments, at: range, asStatement: asStatement)
            }
            return lowerBuiltinArguments(isMin ? .pyMinOf : .pyMaxOf, name: name, arguments: arguments, at: range, asStatement: asStatement)
        case .pythonPow:
            if arguments.count == 3 {
                report("pow() with a modulus is not supported", at: range)
                return nil
            }
            guard arity(2...2), let base = lower(arguments[0]), let exponent = lower(arguments[1]) else { return nil }
            return arithmetic(.power, base, exponent, exponent: arguments[1], at: range)
        case .floatAbs:
            guard arity(1...1), let value = lower(arguments[0]), requireScalar(value, "'\(name)'", at: arguments[0].range) else { return nil }
            return TExpr(.builtin(.abs, [convert(value, to: .float)]), .float, range)
        case .simple(let builtin):
            return lowerBuiltinArguments(builtin, name: name, arguments: arguments, at: range, asStatement: asStatement)
        }
    }

    private mutating func lowerBuiltinArguments(_ builtin: Builtin, name: String, arguments: [Expr], at range: SourceRange, asStatement: Bool) -> TExpr? {
        if let expected = expectedArity(builtin), !expected.contains(arguments.count) {
            report(arityMessage(name, expected: expected, given: arguments.count), at: range)
            lowerArgumentsForErrors(arguments, [])
            return nil
        }
        var values: [TExpr] = []
        var failed = false
        for argument in arguments {
            if let value = lower(argument) { values.append(value) } else { failed = true }
        }
        guard !failed else { return nil }
        return applyBuiltin(builtin, name: name, arguments: values, argumentRanges: arguments.map(\.range), at: range, asStatement: asStatement)
    }

    private func expectedArity(_ builtin: Builtin) -> ClosedRange<Int>? {
        if let arity = BuiltinTables.numArity[builtin] { return arity }
        if builtin == .percentile || builtin == .quantile || BuiltinTables.floatBinary.contains(builtin) { return 2...2 }
        return 1...1
    }

    /// Checks and converts the arguments of a built-in whose arguments are already lowered.
    private func applyBuiltin(_ builtin: Builtin, name: String, arguments originalArguments: [TExpr], argumentRanges: [SourceRange], at range: SourceRange,
                              asStatement: Bool) -> TExpr? {
        var arguments = originalArguments
        // Built-ins over float arrays take int arrays (constants, literals) converted to floats.
        if BuiltinTables.reductions.contains(builtin) || [.percentile, .quantile, .copy, .sorted, .cumsum].contains(builtin),
           let first = arguments.first, first.type == .intArray || first.type == .boolArray {
            arguments[0] = asFloatArray(first)
        }
        // NumPy's ufuncs apply element by element to arrays.
        if arguments.contains(where: { $0.type.isArray }), BuiltinTables.elementwise.contains(builtin) {
            guard isNumpySpelling(name) else {
                report("'\(name)' takes numbers, not arrays; NumPy's np.\(name.split(separator: ".").last ?? "") applies element by element",
                       at: range)
                return nil
            }
            if builtin == .abs || BuiltinTables.numArity[builtin] != nil, arguments.contains(where: { $0.type == .boolArray }) {
                report("'\(name)' of a bool array is not supported; convert with .astype(int)", at: range)
                return nil
            }
            return elementwise(arguments, at: range) { lanes in
                self.applyBuiltin(builtin, name: name, arguments: lanes, argumentRanges: argumentRanges, at: range, asStatement: false)
            }
        }
        func floatArray(_ position: Int) -> Bool {
            let value = arguments[position]
            if value.type == .floatArray { return true }
            if value.type == .intArray {
                report("'\(name)' needs a float array; this one holds ints", at: argumentRanges[position])
            } else {
                report("'\(name)' needs an array, got \(article(describe(value.type)))", at: argumentRanges[position])
            }
            return false
        }
        func scalars() -> Bool {
            for (position, value) in arguments.enumerated() where value.type.isArray {
                report("'\(name)' needs numbers, got an array", at: argumentRanges[position])
                return false
            }
            return true
        }
        if BuiltinTables.reductions.contains(builtin) {
            guard floatArray(0) else { return nil }
            let type: ValueType
            switch builtin {
            case .any, .all: type = .bool
            case .argmin, .argmax: type = .int
            default: type = .float
            }
            return TExpr(.builtin(builtin, arguments), type, range)
        }
        switch builtin {
        case .percentile, .quantile:
            guard floatArray(0) else { return nil }
            // A constant list of q (`np.percentile(values, [75, 25])`): an array of one result per q, in order.
            let qs: [Double]?
            switch arguments[1].kind {
            case .floatArrayConstant(let values): qs = values
            case .intArrayConstant(let values): qs = values.map { Double($0) }
            default: qs = nil
            }
            if let qs, !qs.isEmpty {
                guard !Self.callsHelper(arguments[0]) else {
                    report("'\(name)' of an expression that calls a helper with several q is not supported; assign the array to a variable first",
                           at: argumentRanges[0])
                    return nil
                }
                let each = qs.map { q in
                    TExpr(.builtin(builtin, [arguments[0], TExpr(.floatConstant(q), .float, argumentRanges[1])]), .float, range)
                }
                return TExpr(.arrayOf(each), .floatArray, range)
            }
            guard !arguments[1].type.isArray else {
                report("'\(name)' needs a number as its second argument, got an array", at: argumentRanges[1])
                return nil
            }
            return TExpr(.builtin(builtin, [arguments[0], convert(arguments[1], to: .float)]), .float, range)
        case .zeros, .ones, .empty:
            switch arguments[0].type {
            case .int, .bool:
                return TExpr(.builtin(builtin, [convert(arguments[0], to: .int)]), .floatArray, range)
            default:
                report("'\(name)' needs an int size, got \(article(describe(arguments[0].type)))", at: argumentRanges[0])
                return nil
            }
        case .copy, .sorted, .cumsum:
            guard floatArray(0) else { return nil }
            return TExpr(.builtin(builtin, arguments), .floatArray, range)
        case .sortInPlace:
            guard floatArray(0) else { return nil }
            if !isWritable(arguments[0]) {
                report("cannot sort a read-only array in place; use sorted(a) or np.sort(a) for a sorted copy", at: range)
                return nil
            }
            if !asStatement {
                report("'\(name)()' sorts in place and returns nothing; use np.sort(a) for a sorted copy", at: range)
                return nil
            }
            // No value: `.float` stands in for "no type" (only used as a statement).
            return TExpr(.builtin(.sortInPlace, arguments), .float, range)
        default:
            break
        }
        if BuiltinTables.numArity[builtin] != nil {
            guard scalars() else { return nil }
            var type: ValueType = .int
            for value in arguments where value.type == .float { type = .float }
            return TExpr(.builtin(builtin, arguments.map { convert($0, to: type) }), type, range)
        }
        if BuiltinTables.roundingToInt.contains(builtin) {
            guard scalars() else { return nil }
            if arguments[0].type != .float { return convert(arguments[0], to: .int) }
            return TExpr(.builtin(builtin, arguments), .int, range)
        }
        // Float functions of one or two floats.
        guard scalars() else { return nil }
        let type: ValueType = [.isnan, .isinf, .isfinite].contains(builtin) ? .bool : .float
        return TExpr(.builtin(builtin, arguments.map { convert($0, to: .float) }), type, range)
    }
}

// MARK: - Array functions (issue 15)

extension ExprKind {
    /// Whether this is a bare name.
    var isName: Bool { if case .name = self { return true } else { return false } }
}

extension FunctionChecker {
    /// Whether this function is an array function (the kernel of an `@array_function` program).
    var isArrayFunction: Bool { isKernel && kind == .arrayFunction }

    /// The slot of an n-dimensional array named by `expression`, if it is one.
    /// Reports a read of local `slot` where some path reaches it unassigned (Python's UnboundLocalError).
    /// Every read of a variable goes through here: generated code never reads an unassigned slot, which
    /// for an array function's array would be an undefined data pointer and shape.
    private mutating func checkAssigned(_ slot: Int, name: String, at range: SourceRange) {
        if emitting, !lostStatements, slot >= parameterCount, let current = assigned, !current.contains(slot), !reportedUnassigned.contains(slot) {
            reportedUnassigned.insert(slot)
            report("'\(name)' may be used before it is assigned", at: range)
        }
    }

    mutating func ndSlot(_ expression: Expr) -> Int? {
        guard case .name(let name) = expression.kind, let slot = slotIndex[name], type(ofSlot: slot) == .ndarray else { return nil }
        checkAssigned(slot, name: name, at: expression.range)
        return slot
    }

    /// The dtype and rank of the n-dimensional array in `slot` (nil while inference has not seen its assignment).
    func ndLayout(_ slot: Int) -> NDLayout? {
        guard slot < slotNames.count else { return nil }
        return program.facts[functionIndex].ndLayouts[slotNames[slot]]
    }

    /// The layout of an `.ndarray` expression.
    func layout(of value: TExpr) -> NDLayout? {
        switch value.kind {
        case .local(let slot): return ndLayout(slot)
        case .ndAllocate(let layout, _): return layout
        default: return nil
        }
    }

    /// Records (inference) or checks (emitting) the layout an array assignment gives `name`.
    func recordLayout(of value: TExpr, into name: String, at range: SourceRange) -> Bool {
        guard let layout = layout(of: value) else { return false }
        if let existing = program.facts[functionIndex].ndLayouts[name] {
            if existing != layout {
                report("'\(name)' is a \(existing) array elsewhere but gets a \(layout) array here; a variable keeps one dtype and rank", at: range)
                return false
            }
            return true
        }
        if !emitting { program.facts[functionIndex].ndLayouts[name] = layout }
        return true
    }

    /// One `.int` index per axis of `slot`'s array from `a[i]` or `a[i, j, ...]`.
    mutating func lowerNDIndices(slot: Int, index: Expr) -> [TExpr]? {
        let name = (slot < slotNames.count ? slotNames[slot] : "?")
        var parts = [index]
        if case .tuple(let elements) = index.kind { parts = elements }
        if parts.contains(where: { if case .slice = $0.kind { return true } else { return false } }) {
            report("slices of '\(name)' are not supported in array functions yet; index single elements", at: index.range)
            return nil
        }
        var indices: [TExpr] = []
        var failed = false
        for part in parts {
            guard let value = lowerValue(part) else { failed = true; continue }
            if value.type == .uint64 { indices.append(uint64Index(value)); continue }
            guard value.type == .int || value.type == .bool else {
                report(value.type == .float ? "array indices must be ints, got a float; use int(...)"
                                                 : "array indices must be ints (fancy indexing is not supported in array functions yet)", at: part.range)
                failed = true
                continue
            }
            indices.append(convert(value, to: .int))
        }
        guard !failed, let layout = ndLayout(slot) else { return nil }
        guard indices.count == layout.rank else {
            if indices.count < layout.rank {
                report("'\(name)' has \(layout.rank) dimensions: index every axis (\(name)[\((0..<layout.rank).map { "i\($0)" }.joined(separator: ", "))]); "
                            + "a row view is not supported in array functions yet", at: index.range)
            } else {
                report("too many indices for '\(name)': it has \(layout.rank) dimensions but \(indices.count) were given", at: index.range)
            }
            return nil
        }
        return indices
    }

    /// `a.shape[k]` with a constant `k` (negative counts from the end).
    func lowerNDShape(slot: Int, index: Expr, at range: SourceRange) -> TExpr? {
        guard let layout = ndLayout(slot) else { return nil }
        guard let k = program.exactInteger(of: index) else {
            report("'shape' must be indexed with a constant (a.shape[0]); got a computed index", at: index.range)
            return nil
        }
        let axis = k < 0 ? k + Int64(layout.rank) : k
        guard axis >= 0, axis < Int64(layout.rank) else {
            report("tuple index out of range: '\((slot < slotNames.count ? slotNames[slot] : "?"))' has \(layout.rank) dimensions", at: index.range)
            return nil
        }
        return TExpr(.ndShape(slot: slot, axis: Int(axis)), .int, range)
    }

    /// `a.size`, `a.ndim` (and the refusals of other attributes).
    func lowerNDAttribute(slot: Int, name: String, at range: SourceRange) -> TExpr? {
        guard let layout = ndLayout(slot) else { return nil }
        switch name {
        case "size": return TExpr(.ndSize(slot: slot), .int, range)
        case "ndim": return TExpr(.intConstant(Int64(layout.rank)), .int, range)
        case "shape":
            report("'shape' is supported as a.shape[k], 'm, n = a.shape' and in np.zeros(a.shape, ...)", at: range)
        default:
            report("array functions support a.size, a.ndim, a.shape[k] and len(a); not '.\(name)'", at: range)
        }
        return nil
    }

    /// The dtype an expression names: `np.uint8`, `float`, `'int32'`, `a.dtype`.
    func dtype(named expression: Expr) -> ArrayDType? {
        var found: ArrayDType?
        switch expression.kind {
        case .attribute(let base, let member):
            if case .name(let alias) = base.kind, slotIndex[alias] == nil, program.moduleAliases[alias] == "numpy" {
                found = ArrayDType(pythonName: member)
            } else if member == "dtype", case .name(let array) = base.kind, let slot = slotIndex[array],
                      type(ofSlot: slot) == .ndarray {
                // Only the static layout is read (no run-time value), so no assignment check.

                found = ndLayout(slot)?.dtype
                if found == nil { return nil }
            }
        case .name(let name) where slotIndex[name] == nil:
            switch name {
            case "float": found = .float64
            case "int": found = .int64
            case "bool": found = .bool
            default: break
            }
        case .string(let text):
            found = ArrayDType(pythonName: text)
        default:
            break
        }
        if found == nil {
            report("unsupported dtype '\(program.file.slice(expression.range))'; use np.float64, np.float32, np.int8 ... np.int64, "
                        + "np.uint8 ... np.uint64, np.bool_, float, int or bool", at: expression.range)
        }
        return found
    }

    /// `np.zeros(shape, dtype)`, `np.empty(...)`, `np.zeros_like(a, dtype=None)`, `np.empty_like(...)`: a new array.
    mutating func lowerNDAllocation(_ name: String, arguments: [Expr], keywords: [KeywordArgument], at range: SourceRange) -> TExpr? {
        var dtypeExpression: Expr?
        for keyword in keywords {
            if keyword.name == "dtype" { dtypeExpression = keyword.value } else {
                report("np.\(name) takes only 'dtype' as a keyword here", at: keyword.value.range)
                return nil
            }
        }
        guard arguments.count == 1 || (arguments.count == 2 && dtypeExpression == nil) else {
            report("np.\(name) takes a \(name.hasSuffix("_like") ? "array" : "shape") and an optional dtype", at: range)
            return nil
        }
        if arguments.count == 2 { dtypeExpression = arguments[1] }
        var dtype: ArrayDType?
        if let dtypeExpression {
            guard let named = self.dtype(named: dtypeExpression) else { return nil }
            dtype = named
        }
        if name.hasSuffix("_like") {
            guard let slot = ndSlot(arguments[0]) else {
                report("np.\(name) needs an array argument of the function", at: arguments[0].range)
                return nil
            }
            guard let layout = ndLayout(slot) else { return nil }
            let shape = (0..<layout.rank).map { TExpr(.ndShape(slot: slot, axis: $0), .int, arguments[0].range) }
            return TExpr(.ndAllocate(NDLayout(dtype: dtype ?? layout.dtype, rank: layout.rank), shape: shape), .ndarray, range)
        }
        var shape: [TExpr] = []
        switch arguments[0].kind {
        case .attribute(let base, "shape") where ndSlot(base) != nil:
            let slot = ndSlot(base)!
            guard let layout = ndLayout(slot) else { return nil }
            shape = (0..<layout.rank).map { TExpr(.ndShape(slot: slot, axis: $0), .int, arguments[0].range) }
        default:
            var parts = [arguments[0]]
            if case .tuple(let elements) = arguments[0].kind { parts = elements }
            for part in parts {
                guard let value = lower(part) else { return nil }
                guard value.type == .int || value.type == .bool else {
                    report("array dimensions must be ints", at: part.range)
                    return nil
                }
                shape.append(convert(value, to: .int))
            }
        }
        guard shape.count <= ProgramChecker.maximumArrayRank else {
            report("arrays of more than \(ProgramChecker.maximumArrayRank) dimensions are not supported", at: range)
            return nil
        }
        return TExpr(.ndAllocate(NDLayout(dtype: dtype ?? .float64, rank: shape.count), shape: shape), .ndarray, range)
    }

    /// `return`, `return None`, `return value` in an array function: one result type on every path
    /// (an array of one layout, or joined scalars), as Numba's typing requires.
    mutating func lowerArrayFunctionReturn(_ value: Expr?, range: SourceRange) -> [TStmt] {
        let returnsNothing: Bool
        if let value, case .name("None") = value.kind, slotIndex["None"] == nil { returnsNothing = true } else { returnsNothing = value == nil }
        guard let value, !returnsNothing else {
            if emitting && program.facts[functionIndex].returnsValue {
                report("'\(definition.name)' returns a value elsewhere, so every return needs one (None and a value cannot mix)", at: range)
            }
            return [TStmt(.returnValue(nil), range)]
        }
        if case .tuple = value.kind {
            report("returning several values is not supported", at: value.range)
            return []
        }
        guard let typed = lowerAny(value) else { return [] }
        if typed.type.isArray {
            report("a 1-D local array cannot be returned from an array function; make the result with np.zeros or np.empty", at: value.range)
            return []
        }
        var current = program.facts[functionIndex]
        if !emitting {
            current.returnsValue = true
            if typed.type == .ndarray, current.resultLayout == nil { current.resultLayout = layout(of: typed) }
            current.returnType = current.returnType.map { join($0, typed.type) ?? $0 } ?? typed.type
            program.facts[functionIndex] = current
            return []
        }
        let returnType = current.returnType ?? typed.type
        if typed.type == .ndarray || returnType == .ndarray {
            guard typed.type == returnType, layout(of: typed) == current.resultLayout else {
                let other = returnType == .ndarray ? "a \(current.resultLayout?.description ?? "array") array" : "a number"
                report("'\(definition.name)' returns \(other) elsewhere; every return must give the same type", at: value.range)
                return []
            }
            return [TStmt(.returnValue(typed), range)]
        }
        return [TStmt(.returnValue(convert(typed, to: returnType)), range)]
    }
}
