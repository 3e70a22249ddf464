// Recognising window reductions in a `@filter` kernel's typed IR (docs/window-strategies.md).
//
// A kernel is recognised when every use of its `values` argument is one of:
//   - a reduction of the whole window: `min`/`max`/`np.min`/`np.max`/`np.nanmin`/`np.nanmax`,
//     `sum`/`np.sum`/`np.nansum`, `np.mean`/`np.nanmean`, `median`/`np.nanmedian`,
//     `np.percentile`/`np.quantile` with a constant q, `sorted(values)[k]`/`np.sort(values)[k]`
//     with a constant k;
//   - a tap `values[k]` with a constant k, or `len(values)`;
//   - a loop `for v in values:` whose body only folds v into one variable by `<`/`<=`/`>`/`>=`
//     with `if`, or by `r = min(r, v)` / `r = max(r, v)` (fmin's loop), or by `r += v` after
//     `r = <integer constant>` (a running sum).
// Each such use becomes `values[p]` of a "plane" p, and the rewritten kernel (the tail) is an
// ordinary program over the planes, compiled by the fused engine; NDImage's window strategies
// compute the planes. Every rewrite keeps the literal kernel's operations on the reduction's
// value, so the bits are equal whenever the planes equal the literal reductions, which NDImage's
// strategies guarantee or decline (NaN, -0.0, inexact sums). Anything else is not recognised and
// runs literally, unchanged.

import FilterLang
import FilterInterpreter
import NDImage

/// A `@filter` kernel seen as window reductions combined by a point-wise tail.
struct RecognizedWindowReductions: Sendable {
    /// The reductions NDImage computes, one plane each, in plane order.
    var reductions: [WindowReduction]
    /// The kernel over the planes (its `values` holds plane p at index p).
    var tail: TypedProgram
    /// Whether the tail returns plane 0 (a min, max or order statistic) unchanged: then the strategy
    /// writes the output itself.
    var tailIsIdentity: Bool
    /// The tail returns the sum plane unchanged (`sum(values)`) or divided by the window's length
    /// (`np.mean(values)`): a box sum of integer data may then write the output itself.
    var tailSum: SumTail? = nil
    /// Whether every sum plane is NumPy's pairwise sum (`np.sum`, `np.mean`): then float data may take
    /// the pairwise strategy (integer sums are exact in any order).
    var pairwiseSums = true
}

/// A tail that returns a single sum plane or the window's mean.
enum SumTail: Sendable, Equatable {
    case sum
    case mean
}

/// Finds window reductions in typed programs; see the file comment.
enum WindowReductionRecognizer {
    /// The kernel as reductions plus a tail for windows of `windowLength` taps, or nil when some
    /// use of `values` is not one of the recognised forms.
    static func recognize(_ program: TypedProgram, windowLength: Int) -> RecognizedWindowReductions? {
        guard program.kind == .filter, windowLength >= 1 else { return nil }
        var rewriter = Rewriter(windowLength: windowLength, function: program.kernel)
        guard let body = try? rewriter.statements(program.kernel.body), !rewriter.reductions.isEmpty else { return nil }
        // Taps alone are no reduction: the literal kernel reads them as fast.
        guard rewriter.reductions.contains(where: { if case .tap = $0 { return false } else { return true } }) else {
            return nil
        }
        var tail = program
        tail.functions[program.kernelIndex].body = body
        let identity = rewriter.reductions.count == 1 && returnsPlaneZero(body) && {
            switch rewriter.reductions[0] {
            case .minimum, .maximum, .orderStatistic: return true
            case .sum, .tap: return false
            }
        }()
        var sumTail: SumTail?
        if rewriter.reductions == [.sum] {
            if returnsPlaneZero(body) {
                sumTail = .sum
            } else if returns(body, where: { isMeanOfPlaneZero($0, windowLength: windowLength) }) {
                sumTail = .mean
            }
        }
        return RecognizedWindowReductions(reductions: rewriter.reductions, tail: tail, tailIsIdentity: identity,
                                          tailSum: sumTail, pairwiseSums: !rewriter.sequentialSums)
    }

    /// Whether straight-line `body` returns plane 0 exactly (`return values[0]`, or a local last
    /// assigned `values[0]`).
    private static func returnsPlaneZero(_ body: [TStmt]) -> Bool {
        returns(body, where: isPlaneZero)
    }

