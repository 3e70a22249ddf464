// A seeded generator of random well-typed programs over the typed IR, for differential
// testing of the JIT against the interpreter. It covers every statement kind, every
// operator and built-in, int/float/bool mixing, local arrays, NaN/±inf/-0.0, negative and
// out-of-range indices, zero divisors, helper calls and run-time parameters.

import FilterLang

/// SplitMix64: small, fast, reproducible from one seed.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Interesting doubles, including the ones that break naive lowering.
let specialDoubles: [Double] = [0, -0.0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, 7, -7, 0.1, 1e300, -1e300, .leastNonzeroMagnitude,
                                .infinity, -.infinity, .nan, 9.3e18, -9.3e18, 4503599627370497]

/// Generates one random program per call.
struct RandomProgramGenerator {
    var random: SplitMix64
    /// Whether the program uses a built-in whose result may be either zero (np.min, median...).
    private(set) var usesZeroAmbiguousBuiltin = false

    /// The kind of the program being generated (`@filter` or `@line_filter`).
    private(set) var kind: KernelKind = .filter
    // Slots of a filter: 0 values, 1 pf (float param), 2 pi (int param), then locals. A line
    // filter has `out` at slot 1 and everything after it shifted by one.
    private var shift: Int { kind == .lineFilter ? 1 : 0 }
    private let valuesSlot = 0, outSlot = 1
    private var floatParameter: Int { 1 + shift }
    private var intParameter: Int { 2 + shift }
    private var floatSlots: [Int] { [3 + shift, 4 + shift] }
    private var intSlots: [Int] { [5 + shift, 6 + shift] }
    private var boolSlot: Int { 7 + shift }
    private var arraySlot: Int { 8 + shift }
    private var loopSlots: [Int] { [9 + shift, 10 + shift, 11 + shift] }      // int loop variables, one per nesting level
    private var eachSlots: [Int] { [12 + shift, 13 + shift, 14 + shift] }     // float forEach variables, one per nesting level
    private var counterSlots: [Int] { [15 + shift, 16 + shift, 17 + shift] }  // int while counters, one per nesting level
    private var loopDepth = 0
    private var hasHelper = false
    /// Whether `arr` has been assigned (before that, array expressions use `values`).
    private var arrayReady = false
    private var helperIndex = 0

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    private let here = SourceRange(0, 1)