    /// Whether straight-line `body` returns an expression `matches` accepts (directly, or a local
    /// last assigned one).
    private static func returns(_ body: [TStmt], where matches: (TExpr) -> Bool) -> Bool {
        var planeLocals = Set<Int>()
        for statement in body {
            switch statement.kind {
            case .assign(let targets, let values) where targets.count == 1 && values.count == 1:
                guard case .local(let slot) = targets[0] else { return false }
                if matches(values[0]) || { if case .local(let other) = values[0].kind { return planeLocals.contains(other) }; return false }() {
                    planeLocals.insert(slot)
                } else {
                    planeLocals.remove(slot)
                }
            case .returnValue(let value?):
                if matches(value) { return true }
                if case .local(let slot) = value.kind { return planeLocals.contains(slot) }
                return false
            default:
                return false
            }
        }
        return false
    }

    /// `values[0] / <float constant equal to the window's length>` (np.mean's rewrite).
    private static func isMeanOfPlaneZero(_ expression: TExpr, windowLength: Int) -> Bool {
        guard case .arithmetic(.trueDivide, let a, let b) = expression.kind, isPlaneZero(a),
              case .floatConstant(let divisor) = b.kind else { return false }
        return divisor == Double(windowLength)
    }

    private static func isPlaneZero(_ expression: TExpr) -> Bool {
        guard case .element(let array, let index) = expression.kind, case .local(0) = array.kind,
              case .intConstant(0) = index.kind else { return false }
        return true
    }

    private struct NotRecognized: Error {}

    private struct Rewriter {
        let windowLength: Int
        let function: TypedFunction
        var reductions: [WindowReduction] = []
        /// Whether some sum plane stands for a sum in another order than NumPy's pairwise one
        /// (Python's `sum`, `np.nansum`, `np.nanmean`, a running-sum loop): exact for integer data only.
        var sequentialSums = false

        init(windowLength: Int, function: TypedFunction) {
            self.windowLength = windowLength
            self.function = function
        }

        /// `values[p]` for the plane of `reduction` (added when new).
        mutating func plane(_ reduction: WindowReduction, _ range: SourceRange) -> TExpr {
            let index: Int
            if let known = reductions.firstIndex(of: reduction) { index = known } else {
                index = reductions.count
                reductions.append(reduction)
            }
            let values = TExpr(.local(0), .floatArray, range)
            return TExpr(.element(array: values, index: TExpr(.intConstant(Int64(index)), .int, range)), .float, range)
        }

        private func isValues(_ expression: TExpr) -> Bool {
            if case .local(0) = expression.kind { return true }
            return false
        }

        /// The value of an int expression built from constants and `len(values)`, if it is one.
        private func constant(_ expression: TExpr) -> Int64? {
            switch expression.kind {
            case .intConstant(let value): return value
            case .length(let array) where isValues(array): return Int64(windowLength)
            case .negate(let operand) where expression.type == .int: return constant(operand).map { 0 &- $0 }
            case .convert(.toInt, let operand): if case .boolConstant(let b) = operand.kind { return b ? 1 : 0 }; return nil
            case .arithmetic(let op, let a, let b) where expression.type == .int:
                guard let x = constant(a), let y = constant(b) else { return nil }
                switch op {
                case .add: return x &+ y
                case .subtract: return x &- y
                case .multiply: return x &* y
                case .floorDivide:
                    guard y != 0 else { return nil }
                    let q = x / y
                    return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q
                default: return nil
                }
            default: return nil
            }
        }

        /// A float constant (possibly an int constant converted).
        private func floatConstant(_ expression: TExpr) -> Double? {
            switch expression.kind {
            case .floatConstant(let value): return value
            case .convert(.toFloat, let operand): return constant(operand).map { Double($0) }
            case .negate(let operand) where expression.type == .float: return floatConstant(operand).map { -$0 }
            default: return nil
            }
        }

        /// A window index normalised as Python does, or nil when it is not a constant in range.
        private func windowIndex(_ expression: TExpr) -> Int? {
            guard let raw = constant(expression) else { return nil }
            let index = raw < 0 ? raw + Int64(windowLength) : raw
            guard index >= 0, index < Int64(windowLength) else { return nil }
            return Int(index)
        }

        mutating func expression(_ e: TExpr) throws(NotRecognized) -> TExpr {
            let r = e.range
            switch e.kind {
            case .local(0):
                throw NotRecognized()
            case .intConstant, .floatConstant, .boolConstant, .local:
                return e
            case .length(let array) where isValues(array):
                return TExpr(.intConstant(Int64(windowLength)), .int, r)
            case .element(let array, let index) where isValues(array):
                guard let k = windowIndex(index) else { throw NotRecognized() }
                return plane(.tap(k), r)
            case .element(let array, let index):
                if case .builtin(.sorted, let arguments) = array.kind, arguments.count == 1, isValues(arguments[0]) {
                    guard let k = windowIndex(index) else { throw NotRecognized() }
                    return plane(.orderStatistic(k), r)
                }
                if case .builtin(.sorted, let arguments) = array.kind, arguments.count == 1, let map = monotoneMap(arguments[0]) {
                    guard let k = windowIndex(index), !map.isAbsolute else { throw NotRecognized() }
                    return map.apply(plane(.orderStatistic(map.increasing ? k : windowLength - 1 - k), r))
                }
                return TExpr(.element(array: try expression(array), index: try expression(index)), e.type, r)
            case .builtin(let builtin, let arguments) where arguments.first.map(isValues) == true:
                return try reduction(builtin, arguments, e)
            case .builtin(let builtin, let arguments) where arguments.first.flatMap(monotoneMap) != nil:
                return try reduction(builtin, arguments, e, map: monotoneMap(arguments[0]))
            case .convert(let conversion, let operand):
                return TExpr(.convert(conversion, try expression(operand)), e.type, r)
            case .negate(let operand):
                return TExpr(.negate(try expression(operand)), e.type, r)
            case .not(let operand):
                return TExpr(.not(try expression(operand)), e.type, r)
            case .arithmetic(let op, let a, let b):
                return TExpr(.arithmetic(op, try expression(a), try expression(b)), e.type, r)
            case .compare(let operands, let ops, let types):
                return TExpr(.compare(operands: try operands.map { o throws(NotRecognized) in try expression(o) }, ops: ops,
                                      compareTypes: types), e.type, r)
            case .logical(let op, let a, let b):
                return TExpr(.logical(op, try expression(a), try expression(b)), e.type, r)
            case .conditional(let condition, let then, let orElse):
                return TExpr(.conditional(condition: try expression(condition), then: try expression(then),
                                          orElse: try expression(orElse)), e.type, r)
            case .length(let array):
                return TExpr(.length(try expression(array)), e.type, r)
            case .call(let function, let arguments):
                return TExpr(.call(function: function, arguments: try arguments.map { a throws(NotRecognized) in try expression(a) }),
                             e.type, r)
            case .builtin(let builtin, let arguments):
                return TExpr(.builtin(builtin, try arguments.map { a throws(NotRecognized) in try expression(a) }), e.type, r)
            case .floatArrayConstant, .intArrayConstant, .gather, .arrayOf, .floatArrayOf, .map, .lane, .compress, .slice,
                 .ndElement, .ndShape, .ndSize, .ndAllocate, .ndReduce:
                // Constant arrays and fancy indexing (issue 13) are not recognised forms: the literal kernel runs.
                throw NotRecognized()
            }
        }

        /// An element-wise map of the window that commutes with order statistics (issue 13: reductions of
        /// array expressions reach the strategies): `values + c`, `c - values`, `values * c` (|c| >= 1),
        /// `values / c` (0 < |c| <= 1), `-values`, compositions of them with finite constants, and
        /// `np.abs` of one (for the maximum only). Such an f is monotone, so the k-th smallest of f(values)
        /// is f of the k-th smallest (increasing f) or of the k-th largest (decreasing f), with the same
        /// bits: the strategies run only on data without NaN and -0.0, and these maps then give no NaN and
        /// never zeros of both signs (no underflow: |c| bounds; x + c and c - x give +0.0), so values that
        /// f makes equal have equal bits and which one a reduction picks does not matter. The tail
        /// applies f to the plane with the literal's own operations.
        struct MonotoneMap {
            var apply: (TExpr) -> TExpr
            var increasing: Bool
            var isAbsolute: Bool
        }