    mutating func program() -> TypedProgram {
        kind = random.chance(0.25) ? .lineFilter : .filter
        usesZeroAmbiguousBuiltin = false
        loopDepth = 0
        arrayReady = false
        // An optional helper: def h(a, x): return a[int-ish] * x + min(a)  (may fail on an empty array).
        hasHelper = random.chance(0.5)
        var functions: [TypedFunction] = []
        if hasHelper {
            let a = TExpr(.local(0), .floatArray, here), x = TExpr(.local(1), .float, here)
            let index = TExpr(.intConstant(Int64(random.below(5)) - 2), .int, here)
            let body = TExpr(.arithmetic(.add, TExpr(.arithmetic(.multiply, TExpr(.element(array: a, index: index), .float, here), x), .float, here),
                                         TExpr(.builtin(.pyMin, [a]), .float, here)), .float, here)
            functions.append(TypedFunction(name: "h", locals: [LocalVariable(name: "a", type: .floatArray), LocalVariable(name: "x", type: .float)],
                                           parameterCount: 2, returnType: .float, body: [TStmt(.returnValue(body), here)], range: here))
            helperIndex = 0
        }
        var locals = [LocalVariable(name: kind == .lineFilter ? "line" : "values", type: .floatArray)]
        if kind == .lineFilter { locals.append(LocalVariable(name: "out", type: .floatArray, isWritable: true)) }
        locals += [LocalVariable(name: "pf", type: .float), LocalVariable(name: "pi", type: .int)]
        locals += [LocalVariable(name: "f0", type: .float), LocalVariable(name: "f1", type: .float),
                   LocalVariable(name: "i0", type: .int), LocalVariable(name: "i1", type: .int),
                   LocalVariable(name: "b0", type: .bool), LocalVariable(name: "arr", type: .floatArray, isWritable: true)]
        locals += loopSlots.map { LocalVariable(name: "k\($0)", type: .int) }
        locals += eachSlots.map { LocalVariable(name: "v\($0)", type: .float) }
        locals += counterSlots.map { LocalVariable(name: "$w\($0)", type: .int) }

        var body: [TStmt] = []
        // Every slot is assigned a constant first (the interpreter rejects reads before assignment),
        // then overwritten by random expressions.
        for slot in floatSlots + eachSlots { body.append(assign(slot, TExpr(.floatConstant(random.pick(specialDoubles)), .float, here))) }
        for slot in intSlots + loopSlots + counterSlots { body.append(assign(slot, TExpr(.intConstant(Int64(random.below(5) - 2)), .int, here))) }
        body.append(assign(boolSlot, TExpr(.boolConstant(random.chance(0.5)), .bool, here)))
        body.append(assign(arraySlot, arrayConstructor()))
        arrayReady = true
        body.append(assign(floatSlots[0], floatExpression(1)))
        body.append(assign(intSlots[0], intExpression(1)))
        body.append(assign(boolSlot, boolExpression(1)))
        for _ in 0..<(1 + random.below(5)) { body.append(statement(depth: 2)) }
        if kind == .lineFilter {
            // for k in range(len(out)): out[k] = <expression>
            let slot = loopSlots[0]
            loopDepth = 1
            let value = floatExpression(2)
            loopDepth = 0
            body.append(TStmt(.forRange(slot: slot, start: TExpr(.intConstant(0), .int, here),
                                        stop: TExpr(.length(local(outSlot, .floatArray)), .int, here),
                                        step: TExpr(.intConstant(1), .int, here),
                                        body: [TStmt(.assign(targets: [.element(array: local(outSlot, .floatArray), index: local(slot, .int))],
                                                             values: [value]), here)]), here))
        } else {
            body.append(TStmt(.returnValue(floatExpression(3)), here))
        }

        let parameters = [
            KernelParameter(name: "pf", type: .float, defaultValue: random.pick(specialDoubles), slot: floatParameter),
            KernelParameter(name: "pi", type: .int, defaultValue: Double(random.below(7) - 3), slot: intParameter),
        ]
        let kernel = TypedFunction(name: "fuzz", locals: locals, parameterCount: 3 + shift,
                                   returnType: kind == .filter ? .float : nil, body: body, range: SourceRange(0, 4))
        functions.append(kernel)
        return TypedProgram(functions: functions, kernelIndex: functions.count - 1, kind: kind, parameters: parameters)
    }

    // MARK: Statements

    private func assign(_ slot: Int, _ value: TExpr) -> TStmt {
        TStmt(.assign(targets: [.local(slot)], values: [value]), here)
    }