        func monotoneMap(_ array: TExpr) -> MonotoneMap? {
            guard case .map(let inputs, let body) = array.kind, array.type == .floatArray,
                  inputs.contains(where: isValues) else { return nil }
            /// Lane j's constant value (a scalar input), or nil when lane j reads an array.
            func constantLane(_ expression: TExpr) -> Double? {
                switch expression.kind {
                case .lane(let j):
                    guard inputs.indices.contains(j), !inputs[j].type.isArray else { return nil }
                    return floatConstant(inputs[j]) ?? constant(inputs[j]).map { Double($0) }
                case .convert(.toFloat, let operand): return constantLane(operand)
                default: return floatConstant(expression) ?? constant(expression).map { Double($0) }
                }
            }
            /// (how to apply the map to a plane value, increasing?) for a body over the values lane.
            func analyse(_ expression: TExpr) -> ((TExpr) -> TExpr, Bool)? {
                let r = expression.range, type = expression.type
                switch expression.kind {
                case .lane(let j):
                    guard inputs.indices.contains(j), isValues(inputs[j]), type == .float else { return nil }
                    return ({ $0 }, true)
                case .negate(let operand):
                    guard type == .float, let (inner, up) = analyse(operand) else { return nil }
                    return ({ TExpr(.negate(inner($0)), type, r) }, !up)
                case .arithmetic(let op, let a, let b):
                    guard type == .float else { return nil }
                    if let c = constantLane(b), c.isFinite, let (inner, up) = analyse(a) {
                        // The constant's value, not its expression: `len(values)` would mean the planes in the tail.
                        let constantNode = TExpr(.floatConstant(c), .float, b.range)
                        let applied: (TExpr) -> TExpr = { TExpr(.arithmetic(op, inner($0), constantNode), type, r) }
                        switch op {
                        case .add, .subtract: return (applied, up)
                        case .multiply where abs(c) >= 1: return (applied, c > 0 ? up : !up)
                        case .trueDivide where c != 0 && abs(c) <= 1: return (applied, c > 0 ? up : !up)
                        default: return nil
                        }
                    }
                    if let c = constantLane(a), c.isFinite, let (inner, up) = analyse(b) {
                        let constantNode = TExpr(.floatConstant(c), .float, a.range)
                        let applied: (TExpr) -> TExpr = { TExpr(.arithmetic(op, constantNode, inner($0)), type, r) }
                        switch op {
                        case .add: return (applied, up)
                        case .subtract: return (applied, !up)
                        case .multiply where abs(c) >= 1: return (applied, c > 0 ? up : !up)
                        default: return nil
                        }
                    }
                    return nil
                default:
                    return nil
                }
            }
            if case .builtin(.abs, let operands) = body.kind, operands.count == 1, body.type == .float,
               let (inner, _) = analyse(operands[0]) {
                let r = body.range
                return MonotoneMap(apply: { TExpr(.builtin(.abs, [inner($0)]), .float, r) }, increasing: true, isAbsolute: true)
            }
            guard let (apply, increasing) = analyse(body) else { return nil }
            return MonotoneMap(apply: apply, increasing: increasing, isAbsolute: false)
        }

        /// A built-in applied to the whole window, as planes and the literal's own arithmetic on them
        /// (through `map` when it is applied to a monotone map of the window).
        private mutating func reduction(_ builtin: Builtin, _ arguments: [TExpr], _ e: TExpr,
                                        map: MonotoneMap? = nil) throws(NotRecognized) -> TExpr {
            let r = e.range
            let n = windowLength
            func float(_ value: Double) -> TExpr { TExpr(.floatConstant(value), .float, r) }
            func arithmetic(_ op: TArithmetic, _ a: TExpr, _ b: TExpr) -> TExpr { TExpr(.arithmetic(op, a, b), .float, r) }
            if let map {
                // f(values) reduced: min/max and order statistics only (sums of f(values) are not f of a sum).
                func rank(_ k: Int) -> TExpr { map.apply(plane(.orderStatistic(map.increasing ? k : n - 1 - k), r)) }
                if map.isAbsolute {
                    // max |f(x)| is |f| of the largest or of the smallest element; nothing else is recognised.
                    guard [.pyMax, .npMax, .nanmax].contains(builtin) else { throw NotRecognized() }
                    let high = map.apply(plane(.maximum, r)), low = map.apply(plane(.minimum, r))
                    let higher = TExpr(.compare(operands: [high, low], ops: [.greaterEqual], compareTypes: [.float]), .bool, r)
                    return TExpr(.conditional(condition: higher, then: high, orElse: low), .float, r)
                }
                switch builtin {
                case .pyMin, .npMin, .nanmin: return map.apply(plane(map.increasing ? .minimum : .maximum, r))
                case .pyMax, .npMax, .nanmax: return map.apply(plane(map.increasing ? .maximum : .minimum, r))
                case .median, .nanmedian:
                    if n % 2 == 1 { return rank(n / 2) }
                    return arithmetic(.trueDivide, arithmetic(.add, arithmetic(.add, float(0.0), rank(n / 2 - 1)), rank(n / 2)), float(2.0))
                case .percentile, .quantile:
                    guard arguments.count == 2, let given = floatConstant(arguments[1]) else { throw NotRecognized() }
                    let q = builtin == .percentile ? given / 100.0 : given
                    guard 0.0 <= q && q <= 1.0 else { throw NotRecognized() }
                    let (previousIndex, nextIndex, gamma) = Numerics.quantileIndexes(count: n, q: q)
                    let a = rank(previousIndex), b = rank(nextIndex)
                    let difference = arithmetic(.subtract, b, a)
                    if gamma >= 0.5 { return arithmetic(.subtract, b, arithmetic(.multiply, difference, float(1.0 - gamma))) }
                    return arithmetic(.add, a, arithmetic(.multiply, difference, float(gamma)))
                default:
                    throw NotRecognized()
                }
            }
            switch builtin {
            case .pyMin, .npMin, .nanmin: return plane(.minimum, r)
            case .pyMax, .npMax, .nanmax: return plane(.maximum, r)
            case .npSum: return plane(.sum, r)
            case .pySum, .nansum:
                sequentialSums = true
                return plane(.sum, r)
            case .nanmean:
                sequentialSums = true
                return arithmetic(.trueDivide, plane(.sum, r), float(Double(n)))
            case .mean:
                // Numerics.mean: npSum(a) / Double(n).
                return arithmetic(.trueDivide, plane(.sum, r), float(Double(n)))
            case .median, .nanmedian:
                if n % 2 == 1 { return plane(.orderStatistic(n / 2), r) }
                // Numerics.median: (0.0 + lo + hi) / 2.0.
                let low = plane(.orderStatistic(n / 2 - 1), r), high = plane(.orderStatistic(n / 2), r)
                return arithmetic(.trueDivide, arithmetic(.add, arithmetic(.add, float(0.0), low), high), float(2.0))
            case .percentile, .quantile:
                guard arguments.count == 2, let given = floatConstant(arguments[1]) else { throw NotRecognized() }
                let q = builtin == .percentile ? given / 100.0 : given
                guard 0.0 <= q && q <= 1.0 else { throw NotRecognized() }
                // Numerics.quantile's indexes and gamma, then its lerp on the two order statistics.
                let (previousIndex, nextIndex, gamma) = Numerics.quantileIndexes(count: n, q: q)
                let a = plane(.orderStatistic(previousIndex), r), b = plane(.orderStatistic(nextIndex), r)
                let difference = arithmetic(.subtract, b, a)
                if gamma >= 0.5 { return arithmetic(.subtract, b, arithmetic(.multiply, difference, float(1.0 - gamma))) }
                return arithmetic(.add, a, arithmetic(.multiply, difference, float(gamma)))
            default:
                throw NotRecognized()
            }
        }

        mutating func statements(_ body: [TStmt]) throws(NotRecognized) -> [TStmt] {
            var result: [TStmt] = []
            for statement in body {
                if case .forEach(let slot, let array, let loopBody) = statement.kind, isValues(array) {
                    result.append(try fold(slot: slot, body: loopBody, statement: statement, previous: result.last))
                    continue
                }
                result.append(TStmt(try statementKind(statement.kind), statement.range))
            }
            return result
        }