    private mutating func statement(depth: Int) -> TStmt {
        let choice = random.below(depth <= 0 ? 4 : 12)
        switch choice {
        case 0: return assign(random.pick(floatSlots), floatExpression(3))
        case 1: return assign(random.pick(intSlots), intExpression(3))
        case 2:
            // arr[i] = x  (index possibly negative or out of range)
            let target = kind == .lineFilter && random.chance(0.5) ? local(outSlot, .floatArray) : local(arraySlot, .floatArray)
            return TStmt(.assign(targets: [.element(array: target, index: indexExpression())],
                                 values: [floatExpression(2)]), SourceRange(2, 3))
        case 3:
            // Tuple assignment, e.g. f0, f1 = f1, f0.
            return TStmt(.assign(targets: [.local(floatSlots[0]), .local(floatSlots[1])],
                                 values: [local(floatSlots[1], .float), floatExpression(2)]), here)
        case 4:
            return TStmt(.ifStatement(condition: boolExpression(2), then: block(depth - 1),
                                      orElse: random.chance(0.5) ? block(depth - 1) : []), here)
        case 5 where loopDepth < loopSlots.count:
            let slot = loopSlots[loopDepth]
            let start = TExpr(.intConstant(Int64(random.below(7) - 3)), .int, here)
            let stop = random.chance(0.5) ? TExpr(.length(local(valuesSlot, .floatArray)), .int, here)
                                          : TExpr(.intConstant(Int64(random.below(9) - 3)), .int, here)
            let step = TExpr(.intConstant(random.chance(0.05) ? 0 : random.pick([1, 1, 2, -1, -2, 3])), .int, here)
            loopDepth += 1
            var body = block(depth - 1)
            // Sometimes assign the loop variable: must not change the iteration.
            if random.chance(0.2) { body.insert(assign(slot, intExpression(1)), at: 0) }
            loopDepth -= 1
            return TStmt(.forRange(slot: slot, start: start, stop: stop, step: step, body: body), here)
        case 6 where loopDepth < eachSlots.count:
            let slot = eachSlots[loopDepth]
            let array = random.chance(0.5) ? local(valuesSlot, .floatArray) : local(arraySlot, .floatArray)
            loopDepth += 1
            let body = block(depth - 1)
            loopDepth -= 1
            return TStmt(.forEach(slot: slot, array: array, body: body), here)
        case 7 where loopDepth < counterSlots.count:
            // w = 0; while w < K and cond: w += 1; body
            let counter = counterSlots[loopDepth]
            let bound = TExpr(.intConstant(Int64(random.below(6))), .int, here)
            let limit = TExpr(.compare(operands: [local(counter, .int), bound], ops: [.less], compareTypes: [.int]), .bool, here)
            let condition = random.chance(0.5) ? limit : TExpr(.logical(.and, limit, boolExpression(1)), .bool, here)
            loopDepth += 1
            let body = [assign(counter, TExpr(.arithmetic(.add, local(counter, .int), TExpr(.intConstant(1), .int, here)), .int, here))]
                + block(depth - 1)
            loopDepth -= 1
            return TStmt(.ifStatement(condition: TExpr(.boolConstant(true), .bool, here), then: [
                assign(counter, TExpr(.intConstant(0), .int, here)),
                TStmt(.whileLoop(condition: condition, body: body), here),
            ], orElse: []), here)
        case 8 where loopDepth > 0:
            return TStmt(.ifStatement(condition: boolExpression(1), then: [TStmt(random.chance(0.5) ? .breakLoop : .continueLoop, here)],
                                      orElse: []), here)
        case 9:
            if random.chance(0.3) { return assign(arraySlot, arrayConstructor()) }
            return TStmt(.expression(TExpr(.builtin(.sortInPlace, [local(arraySlot, .floatArray)]), .floatArray, here)), here)
        case 10:
            let value: TExpr? = kind == .filter ? floatExpression(2) : nil
            return TStmt(.ifStatement(condition: boolExpression(2), then: [TStmt(.returnValue(value), here)], orElse: []), here)
        default:
            return assign(boolSlot, boolExpression(2))
        }
    }

    private mutating func block(_ depth: Int) -> [TStmt] {
        (0..<(1 + random.below(3))).map { _ in statement(depth: depth) }
    }

    // MARK: Expressions

    private func local(_ slot: Int, _ type: ValueType) -> TExpr { TExpr(.local(slot), type, here) }

    private mutating func anyArray() -> TExpr {
        if kind == .lineFilter && random.chance(0.2) { return local(outSlot, .floatArray) }
        return !arrayReady || random.chance(0.6) ? local(valuesSlot, .floatArray) : local(arraySlot, .floatArray)
    }