        private mutating func statementKind(_ kind: TStmtKind) throws(NotRecognized) -> TStmtKind {
            switch kind {
            case .expression(let e): return .expression(try expression(e))
            case .assign(let targets, let values):
                let newTargets = try targets.map { target throws(NotRecognized) -> TTarget in
                    switch target {
                    case .local: return target
                    case .element(let array, let index):
                        return .element(array: try expression(array), index: try expression(index))
                    case .ndElement: throw NotRecognized()  // array functions are not filters
                    }
                }
                return .assign(targets: newTargets, values: try values.map { v throws(NotRecognized) in try expression(v) })
            case .ifStatement(let condition, let then, let orElse):
                return .ifStatement(condition: try expression(condition), then: try statements(then), orElse: try statements(orElse))
            case .whileLoop(let condition, let body):
                return .whileLoop(condition: try expression(condition), body: try statements(body))
            case .forRange(let slot, let start, let stop, let step, let body):
                return .forRange(slot: slot, start: try expression(start), stop: try expression(stop), step: try expression(step),
                                 body: try statements(body))
            case .forEach(let slot, let array, let body):
                return .forEach(slot: slot, array: try expression(array), body: try statements(body))
            case .breakLoop, .continueLoop: return kind
            case .callbackFailure: throw NotRecognized()
            case .returnValue(let value): return .returnValue(try value.map { v throws(NotRecognized) in try expression(v) })
            }
        }

        /// `for v in values:` folding v into one float local, as a statement on the planes.
        private mutating func fold(slot v: Int, body: [TStmt], statement: TStmt,
                                   previous: TStmt?) throws(NotRecognized) -> TStmt {
            let r = statement.range
            guard function.locals[v].type == .float, body.count == 1, !readsOutsideLoop(v, loopBody: body) else { throw NotRecognized() }
            func local(_ slot: Int) -> TExpr { TExpr(.local(slot), .float, r) }
            func isLocal(_ e: TExpr, _ slot: Int) -> Bool { if case .local(slot) = e.kind { return true }; return false }
            /// The constant a straight-line statement just before the loop stored into `slot`.
            func initialValue(_ slot: Int) -> Double? {
                guard let previous, case .assign(let targets, let values) = previous.kind, targets.count == 1,
                      case .local(slot) = targets[0] else { return nil }
                return floatConstant(values[0])
            }

            switch body[0].kind {
            case .ifStatement(let condition, let then, let orElse):
                // if v OP acc: acc = v   (or acc OP' v)
                guard orElse.isEmpty, then.count == 1, case .assign(let targets, let values) = then[0].kind,
                      targets.count == 1, case .local(let acc) = targets[0], acc != v, function.locals[acc].type == .float,
                      isLocal(values[0], v),
                      case .compare(let operands, let ops, let types) = condition.kind, operands.count == 2,
                      types == [.float] else { throw NotRecognized() }
                // Orient as `v op acc`.
                let op: CompareOperator
                if isLocal(operands[0], v) && isLocal(operands[1], acc) {
                    op = ops[0]
                } else if isLocal(operands[0], acc) && isLocal(operands[1], v) {
                    switch ops[0] {
                    case .less: op = .greater
                    case .lessEqual: op = .greaterEqual
                    case .greater: op = .less
                    case .greaterEqual: op = .lessEqual
                    default: throw NotRecognized()
                    }
                } else { throw NotRecognized() }
                let reduction: WindowReduction
                switch op {
                case .less, .lessEqual: reduction = .minimum
                case .greater, .greaterEqual: reduction = .maximum
                default: throw NotRecognized()
                }
                let extreme = plane(reduction, r)
                // From +inf (min) or -inf (max) the fold is the extreme itself, whatever the order.
                let neutral: Double = reduction == .minimum ? .infinity : -.infinity
                if initialValue(acc) == neutral {
                    return TStmt(.assign(targets: [.local(acc)], values: [extreme]), r)
                }
                // The loop replaces acc by each v with `v op acc`; over NaN-free data that is the
                // extreme when `extreme op acc`, else acc.
                let test = TExpr(.compare(operands: [extreme, local(acc)], ops: [op], compareTypes: [.float]), .bool, r)
                return TStmt(.assign(targets: [.local(acc)],
                                     values: [TExpr(.conditional(condition: test, then: extreme, orElse: local(acc)), .float, r)]), r)
            case .assign(let targets, let values):
                guard targets.count == 1, case .local(let acc) = targets[0], acc != v,
                      function.locals[acc].type == .float else { throw NotRecognized() }
                switch values[0].kind {
                case .builtin(let builtin, let arguments) where (builtin == .pyMinOf || builtin == .pyMaxOf)
                        && arguments.count == 2 && isLocal(arguments[0], acc) && isLocal(arguments[1], v):
                    // acc = min(acc, v): replaced by v when v < acc, as the `if` form with `<`.
                    let reduction: WindowReduction = builtin == .pyMinOf ? .minimum : .maximum
                    let extreme = plane(reduction, r)
                    let neutral: Double = reduction == .minimum ? .infinity : -.infinity
                    if initialValue(acc) == neutral {
                        return TStmt(.assign(targets: [.local(acc)], values: [extreme]), r)
                    }
                    return TStmt(.assign(targets: [.local(acc)],
                                         values: [TExpr(.builtin(builtin, [local(acc), extreme]), .float, r)]), r)
                case .arithmetic(.add, let a, let b) where isLocal(a, acc) && isLocal(b, v):
                    // acc += v from an integer start: every partial sum of integer data is exact,
                    // so the sequential sum is the start plus the exact window sum.
                    sequentialSums = true
                    guard let start = initialValue(acc), start == start.rounded(), abs(start) < 2147483648.0 else {
                        throw NotRecognized()
                    }
                    return TStmt(.assign(targets: [.local(acc)],
                                         values: [TExpr(.arithmetic(.add, local(acc), plane(.sum, r)), .float, r)]), r)
                default:
                    throw NotRecognized()
                }
            default:
                throw NotRecognized()
            }
        }

        /// Whether the kernel reads or writes slot `v` anywhere but as a loop variable (after a
        /// `for v in values:` loop, v holds the last element, which the planes do not give).
        private func readsOutsideLoop(_ v: Int, loopBody: [TStmt]) -> Bool {
            var count = 0
            func visit(_ e: TExpr) {
                switch e.kind {
                case .local(let slot): if slot == v { count += 1 }
                case .convert(_, let a), .negate(let a), .not(let a), .length(let a): visit(a)
                case .arithmetic(_, let a, let b), .logical(_, let a, let b), .element(let a, let b): visit(a); visit(b)
                case .compare(let operands, _, _): operands.forEach(visit)
                case .conditional(let c, let t, let o): visit(c); visit(t); visit(o)
                case .call(_, let arguments), .builtin(_, let arguments): arguments.forEach(visit)
                case .gather(let a, let b): visit(a); visit(b)
                case .arrayOf(let elements): elements.forEach(visit)
                case .floatArrayOf(let a): visit(a)
                case .lane: break
                case .map(let inputs, let body): inputs.forEach(visit); visit(body)
                case .compress(let a, let b): visit(a); visit(b)
                case .slice(let a, let b, let c, let d): visit(a); [b, c, d].compactMap { $0 }.forEach(visit)
                case .intConstant, .floatConstant, .boolConstant, .floatArrayConstant, .intArrayConstant: break
                case .ndShape(let slot, _), .ndSize(let slot), .ndReduce(_, let slot): if slot == v { count += 1 }
                case .ndElement(let slot, let indices): if slot == v { count += 1 }; indices.forEach(visit)
                case .ndAllocate(_, let shape): shape.forEach(visit)
                }
            }
            var loops = 0
            func visit(_ statements: [TStmt]) {
                for s in statements {
                    switch s.kind {
                    case .expression(let e): visit(e)
                    case .assign(let targets, let values):
                        for t in targets {
                            switch t {
                            case .local(let slot): if slot == v { count += 1 }
                            case .element(let a, let i): visit(a); visit(i)
                            case .ndElement(let slot, let indices): if slot == v { count += 1 }; indices.forEach(visit)
                            }
                        }
                        values.forEach(visit)
                    case .ifStatement(let c, let t, let o): visit(c); visit(t); visit(o)
                    case .whileLoop(let c, let b): visit(c); visit(b)
                    case .forRange(let slot, let a, let b, let c, let body):
                        if slot == v { count += 1 }
                        visit(a); visit(b); visit(c); visit(body)
                    case .forEach(let slot, let a, let body):
                        if slot == v { loops += 1 }
                        visit(a); visit(body)
                    case .returnValue(let e): if let e { visit(e) }
                    case .breakLoop, .continueLoop, .callbackFailure: break
                    }
                }
            }
            visit(function.body)
            let total = count
            count = 0
            visit(loopBody)
            return loops != 1 || total != count
        }
    }
}