    /// Issue 13's array expressions, sometimes: an element-wise map (arithmetic, a ufunc, a comparison
    /// converted to floats), a slice, fancy indexing with constant indices, a boolean mask or a constant
    /// array; else a plain array. Only read (reductions, elements), never passed where it could be written.
    private mutating func arrayExpression(_ depth: Int) -> TExpr {
        guard random.chance(0.35) else { return anyArray() }
        let lane0 = TExpr(.lane(0), .float, here), lane1 = TExpr(.lane(1), .float, here)
        func smallIndex() -> TExpr { TExpr(.intConstant(Int64(random.below(9) - 4)), .int, here) }
        switch random.below(6) {
        case 0:
            let first = anyArray()
            let second = random.chance(0.5) ? floatExpression(max(0, depth - 1)) : anyArray()
            let op = random.pick([TArithmetic.add, .subtract, .multiply, .trueDivide, .power, .floorDivide, .modulo])
            var body = TExpr(.arithmetic(op, lane0, lane1), .float, here)
            if random.chance(0.4) {
                body = TExpr(.builtin(random.pick([Builtin.abs, .sqrt, .npFloor, .npRound, .exp, .log2]), [body]), .float, here)
            }
            return TExpr(.map(inputs: [first, second], body: body), .floatArray, SourceRange(2, 6))
        case 1:
            let step: TExpr? = random.chance(0.5) ? nil : TExpr(.intConstant(random.pick([1, 2, -1, -2, 3, 0])), .int, here)
            return TExpr(.slice(array: anyArray(), start: random.chance(0.5) ? smallIndex() : nil,
                                stop: random.chance(0.5) ? smallIndex() : nil, step: step), .floatArray, SourceRange(3, 8))
        case 2:
            let indices = (0..<random.below(5)).map { _ in Int64(random.below(9) - 4) }
            return TExpr(.gather(array: anyArray(), indices: TExpr(.intArrayConstant(indices), .intArray, here)), .floatArray,
                         SourceRange(4, 7))
        case 3:
            let array = anyArray()
            let threshold = floatExpression(max(0, depth - 1))
            let op = random.pick(CompareOperator.allCases)
            let mask = TExpr(.map(inputs: [array, threshold],
                                  body: TExpr(.compare(operands: [lane0, lane1], ops: [op], compareTypes: [.float]), .bool, here)),
                             .boolArray, here)
            if random.chance(0.5) { return TExpr(.floatArrayOf(mask), .floatArray, here) }
            return TExpr(.compress(array: array, mask: mask), .floatArray, SourceRange(5, 9))
        case 4:
            let count = random.below(5)
            return TExpr(.floatArrayConstant((0..<count).map { _ in random.pick(specialDoubles) }), .floatArray, here)
        default:
            let integers = TExpr(.intArrayConstant((0..<(1 + random.below(4))).map { _ in Int64(random.below(7) - 3) }), .intArray, here)
            return TExpr(.floatArrayOf(integers), .floatArray, here)
        }
    }

    private mutating func arrayConstructor() -> TExpr {
        switch random.below(5) {
        case 0:
            let count = random.chance(0.8) ? 2 + random.below(4) : random.below(2)
            return TExpr(.builtin(.zeros, [TExpr(.intConstant(Int64(count)), .int, here)]), .floatArray, here)
        case 1: return TExpr(.builtin(.ones, [TExpr(.length(local(valuesSlot, .floatArray)), .int, here)]), .floatArray, here)
        case 2: return TExpr(.builtin(.empty, [intExpression(1)]), .floatArray, SourceRange(1, 2))
        case 3: return TExpr(.builtin(.sorted, [local(valuesSlot, .floatArray)]), .floatArray, here)
        default: return TExpr(.builtin(.copy, [local(valuesSlot, .floatArray)]), .floatArray, here)
        }
    }

    /// Mostly small indices around the array bounds, both signs.
    private mutating func indexExpression() -> TExpr {
        if random.chance(0.9) { return TExpr(.intConstant(Int64(random.below(4) - 2)), .int, here) }
        return intExpression(1)
    }

    mutating func floatExpression(_ depth: Int) -> TExpr {
        if depth <= 0 || random.chance(0.2) {
            switch random.below(4) {
            case 0: return TExpr(.floatConstant(random.pick(specialDoubles)), .float, here)
            case 1: return TExpr(.floatConstant((random.unit() * 20 - 10).rounded() / 4), .float, here)
            case 2: return local(random.pick(floatSlots + [floatParameter] + eachSlots.prefix(loopDepth)), .float)
            default: return TExpr(.element(array: anyArray(), index: indexExpression()), .float, SourceRange(5, 9))
            }
        }
        let d = depth - 1
        switch random.below(14) {
        case 0:
            let operation = random.pick([TArithmetic.add, .subtract, .multiply, .trueDivide, .floorDivide, .modulo, .power])
            return TExpr(.arithmetic(operation, floatExpression(d), floatExpression(d)), .float, SourceRange(3, 4))
        case 1: return TExpr(.negate(floatExpression(d)), .float, here)
        case 2: return TExpr(.convert(.toFloat, intExpression(d)), .float, here)
        case 3: return TExpr(.convert(.toFloat, boolExpression(d)), .float, here)
        case 4:
            let reductions: [Builtin] = [.pyMin, .pyMax, .pySum, .npMin, .npMax, .npSum, .prod, .mean, .median, .variance, .std,
                                         .nanmin, .nanmax, .nansum, .nanmean, .nanmedian]
            let builtin = random.pick(reductions)
            if [.npMin, .npMax, .median, .nanmin, .nanmax, .nanmedian].contains(builtin) { usesZeroAmbiguousBuiltin = true }
            return TExpr(.builtin(builtin, [arrayExpression(d)]), .float, SourceRange(6, 7))
        case 5:
            usesZeroAmbiguousBuiltin = true
            let builtin = random.pick([Builtin.percentile, .quantile])
            let q = builtin == .percentile ? random.pick([0.0, 25, 50, 100, 33.3, 87.5, 0.1, 101, -Double.leastNonzeroMagnitude]) : random.pick([0.0, 0.25, 0.5, 1, 0.7, 0.999, 1.5])
            return TExpr(.builtin(builtin, [arrayExpression(d), TExpr(.floatConstant(q), .float, here)]), .float, here)
        case 6:
            let builtin = random.pick([Builtin.sqrt, .exp, .log, .log2, .log10, .sin, .cos, .tan, .asin, .acos, .atan, .sinh,
                                       .cosh, .tanh, .npFloor, .npCeil, .npTrunc, .npRound, .abs])
            return TExpr(.builtin(builtin, [floatExpression(d)]), .float, here)
        case 7:
            let builtin = random.pick([Builtin.atan2, .hypot, .copysign, .pow, .minimum, .maximum, .fmin, .fmax])
            if [.minimum, .maximum, .fmin, .fmax].contains(builtin) { usesZeroAmbiguousBuiltin = true }
            return TExpr(.builtin(builtin, [floatExpression(d), floatExpression(d)]), .float, here)
        case 8:
            let builtin = random.pick([Builtin.pyMinOf, .pyMaxOf])
            return TExpr(.builtin(builtin, (0..<(2 + random.below(2))).map { _ in floatExpression(d) }), .float, here)
        case 9:
            usesZeroAmbiguousBuiltin = true
            return TExpr(.builtin(.clip, [floatExpression(d), floatExpression(d), floatExpression(d)]), .float, here)
        case 10: return TExpr(.conditional(condition: boolExpression(d), then: floatExpression(d), orElse: floatExpression(d)), .float, here)
        case 11: return TExpr(.logical(random.chance(0.5) ? .and : .or, floatExpression(d), floatExpression(d)), .float, here)
        case 12 where hasHelper:
            return TExpr(.call(function: helperIndex, arguments: [anyArray(), floatExpression(d)]), .float, SourceRange(7, 8))
        default:
            let array = random.chance(0.3) ? arrayExpression(d) : anyArray()
            return TExpr(.element(array: array, index: random.chance(0.8) ? indexExpression() : intExpression(d)), .float, SourceRange(5, 9))
        }
    }

    mutating func intExpression(_ depth: Int) -> TExpr {
        if depth <= 0 || random.chance(0.25) {
            switch random.below(3) {
            case 0: return TExpr(.intConstant(random.pick([0, 1, -1, 2, 3, -3, 7, Int64.max, Int64.min, 1 << 40])), .int, here)
            case 1: return local(random.pick(intSlots + [intParameter] + loopSlots.prefix(loopDepth)), .int)
            default: return TExpr(.length(anyArray()), .int, here)
            }
        }
        let d = depth - 1
        switch random.below(9) {
        case 0, 1:
            let operation = random.pick([TArithmetic.add, .subtract, .multiply, .floorDivide, .modulo])
            return TExpr(.arithmetic(operation, intExpression(d), intExpression(d)), .int, SourceRange(3, 4))
        case 2:
            return TExpr(.arithmetic(.power, intExpression(d), TExpr(.intConstant(Int64(random.below(5))), .int, here)), .int, here)
        case 3: return TExpr(.negate(intExpression(d)), .int, here)
        case 4:
            let builtin = random.pick([Builtin.floorToInt, .ceilToInt, .truncToInt, .roundToInt, .toInt])
            return TExpr(.builtin(builtin, [floatExpression(d)]), .int, SourceRange(8, 9))
        case 5: return TExpr(.builtin(random.pick([Builtin.argmin, .argmax]), [arrayExpression(d)]), .int, here)
        case 6:
            let builtin = random.pick([Builtin.pyMinOf, .pyMaxOf, .minimum, .maximum, .abs, .clip])
            let count = builtin == .abs ? 1 : builtin == .clip ? 3 : 2
            return TExpr(.builtin(builtin, (0..<count).map { _ in intExpression(d) }), .int, here)
        case 7: return TExpr(.convert(.toInt, boolExpression(d)), .int, here)
        default:
            return TExpr(.conditional(condition: boolExpression(d), then: intExpression(d), orElse: intExpression(d)), .int, here)
        }
    }

    mutating func boolExpression(_ depth: Int) -> TExpr {
        if depth <= 0 || random.chance(0.2) {
            return random.chance(0.5) ? TExpr(.boolConstant(random.chance(0.5)), .bool, here) : local(boolSlot, .bool)
        }
        let d = depth - 1
        switch random.below(7) {
        case 0, 1:
            let count = 1 + random.below(3)
            var operands: [TExpr] = [], types: [ValueType] = []
            for _ in 0...count {
                let pick = random.below(3)
                operands.append(pick == 0 ? floatExpression(d) : pick == 1 ? intExpression(d) : boolExpression(0))
            }
            for index in 0..<count {
                types.append(operands[index].type == .float || operands[index + 1].type == .float ? .float : .int)
            }
            let ops = (0..<count).map { _ in random.pick(CompareOperator.allCases) }
            return TExpr(.compare(operands: operands, ops: ops, compareTypes: types), .bool, here)
        case 2: return TExpr(.not(boolExpression(d)), .bool, here)
        case 3: return TExpr(.logical(random.chance(0.5) ? .and : .or, boolExpression(d), boolExpression(d)), .bool, here)
        case 4: return TExpr(.builtin(random.pick([Builtin.isnan, .isinf, .isfinite]), [floatExpression(d)]), .bool, here)
        case 5: return TExpr(.convert(.truth, random.chance(0.5) ? floatExpression(d) : intExpression(d)), .bool, here)
        default: return TExpr(.builtin(random.pick([Builtin.any, .all]), [arrayExpression(d)]), .bool, here)
        }
    }
}
